"""The meter's fast paths against plain references: the true peak against a direct interpolation
(zero-stuffing and one convolution with the cascade built by scipy.signal.firwin), the K-weighting
loop against scipy.signal.sosfilt, and what `mixgraph meter` loads."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from mixgraph.meter import LoudnessMeter
from mixgraph.meter.meter import _default_sosfilt, k_weighting_sos
from tests.dsp.test_truepeak import direct_peak

SR = 48000


def reference_true_peak_db(x: np.ndarray) -> float:
    return 20.0 * np.log10(direct_peak(x))


def signals():
    rng = np.random.default_rng(11)
    n = 2 * SR + 123
    t = np.arange(n) / SR
    level = np.repeat(rng.uniform(0.05, 0.6, size=n // 4800 + 1), 4800)[:n]
    noisy = rng.standard_normal((2, n)) * level * 0.3  # level changes: blocks and rows get skipped
    nyq = np.stack([0.5 * np.sin(2 * np.pi * 11025 * t + 0.3), 0.4 * np.sin(2 * np.pi * 17000 * t + 1.1)])
    impulse = np.zeros((2, 5000))
    impulse[1, 2500] = 0.8  # the true peak is phase 0's: the sample times the centre tap
    quiet_then_loud = np.concatenate((noisy[:, : SR] * 0.01, noisy[:, SR:]), axis=1)
    return {"noisy": noisy, "near_nyquist": nyq, "impulse": impulse, "quiet_then_loud": quiet_then_loud}


@pytest.mark.parametrize("compiled", [False, True])  # the meter command's; the render's
@pytest.mark.parametrize("name", ["noisy", "near_nyquist", "impulse", "quiet_then_loud"])
def test_true_peak_equals_a_direct_interpolation_for_any_block_cut(name, compiled):
    x = signals()[name]
    ref = reference_true_peak_db(x)
    for block in ((1,) if x.shape[1] < 10000 else ()) + (7, 16, 17, 33, 4096, 65536, x.shape[1]):
        m = LoudnessMeter(SR, 2, compiled=compiled)
        for i in range(0, x.shape[1], block):
            m.process(x[:, i : i + block])
        assert m.result().true_peak_dbtp == pytest.approx(ref, abs=1e-12), block


@pytest.mark.parametrize("compiled", [False, True])
def test_mono_true_peak_equals_a_direct_interpolation(compiled):
    x = signals()["noisy"][:1]
    m = LoudnessMeter(SR, 1, compiled=compiled)
    for i in range(0, x.shape[1], 10000):
        m.process(x[:, i : i + 10000])
    assert m.result().true_peak_dbtp == pytest.approx(reference_true_peak_db(x), abs=1e-12)


def test_k_weighting_loop_gives_the_samples_of_sosfilt():
    sos = k_weighting_sos(SR)
    x = np.random.default_rng(2).standard_normal((2, 30000))
    filt = _default_sosfilt()
    zi = np.zeros((2, 2, 2))
    zr = np.zeros((2, 2, 2))
    for i in range(0, x.shape[1], 7000):
        y, zi = filt(sos, x[:, i : i + 7000], zi)
        yr, zr = signal.sosfilt(sos, x[:, i : i + 7000], axis=-1, zi=zr)
        assert np.array_equal(y, yr)
        assert np.array_equal(zi, zr)


def test_meter_command_loads_neither_scipy_signal_nor_numba(tmp_path):
    path = tmp_path / "a.wav"
    t = np.arange(SR * 4) / SR
    sf.write(path, np.stack([0.25 * np.sin(2 * np.pi * 997 * t)] * 2).T, SR, subtype="PCM_24")
    code = ("import runpy, sys\n"
            f"sys.argv = ['mixgraph', 'meter', {str(path)!r}, '--json']\n"
            "try:\n    runpy.run_module('mixgraph', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('scipy.signal', 'numba') if m in sys.modules), file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stderr.strip().splitlines()[-1] == "[]"
    r = json.loads(p.stdout)[0]
    # EBU Tech 3341: a 997 Hz sine on both channels reads its peak level in dBFS as LUFS
    assert r["integrated_lufs"] == pytest.approx(20 * np.log10(0.25), abs=0.05)
    assert r["sample_peak_dbfs"] == pytest.approx(20 * np.log10(0.25), abs=1e-3)


def test_the_renders_compiled_stereo_meter_gives_the_numpy_meters_numbers():
    # the render's premaster and master meters (K-weighting, bins, mono fold-down, sums in one
    # compiled pass) against the meter command's numpy path, for any block cut
    rng = np.random.default_rng(4)
    n = 12 * SR + 777
    level = np.repeat(rng.uniform(0.02, 0.7, size=n // 9600 + 1), 9600)[:n]
    x = rng.standard_normal((2, n)) * level * 0.4
    x[1] = 0.6 * x[0] + 0.4 * x[1]  # correlated channels
    x[:, 5000:5010] = 1.2  # some clipped samples
    ref = LoudnessMeter(SR, 2)
    for i in range(0, n, 4096):
        ref.process(x[:, i : i + 4096])
    want = ref.result().to_dict()
    assert want["clipped_samples"] >= 20 and want["lra_lu"] > 1.0
    for block in (7, 4096, 65536, n):
        m = LoudnessMeter(SR, 2, compiled=True)
        assert m.front._stereo is not None
        for i in range(0, n, block):
            m.process(x[:, i : i + block])
        got = m.result().to_dict()
        assert got.keys() == want.keys()
        for key, value in want.items():
            if isinstance(value, dict):
                assert got[key] == pytest.approx(value, abs=1e-9), key
            elif isinstance(value, (list, tuple)):
                assert [g is None for g in got[key]] == [v is None for v in value], key
                assert [g for g in got[key] if g is not None] == pytest.approx([v for v in value if v is not None], abs=1e-9), key
            elif isinstance(value, float):
                assert got[key] == pytest.approx(value, abs=1e-9), (key, block)
            else:
                assert got[key] == value, key

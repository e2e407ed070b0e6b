"""The compiled kernels that replace scipy on the render path compute the same numbers as scipy
(so a render does not load scipy.signal or scipy.ndimage)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import minimum_filter1d
from scipy.signal import firwin, lfilter, sosfilt

from mixgraph.dsp.kernels.iir import onepole_stream, sosfilt_zi
from mixgraph.dsp.kernels.limiter import limiter_gain
from mixgraph.dsp.oversample import kaiser_lowpass
from mixgraph.meter.meter import k_weighting_sos


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_biquad_cascade_gives_scipy_sosfilt_samples_across_blocks(channels):
    # the kernel fuses multiply-adds and orders one addition differently from sosfilt: the two
    # round differently, and the poles near z = 1 (the 38 Hz high-pass) carry that rounding along,
    # so unit-variance noise comes out alike to 1e-12 or so; a block cut changes nothing at all
    rng = np.random.default_rng(0)
    x = rng.standard_normal((channels, 9000))
    sos = np.vstack([k_weighting_sos(48000), k_weighting_sos(44100)])
    zs, zk = np.zeros((4, channels, 2)), np.zeros((4, channels, 2))
    whole = sosfilt_zi(sos, x, np.zeros((4, channels, 2)))[0]
    parts = []
    for a, b in ((0, 1), (1, 1234), (1234, 9000)):
        ys, zs = sosfilt(sos, x[:, a:b], axis=-1, zi=zs)
        yk, zk = sosfilt_zi(sos, x[:, a:b], zk)
        np.testing.assert_allclose(yk, ys, rtol=0, atol=1e-11)
        parts.append(yk)
    np.testing.assert_allclose(zk, zs, rtol=0, atol=1e-11)
    assert np.array_equal(np.concatenate(parts, axis=1), whole)  # block cuts change nothing


def test_one_pole_equals_lfilter():
    x = np.abs(np.random.default_rng(1).standard_normal(5000))
    c = 0.995
    ref, zf = lfilter([1 - c], [1, -c], x, zi=np.array([0.3]))
    state = np.array([0.3])
    assert np.array_equal(onepole_stream(x, c, state), ref) and np.array_equal(state, zf)


def test_limiter_gain_is_trailing_minimum_then_release_then_moving_average():
    # each stage from an independent reference: scipy's minimum filter (shifted to trail), the
    # release recursion written out, and the mean of the last m values as a convolution
    rng = np.random.default_rng(2)
    n, size, m, a_rel = 6000, 242, 241, 0.999
    t = np.minimum(1.0, 0.5 / np.maximum(rng.random(n) ** 4, 1e-12))  # wanted gains, most 1
    full_all = np.concatenate((np.ones(size - 1), t))
    origin = (size - 1) // 2 if size % 2 else size // 2 - 1
    h = minimum_filter1d(full_all, size=size, origin=origin, mode="nearest")[size - 1 :]
    r, prev = np.empty(n), 1.0
    for i in range(n):
        prev = min(h[i], a_rel * prev + (1.0 - a_rel) * h[i])
        r[i] = prev
    want = np.convolve(np.concatenate((np.ones(m - 1), r)), np.ones(m) / m, mode="valid")
    hist, rel, ring, avg = np.ones(size - 1), np.ones(1), np.ones(m), np.array([float(m), 0.0])
    parts = []
    for a, b in ((0, 1), (1, 300), (300, 4321), (4321, n)):  # any block cut
        full = np.concatenate((hist, t[a:b]))
        out = np.empty(b - a)
        limiter_gain(full, size, a_rel, rel, ring, avg, out)
        hist = full[-(size - 1) :]
        parts.append(out)
    g = np.concatenate(parts)
    assert g.min() < 0.6  # it really limits
    np.testing.assert_allclose(g, want, rtol=0, atol=1e-12)
    # the audio is delayed by L = m - 1: the gain on sample i - L never exceeds what it wanted
    assert np.all(g[m - 1 :] <= t[: n - (m - 1)] + 1e-12)


def test_kaiser_design_equals_firwin():
    for taps, cutoff in ((129, 0.9 / 4), (257, 1 / 8), (65, 0.25)):
        np.testing.assert_allclose(kaiser_lowpass(taps, cutoff, 8.0),
                                   firwin(taps, cutoff, window=("kaiser", 8.0)), rtol=0, atol=1e-16)


def test_a_render_does_not_load_scipy_signal(tmp_path):
    import subprocess
    import sys

    import soundfile as sf
    import yaml

    sf.write(tmp_path / "a.wav", 0.1 * np.random.default_rng(3).standard_normal((48000, 2)), 48000)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({
        "mixgraph": 1, "name": "t", "tail_s": 0.0,
        "tracks": {"a": {"source": "a.wav", "chain": [
            {"type": "eq", "bands": [{"type": "highpass", "freq_hz": 80}]},
            {"type": "compressor", "detector": "rms"},
            {"type": "deesser"}]}},
        "master": {"chain": [{"type": "limiter"}], "loudness": {"target_lufs": -16}},
        "outputs": {"m": {"path": "m.wav"}}}))
    code = ("import sys; from mixgraph.cli import main; rc = main(['render', sys.argv[1], '-q', "
            "'--no-report-files']); print(rc, sorted(m for m in sys.modules if m in "
            "('scipy.signal', 'scipy.ndimage')))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s.yaml")], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "0 []"

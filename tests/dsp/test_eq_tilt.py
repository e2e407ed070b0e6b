"""The tilt band against its analog prototype (k s + w0) / (s + k w0), k = 10^(gain/40)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import signal

from mixgraph.dsp.eq import EQ

F = np.geomspace(10.0, 20000.0, 600)


def response(f0, gain_db, fs, freqs=F):
    eq = EQ([{"type": "tilt", "freq_hz": f0, "gain_db": gain_db}])
    eq.prepare(fs, 1, 64)
    _, h = signal.sosfreqz(eq.sos, worN=freqs, fs=fs)
    return 20 * np.log10(np.abs(h))


@pytest.mark.parametrize("fs", [44100, 48000])
def test_tilt_follows_its_analog_prototype_to_20khz(fs):
    worst = 0.0
    for f0, g in itertools.product(np.geomspace(20, 18000, 15), (-15.0, -6.0, -1.0, 1.0, 6.0, 15.0)):
        k = 10 ** (g / 40)
        w = 2 * np.pi * f0
        _, ha = signal.freqs([k, w], [1, k * w], worN=2 * np.pi * F)
        worst = max(worst, float(np.max(np.abs(response(f0, g, fs) - 20 * np.log10(np.abs(ha))))))
    assert worst < 0.1


def test_tilt_is_half_the_gain_each_side_and_flat_at_the_pivot():
    lo, pivot, hi = response(800.0, 6.0, 48000, np.array([5.0, 800.0, 20000.0]))
    assert lo == pytest.approx(-3.0, abs=0.05) and pivot == pytest.approx(0.0, abs=0.01)
    assert hi == pytest.approx(3.0, abs=0.05)


def test_mid_mode_filters_only_the_mid():
    from mixgraph.dsp import midside

    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3000))
    bands = [{"type": "bell", "freq_hz": 3000.0, "gain_db": 9.0, "q": 1.0}]
    for mode, k in (("mid", 0), ("side", 1)):
        eq = EQ(bands, mode=mode)
        eq.prepare(48000, 2, 4096)
        ms = midside.encode(eq.process(x))
        ref = EQ(bands)
        ref.prepare(48000, 1, 4096)
        ms_in = midside.encode(x)
        np.testing.assert_allclose(ms[k], signal.sosfilt(ref.sos, ms_in[k]), atol=1e-12)
        np.testing.assert_allclose(ms[1 - k], ms_in[1 - k], atol=1e-12)
    with pytest.raises(ValueError, match="stereo"):
        EQ(bands, mode="mid").prepare(48000, 1, 64)


def test_side_mode_is_block_size_invariant_with_automation():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 2000))
    gain = np.linspace(0.0, 6.0, 2000)
    eq = EQ([{"type": "bell", "freq_hz": 15000.0, "gain_db": 0.0, "q": 2.0}], mode="side")
    eq.prepare(44100, 2, 4096)
    ref = eq.process(x, params={"bands.0.gain_db": gain})
    for block in (1, 7, 64):
        eq.reset()
        y = np.concatenate([eq.process(x[:, i : i + block], params={"bands.0.gain_db": gain[i : i + block]})
                            for i in range(0, 2000, block)], axis=1)
        np.testing.assert_allclose(y, ref, rtol=0, atol=1e-12)

"""EQ against the RBJ cookbook and scipy designs (independent references); the matched designs
against their analog prototypes are in test_eq_matched.py."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from mixgraph.dsp.eq import EQ

SR = 48000


def response_db(bands, freqs):
    eq = EQ(bands)
    eq.prepare(SR, 1, 4096)
    _, h = signal.sosfreqz(eq.sos, worN=np.asarray(freqs, dtype=float), fs=SR)
    return 20 * np.log10(np.abs(h))


def cookbook_peaking(f0, gain_db, q):
    """RBJ peakingEQ written out from the cookbook text, independently of mixgraph.dsp.biquad."""
    A = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0 / SR
    alpha = np.sin(w0) / (2 * q)
    b = [1 + alpha * A, -2 * np.cos(w0), 1 - alpha * A]
    a = [1 + alpha / A, -2 * np.cos(w0), 1 - alpha / A]
    return b, a


@pytest.mark.parametrize("f0,gain,q", [(2500, 3.0, 1.0), (100, -6.0, 0.7), (9000, 12.0, 4.0)])
def test_bell_matches_cookbook(f0, gain, q):
    freqs = [20, f0 / 4, f0, min(4 * f0, 20000), 20000]
    ours = response_db([{"type": "bell", "freq_hz": f0, "gain_db": gain, "q": q, "design": "cookbook"}], freqs)
    b, a = cookbook_peaking(f0, gain, q)
    _, h = signal.freqz(b, a, worN=np.asarray(freqs, dtype=float), fs=SR)
    np.testing.assert_allclose(ours, 20 * np.log10(np.abs(h)), atol=0.01)
    assert ours[2] == pytest.approx(gain, abs=0.01)  # exactly the gain at f0


def test_shelves_reach_their_gain_far_from_the_corner():
    lo = response_db([{"type": "lowshelf", "freq_hz": 100, "gain_db": 4.0}], [10, 100, 10000])
    hi = response_db([{"type": "highshelf", "freq_hz": 8000, "gain_db": 2.0}], [50, 8000, 23000])
    assert lo[0] == pytest.approx(4.0, abs=0.01) and lo[2] == pytest.approx(0.0, abs=0.01)
    assert lo[1] == pytest.approx(2.0, abs=0.01)  # half the gain at the midpoint
    assert hi[0] == pytest.approx(0.0, abs=0.01) and hi[1] == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("slope,order", [(12, 2), (24, 4), (36, 6), (48, 8)])
def test_pass_filters_are_butterworth_cascades(slope, order):
    freqs = [20, 40, 80, 160, 1000, 10000]
    ours = response_db([{"type": "highpass", "freq_hz": 80, "slope_db_oct": slope, "q": 0.7071}], freqs)
    sos = signal.butter(order, 80, "highpass", fs=SR, output="sos")
    _, h = signal.sosfreqz(sos, worN=np.asarray(freqs, dtype=float), fs=SR)
    np.testing.assert_allclose(ours, 20 * np.log10(np.abs(h)), atol=0.01)
    assert ours[2] == pytest.approx(-3.01, abs=0.01)


def test_lowpass_notch_and_bandpass():
    lp = response_db([{"type": "lowpass", "freq_hz": 1000, "slope_db_oct": 12, "q": 0.7071}], [100, 1000, 8000])
    assert lp[0] == pytest.approx(0, abs=0.01) and lp[1] == pytest.approx(-3.01, abs=0.01)
    _, h = signal.sosfreqz(signal.butter(2, 1000, fs=SR, output="sos"), worN=[8000.0], fs=SR)
    assert lp[2] == pytest.approx(20 * np.log10(abs(h[0])), abs=0.01)  # 2nd-order Butterworth
    notch = response_db([{"type": "notch", "freq_hz": 1000, "q": 2}], [1000, 100])
    assert notch[0] < -100 and notch[1] == pytest.approx(0, abs=0.05)
    bp = response_db([{"type": "bandpass", "freq_hz": 1000, "q": 1}], [1000])
    assert bp[0] == pytest.approx(0.0, abs=0.01)


def test_band_gain_automation_reaches_the_new_gain():
    eq = EQ([{"type": "bell", "freq_hz": 1000, "gain_db": 0.0, "q": 1.0}])
    eq.prepare(SR, 1, 4096)
    n = np.arange(SR)
    x = np.sin(2 * np.pi * 1000 * n / SR)[None]
    gain = np.linspace(0, 6, SR)
    y = eq.process(x, params={"bands.0.gain_db": gain})
    tail = y[0, -2000:]
    assert 20 * np.log10(np.max(np.abs(tail))) == pytest.approx(6.0, abs=0.1)

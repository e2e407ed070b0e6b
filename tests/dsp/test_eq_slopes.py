"""High- and low-pass slopes 6..96 dB/oct against scipy.signal.butter (order slope/6)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from mixgraph.dsp.eq import EQ
from mixgraph.session.models import PassBand

SR = 48000
FREQS = np.array([10.0, 20.0, 40.0, 80.0, 100.0, 160.0, 1000.0, 10000.0, 20000.0])


def response_db(band, freqs=FREQS, fs=SR):
    eq = EQ([band])
    eq.prepare(fs, 1, 64)
    _, h = signal.sosfreqz(eq.sos, worN=freqs, fs=fs)
    return 20 * np.log10(np.maximum(np.abs(h), 1e-300))


@pytest.mark.parametrize("kind", ["highpass", "lowpass"])
@pytest.mark.parametrize("slope", [6, 12, 18, 24, 30, 36, 48, 72, 96])
def test_slopes_are_butterworth_of_order_slope_over_6(kind, slope):
    f0 = 80.0 if kind == "highpass" else 1000.0
    ours = response_db({"type": kind, "freq_hz": f0, "slope_db_oct": slope, "q": 0.7071})
    ref = signal.butter(slope // 6, f0, kind, fs=SR, output="sos")
    _, h = signal.sosfreqz(ref, worN=FREQS, fs=SR)
    refdb = 20 * np.log10(np.maximum(np.abs(h), 1e-300))
    keep = refdb > -200  # below that both are rounding noise
    np.testing.assert_allclose(ours[keep], refdb[keep], atol=0.01)
    assert response_db({"type": kind, "freq_hz": f0, "slope_db_oct": slope}, [f0])[0] == pytest.approx(-3.01, abs=0.01)


def test_18_db_per_octave_is_minus_18_1_an_octave_below():
    # the Butterworth value: -10 log10(1 + 2^6) = -18.13 dB (at 100 Hz the bilinear warping is nil)
    got = response_db({"type": "highpass", "freq_hz": 100.0, "slope_db_oct": 18}, [50.0])[0]
    assert got == pytest.approx(-10 * np.log10(1 + 2.0**6), abs=0.005)


def test_q_is_a_resonance_on_the_section_nearest_the_corner():
    # 24 dB/oct, q = 2 x 0.7071: the 4th-order Butterworth's Q=1.307 section becomes Q=2.614,
    # the other stays 0.541: the product of the two analog sections, evaluated by scipy
    f0 = 200.0
    w = 2 * np.pi * f0
    b = np.polymul([1, 0, 0], [1, 0, 0])
    a = np.polymul([1, w / 2.6131, w * w], [1, w / 0.5412, w * w])
    _, ha = signal.freqs(b, a, worN=2 * np.pi * np.array([100.0, 200.0, 400.0]))
    ours = response_db({"type": "highpass", "freq_hz": f0, "slope_db_oct": 24, "q": 1.4142},
                       np.array([100.0, 200.0, 400.0]))
    np.testing.assert_allclose(ours, 20 * np.log10(np.abs(ha)), atol=0.02)


def test_a_first_order_filter_refuses_a_q():
    with pytest.raises(ValueError, match="first order"):
        PassBand.model_validate({"type": "highpass", "freq_hz": 80.0, "slope_db_oct": 6, "q": 1.0})
    PassBand.model_validate({"type": "highpass", "freq_hz": 80.0, "slope_db_oct": 6})

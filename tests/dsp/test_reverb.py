"""The algorithmic reverb's decay measured as an acoustician would: octave- and third-octave-band
impulse responses (scipy Butterworth band-passes), Schroeder backward integration, a T30 fit
(-5 to -35 dB) extrapolated to 60 dB, against decay_s and the documented damping law."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from mixgraph.dsp.reverb import Reverb


def impulse_response(sr, **kw):
    r = Reverb(mix=1.0, **kw)
    r.prepare(sr, 2, 4096)
    x = np.zeros((2, int((1.6 * kw["decay_s"] + 0.5) * sr)))
    x[:, 0] = 1.0
    return r.process(x)


def t30(y, sr, fc, fraction=1):
    half = 2.0 ** (0.5 / fraction)
    sos = butter(4, [fc / half, fc * half], btype="bandpass", fs=sr, output="sos")
    energy = (sosfilt(sos, y, axis=-1) ** 2).sum(axis=0)
    edc = np.cumsum(energy[::-1])[::-1]  # Schroeder backward integration
    edc = 10 * np.log10(edc / edc[0])
    i = np.flatnonzero((edc <= -5) & (edc >= -35))
    slope = np.polyfit(i / sr, edc[i], 1)[0]  # dB per second
    return -60.0 / slope


@pytest.mark.parametrize("decay_s", [1.0, 1.8, 4.0])
@pytest.mark.parametrize("damping", [0.0, 0.5, 1.0])
def test_decay_s_is_the_mid_band_rt60_within_5_percent(decay_s, damping):
    y = impulse_response(48000, decay_s=decay_s, damping=damping)
    mid = (t30(y, 48000, 500) + t30(y, 48000, 1000)) / 2
    assert mid == pytest.approx(decay_s, rel=0.05)


@pytest.mark.parametrize("damping", [0.0, 0.5, 1.0])
def test_damping_sets_the_8_khz_decay_relative_to_the_mids(damping):
    y = impulse_response(44100, decay_s=2.5, damping=damping)
    mid = (t30(y, 44100, 500) + t30(y, 44100, 1000)) / 2
    assert mid == pytest.approx(2.5, rel=0.05)
    high = t30(y, 44100, 8000, fraction=3)  # a third octave: the decay changes fast up there
    assert high / 2.5 == pytest.approx(2.0 ** (-2.0 * damping), rel=0.1)


def test_the_tail_covers_the_slow_lows():
    r = Reverb(decay_s=0.5, damping=1.0, mix=1.0)
    r.prepare(48000, 2, 4096)
    x = np.zeros((2, r.tail_samples + 48000))
    x[:, 0] = 1.0
    y = r.process(x)
    peak = np.max(np.abs(y))
    assert np.max(np.abs(y[:, r.tail_samples :])) < peak * 10 ** (-80 / 20)

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

"""Matched bells and shelves against their analog prototypes (``scipy.signal.freqs`` of the
s-domain transfer functions the RBJ cookbook starts from, written out here from its text)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import signal

from mixgraph.dsp.eq import EQ
from mixgraph.session.models import MATCHED_SHELF_MAX_Q, ShelfBand

F_CHECK = np.geomspace(10.0, 20000.0, 600)


def analog(kind: str, f0: float, gain_db: float, q: float):
    """(b, a) in rad/s: H(s) of the cookbook's bell / shelves, with s = s' / w0."""
    A = 10 ** (gain_db / 40)
    w = 2 * np.pi * f0
    if kind == "bell":  # (s^2 + s (A/Q) + 1) / (s^2 + s/(A Q) + 1)
        return [1 / w**2, A / (q * w), 1], [1 / w**2, 1 / (A * q * w), 1]
    r = np.sqrt(A) / q
    if kind == "lowshelf":  # A (s^2 + (sqrt A/Q) s + A) / (A s^2 + (sqrt A/Q) s + 1)
        return [A / w**2, A * r / w, A * A], [A / w**2, r / w, 1]
    # highshelf: A (A s^2 + (sqrt A/Q) s + 1) / (s^2 + (sqrt A/Q) s + A)
    return [A * A / w**2, A * r / w, A], [1 / w**2, r / w, A]


def worst_error_db(kind, f0, gain_db, q, fs, design="matched"):
    eq = EQ([{"type": kind, "freq_hz": f0, "gain_db": gain_db, "q": q, "design": design}])
    eq.prepare(fs, 1, 64)
    _, hd = signal.sosfreqz(eq.sos, worN=F_CHECK, fs=fs)
    _, ha = signal.freqs(*analog(kind, f0, gain_db, q), worN=2 * np.pi * F_CHECK)
    return float(np.max(np.abs(20 * np.log10(np.abs(hd) / np.abs(ha)))))


F0S = np.geomspace(1000, 18000, 12)
GAINS = (-15.0, -6.0, -1.0, 1.0, 6.0, 15.0)


@pytest.mark.parametrize("fs", [44100, 48000])
def test_bells_follow_the_analog_prototype_to_20khz(fs):
    worst = max((worst_error_db("bell", f0, g, q, fs), f0, g, q)
                for f0, g, q in itertools.product(F0S, GAINS, (0.3, 0.5, 0.7, 1, 1.4, 2, 4, 10)))
    assert worst[0] < 0.5, worst


@pytest.mark.parametrize("fs", [44100, 48000])
@pytest.mark.parametrize("kind", ["lowshelf", "highshelf"])
def test_shelves_follow_the_analog_prototype_to_20khz(fs, kind):
    worst = max((worst_error_db(kind, f0, g, q, fs), f0, g, q)
                for f0, g, q in itertools.product(F0S, GAINS, (0.3, 0.5, 0.7071, 1.0)))
    assert worst[0] < 0.5, worst


#: the schema's whole range at 44.1 kHz (the issue's bound): freq_hz up to just under Nyquist,
#: gain_db -30 .. 30, q 0.1 .. 40 for bells and up to the matched shelf's 2
SWEEP_F0 = (20.0, 200.0, 1000.0, 5000.0, 9000.0, 11000.0, 13000.0, 15000.0, 16500.0, 18000.0, 19000.0,
            20000.0, 21000.0, 22000.0, 22049.0)
SWEEP_GAINS = (-30.0, -24.0, -18.0, -12.0, -6.0, -2.0, 2.0, 6.0, 12.0, 18.0, 24.0, 30.0)
SWEEP_QS = {"bell": (0.1, 0.3, 0.7, 1.0, 2.0, 4.0, 10.0, 20.0, 40.0),
            "lowshelf": (0.1, 0.3, 0.7071, 1.0, 1.5, 2.0),
            "highshelf": (0.1, 0.3, 0.7071, 1.0, 1.5, 2.0)}


@pytest.mark.parametrize("kind", ["bell", "lowshelf", "highshelf"])
def test_the_whole_range_follows_the_analog_prototype_at_44k1(kind):
    assert max(SWEEP_QS[kind]) == (40.0 if kind == "bell" else MATCHED_SHELF_MAX_Q)
    worst = max((worst_error_db(kind, f0, g, q, 44100), f0, g, q)
                for f0, g, q in itertools.product(SWEEP_F0, SWEEP_GAINS, SWEEP_QS[kind]))
    assert worst[0] < 0.5, worst


def test_a_matched_shelf_above_its_q_is_refused_and_the_cookbook_one_accepted():
    with pytest.raises(ValidationError, match="design: cookbook"):
        ShelfBand.model_validate({"type": "highshelf", "freq_hz": 8000.0, "gain_db": 6.0, "q": 3.0})
    ShelfBand.model_validate({"type": "highshelf", "freq_hz": 8000.0, "gain_db": 6.0, "q": 3.0,
                              "design": "cookbook"})


def test_the_cookbook_design_cramps_where_the_matched_one_does_not():
    # the measurement: a bilinear 16 kHz bell is several dB off the analog one at 20 kHz
    assert worst_error_db("bell", 16000, 12.0, 1.0, 44100, design="cookbook") > 5.0
    assert worst_error_db("bell", 16000, 12.0, 1.0, 44100) < 0.5


@pytest.mark.parametrize("kind", ["bell", "lowshelf", "highshelf"])
def test_low_frequency_bands_are_exact_as_before(kind):
    # far below Nyquist the analog shape is easy: both designs agree with it closely
    assert worst_error_db(kind, 100.0, 9.0, 1.0, 48000) < 0.02


@pytest.mark.parametrize("kind", ["bell", "lowshelf", "highshelf"])
def test_every_accepted_setting_gives_a_stable_filter(kind):
    for f0, g, q, fs in itertools.product([1.0, 20.0, 5000.0, 21000.0, 23999.0], [-30.0, 0.0, 30.0],
                                          [0.1, 1.0, 10.0, 40.0 if kind == "bell" else 10.0], [44100, 48000]):
        if f0 >= fs / 2:
            continue
        eq = EQ([{"type": kind, "freq_hz": f0, "gain_db": g, "q": q}])
        eq.prepare(fs, 1, 64)
        assert np.all(np.isfinite(eq.sos)) and np.max(np.abs(np.roots(eq.sos[0, 3:]))) < 1.0, (f0, g, q, fs)


def test_matched_bell_automation_reaches_the_analog_gain():
    fs = 44100
    eq = EQ([{"type": "bell", "freq_hz": 15000.0, "gain_db": 0.0, "q": 1.0}])
    eq.prepare(fs, 1, 4096)
    n = np.arange(fs)
    x = np.sin(2 * np.pi * 19000 * n / fs)[None]
    y = eq.process(x, params={"bands.0.gain_db": np.linspace(0.0, 9.0, fs)})
    _, ha = signal.freqs(*analog("bell", 15000.0, 9.0, 1.0), worN=[2 * np.pi * 19000])
    got = 20 * np.log10(np.max(np.abs(y[0, -2000:])))
    assert got == pytest.approx(20 * np.log10(abs(ha[0])), abs=0.5)

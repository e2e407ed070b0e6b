"""Reverb automation: decay_s and damping lanes set the decay of the tail (T30 by Schroeder backward
integration of octave bands, scipy Butterworth band-passes), a ringing tail follows a decay lane,
a pre-delay step glides without a click and lands on the lane's delay exactly; any block cut gives
the same bits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from mixgraph.dsp.automation import Lane
from mixgraph.dsp.reverb import PREDELAY_SLEW, Reverb

SR = 48000


def run(r, x, params, block=4096):
    r.prepare(SR, x.shape[0], block)
    out = []
    for i in range(0, x.shape[1], block):
        out.append(r.process(x[:, i : i + block], params={k: v[i : i + block] for k, v in params.items()}))
    return np.concatenate(out, axis=1)


def lane(points, n):
    return Lane(points, SR).values_at(0, n)


def edc_t30(y, fc):
    """Mid-band T30 (-5 to -35 dB of the Schroeder decay curve, extrapolated to 60 dB), s."""
    half = 2.0 ** 0.5
    sos = butter(4, [fc / half, fc * half], btype="bandpass", fs=SR, output="sos")
    energy = (sosfilt(sos, y, axis=-1) ** 2).sum(axis=0)
    edc = np.cumsum(energy[::-1])[::-1]
    edc = 10 * np.log10(edc / edc[0])
    i = np.flatnonzero((edc <= -5) & (edc >= -35))
    return -60.0 / np.polyfit(i / SR, edc[i], 1)[0]


@pytest.mark.parametrize("start, end", [(1.0, 3.0), (3.0, 1.0), (2.0, 0.6)])
def test_decay_follows_the_lane_once_it_settles(start, end):
    # the lane ramps over the first 0.3 s; an impulse at 0.5 s rings with the lane's last value
    n = int((0.5 + 1.6 * end + 0.5) * SR)
    x = np.zeros((2, n))
    x[:, SR // 2] = 1.0
    y = run(Reverb(decay_s=start, mix=1.0), x, {"decay_s": lane([[0, start], [0.3, end]], n)})
    tail = y[:, SR // 2 :]
    mid = (edc_t30(tail, 500) + edc_t30(tail, 1000)) / 2
    assert mid == pytest.approx(end, rel=0.05)


def test_a_ringing_tail_follows_the_lane():
    # an impulse at 0 rings with 3 s; the lane drops to 1 s between 0.2 and 0.25 s: the part of
    # the tail after 0.35 s decays at 1 s (a fixed 3 s would leave it ringing three times longer)
    n = int(2.5 * SR)
    x = np.zeros((2, n))
    x[:, 0] = 1.0
    y = run(Reverb(decay_s=3.0, mix=1.0), x, {"decay_s": lane([[0.2, 3.0], [0.25, 1.0]], n)})
    half = 2.0 ** 0.5
    rts = []
    for fc in (500, 1000):
        sos = butter(4, [fc / half, fc * half], btype="bandpass", fs=SR, output="sos")
        energy = (sosfilt(sos, y, axis=-1) ** 2).sum(axis=0)[int(0.35 * SR) :]
        edc = np.cumsum(energy[::-1])[::-1]
        edc = 10 * np.log10(edc / edc[0])
        i = np.flatnonzero((edc <= -5) & (edc >= -35))
        rts.append(-60.0 / np.polyfit(i / SR, edc[i], 1)[0])
    assert np.mean(rts) == pytest.approx(1.0, rel=0.05)


def test_damping_lane_sets_the_high_decay():
    # damping 0 -> 1 over the first 0.3 s: the 8 kHz third octave then decays at a quarter of decay_s
    n = int(3.5 * SR)
    x = np.zeros((2, n))
    x[:, SR // 2] = 1.0
    y = run(Reverb(decay_s=2.5, damping=0.0, mix=1.0), x, {"damping": lane([[0, 0.0], [0.3, 1.0]], n)})
    tail = y[:, SR // 2 :]
    third = 2.0 ** (1 / 6)
    sos = butter(4, [8000 / third, 8000 * third], btype="bandpass", fs=SR, output="sos")
    energy = (sosfilt(sos, tail, axis=-1) ** 2).sum(axis=0)
    edc = np.cumsum(energy[::-1])[::-1]
    edc = 10 * np.log10(edc / edc[0])
    i = np.flatnonzero((edc <= -5) & (edc >= -35))
    high = -60.0 / np.polyfit(i / SR, edc[i], 1)[0]
    assert high / 2.5 == pytest.approx(0.25, rel=0.1)


def test_a_predelay_step_glides_without_a_click():
    # a unit IR: the wet signal is the pre-delayed input itself. The lane jumps 10 -> 60 ms at 0.25 s
    f, amp = 1010.0, 0.5  # 50.5 periods in the 50 ms jump: an instant jump would flip the phase
    n = SR
    t = np.arange(n)
    x = amp * np.sin(2 * np.pi * f * t / SR)[None]
    pre = lane([[0.25, 10.0], [0.25001, 60.0]], n)
    y = run(Reverb(ir=np.ones((1, 1)), predelay_ms=10.0, mix=1.0), x, {"predelay_ms": pre})[0]
    # before the step and once the glide is over (50 ms at 0.25 ms per ms = 0.2 s): exact delays
    before = (t >= 480) & (t < 0.25 * SR)
    np.testing.assert_array_equal(y[before], x[0, t[before] - 480])
    after = t > 0.46 * SR
    np.testing.assert_array_equal(y[after], x[0, t[after] - 2880])
    # a read that moves at most PREDELAY_SLEW per sample bends the sine's pitch by at most that
    # and turns its slope by at most amp * w * PREDELAY_SLEW in one step: the bound of |second
    # difference|; the sine's own is amp * w^2, an instant jump of the read position would be ~2 * amp
    w = 2 * np.pi * f / SR
    bound = amp * w * (PREDELAY_SLEW + (1 + PREDELAY_SLEW) ** 2 * w)
    live = t >= 480
    assert np.max(np.abs(np.diff(y[live], 2))) < bound
    click = np.where(t < 0.25 * SR, np.roll(x[0], 480), np.roll(x[0], 2880))
    assert np.max(np.abs(np.diff(click[live], 2))) > 10 * bound


@pytest.mark.parametrize("param, points", [("decay_s", [[0, 0.5], [0.1, 3.0]]),
                                           ("damping", [[0, 0.0], [0.1, 1.0]]),
                                           ("predelay_ms", [[0, 0.0], [0.05, 30.0], [0.1, 2.5]])])
def test_lanes_give_the_same_bits_for_any_block_cut(param, points):
    n = int(0.2 * SR)
    x = 0.3 * np.random.default_rng(3).standard_normal((2, n))
    params = {param: lane(points, n)}
    ref = run(Reverb(decay_s=1.0, mix=0.7), x, params, block=n)
    for block in (1, 7, 64, 4096):
        np.testing.assert_array_equal(run(Reverb(decay_s=1.0, mix=0.7), x, params, block=block), ref)


def test_a_constant_lane_is_the_static_setting():
    n = int(0.3 * SR)
    x = 0.3 * np.random.default_rng(4).standard_normal((2, n))
    for kw in ({"decay_s": 1.7}, {"damping": 0.8}, {"predelay_ms": 12.0}):
        (name, value), = kw.items()
        static = run(Reverb(mix=0.6, **kw), x, {})
        laned = run(Reverb(mix=0.6), x, {name: np.full(n, value)})
        np.testing.assert_allclose(laned, static, rtol=0, atol=1e-12)

"""Delay: time automation against the formula y[n] = x(n - d[n]) of a sine, no clicks on a jump,
ping-pong and stereo echo positions and gains, feedback automation."""

from __future__ import annotations

import numpy as np
import pytest

from mixgraph.dsp.delay import MAX_SLEW, Delay

SR = 48000


def make(**kw):
    d = Delay(**{"mix": 1.0, "feedback": 0.0, "highcut_hz": None, **kw})
    return d


def run(d, x, params=None, channels=None, block=4096):
    d.prepare(SR, x.shape[0] if channels is None else channels, block)
    out = []
    for i in range(0, x.shape[1], block):
        p = {k: v[i : i + block] for k, v in (params or {}).items()}
        out.append(d.process(x[:, i : i + block], params=p))
    return np.concatenate(out, axis=1)


@pytest.mark.parametrize("block", [1, 64, 4096])
def test_a_time_ramp_delays_by_the_lanes_value_at_each_sample(block):
    n = 2 * SR
    f = 440.0
    t = np.arange(n)
    x = np.sin(2 * np.pi * f * t / SR)[None]
    lane = np.interp(t, [0.5 * SR, 1.5 * SR], [100.0, 150.0])  # 50 ms over a second
    y = run(make(time_ms=100.0), x, {"time_ms": lane}, block=block)[0]
    d = lane * SR / 1000.0
    want = np.sin(2 * np.pi * f * (t - d) / SR)
    live = t > 0.16 * SR  # once the line holds signal
    assert np.max(np.abs(y[live] - want[live])) < 1e-4  # cubic interpolation of a 440 Hz sine
    # no sample-to-sample step beyond the signal's own (its frequency lowered by the ramp)
    assert np.max(np.abs(np.diff(y[live]))) <= np.max(np.abs(np.diff(x[0]))) * 1.0001


def test_a_jump_in_time_glides_without_a_click():
    n = SR
    t = np.arange(n)
    x = np.sin(2 * np.pi * 440.0 * t / SR)[None]
    lane = np.where(t < SR // 2, 100.0, 300.0)  # a step of 200 ms
    y = run(make(time_ms=100.0), x, {"time_ms": lane})[0]
    step = np.max(np.abs(np.diff(x[0])))
    # the read position moves at most MAX_SLEW samples per sample: the pitch drops by at most that
    assert np.max(np.abs(np.diff(y[SR // 8 :]))) <= step * (1 + 1e-4)
    # and it arrives: 0.2 s * SR / MAX_SLEW samples after the jump the delay is 300 ms
    after = SR // 2 + int(0.2 * SR / MAX_SLEW) + 10
    want = np.sin(2 * np.pi * 440.0 * (t[after:] - 0.3 * SR) / SR)
    np.testing.assert_allclose(y[after:], want, atol=1e-9)


def echoes(y, at):
    return [float(y[c, i]) for c, i in at]


def test_pingpong_alternates_sides_each_repeat_times_feedback():
    x = np.zeros((1, SR))
    x[0, 0] = 1.0
    d = make(time_ms=100.0, right_time_ms=150.0, feedback=0.5, mode="pingpong")
    y = run(d, x)
    assert y.shape == (2, SR)
    left, right = 4800, 7200
    hits = [(0, left), (1, left + right), (0, 2 * left + right), (1, 2 * left + 2 * right)]
    np.testing.assert_allclose(echoes(y, hits), [1.0, 0.5, 0.25, 0.125], rtol=0, atol=1e-15)
    mask = np.ones_like(y, bool)
    for c, i in hits:
        mask[c, i] = False
    fifth = 3 * left + 2 * right
    assert np.max(np.abs(y[:, :fifth][mask[:, :fifth]])) == 0.0  # nothing else before the fifth repeat
    assert y[0, fifth] == 0.0625


def test_stereo_keeps_the_sides_apart_with_their_own_times():
    x = np.zeros((2, SR))
    x[0, 0] = 1.0  # left only
    y = run(make(time_ms=100.0, right_time_ms=150.0, feedback=0.5, mode="stereo"), x)
    assert y[0, 4800] == 1.0 and y[0, 9600] == 0.5
    assert np.max(np.abs(y[1])) == 0.0


def test_mono_input_in_stereo_mode_feeds_both_lines():
    x = np.zeros((1, SR // 2))
    x[0, 0] = 1.0
    y = run(make(time_ms=100.0, right_time_ms=150.0, mode="stereo"), x)
    assert y[0, 4800] == 1.0 and y[1, 7200] == 1.0


def test_feedback_automation_sets_each_repeats_gain():
    x = np.zeros((1, SR))
    x[0, 0] = 1.0
    fb = np.interp(np.arange(SR), [0, SR], [0.2, 0.8])  # the gain applied when fed back
    y = run(make(time_ms=100.0), x, {"feedback": fb})[0]
    # repeat k+1 was written at sample 4800 k with fb[4800 k]
    want = np.cumprod([1.0] + [fb[4800 * k] for k in range(1, 5)])
    np.testing.assert_allclose(y[[4800 * (k + 1) for k in range(5)]], want, rtol=1e-12)


def test_note_on_the_right_side():
    d = Delay(time_ms=100.0, right_note="1/4", tempo_bpm=120.0, mode="pingpong")
    d.prepare(SR, 2, 64)
    assert d.d_right == 0.5 * SR


def test_the_model_refuses_a_right_side_time_in_mono_and_two_right_times():
    from pydantic import ValidationError

    from mixgraph.session.models import DelayProc

    with pytest.raises(ValidationError, match="needs mode 'stereo' or 'pingpong'"):
        DelayProc.model_validate({"type": "delay", "time_ms": 100, "right_time_ms": 150})
    with pytest.raises(ValidationError, match="at most one of"):
        DelayProc.model_validate({"type": "delay", "time_ms": 100, "mode": "stereo", "right_time_ms": 150,
                                  "right_note": "1/4"})
    with pytest.raises(ValidationError, match="longer than"):
        DelayProc.model_validate({"type": "delay", "time_ms": 100, "mode": "stereo", "right_note": "1/1d",
                                  "tempo_bpm": 20})


def test_a_highcut_lane_sets_the_loop_filter_once_it_settles():
    # the lane sweeps 2 -> 12 kHz over the first 50 ms; an impulse at 0.1 s: the first echo passes
    # the loop unfiltered, the second is feedback * the one-pole's impulse response (1 - c) c^k,
    # c = exp(-2 pi fc / fs) at fc = 12 kHz
    n = int(0.2 * SR)
    x = np.zeros((1, n))
    x[0, SR // 10] = 1.0
    lane = np.interp(np.arange(n), [0, 0.05 * SR], [2000.0, 12000.0])
    y = run(make(time_ms=10.0, feedback=0.5, highcut_hz=2000.0), x, {"highcut_hz": lane})[0]
    c = np.exp(-2 * np.pi * 12000.0 / SR)
    first = SR // 10 + 480
    np.testing.assert_array_equal(y[first], 1.0)
    k = np.arange(400)
    np.testing.assert_allclose(y[first + 480 : first + 880], 0.5 * (1 - c) * c**k, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("block", [1, 7, 4096])
def test_a_highcut_sweep_is_smooth_and_block_invariant(block):
    # the coefficient follows the lane every frame: a constant lane is the static filter bit for bit,
    # and a sweep gives the same bits for any block cut
    n = int(0.15 * SR)
    x = 0.3 * np.random.default_rng(5).standard_normal((2, n))
    kw = {"time_ms": 7.0, "feedback": 0.7}
    static = run(make(highcut_hz=3000.0, **kw), x)
    laned = run(make(highcut_hz=None, **kw), x, {"highcut_hz": np.full(n, 3000.0)}, block=block)
    np.testing.assert_array_equal(laned, static)
    sweep = {"highcut_hz": np.geomspace(500.0, 16000.0, n)}
    np.testing.assert_array_equal(run(make(**kw), x, sweep, block=block), run(make(**kw), x, sweep, block=n))

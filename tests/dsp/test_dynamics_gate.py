"""The gate: no chatter on a 20 Hz tone (THD+N measured against the ideal tone), hysteresis, and the
hold and release after the level drops, against the recursion's closed form."""

from __future__ import annotations

import numpy as np
import pytest

from mixgraph.dsp.dynamics import Gate

SR = 48000


def thd_n_db(y, x):
    """Residual power after the best least-squares fit of the ideal tone, re the fitted tone, dB."""
    g = np.dot(y, x) / np.dot(x, x)
    e = y - g * x
    return 10 * np.log10(max(np.sum(e**2), 1e-300) / np.sum((g * x) ** 2))


def run(x, **kw):
    g = Gate(**kw)
    g.prepare(SR, x.shape[0], 4096)
    y = g.process(x)
    return g, y


@pytest.mark.parametrize("over_db", [0.5, 1.0, 2.0, 3.0, 6.0, 20.0])
@pytest.mark.parametrize("f", [20.0, 30.0])
def test_low_tone_above_threshold_does_not_chatter(over_db, f):
    n = np.arange(3 * SR)
    x = 10 ** ((-50.0 + over_db) / 20) * np.sin(2 * np.pi * f * n / SR)
    _, y = run(x[None], threshold_db=-50.0)
    assert thd_n_db(y[0, SR:], x[SR:]) < -80.0


def test_the_old_defaults_chattered():
    # 10 ms hold and no hysteresis (the defaults before): the gate closed between the peaks
    n = np.arange(3 * SR)
    x = 10 ** (-48.0 / 20) * np.sin(2 * np.pi * 20.0 * n / SR)
    _, y = run(x[None], threshold_db=-50.0, hold_ms=10.0, hysteresis_db=0.0)
    assert thd_n_db(y[0, SR:], x[SR:]) > -40.0


def test_hold_then_release_by_formula():
    s, hold_ms, rel_ms, rng = SR // 2, 50.0, 20.0, 60.0
    x = np.zeros((1, SR))
    x[0, :s] = 0.5
    g, _ = run(x, threshold_db=-40.0, range_db=rng, hold_ms=hold_ms, release_ms=rel_ms)
    gr = g.gain_reduction_db()
    hold = round(hold_ms * 1e-3 * SR)
    a = np.exp(-1.0 / (rel_ms * 1e-3 * SR))
    assert np.all(gr[s - 100:s + hold] == 0.0)  # open, then held for exactly hold_ms
    j = np.arange(SR - s - hold)
    np.testing.assert_allclose(gr[s + hold:], rng * (1 - a ** (j + 1)), rtol=0, atol=1e-9)
    assert gr[-1] == pytest.approx(rng, abs=1e-6)  # closed to range_db


@pytest.mark.parametrize("drop_db, closed", [(2.0, False), (4.0, True)])
def test_hysteresis(drop_db, closed):
    t, hyst, ratio = -40.0, 3.0, 10.0
    x = np.full((1, SR), 10 ** ((t + 6.0) / 20))
    x[0, SR // 4:] = 10 ** ((t - drop_db) / 20)
    g, _ = run(x, threshold_db=t, hysteresis_db=hyst, ratio=ratio, hold_ms=5.0, release_ms=10.0)
    # inside the hysteresis the gate stays open; below it, the expander law (ratio - 1) dB per dB
    assert g.gain_reduction_db()[-1] == pytest.approx(drop_db * (ratio - 1) if closed else 0.0, abs=1e-6)


def test_a_quiet_start_under_the_threshold_stays_closed():
    x = np.full((1, 2 * SR), 10 ** (-42.0 / 20))
    g, _ = run(x, threshold_db=-40.0, hysteresis_db=3.0, ratio=10.0)
    assert g.gain_reduction_db()[-1] == pytest.approx(18.0, abs=1e-6)  # not opened by a level inside the hysteresis: 2 dB x 9


@pytest.mark.parametrize("name, lane", [("attack_ms", (0.1, 30.0)), ("hold_ms", (0.0, 200.0)),
                                        ("release_ms", (5.0, 500.0))])
def test_time_lanes(name, lane):
    rng = np.random.default_rng(4)
    n = 24000
    x = rng.standard_normal((2, n)) * np.repeat([0.3, 0.0005, 0.2, 0.0001], n // 4)
    lanes = {name: np.linspace(*lane, n)}
    g = Gate(threshold_db=-30.0)
    g.prepare(SR, 2, 4096)
    ref = g.process(x, params=lanes)
    g.reset()
    assert not np.array_equal(ref, g.process(x))
    for cuts in ([1, 2, 3], [777, 4096, 4097], list(range(61, n, 61))):
        g.reset()
        bounds = [0, *cuts, n]
        y = np.concatenate([g.process(x[:, a:b], params={k: v[a:b] for k, v in lanes.items()})
                            for a, b in zip(bounds, bounds[1:], strict=False)], axis=1)
        np.testing.assert_array_equal(y, ref)
    # a constant lane is the parameter set to its value
    v = float(np.mean(lane))
    fixed = Gate(threshold_db=-30.0, **{name: v})
    fixed.prepare(SR, 2, 4096)
    g.reset()
    np.testing.assert_allclose(g.process(x, params={name: np.full(n, v)}), fixed.process(x), rtol=0, atol=1e-12)

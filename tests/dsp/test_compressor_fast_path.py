"""The compressor's compiled fast path (constant parameters, mix 1) against its general path."""

import numpy as np
import pytest

from mixgraph.dsp.dynamics import Compressor


@pytest.mark.parametrize("kw", [
    {},
    {"knee_db": 6.0, "ratio": 8.0},
    {"detector": "rms", "rms_ms": 5.0},
    {"sidechain_highpass_hz": 120.0, "knee_db": 3.0, "makeup_db": 2.5, "threshold_db": -24.0},
])
def test_fast_path_equals_general_path(kw):
    rng = np.random.default_rng(7)
    n = 30000
    x = rng.standard_normal((2, n)) * np.linspace(0.001, 1.0, n)
    fast = Compressor(**kw)
    fast.prepare(48000, 2, 4096)
    general = Compressor(**kw)
    general.prepare(48000, 2, 4096)
    ones = np.ones(n)
    # a "mix" lane of ones takes the general (vectorised) path with the same numbers
    y_general = general.process(x, params={"mix": ones})
    gr_general = general.gain_reduction_db()
    parts, grs = [], []
    for a, b in [(0, 1), (1, 778), (778, 20000), (20000, n)]:
        parts.append(fast.process(x[:, a:b]))
        grs.append(fast.gain_reduction_db())
    assert gr_general.max() > 10.0  # it really compresses
    # bit for bit: the same operations in the same order (a check that an optimisation of the
    # fast path leaves the samples alone)
    assert np.array_equal(np.concatenate(parts, axis=1), y_general)
    assert np.array_equal(np.concatenate(grs), gr_general)


def test_fast_path_key_drives_gain():
    x = np.full((2, 4800), 0.01)
    key = np.zeros((2, 4800))
    key[:, 2400:] = 1.0
    c = Compressor(threshold_db=-20.0, ratio=4.0, attack_ms=0.01)
    c.prepare(48000, 2, 4800)
    y = c.process(x, key=key)
    # before the key: untouched; at the end: 20 dB over threshold at 4:1 gives 15 dB reduction
    assert np.array_equal(y[:, :2400], x[:, :2400])
    assert 20 * np.log10(y[0, -1] / 0.01) == pytest.approx(-15.0, abs=0.01)


def test_fast_path_folds_the_same_gain_reduction_stats_as_the_general_path():
    from mixgraph.dsp.base import GRStats

    rng = np.random.default_rng(3)
    n = 48000 * 2 + 5000
    x = rng.standard_normal((2, n)) * np.repeat([0.05, 1.0, 0.2, 0.8, 0.02], n // 5 + 1)[:n]
    fast, general = Compressor(threshold_db=-20.0, knee_db=4.0), Compressor(threshold_db=-20.0, knee_db=4.0)
    for c in (fast, general):
        c.prepare(48000, 2, 4096)
        c.gr_stats = GRStats(48000)
    ones = np.ones(n)
    grs = []
    for a, b in [(0, 1), (1, 47999), (47999, 70000), (70000, n)]:
        fast.process(x[:, a:b])  # folds inside its kernel
        general.process(x[:, a:b], params={"mix": ones[a:b]})  # folded by Processor.process
        grs.append(general.gain_reduction_db())
    gr = np.concatenate(grs)
    assert fast.gr_stats.count == general.gr_stats.count == n
    assert fast.gr_stats.max == pytest.approx(gr.max(), abs=1e-9) and gr.max() > 10.0
    assert fast.gr_stats.mean == pytest.approx(gr.mean(), rel=1e-9)
    assert fast.gr_stats.per_second == pytest.approx([gr[:48000].max(), gr[48000:96000].max()], abs=1e-9)
    assert general.gr_stats.per_second == pytest.approx(fast.gr_stats.per_second, abs=1e-9)

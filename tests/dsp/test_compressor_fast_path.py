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
    np.testing.assert_allclose(np.concatenate(parts, axis=1), y_general, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.concatenate(grs), gr_general, rtol=0, atol=1e-9)


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

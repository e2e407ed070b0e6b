"""Automation of the dynamics' time constants and the de-esser's band: a lane changes the output
as the formula says (a recursion or a filter written out here, scipy's lfilter with the cookbook
design), and any block cut gives the same bits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from mixgraph.dsp.base import CONTROL_PERIOD
from mixgraph.dsp.biquad import bandpass
from mixgraph.dsp.dynamics import Compressor, DeEsser

SR = 48000
N = 9000
RNG = np.random.default_rng(21)
X = RNG.standard_normal((1, N)) * np.repeat([0.02, 0.8, 0.05, 0.6], N // 4)


def cut_run(p, x, params, cuts):
    p.reset()
    out = []
    bounds = [0, *cuts, x.shape[1]]
    for a, b in zip(bounds, bounds[1:], strict=False):
        out.append(p.process(x[:, a:b], params={k: v[a:b] for k, v in params.items()}))
    return np.concatenate(out, axis=1)


def reference_gr(x, t, r, att_ms, rel_ms):
    """Peak level, hard-knee law, branching smoother with per-frame coefficients (Giannoulis et
    al. 2012, eq. 17), one sample at a time."""
    y, out = 0.0, np.empty(x.size)
    for i, v in enumerate(x):
        level = 20 * math.log10(max(abs(v), 1e-12))
        target = max(level - t, 0.0) * (1 - 1 / r)
        a = math.exp(-1.0 / (att_ms[i] * 1e-3 * SR)) if target > y else math.exp(-1.0 / (rel_ms[i] * 1e-3 * SR))
        y = a * y + (1 - a) * target
        out[i] = y
    return out


@pytest.mark.parametrize("name", ["attack_ms", "release_ms"])
def test_compressor_time_constant_lanes(name):
    ramp = np.linspace(1.0, 200.0, N) if name == "attack_ms" else np.linspace(5.0, 1000.0, N)
    c = Compressor(threshold_db=-30.0, ratio=4.0, attack_ms=10.0, release_ms=100.0)
    c.prepare(SR, 1, 4096)
    y = c.process(X, params={name: ramp})
    att = ramp if name == "attack_ms" else np.full(N, 10.0)
    rel = ramp if name == "release_ms" else np.full(N, 100.0)
    gr = reference_gr(X[0], -30.0, 4.0, att, rel)
    np.testing.assert_allclose(c.gain_reduction_db(), gr, rtol=0, atol=1e-9)
    np.testing.assert_allclose(y[0], X[0] * 10 ** (-gr / 20), rtol=1e-12, atol=0)
    # a constant lane is the parameter set to its value
    fixed = Compressor(threshold_db=-30.0, ratio=4.0, **{"attack_ms": 10.0, "release_ms": 100.0, name: 37.0})
    fixed.prepare(SR, 1, 4096)
    lane = Compressor(threshold_db=-30.0, ratio=4.0)
    lane.prepare(SR, 1, 4096)
    np.testing.assert_allclose(lane.process(X, params={name: np.full(N, 37.0)}), fixed.process(X),
                               rtol=0, atol=1e-12)
    # any block cut: the same bits
    ref = cut_run(c, X, {name: ramp}, [])
    for cuts in ([1, 2, 3], [777, 4096, 4097], list(range(64, N, 64))):
        np.testing.assert_array_equal(cut_run(c, X, {name: ramp}, cuts), ref)


def band_reference(x, freqs, qs, pos0=0):
    """The de-esser's band: the cookbook band-pass designed at each control-grid point from the
    lanes' values there, run by scipy's lfilter with its state carried across the grid."""
    zi = np.zeros(2)
    out = np.empty(x.size)
    b, a = None, None
    for i in range(x.size):
        if (pos0 + i) % CONTROL_PERIOD == 0:
            row = bandpass(freqs[i], qs[i], SR)
            b, a = row[:3], row[3:]
        out[i:i + 1], zi = signal.lfilter(b, a, x[i:i + 1], zi=zi)
    return out


def test_deesser_band_follows_freq_and_q_lanes():
    x = RNG.standard_normal((2, N)) * 0.3
    freqs = np.geomspace(3000.0, 9000.0, N)
    qs = np.linspace(0.7, 4.0, N)
    d = DeEsser(freq_hz=6000.0, q=1.0, threshold_db=-80.0, ratio=4.0, range_db=12.0)
    d.prepare(SR, 2, 4096)
    band = d._band(x, {"freq_hz": freqs, "q": qs})
    for c in range(2):
        np.testing.assert_allclose(band[c], band_reference(x[c], freqs, qs), rtol=0, atol=1e-12)


def test_deesser_lanes_change_the_output_and_any_cut_gives_the_same_bits():
    x = RNG.standard_normal((2, N)) * 0.3
    lanes = {"freq_hz": np.geomspace(3000.0, 9000.0, N), "q": np.linspace(0.7, 4.0, N)}
    d = DeEsser(threshold_db=-40.0)
    d.prepare(SR, 2, 4096)
    plain = d.process(x)
    ref = cut_run(d, x, lanes, [])
    assert np.max(np.abs(ref - plain)) > 0.01
    for cuts in ([1, 2, 3], [31, 33, 4096], list(range(7, N, 7))):
        np.testing.assert_array_equal(cut_run(d, x, lanes, cuts), ref)
    # a constant lane is the parameter set to its value
    fixed = DeEsser(threshold_db=-40.0, freq_hz=4500.0, q=2.0)
    fixed.prepare(SR, 2, 4096)
    d.reset()
    np.testing.assert_allclose(d.process(x, params={"freq_hz": np.full(N, 4500.0), "q": np.full(N, 2.0)}),
                               fixed.process(x), rtol=0, atol=1e-12)

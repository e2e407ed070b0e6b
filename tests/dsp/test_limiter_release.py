"""The limiter's adaptive release: the gain kernel's dual time-constant stage against the recursion
written out, the ceiling held (16x reference), and the programme dependence it is for: a drum hit
released as fast as the fast release, a held low-frequency tone with the distortion of a slow one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal
from scipy.ndimage import minimum_filter1d

from mixgraph.dsp.kernels.limiter import limiter_gain
from mixgraph.dsp.limiter import Limiter
from tests.truepeak_reference import RATES, hf_bursts, true_peak_16x

SR = 44100


def limit(x, block=4096, sr=SR, **kw):
    lim = Limiter(**kw)
    lim.prepare(sr, x.shape[0], block)
    y = np.concatenate([lim.process(x[:, i : i + block]) for i in range(0, x.shape[1], block)], axis=1)
    return y, lim


def test_dual_release_kernel_against_the_recursion_written_out():
    rng = np.random.default_rng(4)
    n, size, m, a_rel, a_sa, a_sr = 6000, 42, 41, 0.99, 0.999, 0.9998
    t = np.minimum(1.0, 0.5 / np.maximum(rng.random(n) ** 4, 1e-12))
    t[2000:3500] = np.minimum(t[2000:3500], 0.4)  # a sustained reduction as well as short ones
    full_all = np.concatenate((np.ones(size - 1), t))
    origin = (size - 1) // 2 if size % 2 else size // 2 - 1
    h = minimum_filter1d(full_all, size=size, origin=origin, mode="nearest")[size - 1 :]
    r, fast, slow = np.empty(n), 1.0, 1.0
    for i in range(n):
        fast = min(h[i], a_rel * fast + (1.0 - a_rel) * h[i])
        a = a_sa if fast < slow else a_sr
        slow = a * slow + (1.0 - a) * fast
        r[i] = min(fast, slow)
    want = np.convolve(np.concatenate((np.ones(m - 1), r)), np.ones(m) / m, mode="valid")
    hist, ring, avg = np.ones(size - 1), np.ones(m), np.array([float(m), 0.0])
    rel = np.array([1.0, 1.0, a_sa, a_sr])
    parts = []
    for a, b in ((0, 1), (1, 300), (300, 4321), (4321, n)):  # any block cut
        full = np.concatenate((hist, t[a:b]))
        out = np.empty(b - a)
        limiter_gain(full, size, a_rel, rel, ring, avg, out)
        hist = full[-(size - 1) :]
        parts.append(out)
    g = np.concatenate(parts)
    np.testing.assert_allclose(g, want, rtol=0, atol=1e-12)
    assert np.all(g[m - 1 :] <= t[: n - (m - 1)] + 1e-12)  # never above what a sample wanted
    assert slow < 1.0 and rel[1] == pytest.approx(slow, abs=1e-12)


@pytest.mark.parametrize("sr", RATES)
def test_adaptive_release_holds_the_ceiling(sr):
    x = hf_bursts(sr) * 10 ** (6 / 20)
    y, _ = limit(x, sr=sr, release_ms=10.0, adaptive_release=True)
    assert true_peak_16x(y) <= -1.0


@pytest.mark.parametrize("block", [1, 7, 64, 4096])
def test_adaptive_release_is_block_size_invariant(block):
    x = hf_bursts(SR) * 4.0
    ref, _ = limit(x, block=4096, release_ms=10.0, adaptive_release=True)
    y, _ = limit(x, block=block, release_ms=10.0, adaptive_release=True)
    np.testing.assert_array_equal(y, ref)


def smpte_pair(n):
    t = np.arange(n) / SR
    x = 2.0 * (0.8 * np.sin(2 * np.pi * 60 * t) + 0.2 * np.sin(2 * np.pi * 7000 * t))  # 6 dB over
    return np.vstack([x, x])


def imd_percent(y):
    n = 2 * SR
    spec = np.abs(np.fft.rfft(y[0, -n:] * signal.windows.blackmanharris(n)))
    line = lambda f: spec[round(f * n / SR) - 2 : round(f * n / SR) + 3].max()  # noqa: E731
    sides = [line(7000 + s * 60 * k) for k in range(1, 6) for s in (-1, 1)]
    return 100 * np.sqrt(np.sum(np.square(sides))) / line(7000)


def recovery_ms(**kw):
    """After a 3 ms hit 12 dB over a quiet tone: how long until the reduction is under 0.5 dB."""
    t = np.arange(SR) / SR
    x = 0.1 * np.sin(2 * np.pi * 200 * t)[None].repeat(2, axis=0)
    start = SR // 10
    x[:, start : start + 132] = 4.0
    _, lim = limit(x, block=SR, **kw)
    gr = lim.gain_reduction_db()
    return 1000 * (np.nonzero(gr > 0.5)[0].max() - start) / SR


def test_fast_on_a_hit_slow_on_a_held_tone():
    fast, slow, auto = {"release_ms": 10.0}, {"release_ms": 1000.0}, {"release_ms": 10.0, "adaptive_release": True}
    n = 4 * SR
    imd = {k: imd_percent(limit(smpte_pair(n), **kw)[0]) for k, kw in (("fast", fast), ("slow", slow), ("auto", auto))}
    rec = {k: recovery_ms(**kw) for k, kw in (("fast", fast), ("slow", slow), ("auto", auto))}
    # a drum hit: released like the fast release (the slow stage barely charged in 3 ms)
    assert rec["auto"] == pytest.approx(rec["fast"], abs=3.0)
    assert rec["slow"] > 10 * rec["fast"]
    # a held 60 Hz tone: the fast release rides each cycle, the adaptive one holds steady
    assert imd["auto"] < imd["fast"] / 4, imd
    assert imd["slow"] < imd["auto"] < 0.1, imd

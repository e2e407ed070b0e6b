"""The shared true-peak interpolator (mixgraph.dsp.truepeak): its fast paths against a direct
computation, and its accuracy against the independent 16x reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from mixgraph.dsp import truepeak as tp


def firwin_phases(factor: int, half: int, beta: float) -> np.ndarray:
    """scipy's Kaiser-window design, each phase scaled to unity gain at DC."""
    h = signal.firwin(2 * factor * half + 1, 1 / factor, window=("kaiser", beta))
    for k in range(factor):
        h[k::factor] /= h[k::factor].sum()
    return h


def direct_grid(x: np.ndarray) -> np.ndarray:
    """|8x grid| of x (channels, n) by one convolution of the zero-stuffed input with the cascade
    built by scipy (firwin with Kaiser windows, the same specification): (channels, n, 8), window
    i's points at base times i - DELAY + k / 8."""
    h1 = firwin_phases(2, tp.D1, tp.BETA1)
    h2 = firwin_phases(4, tp.D2, tp.BETA2)
    up = np.zeros(4 * (h1.size - 1) + 1)
    up[::4] = h1
    h = np.convolve(up, h2)
    u = np.zeros((x.shape[0], 8 * x.shape[1]))
    u[:, ::8] = x
    return np.abs(np.stack([np.convolve(c, h)[: u.shape[1]] for c in u])).reshape(x.shape[0], -1, 8)


def direct_peak(x: np.ndarray) -> float:
    """The refined peak from the direct grid: parabola at each local maximum, lift capped."""
    z = direct_grid(x).reshape(x.shape[0], -1)
    best = float(z.max())
    a, b, c = z[:, :-2], z[:, 1:-1], z[:, 2:]
    den = 2 * b - a - c
    ok = (b >= a) & (b >= c) & (den > 0)
    lift = np.minimum((a - c)[ok] ** 2 / (8 * den[ok]), tp.MAX_LIFT * b[ok])
    return max(best, float((b[ok] + lift).max()))


def test_design_is_the_scipy_design():
    h1 = firwin_phases(2, tp.D1, tp.BETA1)
    np.testing.assert_allclose(tp.B1, h1[1::2][::-1], rtol=0, atol=1e-15)
    assert abs(h1[2 * tp.D1] - 1) < 1e-15 and np.abs(np.delete(h1[0::2], tp.D1)).max() < 1e-15  # samples pass
    h2 = firwin_phases(4, tp.D2, tp.BETA2)
    np.testing.assert_allclose(tp.B2, np.stack([h2[q::4][::-1] for q in (1, 2, 3)]), rtol=0, atol=1e-15)


def noisy(n=9000, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, n)) * 0.3
    x[:, 3000:3100] *= 3.0
    return x


def test_numpy_scan_equals_the_direct_cascade():
    x = noisy()
    ext = np.concatenate((np.zeros((2, tp.SUPPORT - 1)), x), axis=1)
    for rows in (1000, 4096, 100000):
        assert tp.scan_numpy(ext, 0.0, rows) == pytest.approx(direct_peak(x), rel=1e-12)


def direct_window_peaks(x: np.ndarray) -> np.ndarray:
    """Each window's refined peak (channels, n) from the direct grid."""
    g = direct_grid(x)  # (channels, n, 8)
    ch, n, _ = g.shape
    flat = g.reshape(ch, -1)
    # the last window's right neighbour, point (2 n, 0) of the 2x stream, is the input x[n - 1 - DELAY + 1]
    padded = np.concatenate((np.zeros((ch, 1)), flat, np.abs(x[:, -tp.DELAY : -tp.DELAY + 1])), axis=1)
    rows = np.lib.stride_tricks.sliding_window_view(padded, tp.PHASES + 2, axis=1)[:, :: tp.PHASES][:, :n]
    return tp._refine(rows)


def test_compiled_scan_gives_the_direct_peak_of_every_window_for_any_block_cut():
    from mixgraph.dsp.kernels.truepeak import scan

    x = noisy()
    want = direct_window_peaks(x).max(axis=0)
    for block in (1, 7, 300, 4096, x.shape[1]):
        hist = np.zeros((2, tp.SUPPORT - 1))
        p = np.zeros(x.shape[1])
        for i in range(0, x.shape[1], block):
            blk = np.ascontiguousarray(x[:, i : i + block])
            part = np.zeros(blk.shape[1])
            scan(tp.B1, tp.B2, hist, blk, -1.0, np.empty(tp.SUPPORT - 1 + blk.shape[1]),
                 np.empty(blk.shape[1] + tp.PRE), part)
            p[i : i + block] = part
        np.testing.assert_allclose(p, want, rtol=1e-12, atol=0)


def test_compiled_scan_skips_only_windows_below_the_bound():
    from mixgraph.dsp.kernels.truepeak import scan

    x = noisy()
    x[:, :2000] *= 0.01
    want = direct_window_peaks(x)
    thr = 0.3
    hist = np.zeros((2, tp.SUPPORT - 1))
    p = np.zeros(x.shape[1])
    top = scan(tp.B1, tp.B2, hist, x, thr, np.empty(tp.SUPPORT - 1 + x.shape[1]), np.empty(x.shape[1] + tp.PRE), p)
    assert top == pytest.approx(want.max(), rel=1e-12)
    win = np.lib.stride_tricks.sliding_window_view(np.concatenate((np.zeros((2, tp.SUPPORT - 1)), x), axis=1),
                                                   tp.SUPPORT, axis=1)
    hot = (np.abs(win) > thr).any(axis=2)  # per channel
    assert 0.05 < hot.mean() < 0.95
    # a window is computed wherever its peak can reach thr * GAIN_BOUND, and then exactly; a channel
    # or window is left out only where the bounds keep it below that level
    level = thr * tp.GAIN_BOUND
    top = want.max(axis=0)
    reach = top > level
    assert 20 < reach.sum() < 0.5 * reach.size
    np.testing.assert_allclose(p[reach], top[reach], rtol=1e-12)
    assert np.all(p[~reach] <= top[~reach] * (1 + 1e-12))
    assert np.all(want[~hot] <= level)
    assert 0 < np.count_nonzero(p) < hot.any(axis=0).sum()  # stage 2 skipped some hot windows

"""The true-peak interpolator the meter and the limiter share (ITU-R BS.1770-4 Annex 2 style, but
flat to 0.95 x Nyquist and refined between its grid points).

Two stages of windowed-sinc interpolation (Kaiser windows, the design of
``scipy.signal.firwin(numtaps, 1 / factor, window=("kaiser", beta))``, both cut off at the Nyquist
frequency of their input so that phase 0 passes the input samples unchanged):

1. 2x, 129 taps (32 base samples a side), beta 5: one new value per base sample, 64 taps.
2. 2x -> 8x, 33 taps at 8x (4 samples of the 2x stream a side), beta 6: three new values per
   2x sample, 8 taps each. Its input holds nothing above 0.475 fs, so a short filter is flat.

The cascade (an 8-phase grid, delayed by DELAY = 34 base samples) is within 0.0043 of the ideal
band-limited interpolation for every phase and every frequency up to 0.95 x Nyquist (0.037 dB): a
single stage needs 64 taps in each of 8 phases for that, this one 64 + 2 x 3 x 8 = 112 multiply-adds
a base sample. Its 8-point grid alone would under-read a sine at 0.95 x Nyquist by up to
20 log10(cos(pi 0.475 / 8)) = -0.15 dB, so at each local maximum of |grid| a parabola through it
and its two neighbours gives the peak between them (within 0.004 dB of a sine's at 0.95 x Nyquist),
its lift capped at 1/cos(pi/16) - 1 (the most a signal band-limited to Nyquist can rise between
8x grid points), which keeps the screening bound below valid.

Screening: an interpolated value (refined or not) is at most GAIN_BOUND times the largest |input|
in its window of SUPPORT samples, so a window without an input above level / GAIN_BOUND cannot
reach that level and is not interpolated: what keeps a true peak cheap.

``scan_numpy`` (numpy only: ``mixgraph meter`` loads no numba and no scipy.signal) and the compiled
``mixgraph.dsp.kernels.truepeak.scan`` compute the same values (to rounding: the sums run in
another order).
"""

from __future__ import annotations

import math

import numpy as np

#: grid points per base sample
PHASES = 8
#: base samples a side of stage 1 (2x), its Kaiser beta
D1, BETA1 = 32, 5.0
#: 2x samples a side of stage 2 (2x -> 8x), its Kaiser beta
D2, BETA2 = 4, 6.0
#: the grid of window i (the newest input x[i]) lies at base times i - DELAY + k / 8, k = 0..7
DELAY = D1 + D2 // 2
#: stage-1 values before window i's own that its grid and the parabola's neighbours read
PRE = 4
#: inputs window i reads: x[i - SUPPORT + 1 .. i] (stage 1 at i - PRE .. i)
SUPPORT = 2 * D1 + PRE
#: the most the parabola may lift a grid maximum: 1 / cos(pi / 16) - 1
MAX_LIFT = 1.0 / math.cos(math.pi / (2 * PHASES)) - 1.0


def _windowed_sinc(factor: int, half: int, beta: float) -> np.ndarray:
    """firwin(2 factor half + 1, 1 / factor, window=("kaiser", beta)) with each of its ``factor``
    phases scaled to unity gain at DC: phase 0 is then exactly [0 .. 0, 1, 0 .. 0] (the sinc's
    zeros), so the input samples pass unchanged and no phase reads a constant high or low."""
    n = 2 * factor * half + 1
    m = np.arange(n) - (n - 1) / 2.0
    h = np.sinc(m / factor) * np.kaiser(n, beta)
    for k in range(factor):
        h[k::factor] /= h[k::factor].sum()
    return h


def _design():
    h1 = _windowed_sinc(2, D1, BETA1)
    h2 = _windowed_sinc(4, D2, BETA2)
    b1 = np.ascontiguousarray(h1[1::2][::-1])  # 2 D1 taps, reversed: v[i] = sum_j b1[j] x[i - 2 D1 + 1 + j]
    b2 = np.ascontiguousarray(np.stack([h2[q::4][: 2 * D2][::-1] for q in (1, 2, 3)]))  # (3, 2 D2), reversed
    # the cascade as one 8-phase filter, for its L1 gain bound
    up = np.zeros(4 * (h1.size - 1) + 1)
    up[::4] = h1
    h = np.convolve(up, h2)
    l1 = max(float(np.abs(h[k::PHASES]).sum()) for k in range(PHASES))
    l1_2 = max(1.0, float(np.abs(b2).sum(axis=1).max()))
    return b1, b2, l1 * (1.0 + MAX_LIFT) * (1.0 + 1e-9), l1_2 * (1.0 + MAX_LIFT) * (1.0 + 1e-9)


def _grid_matrix() -> np.ndarray:
    """(10, 10): the 2x stream w(2i - 8 .. 2i + 1) of window i times this matrix = its grid with
    the neighbours, [point (2i - 1, 3), (2i, 0..3), (2i + 1, 0..3), (2i + 2, 0)] (signed)."""
    g = np.zeros((10, 10))
    g[0:8, 0] = B2[2]
    g[4, 1] = 1.0
    g[5, 5] = 1.0
    g[6, 9] = 1.0
    for q in range(3):
        g[1:9, 2 + q] = B2[q]
        g[2:10, 6 + q] = B2[q]
    return g


#: stage 1's half-sample branch and stage 2's phases 1..3, taps reversed (dot products with
#: windows); GAIN_BOUND: a refined peak over the largest |input| of its window; STAGE2_BOUND: over
#: the largest |value| of the 2x stream it reads (w(2i - 8 .. 2i + 1) for window i), which lets a
#: window whose stage-1 values are all low skip stage 2
B1, B2, GAIN_BOUND, STAGE2_BOUND = _design()
GRID = _grid_matrix()


def _refine(z: np.ndarray) -> np.ndarray:
    """|grid| rows z (..., PHASES + 2: the previous window's last point, the window's 8, the next
    window's first) -> each window's peak: the largest of its 8 points, and at each of them that
    is a local maximum, the vertex of the parabola through it and its neighbours (lift capped)."""
    a, b, c = z[..., :-2], z[..., 1:-1], z[..., 2:]
    den = 2.0 * b - a - c
    local = (b >= a) & (b >= c) & (den > 0.0)
    d = a - c
    lift = np.where(local, d * d / (8.0 * np.where(local, den, 1.0)), 0.0)
    np.minimum(lift, MAX_LIFT * b, out=lift)
    return (b + lift).max(axis=-1)


def scan_numpy(ext: np.ndarray, thr: float, rows: int = 16384) -> float:
    """The largest refined peak of the windows of ext (channels, SUPPORT - 1 + n: the last
    SUPPORT - 1 inputs before the block, then the block) that hold an input above thr; 0.0 when
    none does. Windows are taken ``rows`` at a time (memory stays small); a run of windows
    without an input above thr is skipped."""
    h = SUPPORT - 1
    ch, total = ext.shape
    n = total - h
    peak = 0.0
    for c in range(ch):
        e = ext[c]
        for lo in range(0, n, rows):
            hi = min(lo + rows, n)
            seg = e[lo : hi + h]  # the inputs windows lo .. hi - 1 read
            if not (np.abs(seg) > thr).any():
                continue
            # v[i] (stage 1: the value half a sample before x[i - D1]) for i = lo - PRE .. hi - 1;
            # window i reads e[i + h - 2 D1 + 1 .. i + h], the first of them seg[0]
            k = hi - lo
            v = np.convolve(seg, B1[::-1], mode="valid")
            # the 2x stream, local index m' = m - 2 (lo - PRE): w[2 i] = x[i - D1], w[2 i + 1] = v[i]
            w = np.empty(2 * (k + PRE))
            w[0::2] = seg[h - D1 - PRE : h - D1 + k]
            w[1::2] = v
            # window i (local r = i - lo) reads w[2 r .. 2 r + 9]; a window whose |w| there stays
            # at or below level / STAGE2_BOUND cannot reach level (level = thr * GAIN_BOUND)
            rows_w = np.lib.stride_tricks.sliding_window_view(w, 10)[::2][:k]
            level = thr * GAIN_BOUND
            cand = np.abs(rows_w).max(axis=1) * STAGE2_BOUND > level
            if cand.any():
                z = np.abs(rows_w[cand] @ GRID)
                peak = max(peak, float(_refine(z).max()))
    return peak

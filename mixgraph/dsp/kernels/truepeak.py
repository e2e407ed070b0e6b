"""The compiled true-peak scan that the limiter's detector and the render's meters share (the
interpolator's design and its numpy twin: mixgraph.dsp.truepeak)."""

from __future__ import annotations

import numpy as np
from numba import njit

from mixgraph.dsp.truepeak import D1, D2, MAX_LIFT, PHASES, PRE, SUPPORT


@njit(cache=True, nogil=True, fastmath={"nnan", "nsz"})
def span_max(xc: np.ndarray, lo: int, hi: int) -> float:
    """max |xc[lo:hi]| (exact: a maximum does not depend on the order it is taken in). Four
    running maxima side by side: the compiler does not vectorise the one-maximum loop, which
    waits on each comparison before the next (0.36 ns a sample against 1.0)."""
    m0 = 0.0
    m1 = 0.0
    m2 = 0.0
    m3 = 0.0
    q = lo
    while q + 4 <= hi:
        m0 = max(m0, abs(xc[q]))
        m1 = max(m1, abs(xc[q + 1]))
        m2 = max(m2, abs(xc[q + 2]))
        m3 = max(m3, abs(xc[q + 3]))
        q += 4
    while q < hi:
        m0 = max(m0, abs(xc[q]))
        q += 1
    return max(max(m0, m1), max(m2, m3))


#: windows per chunk that scan skips at once when none of their inputs is above thr
CHUNK = 256


@njit(cache=True, nogil=True)
def _window_peak(e: np.ndarray, v: np.ndarray, i: int, b2: np.ndarray, wl: np.ndarray, z: np.ndarray) -> float:
    """The refined peak of window i (see mixgraph.dsp.truepeak): e is the channel's history and
    block (window i's newest input at e[i + SUPPORT - 1]), v[i + PRE] its stage-1 value."""
    h = SUPPORT - 1
    # wl[0 .. 9] = the 2x stream w(2i - 8 .. 2i + 1): w(2j) = x[j - D1], w(2j + 1) = v[j]
    for r in range(5):
        j = i - 4 + r
        wl[2 * r] = e[j - D1 + h]
        wl[2 * r + 1] = v[j + PRE]
    # z[0] = point (2i - 1, 3), z[1 .. 8] = points (2i, 0..3), (2i + 1, 0..3), z[9] = (2i + 2, 0)
    m2 = 2 * D2
    acc = 0.0
    for j in range(m2):
        acc += b2[2, j] * wl[j]
    z[0] = abs(acc)
    z[1] = abs(wl[4])
    z[5] = abs(wl[5])
    z[9] = abs(wl[6])
    for q in range(3):
        a0 = 0.0
        a1 = 0.0
        for j in range(m2):
            a0 += b2[q, j] * wl[1 + j]
            a1 += b2[q, j] * wl[2 + j]
        z[2 + q] = abs(a0)
        z[6 + q] = abs(a1)
    best = 0.0
    for k in range(1, PHASES + 1):
        a = z[k - 1]
        b = z[k]
        c = z[k + 1]
        top = b
        den = 2.0 * b - a - c
        if b >= a and b >= c and den > 0.0:
            d = a - c
            lift = d * d / (8.0 * den)
            cap = MAX_LIFT * b
            top = b + (lift if lift < cap else cap)
        if top > best:
            best = top
    return best


@njit(cache=True, nogil=True)
def scan(b1: np.ndarray, b2: np.ndarray, hist: np.ndarray, x: np.ndarray, thr: float, ext: np.ndarray,
         v: np.ndarray, p: np.ndarray) -> float:
    """The refined true peak of each window of x (channels, n) that holds an input above thr:
    p[i] = max(p[i], largest over the channels) (p of size 0: not stored); returns the largest of
    all (0.0 if none). b1, b2: mixgraph.dsp.truepeak.B1 and B2. hist (channels, SUPPORT - 1): the
    inputs before x, updated. ext (SUPPORT - 1 + n) and v (n + PRE): scratch.

    Windows without an input above thr are skipped (the caller's bound says they cannot matter):
    first a chunk at a time by one maximum over the inputs it reads, then window by window by a
    running count of the inputs above thr. A stage-1 value is computed once, the first time a hot
    window needs it."""
    ch, n = x.shape
    h = SUPPORT - 1
    m1 = 2 * D1
    store = p.shape[0] > 0
    wl = np.empty(10)
    z = np.empty(PHASES + 2)
    peak = 0.0
    for c in range(ch):
        for i in range(h):
            ext[i] = hist[c, i]
        for i in range(n):
            ext[h + i] = x[c, i]
        done = -PRE - 1  # the last window index whose stage-1 value v holds
        for lo in range(0, n, CHUNK):
            hi = min(lo + CHUNK, n)
            if span_max(ext, lo, hi + h) <= thr:  # (a NaN max goes on to the exact loop)
                continue
            hot = 0  # inputs above thr in window i: ext[i .. i + h]
            for j in range(lo, lo + h):
                if abs(ext[j]) > thr:
                    hot += 1
            for i in range(lo, hi):
                if abs(ext[i + h]) > thr:
                    hot += 1
                if hot > 0:
                    first = i - PRE if i - PRE > done else done + 1
                    for j in range(first, i + 1):
                        acc = 0.0
                        s = j + h - m1 + 1
                        for t in range(m1):
                            acc += b1[t] * ext[s + t]
                        v[j + PRE] = acc
                    done = i
                    top = _window_peak(ext, v, i, b2, wl, z)
                    if top > peak:
                        peak = top
                    if store and top > p[i]:
                        p[i] = top
                if abs(ext[i]) > thr:
                    hot -= 1
        for i in range(h):
            hist[c, i] = ext[n + i]
    return peak

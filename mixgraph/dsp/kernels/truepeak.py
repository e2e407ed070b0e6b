"""The compiled true-peak scan that the limiter's detector and the render's meters share (the
interpolator's design and its numpy twin: mixgraph.dsp.truepeak)."""

from __future__ import annotations

import numpy as np
from numba import njit

from mixgraph.dsp.truepeak import D1, D2, GAIN_BOUND, MAX_LIFT, PHASES, PRE, STAGE2_BOUND, SUPPORT


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
def _stage1(b1: np.ndarray, e: np.ndarray, start: int, count: int, v: np.ndarray, at: int) -> None:
    """v[at + j] = sum_t b1[t] e[start + j + t] for j < count, each summed in tap order (t = 0, 1,
    ...). Eight windows side by side: eight independent chains the CPU overlaps, in registers
    (one window after another waits on each addition)."""
    m = b1.shape[0]
    j = 0
    while j + 8 <= count:
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        a4 = 0.0
        a5 = 0.0
        a6 = 0.0
        a7 = 0.0
        s = start + j
        for t in range(m):
            bt = b1[t]
            a0 += bt * e[s + t]
            a1 += bt * e[s + t + 1]
            a2 += bt * e[s + t + 2]
            a3 += bt * e[s + t + 3]
            a4 += bt * e[s + t + 4]
            a5 += bt * e[s + t + 5]
            a6 += bt * e[s + t + 6]
            a7 += bt * e[s + t + 7]
        v[at + j] = a0
        v[at + j + 1] = a1
        v[at + j + 2] = a2
        v[at + j + 3] = a3
        v[at + j + 4] = a4
        v[at + j + 5] = a5
        v[at + j + 6] = a6
        v[at + j + 7] = a7
        j += 8
    while j < count:
        acc = 0.0
        s = start + j
        for t in range(m):
            acc += b1[t] * e[s + t]
        v[at + j] = acc
        j += 1


@njit(cache=True, nogil=True)
def _window_peak(wl: np.ndarray, b2: np.ndarray, z: np.ndarray) -> float:
    """The refined peak of a window (see mixgraph.dsp.truepeak) from wl[0 .. 9], the 2x stream
    w(2i - 8 .. 2i + 1) it reads."""
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
def scan(b1: np.ndarray, b2: np.ndarray, hist: np.ndarray, x: np.ndarray, thr: float, ext: np.ndarray,  # noqa: C901 (one compiled pass per block: split, every window would pay a call)
         v: np.ndarray, p: np.ndarray) -> float:
    """The refined true peak of each window of x (channels, n) that can reach thr * GAIN_BOUND:
    p[i] = max(p[i], largest over the channels) (p of size 0: not stored); returns the largest of
    all (0.0 if none). b1, b2: mixgraph.dsp.truepeak.B1 and B2. hist (channels, SUPPORT - 1): the
    inputs before x, updated. ext (SUPPORT - 1 + n) and v (n + PRE): scratch.

    A window without an input above thr is skipped (the bound says it cannot matter): first a
    chunk at a time by one maximum over the inputs it reads, then window by window by a running
    count of the inputs above thr. The stage-1 values of a run of hot windows are computed
    together, tap by tap across the run (each still summed in tap order, so the same bits for any
    block cut; the loop over the run vectorises); then a window whose 2x stream stays at or below
    thr * GAIN_BOUND / STAGE2_BOUND skips stage 2 (the second, tighter bound)."""
    ch, n = x.shape
    h = SUPPORT - 1
    m1 = 2 * D1
    store = p.shape[0] > 0
    level = thr * GAIN_BOUND
    wl = np.empty(10)
    z = np.empty(PHASES + 2)
    hot = np.zeros(n, dtype=np.uint8)
    peak = 0.0
    for c in range(ch):
        for i in range(h):
            ext[i] = hist[c, i]
        for i in range(n):
            ext[h + i] = x[c, i]
        hot[:] = 0
        for lo in range(0, n, CHUNK):
            hi = min(lo + CHUNK, n)
            if span_max(ext, lo, hi + h) <= thr:  # (a NaN max goes on to the exact loop)
                continue
            count = 0  # inputs above thr in window i: ext[i .. i + h]
            for j in range(lo, lo + h):
                if abs(ext[j]) > thr:
                    count += 1
            for i in range(lo, hi):
                if abs(ext[i + h]) > thr:
                    count += 1
                if count > 0:
                    hot[i] = 1
                if abs(ext[i]) > thr:
                    count -= 1
        done = -PRE - 1  # the last window index whose stage-1 value v holds
        a = 0
        while a < n:
            if hot[a] == 0:
                a += 1
                continue
            b = a + 1
            while b < n and hot[b] == 1:
                b += 1
            # stage 1 for windows first .. b - 1: v[j] = sum_t b1[t] ext[j + h - m1 + 1 + t]
            first = a - PRE if a - PRE > done else done + 1
            _stage1(b1, ext, first + h - m1 + 1, b - first, v, first + PRE)
            done = b - 1
            for i in range(a, b):
                # wl[0 .. 9] = the 2x stream w(2i - 8 .. 2i + 1): w(2j) = x[j - D1], w(2j + 1) = v[j]
                big = 0.0
                for r in range(5):
                    j = i - 4 + r
                    u0 = ext[j - D1 + h]
                    u1 = v[j + PRE]
                    wl[2 * r] = u0
                    wl[2 * r + 1] = u1
                    big = max(big, abs(u0), abs(u1))
                if big * STAGE2_BOUND <= level:
                    continue
                top = _window_peak(wl, b2, z)
                if top > peak:
                    peak = top
                if store and top > p[i]:
                    p[i] = top
            a = b
        for i in range(h):
            hist[c, i] = ext[n + i]
    return peak

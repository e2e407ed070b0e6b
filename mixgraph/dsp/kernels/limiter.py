"""The limiter's kernels: its oversampled peak detector and its gain (running minimum, release,
moving average) in one pass."""

from __future__ import annotations

import numpy as np
from numba import njit

from mixgraph.dsp.kernels.fma import fma


@njit(cache=True, nogil=True)
def oversampled_peak(r: np.ndarray, x: np.ndarray, hist: np.ndarray, thr: float, ext: np.ndarray,
                     p: np.ndarray) -> None:
    """The limiter's detector: p[i] = max over channels and phases k of |sum_j r[k, j] ext[c, i + j]|
    (r: the polyphase branches, taps reversed and zero-padded in front to one length m; ext: the
    last m - 1 inputs of the channel, from ``hist``, then x[c]). Summed in the order of
    fir_stream, so the values are those of the per-branch FIR.

    Only windows holding a sample above ``thr`` are computed; the caller sets thr = ceiling / G,
    G >= max_k sum_j |r[k, j]|, so a window without one cannot exceed the ceiling and p there
    stays as the caller set it (0: no gain reduction either way). ``hist`` (channels, m - 1) is
    updated; ``ext`` is scratch of m - 1 + n."""
    phases, m = r.shape
    ch, n = x.shape
    h = m - 1
    for c in range(ch):
        for i in range(h):
            ext[i] = hist[c, i]
        for i in range(n):
            ext[h + i] = x[c, i]
        hot = 0  # samples above thr in the window ext[i : i + m]
        for j in range(h):
            if abs(ext[j]) > thr:
                hot += 1
        for i in range(n):
            if abs(ext[i + h]) > thr:
                hot += 1
            if hot > 0:
                best = p[i]
                for k in range(phases):
                    acc = 0.0
                    for j in range(m):
                        acc += r[k, j] * ext[i + j]
                    a = abs(acc)
                    if a > best:
                        best = a
                p[i] = best
            if abs(ext[i]) > thr:
                hot -= 1
        for i in range(h):
            hist[c, i] = ext[n + i]


@njit(cache=True, nogil=True)
def limiter_gain(full: np.ndarray, size: int, a_rel: float, rel_state: np.ndarray, ring: np.ndarray,
                 avg_state: np.ndarray, out: np.ndarray) -> None:
    """The limiter's applied gain from its wanted gains, in one pass (see dsp.limiter):

    h[i] = min(full[i - size + 1 .. i]), for i from size - 1 (``full``: the last size - 1
    wanted gains of the previous block, then this block's), by a monotonic queue of indices;
    r = min(h, a_R r[n-1] + (1 - a_R) h): instant attack, one-pole release (state rel_state);
    out = the mean of the last len(ring) values of r, by a running sum (ring circular,
    avg_state = [running sum, write position]) recomputed from the ring each time the position
    wraps, so rounding never accumulates beyond one window and any block cut gives the same
    gain. One kernel instead of three (its compile is what a first render waits for)."""
    n = full.shape[0]
    skip = size - 1
    q = np.empty(n, dtype=np.int64)
    head = 0
    tail = 0
    r = rel_state[0]
    m = ring.shape[0]
    total = avg_state[0]
    pos = int(avg_state[1])
    inv = 1.0 / m
    for i in range(n):
        v = full[i]
        while tail > head and full[q[tail - 1]] >= v:
            tail -= 1
        q[tail] = i
        tail += 1
        if q[head] <= i - size:
            head += 1
        if i < skip:
            continue
        h = full[q[head]]
        rel = fma(a_rel, r, (1.0 - a_rel) * h)
        r = h if h < rel else rel
        total += r - ring[pos]
        ring[pos] = r
        pos += 1
        if pos == m:
            pos = 0
            total = 0.0
            for j in range(m):
                total += ring[j]
        out[i - skip] = total * inv
    rel_state[0] = r
    avg_state[0] = total
    avg_state[1] = pos

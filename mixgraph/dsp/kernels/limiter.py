"""The limiter's gain kernel (running minimum, release, moving average in one pass); its true-peak
detector is the shared scan of mixgraph.dsp.kernels.truepeak."""

from __future__ import annotations

import numpy as np
from numba import njit

from mixgraph.dsp.kernels.fma import fma


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
    dual = rel_state.shape[0] == 4
    slow = rel_state[1] if dual else 1.0
    a_sa = rel_state[2] if dual else 0.0
    a_sr = rel_state[3] if dual else 0.0
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
        if dual:
            a = a_sa if r < slow else a_sr
            slow = fma(a, slow, (1.0 - a) * r)
            r_out = r if r < slow else slow
        else:
            r_out = r
        total += r_out - ring[pos]
        ring[pos] = r_out
        pos += 1
        if pos == m:
            pos = 0
            total = 0.0
            for j in range(m):
                total += ring[j]
        out[i - skip] = total * inv
    rel_state[0] = r
    if dual:
        rel_state[1] = slow
    avg_state[0] = total
    avg_state[1] = pos

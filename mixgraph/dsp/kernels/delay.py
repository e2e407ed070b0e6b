"""Delay lines with feedback, compiled: the feedback echo and the reverb's 8-line FDN."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def feedback_delay(x: np.ndarray, buf: np.ndarray, pos: np.ndarray, delay: int, feedback: float,
                   lp_coeff: float, lp_state: np.ndarray) -> np.ndarray:
    """Feedback echo: w[n] = x[n] + fb * LP(w[n-D]); output the delayed line w[n-D].

    LP is a one-pole low-pass in the loop, y = (1-c)*x + c*y[n-1]. x: (channels, n);
    buf: (channels, len) ring buffer with len >= delay; pos: [write index]."""
    ch, n = x.shape
    size = buf.shape[1]
    out = np.empty_like(x)
    p = int(pos[0])
    for i in range(n):
        read = p - delay
        if read < 0:
            read += size
        for c in range(ch):
            d = buf[c, read]
            lp_state[c] = (1.0 - lp_coeff) * d + lp_coeff * lp_state[c]
            buf[c, p] = x[c, i] + feedback * lp_state[c]
            out[c, i] = d
        p += 1
        if p >= size:
            p = 0
    pos[0] = p
    return out


@njit(cache=True, nogil=True)
def fdn(x: np.ndarray, lines: np.ndarray, lens: np.ndarray, pos: np.ndarray, gains: np.ndarray,
        damp: np.ndarray, lp: np.ndarray) -> np.ndarray:
    """8-line feedback delay network with a Householder mixing matrix (I - 2/N * 11^T).

    x: (2, n) input; lines: (8, maxlen) ring buffers; in each line's loop the absorbent filter
    g_i (1 - a_i) / (1 - a_i z^-1) (gains[i], damp[i]) sets its loss per pass, hence the RT60
    at each frequency. Left output sums even lines,
    right output odd lines."""
    nl = lens.shape[0]
    n = x.shape[1]
    size = lines.shape[1]
    out = np.zeros((2, n))
    taps = np.empty(nl)
    for i in range(n):
        s = 0.0
        for k in range(nl):
            r = pos[k] - lens[k]
            if r < 0:
                r += size
            v = lines[k, r]
            lp[k] = (1.0 - damp[k]) * v + damp[k] * lp[k]
            taps[k] = lp[k] * gains[k]
            s += taps[k]
        s *= 2.0 / nl
        left = 0.0
        right = 0.0
        for k in range(nl):
            if k % 2 == 0:
                left += taps[k]
            else:
                right += taps[k]
            inp = x[0, i] if k % 2 == 0 else x[1, i]
            lines[k, pos[k]] = taps[k] - s + inp
            pos[k] += 1
            if pos[k] >= size:
                pos[k] = 0
        out[0, i] = left
        out[1, i] = right
    return out

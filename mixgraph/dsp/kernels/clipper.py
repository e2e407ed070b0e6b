"""The clipper's kernels: half-band 2x up- and down-sampling with carried history, and its curve.

A linear-phase half-band FIR h of 4J - 1 taps has h[2J - 1] = 1/2 at its centre and zeros at
every other even offset from it, so one polyphase branch is a pure delay and the other holds the
2J taps g[i] = h[2i]. Both kernels sum every output's terms in a fixed order (taps outermost, as
``fir.fir_stream``), so any block cut gives the same bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def halfband_up(g: np.ndarray, x: np.ndarray, hist: np.ndarray) -> np.ndarray:
    """(channels, n) -> (channels, 2n): y[2i] = 2 sum_j g[j] x[i - j], y[2i + 1] = x[i - J + 1]
    with 2J = len(g); ``hist`` holds the last 2J - 1 inputs of each channel and is updated."""
    ch, n = x.shape
    m = g.shape[0]
    h = m - 1
    d = m // 2 - 1
    out = np.empty((ch, 2 * n))
    ext = np.empty(h + n)
    acc = np.empty(n)
    for c in range(ch):
        for i in range(h):
            ext[i] = hist[c, i]
        for i in range(n):
            ext[h + i] = x[c, i]
            acc[i] = 0.0
        for j in range(m):
            w = 2.0 * g[j]
            for i in range(n):
                acc[i] += w * ext[h + i - j]
        for i in range(n):
            out[c, 2 * i] = acc[i]
            out[c, 2 * i + 1] = ext[h + i - d]
        for i in range(h):
            hist[c, i] = ext[n + i]
    return out


@njit(cache=True, nogil=True)
def halfband_down(g: np.ndarray, v: np.ndarray, hist: np.ndarray) -> np.ndarray:
    """(channels, 2n) -> (channels, n): y[i] = sum_j g[j] v[2i - 2j] + v[2i - 2J + 1] / 2, the
    half-band low-pass kept at every other sample; ``hist`` holds the last 4J - 2 inputs."""
    ch, n2 = v.shape
    n = n2 // 2
    m = g.shape[0]
    h = 2 * m - 2
    centre = m - 1
    out = np.empty((ch, n))
    ext = np.empty(h + n2)
    for c in range(ch):
        for i in range(h):
            ext[i] = hist[c, i]
        for i in range(n2):
            ext[h + i] = v[c, i]
        for i in range(n):
            out[c, i] = 0.0
        for j in range(m):
            w = g[j]
            for i in range(n):
                out[c, i] += w * ext[h + 2 * i - 2 * j]
        for i in range(n):
            out[c, i] += 0.5 * ext[h + 2 * i - centre]
        for i in range(h):
            hist[c, i] = ext[n2 + i]
    return out


@njit(cache=True, nogil=True)
def soft_clip(u: np.ndarray, ceiling: float, knee_start: float, factor: int, worst: np.ndarray) -> np.ndarray:
    """The clipper's static curve (dsp.clipper) over (channels, n * factor) samples; ``worst[i]``
    gets the smallest ratio |out| / |in| over the channels and the ``factor`` samples of base frame
    i (1 where nothing was bent), for the gain-reduction figures."""
    ch, m = u.shape
    out = np.empty((ch, m))
    for i in range(worst.shape[0]):
        worst[i] = 1.0
    hard = knee_start >= ceiling
    top = 2.0 * ceiling - knee_start
    scale = 0.0 if hard else 1.0 / (4.0 * (ceiling - knee_start))
    for c in range(ch):
        for k in range(m):
            x = u[c, k]
            a = abs(x)
            if a <= knee_start:
                out[c, k] = x
                continue
            if hard or a >= top:
                y = ceiling
            else:
                d = top - a
                y = ceiling - d * d * scale
            out[c, k] = y if x > 0.0 else -y
            r = y / a
            i = k // factor
            if r < worst[i]:
                worst[i] = r
    return out

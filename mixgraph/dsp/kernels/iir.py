"""Recursive filters, compiled: the biquad cascade (sosfilt's recursion, state carried) and a one-pole mean."""

from __future__ import annotations

import numpy as np
from numba import njit

from mixgraph.dsp.kernels.fma import fma


@njit(cache=True, nogil=True)
def sos_stream(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Cascade of biquads (rows [b0, b1, b2, 1, a1, a2]) over x (channels, n), transposed direct
    form II, state zi (sections, channels, 2) updated in place: ``scipy.signal.sosfilt``'s
    recursion, with its first state written z0 = (b1 x + z1) - a1 y (sosfilt: b1 x - a1 y + z1)
    and the multiply-adds on y fused (``fma``), so a sample waits on fewer operations. The samples
    are sosfilt's to rounding (the two round differently: 1e-12 or so apart on full-scale noise
    through the K-weighting, whose poles near z = 1 carry rounding along); any block cut gives
    the same samples."""
    ch, n = x.shape
    ns = sos.shape[0]
    y = np.empty_like(x)
    if ch == 2:
        # the two channels' recursions interleaved: independent chains, so the CPU overlaps them
        for i in range(n):
            v0 = x[0, i]
            v1 = x[1, i]
            for s in range(ns):
                b0 = sos[s, 0]
                b1 = sos[s, 1]
                b2 = sos[s, 2]
                a1 = sos[s, 4]
                a2 = sos[s, 5]
                o0 = fma(b0, v0, zi[s, 0, 0])
                o1 = fma(b0, v1, zi[s, 1, 0])
                zi[s, 0, 0] = fma(-a1, o0, fma(b1, v0, zi[s, 0, 1]))
                zi[s, 1, 0] = fma(-a1, o1, fma(b1, v1, zi[s, 1, 1]))
                zi[s, 0, 1] = fma(-a2, o0, b2 * v0)
                zi[s, 1, 1] = fma(-a2, o1, b2 * v1)
                v0 = o0
                v1 = o1
            y[0, i] = v0
            y[1, i] = v1
        return y
    for c in range(ch):
        for i in range(n):
            v = x[c, i]
            for s in range(ns):
                z0 = zi[s, c, 0]
                z1 = zi[s, c, 1]
                out = fma(sos[s, 0], v, z0)
                zi[s, c, 0] = fma(-sos[s, 4], out, fma(sos[s, 1], v, z1))
                zi[s, c, 1] = fma(-sos[s, 5], out, sos[s, 2] * v)
                v = out
            y[c, i] = v
    return y


def sosfilt_zi(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.signal.sosfilt(sos, x, axis=-1, zi=zi)`` for 2-D x, compiled (the state is updated in
    place and returned, for the same call shape)."""
    y = sos_stream(np.ascontiguousarray(sos, dtype=np.float64), np.ascontiguousarray(x, dtype=np.float64), zi)
    return y, zi


@njit(cache=True, nogil=True)
def onepole_stream(x: np.ndarray, c: float, state: np.ndarray) -> np.ndarray:
    """y[n] = (1 - c) x[n] + c y[n-1] (a one-pole mean), state[0] = y[n-1]; what
    ``lfilter([1 - c], [1, -c], x, zi=state)`` computes."""
    y = np.empty_like(x)
    z = state[0]
    b0 = 1.0 - c
    for i in range(x.shape[0]):
        out = b0 * x[i] + z
        z = c * out
        y[i] = out
    state[0] = z
    return y

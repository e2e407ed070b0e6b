"""The dynamics processors' kernels: the branching smoother, the gate, the linked detector level,
the compressor's curve and smoother in one pass, and the folding of gain reduction into stats."""

from __future__ import annotations

import numpy as np
from numba import njit

from mixgraph.dsp.kernels.fma import fma


@njit(cache=True, nogil=True, inline="always")
def branch_step(y: float, x: float, a_att: float, a_rel: float) -> float:
    """One step of the branching smoother: attack coefficient while x rises above y, release
    otherwise (shared by smooth_branching and curve_smooth). Both candidates are computed and
    one is picked, without a branch: which one a sample takes is data (a noisy level above and
    below the smoothed value), so a branch was mispredicted about half the time."""
    att = fma(a_att, y, (1.0 - a_att) * x)
    rel = fma(a_rel, y, (1.0 - a_rel) * x)
    return att if x > y else rel


@njit(cache=True, nogil=True)
def smooth_branching(target: np.ndarray, a_att: float, a_rel: float, state: np.ndarray) -> np.ndarray:
    """Branching one-pole smoother of a gain-reduction signal (dB, >= 0).

    Giannoulis, Massberg & Reiss, "Digital Dynamic Range Compressor Design - A Tutorial
    and Analysis", JAES 60(6), 2012, eq. 17 ("smooth branching peak detector"):
    y[n] = a_A*y[n-1] + (1-a_A)*x[n] if x[n] > y[n-1] else a_R*y[n-1] + (1-a_R)*x[n].
    """
    out = np.empty_like(target)
    y = state[0]
    for i in range(target.shape[0]):
        y = branch_step(y, target[i], a_att, a_rel)
        out[i] = y
    state[0] = y
    return out


@njit(cache=True, nogil=True)
def gate_smooth(target: np.ndarray, a_att: float, a_rel: float, hold: int, state: np.ndarray) -> np.ndarray:
    """Gate gain (dB, <= 0) smoothing with hold: opening uses attack; after the level drops
    the gain is held for ``hold`` samples, then closes with the release constant.
    state = [gain_db, hold_counter]."""
    out = np.empty_like(target)
    g = state[0]
    counter = state[1]
    for i in range(target.shape[0]):
        x = target[i]
        if x >= g:
            g = a_att * g + (1.0 - a_att) * x
            counter = hold
        elif counter > 0:
            counter -= 1
        else:
            g = a_rel * g + (1.0 - a_rel) * x
        out[i] = g
    state[0] = g
    state[1] = counter
    return out


@njit(cache=True, nogil=True)
def linked_level(side: np.ndarray, rms: bool, c_rms: float, ms_state: np.ndarray, out: np.ndarray) -> None:
    """Linked detector level of ``side`` (channels, n) into ``out`` (linear, floored at 1e-12):
    the louder channel's |x| (peak), or the one-pole mean of the louder channel's x^2 (rms,
    ms_state carried). The same values as the vectorised max/abs/onepole_stream path."""
    ch, n = side.shape
    z = ms_state[0]
    b0 = 1.0 - c_rms
    if ch == 2 and not rms:
        # stereo peak (the usual case), the channel loop unrolled: the compiler vectorises it;
        # the same comparisons, in order
        for i in range(n):
            p = 0.0
            v = abs(side[0, i])
            if v > p:
                p = v
            v = abs(side[1, i])
            if v > p:
                p = v
            out[i] = max(p, 1e-12)
        return
    for i in range(n):
        p = 0.0
        if rms:
            for c in range(ch):
                v = side[c, i] * side[c, i]
                if v > p:
                    p = v
            ms = b0 * p + z
            z = c_rms * ms
            p = ms
        else:
            for c in range(ch):
                v = abs(side[c, i])
                if v > p:
                    p = v
        out[i] = max(p, 1e-12)
    ms_state[0] = z


@njit(cache=True, nogil=True)
def curve_smooth(level: np.ndarray, scale: float, threshold_db: float, ratio: float, knee_db: float,
                 a_att: float, a_rel: float, makeup_db: float, state: np.ndarray, gr: np.ndarray,
                 period: int, fold: np.ndarray, maxima: np.ndarray) -> int:
    """Soft-knee static gain reduction (dynamics.static_gain_reduction, scalar parameters) of the
    level ``scale * level[i]`` dB (level: log10 of the detector) and the branching smoother
    (smooth_branching) in one pass. gr[i] = the smoothed reduction; ``level`` is overwritten
    with (makeup_db - gr[i]) * ln(10) / 20, the argument of the exp that gives the linear gain.
    State carried.

    The reduction is folded into running stats in the same pass, exactly as fold_gain_reduction
    (fold, period, maxima and the return value are its state, period, maxima and count)."""
    slope = 1.0 - 1.0 / ratio
    knee = knee_db > 0
    w = max(knee_db, 1e-9)
    to_ln = np.log(10.0) / 20.0
    g = state[0]
    mx = fold[0]
    total = fold[1]
    acc = int(fold[2])
    cur = fold[3]
    k = 0
    for i in range(level.shape[0]):
        over = level[i] * scale - threshold_db
        t = max(over, 0.0) * slope
        if knee and 2.0 * abs(over) <= w:
            t = slope * (over + w / 2.0) ** 2 / (2.0 * w)
        g = branch_step(g, t, a_att, a_rel)
        gr[i] = g
        level[i] = (makeup_db - g) * to_ln
        # fold_gain_reduction's step, written out (an inlined helper returning the five values
        # compiled to a loop ten times slower)
        if g > mx:
            mx = g
        total += g
        if g > cur:
            cur = g
        acc += 1
        if acc == period:
            maxima[k] = cur
            k += 1
            acc = 0
            cur = 0.0
    state[0] = g
    fold[0] = mx
    fold[1] = total
    fold[2] = acc
    fold[3] = cur
    return k


@njit(cache=True, nogil=True)
def fold_gain_reduction(gr: np.ndarray, period: int, state: np.ndarray, maxima: np.ndarray) -> int:
    """Fold a block of gain reduction (dB) into running stats, state = [max, sum, samples into the
    current period, max of the current period] (the sum runs sample by sample: the same however
    the stream is cut). Each completed period of ``period`` samples writes its maximum to maxima;
    returns how many did."""
    mx = state[0]
    total = state[1]
    acc = int(state[2])
    cur = state[3]
    k = 0
    for i in range(gr.shape[0]):
        v = gr[i]
        if v > mx:
            mx = v
        total += v
        if v > cur:
            cur = v
        acc += 1
        if acc == period:
            maxima[k] = cur
            k += 1
            acc = 0
            cur = 0.0
    state[0] = mx
    state[1] = total
    state[2] = acc
    state[3] = cur
    return k

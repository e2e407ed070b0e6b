"""The dynamics processors' kernels: the branching smoother, the gate, the channels' detector
levels, the compressor's curve, smoother and stereo link in one pass, and the folding of gain
reduction into stats."""

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
def gate_smooth(level: np.ndarray, threshold_db: np.ndarray, ratio: np.ndarray, range_db: np.ndarray,
                hysteresis_db: float, a_att: np.ndarray, a_rel: np.ndarray, hold: np.ndarray,
                state: np.ndarray) -> np.ndarray:
    """Gate gain (dB, <= 0) per frame from the detector level (dB), parameters per frame.

    The gate opens when the level reaches the threshold and stays open (target 0 dB) until the
    level falls hysteresis_db below it; closed, the target is the expander law
    max((level - threshold)(ratio - 1), -range). The gain rises to its target with the attack
    constant; after the target drops, the gain is held for ``hold`` frames (counted from the last
    frame the target was at or above the gain), then falls with the release constant.
    state = [gain_db, hold_counter, open]."""
    out = np.empty_like(level)
    g = state[0]
    counter = state[1]
    is_open = state[2] > 0.0
    for i in range(level.shape[0]):
        lv = level[i]
        t = threshold_db[i]
        if lv >= t:
            is_open = True
        elif lv < t - hysteresis_db:
            is_open = False
        x = 0.0 if is_open else max((lv - t) * (ratio[i] - 1.0), -range_db[i])
        if x >= g:
            g = fma(a_att[i], g, (1.0 - a_att[i]) * x)
            counter = hold[i]
        elif counter > 0:
            counter -= 1
        else:
            g = fma(a_rel[i], g, (1.0 - a_rel[i]) * x)
        out[i] = g
    state[0] = g
    state[1] = counter
    state[2] = 1.0 if is_open else 0.0
    return out


@njit(cache=True, nogil=True)
def channel_levels(side: np.ndarray, rms: bool, c_rms: float, ms_state: np.ndarray, out: np.ndarray) -> None:
    """Each channel's detector level of ``side`` (channels, n) into ``out`` (channels, n; linear,
    floored at 1e-12): |x| (peak), or the one-pole mean of x^2 (rms, one state per channel in
    ms_state). The channels are linked later, on their gain reductions (curve_smooth)."""
    ch, n = side.shape
    b0 = 1.0 - c_rms
    for c in range(ch):
        if rms:
            z = ms_state[c]
            for i in range(n):
                ms = fma(b0, side[c, i] * side[c, i], z)
                z = c_rms * ms
                out[c, i] = max(ms, 1e-12)
            ms_state[c] = z
        else:
            for i in range(n):
                out[c, i] = max(abs(side[c, i]), 1e-12)


@njit(cache=True, nogil=True)
def smooth_linked(target: np.ndarray, a_att: np.ndarray, a_rel: np.ndarray, state: np.ndarray) -> np.ndarray:
    """smooth_branching of each channel's reduction target (channels, n), one state per channel,
    and the larger smoothed reduction of each frame (the louder channel's); the attack and release
    coefficients are per frame (automation)."""
    ch, n = target.shape
    out = np.empty(n)
    for i in range(n):
        m = 0.0
        for c in range(ch):
            y = branch_step(state[c], target[c, i], a_att[i], a_rel[i])
            state[c] = y
            if c == 0 or y > m:
                m = y
        out[i] = m
    return out


@njit(cache=True, nogil=True, inline="always")
def _curve(over: float, slope: float, knee: bool, w: float) -> float:
    t = max(over, 0.0) * slope
    if knee and 2.0 * abs(over) <= w:
        t = slope * (over + w / 2.0) ** 2 / (2.0 * w)
    return t


@njit(cache=True, nogil=True)
def curve_smooth(level: np.ndarray, scale: float, threshold_db: float, ratio: float, knee_db: float,
                 a_att: float, a_rel: float, makeup_db: float, state: np.ndarray, gr: np.ndarray,
                 gain_ln: np.ndarray, period: int, fold: np.ndarray, maxima: np.ndarray) -> int:
    """Soft-knee static gain reduction (dynamics.static_gain_reduction, scalar parameters) of each
    channel's level ``scale * level[c, i]`` dB (level: log10 of the detector, (channels, n)), the
    branching smoother (smooth_branching) per channel (state[c]), and the link: gr[i] = the larger
    smoothed reduction (the louder channel's); gain_ln[i] = (makeup_db - gr[i]) * ln(10) / 20, the
    argument of the exp that gives the linear gain. State carried.

    The reduction is folded into running stats in the same pass, exactly as fold_gain_reduction
    (fold, period, maxima and the return value are its state, period, maxima and count)."""
    ch = level.shape[0]
    slope = 1.0 - 1.0 / ratio
    knee = knee_db > 0
    w = max(knee_db, 1e-9)
    to_ln = np.log(10.0) / 20.0
    mx = fold[0]
    total = fold[1]
    acc = int(fold[2])
    cur = fold[3]
    k = 0
    g0 = state[0]
    g1 = state[1] if ch == 2 else 0.0
    for i in range(level.shape[1]):
        # the two channels' recursions side by side (independent chains: the CPU overlaps them)
        g0 = branch_step(g0, _curve(level[0, i] * scale - threshold_db, slope, knee, w), a_att, a_rel)
        g = g0
        if ch == 2:
            g1 = branch_step(g1, _curve(level[1, i] * scale - threshold_db, slope, knee, w), a_att, a_rel)
            g = max(g0, g1)
        gr[i] = g
        gain_ln[i] = (makeup_db - g) * to_ln
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
    state[0] = g0
    if ch == 2:
        state[1] = g1
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


@njit(cache=True, nogil=True)
def biquad_segments(x: np.ndarray, coefs: np.ndarray, first: int, period: int, zi: np.ndarray) -> np.ndarray:
    """One biquad over x (channels, n) whose coefficients change on a grid: rows of coefs
    [b0, b1, b2, 1, a1, a2]; frames before ``first`` use row 0, then each ``period`` frames the
    next row. Transposed direct form II as kernels.iir.sos_stream (the same operations, so
    constant rows give its samples); zi (channels, 2) carried."""
    ch, n = x.shape
    y = np.empty_like(x)
    for c in range(ch):
        z0 = zi[c, 0]
        z1 = zi[c, 1]
        row = 0
        nxt = first
        for i in range(n):
            if i == nxt:
                row += 1
                nxt += period
            v = x[c, i]
            out = fma(coefs[row, 0], v, z0)
            z0 = fma(-coefs[row, 4], out, fma(coefs[row, 1], v, z1))
            z1 = fma(-coefs[row, 5], out, coefs[row, 2] * v)
            y[c, i] = out
        zi[c, 0] = z0
        zi[c, 1] = z1
    return y


@njit(cache=True, nogil=True)
def dynamic_bell(x: np.ndarray, bp: np.ndarray, bp_zi: np.ndarray, c_ms: float, ms: np.ndarray,
                 threshold_db: np.ndarray, slope: np.ndarray, range_db: float, a_att: float, a_rel: float,
                 g_state: np.ndarray, table: np.ndarray, step_db: float, zi: np.ndarray,
                 gain_out: np.ndarray) -> np.ndarray:
    """A bell whose gain follows its own band's level, sample by sample (EQ's dynamic band).

    Detector: the band-pass row ``bp`` [b0, b1, b2, 1, a1, a2] of each channel (state bp_zi
    (channels, 2)), the one-pole mean of its square (coefficient c_ms, state ms[c]), the louder
    channel's mean square in dB. Law: g = min(max(level - threshold, 0) * slope, range_db), smoothed
    by branch_step (state g_state[0]); gain_out[i] = g (dB, >= 0, the size of the cut or boost).
    Filter: rows of ``table`` are the bell at k * step_db of the band's gain (row 0 an identity,
    b = a; at g = 0 the output is the input and the state 0);
    the bell at g is the linear blend of the two rows around it (a convex blend of stable biquads
    is stable: the stability triangle is convex), run in transposed direct form II as
    biquad_segments, the same coefficients for every channel (zi (channels, 2))."""
    ch, n = x.shape
    y = np.empty_like(x)
    last = table.shape[0] - 2
    b0 = 1.0 - c_ms
    g = g_state[0]
    ten_log = 10.0 / np.log(10.0)
    for i in range(n):
        p = 0.0
        for c in range(ch):
            v = x[c, i]
            out = fma(bp[0], v, bp_zi[c, 0])
            bp_zi[c, 0] = fma(-bp[4], out, fma(bp[1], v, bp_zi[c, 1]))
            bp_zi[c, 1] = fma(-bp[5], out, bp[2] * v)
            m = fma(b0, out * out, c_ms * ms[c])
            ms[c] = m
            if m > p:
                p = m
        level = ten_log * np.log(max(p, 1e-30))
        target = min(max(level - threshold_db[i], 0.0) * slope[i], range_db)
        g = branch_step(g, target, a_att, a_rel)
        gain_out[i] = g
        if g == 0.0:
            # 0 dB: the identity, exactly (row 0 has b = a, whose state on any input stays 0)
            for c in range(ch):
                y[c, i] = x[c, i]
                zi[c, 0] = 0.0
                zi[c, 1] = 0.0
            continue
        pos = g / step_db
        k = min(int(pos), last)
        f = pos - k
        c0 = fma(f, table[k + 1, 0] - table[k, 0], table[k, 0])
        c1 = fma(f, table[k + 1, 1] - table[k, 1], table[k, 1])
        c2 = fma(f, table[k + 1, 2] - table[k, 2], table[k, 2])
        c4 = fma(f, table[k + 1, 4] - table[k, 4], table[k, 4])
        c5 = fma(f, table[k + 1, 5] - table[k, 5], table[k, 5])
        for c in range(ch):
            v = x[c, i]
            out = fma(c0, v, zi[c, 0])
            zi[c, 0] = fma(-c4, out, fma(c1, v, zi[c, 1]))
            zi[c, 1] = fma(-c5, out, c2 * v)
            y[c, i] = out
    g_state[0] = g
    return y


@njit(cache=True, nogil=True)
def transient_gain(x: np.ndarray, a_fast: float, a_slow: float, attack_db: np.ndarray, sustain_db: np.ndarray,
                   dead_db: float, span_db: float, state: np.ndarray, gain_db: np.ndarray) -> None:
    """The transient shaper's gain (dB) per frame of x (channels, n), parameters per frame.

    The detector is the channels' mean power p = mean_c x_c^2 (stereo linked; a mono signal and
    its dual-mono copy read alike), followed by two one-pole followers f = a f + (1 - a) p, fast
    and slow (state = [fast, slow]). d = 10 log10(fast / slow) dB is positive on an attack (the
    fast one rises first) and negative in the sustain (the slow one lags the decay); scaling the
    input scales both, so d does not depend on the level. Past a dead band of dead_db (a steady
    tone's ripple), the gain reaches attack_db (d > 0) or sustain_db (d < 0) over span_db more."""
    ch, n = x.shape
    f = state[0]
    s = state[1]
    inv = 1.0 / ch
    for i in range(n):
        p = 0.0
        for c in range(ch):
            p = fma(x[c, i], x[c, i], p)
        p *= inv
        f = fma(a_fast, f, (1.0 - a_fast) * p)
        s = fma(a_slow, s, (1.0 - a_slow) * p)
        d = 10.0 * np.log10((f + 1e-30) / (s + 1e-30))
        w_att = min(max((d - dead_db) / span_db, 0.0), 1.0)
        w_sus = min(max((-d - dead_db) / span_db, 0.0), 1.0)
        gain_db[i] = attack_db[i] * w_att + sustain_db[i] * w_sus
    state[0] = f
    state[1] = s

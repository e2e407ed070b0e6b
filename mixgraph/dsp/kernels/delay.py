"""Delay lines, compiled: the feedback echo, the reverb's 8-line FDN (also with automated absorbent
filters) and its slewed pre-delay, and the chorus's modulated taps."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def slew_toward(d: float, t: float, max_slew: float) -> float:
    """The read delay d moved towards the target t by at most max_slew (d NaN, after a reset:
    start at the target), so a jump in the delay glides instead of clicking."""
    if d != d:
        return t
    if t > d + max_slew:
        return d + max_slew
    if t < d - max_slew:
        return d - max_slew
    return t

@njit(cache=True, nogil=True, inline="always")
def catmull_rom(y0: float, y1: float, y2: float, y3: float, f: float) -> float:
    """The 4-point cubic Hermite (Catmull-Rom) read at fraction f between y1 and y2 (y0 the sample
    before, y3 the one after): exact at f = 0, continuous in value and slope as f moves."""
    a1 = 0.5 * (y2 - y0)
    a2 = y0 - 2.5 * y1 + 2.0 * y2 - 0.5 * y3
    a3 = 0.5 * (y3 - y0) + 1.5 * (y1 - y2)
    return ((a3 * f + a2) * f + a1) * f + y1

@njit(cache=True, nogil=True, inline="always")
def hermite_read(buf: np.ndarray, c: int, r1: int, r0: int, f: float) -> float:
    """catmull_rom in ring buffer ``buf[c]`` at fraction f past index r1 towards older samples:
    r0 the newer neighbour (r1 + 1, or r1 itself where there is none), r1 - 1 and r1 - 2 the
    older ones, indices wrapped."""
    size = buf.shape[1]
    if r0 >= size:
        r0 -= size
    r2 = r1 - 1
    if r2 < 0:
        r2 += size
    r3 = r2 - 1
    if r3 < 0:
        r3 += size
    return catmull_rom(buf[c, r0], buf[c, r1], buf[c, r2], buf[c, r3], f)




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


@njit(cache=True, nogil=True)
def echo(x: np.ndarray, buf: np.ndarray, pos: np.ndarray, target: np.ndarray, cur: np.ndarray,
         max_slew: float, fb: np.ndarray, lp: np.ndarray, lp_state: np.ndarray, cross: bool) -> np.ndarray:
    """Feedback echo with a fractional, slew-limited delay per line (any time automation is smooth).

    x: (lines, n) line inputs; buf: (lines, size) ring buffers; pos: [write index];
    target: (lines, n) delay in samples (>= 2) per frame; cur: (lines,) the read delay now (NaN after
    reset: start at the target), moving toward the target by at most ``max_slew`` samples per
    sample, so a jump in the target glides instead of clicking; fb: (n,) feedback per frame; lp: (n,)
    the loop low-pass coefficient per frame.
    The read is a 4-point cubic Hermite (Catmull-Rom) interpolation, exact at whole delays.
    Line c writes x[c] + fb * LP(its own output), or with ``cross`` (ping-pong, two lines) the
    other line's output. Returns the lines' delayed outputs."""
    ch, n = x.shape
    size = buf.shape[1]
    out = np.empty_like(x)
    p = int(pos[0])
    rd = np.empty(ch)
    for i in range(n):
        for c in range(ch):
            t = target[c, i]
            d = slew_toward(cur[c], t, max_slew)
            cur[c] = d
            k = int(d)
            f = d - k
            # samples at delays k-1, k, k+1, k+2 behind the write index
            r1 = p - k
            if r1 < 0:
                r1 += size
            v = buf[c, r1] if f == 0.0 else hermite_read(buf, c, r1, r1 + 1, f)
            rd[c] = v
            out[c, i] = v
        for c in range(ch):
            src = ch - 1 - c if cross else c
            lp_state[c] = (1.0 - lp[i]) * rd[src] + lp[i] * lp_state[c]
            buf[c, p] = x[c, i] + fb[i] * lp_state[c]
        p += 1
        if p >= size:
            p = 0
    pos[0] = p
    return out


@njit(cache=True, nogil=True)
def chorus(x: np.ndarray, buf: np.ndarray, pos: np.ndarray, phase: np.ndarray, inc: np.ndarray,
           centre: float, depth: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Chorus voices: line c reads its ring buffer at the delay centre + depth * sin(2 pi (phase + offset)).

    x: (lines, n) inputs; buf: (lines, size) ring buffers; pos: [write index]; phase: [LFO phase in
    cycles, in [0, 1)], advanced by inc[i] (rate / fs) after sample i, so the phase is the running
    sum of the rate lane and stays continuous when the rate moves; centre and depth (n,) in samples;
    offsets: (lines, voices) phase offsets in cycles. The sample is written first, so delay 0 is the
    current input. The read is a 6-point (5th-order) Lagrange interpolation at nodes -2..3 around
    the whole delay, exact at whole delays; the delay is held within [2, size - 4] so the six
    points lie in the written history. Returns the mean of the voices per line."""
    lines, n = x.shape
    voices = offsets.shape[1]
    size = buf.shape[1]
    out = np.empty_like(x)
    p = int(pos[0])
    ph = phase[0]
    scale = 1.0 / voices
    two_pi = 2.0 * np.pi
    hi = size - 4.0
    # each voice's sine from one sine and cosine per sample: sin(a + b) = sin a cos b + cos a sin b
    cos_off = np.cos(two_pi * offsets)
    sin_off = np.sin(two_pi * offsets)
    for i in range(n):
        dep = depth[i]
        sa = np.sin(two_pi * ph)
        ca = np.cos(two_pi * ph)
        for c in range(lines):
            buf[c, p] = x[c, i]
            acc = 0.0
            for v in range(voices):
                d = centre + dep * (sa * cos_off[c, v] + ca * sin_off[c, v])
                if d < 2.0:
                    d = 2.0
                elif d > hi:
                    d = hi
                k = int(d)
                f = d - k
                base = p - k  # the sample at delay k
                if base < 0:
                    base += size
                if f == 0.0:
                    acc += buf[c, base]
                    continue
                # samples at delays k-2 .. k+3 (nodes t = -2 .. 3), in the buffer from base+2 down
                if base >= 3 and base + 2 < size:
                    s0 = buf[c, base + 2]
                    s1 = buf[c, base + 1]
                    s2 = buf[c, base]
                    s3 = buf[c, base - 1]
                    s4 = buf[c, base - 2]
                    s5 = buf[c, base - 3]
                else:
                    s0 = buf[c, (base + 2) % size]
                    s1 = buf[c, (base + 1) % size]
                    s2 = buf[c, base]
                    s3 = buf[c, (base - 1) % size]
                    s4 = buf[c, (base - 2) % size]
                    s5 = buf[c, (base - 3) % size]
                a0 = f + 2.0
                a1 = f + 1.0
                a3 = f - 1.0
                a4 = f - 2.0
                a5 = f - 3.0
                p01 = a0 * a1
                p012 = p01 * f
                p0123 = p012 * a3
                s45 = a4 * a5
                s345 = a3 * s45
                s2345 = f * s345
                # w_t = prod_{m != t} (f - m) / prod_{m != t} (t - m)
                acc += (s0 * (a1 * s2345) * (-1.0 / 120.0) + s1 * (a0 * s2345) * (1.0 / 24.0)
                        + s2 * (p01 * s345) * (-1.0 / 12.0) + s3 * (p012 * s45) * (1.0 / 12.0)
                        + s4 * (p0123 * a5) * (-1.0 / 24.0) + s5 * (p0123 * a4) * (1.0 / 120.0))
            out[c, i] = acc * scale
        p += 1
        if p >= size:
            p = 0
        ph += inc[i]
        if ph >= 1.0:
            ph -= 1.0
    pos[0] = p
    phase[0] = ph
    return out


@njit(cache=True, nogil=True)
def fdn_segments(x: np.ndarray, lines: np.ndarray, lens: np.ndarray, pos: np.ndarray, gains: np.ndarray,
                 damp: np.ndarray, lp: np.ndarray, first: int, period: int) -> np.ndarray:
    """``fdn`` with its absorbent filters changing on a control grid: row 0 of gains/damp (rows, 8)
    holds for the frames before ``first``, row k from frame first + (k - 1) * period on."""
    n = x.shape[1]
    m = gains.shape[0]
    out = np.empty((2, n))
    for row in range(m):
        start = 0 if row == 0 else min(first + (row - 1) * period, n)
        stop = n if row == m - 1 else min(first + row * period, n)
        if stop > start:
            out[:, start:stop] = fdn(x[:, start:stop], lines, lens, pos, gains[row], damp[row], lp)
    return out


@njit(cache=True, nogil=True)
def slewed_delay(x: np.ndarray, buf: np.ndarray, pos: np.ndarray, target: np.ndarray, cur: np.ndarray,
                 max_slew: float) -> np.ndarray:
    """A delay line read at a fractional delay (>= 0) that follows ``target`` (n,) in samples,
    moving by at most ``max_slew`` samples per sample (a jump glides, never clicks).

    x: (ch, n); buf: (ch, size) ring buffers, size > max delay + 3; pos: [write index]; cur:
    (ch,) the read delay now (NaN after reset: start at the target). The sample is written
    before it is read, so a delay of 0 passes the input; 4-point cubic Hermite (Catmull-Rom)
    read, exact at whole delays; the point one sample ahead of a delay below 1 is the newest."""
    ch, n = x.shape
    size = buf.shape[1]
    out = np.empty_like(x)
    p = int(pos[0])
    for i in range(n):
        t = target[i]
        for c in range(ch):
            buf[c, p] = x[c, i]
            d = slew_toward(cur[c], t, max_slew)
            cur[c] = d
            k = int(d)
            f = d - k
            r1 = p - k
            if r1 < 0:
                r1 += size
            y1 = buf[c, r1]
            if f == 0.0:
                out[c, i] = y1
                continue
            # below one sample of delay there is no newer sample: the newest stands in for it
            out[c, i] = hermite_read(buf, c, r1, r1 + 1 if k > 0 else r1, f)
        p += 1
        if p >= size:
            p = 0
    pos[0] = p
    return out

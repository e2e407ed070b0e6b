"""The saturation's curve with second-order antiderivative anti-aliasing (ADAA2) of tanh.

ADAA2 outputs the second divided difference 2 F2[u[n-2], u[n-1], u[n]] of F2, the second
antiderivative of tanh: the curve averaged over the linearly interpolated input with a
triangular kernel, which suppresses what the curve generates far above the (oversampled)
Nyquist frequency before it can fold back. It delays by one sample.

F1 = log cosh x = |x| + t - log 2 with t = log1p(exp(-2|x|)); the constant drops out of ADAA2,
so F1 = |x| + t. F2 = x|x| / 2 + sign(x) P(t) with P(t) = (pi^2/12 - B(t) - t^2 / 2) / 2,
where Li2(-exp(-2|x|)) = -B(t) - t^2 / 2 and B(t) = sum B_n t^(n+1) / (n+1)! (Bernoulli
numbers; t <= log 2, so 11 terms reach 1e-18): no polylog call. P is bounded (<= pi^2/24).

When all three points lie on one side of zero the sign part is exactly +-1 and only the
bounded remainder r = tanh - sign (antiderivatives t and P) goes through the divided
differences, so round-off stays near 1e-16 / DELTA^2 even at 48 dB of drive, where F2 itself
reaches thousands. Points closer than DELTA use the Taylor forms of the divided differences.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: below this spacing a divided difference is replaced by its Taylor form (error ~ DELTA^4)
DELTA = 1e-4
_PI2_12 = math.pi * math.pi / 12.0
# B(t) = t - t^2/4 + t^3/36 - t^5/3600 + ...: B_n / (n+1)! for n = 0, 1, 2, 4, ..., 18
_B0 = 1.0
_B1 = -0.25
_B2 = 1.0 / 36.0
_B4 = -1.0 / 3600.0
_B6 = 1.0 / 211680.0
_B8 = -1.0 / 10886400.0
_B10 = (5.0 / 66.0) / 39916800.0
_B12 = (-691.0 / 2730.0) / 6227020800.0
_B14 = (7.0 / 6.0) / 1307674368000.0
_B16 = (-3617.0 / 510.0) / 355687428096000.0
_B18 = (43867.0 / 798.0) / 121645100408832000.0


@njit(cache=True, nogil=True, inline="always")
def remainder_p(t: float) -> float:
    """P(t): the second antiderivative of tanh - sign at |x| where t = log1p(exp(-2|x|))."""
    s = t * t
    b = _B18
    b = b * s + _B16
    b = b * s + _B14
    b = b * s + _B12
    b = b * s + _B10
    b = b * s + _B8
    b = b * s + _B6
    b = b * s + _B4
    b = b * s + _B2
    b = t * (_B0 + t * (_B1 + t * b))
    return 0.5 * (_PI2_12 - b - 0.5 * s)


@njit(cache=True, nogil=True, inline="always")
def _t(a: float) -> float:
    return math.log1p(math.exp(-2.0 * a))


@njit(cache=True, nogil=True, inline="always")
def _g2(x: float, full: bool) -> float:
    """F2 (full) or the remainder's P (x >= 0)."""
    p = remainder_p(_t(abs(x)))
    if not full:
        return p
    return 0.5 * x * abs(x) + (p if x >= 0.0 else -p)


@njit(cache=True, nogil=True, inline="always")
def _g1(x: float, full: bool) -> float:
    a = abs(x)
    return a + _t(a) if full else _t(a)


@njit(cache=True, nogil=True, inline="always")
def _g(x: float, full: bool) -> float:
    if full:
        return math.tanh(x)
    e = math.exp(-2.0 * x)
    return -2.0 * e / (1.0 + e)  # tanh(x) - 1 for x >= 0, without cancellation


@njit(cache=True, nogil=True, inline="always")
def _gp(x: float) -> float:
    e = math.exp(-2.0 * abs(x))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))  # sech^2 x


@njit(cache=True, nogil=True, inline="always")
def _d1(p: float, q: float, gp_: float, gq: float, full: bool) -> float:
    d = p - q
    if abs(d) > DELTA:
        return (gp_ - gq) / d
    m = 0.5 * (p + q)
    return _g1(m, full) + d * d / 24.0 * _gp(m)


@njit(cache=True, nogil=True, inline="always")
def adaa2(a: float, b: float, c: float, ga: float, gb: float, gc: float, full: bool) -> float:
    """2 G2[a, b, c] with the values G2(a), G2(b), G2(c) given; Taylor forms for close points."""
    if abs(c - a) > DELTA:
        return 2.0 * (_d1(c, b, gc, gb, full) - _d1(b, a, gb, ga, full)) / (c - a)
    xb = 0.5 * (a + c)
    dl = xb - b
    if abs(dl) > DELTA:
        return 2.0 / dl * (_g1(xb, full) + (gb - _g2(xb, full)) / dl)
    return _g((a + b + c) / 3.0, full)


@njit(cache=True, nogil=True, inline="always")
def _curve(u2: float, u1: float, u0: float, p2: float, p1: float, p0: float) -> float:
    """ADAA2 of tanh at (u[n-2], u[n-1], u[n]) with their P values: on one side of zero, the
    sign exactly plus the remainder's ADAA2; across zero, the whole F2."""
    if u0 > 0.0 and u1 > 0.0 and u2 > 0.0:
        return 1.0 + adaa2(u2, u1, u0, p2, p1, p0, False)
    if u0 < 0.0 and u1 < 0.0 and u2 < 0.0:
        return -1.0 - adaa2(-u2, -u1, -u0, p2, p1, p0, False)
    return adaa2(u2, u1, u0, 0.5 * u2 * abs(u2) + (p2 if u2 >= 0.0 else -p2),
                 0.5 * u1 * abs(u1) + (p1 if u1 >= 0.0 else -p1),
                 0.5 * u0 * abs(u0) + (p0 if u0 >= 0.0 else -p0), True)


@njit(cache=True, nogil=True)
def adaa2_tanh(a: float, b: float, c: float) -> float:
    """One ADAA2 output for the curve inputs a = u[n-2], b = u[n-1], c = u[n] (for tests)."""
    return _curve(a, b, c, remainder_p(_t(abs(a))), remainder_p(_t(abs(b))), remainder_p(_t(abs(c))))


@njit(cache=True, nogil=True)
def tanh_adaa2(x: np.ndarray, drive: np.ndarray, pre: np.ndarray, post: float, state: np.ndarray) -> np.ndarray:
    """y = post-filter(ADAA2 tanh(drive * pre-filter(x))), (channels, n); delays by 4 samples.

    The symmetric 5-tap pre-filter (``pre`` = centre, +-1, +-2 taps) and the post-filter
    [-k, 1 + 2k, -k] (k = ``post``) undo ADAA2's linear roll-off (1 + 2 cos w) / 3; ``drive``
    has one value per frame. ``state`` (channels, 8): the last four inputs, the last two curve
    inputs u, the last two ADAA2 outputs."""
    ch, n = x.shape
    out = np.empty((ch, n))
    t0 = pre[0]
    t1 = pre[1]
    t2 = pre[2]
    for c in range(ch):
        x1 = state[c, 0]
        x2 = state[c, 1]
        x3 = state[c, 2]
        x4 = state[c, 3]
        u1 = state[c, 4]
        u2 = state[c, 5]
        y1 = state[c, 6]
        y2 = state[c, 7]
        p1 = remainder_p(_t(abs(u1)))
        p2 = remainder_p(_t(abs(u2)))
        for i in range(n):
            x0 = x[c, i]
            u0 = drive[i] * (t0 * x2 + t1 * (x1 + x3) + t2 * (x0 + x4))
            p0 = remainder_p(_t(abs(u0)))
            y0 = _curve(u2, u1, u0, p2, p1, p0)
            out[c, i] = (1.0 + 2.0 * post) * y1 - post * (y0 + y2)
            x4 = x3
            x3 = x2
            x2 = x1
            x1 = x0
            u2 = u1
            p2 = p1
            u1 = u0
            p1 = p0
            y2 = y1
            y1 = y0
        state[c, 0] = x1
        state[c, 1] = x2
        state[c, 2] = x3
        state[c, 3] = x4
        state[c, 4] = u1
        state[c, 5] = u2
        state[c, 6] = y1
        state[c, 7] = y2
    return out

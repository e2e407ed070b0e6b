"""The meter's compiled kernels: the K-weighted stereo pass and the gating blocks' window means (its
true peak is the scan it shares with the limiter, mixgraph.dsp.kernels.truepeak)."""

from __future__ import annotations

import numpy as np
from numba import njit

from mixgraph.dsp.kernels.fma import fma


@njit(cache=True, nogil=True)
def kweighted_stereo(x: np.ndarray, sos: np.ndarray, zi: np.ndarray, acc: np.ndarray, binsize: int,
                     out: np.ndarray, out_mono: np.ndarray, sums: np.ndarray) -> int:
    """One pass of the full meter over a stereo block x (2, n): the two-section K-weighting
    (``sos``, state ``zi``, as sos_stream), the K-weighted power summed over the channels and that
    of the mono fold-down ((L + R) / 2) averaged over bins of ``binsize`` frames (written to out
    and out_mono; the partial bin carries in acc = [sum, mono sum, frames]), and the block's
    sums = [largest |x|, samples at or over full scale, sum L^2, sum R^2, sum L R].
    Returns the bins written. The numbers of the meters' numpy path to rounding (sums
    taken sample by sample here). The level meters use it too (without the mono bins and L R):
    with the channels' sums apart it runs faster than a pass without them did, as the two chains
    of additions overlap.

    The filter's state update is written z0 = (b1 x + z1) - a1 y (scipy's sosfilt: b1 x - a1 y
    + z1) with the multiply-adds on y fused (``fma``), so each sample waits on one fused
    multiply-add per section instead of a multiply and two additions. The K-weighted samples then differ from sosfilt's by rounding (1e-12 or so on
    full-scale noise), far below what a loudness reading shows; the meter's numbers are checked
    against the EBU test signals and against scipy's filter with a tolerance, not bit for bit."""
    n = x.shape[1]
    b00, b01, b02, a01, a02 = sos[0, 0], sos[0, 1], sos[0, 2], sos[0, 4], sos[0, 5]
    b10, b11, b12, a11, a12 = sos[1, 0], sos[1, 1], sos[1, 2], sos[1, 4], sos[1, 5]
    l00, l01, l10, l11 = zi[0, 0, 0], zi[0, 0, 1], zi[1, 0, 0], zi[1, 0, 1]
    r00, r01, r10, r11 = zi[0, 1, 0], zi[0, 1, 1], zi[1, 1, 0], zi[1, 1, 1]
    total = acc[0]
    mono = acc[1]
    count = int(acc[2])
    bmax = 0.0
    clipped = 0.0
    ll = 0.0
    rr = 0.0
    lr = 0.0
    k = 0
    for i in range(n):
        vl = x[0, i]
        vr = x[1, i]
        al = abs(vl)
        ar = abs(vr)
        if al > bmax:
            bmax = al
        if ar > bmax:
            bmax = ar
        if al >= 1.0:
            clipped += 1.0
        if ar >= 1.0:
            clipped += 1.0
        ll += vl * vl
        rr += vr * vr
        lr += vl * vr
        ol = fma(b00, vl, l00)
        orr = fma(b00, vr, r00)
        l00 = fma(-a01, ol, fma(b01, vl, l01))
        r00 = fma(-a01, orr, fma(b01, vr, r01))
        l01 = fma(-a02, ol, b02 * vl)
        r01 = fma(-a02, orr, b02 * vr)
        pl = fma(b10, ol, l10)
        pr = fma(b10, orr, r10)
        l10 = fma(-a11, pl, fma(b11, ol, l11))
        r10 = fma(-a11, pr, fma(b11, orr, r11))
        l11 = fma(-a12, pl, b12 * ol)
        r11 = fma(-a12, pr, b12 * orr)
        total += pl * pl + pr * pr
        m = (pl + pr) * 0.5
        mono += m * m
        count += 1
        if count == binsize:
            out[k] = total / binsize
            out_mono[k] = mono / binsize
            k += 1
            total = 0.0
            mono = 0.0
            count = 0
    zi[0, 0, 0], zi[0, 0, 1], zi[1, 0, 0], zi[1, 0, 1] = l00, l01, l10, l11
    zi[0, 1, 0], zi[0, 1, 1], zi[1, 1, 0], zi[1, 1, 1] = r00, r01, r10, r11
    acc[0] = total
    acc[1] = mono
    acc[2] = count
    sums[0] = bmax
    sums[1] = clipped
    sums[2] = ll
    sums[3] = rr
    sums[4] = lr
    return k


@njit(cache=True, nogil=True)
def window_means(p: np.ndarray, first_end: int, step: int, width: int, out: np.ndarray) -> int:
    """Means of the ``width``-value windows of p that end at indices first_end, first_end + step,
    ... (< p.size), each summed in index order (so the same values however p was cut into
    blocks); written to out, returns how many. The loudness gate's 400 ms blocks from 10 ms bins."""
    k = 0
    e = first_end
    while e < p.shape[0]:
        s = 0.0
        for j in range(e - width + 1, e + 1):
            s += p[j]
        out[k] = s / width
        k += 1
        e += step
    return k

"""Per-sample recursions of the dynamics processors, compiled with numba.

Every kernel takes its state as a small array and updates it in place, so the
recursion carries across blocks exactly (block-size invariant).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic


def _host_fuses() -> bool:
    """Whether this CPU has a fused multiply-add instruction: x86 since Haswell/Piledriver (not
    every Pentium/Celeron/Atom, not Rosetta 2), and the base instruction set of 64-bit ARM, POWER,
    z and RISC-V with doubles. Elsewhere, or when it cannot be told, no."""
    import platform

    machine = platform.machine().lower()
    if machine in ("aarch64", "arm64", "ppc64le", "ppc64", "s390x", "riscv64"):
        return True
    if machine not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return False
    try:
        from llvmlite import binding

        return bool(binding.get_host_cpu_features().get("fma"))
    except Exception:
        return False


#: whether the recursions fuse their multiply-adds (``fma``): on every CPU that has the
#: instruction, so the bits are the same on all of them; a CPU without it multiplies and adds
#: (glibc's exact software fma would make a render about 16x slower there), and its last bits
#: differ from those of the others
FUSED = _host_fuses()


def _fma_python(a: float, b: float, c: float) -> float:
    """fma for NUMBA_DISABLE_JIT (debugging): exact, as the compiled one."""
    import math

    if not FUSED:
        return a * b + c
    if hasattr(math, "fma"):  # Python 3.13+
        return math.fma(a, b, c)
    from fractions import Fraction

    return float(Fraction(a) * Fraction(b) + Fraction(c))


@intrinsic
def _fma_llvm(typingctx, a, b, c):
    """a * b + c rounded once (IEEE 754 fusedMultiplyAdd, LLVM's llvm.fma): one instruction on a
    CPU with FMA. Scalars only (an array would otherwise be taken as its first element)."""
    scalars = (types.Float, types.Integer, types.Boolean)
    if not all(isinstance(t, scalars) for t in (a, b, c)):
        return None
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(d, [d, d, d]), "llvm.fma.f64")
        return builder.call(fn, args)

    return sig, codegen


@njit(cache=True, nogil=True, inline="always")
def _mul_add(a: float, b: float, c: float) -> float:
    return a * b + c


if config.DISABLE_JIT:
    fma = _fma_python
elif FUSED:
    fma = _fma_llvm
else:
    fma = _mul_add
fma.__doc__ = """a * b + c, for the recursions where each sample waits on a multiply and an add (the
smoothers, the biquads' state, the limiter's release): rounded once where the CPU has FMA
(FUSED), a shorter chain per sample. Explicit, not numba's ``fastmath`` contraction, which fuses
only where the compiled-for CPU has FMA, and then wherever the compiler likes: with it the same
render gave other bits for numba's generic target than for the host."""


@njit(cache=True, nogil=True, inline="always")
def branch_step(y: float, x: float, a_att: float, a_rel: float) -> float:
    """One step of the branching smoother: attack coefficient while x rises above y, release
    otherwise (shared by smooth_branching and curve_smooth). Both candidates are computed and
    one is picked, without a branch: which one a sample takes is data (a noisy level above and
    below the smoothed value), so a branch was mispredicted about half the time; with the fused
    multiply-add on y the 16x180 benchmark's compressor pass takes 0.023 s against 0.036 s per
    track."""
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
        damp: float, lp: np.ndarray) -> np.ndarray:
    """8-line feedback delay network with a Householder mixing matrix (I - 2/N * 11^T).

    x: (2, n) input; lines: (8, maxlen) ring buffers; per-line gain g_i = 10^(-3 * len_i / (fs*RT60))
    gives the RT60; a one-pole damping low-pass per line. Left output sums even lines,
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
            lp[k] = (1.0 - damp) * v + damp * lp[k]
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
def fir_stream(b: np.ndarray, x: np.ndarray, hist: np.ndarray) -> np.ndarray:
    """FIR filter with carried input history, summed in a fixed order (bit-exact for any block cut).

    y[c, i] = sum_j b[j] * x[c, i - j]; hist holds the last len(b) - 1 inputs of each channel.
    Plain index loops (no array slicing): the same arithmetic, and it compiles in a fraction of
    the time, which is what a first render after install waits for."""
    ch, n = x.shape
    m = b.shape[0]
    h = m - 1
    out = np.empty((ch, n))
    ext = np.empty(h + n)
    rb = np.empty(m)
    for j in range(m):
        rb[j] = b[m - 1 - j]
    for c in range(ch):
        for i in range(h):
            ext[i] = hist[c, i]
        for i in range(n):
            ext[h + i] = x[c, i]
            out[c, i] = 0.0
        # taps outermost: every output still sums its terms in the order j = 0, 1, ..., m-1,
        # and the inner loop over outputs vectorises
        for j in range(m):
            w = rb[j]
            for i in range(n):
                out[c, i] += w * ext[i + j]
        for i in range(h):
            hist[c, i] = ext[n + i]
    return out



@njit(cache=True, nogil=True)
def sos_stream(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Cascade of biquads (rows [b0, b1, b2, 1, a1, a2]) over x (channels, n), transposed direct
    form II, state zi (sections, channels, 2) updated in place: ``scipy.signal.sosfilt``'s
    recursion, with its first state written z0 = (b1 x + z1) - a1 y (sosfilt: b1 x - a1 y + z1)
    and the multiply-adds on y fused (``fma``), so a sample waits on fewer operations: the EQ of the
    16x180 benchmark (three sections, stereo) in 0.042 s against 0.050 s per track. The samples
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


@njit(cache=True, nogil=True)
def kweighted_stereo(x: np.ndarray, sos: np.ndarray, zi: np.ndarray, acc: np.ndarray, binsize: int,
                     out: np.ndarray, out_mono: np.ndarray, sums: np.ndarray) -> int:
    """One pass of the full meter over a stereo block x (2, n): the two-section K-weighting
    (``sos``, state ``zi``, as sos_stream), the K-weighted power summed over the channels and that
    of the mono fold-down ((L + R) / 2) averaged over bins of ``binsize`` frames (written to out
    and out_mono; the partial bin carries in acc = [sum, mono sum, frames]), and the block's
    sums = [largest |x|, samples at or over full scale, sum L^2, sum R^2, sum L R].
    Returns the bins written. The numbers of ``Meter.process``'s numpy path to rounding (sums
    taken sample by sample here). The node meters use it too (without the mono bins and L R):
    with the channels' sums apart it runs faster than a pass without them did (0.047 s against
    0.060 s for 180 s), as the two chains of additions overlap.

    The filter's state update is written z0 = (b1 x + z1) - a1 y (scipy's sosfilt: b1 x - a1 y
    + z1) with the multiply-adds on y fused (``fma``), so each sample waits on one fused
    multiply-add per section instead of a multiply and two additions: 0.035 s against 0.050 s per 180 s stereo
    node. The K-weighted samples then differ from sosfilt's by rounding (1e-12 or so on
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
def _pcm16(buf: np.ndarray, j: int) -> int:
    u = np.int64(buf[j]) | (np.int64(buf[j + 1]) << 8)
    return u - ((u & 0x8000) << 1)  # two's complement without a branch on the sign


@njit(cache=True, nogil=True)
def _pcm24(buf: np.ndarray, j: int) -> int:
    u = np.int64(buf[j]) | (np.int64(buf[j + 1]) << 8) | (np.int64(buf[j + 2]) << 16)
    return u - ((u & 0x800000) << 1)


@njit(cache=True, nogil=True)
def _pcm32(buf: np.ndarray, j: int) -> int:
    u = (np.int64(buf[j]) | (np.int64(buf[j + 1]) << 8) | (np.int64(buf[j + 2]) << 16)
         | (np.int64(buf[j + 3]) << 24))
    return u - ((u & 0x80000000) << 1)


def decode_pcm(buf: np.ndarray, width: int, out: np.ndarray) -> None:
    """Interleaved little-endian signed PCM of ``width`` bytes per sample (2, 3 or 4) in the bytes
    ``buf`` to out (channels, n) as code / 2^(8 width - 1): what libsndfile's float64 read gives.

    One kernel per width, one loop per channel layout (stereo; mono, or any count), the sign
    extended without a branch: the width must be a constant inside a loop for the compiler to
    keep it fast, and a sign branch mispredicts on audio (16 stereo 24-bit stems of 180 s:
    0.12 s against 0.51 s). A kernel per width: a session of 24-bit stems compiles only that one
    on its first render (0.15 s against 0.37 s for all three in one)."""
    if width == 3:
        _decode24(buf, out)
    elif width == 2:
        _decode16(buf, out)
    elif width == 4:
        _decode32(buf, out)
    else:
        raise ValueError(f"no PCM decoder for {width} bytes per sample")


# three kernels written out on purpose: one shared body taking the width and the sample reader
# as arguments gave the same samples 1.4x (24-bit) to 2.7x (16-bit) slower (the width was no
# longer a constant inside the loops)
@njit(cache=True, nogil=True)
def _decode24(buf: np.ndarray, out: np.ndarray) -> None:
    ch, n = out.shape
    stride = ch * 3
    scale = 1.0 / 8388608.0
    if ch == 2:
        for i in range(n):
            out[0, i] = _pcm24(buf, i * 6) * scale
            out[1, i] = _pcm24(buf, i * 6 + 3) * scale
    else:
        for c in range(ch):
            for i in range(n):
                out[c, i] = _pcm24(buf, i * stride + 3 * c) * scale


@njit(cache=True, nogil=True)
def _decode16(buf: np.ndarray, out: np.ndarray) -> None:
    ch, n = out.shape
    stride = ch * 2
    scale = 1.0 / 32768.0
    if ch == 2:
        for i in range(n):
            out[0, i] = _pcm16(buf, i * 4) * scale
            out[1, i] = _pcm16(buf, i * 4 + 2) * scale
    else:
        for c in range(ch):
            for i in range(n):
                out[c, i] = _pcm16(buf, i * stride + 2 * c) * scale


@njit(cache=True, nogil=True)
def _decode32(buf: np.ndarray, out: np.ndarray) -> None:
    ch, n = out.shape
    stride = ch * 4
    scale = 1.0 / 2147483648.0
    if ch == 2:
        for i in range(n):
            out[0, i] = _pcm32(buf, i * 8) * scale
            out[1, i] = _pcm32(buf, i * 8 + 4) * scale
    else:
        for c in range(ch):
            for i in range(n):
                out[c, i] = _pcm32(buf, i * stride + 4 * c) * scale


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


@njit(cache=True, nogil=True, fastmath={"nnan", "nsz"})
def _span_max(xc: np.ndarray, lo: int, hi: int) -> float:
    """max |xc[lo:hi]| (exact: a maximum does not depend on the order it is taken in). Four
    running maxima side by side: the compiler does not vectorise the one-maximum loop, which
    waits on each comparison before the next (0.36 ns a sample against 1.0)."""
    m0 = 0.0
    m1 = 0.0
    m2 = 0.0
    m3 = 0.0
    q = lo
    while q + 4 <= hi:
        m0 = max(m0, abs(xc[q]))
        m1 = max(m1, abs(xc[q + 1]))
        m2 = max(m2, abs(xc[q + 2]))
        m3 = max(m3, abs(xc[q + 3]))
        q += 4
    while q < hi:
        m0 = max(m0, abs(xc[q]))
        q += 1
    return max(max(m0, m1), max(m2, m3))


#: windows per chunk that true_peak_hot skips at once when none of its samples is above thr
_TP_CHUNK = 256


@njit(cache=True, nogil=True)
def true_peak_hot(r: np.ndarray, ext: np.ndarray, thr: float) -> float:
    """max |y| over the windows of ext (channels, m - 1 + n) that hold a sample above thr, where
    y[i, p] = sum_j ext[c, i + j] r[j, p] (r: the meter's four polyphase branches reversed,
    (m, 4): BS.1770's 4x oversampling).
    Windows with no sample above thr are skipped (the caller's bound says they cannot matter):
    first a chunk of windows at a time, by one vectorised max over the samples they read
    (most of a block, once a running peak is known), then window by window. The node meters of
    two tracks of the 16x180 benchmark: 0.048 s and 0.014 s against 0.066 s and 0.033 s."""
    m, phases = r.shape
    if phases != 4:
        raise ValueError("true_peak_hot takes four phases")
    ch, total = ext.shape
    nwin = total - m + 1
    peak = 0.0
    for c in range(ch):
        xc = ext[c]
        for lo in range(0, nwin, _TP_CHUNK):
            hi = min(lo + _TP_CHUNK, nwin)
            if _span_max(xc, lo, hi + m - 1) <= thr:  # (a NaN max goes on to the exact loop)
                continue
            hot = 0  # samples above thr in the current window xc[i : i + m]
            for j in range(lo, lo + m - 1):
                if abs(xc[j]) > thr:
                    hot += 1
            for i in range(lo, hi):
                if abs(xc[i + m - 1]) > thr:
                    hot += 1
                if hot > 0:
                    # the four phases' sums side by side, each still summed in the order
                    # j = 0 .. m-1, as four independent chains the CPU overlaps instead of one
                    # after another (0.027 s against 0.032 s a node, the same sums)
                    a0 = 0.0
                    a1 = 0.0
                    a2 = 0.0
                    a3 = 0.0
                    for j in range(m):
                        v = xc[i + j]
                        a0 += v * r[j, 0]
                        a1 += v * r[j, 1]
                        a2 += v * r[j, 2]
                        a3 += v * r[j, 3]
                    if abs(a0) > peak:
                        peak = abs(a0)
                    if abs(a1) > peak:
                        peak = abs(a1)
                    if abs(a2) > peak:
                        peak = abs(a2)
                    if abs(a3) > peak:
                        peak = abs(a3)
                if abs(xc[i]) > thr:
                    hot -= 1
    return peak


@njit(cache=True, nogil=True)
def linked_level(side: np.ndarray, rms: bool, c_rms: float, ms_state: np.ndarray, out: np.ndarray) -> None:
    """Linked detector level of ``side`` (channels, n) into ``out`` (linear, floored at 1e-12):
    the louder channel's |x| (peak), or the one-pole mean of the louder channel's x^2 (rms,
    ms_state carried). The same values as the vectorised max/abs/onepole_stream path."""
    ch, n = side.shape
    z = ms_state[0]
    b0 = 1.0 - c_rms
    if ch == 2 and not rms:
        # stereo peak (the usual case), the channel loop unrolled: the compiler vectorises it
        # (21 compressors over 180 s: 0.10 s against 0.22 s); the same comparisons, in order
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

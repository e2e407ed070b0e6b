"""Zero-latency streaming convolution with long impulse responses (layer 1: numpy/numba only).

Non-uniform partitioning in the multi-level uniform style (Garcia, "Optimal filter partition
for efficient convolution with short input/output delay", AES 2002; Wefers, "Partitioned
convolution algorithms for real-time auralization", 2015): the first ``sizes[0]`` taps run as
a direct FIR; level ``i`` then covers taps ``[sizes[i], sizes[i + 1])`` (the last level: up to
the end of the IR) with uniform partitions of ``sizes[i]`` samples, each level an
overlap-save convolution with a frequency-domain delay line (the spectra of its last input
windows, multiplied with the spectra of its IR partitions). A level whose partitions are
``B`` samples long starts at tap ``B`` or later, so the output of an input chunk is computed
when the chunk completes and is first needed one chunk later: no latency. The work per
sample grows with the number of partitions, about ``sizes[i+1]/sizes[i]`` per level plus
``length/sizes[-1]`` for the last, so with a few levels a 60 s IR costs little more than a
1 s one.

Every level computes at fixed absolute chunk boundaries with arrays of fixed shapes, and the
output adds the FIR and the levels in a fixed order, so the samples are the same bits for
any block cut.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: partition sizes (samples): the head FIR covers taps [0, SIZES[0]); level i uses partitions
#: of SIZES[i] samples for taps [SIZES[i], SIZES[i + 1]), the last level for the rest. Chosen by
#: measuring IRs of 0.5 s to 60 s: a shorter head FIR costs more in per-chunk Python than it saves
#: in taps, and a fourth, larger level saved nothing measurable at 60 s
SIZES = (256, 4096, 65536)


@njit(cache=True, nogil=True)
def head_fir(b: np.ndarray, x: np.ndarray, hist: np.ndarray) -> np.ndarray:
    """Direct FIR of ``b`` (IR channels, taps) on ``x`` (input channels, n) with carried input
    history ``hist`` (input channels, taps - 1), summed in a fixed order (bit-exact for any
    block cut). Output channel o filters input channel min(o, ci - 1) with IR channel
    min(o, hi - 1): a mono input through a stereo IR, a stereo input through a mono IR."""
    hi, m = b.shape
    ci, n = x.shape
    co = max(ci, hi)
    h = m - 1
    ext = np.empty((ci, h + n))
    for c in range(ci):
        for i in range(h):
            ext[c, i] = hist[c, i]
        for i in range(n):
            ext[c, h + i] = x[c, i]
    out = np.zeros((co, n))
    for o in range(co):
        xo = min(o, ci - 1)
        ho = min(o, hi - 1)
        # taps outermost: every output sums its terms in the order j = 0, 1, ..., m-1, and the
        # inner loop over outputs vectorises
        for j in range(m):
            w = b[ho, m - 1 - j]
            for i in range(n):
                out[o, i] += w * ext[xo, i + j]
    for c in range(ci):
        for i in range(h):
            hist[c, i] = ext[c, n + i]
    return out


@njit(cache=True, nogil=True)
def spectral_mac(xs: np.ndarray, newest: int, hs: np.ndarray, acc: np.ndarray) -> None:
    """acc[o] = sum over partitions m of xs[newest - m] * hs[m] (ring index modulo the ring
    length), in the order m = 0, 1, ...: the frequency-domain delay line of one level.
    ``xs`` (ring, ci, bins) input-window spectra, ``hs`` (partitions, hi, bins) IR spectra,
    ``acc`` (max(ci, hi), bins); channels pair as in ``head_fir``. Complex values as
    interleaved float64 (real, imaginary), which vectorises better than numba's complex."""
    ring, ci, nb2 = xs.shape
    k, hi, _ = hs.shape
    co = acc.shape[0]
    nb = nb2 // 2
    for o in range(co):
        xo = min(o, ci - 1)
        ho = min(o, hi - 1)
        for b in range(nb2):
            acc[o, b] = 0.0
        r = newest
        for m in range(k):
            for b in range(nb):
                xr = xs[r, xo, 2 * b]
                xi = xs[r, xo, 2 * b + 1]
                hr = hs[m, ho, 2 * b]
                hm = hs[m, ho, 2 * b + 1]
                acc[o, 2 * b] += xr * hr - xi * hm
                acc[o, 2 * b + 1] += xr * hm + xi * hr
            r = r - 1 if r > 0 else ring - 1


class _Level:
    """One uniform level: partitions of ``size`` samples for IR taps from ``size`` on (the
    segment given), overlap-save on windows of two partitions at absolute chunk boundaries."""

    def __init__(self, segment: np.ndarray, size: int, in_channels: int):
        hi, length = segment.shape
        self.size = b = size
        self.k = k = -(-length // b)
        self.ci = in_channels
        self.co = max(in_channels, hi)
        # one partition at a time: no zero-padded copy of the whole segment at once
        hs = np.empty((k, hi, b + 1), dtype=np.complex128)
        for m in range(k):
            hs[m] = np.fft.rfft(segment[:, m * b : (m + 1) * b], n=2 * b, axis=-1)
        self.hs = hs.view(np.float64)
        self.acc = np.empty((self.co, 2 * (b + 1)))
        self.reset()

    def reset(self) -> None:
        b = self.size
        # fresh zeros, not a fill: the pages are zeroed lazily, so a long IR's delay line costs
        # nothing up front, and a short render never touches most of it
        self.xs = np.zeros((self.k, self.ci, b + 1), dtype=np.complex128)
        self.window = np.zeros((self.ci, 2 * b))  # the previous chunk, then the one filling
        self.fill = 0  # samples of the current chunk so far
        self.newest = self.k - 1  # ring slot of the newest input spectrum
        self.pending = np.zeros((self.co, b))  # this level's output for the current chunk

    def process(self, x: np.ndarray, out: np.ndarray) -> None:
        """Add this level's output for the block ``x`` into ``out``."""
        b = self.size
        n = x.shape[1]
        window, pending = self.window, self.pending
        i = 0
        while i < n:
            fill = self.fill
            take = min(b - fill, n - i)
            window[:, b + fill : b + fill + take] = x[:, i : i + take]
            out[:, i : i + take] += pending[:, fill : fill + take]
            self.fill = fill = fill + take
            i += take
            if fill == b:  # a chunk is complete: this level's output for the next one is known
                newest = self.newest + 1 if self.newest + 1 < self.k else 0
                self.newest = newest
                np.fft.rfft(window, axis=-1, out=self.xs[newest])
                spectral_mac(self.xs.view(np.float64), newest, self.hs, self.acc)
                y = np.fft.irfft(self.acc.view(np.complex128), n=2 * b, axis=-1)
                self.pending = pending = y[:, b:]
                window[:, :b] = window[:, b:]
                self.fill = 0


class Convolver:
    """Streaming zero-latency convolution of (in_channels, n) blocks with ``ir`` (channels,
    taps): ``process`` returns (max(in_channels, ir channels), n), the output channels paired
    as in ``head_fir``. ``sizes``: see ``SIZES`` (each a larger multiple of the one before)."""

    def __init__(self, ir: np.ndarray, in_channels: int, sizes: tuple[int, ...] = SIZES):
        ir = np.atleast_2d(np.asarray(ir, dtype=np.float64))
        if ir.shape[1] == 0:
            ir = np.zeros((ir.shape[0], 1))
        if not sizes or sizes[0] < 1 or any(b <= a or b % a for a, b in zip(sizes, sizes[1:], strict=False)):
            raise ValueError(f"partition sizes must be positive, each a larger multiple of the one before: {sizes}")
        length = ir.shape[1]
        self.in_channels = in_channels
        self.out_channels = max(in_channels, ir.shape[0])
        self.head = np.ascontiguousarray(ir[:, : sizes[0]])
        self.levels = []
        for i, size in enumerate(sizes):
            end = sizes[i + 1] if i + 1 < len(sizes) else length
            if size >= length:
                break
            self.levels.append(_Level(ir[:, size : min(end, length)], size, in_channels))
        self.reset()

    def reset(self) -> None:
        self.hist = np.zeros((self.in_channels, self.head.shape[1] - 1))
        for lv in self.levels:
            lv.reset()

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = head_fir(self.head, x, self.hist)
        for lv in self.levels:
            lv.process(x, out)
        return out

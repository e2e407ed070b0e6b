"""Streaming loudness meter: ITU-R BS.1770-4, EBU Tech 3341 (M, S) and Tech 3342 (LRA).

Blocks in, results out; memory stays flat (per-100 ms gating powers and 10 Hz
short-term values are kept: 36 000 floats an hour each).

* K-weighting: the two BS.1770-4 pre-filter stages (high shelf + RLB high-pass),
  designed for any rate from their analog prototypes by the bilinear transform
  (f0 1681.97 Hz, G +4.0 dB, Q 0.7072; f0 38.14 Hz, Q 0.5003); at 48 kHz these
  reproduce the coefficients tabulated in BS.1770-4 to 1e-8.
* Energies are kept per 10 ms bin; momentary = mean of the last 40 bins (400 ms),
  short-term = the last 300 bins (3 s), both evaluated every 10 ms for the maxima.
* Integrated: 400 ms gating blocks every 100 ms, absolute gate -70 LUFS, relative
  gate -10 LU (BS.1770-4 section 2.8).
* LRA (Tech 3342): short-term values at 10 Hz, absolute gate -70 LUFS, relative gate
  -20 LU, LRA = 95th - 10th percentile (linear interpolation between ranks).
* True peak (BS.1770-4 Annex 2, >= 4x): the interpolator the limiter uses too
  (mixgraph.dsp.truepeak: an 8x grid flat to 0.95 x Nyquist, refined between its points, whose
  phase 0 passes the original samples); a block or window whose samples cannot lift the running
  true peak (their peak times the interpolator's L1 gain bound) is not interpolated.
* Channels (BS.1770-4 eq. 2): mono and stereo at weight 1.0 take the meter's own paths (mono is
  one channel, with no dual-mono +3 dB). Three or more channels, or a layout whose weights are not
  all 1.0 (see :mod:`mixgraph.meter.layout`), take the weighted path: the sum of G_c times each
  channel's K-weighted power (surrounds 1.41, LFE 0 and not filtered); peaks over every channel,
  each channel's kept too.
* Two meters share these parts by composition: :class:`LoudnessMeter` (the programme: a premaster,
  a master, a file) and :class:`LevelMeter` (a track or bus row of the report). ``compiled=True``
  is the render's choice (numba kernels); the ``mixgraph meter`` command's default loads numpy,
  soundfile and scipy's compiled sosfilt loop only.
* The K-weighting runs scipy's compiled sosfilt loop without importing scipy.signal (which
  costs ~0.65 s and ~75 MB): ``mixgraph meter`` loads numpy and soundfile, ~35 MB in all.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from mixgraph.dsp import truepeak
from mixgraph.meter.layout import MAX_CHANNELS, ChannelLayout, conventional
from mixgraph.meter.result import MeterResult, MultichannelResult

ABS_GATE = -70.0
REL_GATE_I = -10.0
REL_GATE_LRA = -20.0
BANDS = (("sub", 0.0, 60.0), ("low", 60.0, 250.0), ("low_mid", 250.0, 2000.0),
         ("high_mid", 2000.0, 6000.0), ("high", 6000.0, 1e9))


def k_weighting_sos(fs: float) -> np.ndarray:
    """The two K-weighting stages as second-order sections for sample rate fs."""
    # stage 1: high shelf (head acoustics)
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / fs)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh ** 0.4996667741545416
    a0 = 1.0 + k / q + k * k
    s1 = [(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
          1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    # stage 2: RLB high-pass
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / fs)
    a0 = 1.0 + k / q + k * k
    s2 = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([s1, s2])


def _default_sosfilt():
    """``f(sos, x, zi) -> (y, zi)`` = ``scipy.signal.sosfilt(sos, x, axis=-1, zi=zi)`` for 2-D x.

    Importing ``scipy.signal`` costs ~0.65 s and ~75 MB (it pulls in scipy.stats and more), which
    is most of what ``mixgraph meter`` needs in all. So unless scipy.signal is loaded already, the
    compiled loop that ``sosfilt`` itself calls (``scipy.signal._sosfilt``) is loaded on its own from
    its file: the same code, so the same samples (tested). If that private module is not where
    this scipy keeps it, the public ``sosfilt`` is used."""
    global _SOSFILT
    if _SOSFILT is None:
        loop = None
        if "scipy.signal" not in sys.modules:
            try:
                import importlib.machinery
                import importlib.util

                import scipy

                d = Path(scipy.__file__).parent / "signal"
                for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                    f = d / f"_sosfilt{suffix}"
                    if f.is_file():
                        spec = importlib.util.spec_from_file_location("scipy.signal._sosfilt", f)
                        mod = importlib.util.module_from_spec(spec)
                        spec.loader.exec_module(mod)
                        loop = mod._sosfilt
                        break
            except Exception:  # pragma: no cover - another scipy layout: the public function
                loop = None
        if loop is not None:
            def filt(sos, x, zi):
                y = np.array(x, dtype=np.float64, order="C")  # filtered in place
                z = np.ascontiguousarray(np.asarray(zi, dtype=np.float64).transpose(1, 0, 2))
                loop(np.asarray(sos, dtype=np.float64), y, z)
                return y, z.transpose(1, 0, 2)

            if not _private_loop_works(filt):
                loop = None
        if loop is None:
            from scipy.signal import sosfilt

            def filt(sos, x, zi):
                return sosfilt(sos, x, axis=-1, zi=zi)
        _SOSFILT = filt
    return _SOSFILT


_SOSFILT = None


def _private_loop_works(filt) -> bool:
    """A private module may change between scipy releases: check the loop once on cases with a
    known answer (a one-pole y[n] = x[n] + 0.5 y[n-1] and a 3-tap FIR, across a block cut so the
    carried state is checked too) before trusting it."""
    try:
        sos = np.array([[1.0, 0.0, 0.0, 1.0, -0.5, 0.0], [0.2, 0.3, 0.4, 1.0, 0.0, 0.0]])
        x = np.zeros((2, 8))
        x[:, 0] = 1.0
        zi = np.zeros((2, 2, 2))
        y1, zi = filt(sos, x[:, :3], zi)
        y2, _ = filt(sos, x[:, 3:], zi)
        pole = 0.5 ** np.arange(8)
        want = 0.2 * pole + 0.3 * np.concatenate(([0.0], pole[:-1])) + 0.4 * np.concatenate(([0.0, 0.0], pole[:-2]))
        return bool(np.allclose(np.concatenate((y1, y2), axis=1), np.vstack((want, want)), rtol=0, atol=1e-15))
    except Exception:
        return False


def _lufs(power: float) -> float | None:
    return -0.691 + 10.0 * math.log10(power) if power > 0 else None


class TruePeak:
    """The running true peak of a stream (the interpolator of mixgraph.dsp.truepeak, shared with
    the limiter). A block whose samples, with the history before it, cannot lift the running peak
    (their largest |x| times GAIN_BOUND is below it) is not interpolated, and within a block only
    the windows that can are. ``compiled``: the numba scan (the render's; numba is loaded there
    anyway), else the numpy one (``mixgraph meter`` loads no numba): the same peak to rounding."""

    def __init__(self, channels: int, compiled: bool = False):
        self.value = 0.0
        self.hist = np.zeros((channels, truepeak.SUPPORT - 1))
        self._scan = None
        if compiled:
            from mixgraph.dsp.kernels.truepeak import scan

            self._scan = scan

    def process(self, x: np.ndarray, block_max: float) -> None:
        """Fold block x (C-contiguous when compiled; its largest |sample| is block_max) in."""
        k = self.hist.shape[1]
        n = x.shape[1]
        if max(block_max, float(np.abs(self.hist).max())) * truepeak.GAIN_BOUND > self.value:
            thr = self.value / truepeak.GAIN_BOUND
            if self._scan is not None:  # the kernel moves the history on itself
                peak = self._scan(truepeak.B1, truepeak.B2, self.hist, x, thr, np.empty(k + n),
                                  np.empty(n + truepeak.PRE), _NO_WINDOWS)
                self.value = max(self.value, peak)
                return
            ext = np.concatenate((self.hist, x), axis=1)
            self.value = max(self.value, truepeak.scan_numpy(ext, thr))
            self.hist = ext[:, -k:].copy()
        elif n >= k:  # this block cannot raise the true peak; only the history moves on
            self.hist = x[:, -k:].copy()
        else:
            self.hist = np.concatenate((self.hist, x), axis=1)[:, -k:].copy()


_NO_WINDOWS = np.zeros(0)  # the scan's per-window peaks, not kept by a meter


class _Front:
    """What both meters read from each block: the K-weighting, the 10 ms bins of K-weighted power
    summed over the channels (and, with ``mono``, of the mono fold-down (L + R) / 2, counted twice
    as if played on both speakers), the sample peak, clipped samples and energy sums.

    ``compiled``: a stereo block goes through one numba pass (``kernels.kweighted_stereo``) and a
    mono one through the compiled biquad cascade; otherwise scipy's sosfilt loop and numpy (see
    :func:`_default_sosfilt`). The numbers agree to rounding (about 1e-12 on full-scale noise)."""

    def __init__(self, sample_rate: int, channels: int, compiled: bool, mono: bool,
                 weights: tuple[float, ...] | None = None):
        self.ch = channels
        # the weighted path: BS.1770-4 channel weights (surround 1.41, LFE 0), no mono fold-down;
        # only the channels with a weight are K-weighted
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self.mono = mono and self.weights is None
        self.sos = k_weighting_sos(sample_rate)
        self.bin = sample_rate // 100  # 10 ms
        self._stereo = None
        if self.weights is not None:
            self.active = np.flatnonzero(self.weights > 0)
            self.w_active = self.weights[self.active]
            self.all_active = self.active.size == channels
            self.zi = np.zeros((2, self.active.size, 2))
            self.ch_peak = np.zeros(channels)
        else:
            self.zi = np.zeros((2, channels, 2))
        if compiled:
            from mixgraph.dsp.kernels.iir import sosfilt_zi
            from mixgraph.meter.kernels import kweighted_stereo

            self._filt = sosfilt_zi
            if channels == 2 and self.weights is None:
                self._stereo = kweighted_stereo
        else:
            self._filt = _default_sosfilt()
        self._acc = np.zeros(3)  # the stereo kernel's partial bin: sum, mono sum, frames
        self._sums = np.zeros(5)
        self.left = np.zeros((channels + 1 if self.mono else 1, 0))  # leftover K-weighted squares
        self.peak = 0.0
        self.sumsq = 0.0
        self.frames = 0
        self.clipped = 0
        self.ll = 0.0
        self.rr = 0.0
        self.lr = 0.0

    def process(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray | None]:
        """-> (largest |x|, the bins completed, their mono fold-down bins or None)."""
        n = x.shape[1]
        self.frames += n
        if self._stereo is not None:
            out = np.empty(n // self.bin + 1)
            out_mono = np.empty(n // self.bin + 1)
            k = self._stereo(x, self.sos, self.zi, self._acc, self.bin, out, out_mono, self._sums)
            block_max, clipped, ll, rr, lr = (float(v) for v in self._sums)
            self.peak = max(self.peak, block_max)
            self.clipped += int(clipped)
            self.sumsq += (ll + rr) / 2.0
            if self.mono:
                self.ll += ll
                self.rr += rr
                self.lr += lr
            return block_max, out[:k], (2.0 * out_mono[:k]) if self.mono else None
        block_max = max(float(x.max()), -float(x.min()))  # max |x| without an |x| temporary
        self.peak = max(self.peak, block_max)
        if block_max >= 1.0:
            self.clipped += int(np.count_nonzero(np.abs(x) >= 1.0))
        energy = np.einsum("ij,ij->i", x, x)  # per-channel sum of squares, no x*x temporary
        self.sumsq += float(energy.sum()) / self.ch
        if self.weights is not None:
            return block_max, self._weighted(x), None
        y, self.zi = self._filt(self.sos, x, self.zi)
        if not self.mono:
            sq = (y * y).sum(axis=0, keepdims=True)
            sq = np.concatenate((self.left, sq), axis=1) if self.left.shape[1] else sq
            full = sq.shape[1] // self.bin
            bins = sq[0, : full * self.bin].reshape(full, self.bin).sum(axis=1) / self.bin
            self.left = sq[:, full * self.bin :]
            return block_max, bins, None
        if self.ch == 2:
            self.ll += float(energy[0])
            self.rr += float(energy[1])
            self.lr += float(np.einsum("i,i->", x[0], x[1]))
        # squares of the K-weighted channels and of the K-weighted mono fold-down (L+R)/2, after
        # the leftover of the last block. The K-weighting is linear, so K((L+R)/2) = (K(L)+K(R))/2
        # (to rounding): one filter pass fewer.
        lead = self.left.shape[1]
        sq = np.empty((self.ch + 1, lead + n))
        sq[:, :lead] = self.left
        np.multiply(y, y, out=sq[: self.ch, lead:])
        if self.ch == 2:
            ym = y[0] + y[1]
            ym *= 0.5
            np.multiply(ym, ym, out=sq[2, lead:])
        else:
            sq[1, lead:] = sq[0, lead:]
        full = sq.shape[1] // self.bin
        sums = sq[:, : full * self.bin].reshape(sq.shape[0], full, self.bin).sum(axis=2) / self.bin
        self.left = sq[:, full * self.bin :].copy()
        return block_max, sums[: self.ch].sum(axis=0), 2.0 * sums[self.ch]

    def _weighted(self, x: np.ndarray) -> np.ndarray:
        """The completed 10 ms bins of sum_c G_c K(x_c)^2 (BS.1770-4 eq. 2 before the mean)."""
        np.maximum(self.ch_peak, np.maximum(x.max(axis=1), -x.min(axis=1)), out=self.ch_peak)
        if self.active.size:
            y, self.zi = self._filt(self.sos, x if self.all_active else x[self.active], self.zi)
            y *= y
            # the weighted sum over the channels, channel by channel in file order: the same bits
            # however the stream is cut into blocks (a BLAS product may sum in another order)
            sq = y[0] * self.w_active[0]
            for c in range(1, y.shape[0]):
                y[c] *= self.w_active[c]
                sq += y[c]
        else:  # only LFE channels: nothing counts towards the loudness
            sq = np.zeros(x.shape[1])
        sq = np.concatenate((self.left[0], sq)) if self.left.shape[1] else sq
        full = sq.size // self.bin
        bins = sq[: full * self.bin].reshape(full, self.bin).sum(axis=1) / self.bin
        self.left = sq[None, full * self.bin :].copy()
        return bins

    def rms(self) -> float:
        return math.sqrt(self.sumsq / self.frames) if self.frames else 0.0


class _GateBlocks:
    """BS.1770's 400 ms gating blocks every 100 ms from the 10 ms bins (all a level meter keeps),
    in one compiled pass per block (``kernels.window_means``) or numpy strided windows."""

    def __init__(self, compiled: bool):
        self.hist = np.zeros(0)  # the last 39 bins
        self.nbins = 0
        self.blocks: list[float] = []
        self._means = None
        if compiled:
            from mixgraph.meter.kernels import window_means

            self._means = window_means

    def add(self, p: np.ndarray) -> None:
        allp = np.concatenate((self.hist, p)) if self.hist.size else p
        c0 = self.nbins - self.hist.size  # absolute index of allp[0]
        if self._means is not None:
            first = max(self.nbins, c0 + 39)  # a new bin that ends a full 40-bin window ...
            first += (9 - first % 10) % 10  # ... and every 10th bin from there
            out = np.empty(allp.size // 10 + 1)
            k = self._means(allp, first - c0, 10, 40, out)
            if k:
                self.blocks.extend(out[:k].tolist())
        else:
            ends = np.arange(c0 + 39, c0 + allp.size)  # absolute end bin of each full 40-bin window
            sel = (ends >= self.nbins) & ((ends + 1) % 10 == 0)
            if sel.any():
                win = np.lib.stride_tricks.sliding_window_view(allp, 40)
                self.blocks.extend((win[sel].sum(axis=-1) / 40).tolist())
        self.nbins += p.size
        self.hist = allp[-39:]


def _db(v: float) -> float:
    return 20.0 * math.log10(v) if v > 0 else -200.0


def _integrated(blocks: list[float]) -> float | None:
    b = np.asarray(blocks)
    if b.size == 0:
        return None
    lk = -0.691 + 10.0 * np.log10(np.maximum(b, 1e-30))
    b1 = b[lk > ABS_GATE]
    if b1.size == 0:
        return None
    rel = -0.691 + 10.0 * math.log10(b1.mean()) + REL_GATE_I
    b2 = b[lk > rel]
    b2 = b2[-0.691 + 10.0 * np.log10(np.maximum(b2, 1e-30)) > ABS_GATE]
    return _lufs(float(b2.mean())) if b2.size else None


def _check_channels(channels: int, most: int = 2) -> None:
    if not 1 <= channels <= most:
        raise ValueError("the meter takes mono or stereo" if most == 2 else
                         f"the meter takes 1 to {most} channels, not {channels}")


class LevelMeter:
    """A track or bus row of the report: integrated loudness, sample and true peak, RMS/crest,
    clipped samples (the other fields of its result are None or empty).

    ``compiled``: the render's numba kernels (see :class:`_Front`, :class:`TruePeak`); the numbers
    are the numpy path's to rounding. ``true_peak=False``: loudness passes that need no peak (the
    loudness solver's); the sample peak then stands in for the true peak (a lower bound)."""

    def __init__(self, sample_rate: int, channels: int, compiled: bool = False, true_peak: bool = True):
        _check_channels(channels)
        self.sr = int(sample_rate)
        self.ch = channels
        self.compiled = compiled
        self.front = _Front(self.sr, channels, compiled, mono=False)
        self.true_peak = TruePeak(channels, compiled) if true_peak else None
        self.gate = _GateBlocks(compiled)

    def process(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        if x.shape[1] == 0:
            return
        if self.compiled:
            x = np.ascontiguousarray(x)
        block_max, bins, _ = self.front.process(x)
        if self.true_peak is not None:
            self.true_peak.process(x, block_max)
        if bins.size:
            self.gate.add(bins)

    def result(self) -> MeterResult:
        f = self.front
        integrated = _integrated(self.gate.blocks)
        rms = f.rms()
        tp = _db(self.true_peak.value if self.true_peak is not None else f.peak)
        return MeterResult(
            sample_rate=self.sr, channels=self.ch, duration_s=f.frames / self.sr,
            integrated_lufs=integrated, momentary_max_lufs=None, short_term_max_lufs=None, lra_lu=None,
            true_peak_dbtp=tp, sample_peak_dbfs=_db(f.peak), rms_dbfs=_db(rms),
            crest_db=_db(f.peak) - _db(rms) if rms > 0 else 0.0,
            plr_db=(tp - integrated) if integrated is not None else None,
            correlation=None, mono_loudness_diff_lu=None, clipped_samples=f.clipped)


class LoudnessMeter:
    """The programme meter: integrated loudness, momentary and short-term maxima, LRA, the
    short-term series, spectral balance, stereo correlation, mono fold-down loudness, true peak,
    and the level meter's peaks and RMS. ``compiled``: as :class:`LevelMeter`."""

    def __init__(self, sample_rate: int, channels: int, series_step_s: float = 1.0, compiled: bool = False,
                 layout: ChannelLayout | None = None):
        _check_channels(channels, MAX_CHANNELS)
        if layout is None and channels > 2:
            layout = conventional(channels)
        if layout is not None and len(layout.weights) != channels:
            raise ValueError(f"a layout of {len(layout.weights)} channels for {channels}")
        self.sr = int(sample_rate)
        self.ch = channels
        self.compiled = compiled
        #: the layout of a weighted reading (3 or more channels, or weights other than 1.0); None:
        #: the mono and stereo paths, bit for bit what they were before layouts existed
        self.layout = None if layout is None or layout.plain else layout
        self.front = _Front(self.sr, channels, compiled, mono=True,
                            weights=self.layout.weights if self.layout is not None else None)
        self.true_peak = TruePeak(channels, compiled)
        # a weighted reading reports each channel's true peak: one running peak per channel
        self.ch_true_peak = [TruePeak(1, compiled) for _ in range(channels)] if self.layout is not None else None
        self.hist = np.zeros(0)  # the last 299 10 ms powers
        self.hist_m = np.zeros(0)
        self.nbins = 0
        self.gate_blocks: list[float] = []
        self.gate_blocks_mono: list[float] = []
        self.st_values: list[float] = []
        self.m_max = -math.inf
        self.s_max = -math.inf
        self.series: list[float | None] = []
        self.series_every = max(1, int(round(series_step_s * 100)))
        self.series_step_s = series_step_s
        self.nfft = 4096
        self.spec_left = np.zeros((channels, 0))
        self.spec = np.zeros(self.nfft // 2 + 1)
        self.window = np.hanning(self.nfft)

    def process(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        if x.shape[1] == 0:
            return
        if self.compiled:
            x = np.ascontiguousarray(x)
        block_max, bins, mono = self.front.process(x)
        if self.ch_true_peak is None:
            self.true_peak.process(x, block_max)
        else:
            # each channel's own block maximum lets a quiet channel (the LFE, a rear) skip more
            peaks = np.maximum(x.max(axis=1), -x.min(axis=1))
            for c, tp in enumerate(self.ch_true_peak):
                tp.process(x[c : c + 1], float(peaks[c]))
        if bins.size:
            self._bins(bins, mono)
        self._spectrum(x)


    def _bins(self, p: np.ndarray, pm: np.ndarray) -> None:
        """Account for k new 10 ms bins (vectorised): M/S maxima, gating blocks, LRA values."""
        c0 = self.nbins - self.hist.size  # absolute index of the first kept bin
        allp = np.concatenate((self.hist, p))
        allm = np.concatenate((self.hist_m, pm)) if pm is not None else None
        ends = np.arange(c0, c0 + allp.size)  # absolute bin index of each position
        new = ends >= self.nbins

        def windows(a: np.ndarray, w: int):
            if a.size < w:
                return np.zeros(0), np.zeros(0, dtype=np.int64)
            # one reduction per window over a strided view: the same order however blocks are cut
            sums = np.lib.stride_tricks.sliding_window_view(a, w).sum(axis=-1) / w
            e = ends[w - 1 :]
            keep = e >= self.nbins
            return sums[keep], e[keep]

        m, em = windows(allp, 40)
        if m.size:
            pos = m[m > 0]
            if pos.size:
                self.m_max = max(self.m_max, -0.691 + 10.0 * math.log10(float(pos.max())))
            gate = (em + 1) % 10 == 0
            self.gate_blocks.extend(m[gate].tolist())
            if allm is not None:
                mm, _ = windows(allm, 40)
                self.gate_blocks_mono.extend(mm[gate].tolist())
        st, es = windows(allp, 300)
        if st.size:
            pos = st[st > 0]
            if pos.size:
                self.s_max = max(self.s_max, -0.691 + 10.0 * math.log10(float(pos.max())))
            self.st_values.extend(st[(es + 1) % 10 == 0].tolist())
        for e in ends[new][(ends[new] + 1) % self.series_every == 0]:
            if e >= 299:
                v = float(st[es == e][0])
                self.series.append(_lufs(v))
            else:
                self.series.append(None)
        self.nbins += p.size
        self.hist = allp[-299:]
        if allm is not None:
            self.hist_m = allm[-299:]

    def _spectrum(self, x: np.ndarray) -> None:
        buf = np.concatenate((self.spec_left, x), axis=1) if self.spec_left.shape[1] else x
        k = buf.shape[1] // self.nfft
        if k:
            # frames in C order whatever the block's layout (a transposed view stays transposed
            # through a plain multiply, and so would the spectra)
            frames = np.empty((self.ch, k, self.nfft))
            np.multiply(buf[:, : k * self.nfft].reshape(self.ch, k, self.nfft), self.window, out=frames)
            # |X|^2 summed over the frames: the spectra's real and imaginary parts squared in place
            # and summed column by column (no square roots taken and squared again)
            parts = np.fft.rfft(frames, axis=-1).view(np.float64).reshape(self.ch * k, -1)
            parts *= parts
            sums = parts.sum(axis=0)
            self.spec += sums[0::2] + sums[1::2]
        self.spec_left = buf[:, k * self.nfft :]

    def _lra(self) -> float | None:
        s = np.asarray(self.st_values)
        if s.size == 0:
            return None
        ls = -0.691 + 10.0 * np.log10(np.maximum(s, 1e-30))
        s1 = s[ls > ABS_GATE]
        if s1.size == 0:
            return None
        rel = -0.691 + 10.0 * math.log10(s1.mean()) + REL_GATE_LRA
        l2 = ls[(ls > ABS_GATE) & (ls > rel)]
        if l2.size == 0:
            return None
        return float(np.percentile(l2, 95) - np.percentile(l2, 10))

    def result(self) -> MeterResult:
        f = self.front
        integrated = _integrated(self.gate_blocks)
        mono_i = _integrated(self.gate_blocks_mono)
        rms = f.rms()
        corr = None
        if self.ch == 2 and f.ll > 0 and f.rr > 0:
            corr = f.lr / math.sqrt(f.ll * f.rr)
        ch_tp = [t.value for t in self.ch_true_peak] if self.ch_true_peak is not None else None
        tp = _db(self.true_peak.value if ch_tp is None else max(ch_tp))
        bands = {}
        total = float(self.spec.sum())
        if total > 0:
            freqs = np.fft.rfftfreq(self.nfft, 1.0 / self.sr)
            for name, lo, hi in BANDS:
                p = float(self.spec[(freqs >= lo) & (freqs < hi)].sum())
                bands[name] = round(10.0 * math.log10(p / total), 3) if p > 0 else -200.0
        if self.layout is not None:
            lay = self.layout
            extra = {"layout": lay.name, "layout_source": lay.source, "layout_note": lay.note,
                     "channel_labels": lay.labels, "channel_weights": lay.weights,
                     "channel_true_peak_dbtp": tuple(_db(v) for v in ch_tp),
                     "channel_sample_peak_dbfs": tuple(_db(float(v)) for v in f.ch_peak)}
            cls, mono_diff = MultichannelResult, None  # no fold-down is defined for a layout
        else:
            extra = {}
            cls = MeterResult
            mono_diff = (mono_i - integrated) if (integrated is not None and mono_i is not None) else (
                None if integrated is None else -200.0)
        return cls(
            sample_rate=self.sr, channels=self.ch, duration_s=f.frames / self.sr,
            integrated_lufs=integrated,
            momentary_max_lufs=self.m_max if self.nbins >= 40 and math.isfinite(self.m_max) else None,
            short_term_max_lufs=self.s_max if self.nbins >= 300 and math.isfinite(self.s_max) else None,
            lra_lu=self._lra() if self.nbins >= 300 else None,
            true_peak_dbtp=tp, sample_peak_dbfs=_db(f.peak), rms_dbfs=_db(rms),
            crest_db=_db(f.peak) - _db(rms) if rms > 0 else 0.0,
            plr_db=(tp - integrated) if integrated is not None else None,
            correlation=corr, mono_loudness_diff_lu=mono_diff,
            clipped_samples=f.clipped, spectral_balance_db=bands,
            short_term_series=tuple(self.series), series_step_s=self.series_step_s, **extra)


def measure_array(x: np.ndarray, sample_rate: int, block: int = 65536,
                  layout: ChannelLayout | None = None) -> MeterResult:
    """Meter an array (channels, n); 3 or more channels take ``layout`` (default: the
    conventional one for the count)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    m = LoudnessMeter(sample_rate, x.shape[0], layout=layout)
    for i in range(0, x.shape[1], block):
        m.process(x[:, i : i + block])
    return m.result()

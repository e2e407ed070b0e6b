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
* True peak (BS.1770-4 Annex 2): 4x oversampling with a linear-phase interpolator
  whose phase 0 passes the original samples; max |x| over phases and channels. The three
  interpolating branches are a banded matrix product over rows of 16 outputs (numpy/BLAS, no
  numba), and a block or row whose samples cannot lift the running true peak (their peak times
  the interpolator's largest L1 gain) is not interpolated.
* The K-weighting runs scipy's compiled sosfilt loop without importing scipy.signal (which
  costs ~0.65 s and ~75 MB): ``mixgraph meter`` loads numpy and soundfile, ~35 MB in all.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from mixgraph.dsp.oversample import Upsampler
from mixgraph.meter.result import MeterResult

ABS_GATE = -70.0
TP_ROWS = 128  # rows per true-peak matrix product: small enough for BLAS to keep it on one thread
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


class Meter:
    def __init__(self, sample_rate: int, channels: int, series_step_s: float = 1.0, true_peak: bool = True,
                 light: bool = False, sos_filter=None, true_peak_kernel=None, stereo_kernel=None):
        """``light``: only what a track or bus row of the report shows (integrated loudness, sample
        and true peak, RMS/crest, clipped samples); no M/S maxima, LRA, series, spectrum,
        correlation or mono fold-down (those come out as None / empty).

        ``sos_filter(sos, x, zi) -> (y, zi)``: the biquad cascade for the K-weighting; by default
        scipy's compiled ``sosfilt`` loop (see :func:`_default_sosfilt`; the render passes its own
        compiled kernel, whose samples match sosfilt's to rounding, about 1e-12 on full-scale
        noise).

        ``true_peak_kernel``: ``kernels.true_peak_hot`` (numba), which the render passes: the true
        peak from one compiled pass per block instead of the numpy chunk maxima and matrix
        products (the same windows and taps, so the same peak to rounding).

        ``stereo_kernel``: ``kernels.kweighted_stereo`` (numba), which the render passes: a full
        stereo meter's K-weighting, bin powers (channels and mono fold-down), peak, clips and
        energy sums in one compiled pass per block instead of a dozen numpy passes (the same
        numbers to rounding)."""
        self._sosfilt = sos_filter if sos_filter is not None else _default_sosfilt()
        self._tp_kernel = true_peak_kernel
        self._stereo_kernel = stereo_kernel if channels == 2 and not light else None
        self._acc = np.zeros(3)  # stereo_kernel's partial bin: sum, mono sum, frames
        self._sums = np.zeros(5)
        if channels not in (1, 2):
            raise ValueError("the meter takes mono or stereo")
        self.sr = int(sample_rate)
        self.ch = channels
        self.sos = k_weighting_sos(self.sr)
        self.zi = np.zeros((2, channels, 2))
        self.bin = self.sr // 100  # 10 ms
        self.left = np.zeros((channels + 1, 0))  # leftover K-weighted squares (+ mono fold-down)
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
        self.true_peak = true_peak
        self.light = light
        up = Upsampler(4, channels, cutoff=1.0)
        taps = max(b.b.size for b in up.branches)  # branch 0 has one tap more; pad the others with 0
        self.tp_h = np.ascontiguousarray(np.stack([np.pad(b.b, (0, taps - b.b.size)) for b in up.branches]))
        self.tp_hist = np.zeros((channels, self.tp_h.shape[1] - 1))
        # y[i, p] = sum_k h[p, k] x[i - k]: windows of the input times the reversed branches
        self.tp_r = np.ascontiguousarray(self.tp_h[:, ::-1].T)
        # no interpolated value can exceed (max |input| in its window) * (largest branch L1 norm)
        self.tp_gain_bound = float(np.abs(self.tp_h).sum(axis=1).max())
        # phases 1..3 of k = taps-1 consecutive outputs from their 2k inputs: column (p-1)k + b
        # holds branch p reversed at rows b..b+k (see _true_peak)
        k = self.tp_h.shape[1] - 1
        centre = int(np.argmax(np.abs(self.tp_h[0])))
        self.tp_phase0 = k - centre  # where phase 0 reads its sample
        self.tp_gain0 = abs(float(self.tp_h[0, centre]))
        self.tp_T = np.zeros((2 * k, 3 * k))
        for p in range(1, 4):
            for b in range(k):
                self.tp_T[b : b + k + 1, (p - 1) * k + b] = self.tp_h[p, ::-1]
        self.tp = 0.0
        self.peak = 0.0
        self.sumsq = 0.0
        self.frames = 0
        self.clipped = 0
        self.lr = 0.0
        self.ll = 0.0
        self.rr = 0.0
        self.nfft = 4096
        self.spec_left = np.zeros((channels, 0))
        self.spec = np.zeros(self.nfft // 2 + 1)
        self.window = np.hanning(self.nfft)

    def process(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[1]
        if n == 0:
            return
        self.frames += n
        if self._stereo_kernel is not None:
            self._process_stereo(np.ascontiguousarray(x))
            return
        block_max = max(float(x.max()), -float(x.min()))  # max |x| without an |x| temporary
        self.peak = max(self.peak, block_max)
        if block_max >= 1.0:
            self.clipped += int(np.count_nonzero(np.abs(x) >= 1.0))
        energy = np.einsum("ij,ij->i", x, x)  # per-channel sum of squares, no x*x temporary
        self.sumsq += float(energy.sum()) / self.ch
        self._update_true_peak(x, block_max)
        y, self.zi = self._sosfilt(self.sos, x, self.zi)
        if self.light:
            sq = (y * y).sum(axis=0, keepdims=True)
            sq = np.concatenate((self.left, sq), axis=1) if self.left.shape[1] else sq
            full = sq.shape[1] // self.bin
            if full:
                self._gate_bins(sq[0, : full * self.bin].reshape(full, self.bin).sum(axis=1) / self.bin)
            self.left = sq[:, full * self.bin :]
            return
        if self.ch == 2:
            self.ll += float(energy[0])
            self.rr += float(energy[1])
            self.lr += float(np.einsum("i,i->", x[0], x[1]))
        # squares of the K-weighted channels and of the K-weighted mono fold-down (L+R)/2, after
        # the leftover of the last block. The K-weighting is linear, so K((L+R)/2) = (K(L)+K(R))/2
        # (to rounding): one filter pass fewer. The fold-down is measured as if played on both
        # speakers (its bin power counts twice).
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
        if full:
            sums = sq[:, : full * self.bin].reshape(sq.shape[0], full, self.bin).sum(axis=2) / self.bin
            self._bins(sums[: self.ch].sum(axis=0), 2.0 * sums[self.ch])
        self.left = sq[:, full * self.bin :].copy()
        self._spectrum(x)

    def _process_stereo(self, x: np.ndarray) -> None:
        # the numpy path's numbers from one compiled pass (bins: the channels' K-weighted power
        # summed, and the mono fold-down's, counted twice as below)
        n = x.shape[1]
        out = np.empty(n // self.bin + 1)
        out_mono = np.empty(n // self.bin + 1)
        k = self._stereo_kernel(x, self.sos, self.zi, self._acc, self.bin, out, out_mono, self._sums)
        block_max, clipped, ll, rr, lr = (float(v) for v in self._sums)
        self.peak = max(self.peak, block_max)
        self.clipped += int(clipped)
        self.sumsq += (ll + rr) / 2.0
        self.ll += ll
        self.rr += rr
        self.lr += lr
        self._update_true_peak(x, block_max)
        if k:
            self._bins(out[:k], 2.0 * out_mono[:k])
        self._spectrum(x)

    def _update_true_peak(self, x: np.ndarray, block_max: float) -> None:
        """Fold block x (its largest |sample| is block_max) into the running true peak."""
        if not self.true_peak:  # not asked for: the sample peak stands in (a lower bound)
            self.tp = self.peak
            return
        if self._tp_kernel is not None:
            self._update_true_peak_compiled(x, block_max)
            return
        block_peak = max(block_max, float(np.abs(self.tp_hist).max()))
        k = self.tp_hist.shape[1]
        if block_peak * self.tp_gain_bound > self.tp:
            ext = np.concatenate((self.tp_hist, x), axis=1)
            self.tp = max(self.tp, self._true_peak(ext))
            self.tp_hist = ext[:, -k:].copy()
        elif x.shape[1] >= k:  # this block cannot raise the true peak; only the history moves on
            self.tp_hist = x[:, -k:].copy()
        else:
            self.tp_hist = np.concatenate((self.tp_hist, x), axis=1)[:, -k:].copy()

    def _update_true_peak_compiled(self, x: np.ndarray, block_max: float) -> None:
        # the rule above (interpolate only when the block can beat the running peak, and there
        # only the windows that can) in the compiled kernel, without joining history and block
        # into one copy: the windows that reach into the history come from a short joined head,
        # all others from x itself. The same windows and sums as one pass over the joined block.
        k = self.tp_hist.shape[1]
        n = x.shape[1]
        if max(block_max, float(np.abs(self.tp_hist).max())) * self.tp_gain_bound > self.tp:
            thr = self.tp / self.tp_gain_bound
            head = np.concatenate((self.tp_hist, x[:, :k]), axis=1)
            peak = self._tp_kernel(self.tp_r, head, thr)
            if n > k:
                peak = max(peak, self._tp_kernel(self.tp_r, x, thr))
            self.tp = max(self.tp, peak)
        else:
            head = None
        if n >= k:
            self.tp_hist = x[:, -k:].copy()
        else:
            joined = head if head is not None else np.concatenate((self.tp_hist, x), axis=1)
            self.tp_hist = joined[:, -k:].copy()

    def _true_peak(self, ext: np.ndarray) -> float:
        """max |y| of the 4x interpolation of ext[:, k:] given the k = taps-1 samples of history before it.

        Phase 0 passes the samples, delayed by d and scaled by its centre tap g (1 + 1e-5 from the
        design's DC normalisation; its other taps add up to 2e-16), so its maximum is
        g * max |x| over ext[:, k-d : k-d+n].
        Phases 1-3 for k consecutive outputs of a channel depend on 2k consecutive inputs: the
        outputs come in rows of k, one matrix product of the rows' 2k-sample windows with a
        (2k, 3k) banded matrix of the branches (a few large BLAS products instead of many small
        windows). A row whose 2k inputs all lie at or below tp / L1 (the largest branch L1 norm)
        cannot beat the running peak and is not interpolated: the same result as interpolating
        everything."""
        k = self.tp_hist.shape[1]
        ch, n = ext.shape[0], ext.shape[1] - k
        body = ext[:, self.tp_phase0 : self.tp_phase0 + n]
        peak = max(float(body.max()), -float(body.min())) * self.tp_gain0
        thr = self.tp / self.tp_gain_bound
        rows = n // k
        if rows:
            c = ext[:, : (rows + 1) * k].reshape(ch, rows + 1, k)
            cmax = np.maximum(c.max(axis=2), -c.min(axis=2))  # max |x| of each k-sample chunk
            hot = np.maximum(cmax[:, :-1], cmax[:, 1:]) > thr  # row r reads chunks r and r+1
            windows = np.lib.stride_tricks.sliding_window_view(ext, 2 * k, axis=1)[:, ::k][:, :rows]
            sel = windows[hot]  # (hot rows, 2k), a contiguous copy
            if sel.shape[0]:
                y = np.empty((sel.shape[0], self.tp_T.shape[1]))
                for s in range(0, sel.shape[0], TP_ROWS):
                    np.matmul(sel[s : s + TP_ROWS], self.tp_T, out=y[s : s + TP_ROWS])
                peak = max(peak, float(y.max()), -float(y.min()))
        if rows * k < n:  # the last n mod k outputs, window by window
            w = np.lib.stride_tricks.sliding_window_view(ext[:, rows * k :], k + 1, axis=1)
            y = w @ self.tp_r[:, 1:]
            peak = max(peak, float(y.max()), -float(y.min()))
        return peak

    def _gate_bins(self, p: np.ndarray) -> None:
        """Light mode: only the 400 ms gating blocks that end on every 10th bin."""
        allp = np.concatenate((self.hist, p))
        c0 = self.nbins - self.hist.size
        ends = np.arange(c0 + 39, c0 + allp.size)  # absolute end bin of each full 40-bin window
        sel = (ends >= self.nbins) & ((ends + 1) % 10 == 0)
        if sel.any():
            win = np.lib.stride_tricks.sliding_window_view(allp, 40)
            self.gate_blocks.extend((win[sel].sum(axis=-1) / 40).tolist())
        self.nbins += p.size
        self.hist = allp[-39:]

    def _bins(self, p: np.ndarray, pm: np.ndarray) -> None:
        """Account for k new 10 ms bins (vectorised): M/S maxima, gating blocks, LRA values."""
        c0 = self.nbins - self.hist.size  # absolute index of the first kept bin
        allp = np.concatenate((self.hist, p))
        allm = np.concatenate((self.hist_m, pm))
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

    @staticmethod
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
        def db(v: float) -> float:
            return 20.0 * math.log10(v) if v > 0 else -200.0

        integrated = self._integrated(self.gate_blocks)
        mono_i = None if self.light else self._integrated(self.gate_blocks_mono)
        rms = math.sqrt(self.sumsq / self.frames) if self.frames else 0.0
        corr = None
        if self.ch == 2 and self.ll > 0 and self.rr > 0:
            corr = self.lr / math.sqrt(self.ll * self.rr)
        tp = db(self.tp)
        bands = {}
        total = float(self.spec.sum())
        if total > 0:
            freqs = np.fft.rfftfreq(self.nfft, 1.0 / self.sr)
            for name, lo, hi in BANDS:
                p = float(self.spec[(freqs >= lo) & (freqs < hi)].sum())
                bands[name] = round(10.0 * math.log10(p / total), 3) if p > 0 else -200.0
        return MeterResult(
            sample_rate=self.sr, channels=self.ch, duration_s=self.frames / self.sr,
            integrated_lufs=integrated,
            momentary_max_lufs=self.m_max if self.nbins >= 40 and math.isfinite(self.m_max) else None,
            short_term_max_lufs=self.s_max if self.nbins >= 300 and math.isfinite(self.s_max) else None,
            lra_lu=self._lra() if self.nbins >= 300 and not self.light else None,
            true_peak_dbtp=tp, sample_peak_dbfs=db(self.peak), rms_dbfs=db(rms),
            crest_db=db(self.peak) - db(rms) if rms > 0 else 0.0,
            plr_db=(tp - integrated) if integrated is not None else None,
            correlation=corr,
            mono_loudness_diff_lu=(mono_i - integrated) if (integrated is not None and mono_i is not None) else (
                None if integrated is None or self.light else -200.0),
            clipped_samples=self.clipped, spectral_balance_db=bands,
            short_term_series=tuple(self.series), series_step_s=self.series_step_s)


def measure_array(x: np.ndarray, sample_rate: int, block: int = 65536) -> MeterResult:
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    m = Meter(sample_rate, x.shape[0])
    for i in range(0, x.shape[1], block):
        m.process(x[:, i : i + block])
    return m.result()

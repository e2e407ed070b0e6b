"""The meter of every track, bus and return during a render: what a row of the report shows
(integrated loudness, sample and true peak, RMS/crest, clipped samples), with the K-weighting,
the 10 ms power bins, the peak, clip and energy sums fused in one compiled pass per block
(``kernels.kweighted_stereo``, the full stereo meter's pass; its mono fold-down and correlation
sums are not used here). The gating blocks (``kernels.window_means``) and the true peak
(``kernels.true_peak_hot``: the meter's bound and taps) are compiled too; the numbers are those of
``Meter(light=True)`` to rounding (the sums run sequentially here, not pairwise or in BLAS)."""

from __future__ import annotations

import numpy as np

from mixgraph.dsp.kernels.iir import sosfilt_zi
from mixgraph.meter.kernels import kweighted_stereo, true_peak_hot, window_means
from mixgraph.meter.meter import Meter


class NodeMeter(Meter):
    """A stereo node's meter (a node's output is always stereo)."""

    def __init__(self, sample_rate: int, channels: int = 2):
        if channels != 2:
            raise ValueError("a node meter takes stereo")
        super().__init__(sample_rate, channels, light=True, sos_filter=sosfilt_zi, true_peak_kernel=true_peak_hot)

    def process(self, x: np.ndarray) -> None:
        n = x.shape[1]
        if n == 0:
            return
        x = np.ascontiguousarray(x, dtype=np.float64)
        self.frames += n
        bins = np.empty(n // self.bin + 1)
        mono = np.empty(n // self.bin + 1)
        k = kweighted_stereo(x, self.sos, self.zi, self._acc, self.bin, bins, mono, self._sums)
        block_max, clipped, ll, rr, _ = (float(v) for v in self._sums)
        self.peak = max(self.peak, block_max)
        self.clipped += int(clipped)
        self.sumsq += (ll + rr) / 2.0
        self._update_true_peak(x, block_max)
        if k:
            self._gate_bins(bins[:k])

    def _gate_bins(self, p: np.ndarray) -> None:
        # the 400 ms gating blocks that end on every 10th bin (as Meter's light mode), summed in one
        # compiled pass: no strided views or masks built per block while holding the GIL
        allp = np.concatenate((self.hist, p)) if self.hist.size else p
        c0 = self.nbins - self.hist.size  # absolute index of allp[0]
        first = max(self.nbins, c0 + 39)  # a new bin that ends a full 40-bin window ...
        first += (9 - first % 10) % 10  # ... and every 10th bin from there
        out = np.empty(allp.size // 10 + 1)
        k = window_means(allp, first - c0, 10, 40, out)
        if k:
            self.gate_blocks.extend(out[:k].tolist())
        self.nbins += p.size
        self.hist = allp[-39:]

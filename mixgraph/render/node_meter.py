"""The meter of every track, bus and return during a render: what a row of the report shows
(integrated loudness, sample and true peak, RMS/crest, clipped samples), with the K-weighting,
the 10 ms power bins, the peak, clip and energy sums fused in one compiled pass per block
(``kernels.kweighted_bins``). The gating blocks (``kernels.window_means``) and the true peak
(``kernels.true_peak_hot``: the meter's bound and taps) are compiled too; the numbers are those of
``Meter(light=True)`` to rounding (the sums run sequentially here, not pairwise or in BLAS)."""

from __future__ import annotations

import numpy as np

from mixgraph.dsp.kernels import kweighted_bins, sosfilt_zi, true_peak_hot, window_means
from mixgraph.meter.meter import Meter


class NodeMeter(Meter):
    def __init__(self, sample_rate: int, channels: int):
        super().__init__(sample_rate, channels, light=True, sos_filter=sosfilt_zi, true_peak_kernel=true_peak_hot)
        self.acc = np.zeros(2)
        self.stats = np.zeros(4)

    def process(self, x: np.ndarray) -> None:
        n = x.shape[1]
        if n == 0:
            return
        x = np.ascontiguousarray(x, dtype=np.float64)
        self.frames += n
        bins = np.empty(n // self.bin + 1)
        k = kweighted_bins(x, self.sos, self.zi, self.acc, self.bin, bins, self.stats)
        self.peak = float(self.stats[0])
        self.clipped = int(self.stats[1])
        self.sumsq = float(self.stats[2]) / self.ch
        self._update_true_peak(x, float(self.stats[3]))
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

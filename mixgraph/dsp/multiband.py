"""Multiband compressor: Linkwitz-Riley 4th-order crossovers, a compressor per band.

An LR4 low-pass/high-pass pair is two cascaded 2nd-order Butterworth sections
each (Q = 1/sqrt(2)); LP + HP is an all-pass, so the bands sum to a flat
magnitude. In the crossover tree each lower band goes through the all-pass
(LP + HP) of every higher crossover so all bands share the same phase.
"""

from __future__ import annotations

import numpy as np

from mixgraph.dsp.base import GRStats, Processor
from mixgraph.dsp.biquad import BUTTERWORTH_Q, highpass, lowpass
from mixgraph.dsp.dynamics import Compressor
from mixgraph.dsp.kernels.iir import sosfilt_zi as sosfilt


class _Filter:
    def __init__(self, sos: np.ndarray, channels: int):
        self.sos = sos
        self.channels = channels
        self.reset()

    def reset(self):
        self.zi = np.zeros((self.sos.shape[0], self.channels, 2))

    def __call__(self, x):
        y, self.zi = sosfilt(self.sos, x, self.zi)
        return y


def lr4(kind: str, f: float, fs: float) -> np.ndarray:
    fn = lowpass if kind == "low" else highpass
    s = fn(f, BUTTERWORTH_Q, fs)
    return np.stack([s, s])


class Multiband(Processor):
    kind = "multiband"

    def __init__(self, crossovers_hz: list[float], bands: list[dict]):
        super().__init__()
        self.crossovers_hz = [float(f) for f in crossovers_hz]
        self.bands = [dict(b) for b in bands]
        if len(self.bands) != len(self.crossovers_hz) + 1:
            raise ValueError("multiband needs len(crossovers_hz) + 1 bands")

    def _prepare(self) -> None:
        fs, ch = self.sample_rate, self.channels
        xs = self.crossovers_hz
        self.lows = [_Filter(lr4("low", f, fs), ch) for f in xs]
        self.highs = [_Filter(lr4("high", f, fs), ch) for f in xs]
        # all-pass pairs: band k (< last) passes the all-pass of every crossover j > k
        self.aps = [[(_Filter(lr4("low", xs[j], fs), ch), _Filter(lr4("high", xs[j], fs), ch))
                     for j in range(k + 1, len(xs))] for k in range(len(xs))]
        self.comps = []
        for b in self.bands:
            c = Compressor(**b)
            c.prepare(fs, ch, self.max_block)
            self.comps.append(c)
        self._gr = np.zeros(0)
        self._bands_of: GRStats | None = None

    def _band_stats(self) -> None:
        # the caller's stats get one entry per band, folded by each band's compressor, so the
        # report can say which band does the work (the processor's own figure is their maximum)
        stats = self.gr_stats
        if stats is None or stats is self._bands_of:
            return
        stats.bands = [GRStats(self.sample_rate) for _ in self.comps]
        for c, b in zip(self.comps, stats.bands, strict=True):
            c.gr_stats = b
        self._bands_of = stats

    def _reset(self) -> None:
        for f in self.lows + self.highs:
            f.reset()
        for pairs in self.aps:
            for lo, hi in pairs:
                lo.reset()
                hi.reset()
        for c in self.comps:
            c.reset()

    def _process(self, x, key, params):
        self._band_stats()
        rest = x
        out = np.zeros_like(x)
        grs = []
        for k in range(len(self.crossovers_hz)):
            band = self.lows[k](rest)
            rest = self.highs[k](rest)
            for lo, hi in self.aps[k]:
                band = lo(band) + hi(band)
            out += self.comps[k].process(band)
            grs.append(self.comps[k].gain_reduction_db())
        out += self.comps[-1].process(rest)
        grs.append(self.comps[-1].gain_reduction_db())
        self._gr = np.max(np.vstack(grs), axis=0)
        return out

    def gain_reduction_db(self):
        return self._gr

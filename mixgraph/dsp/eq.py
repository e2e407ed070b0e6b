"""Parametric EQ: RBJ cookbook biquads in series, a compiled biquad cascade with carried state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mixgraph.dsp.base import CONTROL_PERIOD, Processor
from mixgraph.dsp.biquad import band_sos
from mixgraph.dsp.kernels.iir import sosfilt_zi as sosfilt


class EQ(Processor):
    kind = "eq"

    def __init__(self, bands: Sequence[Mapping] = ()):
        super().__init__()
        self.bands = [dict(b) for b in bands]
        self.automatable = tuple(
            f"bands.{i}.{p}" for i, b in enumerate(self.bands) for p in ("freq_hz", "gain_db", "q") if p in b
        )

    def _design(self, bands: list[dict]) -> np.ndarray:
        if not bands:
            return np.array([[1.0, 0, 0, 1.0, 0, 0]])
        return np.concatenate([band_sos(b, self.sample_rate) for b in bands], axis=0)

    def _prepare(self) -> None:
        self.sos = self._design(self.bands)
        self._reset()

    def _reset(self) -> None:
        self.zi = np.zeros((self.sos.shape[0], self.channels, 2))
        self.pos = 0

    def _process(self, x: np.ndarray, key, params: Mapping[str, np.ndarray]) -> np.ndarray:
        n = x.shape[1]
        auto = {k: v for k, v in params.items() if k.startswith("bands.")}
        if not auto:
            y, self.zi = sosfilt(self.sos, x, self.zi)
            self.pos += n
            return y
        y = np.empty_like(x)
        i = 0
        while i < n:
            # sub-blocks end on the absolute control grid, so any block cut gives the same output
            step = CONTROL_PERIOD - (self.pos % CONTROL_PERIOD)
            j = min(n, i + step)
            if self.pos % CONTROL_PERIOD == 0 or i == 0:
                bands = [dict(b) for b in self.bands]
                for name, values in auto.items():
                    _, idx, field = name.split(".")
                    bands[int(idx)][field] = float(values[i])
                self.sos = self._design(bands)
            y[:, i:j], self.zi = sosfilt(self.sos, x[:, i:j], self.zi)
            self.pos += j - i
            i = j
        return y

"""Parametric EQ: biquad bands in series (stereo, or the mid or side only), a compiled cascade with carried state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mixgraph.dsp import midside
from mixgraph.dsp.base import CONTROL_PERIOD, Processor
from mixgraph.dsp.biquad import band_sos
from mixgraph.dsp.kernels.iir import sosfilt_zi as sosfilt


class EQ(Processor):
    kind = "eq"

    def __init__(self, bands: Sequence[Mapping] = (), mode: str = "stereo"):
        super().__init__()
        if mode not in ("stereo", "mid", "side"):
            raise ValueError(f"eq: unknown mode {mode!r}")
        self.mode = mode
        self.bands = [dict(b) for b in bands]
        self.automatable = tuple(
            f"bands.{i}.{p}" for i, b in enumerate(self.bands) for p in ("freq_hz", "gain_db", "q") if p in b
        )

    def _design(self, bands: list[dict]) -> np.ndarray:
        if not bands:
            return np.array([[1.0, 0, 0, 1.0, 0, 0]])
        return np.concatenate([band_sos(b, self.sample_rate) for b in bands], axis=0)

    def _prepare(self) -> None:
        if self.mode != "stereo" and self.channels != 2:
            raise ValueError(f"eq: mode {self.mode!r} needs a stereo signal, got {self.channels} channel(s)")
        self.sos = self._design(self.bands)
        self._reset()

    def _reset(self) -> None:
        self.zi = np.zeros((self.sos.shape[0], 1 if self.mode != "stereo" else self.channels, 2))
        self.pos = 0

    def _process(self, x: np.ndarray, key, params: Mapping[str, np.ndarray]) -> np.ndarray:
        if self.mode == "stereo":
            return self._filter(x, params)
        # mid or side only: the other half of the M/S pair passes untouched
        ms = midside.encode(x)
        k = 0 if self.mode == "mid" else 1
        ms[k : k + 1] = self._filter(ms[k : k + 1], params)
        return midside.decode(ms)

    def _filter(self, x: np.ndarray, params: Mapping[str, np.ndarray]) -> np.ndarray:
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
            # redesigned on grid points only (a block starting mid-period keeps the period's
            # design), so the coefficients do not depend on where blocks start
            if self.pos % CONTROL_PERIOD == 0:
                bands = [dict(b) for b in self.bands]
                for name, values in auto.items():
                    _, idx, field = name.split(".")
                    bands[int(idx)][field] = float(values[i])
                self.sos = self._design(bands)
            y[:, i:j], self.zi = sosfilt(self.sos, x[:, i:j], self.zi)
            self.pos += j - i
            i = j
        return y

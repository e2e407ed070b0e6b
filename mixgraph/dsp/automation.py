"""Automation lanes: breakpoints [[time_s, value], ...] -> one value per sample.

Linear between breakpoints, held before the first and after the last: a
continuous ramp, so there are no steps and no zipper noise.
"""

from __future__ import annotations

import numpy as np


class Lane:
    def __init__(self, breakpoints, sample_rate: float):
        pts = np.asarray(breakpoints, dtype=np.float64).reshape(-1, 2)
        self.times = pts[:, 0] * float(sample_rate)  # in samples
        self.values = pts[:, 1].copy()

    def values_at(self, start_sample: int, frames: int) -> np.ndarray:
        pos = np.arange(start_sample, start_sample + frames, dtype=np.float64)
        return np.interp(pos, self.times, self.values)

    def constant(self) -> float | None:
        """The value when the lane never changes, else None."""
        return float(self.values[0]) if np.all(self.values == self.values[0]) else None

"""Gain, pan, polarity and width.

Pan law (stated once, used everywhere):

* mono in -> stereo out: constant power, ``theta = (pan + 1) * pi / 4``,
  ``L = cos(theta)``, ``R = sin(theta)``: -3.01 dB per side at centre, 0 dB
  on the hard side.
* stereo in -> balance: unity at centre; the far side is attenuated by
  ``cos(|pan| * pi / 2)``, the near side untouched.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mixgraph.dsp.base import Processor
from mixgraph.units import db_to_gain, db_to_gain_array


def pan_gains(pan: np.ndarray | float, in_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """(left gain, right gain) for a pan value or per-sample array."""
    p = np.asarray(pan, dtype=np.float64)
    if in_channels == 1:
        theta = (p + 1.0) * (np.pi / 4.0)
        return np.cos(theta), np.sin(theta)
    gl = np.where(p > 0, np.cos(p * (np.pi / 2.0)), 1.0)
    gr = np.where(p < 0, np.cos(p * (np.pi / 2.0)), 1.0)
    return gl, gr


def apply_pan(x: np.ndarray, pan: np.ndarray | float) -> np.ndarray:
    gl, gr = pan_gains(pan, x.shape[0])
    if x.shape[0] == 1:
        return np.vstack((x[0] * gl, x[0] * gr))
    return np.vstack((x[0] * gl, x[1] * gr))


class Gain(Processor):
    kind = "gain"
    automatable = ("gain_db",)

    def __init__(self, gain_db: float = 0.0):
        super().__init__()
        self.gain_db = float(gain_db)
        self.gain = db_to_gain(self.gain_db)

    def _process(self, x, key, params: Mapping[str, np.ndarray]):
        if "gain_db" in params:
            return x * db_to_gain_array(params["gain_db"])
        return x * self.gain


class Pan(Processor):
    kind = "pan"
    automatable = ("pan",)

    def __init__(self, pan: float = 0.0):
        super().__init__()
        self.pan = float(pan)

    def output_channels(self, input_channels: int) -> int:
        return 2

    def _process(self, x, key, params):
        return apply_pan(x, params.get("pan", self.pan))


class Polarity(Processor):
    kind = "polarity"

    def __init__(self, channels: str = "both"):
        super().__init__()
        self.which = channels

    def _prepare(self) -> None:
        sign = np.ones((self.channels, 1))
        if self.which == "both" or self.channels == 1:
            sign[:] = -1.0
        elif self.which == "left":
            sign[0] = -1.0
        else:
            sign[1] = -1.0
        self.sign = sign

    def _process(self, x, key, params):
        return x * self.sign


def apply_width(x: np.ndarray, width: np.ndarray | float) -> np.ndarray:
    """Mid/side: M = (L+R)/2, S = (L-R)/2 * width; L = M+S, R = M-S."""
    mid = 0.5 * (x[0] + x[1])
    side = 0.5 * (x[0] - x[1]) * width
    return np.vstack((mid + side, mid - side))


class Width(Processor):
    kind = "width"
    automatable = ("width",)
    accepts_channels = (2,)

    def __init__(self, width: float = 1.0):
        super().__init__()
        self.width = float(width)

    def _process(self, x, key, params):
        return apply_width(x, params.get("width", self.width))

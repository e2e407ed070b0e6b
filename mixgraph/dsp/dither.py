"""Dither and quantisation to integer PCM, applied once and last per output.

TPDF: the sum of two independent uniform variables of +-1/2 LSB each (triangular
over +-1 LSB), added before rounding: the error becomes signal-independent noise
of power 3 * LSB^2 / 12 (Lipshitz, Wannamaker & Vanderkooy, "Quantization and
Dither: A Theoretical Survey", JAES 1992). ``tpdf-shaped`` adds first-order error
feedback (the previous quantisation error is subtracted: noise transfer 1 - z^-1),
moving the noise towards high frequencies. The noise is seeded, never from the clock.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _shaped(v: np.ndarray, noise: np.ndarray, err: np.ndarray) -> np.ndarray:
    out = np.empty_like(v)
    ch, n = v.shape
    for c in range(ch):
        e = err[c]
        for i in range(n):
            w = v[c, i] - e
            q = np.floor(w + noise[c, i] + 0.5)
            e = q - w
            out[c, i] = q
        err[c] = e
    return out


class Quantizer:
    """float (-1..1) -> integer codes of ``bit_depth`` bits (as float64), with optional dither."""

    def __init__(self, bit_depth: int, kind: str = "tpdf", seed: int = 0, channels: int = 2):
        self.bits = int(bit_depth)
        self.kind = kind
        self.scale = float(2 ** (self.bits - 1))
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.err = np.zeros(channels)

    def process(self, x: np.ndarray) -> np.ndarray:
        v = x * self.scale
        if self.kind == "none":
            return np.floor(v + 0.5)
        # frame by frame (frames, channels, 2) so the noise does not depend on how blocks are cut
        u = self.rng.random((v.shape[1], v.shape[0], 2))
        noise = (u[..., 0] - u[..., 1]).T  # triangular, +-1 LSB
        if self.kind == "tpdf":
            return np.floor(v + noise + 0.5)
        if self.kind == "tpdf-shaped":
            return _shaped(np.ascontiguousarray(v), noise, self.err)
        raise ValueError(f"unknown dither {self.kind!r}")

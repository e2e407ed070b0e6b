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


@njit(cache=True, nogil=True, inline="always")
def _encode(x: np.ndarray, scale: float, u: np.ndarray, mode: int, bits: int, shift: int,
            data: np.ndarray, meter: np.ndarray) -> int:
    """Quantise a block x (channels, n) to ``bits``-bit codes and write them interleaved to data
    (n, channels), shifted left by ``shift`` (libsndfile keeps the top 24 bits of an int32),
    clipped to the code range; codes / 2^(bits-1) to meter (channels, n) when it has n columns.
    mode 0: no dither, floor(x scale + 0.5); 1: TPDF, floor(x scale + (u0 - u1) + 0.5) with u
    (n, channels, 2); 2: x holds codes already (shaped dither). The same operations in the same
    order as Quantizer.process and the writer's numpy steps, so the same codes; one pass instead
    of seven. Returns the samples that were beyond full scale, or -(i + 1) for the first frame i
    holding a NaN (nothing after it is written: a NaN has no code, and rounding it would write
    an arbitrary one)."""
    ch, n = x.shape
    top = float(2 ** (bits - 1))
    hi = top - 1.0
    inv = 1.0 / top
    metered = meter.shape[1] == n
    overs = 0
    for i in range(n):
        for c in range(ch):
            if mode == 0:
                q = np.floor(x[c, i] * scale + 0.5)
            elif mode == 1:
                q = np.floor(x[c, i] * scale + (u[i, c, 0] - u[i, c, 1]) + 0.5)
            else:
                q = x[c, i]
            if q != q:
                return -(i + 1)
            if q > hi:
                q = hi
                overs += 1
            elif q < -top:
                q = -top
                overs += 1
            if metered:
                meter[c, i] = q * inv
            data[i, c] = int(q) << shift
    return overs


# one kernel per container, each with one signature: numba keeps a function's compiled
# signatures in one index file that it rewrites without a lock, so two processes compiling two
# signatures of one function at once (a render and its first-render helper) could leave an
# index that points at the other's code
@njit(cache=True, nogil=True)
def _encode16(x: np.ndarray, scale: float, u: np.ndarray, mode: int, bits: int, shift: int,
              data: np.ndarray, meter: np.ndarray) -> int:
    """_encode into int16 codes (16-bit output)."""
    return _encode(x, scale, u, mode, bits, shift, data, meter)


@njit(cache=True, nogil=True)
def _encode32(x: np.ndarray, scale: float, u: np.ndarray, mode: int, bits: int, shift: int,
              data: np.ndarray, meter: np.ndarray) -> int:
    """_encode into int32 codes (24-bit output, shifted to the top)."""
    return _encode(x, scale, u, mode, bits, shift, data, meter)


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

    def encode(self, x: np.ndarray, metered: bool = False) -> tuple[np.ndarray, int, np.ndarray | None]:
        """The block as a sound file stores it: (data, overs, meter). data (n, channels): int16
        codes for 16 bits, else int32 codes shifted to the top (libsndfile keeps the top bits),
        clipped to full scale; overs: the samples beyond it before the clip; meter: codes /
        2^(bits-1), what a reader decodes, when ``metered``. The codes of ``process``, and the
        same random numbers drawn, so any block cut gives the same file. A NaN sample raises
        FloatingPointError (it has no code)."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        ch, n = x.shape
        u = np.empty((0, ch, 2))
        if self.kind == "none":
            mode = 0
        elif self.kind == "tpdf":
            mode = 1
            u = self.rng.random((n, ch, 2))
        else:
            mode = 2
            x = self.process(x)
        data = np.empty((n, ch), dtype=np.int16 if self.bits <= 16 else np.int32)
        shift = 0 if self.bits <= 16 else 32 - self.bits
        meter = np.empty((ch, n)) if metered else np.empty((ch, 0))
        overs = (_encode16 if data.dtype == np.int16 else _encode32)(x, self.scale, u, mode, self.bits, shift,
                                                                     data, meter)
        if overs < 0:
            raise FloatingPointError(f"NaN sample at frame {-overs - 1} of the block")
        return data, int(overs), meter if metered else None

"""Decoding interleaved little-endian PCM bytes to float64 samples, compiled."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _pcm16(buf: np.ndarray, j: int) -> int:
    u = np.int64(buf[j]) | (np.int64(buf[j + 1]) << 8)
    return u - ((u & 0x8000) << 1)  # two's complement without a branch on the sign


@njit(cache=True, nogil=True)
def _pcm24(buf: np.ndarray, j: int) -> int:
    u = np.int64(buf[j]) | (np.int64(buf[j + 1]) << 8) | (np.int64(buf[j + 2]) << 16)
    return u - ((u & 0x800000) << 1)


@njit(cache=True, nogil=True)
def _pcm32(buf: np.ndarray, j: int) -> int:
    u = (np.int64(buf[j]) | (np.int64(buf[j + 1]) << 8) | (np.int64(buf[j + 2]) << 16)
         | (np.int64(buf[j + 3]) << 24))
    return u - ((u & 0x80000000) << 1)


def decode_pcm(buf: np.ndarray, width: int, out: np.ndarray) -> None:
    """Interleaved little-endian signed PCM of ``width`` bytes per sample (2, 3 or 4) in the bytes
    ``buf`` to out (channels, n) as code / 2^(8 width - 1): what libsndfile's float64 read gives.

    One kernel per width, one loop per channel layout (stereo; mono, or any count), the sign
    extended without a branch: the width must be a constant inside a loop for the compiler to
    keep it fast, and a sign branch mispredicts on audio. A kernel per width, so a session of
    24-bit stems compiles only that one on its first render (measurements: benchmarks/README.md)."""
    if width == 3:
        _decode24(buf, out)
    elif width == 2:
        _decode16(buf, out)
    elif width == 4:
        _decode32(buf, out)
    else:
        raise ValueError(f"no PCM decoder for {width} bytes per sample")


# three kernels written out on purpose: one shared body taking the width and the sample reader
# as arguments gave the same samples 1.4x (24-bit) to 2.7x (16-bit) slower (the width was no
# longer a constant inside the loops)
@njit(cache=True, nogil=True)
def _decode24(buf: np.ndarray, out: np.ndarray) -> None:
    ch, n = out.shape
    stride = ch * 3
    scale = 1.0 / 8388608.0
    if ch == 2:
        for i in range(n):
            out[0, i] = _pcm24(buf, i * 6) * scale
            out[1, i] = _pcm24(buf, i * 6 + 3) * scale
    else:
        for c in range(ch):
            for i in range(n):
                out[c, i] = _pcm24(buf, i * stride + 3 * c) * scale


@njit(cache=True, nogil=True)
def _decode16(buf: np.ndarray, out: np.ndarray) -> None:
    ch, n = out.shape
    stride = ch * 2
    scale = 1.0 / 32768.0
    if ch == 2:
        for i in range(n):
            out[0, i] = _pcm16(buf, i * 4) * scale
            out[1, i] = _pcm16(buf, i * 4 + 2) * scale
    else:
        for c in range(ch):
            for i in range(n):
                out[c, i] = _pcm16(buf, i * stride + 2 * c) * scale


@njit(cache=True, nogil=True)
def _decode32(buf: np.ndarray, out: np.ndarray) -> None:
    ch, n = out.shape
    stride = ch * 4
    scale = 1.0 / 2147483648.0
    if ch == 2:
        for i in range(n):
            out[0, i] = _pcm32(buf, i * 8) * scale
            out[1, i] = _pcm32(buf, i * 8 + 4) * scale
    else:
        for c in range(ch):
            for i in range(n):
                out[c, i] = _pcm32(buf, i * stride + 4 * c) * scale

"""Resampling with soxr (VHQ): a float64 premaster spill to a deliverable's rate, and a convolution
IR to the session's rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soxr

from mixgraph.audio.reader import read_all


def load_ir(path: Path, sample_rate: int) -> np.ndarray:
    """An impulse response as (channels, frames) float64 at ``sample_rate``."""
    data, sr = read_all(path)
    if sr != sample_rate:
        data = soxr.resample(data.T, sr, sample_rate, quality="VHQ").T
    return data


def resample_spill(src: str, length: int, in_rate: int, out_rate: int, dst: str, block: int = 65536) -> int:
    """Resample a float64 stereo spill file with soxr (VHQ), streaming; returns the new length."""
    rs = soxr.ResampleStream(in_rate, out_rate, 2, dtype="float64", quality="VHQ")
    n_out = 0
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        done = 0
        while True:
            raw = fi.read(block * 16)
            x = np.frombuffer(raw, dtype=np.float64).reshape(-1, 2)
            done += x.shape[0]
            last = x.shape[0] < block or done >= length
            y = rs.resample_chunk(x, last=last)
            fo.write(np.ascontiguousarray(y).tobytes())
            n_out += y.shape[0]
            if last:
                break
    return n_out



def resampled_length(n: int, in_rate: int, out_rate: int) -> int:
    """Frames soxr gives for ``n`` input frames, streamed or at once: n * out/in rounded half up."""
    return (2 * n * out_rate + in_rate) // (2 * in_rate)


class StreamResampler:
    """soxr VHQ over a stream of (channels, n) blocks of any size; ``flush`` returns the rest.
    The output is aligned with the input (soxr removes its own delay), so a stream of N frames
    comes out as ``resampled_length(N, ...)`` frames, the same samples for any block cut."""

    def __init__(self, in_rate: int, out_rate: int, channels: int = 2):
        self.channels = channels
        self.rs = soxr.ResampleStream(in_rate, out_rate, channels, dtype="float64", quality="VHQ")

    def process(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.rs.resample_chunk(np.ascontiguousarray(x.T), last=False).T)

    def flush(self) -> np.ndarray:
        y = self.rs.resample_chunk(np.zeros((0, self.channels)), last=True)
        return np.ascontiguousarray(y.T)

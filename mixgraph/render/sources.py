"""A track's source as a block stream on the session timeline.

Placement (``start_s``), trim (start/end in the file's seconds), linear fades
at the edges of the used part, polarity, and streaming resampling with soxr
(VHQ) when the file's rate differs from the session rate.
"""

from __future__ import annotations

import numpy as np
import soxr

from mixgraph.errors import MediaError
from mixgraph.graph.plan import SourcePlan
from mixgraph.render.reader import open_audio


class SourceStream:
    def __init__(self, src: SourcePlan, sample_rate: int, chunk: int = 8192):
        self.src = src
        self.sr = sample_rate
        self.reader = open_audio(src.path)
        self.channels = self.reader.channels
        self.file_sr = self.reader.sample_rate
        first = int(round(src.trim_start_s * self.file_sr))
        last = self.reader.frames if src.trim_end_s is None else min(self.reader.frames,
                                                                      int(round(src.trim_end_s * self.file_sr)))
        if first >= last:
            raise MediaError(f"{src.path}: the trim leaves no audio (file is {self.reader.frames / self.file_sr:.2f} s)")
        self.reader.seek(first)
        self.remaining_in = last - first
        self.resampled = self.file_sr != sample_rate
        if self.resampled:
            self.rs = soxr.ResampleStream(self.file_sr, sample_rate, self.channels, dtype="float64", quality="VHQ")
            self.length = int(round((last - first) * sample_rate / self.file_sr))
        else:
            self.length = last - first
        self.start = int(round(src.start_s * sample_rate))
        self.end = self.start + self.length
        self.fade_in = int(round(src.fade_in_ms * 1e-3 * sample_rate))
        self.fade_out = int(round(src.fade_out_ms * 1e-3 * sample_rate))
        self.sign = -1.0 if src.invert_polarity else 1.0
        self.chunk = chunk
        self.fifo = np.zeros((self.channels, 0))
        self.produced = 0  # samples of the used part handed out so far
        self.flushed = False

    @property
    def note(self) -> str | None:
        if self.resampled:
            return f"{self.src.rel_path}: resampled {self.file_sr} Hz -> {self.sr} Hz (soxr VHQ)"
        return None

    def _pull(self, n: int) -> np.ndarray:
        """Next n samples of the used part (after resampling), zero-padded past its end."""
        while self.fifo.shape[1] < n and not self.flushed:
            take = min(self.chunk, self.remaining_in)
            data = self.reader.read(take) if take > 0 else np.zeros((self.channels, 0))
            if data.shape[1] < take:
                raise MediaError(f"{self.src.path}: the file is truncated (the audio ends early)",
                                 hint="Export or copy the file again.")
            self.remaining_in -= data.shape[1]
            last = self.remaining_in <= 0 or data.shape[1] == 0
            if self.resampled:
                out = self.rs.resample_chunk(np.ascontiguousarray(data.T), last=last).T
            else:
                out = data
            self.fifo = np.concatenate((self.fifo, out), axis=1) if self.fifo.size else out
            if last:
                self.flushed = True
        got = self.fifo[:, :n]
        self.fifo = self.fifo[:, n:]
        if got.shape[1] < n:
            got = np.concatenate((got, np.zeros((self.channels, n - got.shape[1]))), axis=1)
        return got

    def block(self, pos: int, n: int) -> np.ndarray:
        """Timeline samples [pos, pos+n) of this source (sequential calls)."""
        out = np.zeros((self.channels, n))
        lo, hi = max(pos, self.start), min(pos + n, self.end)
        if hi <= lo:
            return out
        seg = self._pull(hi - lo)
        idx = np.arange(lo - self.start, hi - self.start, dtype=np.float64)  # position in the used part
        gain = np.ones(hi - lo)
        if self.fade_in:
            gain = np.minimum(gain, idx / self.fade_in)
        if self.fade_out:
            gain = np.minimum(gain, (self.length - idx) / self.fade_out)
        gain = np.clip(gain, 0.0, 1.0) * self.sign
        out[:, lo - pos : hi - pos] = seg * gain
        return out

    def close(self) -> None:
        self.reader.close()

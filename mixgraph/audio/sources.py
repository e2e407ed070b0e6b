"""A track's source as a block stream on the session timeline.

Placement (``start_s``), trim (start/end in the file's seconds), the channels
the track plays (a pick, or their mean), linear fades at the edges of the used
part, polarity, and streaming resampling with soxr (VHQ) when the file's rate
differs from the session rate.
"""

from __future__ import annotations

import numpy as np
import soxr

from mixgraph.audio.reader import open_audio
from mixgraph.errors import MediaError
from mixgraph.graph.plan import SourcePlan
from mixgraph.units import ms_to_samples


class SourceStream:
    def __init__(self, src: SourcePlan, sample_rate: int, chunk: int = 8192):
        self.src = src
        self.sr = sample_rate
        self.reader = open_audio(src.path, decode_wav=True, max_channels=None)
        self.file_channels = self.reader.channels
        # the picked channels as 0-based rows (checked against the file by the compiler)
        self.pick = None if src.channels is None else [c - 1 for c in src.channels]
        if self.pick is not None and max(self.pick) >= self.file_channels:
            self.reader.close()
            raise MediaError(f"{src.path}: the file has {self.file_channels} channels, not channel "
                             f"{max(self.pick) + 1}")
        if self.pick == list(range(self.file_channels)):
            self.pick = None
        picked = self.file_channels if self.pick is None else len(self.pick)
        self.sum = src.sum and picked > 1
        self.channels = 1 if self.sum else picked
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
        self.fade_in = ms_to_samples(src.fade_in_ms, sample_rate)
        self.fade_out = ms_to_samples(src.fade_out_ms, sample_rate)
        self.sign = -1.0 if src.invert_polarity else 1.0
        self.chunk = chunk
        self.fifo = np.zeros((self.channels, 0))
        self.flushed = False

    @property
    def note(self) -> str | None:
        if self.resampled:
            return f"{self.src.rel_path}: resampled {self.file_sr} Hz -> {self.sr} Hz (soxr VHQ)"
        return None

    def _read(self, take: int) -> np.ndarray:
        data = self.reader.read(take) if take > 0 else np.zeros((self.file_channels, 0))
        if data.shape[1] < take:
            raise MediaError(f"{self.src.path}: the file is truncated (the audio ends early)",
                             hint="Export or copy the file again.")
        self.remaining_in -= data.shape[1]
        # picked and summed before resampling: fewer channels to resample, and the same samples
        # (both are linear, per sample)
        if self.pick is not None:
            data = data[self.pick]
        if self.sum:
            # the mean: two identical channels give exactly one of them
            data = (np.add.reduce(data, axis=0) / data.shape[0])[np.newaxis]
        return data

    def _pull(self, n: int) -> np.ndarray:
        """Next n samples of the used part (after resampling), zero-padded past its end."""
        if not self.resampled:
            # the file's own rate: read exactly what is asked (no FIFO, no copies)
            got = self._read(min(n, self.remaining_in))
            if got.shape[1] < n:
                got = np.concatenate((got, np.zeros((self.channels, n - got.shape[1]))), axis=1)
            return got
        while self.fifo.shape[1] < n and not self.flushed:
            data = self._read(min(self.chunk, self.remaining_in))
            last = self.remaining_in <= 0 or data.shape[1] == 0
            out = self.rs.resample_chunk(np.ascontiguousarray(data.T), last=last).T
            self.fifo = np.concatenate((self.fifo, out), axis=1) if self.fifo.size else out
            if last:
                self.flushed = True
        got = self.fifo[:, :n]
        self.fifo = self.fifo[:, n:]
        if got.shape[1] < n:
            got = np.concatenate((got, np.zeros((self.channels, n - got.shape[1]))), axis=1)
        return np.ascontiguousarray(got)

    def block(self, pos: int, n: int) -> np.ndarray:
        """Timeline samples [pos, pos+n) of this source (sequential calls)."""
        lo, hi = max(pos, self.start), min(pos + n, self.end)
        if hi <= lo:
            return np.zeros((self.channels, n))
        seg = self._pull(hi - lo)
        a, b = lo - self.start, hi - self.start  # positions in the used part
        # the fade gains only where the block meets a fade (elsewhere the gain is exactly 1)
        if (self.fade_in and a < self.fade_in) or (self.fade_out and b > self.length - self.fade_out):
            idx = np.arange(a, b, dtype=np.float64)
            gain = np.ones(b - a)
            if self.fade_in:
                gain = np.minimum(gain, idx / self.fade_in)
            if self.fade_out:
                gain = np.minimum(gain, (self.length - idx) / self.fade_out)
            seg = seg * (np.clip(gain, 0.0, 1.0) * self.sign)
        elif self.sign < 0:
            seg = -seg
        if lo == pos and hi == pos + n:
            return seg
        out = np.zeros((self.channels, n))
        out[:, lo - pos : hi - pos] = seg
        return out

    def close(self) -> None:
        self.reader.close()

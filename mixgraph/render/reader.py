"""Audio file reading in blocks (soundfile lives only in this package).

Every problem is a MediaError that names the file: missing, not audio, empty,
more than 2 channels, NaN/Inf samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from mixgraph.errors import MediaError


def _open(path: Path) -> sf.SoundFile:
    if not path.is_file():
        raise MediaError(f"{path}: no such audio file")
    try:
        return sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise MediaError(f"{path}: cannot read this file as audio ({exc})",
                         hint="Use WAV, FLAC, AIFF, OGG or MP3.") from None


def _wav_truncated(path: Path) -> bool:
    """True when a RIFF/WAVE file's data chunk promises more bytes than the file holds
    (libsndfile silently reports the frames that are there)."""
    import struct

    with path.open("rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return False
        size = path.stat().st_size
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            cid, clen = struct.unpack("<4sI", fh.read(8))
            if cid == b"data":
                return clen != 0xFFFFFFFF and pos + 8 + clen > size
            pos += 8 + clen + (clen & 1)
    return False


def probe_channels(path: str | Path) -> int:
    with open_audio(path) as r:
        return r.channels


class AudioReader:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.f = _open(self.path)
        self.sample_rate = int(self.f.samplerate)
        self.channels = int(self.f.channels)
        self.frames = int(self.f.frames)
        self.format = self.f.format
        self.subtype = self.f.subtype
        self._pos = 0
        self._may_be_nonfinite = not str(self.subtype).startswith(("PCM_", "ULAW", "ALAW"))
        if self.frames <= 0:
            self.f.close()
            raise MediaError(f"{self.path}: the file holds no audio (0 frames)")
        if self.format == "WAV" and _wav_truncated(self.path):
            self.f.close()
            raise MediaError(f"{self.path}: the file is truncated (its header promises more audio than it holds)",
                             hint="Export or copy the file again.")
        if self.channels > 2:
            self.f.close()
            raise MediaError(f"{self.path}: {self.channels} channels; mixgraph takes mono or stereo sources",
                             hint="Split it into mono or stereo files.")

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.f.close()

    def seek(self, frame: int) -> None:
        self.f.seek(frame)
        self._pos = frame

    def read(self, frames: int) -> np.ndarray:
        """Up to ``frames`` frames as (channels, n) float64; fewer at the end of the file."""
        try:
            data = self.f.read(frames, dtype="float64", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise MediaError(f"{self.path}: read error at {self._pos / self.sample_rate:.3f} s ({exc})") from None
        # integer PCM decodes to finite samples; float data is checked with one sum (NaN or Inf
        # anywhere makes it non-finite; a finite sum that overflowed is checked sample by sample)
        if self._may_be_nonfinite and data.size and not np.isfinite(data.sum()) \
                and not np.all(np.isfinite(data)):
            bad = int(np.argmax(~np.all(np.isfinite(data), axis=1)))
            raise MediaError(f"{self.path}: contains NaN or infinite samples "
                             f"(first at {(self._pos + bad) / self.sample_rate:.3f} s)")
        self._pos += data.shape[0]
        return np.ascontiguousarray(data.T)

    def blocks(self, block_size: int):
        while True:
            b = self.read(block_size)
            if b.shape[1] == 0:
                return
            yield b


def open_audio(path: str | Path) -> AudioReader:
    return AudioReader(path)


def read_all(path: str | Path) -> tuple[np.ndarray, int]:
    """Whole file as (channels, n) float64 (for short files: impulse responses)."""
    with open_audio(path) as r:
        return r.read(r.frames), r.sample_rate

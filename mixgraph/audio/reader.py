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
    except TypeError:  # libsndfile takes a headerless .raw file only with its rate, channels and width
        raise MediaError(f"{path}: a headerless (raw) file: its sample rate, channels and sample format are "
                         "not in the file", hint="Convert it to WAV or FLAC.") from None
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


#: WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT, WAVE_FORMAT_EXTENSIBLE (its sub-format GUID starts with the tag)
_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE
#: libsndfile's subtype for each (format tag, bits per sample) this module decodes itself
_RAW_SUBTYPES = {(_PCM, 16): "PCM_16", (_PCM, 24): "PCM_24", (_PCM, 32): "PCM_32", (_FLOAT, 32): "FLOAT"}


def _wav_raw_layout(path: Path, channels: int, frames: int, subtype: str) -> tuple[int, int, int] | None:
    """(offset of the sample data, bytes per sample, format tag) of a little-endian RIFF/WAVE
    file whose samples are plain interleaved 16/24/32-bit integers or 32-bit floats, when its
    fmt and data chunks agree with what libsndfile reported; None for anything else (the file
    is then read through libsndfile)."""
    import struct

    try:
        with path.open("rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            size = path.stat().st_size
            pos, fmt = 12, None
            while pos + 8 <= size:
                fh.seek(pos)
                cid, clen = struct.unpack("<4sI", fh.read(8))
                if cid == b"fmt ":
                    body = fh.read(min(clen, 40))
                    if len(body) < 16:
                        return None
                    tag, ch, _rate, _bps, align, bits = struct.unpack("<HHIIHH", body[:16])
                    if tag == _EXTENSIBLE:
                        if len(body) < 26:
                            return None
                        valid, = struct.unpack("<H", body[18:20])
                        tag, = struct.unpack("<H", body[24:26])
                        if valid != bits:
                            return None
                    fmt = (tag, ch, align, bits)
                elif cid == b"data":
                    if fmt is None or clen == 0xFFFFFFFF:
                        return None
                    tag, ch, align, bits = fmt
                    if (_RAW_SUBTYPES.get((tag, bits)) != subtype or ch != channels or align != ch * bits // 8
                            or clen // align != frames):
                        return None
                    return pos + 8, bits // 8, tag
                pos += 8 + clen + (clen & 1)
    except (OSError, struct.error):
        return None
    return None


def probe_channels(path: str | Path) -> int:
    with open_audio(path) as r:
        return r.channels


class AudioReader:
    """``decode_wav``: decode plain PCM/float WAV here with a compiled kernel (for renders, which
    load numba anyway) instead of through libsndfile; the samples are the same.
    ``max_channels``: refuse files with more channels (None: any; a track picks from a polywav)."""

    def __init__(self, path: str | Path, decode_wav: bool = False, max_channels: int | None = 2):
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
        if self.format in ("WAV", "WAVEX") and _wav_truncated(self.path):
            self.f.close()
            raise MediaError(f"{self.path}: the file is truncated (its header promises more audio than it holds)",
                             hint="Export or copy the file again.")
        if max_channels is not None and self.channels > max_channels:
            self.f.close()
            if max_channels == 2:  # the meter takes more than a render's 2
                raise MediaError(f"{self.path}: {self.channels} channels; mixgraph takes mono or stereo sources",
                                 hint="Split it into mono or stereo files.")
            raise MediaError(f"{self.path}: {self.channels} channels; the meter takes 1 to {max_channels}")
        if self.channels < 1:
            self.f.close()
            raise MediaError(f"{self.path}: the file declares no channels")
        # plain PCM/float WAV (most stems) is decoded here, straight from the file's bytes into the
        # (channels, n) block: the same values libsndfile gives (tested bit for bit), in half the
        # time, without its interleaved float64 copy and transpose, and without holding the GIL
        self._raw = None
        self._buf = np.zeros(0, dtype=np.uint8)
        if decode_wav and self.format in ("WAV", "WAVEX"):
            layout = _wav_raw_layout(self.path, self.channels, self.frames, str(self.subtype))
            if layout is not None:
                try:
                    fh = self.path.open("rb", buffering=0)
                except OSError:
                    fh = None
                if fh is not None:
                    # numba is loaded only by decode_wav readers (the meter command does without)
                    from mixgraph.audio.pcm import decode_pcm

                    self.f.close()
                    self._raw, self._fh, self._decode = layout, fh, decode_pcm
                    self.seek(0)

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._raw is not None:
            self._fh.close()
        else:
            self.f.close()

    def seek(self, frame: int) -> None:
        if self._raw is not None:
            self._fh.seek(self._raw[0] + frame * self.channels * self._raw[1])
        else:
            self.f.seek(frame)
        self._pos = frame

    def _read_raw(self, frames: int) -> np.ndarray:
        offset, width, tag = self._raw
        n = max(0, min(frames, self.frames - self._pos))
        nbytes = n * self.channels * width
        if self._buf.size < nbytes:
            self._buf = np.empty(nbytes, dtype=np.uint8)
        buf = self._buf[:nbytes]
        got = 0
        try:
            while got < nbytes:
                k = self._fh.readinto(memoryview(buf)[got:])
                if not k:
                    break
                got += k
        except OSError as exc:
            raise MediaError(f"{self.path}: read error at {self._pos / self.sample_rate:.3f} s ({exc})") from None
        if got < nbytes:
            raise MediaError(f"{self.path}: the file is truncated (it ends at "
                             f"{(self._pos + got // (self.channels * width)) / self.sample_rate:.3f} s)",
                             hint="Export or copy the file again.")
        out = np.empty((self.channels, n))
        if tag == _FLOAT:
            out[...] = buf.view("<f4").reshape(n, self.channels).T
        else:
            self._decode(buf, width, out)
        return out

    def read(self, frames: int) -> np.ndarray:
        """Up to ``frames`` frames as (channels, n) float64; fewer at the end of the file."""
        if self._raw is not None:
            data = self._read_raw(frames)
        else:
            try:
                data = np.ascontiguousarray(self.f.read(frames, dtype="float64", always_2d=True).T)
            except (sf.LibsndfileError, RuntimeError) as exc:
                raise MediaError(f"{self.path}: read error at {self._pos / self.sample_rate:.3f} s "
                                 f"({exc})") from None
        # integer PCM decodes to finite samples; float data is checked with one sum (NaN or Inf
        # anywhere makes it non-finite; a finite sum that overflowed is checked sample by sample)
        if self._may_be_nonfinite and data.size and not np.isfinite(data.sum()) \
                and not np.all(np.isfinite(data)):
            bad = int(np.argmax(~np.all(np.isfinite(data), axis=0)))
            raise MediaError(f"{self.path}: contains NaN or infinite samples "
                             f"(first at {(self._pos + bad) / self.sample_rate:.3f} s)")
        self._pos += data.shape[1]
        return data

    def blocks(self, block_size: int):
        while True:
            b = self.read(block_size)
            if b.shape[1] == 0:
                return
            yield b


def open_audio(path: str | Path, decode_wav: bool = False, max_channels: int | None = 2) -> AudioReader:
    return AudioReader(path, decode_wav=decode_wav, max_channels=max_channels)


def read_all(path: str | Path) -> tuple[np.ndarray, int]:
    """Whole file as (channels, n) float64 (for short files: impulse responses)."""
    with open_audio(path) as r:
        return r.read(r.frames), r.sample_rate

"""Output files: resample, quantise with dither, count overs, write.

Integer PCM is quantised here (not by libsndfile) so the dither is applied once
and last, and samples beyond full scale are counted before they are clipped.
The writer fills a hidden temporary file it is given (``mixgraph.atomic.Transaction``);
the render renames all of its files into place together once every one is complete.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from mixgraph.dsp.dither import Quantizer
from mixgraph.errors import MediaError, RenderError
from mixgraph.graph.plan import OutputPlan

_FORMATS = {"wav": "WAV", "flac": "FLAC", "aiff": "AIFF", "ogg": "OGG", "mp3": "MP3"}
_SUBTYPES = {16: "PCM_16", 24: "PCM_24", "32f": "FLOAT"}


@dataclass
class WrittenOutput:
    name: str
    path: str
    format: str
    sample_rate: int
    bit_depth: int | str
    frames: int
    clipped_samples: int
    sha256: str
    tap: str


class OutputWriter:
    def __init__(self, out: OutputPlan, path: Path, in_rate: int, channels: int, seed: int,
                 metadata: dict[str, str] | None = None, *, tmp: Path):
        """Write ``out`` into ``tmp`` (an existing empty file beside ``path``, its final name)."""
        self.out = out
        self.path = path
        self.channels = channels
        fmt = _FORMATS.get(out.format)
        if fmt is None or fmt not in sf.available_formats():
            raise MediaError(f"{path}: this system's libsndfile cannot write {out.format} files")
        subtype = _SUBTYPES[out.bit_depth] if fmt in ("WAV", "AIFF", "FLAC") else None
        if fmt == "FLAC" and out.bit_depth == "32f":
            raise MediaError(f"{path}: FLAC has no 32-bit float format; use 16 or 24 bit")
        if fmt in ("OGG", "MP3"):
            subtype = "VORBIS" if fmt == "OGG" else "MPEG_LAYER_III"
        self.int_bits = out.bit_depth if isinstance(out.bit_depth, int) and fmt in ("WAV", "AIFF", "FLAC") else None
        self.tmp = Path(tmp)
        try:
            self.f = sf.SoundFile(str(tmp), "w", samplerate=out.sample_rate, channels=channels, format=fmt,
                                  subtype=subtype)
        except Exception as exc:
            raise MediaError(f"{path}: cannot write ({exc})") from None
        # provenance in the file itself: WAV/AIFF INFO strings, FLAC/OGG Vorbis comments
        for key, value in (metadata or {}).items():
            setattr(self.f, key, value)
        self.rs = None
        if out.sample_rate != in_rate:
            self.rs = soxr.ResampleStream(in_rate, out.sample_rate, channels, dtype="float64", quality="VHQ")
        # the seed mixes the session seed with the output name: each output has its own noise
        oseed = int(hashlib.sha256(f"{seed}:{out.name}".encode()).hexdigest()[:16], 16)
        self.q = Quantizer(self.int_bits, out.dither, oseed, channels) if self.int_bits else None
        self.frames = 0
        self.clipped = 0
        self.hash = hashlib.sha256()
        self.closed = False
        #: a meter (``process(x)``) fed with the samples as written; lossless formats only
        self.meter = None

    @property
    def lossless(self) -> bool:
        """Whether the file reads back as exactly the samples this writer hands to ``meter``."""
        return self.out.format in ("wav", "aiff", "flac")

    def write(self, block: np.ndarray, last: bool = False) -> None:
        x = block
        if self.rs is not None:
            x = self.rs.resample_chunk(np.ascontiguousarray(block.T), last=last).T
        if x.shape[1] == 0:
            return
        if not np.isfinite(x).all():
            kind = "a NaN" if np.isnan(x).any() else "an infinite"
            raise RenderError(f"{self.path}: the signal holds {kind} sample near "
                              f"{self.frames / self.out.sample_rate:.3f} s; nothing was written",
                              hint="A gain or automation drove the signal out of range; check the chain.")
        if self.q is not None:
            # dither, round, count and clip the overs, interleave: one compiled pass
            try:
                data, overs, decoded = self.q.encode(x, metered=self.meter is not None)
            except FloatingPointError as exc:
                raise RenderError(f"{self.path}: the signal holds a NaN sample near "
                                  f"{self.frames / self.out.sample_rate:.3f} s ({exc}); nothing was written",
                                  hint="A processor produced an invalid value: this is a bug in mixgraph; "
                                       "please report it with the session and the output of --debug.") from None
            self.clipped += overs
            if self.meter is not None:  # what a reader decodes: code / 2^(bits-1), exactly
                self.meter.process(decoded)
        else:
            self.clipped += int(np.count_nonzero(np.abs(x) > 1.0))
            # + 0.0 turns -0.0 into 0.0: the same samples always give the same bytes
            data = np.ascontiguousarray(x.T.astype(np.float32)) + np.float32(0.0)
            if self.meter is not None:
                self.meter.process(np.ascontiguousarray(data.T, dtype=np.float64))
        self.hash.update(data.tobytes())
        try:
            self.f.write(data)
        except sf.SoundFileError as exc:
            raise self._write_error(exc) from None
        self.frames += data.shape[0]

    def _write_error(self, exc: Exception) -> MediaError:
        """libsndfile says only "System error" when the disk fills up: say which file, and why
        when the disk's free space tells."""
        import shutil

        try:
            full = shutil.disk_usage(self.tmp.parent).free < (1 << 20)
        except OSError:
            full = False
        why = "the disk is full" if full else f"libsndfile: {exc}"
        hint = ("Free some space on that disk, or render elsewhere with --out-dir." if full else
                "Check the disk and the folder's permissions, or render elsewhere with --out-dir.")
        return MediaError(f"{self.path}: cannot write the file ({why}); nothing was changed", hint=hint)

    def finish(self) -> WrittenOutput:
        if self.rs is not None:
            self.write(np.zeros((self.channels, 0)), last=True)
        self.closed = True
        try:
            self.f.close()
        except sf.SoundFileError as exc:
            raise self._write_error(exc) from None
        if self.frames == 0:
            raise RenderError(f"{self.path}: the render has no samples to write; nothing was written")
        return WrittenOutput(self.out.name, str(self.path), self.out.format, self.out.sample_rate,
                             self.out.bit_depth, self.frames, self.clipped, self.hash.hexdigest(), self.out.tap)

    def abort(self) -> None:
        if self.closed:
            return
        try:
            self.f.close()
        except Exception:
            pass
        self.closed = True

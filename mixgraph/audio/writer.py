"""Output files: resample, quantise with dither, count overs, write.

Integer PCM is quantised here (not by libsndfile) so the dither is applied once
and last, and samples beyond full scale are counted before they are clipped.
The writer fills a hidden temporary file it is given (``mixgraph.atomic.Transaction``);
the render renames all of its files into place together once every one is complete.

A lossy file (mp3, ogg) is encoded from a float spill once its samples are all there (``encode``):
the master stage can encode it again a little lower when the decoded file overshoots its ceiling,
without running the master chain again, and a solver pass that is not kept never runs the encoder.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from mixgraph.audio.tags import add_release_tags
from mixgraph.dsp.dither import Quantizer
from mixgraph.errors import MediaError, RenderError
from mixgraph.graph.plan import OutputPlan

_FORMATS = {"wav": "WAV", "flac": "FLAC", "aiff": "AIFF", "ogg": "OGG", "mp3": "MP3"}
_SUBTYPES = {16: "PCM_16", 24: "PCM_24", "32f": "FLOAT"}
#: Vorbis quality 0 .. 10 and the nominal bitrate each stands for at 44.1 kHz stereo, kbps
VORBIS_NOMINAL_KBPS = (64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 500)


def codec_settings(fmt: str, bitrate_kbps: int, sample_rate: int) -> dict:
    """soundfile's ``compression_level`` (and ``bitrate_mode``) for a lossy bitrate.

    MP3: libsndfile asks LAME for ``int(top - level * (top - bottom))`` kbps, constant, with
    (bottom, top) = (32, 320) at 32 kHz and above, (8, 160) at 16 .. 24 kHz and (8, 64) below;
    the level aims half a kbps above the bitrate so the truncation lands on it exactly.
    Ogg: the level is 1 - quality / 10, the Vorbis quality whose nominal rate is the bitrate
    (interpolated between qualities; Vorbis is variable, so the file's rate is approximate)."""
    import numpy as np

    if fmt == "mp3":
        bottom, top = (32, 320) if sample_rate >= 32000 else (8, 160) if sample_rate >= 16000 else (8, 64)
        level = (top - bitrate_kbps - 0.5) / (top - bottom)
        return {"compression_level": min(1.0, max(0.0, level)), "bitrate_mode": "CONSTANT"}
    quality = float(np.interp(bitrate_kbps, VORBIS_NOMINAL_KBPS, np.arange(11.0)))
    return {"compression_level": 1.0 - quality / 10.0}


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
    #: a lossy file: its bitrate, kbps, and the gain it was encoded with under its ceiling, dB
    bitrate_kbps: int | None = None
    codec_gain_db: float = 0.0


class OutputWriter:
    def __init__(self, out: OutputPlan, path: Path, in_rate: int, channels: int, seed: int,
                 metadata: dict[str, str] | None = None, *, tmp: Path, spill_dir: str | None = None):
        """Write ``out`` into ``tmp`` (an existing empty file beside ``path``, its final name);
        a lossy file's float spill goes into ``spill_dir`` (the render's; None: the system's)."""
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
        self.fmt, self.subtype = fmt, subtype
        self.metadata = dict(metadata or {})
        self.f = None
        self.spill = None
        self.encoded_gain_db: float | None = None  # a lossy file: the gain of its last encode
        if self.lossless:
            self.f = self._open()
        else:
            try:
                fd, name = tempfile.mkstemp(prefix="lossy-", suffix=".f32", dir=spill_dir)
            except OSError as exc:
                raise MediaError(f"{path}: cannot write the spill of a lossy file ({exc})") from None
            self.spill = os.fdopen(fd, "w+b")
            self.spill_path = name
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

    def _open(self) -> sf.SoundFile:
        kw = {}
        if not self.lossless:
            kw = codec_settings(self.out.format, self.out.bitrate_kbps or 128, self.out.sample_rate)
        try:
            f = sf.SoundFile(str(self.tmp), "w", samplerate=self.out.sample_rate, channels=self.channels,
                             format=self.fmt, subtype=self.subtype, **kw)
        except Exception as exc:
            raise MediaError(f"{self.path}: cannot write ({exc})") from None
        # provenance and release in the file itself: WAV/AIFF INFO strings, FLAC/OGG Vorbis
        # comments; an MP3's whole tag and every ISRC are written after closing (audio.tags)
        if self.out.format != "mp3":
            for key, value in self.metadata.items():
                if key != "isrc":
                    setattr(f, key, value)
        return f

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
        if self.spill is not None:
            try:
                self.spill.write(data.tobytes())
            except OSError as exc:
                raise self._write_error(exc) from None
        else:
            self.hash.update(data.tobytes())
            try:
                self.f.write(data)
            except sf.SoundFileError as exc:
                raise self._write_error(exc) from None
        self.frames += data.shape[0]

    def _flush_resampler(self) -> None:
        if self.rs is not None:  # the resampler's last samples, once
            self.write(np.zeros((self.channels, 0)), last=True)
            self.rs = None

    def encode(self, gain_db: float = 0.0) -> None:
        """Encode a lossy file from its spill (every sample written), ``gain_db`` lower or higher;
        again on a second call, replacing the first encode. The tags follow the audio."""
        self._flush_resampler()
        gain = np.float32(10.0 ** (gain_db / 20.0))
        self.hash = hashlib.sha256()
        f = self._open()
        try:
            self.spill.flush()
            self.spill.seek(0)
            block = 65536 * self.channels * 4
            while buf := self.spill.read(block):
                data = np.frombuffer(buf, dtype=np.float32).reshape(-1, self.channels)
                if gain_db != 0.0:
                    data = data * gain + np.float32(0.0)
                self.hash.update(data.tobytes())
                f.write(data)
            f.close()
        except (sf.SoundFileError, OSError) as exc:
            f.close()
            raise self._write_error(exc) from None
        self._tag()
        self.encoded_gain_db = gain_db

    def _tag(self) -> None:
        try:
            add_release_tags(self.tmp, self.out.format, self.metadata)
        except (OSError, ValueError) as exc:
            raise MediaError(f"{self.path}: cannot write the release tags ({exc}); nothing was changed") from None

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
        self._flush_resampler()
        if self.frames == 0:
            self.abort()
            raise RenderError(f"{self.path}: the render has no samples to write; nothing was written")
        if self.spill is not None:
            if self.encoded_gain_db is None:
                self.encode(0.0)
            self._drop_spill()
        else:
            try:
                self.f.close()
            except sf.SoundFileError as exc:
                raise self._write_error(exc) from None
            if self.metadata.get("isrc"):
                self._tag()
        self.closed = True
        return WrittenOutput(self.out.name, str(self.path), self.out.format, self.out.sample_rate,
                             self.out.bit_depth, self.frames, self.clipped, self.hash.hexdigest(), self.out.tap,
                             self.out.bitrate_kbps, self.encoded_gain_db or 0.0)

    def _drop_spill(self) -> None:
        if self.spill is None:
            return
        try:
            self.spill.close()
            os.unlink(self.spill_path)
        except OSError:
            pass
        self.spill = None

    def abort(self) -> None:
        if self.closed:
            return
        try:
            if self.f is not None:
                self.f.close()
        except Exception:
            pass
        self._drop_spill()
        self.closed = True

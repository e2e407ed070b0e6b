"""File-level facts recall needs: what a source is, the hash of a file's samples, a null test.

All of it streams in blocks, so a one-hour file costs a few megabytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from mixgraph.audio.reader import open_audio
from mixgraph.units import gain_to_db

BLOCK = 1 << 16


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (a source changes when any byte changes, metadata included)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def describe(path: str | Path) -> dict:
    """Format facts of an audio file: format, subtype, sample rate, channels, frames."""
    with open_audio(path) as r:
        return {"format": f"{r.format} {r.subtype}", "sample_rate": r.sample_rate,
                "channels": r.channels, "frames": r.frames}


def samples_sha256(path: str | Path) -> str | None:
    """sha256 of the samples as mixgraph's writer hashed them (int16 / int32-aligned 24-bit /
    float32 interleaved); None for lossy files, whose decoded samples are not what was hashed."""
    info = sf.info(str(path))
    if info.subtype in ("PCM_16",):
        dtype = "int16"
    elif info.subtype in ("PCM_24", "PCM_32"):
        dtype = "int32"
    elif info.subtype == "FLOAT":
        dtype = "float32"
    else:
        return None
    h = hashlib.sha256()
    with sf.SoundFile(str(path)) as f:
        while True:
            block = f.read(BLOCK, dtype=dtype, always_2d=True)
            if block.shape[0] == 0:
                break
            if dtype == "float32":
                block = block + np.float32(0.0)
            h.update(np.ascontiguousarray(block).tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class NullTest:
    frames_a: int
    frames_b: int
    #: largest absolute sample difference (linear, full scale = 1) and in dBFS (None if identical)
    max_abs_diff: float
    max_diff_dbfs: float | None
    #: RMS of the difference signal over the common length, dBFS (None if identical)
    null_rms_dbfs: float | None


def null_test(a: str | Path, b: str | Path) -> NullTest:
    """Subtract file ``b`` from file ``a`` sample by sample (common length, float64)."""
    with sf.SoundFile(str(a)) as fa, sf.SoundFile(str(b)) as fb:
        peak = 0.0
        energy = 0.0
        count = 0
        while True:
            xa = fa.read(BLOCK, dtype="float64", always_2d=True)
            xb = fb.read(BLOCK, dtype="float64", always_2d=True)
            n = min(xa.shape[0], xb.shape[0])
            if n == 0:
                break
            ch = min(xa.shape[1], xb.shape[1])
            d = xa[:n, :ch] - xb[:n, :ch]
            if d.size:
                peak = max(peak, float(np.max(np.abs(d))))
                energy += float(np.sum(d * d))
                count += d.size
        frames_a, frames_b = fa.frames, fb.frames
    rms = (energy / count) ** 0.5 if count else 0.0
    return NullTest(frames_a, frames_b, peak,
                    gain_to_db(float(peak)) if peak > 0 else None,
                    gain_to_db(float(rms)) if rms > 0 else None)


def libsndfile_version() -> str:
    return str(sf.__libsndfile_version__)

"""Reading an audio file's header only: format, channels, rate, frames (the static check's view
of the media; no samples are decoded)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from mixgraph.audio.reader import AudioReader
from mixgraph.errors import MediaError

#: the lowest sample rate a source or IR may declare: a header claiming 1 Hz would stretch a few
#: kilobytes over days of timeline
MIN_SOURCE_RATE = 8000


@dataclass(frozen=True)
class MediaInfo:
    path: str
    format: str
    subtype: str
    channels: int
    sample_rate: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def probe_media(path: str | Path) -> MediaInfo:
    """The header of an audio file; MediaError for anything mixgraph cannot render from (a missing
    file, a folder, a device or FIFO, not audio, truncated, no frames). Any channel count: what a
    file's channels are for (a track picks from a polywav, an IR is mono or stereo) is the
    compiler's check."""
    p = Path(path)
    try:
        st = os.stat(p)
    except (OSError, ValueError):
        raise MediaError(f"{p}: no such audio file", hint="Check the path (sources are relative to "
                         "sources_dir, IRs to the session).") from None
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(f"{p}: not a regular file (a folder, device or pipe)")
    with AudioReader(p, max_channels=None) as r:
        info = MediaInfo(str(p), str(r.format), str(r.subtype), r.channels, r.sample_rate, r.frames)
    if info.sample_rate < MIN_SOURCE_RATE:
        raise MediaError(f"{p}: its header claims a sample rate of {info.sample_rate} Hz",
                         hint=f"Sources must be at least {MIN_SOURCE_RATE} Hz.")
    return info

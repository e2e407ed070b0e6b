"""The speaker positions a WAV file declares: the dwChannelMask of a WAVE_FORMAT_EXTENSIBLE fmt
chunk (libsndfile reads it but soundfile does not pass it on)."""

from __future__ import annotations

import struct
from pathlib import Path

_EXTENSIBLE = 0xFFFE


def wav_channel_mask(path: str | Path) -> int | None:
    """The channel mask of a RIFF, RF64 or BW64 WAVE file whose fmt chunk is
    WAVE_FORMAT_EXTENSIBLE; None for any other file or fmt chunk (or one too short to hold it).
    Reads chunk headers up to the fmt chunk only."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64", b"BW64") or head[8:12] != b"WAVE":
                return None
            size = p.stat().st_size
            pos = 12
            while pos + 8 <= size:
                fh.seek(pos)
                cid, clen = struct.unpack("<4sI", fh.read(8))
                if cid == b"fmt ":
                    body = fh.read(min(clen, 40))
                    if len(body) < 24:
                        return None
                    tag, = struct.unpack("<H", body[:2])
                    cb_size, = struct.unpack("<H", body[16:18])
                    if tag != _EXTENSIBLE or cb_size < 22 or len(body) < 24:
                        return None
                    mask, = struct.unpack("<I", body[20:24])
                    return mask
                if cid == b"data":
                    return None
                pos += 8 + clen + (clen & 1)
    except (OSError, struct.error):
        return None
    return None

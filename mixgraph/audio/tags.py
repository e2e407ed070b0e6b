"""Release tags libsndfile cannot write, added to a closed file in place.

libsndfile writes the common strings itself (WAV/AIFF INFO chunks, FLAC/Ogg Vorbis comments). What
it lacks, added here once the file is closed and before the render commits it:

* the ISRC: WAV gets an ``ISRC`` sub-chunk in its ``LIST``/``INFO`` chunk (the RIFF INFO field
  players and DAWs read), FLAC and Ogg Vorbis an ``ISRC=`` Vorbis comment. AIFF has no ISRC field
  and gets none.
* the whole tag of an MP3: LAME (through libsndfile) writes an ID3v2.3 tag with no ISRC and no
  copyright, so the MP3's tag is replaced by an ID3v2.4 one (UTF-8 text frames TIT2, TPE1, TALB,
  TDRC, TSRC, TCON, TRCK, TCOP, TSSE and a COMM comment).

Each edit replaces one byte range near the start of the file (``splice``): the audio behind it is
moved, never decoded.
"""

from __future__ import annotations

import struct
from pathlib import Path

#: RIFF INFO / Vorbis comment name of the International Standard Recording Code
ISRC = "ISRC"
_CHUNK = 1 << 20


def splice(path: str | Path, start: int, end: int, new: bytes) -> None:
    """Replace bytes ``[start, end)`` of ``path`` with ``new``, moving what follows in place."""
    delta = len(new) - (end - start)
    with open(path, "r+b") as f:
        size = f.seek(0, 2)
        if delta > 0:  # grow: move the tail from its end backwards
            pos = size
            while pos > end:
                n = min(_CHUNK, pos - end)
                pos -= n
                f.seek(pos)
                buf = f.read(n)
                f.seek(pos + delta)
                f.write(buf)
        elif delta < 0:  # shrink: move the tail from its start forwards, then cut the end
            pos = end
            while pos < size:
                f.seek(pos)
                buf = f.read(min(_CHUNK, size - pos))
                f.seek(pos + delta)
                f.write(buf)
                pos += len(buf)
            f.truncate(size + delta)
        f.seek(start)
        f.write(new)


# --------------------------------------------------------------------------- WAV


def wav_add_info(path: str | Path, fields: dict[str, str]) -> None:
    """Add INFO sub-chunks (``{"ISRC": "GBABC2400001"}``) to the ``LIST``/``INFO`` chunk of a RIFF
    WAV file, or a new ``LIST`` chunk before ``data`` when it has none; the RIFF size follows."""
    sub = b"".join(_info_sub(k, v) for k, v in fields.items())
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ValueError(f"{path}: not a RIFF WAVE file")
        pos = 12
        while True:
            f.seek(pos)
            ch = f.read(12)
            if len(ch) < 8:
                raise ValueError(f"{path}: no data chunk")
            cid, size = ch[:4], struct.unpack("<I", ch[4:8])[0]
            if cid == b"LIST" and ch[8:12] == b"INFO":
                f.seek(pos + 8)
                body = f.read(size)
                start, end, new = pos, pos + 8 + size + (size & 1), _chunk(b"LIST", body + sub)
                break
            if cid == b"data":
                start, end, new = pos, pos, _chunk(b"LIST", b"INFO" + sub)
                break
            pos += 8 + size + (size & 1)
    splice(path, start, end, new)
    with open(path, "r+b") as f:
        riff = f.seek(0, 2) - 8
        f.seek(4)
        f.write(struct.pack("<I", riff))


def _info_sub(key: str, value: str) -> bytes:
    data = value.encode("utf-8") + b"\0"  # INFO strings are NUL-terminated
    return _chunk(key.encode("ascii"), data)


def _chunk(cid: bytes, data: bytes) -> bytes:
    return cid + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


# --------------------------------------------------------------------------- FLAC


def flac_add_comments(path: str | Path, fields: dict[str, str]) -> None:
    """Add ``NAME=value`` entries to the VORBIS_COMMENT metadata block of a FLAC file."""
    with open(path, "rb") as f:
        if f.read(4) != b"fLaC":
            raise ValueError(f"{path}: not a FLAC file")
        pos = 4
        while True:
            f.seek(pos)
            hdr = f.read(4)
            if len(hdr) < 4:
                raise ValueError(f"{path}: no VORBIS_COMMENT block")
            last, kind, size = hdr[0] & 0x80, hdr[0] & 0x7F, int.from_bytes(hdr[1:4], "big")
            if kind == 4:
                body = f.read(size)
                break
            if last:
                raise ValueError(f"{path}: no VORBIS_COMMENT block")
            pos += 4 + size
    body = _add_vorbis_comments(body, fields)
    splice(path, pos, pos + 4 + size, bytes([last | 4]) + len(body).to_bytes(3, "big") + body)


def _add_vorbis_comments(body: bytes, fields: dict[str, str]) -> bytes:
    """A Vorbis comment structure (vendor, count, entries) with ``fields`` appended."""
    vlen = struct.unpack_from("<I", body, 0)[0]
    at = 4 + vlen
    count = struct.unpack_from("<I", body, at)[0]
    extra = b"".join(struct.pack("<I", len(e)) + e for e in (f"{k}={v}".encode() for k, v in fields.items()))
    # a FLAC comment block ends with its last entry; an Ogg comment packet adds a framing byte
    return body[:at] + struct.pack("<I", count + len(fields)) + body[at + 4:] + extra


# --------------------------------------------------------------------------- Ogg Vorbis


def _ogg_crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return tuple(table)


_OGG_CRC = _ogg_crc_table()


def ogg_crc(data: bytes) -> int:
    """The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, not reflected, initial value 0."""
    crc = 0
    t = _OGG_CRC
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ t[(crc >> 24) ^ b]
    return crc


def _ogg_page(f, pos: int) -> tuple[bytes, list[int], bytes, int]:
    """(27-byte header, lacing values, body, end offset) of the Ogg page at ``pos``."""
    f.seek(pos)
    hdr = f.read(27)
    if len(hdr) < 27 or hdr[:4] != b"OggS":
        raise ValueError("not an Ogg page")
    lacing = list(f.read(hdr[26]))
    body = f.read(sum(lacing))
    return hdr, lacing, body, pos + 27 + len(lacing) + len(body)


def ogg_add_comments(path: str | Path, fields: dict[str, str]) -> None:
    """Add ``NAME=value`` entries to the comment header of an Ogg Vorbis file.

    libvorbis puts the comment and setup headers together on the stream's second page; that page
    is rebuilt (same serial number, sequence number and granule position, new checksum), so every
    later page stays as it is."""
    with open(path, "rb") as f:
        _, _, _, start = _ogg_page(f, 0)
        hdr, lacing, body, end = _ogg_page(f, start)
    packets, cur = [], b""
    at = 0
    for v in lacing:
        cur += body[at:at + v]
        at += v
        if v < 255:
            packets.append(cur)
            cur = b""
    if cur or len(packets) != 2 or packets[0][:7] != b"\x03vorbis":
        raise ValueError(f"{path}: the Vorbis comment and setup headers are not alone on the second page")
    comment = b"\x03vorbis" + _add_vorbis_comments(packets[0][7:-1], fields) + b"\x01"
    segs = []
    for p in (comment, packets[1]):
        segs += [255] * (len(p) // 255) + [len(p) % 255]
    if len(segs) > 255:
        raise ValueError(f"{path}: the Vorbis comment header does not fit on one Ogg page")
    page = bytearray(hdr[:22] + b"\0\0\0\0" + bytes([len(segs)]) + bytes(segs) + comment + packets[1])
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    splice(path, start, end, bytes(page))


# --------------------------------------------------------------------------- MP3 (ID3v2.4)

#: release field -> ID3v2.4 text frame
ID3_FRAMES = {"title": "TIT2", "artist": "TPE1", "album": "TALB", "date": "TDRC", "isrc": "TSRC",
              "genre": "TCON", "tracknumber": "TRCK", "copyright": "TCOP", "software": "TSSE"}


def _synchsafe(n: int) -> bytes:
    return bytes(((n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F))


def _id3_frame(fid: str, data: bytes) -> bytes:
    return fid.encode("ascii") + _synchsafe(len(data)) + b"\0\0" + data


def id3v24_tag(fields: dict[str, str]) -> bytes:
    """An ID3v2.4 tag of ``fields`` (soundfile string names, plus ``isrc``), UTF-8 text frames."""
    frames = [_id3_frame(ID3_FRAMES[k], b"\x03" + v.encode("utf-8")) for k, v in fields.items() if k in ID3_FRAMES]
    if "comment" in fields:  # encoding, language, empty description, text
        frames.append(_id3_frame("COMM", b"\x03eng\0" + fields["comment"].encode("utf-8")))
    body = b"".join(frames)
    return b"ID3\x04\x00\x00" + _synchsafe(len(body)) + body


def id3v2_size(head: bytes) -> int:
    """Bytes of the ID3v2 tag at the start of ``head`` (its first 10 bytes), 0 when there is none."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    return 10 + size + (10 if head[5] & 0x10 else 0)  # the footer flag adds 10 bytes


def mp3_set_id3(path: str | Path, fields: dict[str, str]) -> None:
    """Replace the ID3v2 tag at the start of an MP3 file (LAME's, if any) with an ID3v2.4 one."""
    with open(path, "rb") as f:
        old = id3v2_size(f.read(10))
    splice(path, 0, old, id3v24_tag(fields))


def add_release_tags(path: str | Path, fmt: str, fields: dict[str, str]) -> None:
    """The tags libsndfile did not write into the closed file ``path`` of format ``fmt``: every
    field of an MP3, the ISRC of the others (``fields``: soundfile string names and ``isrc``)."""
    if fmt == "mp3":
        mp3_set_id3(path, fields)
        return
    isrc = fields.get("isrc")
    if isrc is None:
        return
    if fmt == "wav":
        wav_add_info(path, {ISRC: isrc})
    elif fmt == "flac":
        flac_add_comments(path, {ISRC: isrc})
    elif fmt == "ogg":
        ogg_add_comments(path, {ISRC: isrc})

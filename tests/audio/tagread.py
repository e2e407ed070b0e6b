"""Small readers of the tag structures, written from the format specifications (RIFF INFO, FLAC
metadata blocks, Ogg pages and Vorbis comment headers, ID3v2.4, MPEG audio frame headers) and
independent of ``mixgraph.audio.tags``: the tests read back what the writer wrote with them."""

from __future__ import annotations

import struct

# MPEG-1 layer III bitrates by header index, kbps (ISO/IEC 11172-3)
MPEG1_L3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)


def riff_info(path) -> dict[str, str]:
    """Every sub-chunk of the LIST/INFO chunks of a RIFF WAVE file: FOURCC -> text."""
    b = open(path, "rb").read()
    assert b[:4] == b"RIFF" and b[8:12] == b"WAVE"
    assert struct.unpack("<I", b[4:8])[0] == len(b) - 8, "RIFF size"
    out = {}
    i = 12
    while i + 8 <= len(b):
        cid, n = b[i:i + 4], struct.unpack("<I", b[i + 4:i + 8])[0]
        if cid == b"LIST" and b[i + 8:i + 12] == b"INFO":
            j, end = i + 12, i + 8 + n
            while j < end:
                sid, m = b[j:j + 4].decode(), struct.unpack("<I", b[j + 4:j + 8])[0]
                out[sid] = b[j + 8:j + 8 + m].rstrip(b"\0").decode("utf-8")
                j += 8 + m + (m & 1)
        i += 8 + n + (n & 1)
    return out


def vorbis_comments(body: bytes) -> dict[str, list[str]]:
    """NAME (upper case) -> values of a Vorbis comment structure (vendor, count, entries)."""
    vlen = struct.unpack_from("<I", body, 0)[0]
    at = 4 + vlen
    count = struct.unpack_from("<I", body, at)[0]
    at += 4
    out: dict[str, list[str]] = {}
    for _ in range(count):
        n = struct.unpack_from("<I", body, at)[0]
        k, _, v = body[at + 4:at + 4 + n].decode("utf-8").partition("=")
        out.setdefault(k.upper(), []).append(v)
        at += 4 + n
    return out


def flac_comments(path) -> dict[str, list[str]]:
    b = open(path, "rb").read()
    assert b[:4] == b"fLaC"
    i = 4
    while True:
        last, kind, n = b[i] & 0x80, b[i] & 0x7F, int.from_bytes(b[i + 1:i + 4], "big")
        if kind == 4:
            return vorbis_comments(b[i + 4:i + 4 + n])
        assert not last, "no VORBIS_COMMENT block"
        i += 4 + n


def ogg_pages(path):
    """(header_type, granule, sequence, crc, page bytes) of every page."""
    b = open(path, "rb").read()
    i = 0
    while i < len(b):
        assert b[i:i + 4] == b"OggS"
        htype, gran, _serial, seq, crc, nseg = struct.unpack_from("<BqIIIB", b, i + 5)
        lacing = list(b[i + 27:i + 27 + nseg])
        yield htype, gran, seq, crc, b[i:i + 27 + nseg + sum(lacing)]
        i += 27 + nseg + sum(lacing)


def ogg_crc_reference(page: bytes) -> int:
    """Bit-by-bit CRC-32 (poly 0x04C11DB7, MSB first, init 0) of a page with its CRC field zeroed."""
    data = page[:22] + b"\0\0\0\0" + page[26:]
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def ogg_comments(path) -> dict[str, list[str]]:
    """The Vorbis comment header of an Ogg Vorbis file (its second packet)."""
    packets, cur = [], b""
    for _h, _g, _s, _c, page in ogg_pages(path):
        nseg = page[26]
        lacing = page[27:27 + nseg]
        at = 27 + nseg
        for v in lacing:
            cur += page[at:at + v]
            at += v
            if v < 255:
                packets.append(cur)
                cur = b""
        if len(packets) >= 2:
            break
    assert packets[1][:7] == b"\x03vorbis" and packets[1][-1] == 1
    return vorbis_comments(packets[1][7:-1])


def id3v2(path) -> tuple[int, dict[str, str], int]:
    """(major version, frame id -> text, tag size in bytes) of the ID3v2 tag at the start."""
    b = open(path, "rb").read()
    assert b[:3] == b"ID3"
    major = b[3]
    size = (b[6] << 21) | (b[7] << 14) | (b[8] << 7) | b[9]
    frames = {}
    i = 10
    while i < 10 + size and b[i] != 0:
        fid = b[i:i + 4].decode()
        n = (b[i + 4] << 21) | (b[i + 5] << 14) | (b[i + 6] << 7) | b[i + 7]
        data = b[i + 10:i + 10 + n]
        assert data[0] == 3, "UTF-8"
        if fid == "COMM":
            lang, _, text = data[1:4], *data[4:].partition(b"\0")[1:]
            frames[fid] = text.decode("utf-8")
            assert lang == b"eng"
        else:
            frames[fid] = data[1:].decode("utf-8")
        i += 10 + n
    return major, frames, 10 + size


def mp3_first_frame_kbps(path) -> int:
    """The bitrate in the header of the first MPEG-1 layer III frame after the ID3v2 tag."""
    b = open(path, "rb").read()
    _, _, start = id3v2(path)
    h = b[start:start + 4]
    assert h[0] == 0xFF and (h[1] & 0xE0) == 0xE0, "frame sync"
    assert (h[1] >> 3) & 3 == 3 and (h[1] >> 1) & 3 == 1, "MPEG-1 layer III"
    return MPEG1_L3_KBPS[h[2] >> 4]

"""Release tags in every format, read back with readers of our own (tests/audio/tagread.py) and
with libsndfile; the bitrate of a lossy file read back from its frames and its size."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from mixgraph.audio.tags import ogg_crc, splice
from mixgraph.audio.writer import OutputWriter, codec_settings
from mixgraph.graph.plan import OutputPlan
from tests.audio.tagread import (
    flac_comments,
    id3v2,
    mp3_first_frame_kbps,
    ogg_comments,
    ogg_crc_reference,
    ogg_pages,
    riff_info,
)

SR = 48000
META = {"title": "Señal", "artist": "The Band", "album": "First LP", "date": "2024", "isrc": "GBABC2400001",
        "genre": "Pop", "tracknumber": "3", "copyright": "2024 Label Ltd", "software": "mixgraph 9.9",
        "comment": "mixgraph 9.9; plan sha256:abc"}


def write(tmp_path, fmt, x, bitrate=None, meta=META, bit_depth=24, rate=SR):
    out = OutputPlan("m", str(tmp_path / f"m.{fmt}"), f"m.{fmt}", "master", fmt, rate, bit_depth, "none",
                     bitrate_kbps=bitrate)
    tmp = tmp_path / f".m.{fmt}.partial"
    tmp.write_bytes(b"")
    w = OutputWriter(out, tmp_path / f"m.{fmt}", rate, 2, 0, metadata=meta, tmp=tmp, spill_dir=str(tmp_path))
    for k in range(0, x.shape[1], 10000):  # several blocks, one odd-sized
        w.write(x[:, k:k + 10000])
    written = w.finish()
    assert not list(tmp_path.glob("lossy-*")), "the spill is removed"
    return tmp, written


@pytest.fixture
def signal():
    rng = np.random.default_rng(5)
    return 0.2 * rng.standard_normal((2, SR * 2))


def test_wav_info_chunk_holds_every_field_and_the_isrc(tmp_path, signal):
    path, _ = write(tmp_path, "wav", signal)
    info = riff_info(path)
    assert info["ISRC"] == "GBABC2400001"
    assert (info["INAM"], info["IART"], info["IPRD"], info["ICRD"]) == ("Señal", "The Band", "First LP", "2024")
    assert (info["IGNR"], info["ITRK"], info["ICOP"]) == ("Pop", "3", "2024 Label Ltd")
    assert info["ICMT"] == META["comment"] and info["ISFT"].startswith("mixgraph 9.9")
    # the audio is untouched by the chunk inserted before it
    x, sr = sf.read(path, dtype="float64")
    q = np.round(signal.T * 2**23) / 2**23
    assert sr == SR and np.array_equal(x, q)
    with sf.SoundFile(path) as f:
        assert (f.title, f.artist, f.album) == ("Señal", "The Band", "First LP")


def test_flac_vorbis_comments_hold_the_isrc(tmp_path, signal):
    path, _ = write(tmp_path, "flac", signal)
    c = flac_comments(path)
    assert c["ISRC"] == ["GBABC2400001"]
    assert (c["TITLE"], c["ARTIST"], c["ALBUM"], c["DATE"]) == (["Señal"], ["The Band"], ["First LP"], ["2024"])
    assert c["COMMENT"] == [META["comment"]]
    x, _ = sf.read(path, dtype="float64")
    assert np.array_equal(x, np.round(signal.T * 2**23) / 2**23)


def test_ogg_comment_header_holds_the_isrc_and_pages_stay_valid(tmp_path, signal):
    path, _ = write(tmp_path, "ogg", signal, bitrate=160)
    c = ogg_comments(path)
    assert c["ISRC"] == ["GBABC2400001"]
    assert (c["TITLE"], c["ARTIST"], c["ALBUM"], c["DATE"]) == (["Señal"], ["The Band"], ["First LP"], ["2024"])
    pages = list(ogg_pages(path))
    assert [p[2] for p in pages] == list(range(len(pages)))  # sequence numbers unbroken
    for _h, _g, _s, crc, page in pages:
        assert crc == ogg_crc_reference(page) == ogg_crc(page[:22] + b"\0\0\0\0" + page[26:])
    x, sr = sf.read(path, dtype="float64")
    assert x.shape == (signal.shape[1], 2) and sr == SR
    with sf.SoundFile(path) as f:
        assert (f.title, f.artist, f.date) == ("Señal", "The Band", "2024")


def test_mp3_has_an_id3v24_tag_with_every_frame(tmp_path, signal):
    path, _ = write(tmp_path, "mp3", signal, bitrate=192)
    major, frames, _ = id3v2(path)
    assert major == 4
    assert frames == {"TIT2": "Señal", "TPE1": "The Band", "TALB": "First LP", "TDRC": "2024",
                      "TSRC": "GBABC2400001", "TCON": "Pop", "TRCK": "3", "TCOP": "2024 Label Ltd",
                      "TSSE": "mixgraph 9.9", "COMM": META["comment"]}
    with sf.SoundFile(path) as f:  # libsndfile (mpg123) reads the tag and decodes past it
        assert (f.title, f.artist, f.album, f.date, f.comment) == ("Señal", "The Band", "First LP", "2024",
                                                                    META["comment"])
        assert f.frames == signal.shape[1]


@pytest.mark.parametrize("kbps", [128, 192, 320])
def test_mp3_bitrate_read_back_from_frames_and_size(tmp_path, kbps):
    x = 0.3 * np.random.default_rng(kbps).standard_normal((2, SR * 4))
    path, w = write(tmp_path, "mp3", x, bitrate=kbps)
    assert w.bitrate_kbps == kbps
    assert mp3_first_frame_kbps(path) == kbps
    _, _, tag = id3v2(path)
    audio_bytes = path.stat().st_size - tag
    # constant bitrate: bytes = kbps * duration, give or take the encoder's padding frames
    assert audio_bytes * 8 / 1000 / (x.shape[1] / SR) == pytest.approx(kbps, rel=0.02)


def programme(seconds: float) -> np.ndarray:
    """Music-like material (white noise would drive a variable-rate codec far over its nominal
    rate): a bass tone with decaying kicks, a saw lead and noise sloping down above 2 kHz."""
    from scipy.signal import butter, sosfilt

    n = int(seconds * SR)
    t = np.arange(n) / SR
    noise = sosfilt(butter(1, 2000, fs=SR, output="sos"), np.random.default_rng(1).standard_normal((2, n)))
    kick = np.sin(2 * np.pi * 55 * t) * np.exp(-(t % 0.5) * 12)
    return 0.1 * noise + 0.3 * kick + 0.1 * ((t * 220) % 1 - 0.5)


def test_ogg_bitrate_is_near_the_nominal_one(tmp_path):
    x = programme(6.0)
    rates = []
    for kbps in (96, 192, 320):
        d = tmp_path / str(kbps)
        d.mkdir()
        path, _ = write(d, "ogg", x, bitrate=kbps)
        rates.append(path.stat().st_size * 8 / 1000 / (x.shape[1] / SR))
        # Vorbis is variable: the nominal rate is the codec's centre for typical material
        assert rates[-1] == pytest.approx(kbps, rel=0.2), kbps
    assert rates == sorted(rates)


def test_codec_settings_follow_libsndfile_mapping():
    # libsndfile: bitrate = (int)(320 - level * 288) at >= 32 kHz, (int)(160 - level * 152) at 16-24 kHz
    for kbps in (32, 40, 64, 128, 192, 256, 320):
        level = codec_settings("mp3", kbps, 48000)["compression_level"]
        assert int(320.0 - level * 288.0) == kbps
    for kbps in (8, 64, 144, 160):
        level = codec_settings("mp3", kbps, 22050)["compression_level"]
        assert int(160.0 - level * 152.0) == kbps
    assert codec_settings("ogg", 128, 44100) == {"compression_level": pytest.approx(0.6)}  # quality 4
    assert codec_settings("ogg", 500, 44100) == {"compression_level": pytest.approx(0.0)}  # quality 10


def test_aiff_keeps_what_libsndfile_writes(tmp_path, signal):
    path, _ = write(tmp_path, "aiff", signal)
    with sf.SoundFile(path) as f:
        assert (f.title, f.artist, f.copyright) == ("Señal", "The Band", "2024 Label Ltd")


def test_splice_grows_and_shrinks_in_place(tmp_path):
    p = tmp_path / "f"
    data = bytes(range(256)) * 9000  # larger than the copy chunk
    p.write_bytes(data)
    splice(p, 10, 20, b"x" * 30)
    assert p.read_bytes() == data[:10] + b"x" * 30 + data[20:]
    splice(p, 10, 40, b"y")
    assert p.read_bytes() == data[:10] + b"y" + data[20:]


@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_lossy_bytes_do_not_depend_on_the_block_size(tmp_path, fmt):
    x = programme(2.0)
    files = []
    for block in (1000, 4096, 65536):
        d = tmp_path / str(block)
        d.mkdir()
        out = OutputPlan("m", str(d / f"m.{fmt}"), f"m.{fmt}", "master", fmt, SR, 24, "none", bitrate_kbps=192)
        tmp = d / "t"
        tmp.write_bytes(b"")
        w = OutputWriter(out, d / f"m.{fmt}", SR, 2, 0, metadata=META, tmp=tmp, spill_dir=str(d))
        for k in range(0, x.shape[1], block):
            w.write(x[:, k:k + block])
        w.finish()
        # libsndfile gives every Ogg stream a random serial number: compare what decodes
        files.append(tmp.read_bytes() if fmt == "mp3" else sf.read(tmp, dtype="float64")[0].tobytes())
    assert files[0] == files[1] == files[2]

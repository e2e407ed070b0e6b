"""The block reader: plain PCM/float WAV is decoded by mixgraph itself, everything else by
libsndfile. Both must give exactly what libsndfile's float64 read gives, for any block cut."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import soundfile as sf

from mixgraph.audio.reader import AudioReader
from mixgraph.errors import MediaError

SR = 48000


def reference(path):
    return sf.read(str(path), dtype="float64", always_2d=True)[0].T


def blocks_of(path, sizes, start=0, decode_wav=True):
    r = AudioReader(path, decode_wav=decode_wav)
    try:
        r.seek(start)
        out, i = [], 0
        while True:
            b = r.read(sizes[i % len(sizes)])
            i += 1
            if b.shape[1] == 0:
                break
            out.append(b)
        return r, np.concatenate(out, axis=1)
    finally:
        r.close()


def signal(channels, n=20011, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, channels))
    x[:3] = [[-1.0] * channels, [1.0 - 2**-15] * channels, [0.0] * channels]  # the extreme codes
    return x


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("fmt", ["WAV", "WAVEX"])
def test_wav_decoded_here_equals_libsndfile_bit_for_bit(tmp_path, subtype, channels, fmt):
    p = tmp_path / "s.wav"
    sf.write(str(p), signal(channels), SR, subtype=subtype, format=fmt)
    r, got = blocks_of(p, [4096, 1, 777])
    assert r._raw is not None  # decoded by mixgraph, not libsndfile
    ref = reference(p)
    assert got.dtype == np.float64 and got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)
    # a seek lands on the same frame
    _, tail = blocks_of(p, [5000], start=12345)
    np.testing.assert_array_equal(tail, ref[:, 12345:])
    # without decode_wav (the meter command: no numba) libsndfile reads it
    r, same = blocks_of(p, [4096], decode_wav=False)
    assert r._raw is None
    np.testing.assert_array_equal(same, ref)


def test_chunks_before_the_data_are_skipped(tmp_path):
    # INFO strings (a LIST chunk, here of odd length: padded) ahead of the data chunk
    p = tmp_path / "s.wav"
    with sf.SoundFile(str(p), "w", SR, 2, subtype="PCM_24", format="WAV") as f:
        f.title = "odd"
        f.write(signal(2))
    r, got = blocks_of(p, [3000])
    assert r._raw is not None and r._raw[0] > 44
    np.testing.assert_array_equal(got, reference(p))


@pytest.mark.parametrize("subtype, fmt", [("PCM_U8", "WAV"), ("DOUBLE", "WAV"), ("PCM_24", "FLAC"),
                                           ("PCM_16", "AIFF")])
def test_other_formats_go_through_libsndfile(tmp_path, subtype, fmt):
    p = tmp_path / f"s.{fmt.lower()}"
    sf.write(str(p), signal(2), SR, subtype=subtype, format=fmt)
    r, got = blocks_of(p, [4096])
    assert r._raw is None
    np.testing.assert_array_equal(got, reference(p))


def test_nan_in_a_float_wav_is_refused_with_its_time(tmp_path):
    x = signal(2, n=SR)
    x[SR // 2, 1] = np.nan
    p = tmp_path / "s.wav"
    sf.write(str(p), x, SR, subtype="FLOAT")
    with pytest.raises(MediaError, match=r"NaN or infinite samples \(first at 0\.500 s\)"):
        blocks_of(p, [4096])


def test_a_file_cut_short_while_open_is_a_media_error(tmp_path):
    p = tmp_path / "s.wav"
    sf.write(str(p), signal(2, n=SR), SR, subtype="PCM_24")
    r = AudioReader(p, decode_wav=True)
    try:
        assert r._raw is not None
        with open(p, "r+b") as fh:  # another program truncates the file after it was opened
            fh.truncate(44 + 6 * 1000)
        with pytest.raises(MediaError, match="truncated"):
            r.read(SR)
    finally:
        r.close()


def test_a_data_chunk_of_partial_frames_reads_the_whole_frames(tmp_path):
    # a data chunk that claims an odd byte count (999 whole stereo 16-bit frames and one byte)
    p = tmp_path / "s.wav"
    sf.write(str(p), signal(2, n=1000), SR, subtype="PCM_16")
    raw = bytearray(p.read_bytes())
    at = raw.index(b"data")
    raw[at + 4 : at + 8] = struct.pack("<I", 4 * 1000 - 1)
    p.write_bytes(bytes(raw))
    r, got = blocks_of(p, [300])
    assert r._raw is not None and r.frames == 999
    np.testing.assert_array_equal(got, reference(p))

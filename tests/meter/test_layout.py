"""Channel layouts: the WAV channel mask, the conventional orders per container, --layout."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import soundfile as sf

from mixgraph.audio.channelmask import wav_channel_mask
from mixgraph.meter.layout import conventional, from_mask, parse_layout, resolve
from tests.meter.test_multichannel import write_wavex

S = 1.41


@pytest.mark.parametrize("mask,channels,labels,weights", [
    (0x3F, 6, ("L", "R", "C", "LFE", "Ls", "Rs"), (1, 1, 1, 0, S, S)),  # 5.1 with back surrounds
    (0x60F, 6, ("L", "R", "C", "LFE", "Ls", "Rs"), (1, 1, 1, 0, S, S)),  # 5.1 with side surrounds
    (0x63F, 8, ("L", "R", "C", "LFE", "Lb", "Rb", "Ls", "Rs"), (1, 1, 1, 0, 1, 1, S, S)),  # 7.1
    (0x33, 4, ("L", "R", "Ls", "Rs"), (1, 1, S, S)),  # quad
    (0x107, 4, ("L", "R", "C", "Cs"), (1, 1, 1, 1)),  # LCRS
    (0x4, 1, ("C",), (1,)),
    (0x2D63F, 12, ("L", "R", "C", "LFE", "Lb", "Rb", "Ls", "Rs", "Tfl", "Tfr", "Tbl", "Tbr"),
     (1, 1, 1, 0, 1, 1, S, S, 1, 1, 1, 1)),  # 7.1.4: heights at weight 1.0
])
def test_mask_positions_and_weights(mask, channels, labels, weights):
    lay = from_mask(mask, channels)
    assert lay.labels == labels and lay.weights == tuple(float(w) for w in weights)
    assert lay.source == "mask" and lay.note is None


def test_mask_names_the_layout_in_any_order():
    assert from_mask(0x63F, 8).name == "7.1"
    assert from_mask(0x3F, 6).name == "5.1"
    assert from_mask(0x107, 4).name == "4.0"


def test_a_mask_short_of_channels_weighs_the_rest_one_and_says_so():
    lay = from_mask(0x3, 4)
    assert lay.labels == ("L", "R", "ch3", "ch4") and lay.weights == (1.0,) * 4
    assert "2 of 4" in lay.note
    assert from_mask(0x3F, 2).labels == ("L", "R")  # more bits than channels: the lowest ones
    assert from_mask(0, 6) is None  # no positions: the convention applies
    assert resolve(6, mask=0).source == "convention"


@pytest.mark.parametrize("channels,name", [(1, "mono"), (2, "stereo"), (3, "3.0"), (4, "quad"), (5, "5.0"),
                                           (6, "5.1"), (8, "7.1")])
def test_conventional_orders(channels, name):
    lay = conventional(channels)
    assert lay.name == name and lay.source == "convention" and lay.note is None


def test_the_7_1_convention_is_the_film_order():
    assert conventional(8).labels == ("L", "R", "C", "LFE", "Ls", "Rs", "Lb", "Rb")


@pytest.mark.parametrize("channels", [7, 9, 10, 24])
def test_counts_without_a_convention(channels):
    lay = conventional(channels)
    assert lay.name is None and lay.source == "none" and lay.weights == (1.0,) * channels and lay.note


def test_flac_and_ogg_orders():
    assert conventional(6, "FLAC").weights == (1, 1, 1, 0, S, S)
    assert conventional(8, "FLAC").labels == ("L", "R", "C", "LFE", "Lb", "Rb", "Ls", "Rs")
    assert conventional(6, "OGG").labels == ("L", "C", "R", "Ls", "Rs", "LFE")
    assert conventional(6, "OGG").weights == (1, 1, 1, S, S, 0)


def test_parse_layout():
    assert parse_layout("5.1", 6).weights == (1, 1, 1, 0, S, S)
    assert parse_layout("L, R, LFE", 3).weights == (1, 1, 0)
    assert parse_layout("7.1", 8).source == "option"
    with pytest.raises(ValueError, match="has 6 channels; the file has 8"):
        parse_layout("5.1", 8)
    with pytest.raises(ValueError, match="unknown layout '9.1'"):
        parse_layout("9.1", 10)
    with pytest.raises(ValueError, match="unknown channel label 'X'"):
        parse_layout("L,R,X", 3)
    assert resolve(6, option="5.1", mask=0x33).source == "option"  # the option wins over the mask


def test_wav_channel_mask_from_headers(tmp_path):
    x = np.zeros((6, 100))
    assert wav_channel_mask(write_wavex(tmp_path / "a.wav", x, 48000, 0x60F)) == 0x60F
    sf.write(tmp_path / "b.wav", x.T, 48000, subtype="FLOAT")  # plain WAVE_FORMAT_IEEE_FLOAT
    assert wav_channel_mask(tmp_path / "b.wav") is None
    rf = bytearray((tmp_path / "a.wav").read_bytes())
    rf[:4] = b"RF64"  # the fmt chunk is read the same way in an RF64/BW64 file
    (tmp_path / "c.wav").write_bytes(bytes(rf))
    assert wav_channel_mask(tmp_path / "c.wav") == 0x60F
    (tmp_path / "d.wav").write_bytes(b"RIFF" + struct.pack("<I", 4) + b"WAVE")
    assert wav_channel_mask(tmp_path / "d.wav") is None
    assert wav_channel_mask(tmp_path / "missing.wav") is None
    (tmp_path / "e.flac").write_bytes(b"fLaC")
    assert wav_channel_mask(tmp_path / "e.flac") is None

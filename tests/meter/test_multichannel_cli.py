"""`mixgraph meter` on multichannel files: the layout in the output, --layout, and the errors a
user can act on (exit 1, no traceback)."""

from __future__ import annotations

import json
import struct

import numpy as np
import soundfile as sf

from mixgraph.cli import main
from tests.meter.test_multichannel import SR, programme, write_wavex


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_has_the_layout_and_each_channels_peaks(tmp_path, capsys):
    f = write_wavex(tmp_path / "s51.wav", programme(6, seconds=5.0), SR, 0x3F)
    code, out, _ = run(capsys, "meter", "--json", str(f))
    assert code == 0
    (d,) = json.loads(out)
    assert d["channels"] == 6 and d["layout"] == "5.1" and d["layout_source"] == "mask"
    assert d["channel_labels"] == ["L", "R", "C", "LFE", "Ls", "Rs"]
    assert d["channel_weights"] == [1.0, 1.0, 1.0, 0.0, 1.41, 1.41]
    assert len(d["channel_true_peak_dbtp"]) == len(d["channel_sample_peak_dbfs"]) == 6
    assert d["true_peak_dbtp"] == max(d["channel_true_peak_dbtp"])
    assert d["correlation"] is None and d["mono_loudness_diff_lu"] is None


def test_stereo_json_names_its_layout(tmp_path, capsys):
    f = tmp_path / "st.wav"
    sf.write(f, 0.1 * np.random.default_rng(0).standard_normal((SR, 2)), SR)
    code, out, _ = run(capsys, "meter", "--json", str(f))
    (d,) = json.loads(out)
    assert code == 0 and d["layout"] == "stereo" and "channel_labels" not in d


def test_layout_option_overrides_and_unknown_counts_say_so(tmp_path, capsys):
    x = programme(7, seconds=4.0)
    f = tmp_path / "seven.wav"
    sf.write(f, x.T, SR, subtype="FLOAT")
    code, out, _ = run(capsys, "meter", str(f))
    assert code == 0 and "every channel weighted 1.0" in out.replace("\n", " ")
    code, out, _ = run(capsys, "meter", "--json", "--layout", "7.0", str(f))
    (d,) = json.loads(out)
    assert code == 0 and d["layout"] == "7.0" and d["layout_source"] == "option" and d["layout_note"] is None


def test_a_layout_of_the_wrong_size_is_a_user_error(tmp_path, capsys):
    f = write_wavex(tmp_path / "s51.wav", programme(6, seconds=1.0), SR, 0x3F)
    code, _, err = run(capsys, "meter", "--layout", "7.1", str(f))
    assert code == 1 and "has 8 channels; the file has 6" in err and "Traceback" not in err
    code, _, err = run(capsys, "meter", "--layout", "octo", str(f))
    assert code == 1 and "unknown layout" in err and "Traceback" not in err


def test_too_many_channels_is_a_user_error(tmp_path, capsys):
    f = tmp_path / "many.wav"
    sf.write(f, np.zeros((1000, 25)), SR, subtype="FLOAT")
    code, _, err = run(capsys, "meter", str(f))
    assert code == 1 and "25 channels; the meter takes 1 to 24" in err and "Traceback" not in err
    f = tmp_path / "max.wav"
    sf.write(f, 0.1 * np.ones((SR, 24)), SR, subtype="FLOAT")
    assert run(capsys, "meter", "--json", str(f))[0] == 0


def test_zero_channels_is_a_user_error(tmp_path, capsys):
    f = write_wavex(tmp_path / "zero.wav", np.zeros((1, 100)), SR, 0x4)
    b = bytearray(f.read_bytes())
    b[22:24] = struct.pack("<H", 0)  # the fmt chunk's channel count
    f.write_bytes(bytes(b))
    code, _, err = run(capsys, "meter", str(f))
    assert code == 1 and "Traceback" not in err and str(f) in err

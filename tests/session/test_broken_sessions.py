"""Every broken session gives its exit code, the right line and column, and no traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from mixgraph.cli import main
from tests.session.broken_cases import BROKEN, EXPECTED


@pytest.fixture
def folder(tmp_path):
    for name in ("kick.wav", "bass.wav"):
        sf.write(tmp_path / name, np.zeros((480, 1)), 48000)
    return tmp_path


def run_cli(capsys, args):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_corpus_is_large_enough_and_complete():
    assert len(EXPECTED) >= 40
    assert sorted(row[0] for row in EXPECTED) == sorted(p.name for p in BROKEN.glob("*.yaml"))


@pytest.mark.parametrize("case", EXPECTED, ids=[c[0].removesuffix(".yaml") for c in EXPECTED])
def test_broken_session(case, folder, capsys):
    name, code, line, col, fragment = case
    path = folder / "session.yaml"
    path.write_bytes((BROKEN / name).read_bytes())
    exit_code, out, err = run_cli(capsys, ["validate", "--format", "json", str(path)])
    report = json.loads(out)[0]
    assert exit_code == code, report
    assert not report["ok"]
    diags = report["diagnostics"]
    assert diags, report
    d = diags[0]
    assert fragment in d["message"] + " " + (d["hint"] or ""), d
    if line is not None:
        assert (d["line"], d["col"]) == (line, col), d
    # the text format too: no traceback, file:line:col in the house style
    exit_code, out, err = run_cli(capsys, ["validate", str(path)])
    assert exit_code == code
    assert "Traceback" not in err + out
    if line is not None:
        assert f"{path}:{line}:{col}:" in err


def test_all_problems_of_a_stage_are_reported_sorted(folder, capsys):
    path = folder / "session.yaml"
    path.write_text("mixgraph: 1\nname: song\ntracks:\n  kick: {source: kick.wav, pan: 3, gain_db: '1'}\n"
                    "  bass: {source: bass.wav, mute: 2}\n")
    code, out, _ = run_cli(capsys, ["validate", "--format", "json", str(path)])
    diags = json.loads(out)[0]["diagnostics"]
    assert code == 2
    assert [(d["line"], d["col"]) for d in diags] == sorted((d["line"], d["col"]) for d in diags)
    assert len(diags) == 3


def test_a_track_named_no_stays_a_string(folder, capsys):
    path = folder / "session.yaml"
    path.write_text("mixgraph: 1\nname: song\ntracks:\n  no: {source: kick.wav}\n  on: {source: bass.wav}\n")
    code, out, _ = run_cli(capsys, ["validate", str(path)])
    assert code == 0, out


def test_anchors_and_merge_keys_are_allowed(folder, capsys):
    path = folder / "session.yaml"
    path.write_text("mixgraph: 1\nname: song\ntracks:\n"
                    "  kick: &base {source: kick.wav, gain_db: -3, chain: [{type: gain, gain_db: 1}]}\n"
                    "  bass:\n    <<: *base\n    source: bass.wav\n")
    from mixgraph.api.session import load_session

    s = load_session(path)
    assert s.tracks["bass"].gain_db == -3 and s.tracks["bass"].source == "bass.wav"


def test_missing_session_file_is_a_user_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, ["validate", str(tmp_path / "nope.yaml")])
    assert code == 1 and "No such file" in err and "Traceback" not in err


def test_unknown_key_suggestions_come_from_that_models_fields(folder, capsys):
    path = folder / "session.yaml"
    # a limiter has no 'ratio' (a compressor does): no suggestion; 'relase_ms' -> the limiter's 'release_ms'
    path.write_text("mixgraph: 1\nname: song\nmaster:\n  chain:\n    - {type: limiter, ratio: 2, relase_ms: 50}\n"
                    "  loudness: {target_lufs: -14, ceilng_dbtp: -1}\n")
    code, out, _ = run_cli(capsys, ["validate", "--format", "json", str(path)])
    assert code == 2
    got = [(d["path"], d["line"], d["col"], d["message"], d["hint"]) for d in json.loads(out)[0]["diagnostics"]]
    assert got == [
        ("master.chain[0].ratio", 5, 23, "Unknown key 'ratio'.", None),
        ("master.chain[0].relase_ms", 5, 33, "Unknown key 'relase_ms'.", "Did you mean 'release_ms'?"),
        ("master.loudness.ceilng_dbtp", 6, 32, "Unknown key 'ceilng_dbtp'.", "Did you mean 'ceiling_dbtp'?"),
    ]

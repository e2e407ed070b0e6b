"""The session commands end to end, in-process: validate, expand and schema."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from mixgraph.cli import main
from mixgraph.session.schema import schema_text
from tests.conftest import REPO

QUICKSTART = REPO / "examples/quickstart"


@pytest.fixture
def project(tmp_path):
    """A copy of the quickstart (session + stems) that tests may break."""
    dst = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, dst, ignore=shutil.ignore_patterns("renders", "__pycache__"))
    return dst


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


def test_validate_ok_prints_ok_and_exits_0(project, capsys):
    code, out, err = run(capsys, "validate", str(project / "session.yaml"))
    assert code == 0
    assert out.strip() == f"{project / 'session.yaml'}: ok"
    assert err == ""


def test_validate_several_files_exits_with_the_worst_code(project, capsys):
    good = project / "session.yaml"
    missing = project / "missing-stem.yaml"
    missing.write_text(good.read_text().replace("source: bass.flac", "source: bas.flac"))
    invalid = project / "invalid.yaml"
    invalid.write_text(good.read_text().replace("ratio: 4\n", "ratio: 0.5\n"))
    code, out, _ = run(capsys, "validate", "--format", "json", str(good), str(missing), str(invalid))
    assert code == 2
    reports = json.loads(out)
    assert [(r["file"], r["ok"], r["exit_code"]) for r in reports] == [
        (str(good), True, 0), (str(missing), False, 1), (str(invalid), False, 2)]
    (m,) = reports[1]["diagnostics"]
    assert (m["code"], m["path"], m["line"], m["col"]) == ("file.missing", "tracks.bass.source", 32, 13)
    (i,) = reports[2]["diagnostics"]
    assert (i["path"], i["line"], i["col"]) == ("tracks.bass.chain[0].ratio", 38, 16)
    assert i["message"] == "Ratio must be at least 1 (got 0.5)."
    assert set(i) == {"severity", "code", "file", "line", "col", "path", "message", "hint", "via"}

    code, _, _ = run(capsys, "validate", str(good), str(missing))
    assert code == 1


def test_validate_text_output_is_house_style_with_source_excerpt(project, capsys):
    path = project / "session.yaml"
    path.write_text(path.read_text().replace("out: drums\n  snare:", "out: drms\n  snare:"))
    code, _, err = run(capsys, "validate", str(path))
    assert code == 2
    assert err.startswith(f"error: {path} is not a valid session (1 problem)\n")
    assert f"{path}:18:10: tracks.kick.out  Unknown bus 'drms'. Did you mean 'drums'?" in err
    assert " > 18 |     out: drms" in err


def test_validate_reports_a_broken_variant(project, capsys):
    path = project / "session.yaml"
    path.write_text(path.read_text().replace("tracks.vocal.gain_db: 3.0", "tracks.vocal.gain_db: 30.0"))
    code, out, _ = run(capsys, "validate", "--format", "json", str(path))
    assert code == 2
    (d,) = json.loads(out)[0]["diagnostics"]
    assert d["message"] == "With variant 'vocal-up': Gain (dB) must be at most 24 (got 30)."
    lines = path.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "tracks.vocal.gain_db: 30.0" in text)
    assert (d["line"], d["col"]) == (line, lines[line - 1].index("30.0") + 1)


def test_expand_prints_yaml_that_validates_again(project, capsys):
    code, out, _ = run(capsys, "expand", str(project / "session.yaml"))
    assert code == 0
    data = yaml.safe_load(out)
    assert data["master"]["loudness"]["target_lufs"] == -14.0
    assert data["master"]["loudness"]["ceiling_dbtp"] == -1.0  # streaming default filled
    assert data["returns"]["echo"]["chain"][0]["tempo_bpm"] == 120  # from the session tempo
    assert data["tracks"]["kick"]["fade"] == {"in_ms": 0.0, "out_ms": 0.0}  # defaults filled
    expanded = project / "expanded.yaml"
    expanded.write_text(out)
    code, _, _ = run(capsys, "validate", str(expanded))
    assert code == 0


def test_expand_variant(project, capsys):
    code, out, _ = run(capsys, "expand", str(project / "session.yaml"), "--variant", "instrumental")
    assert code == 0
    data = yaml.safe_load(out)
    assert data["tracks"]["vocal"]["mute"] is True
    assert data["tracks"]["kick"]["mute"] is False
    assert data["variants"] == {}


def test_expand_unknown_variant_is_invalid_with_a_suggestion(project, capsys):
    code, out, err = run(capsys, "expand", str(project / "session.yaml"), "--variant", "instrumentl")
    assert code == 2
    assert out == ""
    assert "Unknown variant 'instrumentl'. Did you mean 'instrumental'?" in err


def test_schema_prints_and_writes_the_committed_schema(tmp_path, capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0 and out == schema_text()
    assert out == (REPO / "schemas/session.schema.json").read_text()
    target = tmp_path / "s.json"
    code, _, _ = run(capsys, "schema", "--output", str(target))
    assert code == 0
    assert json.loads(target.read_text())["title"] == "mixgraph session"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".schema.")]  # no temp file left


def test_pre_commit_hook_runs_validate_on_yaml_files():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "mixgraph-validate"]
    # "--": every file name pre-commit appends is a file, whatever it looks like (--json.yaml)
    assert hook["entry"] == "mixgraph validate --" and hook["language"] == "python"
    import re

    assert re.search(hook["files"], "song.yaml") and re.search(hook["files"], "song.yml")
    assert not re.search(hook["files"], "song.json")

"""`mixgraph diff`: a musical diff of two sessions, from files or git revisions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from mixgraph.cli import main
from mixgraph.recall.diff import _lcs
from tests.conftest import REPO

GOLDEN = REPO / "tests/recall/golden/diff_quickstart.txt"
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def edit(text: str) -> str:
    """The second revision: vocal up 1 dB, a saturation inserted before the compressor whose ratio
    changes, bass re-routed, a new track, a muted track, the echo return removed, a louder target,
    a new variant."""
    def sub(old, new):
        nonlocal text
        assert old in text, old
        text = text.replace(old, new, 1)

    sub("gain_db: 2.0\n    chain:", "gain_db: 3.0\n    chain:")
    sub("      - {id: comp, type: compressor, threshold_db: -24, ratio: 3,",
        "      - {type: saturation, drive_db: 3}\n      - {id: comp, type: compressor, threshold_db: -24, ratio: 4,")
    sub("    out: music\n  keys:", "    out: drums\n  keys:")
    sub("  echo:\n    chain: [{type: delay, note: 1/8d, feedback: 0.35, mix: 1.0, highcut_hz: 5000}]\n", "")
    sub("      - {to: echo, level_db: -18}\n", "")
    sub("loudness: {target_lufs: -14.0}", "loudness: {target_lufs: -10.0}")
    sub("tracks:\n", "tracks:\n  shaker:\n    source: hats.flac\n    pan: -0.4\n    out: drums\n")
    sub("    gain_db: -4.0\n    pan: 0.3\n", "    gain_db: -4.0\n    pan: 0.3\n    mute: true\n")
    return text + '  clean: {description: "Radio edit", mute: [hats]}\n'


def git(cwd, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    src = (REPO / "examples/quickstart/session.yaml").read_text()
    (tmp_path / "session.yaml").write_text(src)
    (tmp_path / "v2.yaml").write_text(edit(src))
    if shutil.which("git"):
        git(tmp_path, "init", "-q")
        git(tmp_path, "add", "session.yaml")
        git(tmp_path, "commit", "-q", "-m", "one")
        (tmp_path / "session.yaml").write_text(edit(src))
        git(tmp_path, "commit", "-q", "-am", "two")
    return tmp_path


def run(capsys, *args):
    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@needs_git
def test_diff_of_two_git_revisions_matches_the_golden_file(repo, capsys, monkeypatch, request):
    monkeypatch.chdir(repo)
    code, out, err = run(capsys, "diff", "HEAD~1:session.yaml", "HEAD:session.yaml")
    assert code == 0, err
    if request.config.getoption("--update-golden"):
        GOLDEN.write_text(out)
    assert out == GOLDEN.read_text()
    # the same two versions as files give the same lines
    code, out2, _ = run(capsys, "diff", REPO / "examples/quickstart/session.yaml", repo / "v2.yaml")
    assert out2 == out


def test_expected_lines(repo, capsys):
    code, out, _ = run(capsys, "diff", REPO / "examples/quickstart/session.yaml", repo / "v2.yaml")
    lines = out.splitlines()
    assert "~ track vocal: gain_db 2 dB -> 3 dB (+1 dB)" in lines
    assert "~ track bass: out bus music -> bus drums" in lines
    assert "~ track hats: muted" in lines
    assert "+ track shaker (source hats.flac, -> bus drums)" in lines
    assert "- return echo (-> master, chain delay)" in lines
    assert "~ master: loudness target -14 LUFS -> -10 LUFS (+4 LU)" in lines
    # the inserted saturation is one insertion; the compressor behind it is matched by its id
    assert "+ track vocal: chain[1] saturation (drive_db 3 dB)" in lines
    assert "~ track vocal: chain[2] compressor 'comp' ratio 3 -> 4" in lines
    assert not [x for x in lines if "deesser" in x]


def test_json_changes(repo, capsys):
    code, out, _ = run(capsys, "diff", REPO / "examples/quickstart/session.yaml", repo / "v2.yaml", "--json")
    changes = json.loads(out)
    gain = next(c for c in changes if c["path"] == "tracks.vocal.gain_db")
    assert gain == {"op": "change", "kind": "track", "name": "vocal", "path": "tracks.vocal.gain_db",
                    "old": 2.0, "new": 3.0, "unit": "dB"}
    target = next(c for c in changes if c["path"] == "master.loudness.target_lufs")
    assert (target["old"], target["new"], target["unit"]) == (-14.0, -10.0, "LUFS")
    added = next(c for c in changes if c["op"] == "add" and c["kind"] == "track")
    assert added["name"] == "shaker" and added["new"]["pan"] == -0.4


def test_identical_sessions_and_exit_code(repo, capsys):
    q = REPO / "examples/quickstart/session.yaml"
    code, out, _ = run(capsys, "diff", q, q)
    assert (code, out) == (0, "no musical changes\n")
    assert run(capsys, "diff", q, repo / "v2.yaml", "--exit-code")[0] == 1
    assert run(capsys, "diff", q, q, "--exit-code")[0] == 0
    # formatting only (comments, flow vs block style, key order) is not a musical change
    text = q.read_text().replace("gain_db: -2.0\n", "gain_db: -2   # quieter\n", 1)
    (repo / "fmt.yaml").write_text(text)
    assert run(capsys, "diff", q, repo / "fmt.yaml")[1] == "no musical changes\n"


def test_chain_alignment_is_a_longest_common_subsequence():
    a = ["type:eq", "id:comp", "type:deesser"]
    b = ["type:gain", "type:eq", "type:saturation", "id:comp", "type:deesser"]
    assert _lcs(a, b) == [(0, 1), (1, 3), (2, 4)]
    assert _lcs(["type:eq", "type:eq"], ["type:eq"]) == [(0, 0)]
    assert _lcs([], ["type:eq"]) == []


@needs_git
def test_bad_specs_are_user_errors(repo, capsys, monkeypatch):
    monkeypatch.chdir(repo)
    code, _, err = run(capsys, "diff", "HEAD~9:session.yaml", "session.yaml")
    assert code == 1 and "git cannot show it" in err and "Traceback" not in err
    code, _, err = run(capsys, "diff", "nope.yaml", "session.yaml")
    assert code == 1 and "no such session file" in err
    (repo / "bad.yaml").write_text("mixgraph: 1\nname: x\ntracks: {a: {source: a.wav, gain_db: loud}}\n")
    code, _, err = run(capsys, "diff", "bad.yaml", "session.yaml")
    assert code == 2 and "bad.yaml:3:" in err


@needs_git
def test_git_diff_driver_prints_the_musical_diff(repo):
    (repo / ".gitattributes").write_text("*.yaml diff=mixgraph\n")
    git(repo, "config", "diff.mixgraph.command", f"'{sys.executable}' -m mixgraph diff --git-external")
    out = git(repo, "diff", "--ext-diff", "HEAD~1", "HEAD", "--", "session.yaml")
    assert out.startswith("mixgraph diff a/session.yaml b/session.yaml\n")
    assert "~ track vocal: gain_db 2 dB -> 3 dB (+1 dB)\n" in out
    assert "+ variant clean (Radio edit)\n" in out
    # a new file: everything is an addition
    (repo / "new.yaml").write_text("mixgraph: 1\nname: n\ntracks: {a: {source: a.wav}}\n")
    git(repo, "add", "new.yaml")
    out = git(repo, "diff", "--ext-diff", "--cached", "--", "new.yaml")
    assert "+ track a (source a.wav, -> master)" in out

"""`mixgraph diff`: a musical diff of two sessions, from files or git revisions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from mixgraph.cli import main
from mixgraph.session.diff import _lcs
from tests.conftest import REPO

GOLDEN = REPO / "tests/session/golden/diff_quickstart.txt"
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
    # the diff driver git starts ('python -m mixgraph') must import this checkout, not an installed copy
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                          capture_output=True, text=True, env=env).stdout


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
def test_diff_of_two_git_revisions_matches_the_golden_file(repo, capsys, monkeypatch, golden):
    monkeypatch.chdir(repo)
    code, out, err = run(capsys, "diff", "HEAD~1:session.yaml", "HEAD:session.yaml")
    assert code == 0, err
    golden(GOLDEN, out)
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
    ratio = next(c for c in changes if c["path"] == "tracks.vocal.chain[2].ratio")
    assert (ratio["op"], ratio["old"], ratio["new"], ratio["unit"]) == ("change", 3.0, 4.0, None)
    inserted = next(c for c in changes if c["path"] == "tracks.vocal.chain[1]")
    assert inserted["op"] == "add" and inserted["new"]["type"] == "saturation"
    assert not [c for c in changes if c["path"].startswith("tracks.vocal.chain[3]")]  # the de-esser: unchanged
    route = next(c for c in changes if c["path"] == "tracks.bass.out")
    assert (route["old"], route["new"]) == ("music", "drums")
    assert [c["kind"] for c in changes if c["op"] == "remove" and c["path"] == "returns.echo"] == ["return"]
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
    # an eq inserted between two eqs of the same type: the first old eq stays first, the new one is
    # the insertion, the compressor and the last eq are matched (not read as changed)
    assert _lcs(["type:eq", "type:compressor", "type:eq"],
                ["type:eq", "type:eq", "type:compressor", "type:eq"]) == [(0, 0), (1, 2), (2, 3)]


def test_parameter_lines_units_words_and_master(tmp_path, capsys):
    q = (REPO / "examples/quickstart/session.yaml").read_text()
    edits = [
        ("{to: plate, level_db: -10}", "{to: plate, level_db: -12.5}"),                 # send level
        ("[[0, 0], [8, 0], [10, 1.5]]", "[[0, 0], [8, 0], [10, 1.5], [12, 0]]\n      pan: [[0, 0], [4, 0.5]]"),
        ("ratio: 4}\n", "ratio: 4, bypass: true}\n"),                                   # vocal de-esser
        ("    pan: 0.3\n", "    pan: 0.35\n    solo: true\n"),                           # hats
        ("decay_s: 1.8", "decay_s: 2.1"),
        ("{type: lowshelf, freq_hz: 100, gain_db: 1.0}", "{type: lowshelf, freq_hz: 100, gain_db: 1.5}"),
        ("ceiling_dbtp: -1.0, lookahead", "ceiling_dbtp: -1.5, lookahead"),
        ("{id: comp, type: compressor, threshold_db: -24, ratio: 3, attack_ms: 5, release_ms: 80, knee_db: 6, "
         "makeup_db: 3}", "{id: comp, type: gate, threshold_db: -45}"),                    # same id, new type
        ("tempo_bpm: 120", "tempo_bpm: 100"),
    ]
    b = q
    for old, new in edits:
        assert old in b, old
        b = b.replace(old, new, 1)
    (tmp_path / "a.yaml").write_text(q)
    (tmp_path / "b.yaml").write_text(b)
    code, out, err = run(capsys, "diff", tmp_path / "a.yaml", tmp_path / "b.yaml")
    assert code == 0, err
    assert out.splitlines() == [
        "~ session: tempo_bpm 120 BPM -> 100 BPM",
        "~ track hats: soloed",
        "~ track hats: pan 0.3 -> 0.35",
        "- track vocal: chain[1] compressor 'comp' (threshold_db -24 dB, ratio 3, attack_ms 5 ms, release_ms 80 ms, "
        "knee_db 6 dB, makeup_db 3 dB)",
        "+ track vocal: chain[1] gate 'comp' (threshold_db -45 dB)",
        "~ track vocal: chain[2] deesser bypassed",
        "~ track vocal: send to plate level_db -10 dB -> -12.5 dB (-2.5 dB)",
        "~ track vocal: automation of gain_db changed (3 -> 4 points)",
        "+ track vocal: automation of pan (2 points)",
        # the tempo reaches the synced delay once the session is expanded: what renders changed
        "~ return echo: chain[0] delay tempo_bpm 120 BPM -> 100 BPM",
        "~ return plate: chain[0] reverb decay_s 1.8 s -> 2.1 s",
        "~ master: chain[0] eq bands[0].gain_db 1 dB -> 1.5 dB (+0.5 dB)",
        "~ master: chain[2] limiter ceiling_dbtp -1 dBTP -> -1.5 dBTP (-0.5 dB)",
    ]
    # back again: every line turns around (bypassed -> back in, soloed -> unsoloed, - <-> +)
    out_back = run(capsys, "diff", tmp_path / "b.yaml", tmp_path / "a.yaml")[1].splitlines()
    assert "~ track hats: unsoloed" in out_back and "~ track vocal: chain[2] deesser back in" in out_back
    assert "- track vocal: automation of pan" in out_back
    assert "~ track vocal: send to plate level_db -12.5 dB -> -10 dB (+2.5 dB)" in out_back
    # a loudness target dropped / added is one line
    (tmp_path / "c.yaml").write_text(q.replace("  loudness: {target_lufs: -14.0}\n", ""))
    assert run(capsys, "diff", tmp_path / "a.yaml", tmp_path / "c.yaml")[1] == \
        "- master: loudness target (target -14 LUFS, ceiling -1 dBTP)\n"
    (tmp_path / "d.yaml").write_text(q.replace("{target_lufs: -14.0}", "{preset: club}"))
    assert run(capsys, "diff", tmp_path / "a.yaml", tmp_path / "d.yaml")[1].splitlines() == [
        "~ master: loudness preset none -> club",
        "~ master: loudness target -14 LUFS -> -9 LUFS (+5 LU)",
        "~ master: ceiling -1 dBTP -> -0.3 dBTP (+0.7 dB)",
    ]


@needs_git
def test_bad_specs_are_user_errors(repo, capsys, monkeypatch, tmp_path_factory):
    monkeypatch.chdir(repo)
    code, _, err = run(capsys, "diff", "HEAD~9:session.yaml", "session.yaml")
    assert code == 1 and "git cannot show it (invalid object name 'HEAD~9')" in err and "Traceback" not in err
    assert "No revision 'HEAD~9' here" in err
    code, _, err = run(capsys, "diff", "HEAD~1:song.yaml", "session.yaml")
    assert code == 1 and "does not exist in 'HEAD~1'" in err and "The file is not in HEAD~1" in err
    code, _, err = run(capsys, "diff", ":v2.yaml", "session.yaml")  # never added: not in the index
    assert code == 1 and "v2.yaml is not in the index" in err
    code, _, err = run(capsys, "diff", "nope.yaml", "session.yaml")
    assert code == 1 and "no such session file" in err
    (repo / "bad.yaml").write_text("mixgraph: 1\nname: x\ntracks: {a: {source: a.wav, gain_db: loud}}\n")
    code, _, err = run(capsys, "diff", "bad.yaml", "session.yaml")
    assert code == 2 and "bad.yaml:3:" in err
    code, _, err = run(capsys, "diff", "session.yaml")
    assert code == 1 and "diff compares two sessions" in err
    # outside any repository
    plain = tmp_path_factory.mktemp("plain")
    (plain / "s.yaml").write_text((repo / "session.yaml").read_text())
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(plain.parent))
    code, _, err = run(capsys, "diff", "HEAD:s.yaml", "s.yaml")
    assert code == 1 and "not a git repository" in err and "is not inside a git repository" in err
    assert "Traceback" not in err


@needs_git
def test_the_index_and_a_subfolder_from_elsewhere(repo, capsys, monkeypatch):
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    # ':path' is the index, paths are relative to the current folder like git's REV:./path
    code, out, err = run(capsys, "diff", "HEAD~1:../session.yaml", ":../session.yaml")
    assert code == 0, err
    assert out == GOLDEN.read_text()
    assert run(capsys, "diff", ":../session.yaml", repo / "session.yaml")[1] == "no musical changes\n"


def test_variant_of_both_sides(repo, capsys):
    q = REPO / "examples/quickstart/session.yaml"
    code, out, _ = run(capsys, "diff", q, repo / "v2.yaml", "--variant", "vocal-up")
    # vocal-up sets the vocal to 3 dB on both sides: the fader change is gone, the rest stays
    assert "~ track vocal: gain_db" not in out and "~ track bass: out bus music -> bus drums" in out


VOX = """\
mixgraph: 1
name: s
sources_dir: stems
use:
  vox: {template: vocal-stack@1, with: {lead: lead.wav, harmonies: "harm_*.wav", harmonies_db: -10}}
"""


@needs_git
def test_git_diff_driver_prints_the_musical_diff(repo):
    (repo / ".gitattributes").write_text("*.yaml diff=mixgraph\n")
    git(repo, "config", "diff.mixgraph.command", f"'{sys.executable}' -m mixgraph diff --git-external")
    # plain 'git diff' uses the driver the attributes name
    out = git(repo, "diff", "HEAD~1", "HEAD", "--", "session.yaml")
    assert out.startswith("mixgraph diff a/session.yaml b/session.yaml\n")
    assert out.splitlines()[1:] == GOLDEN.read_text().splitlines()
    # git log -p takes it with --ext-diff
    out = git(repo, "log", "-p", "--ext-diff", "-1", "--format=%s", "--", "session.yaml")
    assert "~ track vocal: gain_db 2 dB -> 3 dB (+1 dB)\n" in out and "+ variant clean (Radio edit)\n" in out
    # a new file: everything is an addition; a deleted one: everything a removal
    (repo / "new.yaml").write_text("mixgraph: 1\nname: n\ntracks: {a: {source: a.wav}}\n")
    git(repo, "add", "new.yaml")
    out = git(repo, "diff", "--cached", "--", "new.yaml")
    # (the default output comes with it)
    assert out == ("mixgraph diff a/new.yaml b/new.yaml\n+ track a (source a.wav, -> master)\n"
                   "+ output master (renders/{name}{variant}-master.wav, tap master)\n")
    git(repo, "commit", "-q", "-m", "new")
    git(repo, "rm", "-q", "new.yaml")
    out = git(repo, "diff", "--cached", "--", "new.yaml")
    assert out == ("mixgraph diff a/new.yaml b/new.yaml\n- track a (source a.wav, -> master)\n"
                   "- output master (renders/{name}{variant}-master.wav, tap master)\n")
    # a YAML file that is no session (the pattern matched it too): the reason, then the text diff;
    # 'git diff' must not die
    (repo / "ci.yaml").write_text("steps:\n  - run: a\n")
    git(repo, "add", "ci.yaml")
    git(repo, "commit", "-q", "-m", "ci")
    (repo / "ci.yaml").write_text("steps:\n  - run: b\n")
    out = git(repo, "diff", "--", "ci.yaml")
    lines = out.splitlines()
    assert lines[0] == "mixgraph diff a/ci.yaml b/ci.yaml"
    assert lines[1].startswith("(not a valid session: a/ci.yaml:1:1: ") and lines[1].endswith("Text diff follows.)")
    assert lines[2:] == ["--- a/ci.yaml", "+++ b/ci.yaml", "@@ -1,2 +1,2 @@", " steps:", "-  - run: a", "+  - run: b"]


@needs_git
def test_git_driver_reads_both_sides_in_the_folder_of_the_session(tmp_path, capsys, monkeypatch):
    """git hands the driver the old side as a temporary file elsewhere: its globs (and local templates)
    must still resolve in the session's folder, or the old side would not even load."""
    song = tmp_path / "songs/one"
    for f in ("lead.wav", "harm_1.wav", "harm_2.wav"):
        (song / "stems").mkdir(parents=True, exist_ok=True)
        (song / "stems" / f).write_bytes(b"")  # only globbed (check_media is off): never read
    (song / "session.yaml").write_text(VOX)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "one")
    (song / "session.yaml").write_text(VOX.replace("harmonies_db: -10", "harmonies_db: -12, level_db: -3"))
    (tmp_path / ".gitattributes").write_text("session.yaml diff=mixgraph\n")
    git(tmp_path, "config", "diff.mixgraph.command", f"'{sys.executable}' -m mixgraph diff --git-external")
    expected = [
        "~ track vox_harmony_1: gain_db -10 dB -> -12 dB (-2 dB)",
        "~ track vox_harmony_2: gain_db -10 dB -> -12 dB (-2 dB)",
        "~ bus vocals: gain_db 0 dB -> -3 dB (-3 dB)",
    ]
    out = git(song, "diff")
    assert out.splitlines() == ["mixgraph diff a/songs/one/session.yaml b/songs/one/session.yaml", *expected]
    # the same from the command line, from the top of the repository and from the song's folder
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "diff", "HEAD:songs/one/session.yaml", "songs/one/session.yaml")[1].splitlines() == expected
    monkeypatch.chdir(song)
    assert run(capsys, "diff", "HEAD:session.yaml", "session.yaml")[1].splitlines() == expected

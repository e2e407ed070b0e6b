"""Class 8 of the hostile-session corpus: hostile names. A file named like an option is a file,
terminal escape sequences in names never reach the terminal raw, and a revision spec never
becomes an option of git. Subprocesses: what reaches the terminal is the process's bytes."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.trust.corpus import (
    RENDER_OPTS,
    assert_user_facing,
    base_doc,
    changes,
    make_song,
    proc,
    snapshot,
    write_wav,
)

ESC, BEL = "\x1b", "\x07"


def assert_no_control_bytes(run) -> None:
    assert ESC not in run.text and BEL not in run.text, f"exit {run.code}; raw ESC/BEL reached the terminal: {run.text!r}"


@pytest.mark.parametrize("how", [("--json.yaml",), ("--", "--json.yaml"), ("./--json.yaml",)],
                         ids=["bare", "after-dashdash", "dot-slash"])
def test_session_named_like_an_option_is_a_file(tmp_path, how):
    song = make_song(tmp_path)
    (song.dir / "--json.yaml").write_text(song.session.read_text())
    r = proc("validate", *how, cwd=song.dir, timeout=60)
    assert_user_facing(r)
    assert r.code == 0, r.text
    assert "--json.yaml: ok" in r.out


def test_broken_session_named_like_an_option_is_named(tmp_path):
    song = make_song(tmp_path)
    (song.dir / "--json.yaml").write_text(song.session.read_text().replace("out/mix.wav", "out/mix.wav\nbogus: 1"))
    r = proc("validate", "--json.yaml", cwd=song.dir, timeout=60)
    assert_user_facing(r, ("--json.yaml",))
    assert r.code == 2, r.text


NASTY = f"a{ESC}[2J{BEL}b"


def test_escape_sequences_in_a_missing_source_name(tmp_path):
    doc = base_doc()
    doc["tracks"]["a"]["source"] = f"{NASTY}.wav"
    song = make_song(tmp_path, doc)
    for cmd in ("validate", "render"):
        r = proc(cmd, song.session, timeout=60)
        assert_user_facing(r)
        assert r.code == 1, r.text
        assert_no_control_bytes(r)


def test_escape_sequences_in_an_existing_source_name(tmp_path):
    doc = base_doc()
    doc["tracks"]["a"]["source"] = f"{NASTY}.wav"
    song = make_song(tmp_path, doc)
    write_wav(song.dir / "stems" / f"{NASTY}.wav")
    for cmd in (("validate",), ("plan",), ("render", *RENDER_OPTS), ("lock",)):
        r = proc(*cmd[:1], song.session, *cmd[1:], timeout=60)
        assert_user_facing(r)
        assert_no_control_bytes(r)


def test_escape_sequences_in_an_output_path(tmp_path):
    song = make_song(tmp_path, base_doc(outputs={"mix": {"path": f"out/{NASTY}.wav", "bit_depth": "32f"}}))
    for cmd in (("validate",), ("plan",), ("render", *RENDER_OPTS)):
        r = proc(*cmd[:1], song.session, *cmd[1:], timeout=60)
        assert_user_facing(r)
        assert_no_control_bytes(r)


@pytest.mark.parametrize("where", ["track-key", "out-value", "variant-name", "set-path", "session-filename"])
def test_escape_sequences_in_an_invalid_session_never_reach_the_terminal(tmp_path, where):
    doc = base_doc()
    name = "song.yaml"
    if where == "track-key":
        doc["tracks"][NASTY] = {"source": "a.wav"}
    elif where == "out-value":
        doc["tracks"]["a"]["out"] = NASTY
    elif where == "variant-name":
        doc["variants"] = {NASTY: {"mute": ["a"]}}
    elif where == "set-path":
        doc["variants"] = {"v": {"set": {f"tracks.{NASTY}.gain_db": 1.0}}}
    else:
        name = f"{NASTY}.yaml"
        doc["tracks"]["a"]["out"] = "nope"
    song = make_song(tmp_path, doc)
    path = song.dir / name
    if path != song.session:
        song.session.rename(path)
    for cmd in ("validate", "render", "expand"):
        r = proc(cmd, path, timeout=60)
        assert_user_facing(r)
        assert r.code == 2, r.text
        assert_no_control_bytes(r)


def test_escape_sequences_in_a_valid_session_filename(tmp_path):
    song = make_song(tmp_path)
    path = song.dir / f"{NASTY}.yaml"
    song.session.rename(path)
    r = proc("validate", path, timeout=60)
    assert_user_facing(r)
    assert r.code == 0, r.text
    assert_no_control_bytes(r)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("spec", ["--output={tmp}/x:song.yaml", "--output={tmp}/x:./song.yaml",
                                  "--ext-diff --output={tmp}/x:song.yaml"])
def test_diff_revision_never_becomes_a_git_option(tmp_path, spec):
    song = make_song(tmp_path)
    git = ["git", "-C", str(song.dir), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "song.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    # the folder an option --output=<tmp>/x:./song.yaml would write into, so the attack could work
    (tmp_path / "x:.").mkdir()
    before = snapshot(tmp_path)
    arg = spec.format(tmp=tmp_path)
    r = proc("diff", "--", arg, "song.yaml", cwd=song.dir, timeout=60)
    touched = [c for c in changes(before, snapshot(tmp_path)) if not c.split(" ", 1)[1].startswith("song/.git/")]
    assert not touched, f"exit {r.code}; git was given an option and touched {touched}"
    assert_user_facing(r)
    assert r.code == 1, r.text


def test_yaml_with_a_python_tag_in_a_name_is_refused(tmp_path):
    song = make_song(tmp_path)
    song.write(yaml.safe_dump(base_doc()) + "x: !!python/object/apply:os.system ['touch ../victim/pwned']\n")
    before = snapshot(tmp_path)
    r = proc("validate", song.session, timeout=60)
    assert_user_facing(r, ("song.yaml",))
    assert r.code == 2, r.text
    assert not changes(before, snapshot(tmp_path))

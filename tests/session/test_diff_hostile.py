"""`mixgraph diff` with hostile names and broken inputs: paths that look like options, revisions that
would be git options, control characters in names, unreadable sides. Exit 1 or 2, never 3."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from mixgraph.cli import main
from mixgraph.cli.output import format_diagnostics, print_warnings
from mixgraph.errors import Diagnostic, printable
from tests.conftest import REPO

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

SONG = "mixgraph: 1\nname: s\ntracks:\n  a: {source: a.wav, gain_db: -1}\n"
MB = ("mixgraph: 1\nname: m\ntracks:\n  a: {source: a.wav}\nmaster:\n  chain: [{type: multiband, "
      "crossovers_hz: [200, 2000], bands: [{threshold_db: -20}, {}, {ratio: 3}]}]\n")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def git(cwd, *args, check=True):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=check,
                          capture_output=True, text=True, env=ENV)


def run(capsys, *args):
    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def cli(cwd, *args):
    """``python -m mixgraph`` in its own process, output as bytes (to look for raw control bytes)."""
    return subprocess.run([sys.executable, "-m", "mixgraph", *args], cwd=cwd, capture_output=True, env=ENV)


# --------------------------------------------------------------------------- printable


def test_printable_escapes_controls_and_keeps_the_rest():
    assert printable("a\x1b[2Jb\x07c") == "a\\x1b[2Jb\\x07c"
    assert printable("one\ntwo\tthree\rfour\x00") == "one\ntwo\\x09three\\x0dfour\\x00"
    # DEL and the C1 controls (0x9b is a one-byte CSI on some terminals); not the characters after them
    assert printable("\x7f\x85\x9b\x9f\xa0é—♪") == "\\x7f\\x85\\x9b\\x9f\xa0é—♪"
    # an undecodable byte of a file name (surrogateescape) prints as that byte; other lone surrogates too
    assert printable(os.fsdecode(b"take\xff.wav") + "\ud800") == "take\\xff.wav\\ud800"
    assert printable(printable("\x1b\x07\x9b")) == printable("\x1b\x07\x9b")


def test_diagnostics_and_warnings_are_printed_escaped(capsys):
    d = Diagnostic("The file 'x\x1b[2J\x07.wav' does not exist.", "s\x1b.yaml", 4, 3, "tracks.a.source",
                   hint="Check \x9b the path.")
    assert d.format() == "s\\x1b.yaml:4:3: tracks.a.source  The file 'x\\x1b[2J\\x07.wav' does not exist. " \
                         "Check \\x9b the path."
    # the source excerpt is part of the text too
    text = d.format(["a", "b", "c", "  a: {source: \"x\x1b[2J\x07.wav\"}"])
    assert "\x1b" not in text and text.endswith(' > 4 |   a: {source: "x\\x1b[2J\\x07.wav"}')
    assert "\x1b" not in format_diagnostics([d], with_source=False)
    print_warnings([Diagnostic("Output 'x\x1b]0;pwned\x07' is quiet.", severity="warning")])
    assert capsys.readouterr().err == "<session>: warning: Output 'x\\x1b]0;pwned\\x07' is quiet.\n"


def test_validate_never_prints_a_control_character_from_the_session(tmp_path):
    (tmp_path / "s.yaml").write_text('mixgraph: 1\nname: s\ntracks:\n  a: {source: "x\\e[2J\\ay.wav"}\n')
    res = cli(tmp_path, "validate", "s.yaml")
    assert res.returncode == 1, res.stderr
    both = res.stdout + res.stderr
    assert b"\x1b" not in both and b"\x07" not in both
    assert b"The file 'x\\x1b[2J\\x07y.wav' does not exist." in res.stderr


def test_error_and_diff_output_escape_names(tmp_path, capsys):
    # print_error: a session file name with ESC in it
    code, out, err = run(capsys, "diff", tmp_path / "x\x1b[2J.yaml", tmp_path / "y.yaml")
    assert code == 1 and "\x1b" not in err and "x\\x1b[2J.yaml: no such session file" in err
    # the diff lines: a source path from the session
    (tmp_path / "a.yaml").write_text(SONG)
    (tmp_path / "b.yaml").write_text(SONG.replace("a.wav", "\"a\\e]0;title\\a.wav\""))
    code, out, err = run(capsys, "diff", tmp_path / "a.yaml", tmp_path / "b.yaml")
    assert code == 0, err
    assert out.splitlines() == ["~ track a: source a.wav -> a\\x1b]0;title\\x07.wav"]
    # an output path with a control character is refused (at its line), and the refusal escapes it
    (tmp_path / "c.yaml").write_text(SONG + 'outputs:\n  x: {path: "r/\\e[31mred.wav"}\n')
    code, out, err = run(capsys, "diff", tmp_path / "a.yaml", tmp_path / "c.yaml")
    assert code == 2 and "\x1b" not in err and "control character (U+001B)" in err


# --------------------------------------------------------------------------- git's external diff


@needs_git
def test_git_driver_with_paths_that_look_like_options(tmp_path):
    """git calls the driver with the path first: '--json.yaml' and '-x.yaml' must be paths, or
    argparse stops the driver, git exits 128 and every later file goes unshown."""
    names = ["--json.yaml", "-x.yaml", "song.yaml"]
    for n in names:
        (tmp_path / n).write_text(SONG if n != "-x.yaml" else MB)
    (tmp_path / ".gitattributes").write_text("*.yaml diff=mixgraph\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "diff.mixgraph.command", f"'{sys.executable}' -m mixgraph diff --git-external")
    git(tmp_path, "add", "--", *names, ".gitattributes")
    git(tmp_path, "commit", "-q", "-m", "one")
    for n in ("--json.yaml", "song.yaml"):
        (tmp_path / n).write_text(SONG.replace("gain_db: -1", "gain_db: -2.5"))
    (tmp_path / "-x.yaml").write_text(MB.replace("{ratio: 3}", "{ratio: 3, makeup_db: 1.5}"))
    res = git(tmp_path, "diff", check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "mixgraph diff a/--json.yaml b/--json.yaml",
        "~ track a: gain_db -1 dB -> -2.5 dB (-1.5 dB)",
        "mixgraph diff a/-x.yaml b/-x.yaml",
        "~ master: chain[0] multiband bands[2].makeup_db 0 dB -> 1.5 dB (+1.5 dB)",
        "mixgraph diff a/song.yaml b/song.yaml",
        "~ track a: gain_db -1 dB -> -2.5 dB (-1.5 dB)",
    ]
    # a multiband replaced through git too (it raised KeyError: exit 3, and git died)
    git(tmp_path, "commit", "-q", "-am", "two")
    (tmp_path / "-x.yaml").write_text(MB.split("master:")[0] + "master:\n  chain: [{type: gain, gain_db: -1}]\n")
    res = git(tmp_path, "diff", "--", "-x.yaml", check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[1:] == [
        "- master: chain[0] multiband (crossovers_hz [200, 2000] Hz, bands [{threshold_db -20 dB}, {defaults}, "
        "{ratio 3, makeup_db 1.5 dB}])",
        "+ master: chain[0] gain (gain_db -1 dB)",
    ]


def test_git_external_options_before_it_and_misuse(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "--json").write_text(SONG)
    (tmp_path / "new.yaml").write_text(SONG.replace("gain_db: -1", "gain_db: 0"))
    # '--json' after --git-external is git's path; --json before it is the option
    code, out, err = run(capsys, "diff", "--git-external", "--json", "--json", "0" * 40, "100644", "new.yaml",
                         "0" * 40, "100644")
    assert (code, out) == (0, "mixgraph diff a/--json b/--json\n~ track a: gain_db -1 dB -> 0 dB (+1 dB)\n"), err
    code, out, err = run(capsys, "diff", "--json", "--git-external", "--json", "--json", "0" * 40, "100644",
                         "new.yaml", "0" * 40, "100644")
    assert code == 0 and out.splitlines()[1] == "["
    # one argument is git's unmerged path, whatever it looks like
    assert run(capsys, "diff", "--git-external", "--help")[:2] == (0, "* Unmerged path --help\n")
    code, _, err = run(capsys, "diff", "--git-external", "a", "b")
    assert code == 1 and "expects the 7 arguments git passes" in err
    code, _, err = run(capsys, "diff", "new.yaml", "--git-external", "a", "b", "c", "d", "e", "f", "g")
    assert code == 1 and "no A or B before it" in err


# --------------------------------------------------------------------------- revisions


@needs_git
def test_an_option_like_revision_never_reaches_git(tmp_path, monkeypatch, capsys):
    git(tmp_path, "init", "-q")
    (tmp_path / "song.yaml").write_text(SONG)
    git(tmp_path, "add", "song.yaml")
    git(tmp_path, "commit", "-q", "-m", "one")
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "x"
    for spec in (f"--output={target}:song.yaml", "-p:song.yaml", "--textconv:song.yaml"):
        code, out, err = run(capsys, "diff", "--", spec, "song.yaml")
        assert code == 1, (spec, err)
        assert f"{spec}: a revision cannot start with '-'" in err and out == ""
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == [".git", "song.yaml"]


@needs_git
def test_broken_inputs_are_user_errors(tmp_path, monkeypatch, capsys):
    git(tmp_path, "init", "-q")
    (tmp_path / "song.yaml").write_text(SONG)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text(SONG)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "one")
    (tmp_path / "latin1.yaml").write_bytes(b"mixgraph: 1\nname: caf\xe9\n")
    monkeypatch.chdir(tmp_path)
    cases = [
        (["missing.yaml", "song.yaml"], 1, "missing.yaml: no such session file"),
        (["latin1.yaml", "song.yaml"], 2, "latin1.yaml:2:10: The file is not UTF-8 text."),
        (["sub", "song.yaml"], 1, "sub is a folder, not a session file."),
        (["nope:song.yaml", "song.yaml"], 1, "nope:song.yaml: git cannot show it (invalid object name 'nope')"),
        (["HEAD~3:song.yaml", "song.yaml"], 1, "git cannot show it (invalid object name 'HEAD~3')"),
        (["HEAD:sub", "song.yaml"], 1, "sub is not a file in HEAD: name a session file."),
        (["HEAD:", "song.yaml"], 1, "HEAD:: no session file after the revision"),
        (["HEAD:sub/", "song.yaml"], 1, "HEAD:sub/: no session file after the revision"),
        (["HEAD:missing.yaml", "song.yaml"], 1, "path 'missing.yaml' does not exist in 'HEAD'"),
        # git's external diff: what git never passes, but a hand-made call might
        (["--git-external", "song.yaml", "sub", "0", "0", "song.yaml", "0", "0"], 1, "sub is a folder"),
        (["--git-external", "song.yaml", "missing.yaml", "0", "0", "song.yaml", "0", "0"], 1,
         "No such file: missing.yaml."),
    ]
    for args, expected_code, message in cases:
        code, out, err = run(capsys, "diff", *args)
        assert (code, message in err, "Traceback" in err) == (expected_code, True, False), (args, err)
    # a non-UTF-8 side under git's driver is no session: the reason, then the text diff, exit 0
    code, out, err = run(capsys, "diff", "--git-external", "song.yaml", "song.yaml", "0", "0", "latin1.yaml",
                         "0", "0")
    assert code == 0, err
    assert out.splitlines()[:3] == [
        "mixgraph diff a/song.yaml b/song.yaml",
        "(not a valid session: b/song.yaml:2:10: The file is not UTF-8 text. Text diff follows.)",
        "--- a/song.yaml",
    ]
    assert "+name: caf\ufffd" in out.splitlines()

"""Shared helpers of the hostile-session corpus: a song folder beside a victim folder, a snapshot
of every file under the test's tmp_path, and the CLI run in-process or as a subprocess.

The contract the corpus checks (see the tests): a hostile or broken session is refused by
``validate`` with exit 1 or 2, ``render`` refuses it with the same code, neither prints a traceback
or calls it a bug, and no file anywhere under tmp_path was created, changed or removed.
"""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

from mixgraph.cli import main

SR = 48000
#: 0.2 s stems keep every render of the corpus well under a second
FRAMES = SR // 5
WORKTREE = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-victim-7f1c"
#: render options of every corpus render: small blocks, no per-node meters (faster), no progress
RENDER_OPTS = ("--block-size", "4096", "--no-node-meters", "-q")


def write_wav(path: Path, frames: int = FRAMES, channels: int = 2, seed: int = 0, sr: int = SR,
              subtype: str = "FLOAT") -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, 0.2 * rng.standard_normal((frames, channels)), sr, subtype=subtype)
    return path


def base_doc(**extra) -> dict:
    """A small valid session: two stereo stems on the master, one 32-bit float output."""
    doc = {
        "mixgraph": 1, "name": "t", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0.0,
        "tracks": {"a": {"source": "a.wav"}, "b": {"source": "b.wav", "pan": -0.3}},
        "outputs": {"mix": {"path": "out/mix.wav", "tap": "master", "bit_depth": "32f"}},
    }
    doc.update(copy.deepcopy(extra))
    return doc


@dataclass
class Song:
    """``tmp/song/song.yaml`` with stems in ``tmp/song/stems`` and ``tmp/victim/notes.txt`` beside it."""

    root: Path

    @property
    def dir(self) -> Path:
        return self.root / "song"

    @property
    def session(self) -> Path:
        return self.dir / "song.yaml"

    @property
    def victim(self) -> Path:
        return self.root / "victim"

    def write(self, doc: dict | str) -> Path:
        text = doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
        self.session.write_text(text, encoding="utf-8")
        return self.session


def make_song(root: Path, doc: dict | str | None = None, stems=("a", "b"), channels: int = 2) -> Song:
    song = Song(Path(root))
    song.dir.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(stems):
        write_wav(song.dir / "stems" / f"{name}.wav", channels=channels, seed=i)
    song.victim.mkdir(parents=True, exist_ok=True)
    (song.victim / "notes.txt").write_text(f"the victim's own notes {SECRET}\n")
    song.write(base_doc() if doc is None else doc)
    return song


def snapshot(root: Path) -> dict[str, str]:
    """relative path -> sha256 (or the target of a symlink) of every file under root."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            p = os.path.join(folder, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "-> " + os.readlink(p)
            elif os.path.isfile(p):
                try:
                    with open(p, "rb") as f:
                        out[rel] = hashlib.sha256(f.read()).hexdigest()
                except OSError as exc:
                    out[rel] = f"unreadable {exc.errno}"
            else:
                out[rel] = "special"
    return out


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    diff = [f"created {k}" for k in after.keys() - before.keys()]
    diff += [f"removed {k}" for k in before.keys() - after.keys()]
    diff += [f"changed {k}" for k in before.keys() & after.keys() if before[k] != after[k]]
    return sorted(diff)


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def cli(capsys, *args) -> Run:
    """``mixgraph ARGS`` in this process; argparse's exits become exit codes."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse: usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    got = capsys.readouterr()
    return Run(int(code), got.out, got.err)


#: address-space limit of a subprocess: a command that reads /dev/zero or allocates a day of audio
#: fails there instead of taking the shared machine's memory (a render needs well under 1 GiB)
MEMORY_LIMIT = 3 << 30


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def proc(*args, cwd: Path | None = None, timeout: float = 120, env: dict | None = None,
         stdin=subprocess.DEVNULL) -> Run:
    """``python -m mixgraph ARGS`` as a subprocess of this worktree's package, its memory limited."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(WORKTREE) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env or {})
    # its own temporary folder, removed afterwards: a render killed by the timeout cannot clean
    # up its premaster spill (gigabytes for a runaway timeline)
    tmp = tempfile.mkdtemp(prefix="mixgraph-trust-")
    e["TMPDIR"] = tmp
    try:
        res = subprocess.run([sys.executable, "-m", "mixgraph", *map(str, args)], cwd=cwd, env=e,
                             capture_output=True, timeout=timeout, stdin=stdin,
                             preexec_fn=_limit_memory if os.name == "posix" else None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Run(res.returncode, res.stdout.decode("utf-8", "replace"), res.stderr.decode("utf-8", "replace"))


def assert_user_facing(run: Run, names=()) -> None:
    """No traceback, not called a bug, and (when given) one of ``names`` appears in the output."""
    why = f"exit {run.code}:\n{run.text[-3000:]}"
    assert "Traceback" not in run.text, why
    assert "internal error" not in run.text and "This is a bug" not in run.text, why
    assert run.code != 3, why
    if names:
        assert any(str(n) in run.text for n in names), f"none of {names} named; {why}"


def _summary(v: Run | None, r: Run, touched: list[str]) -> str:
    head = f"validate exit {v.code}; " if v is not None else ""
    text = (v.text if v is not None else "") + "\n---\n" + r.text
    return f"{head}render exit {r.code}; touched {touched or 'nothing'}\n{text[-3000:]}"


def assert_refused(capsys, song: Song, *render_args, codes=(1, 2), names=None, validate: bool = True,
                   variant: str | None = None, subprocess_timeout: float | None = None) -> Run:
    """The corpus verdict: validate refuses (exit in ``codes``), render refuses with the same code,
    both name the session (or one of ``names``) without a traceback, and nothing under the test's
    tmp_path was created, changed or removed. Both commands always run, so a failure says what
    each did. Returns the validate run (the render run with ``validate=False``).

    ``subprocess_timeout``: run both commands as subprocesses with this timeout, for sessions whose
    render could run away (the timeout is a safety net; the assertion is the exit code)."""
    before = snapshot(song.root)
    names = (song.session.name,) if names is None else names

    def run(*args) -> Run:
        if subprocess_timeout is None:
            return cli(capsys, *args)
        try:
            return proc(*args, timeout=subprocess_timeout)
        except subprocess.TimeoutExpired:
            return Run(-1, "", f"(still running after {subprocess_timeout:g} s: killed)")

    v = run("validate", song.session) if validate else None
    extra = ("--variant", variant) if variant else ()
    r = run("render", song.session, *RENDER_OPTS, *extra, *render_args)
    touched = changes(before, snapshot(song.root))
    why = _summary(v, r, touched)
    if v is not None:
        assert v.code in codes, why
        assert r.code == v.code, why
    else:
        assert r.code in codes, why
    assert not touched, why
    if v is not None:
        assert_user_facing(v, names)
    assert_user_facing(r)
    return v or r


def same_verdict(capsys, song: Song, *render_args) -> tuple[Run, Run]:
    """validate and render agree (same exit code), neither is a bug; a refused render touched
    nothing."""
    before = snapshot(song.root)
    v = cli(capsys, "validate", song.session)
    r = cli(capsys, "render", song.session, *RENDER_OPTS, *render_args)
    touched = changes(before, snapshot(song.root))
    why = _summary(v, r, touched)
    assert v.code == r.code, why
    assert v.code != 3 and r.code != 3, why
    if r.code != 0:
        assert not touched, why
    assert_user_facing(v)
    assert_user_facing(r)
    return v, r


def sample_hash(path: Path) -> str:
    data, _ = sf.read(path, always_2d=True, dtype="float64")
    return hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()

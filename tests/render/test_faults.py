"""A render survives signals, kill -9, a full disk and a read-only folder: afterwards the song's
folder holds the complete previous set of files or the complete new one, never a mix of the two
and never a temporary, and the command line says which.

The fault matrix runs the real command line (``mixgraph.cli.main``) in a separate process for
each case, forked from one warm process (``ZYGOTE``) so a case costs a fork, not an interpreter
and numba's start-up. The case's process stops at a stage it announces on a pipe (a hook in
place of one of the render's own functions) and waits there for the test; the test then sends
the signal and, for a signal the commit holds back, lets it go on. No sleeps: every wait is on
a pipe or on the process's exit.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from mixgraph import atomic
from mixgraph.audio.compare import samples_sha256
from mixgraph.cli import main

# every render here runs with --no-cache: these tests are about the transaction of the song
# folder's files (the render cache, a folder of its own, is tested in test_cache.py)
SR = 48000
REPO = Path(__file__).resolve().parents[2]
OUT_FILES = sorted(["pre.wav", "pre.wav.json", "m24.wav", "m24.wav.json", "m16.flac", "m16.flac.json",
                    "f.report.json", "f.report.md", "f.report.html"])
AUDIO = ("pre.wav", "m24.wav", "m16.flac")

# The warm process: renders the session once (every kernel loaded), then for each case line on
# stdin forks a process that installs the case's hook and runs the command line; it reports the
# case's pid, then how it ended. The case announces its stage on the zygote's stdout and waits
# for a line on the shared stdin (the zygote itself waits in waitpid meanwhile).
ZYGOTE = r'''
import json, os, sys, tempfile, traceback, warnings
warnings.simplefilter("ignore", DeprecationWarning)  # fork() with numpy's threads about
from mixgraph import atomic, cli
import mixgraph.report as report
import mixgraph.mastering.stage as mstage
from mixgraph.audio import writer as audio_writer

import mixgraph.report.render as report_render
report_render.plots = lambda r: {}  # as the tests' no_plots
marker = os.dup(1)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
assert cli.main(["render", sys.argv[1], "--quiet", "--no-cache", "--jobs", "1"]) == 0  # everything a render loads

def announce(stage):
    os.write(marker, f"AT {stage}\n".encode())
    while os.read(0, 1) not in (b"\n", b""):  # the test's go-ahead (or its end)
        pass

def once(stage, fn, pred=lambda *a, **k: True):
    done = []
    def hooked(*a, **k):
        if not done and pred(*a, **k):
            done.append(1)
            announce(stage)
        return fn(*a, **k)
    return hooked

def install(stage):
    if stage == "mix":  # the premaster stem's writer has its first block
        W = audio_writer.OutputWriter
        W.write = once(stage, W.write, lambda self, *a, **k: self.out.tap != "master")
    elif stage == "master":  # the loudness solver's first pass over the premaster
        mstage.master_pass = once(stage, mstage.master_pass)
    elif stage == "staged":  # every writer finished, every file staged, before the commit
        atomic.Transaction.commit = once(stage, atomic.Transaction.commit)
    elif stage in ("journaled", "renames"):  # before the first rename of the set, or the second
        real = os.replace
        seen = []
        def replace(src, dst):
            src, dst = os.fspath(src), os.fspath(dst)
            if atomic.PARTIAL_MARK in os.path.basename(src) and atomic.JOURNAL_PREFIX not in dst:
                seen.append(dst)
                if len(seen) == (1 if stage == "journaled" else 2):
                    announce(stage)
            return real(src, dst)
        os.replace = replace
    elif stage == "after":  # committed; the terminal report is being printed
        report.render_terminal = once(stage, report.render_terminal)

for line in sys.stdin.buffer.raw:  # unbuffered: a case reads its go-ahead from the same pipe
    if not line.strip():
        continue  # a go-ahead that an interrupted case did not wait for
    stage, session, tmpdir, log, jobs = json.loads(line)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.environ["TMPDIR"] = tmpdir
            tempfile.tempdir = None
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            os.dup2(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
            install(stage)
            code = cli.main(["render", session, "--quiet", "--no-cache", "--jobs", str(jobs)])
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.write(marker, (json.dumps({"pid": pid}) + "\n").encode())
    _, status = os.waitpid(pid, 0)
    os.write(marker, (json.dumps({"exit": os.waitstatus_to_exitcode(status)}) + "\n").encode())
'''


def _session(folder: Path, gain_db: float) -> Path:
    """The song's session; the new version (a gain of -3 dB) is also mastered 2 LU quieter, so
    that every file of the set changes."""
    doc = {"mixgraph": 1, "name": "f", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0.0,
           "tracks": {"a": {"source": "a.wav", "gain_db": gain_db}},
           "master": {"chain": [{"type": "limiter", "ceiling_dbtp": -1.0}],
                      "loudness": {"target_lufs": -14.0 if gain_db == 0 else -16.0}},
           "outputs": {"pre": {"path": "out/pre.wav", "tap": "premaster", "bit_depth": "32f"},
                       "m24": {"path": "out/m24.wav", "bit_depth": 24},
                       "m16": {"path": "out/m16.flac", "bit_depth": 16, "sample_rate": 44100}}}
    p = folder / "s.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return p


def _song(folder: Path) -> Path:
    (folder / "stems").mkdir(parents=True)
    rng = np.random.default_rng(7)
    sf.write(folder / "stems" / "a.wav", 0.2 * rng.standard_normal((SR // 2, 2)), SR, subtype="FLOAT")
    return _session(folder, 0.0)


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    """The report's PNG plots are most of a short render's time and no file of their own."""
    monkeypatch.setattr("mixgraph.report.render.plots", lambda r: {})


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """A song folder holding the old set (gain 0 dB), and the samples hashes of the new set
    (gain -3 dB) from a render of its own."""
    from mixgraph.api.render import render_session

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("mixgraph.report.render.plots", lambda r: {})  # as no_plots (module scope here)
        old = tmp_path_factory.mktemp("old")
        render_session(_song(old), node_meters=False)
        new = tmp_path_factory.mktemp("new")
        render_session(_session(_song(new).parent, -3.0), node_meters=False)
    new_hashes = {a: samples_sha256(new / "out" / a) for a in AUDIO}
    old_hashes = {a: samples_sha256(old / "out" / a) for a in AUDIO}
    assert all(new_hashes[a] != old_hashes[a] for a in AUDIO)  # the change reaches every file
    return old, new_hashes


def _case(sets, folder: Path) -> Path:
    """A copy of the song with the old set, its session then changed; the session file."""
    old, _ = sets
    shutil.copytree(old, folder)
    return _session(folder, -3.0)


def _state(sets, folder: Path) -> str:
    """'old' or 'new' when the folder holds that set complete and nothing else, else a failure."""
    old, new_hashes = sets
    out = folder / "out"
    assert sorted(p.name for p in out.iterdir()) == OUT_FILES  # no temporary, nothing missing
    assert sorted(p.name for p in folder.iterdir()) == ["out", "s.yaml", "stems"]  # no journal
    same = {n: (out / n).read_bytes() == (old / "out" / n).read_bytes() for n in OUT_FILES}
    if all(same.values()):
        return "old"
    assert not any(same.values()), f"a mix of the old and the new set: {same}"
    doc = json.loads((out / "f.report.json").read_text())
    by_name = {Path(o["path"]).name: o["sha256"] for o in doc["outputs"]}
    for a in AUDIO:
        h = samples_sha256(out / a)
        assert h == new_hashes[a]
        assert json.loads((out / f"{a}.json").read_text())["output"]["sha256_samples"] == h
        assert by_name[a] == h
    return "new"


class Zygote:
    def __init__(self, session: Path, tmp: Path):
        env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp)}
        self.p = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(session)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env=env, bufsize=0)

    def line(self) -> str:
        got = self.p.stdout.readline().decode()
        assert got, f"the zygote ended ({self.p.wait()})"
        return got.strip()

    def run(self, stage: str, session: Path, tmpdir: Path, log: Path, sig: int, jobs: int = 1) -> int:
        self.p.stdin.write((json.dumps([stage, str(session), str(tmpdir), str(log), jobs]) + "\n").encode())
        pid = json.loads(self.line())["pid"]
        at = self.line()
        assert at == f"AT {stage}", (at, log.read_text())
        os.kill(pid, sig)
        if sig != signal.SIGKILL:
            # a signal that arrived during the commit waits for it: let the case go on (one
            # that interrupted it has already left the waiting hook, and reads nothing)
            self.p.stdin.write(b"\n")
        return json.loads(self.line())["exit"]

    def close(self) -> None:
        self.p.stdin.close()
        self.p.wait(timeout=60)


@pytest.fixture(scope="module")
def zygote(sets, tmp_path_factory):
    warm = tmp_path_factory.mktemp("warm")
    shutil.copytree(sets[0], warm, dirs_exist_ok=True)
    z = Zygote(warm / "s.yaml", tmp_path_factory.mktemp("zygote-tmp"))
    yield z
    z.close()


STAGES = ("mix", "master", "staged", "journaled", "renames", "after")
SIGNALS = {"KILL": signal.SIGKILL, "INT": signal.SIGINT, "TERM": signal.SIGTERM, "HUP": signal.SIGHUP}
#: the set on disk once it is over (after recovery, for kill -9)
EXPECTED = {"mix": "old", "master": "old", "staged": "old", "journaled": "new", "renames": "new", "after": "new"}


def test_every_fault_at_every_stage_leaves_the_old_set_or_the_new_one(sets, zygote, tmp_path):
    z = zygote
    outcomes = {}
    for stage in STAGES:
        for name, sig in SIGNALS.items():
            case = tmp_path / f"{stage}-{name}"
            session = _case(sets, case)
            spill_root = tmp_path / f"tmp-{stage}-{name}"
            spill_root.mkdir()
            log = tmp_path / f"{stage}-{name}.log"
            code = z.run(stage, session, spill_root, log, sig)
            text = log.read_text()
            assert "Traceback" not in text, text
            if sig == signal.SIGKILL:
                assert code == -signal.SIGKILL
                if stage == "renames":  # one file of the new set is in place, the journal waits
                    assert (case / f"{atomic.JOURNAL_PREFIX}s.json").is_file()
                # the next render's recovery: finish the journal's renames, remove what the
                # killed process left (its temporaries, its spill folder)
                outs = [case / "out" / n for n in OUT_FILES]
                atomic.recover(case, "s", {str(p) for p in outs})
                # the dead process's spill folder (removed before the terminal report)
                assert len(list(spill_root.iterdir())) == (0 if stage == "after" else 1)
                atomic.sweep_spills(spill_root)
            else:
                assert code == 128 + sig, (stage, name, text)
                said = text.strip().splitlines()[-1]
                if EXPECTED[stage] == "old":
                    assert said == f"mixgraph: interrupted by SIG{name}; nothing was changed.", text
                else:
                    assert said.startswith(f"mixgraph: interrupted by SIG{name} after the new files "
                                           "were written: 9 files ("), text
            outcomes[stage, name] = _state(sets, case)
            assert list(spill_root.iterdir()) == []  # no spill left in $TMPDIR
    assert outcomes == {(s, n): EXPECTED[s] for s in STAGES for n in SIGNALS}


@pytest.mark.parametrize("stage", ["mix", "master", "renames"])
def test_with_pool_threads_a_signal_still_aborts_or_waits_for_the_commit(sets, zygote, tmp_path, stage):
    """--jobs 2: the stems are written and the master chain run in pool threads (the hook blocks
    one of them), and the kernel may hand the signal to any thread."""
    case = tmp_path / "case"
    session = _case(sets, case)
    spill_root = tmp_path / "spill"
    spill_root.mkdir()
    code = zygote.run(stage, session, spill_root, tmp_path / "log", signal.SIGTERM, jobs=2)
    text = (tmp_path / "log").read_text()
    assert code == 128 + signal.SIGTERM, text
    assert ("nothing was changed." in text) == (EXPECTED[stage] == "old"), text
    assert _state(sets, case) == EXPECTED[stage]
    assert list(spill_root.iterdir()) == []


def test_the_next_render_finishes_a_commit_killed_between_two_renames(sets, zygote, tmp_path, monkeypatch):
    from mixgraph.api.render import render_session

    case = tmp_path / "case"
    session = _case(sets, case)
    spill_root = tmp_path / "spill"
    spill_root.mkdir()
    assert zygote.run("renames", session, spill_root, tmp_path / "log", signal.SIGKILL) == -signal.SIGKILL
    journal = json.loads((case / f"{atomic.JOURNAL_PREFIX}s.json").read_text())
    pending = [f for t, f in journal["renames"] if os.path.exists(t)]
    assert len(pending) == len(journal["renames"]) - 1  # one rename was done
    assert len(list(spill_root.iterdir())) == 1
    monkeypatch.setattr("tempfile.tempdir", str(spill_root))
    with atomic.recording() as done:
        render_session(session, node_meters=False)
    assert sorted(done[0]) == sorted(pending)  # recovery first: the killed commit's set completed
    assert _state(sets, case) == "new"
    assert list(spill_root.iterdir()) == []  # the dead process's spill folder went too


def test_a_held_signal_waits_for_the_end_of_the_block_whichever_thread_takes_it():
    """The kernel hands a process's signal to any thread that does not mask it (numpy's BLAS
    threads, the render's pool), and Python then runs the handler in the main thread: masking
    the main thread alone did not hold it back. The wakeup fd shows the signal has arrived."""
    import socket
    import threading

    other = threading.Event()
    t = threading.Thread(target=other.wait)
    t.start()
    got = []
    r, w = socket.socketpair()
    w.setblocking(False)
    old = signal.signal(signal.SIGTERM, lambda s, f: got.append(s))
    old_fd = signal.set_wakeup_fd(w.fileno())
    try:
        with atomic.signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            assert r.recv(1) == bytes([signal.SIGTERM])  # arrived, in whichever thread
            assert sum(range(10)) == 45 and got == []  # the main thread ran Python code: still held
        assert got == [signal.SIGTERM]
    finally:
        signal.set_wakeup_fd(old_fd)
        signal.signal(signal.SIGTERM, old)
        other.set()
        t.join()
        r.close()
        w.close()


# ----- a late failure, a full disk, a read-only folder: exit 1, nothing changed ------------------


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_late_failure_replaces_nothing(sets, tmp_path, monkeypatch, capsys):
    import mixgraph.api.render as api_render
    from mixgraph.errors import RenderError

    session = _case(sets, tmp_path / "song")
    before = _listing(tmp_path / "song")
    seen = []

    def master_stage(ctx):
        seen.extend(p.name for p in (tmp_path / "song" / "out").iterdir() if atomic.PARTIAL_MARK in p.name)
        raise RenderError("the master cannot be made")

    monkeypatch.setattr(api_render, "master_stage", master_stage)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert main(["render", str(session), "--quiet", "--no-cache"]) == 1
    assert "the master cannot be made" in capsys.readouterr().err
    assert len(seen) == 1 and seen[0].startswith(".pre.wav" + atomic.PARTIAL_MARK)  # the stem was written
    assert _listing(tmp_path / "song") == before
    assert [p.name for p in tmp_path.iterdir()] == ["song"]  # no spill folder either


@pytest.fixture
def tmpfs(tmp_path):
    """A small tmpfs (1.5 MB): a disk that fills up, and that can be remounted read-only."""
    disk = tmp_path / "disk"
    disk.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(disk)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({p.stderr.strip() or p.returncode}); "
                    "the monkeypatched cases cover the same path")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _render_cli(session: Path, out_dir: Path | None, capsys) -> tuple[int, str]:
    argv = ["render", str(session), "--quiet", "--no-cache"] + (["--out-dir", str(out_dir)] if out_dir else [])
    code = main(argv)
    return code, capsys.readouterr().err


def test_a_full_disk_is_exit_1_naming_the_file_and_changes_nothing(sets, tmp_path, tmpfs, capsys,
                                                                   monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    session = _case(sets, tmp_path / "song")
    _session(session.parent, 0.0)
    assert _render_cli(session, tmpfs, capsys)[0] == 0  # the old set, on the small disk
    free = shutil.disk_usage(tmpfs).free
    (tmpfs / "filler").write_bytes(b"\0" * (free - 64 * 1024))  # 64 kB left: no room for the new set
    before = _listing(tmpfs)
    _session(session.parent, -3.0)
    code, err = _render_cli(session, tmpfs, capsys)
    assert code == 1, err
    assert "Traceback" not in err and "internal error" not in err
    assert str(tmpfs) in err and ("the disk is full" in err or "No space left" in err), err
    assert _listing(tmpfs) == before  # nothing replaced, no temporary left
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("mixgraph-")] == []


def test_a_full_scratch_disk_is_exit_1_naming_the_spill_folder(sets, tmp_path, tmpfs, capsys, monkeypatch):
    session = _case(sets, tmp_path / "song")
    before = _listing(tmp_path / "song")
    (tmpfs / "filler").write_bytes(b"\0" * (shutil.disk_usage(tmpfs).free - 16 * 1024))
    monkeypatch.setattr("tempfile.tempdir", str(tmpfs))  # $TMPDIR on the full disk
    code, err = _render_cli(session, None, capsys)
    assert code == 1, err
    assert err.startswith(f"mixgraph: cannot write {tmpfs}/{atomic.SPILL_PREFIX}{os.getpid()}-"), err
    assert "No space left on device (ENOSPC); nothing was changed. That is the render's scratch folder " \
        "($TMPDIR): free some space there" in err
    assert _listing(tmp_path / "song") == before
    assert sorted(p.name for p in tmpfs.iterdir()) == ["filler"]  # the spill folder went


def test_a_read_only_folder_is_exit_1_naming_the_file_and_changes_nothing(sets, tmp_path, tmpfs, capsys,
                                                                          monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    session = _case(sets, tmp_path / "song")
    assert _render_cli(session, tmpfs, capsys)[0] == 0
    before = _listing(tmpfs)
    assert subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)]).returncode == 0
    _session(session.parent, 0.0)
    code, err = _render_cli(session, tmpfs, capsys)
    assert code == 1, err
    assert err.startswith(f"mixgraph: cannot write {tmpfs}/") and err.rstrip().endswith(
        "(EROFS); nothing was changed. That disk is mounted read-only; render elsewhere with --out-dir."), err
    assert _listing(tmpfs) == before


@pytest.mark.parametrize("fault", ["ENOSPC-writer", "ENOSPC-sidecar", "EACCES", "EROFS", "EDQUOT"])
def test_environment_errors_are_exit_1_naming_the_file(sets, tmp_path, monkeypatch, capsys, fault):
    """The same without a mount: the error raised where the system would raise it."""
    from mixgraph.audio import writer

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    session = _case(sets, tmp_path / "song")
    before = _listing(tmp_path / "song")
    name = fault.split("-")[0]
    code_ = getattr(errno, name)
    where = tmp_path / "song" / "out" / "m24.wav"
    if fault == "ENOSPC-writer":
        real = writer.OutputWriter.write

        def write(self, block, last=False):
            if self.out.name == "m24":
                raise OSError(code_, os.strerror(code_), str(self.tmp))
            return real(self, block, last)

        monkeypatch.setattr(writer.OutputWriter, "write", write)
    elif fault == "ENOSPC-sidecar":  # a failed write names no file: the transaction adds it
        where = tmp_path / "song" / "out" / "m24.wav.json"

        class Full:
            def __init__(self, path, *a, **k):
                self.f = open(path, *a, **k)
                self.full = Path(path).name.startswith(f".m24.wav.json{atomic.PARTIAL_MARK}")

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, text):
                if self.full:
                    raise OSError(code_, os.strerror(code_))
                return self.f.write(text)

        monkeypatch.setattr(atomic, "open", Full, raising=False)  # the module's own open()
    else:
        real_new = atomic.Transaction.new_temp

        def new_temp(self, final):
            if Path(final).name == "m24.wav":
                tmp = Path(final).parent / f".m24.wav{atomic.PARTIAL_MARK}1-x"
                raise (PermissionError if name == "EACCES" else OSError)(code_, os.strerror(code_), str(tmp))
            return real_new(self, final)

        monkeypatch.setattr(atomic.Transaction, "new_temp", new_temp)
    code, err = _render_cli(session, None, capsys)
    assert code == 1, err
    assert err.startswith(f"mixgraph: cannot write {where}: {os.strerror(code_)} ({name}); nothing was changed."), err
    assert "Traceback" not in err
    assert _listing(tmp_path / "song") == before
    assert [p.name for p in tmp_path.iterdir()] == ["song"]


def test_other_os_errors_are_still_bugs(sets, tmp_path, monkeypatch, capsys):
    import mixgraph.api.render as api_render

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    session = _case(sets, tmp_path / "song")
    monkeypatch.setattr(api_render, "master_stage", lambda ctx: os.close(10 ** 6))  # EBADF: ours
    code, err = _render_cli(session, None, capsys)
    assert code == 3 and "internal error (OSError" in err


# ----- the journal is untrusted --------------------------------------------------------------------


def _partial(folder: Path, final: str, text: str, pid: int = 999_999_999, tag: str = "abc") -> Path:
    """A temporary of ours for ``final``, made by process ``pid`` (by default one that cannot exist)."""
    p = folder / f".{final}{atomic.PARTIAL_MARK}{pid}-{tag}"
    p.write_text(text)
    return p


def test_recover_refuses_a_hostile_journal(tmp_path):
    song = tmp_path / "song"
    out = song / "out"
    out.mkdir(parents=True)
    for n in ("mix.wav", "other.wav"):
        (out / n).write_text(f"old {n}")
    (tmp_path / "victim").write_text("precious")
    outside_tmp = _partial(tmp_path, "victim", "evil")
    evil = _partial(out, "evil.sh", "#!/bin/sh")
    rogue_link = out / f".other.wav{atomic.PARTIAL_MARK}1-x"
    rogue_link.symlink_to(tmp_path / "victim")
    good = _partial(out, "mix.wav", "new mix.wav")
    pairs = [
        [str(outside_tmp), str(tmp_path / "victim")],  # a file outside the song, not planned
        [str(evil), str(out / "evil.sh")],  # inside, but not a file this render writes
        [str(out / "other.wav"), str(out / "mix.wav")],  # not a temporary of ours
        [str(rogue_link), str(out / "other.wav")],  # a link to elsewhere
        [str(_partial(out, "mix.wav", "x", tag="x")), str(song / "sub" / ".." / "out" / "elsewhere" / "mix.wav")],
        [str(good), str(out / "mix.wav")],  # the one rename a render of ours would have planned
    ]
    (song / f"{atomic.JOURNAL_PREFIX}s.json").write_text(json.dumps({"pid": 999_999_999, "renames": pairs}))
    allowed = {str(out / "mix.wav"), str(out / "other.wav")}
    assert atomic.recover(song, "s", allowed) == [str(out / "mix.wav")]
    assert (tmp_path / "victim").read_text() == "precious"
    assert (out / "mix.wav").read_text() == "new mix.wav"
    assert (out / "other.wav").read_text() == "old other.wav"
    assert not (out / "evil.sh").exists() and evil.exists()  # not ours to rename, not ours to remove
    assert outside_tmp.exists()
    assert not (song / f"{atomic.JOURNAL_PREFIX}s.json").exists()


@pytest.mark.parametrize("content", ["not json", '{"renames": {"a": "b"}}', '{"renames": [["a", 1]]}',
                                     '{"renames": [["a"]]}', "[1, 2]", "x" * (atomic.MAX_JOURNAL_BYTES + 10)])
def test_recover_leaves_a_journal_not_of_our_form_alone(tmp_path, content):
    (tmp_path / "mix.wav").write_text("old")
    tmp = _partial(tmp_path, "mix.wav", "new")
    j = tmp_path / f"{atomic.JOURNAL_PREFIX}s.json"
    j.write_text(content.replace('"a"', json.dumps(str(tmp))))
    assert atomic.recover(tmp_path, "s", {str(tmp_path / "mix.wav")}) == []
    assert j.exists() and (tmp_path / "mix.wav").read_text() == "old"


def test_recover_leaves_a_live_render_alone_and_follows_real_paths(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "mix.wav").write_text("old")
    link = tmp_path / "link"
    link.symlink_to(real)
    live = _partial(real, "mix.wav", "new", pid=os.getppid())  # the test runner: alive, not us
    j = real / f"{atomic.JOURNAL_PREFIX}s.json"
    j.write_text(json.dumps({"pid": os.getppid(), "renames": [[str(live), str(real / "mix.wav")]]}))
    assert atomic.recover(real, "s", {str(link / "mix.wav")}) == []
    assert j.exists() and live.exists()  # its commit, its journal, its temporaries
    j.write_text(json.dumps({"pid": 999_999_999, "renames": [[str(live), str(real / "mix.wav")]]}))
    # the allowed path through a link to the same folder is the same file
    assert atomic.recover(real, "s", {str(link / "mix.wav")}) == [str(real / "mix.wav")]
    assert (real / "mix.wav").read_text() == "new"


def test_a_rename_failing_midway_leaves_the_journal_for_the_next_render(tmp_path, monkeypatch):
    from mixgraph.cli import environment_message

    for n in ("a.wav", "b.wav"):
        (tmp_path / n).write_text(f"old {n}")
    real = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if str(dst).endswith("b.wav"):
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(src), None, str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError) as info, atomic.Transaction(tmp_path, "s") as tx:
        for n in ("a.wav", "b.wav"):
            tx.stage_text(tmp_path / n, f"new {n}")
        tx.commit()
    monkeypatch.setattr(os, "replace", real)
    assert (tmp_path / "a.wav").read_text() == "new a.wav" and (tmp_path / "b.wav").read_text() == "old b.wav"
    msg = environment_message(info.value, [])
    assert msg.startswith(f"mixgraph: cannot write {tmp_path}/b.wav: Input/output error (EIO); the files were "
                          "partly replaced, and the next render of this session finishes replacing them."), msg
    # the abort kept what the journal names; the next render's recovery completes the set
    assert atomic.recover(tmp_path, "s", {str(tmp_path / "a.wav"), str(tmp_path / "b.wav")}) == \
        [str(tmp_path / "b.wav")]
    assert (tmp_path / "b.wav").read_text() == "new b.wav"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.wav"]


def test_a_first_rename_failing_replaces_nothing_and_leaves_nothing(tmp_path, monkeypatch):
    (tmp_path / "a.wav").write_text("old")

    def replace(src, dst):
        if atomic.JOURNAL_PREFIX in str(dst):
            return os.rename(src, dst)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(src))

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(PermissionError) as info, atomic.Transaction(tmp_path, "s") as tx:
        tx.stage_text(tmp_path / "a.wav", "new")
        tx.commit()
    assert not hasattr(info.value, "journal")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"] and (tmp_path / "a.wav").read_text() == "old"

"""Writing files so that nobody sees them half-written, and a render's files as one set (layer 0:
stdlib only).

``write_text`` replaces one file: the text goes to a hidden temporary file in the target's folder
and is renamed into place when complete.

``Transaction`` does the same for a whole set (a render's audio, sidecars, reports and lock):
every file is written to a hidden temporary beside its target; ``commit`` writes a journal naming
every rename, performs the renames with the interrupt signals held back, then deletes the journal.
A process killed outright (SIGKILL, power) in the middle of the renames leaves the journal behind;
the next render of the same session (or ``recover``) finishes the renames, since every temporary
named in a journal was complete before the journal was written. A reader who looks during those
few renames sees some files of the new set beside the rest of the old one; at every other moment,
the complete previous set or the complete new set. ``abort`` removes every temporary and every
folder the transaction created, so a failed render replaces nothing.

Temporaries (``.<name>.mixgraph-partial-<pid>-*``) and spill folders (``mixgraph-<pid>-*`` in the
temporary folder) carry the id of the process that made them: what a killed process left behind
is removed by the next render (``recover``, ``spill_dir``), and never what a live one is writing.

A caller that must say what an interrupted run changed (the command line) collects every set
committed while it runs with ``recording``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

JOURNAL_PREFIX = ".mixgraph-journal-"
PARTIAL_MARK = ".mixgraph-partial-"
SPILL_PREFIX = "mixgraph-"
#: the signals a commit holds back until its renames are done
HELD_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))
#: a journal larger than this is not one we wrote (a few hundred bytes per file)
MAX_JOURNAL_BYTES = 1 << 20

_recorders: list[list[list[str]]] = []


@contextlib.contextmanager
def recording() -> Iterator[list[list[str]]]:
    """Collect the final paths of every set this process replaces while the block runs (a
    transaction's commit, a ``write_text``, a ``recover`` that finished renames), one list per set."""
    sets: list[list[str]] = []
    _recorders.append(sets)
    try:
        yield sets
    finally:
        _recorders.remove(sets)


def _record(paths: list[str]) -> None:
    for sets in _recorders:
        sets.append(list(paths))


def _partial_prefix(final: Path) -> str:
    return f".{final.name}{PARTIAL_MARK}{os.getpid()}-"


def final_of(path: str | Path) -> str:
    """The file a temporary of ours stands for (``dir/.x.wav.mixgraph-partial-1-ab`` -> ``dir/x.wav``),
    for messages; any other path unchanged."""
    path = str(path)
    folder, name = os.path.split(path)
    if name.startswith(".") and PARTIAL_MARK in name:
        return os.path.join(folder, name[1:name.index(PARTIAL_MARK)])
    return path


def named(exc: OSError, path: str | Path) -> OSError:
    """``exc`` naming ``path`` when the system gave no name (a failed write or close)."""
    if exc.filename is None and exc.errno is not None:
        new = type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno), str(path))
        new.__traceback__ = exc.__traceback__
        return new
    return exc


def write_text(path: str | Path, text: str, *, record: bool = True) -> None:
    """Replace ``path`` with ``text`` whole; ``record``: one set for ``recording``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_partial_prefix(path), dir=str(path.parent))
    try:
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        except OSError as exc:
            raise named(exc, path) from None
        os.chmod(tmp, 0o644)
        with signals_held():
            os.replace(tmp, path)
            if record:
                _record([str(path)])
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or cannot tell: leave its files alone
    return True


def _owner_pid(name: str, prefix: str) -> int | None:
    """The process id in ``<prefix><pid>-...``, or None when the name is not of that form."""
    if not name.startswith(prefix):
        return None
    head = name[len(prefix):].split("-", 1)[0]
    return int(head) if head.isdigit() and len(head) < 12 else None


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP back for the duration: one that arrives meanwhile is delivered
    (to the handler that was in place) when the block ends. The Python handlers are swapped for
    one that only takes note, rather than the signals masked: a mask holds a signal back from
    the calling thread only, and the kernel hands a process's signal to any thread that does not
    mask it (the render's pool threads), whose C handler then runs the Python handler in the main
    thread anyway. Handlers belong to the main thread, so elsewhere this does nothing (there, no
    handler runs in the middle of the block either)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    saved: dict[int, object] = {}

    def note(signum, frame) -> None:
        arrived.append(signum)

    try:
        for s in HELD_SIGNALS:
            old = signal.getsignal(s)
            if old is None or old == signal.SIG_IGN:  # not Python's to restore, or ignored anyway
                continue
            saved[s] = old
            signal.signal(s, note)
        yield
    finally:
        for s, old in saved.items():
            signal.signal(s, old)  # type: ignore[arg-type]
        for s in dict.fromkeys(arrived):
            signal.raise_signal(s)


class Transaction:
    """A set of files written as hidden temporaries and renamed into place together."""

    def __init__(self, journal_dir: str | Path, name: str):
        self.journal = Path(journal_dir) / f"{JOURNAL_PREFIX}{name}.json"
        self.temps: set[Path] = set()
        self.staged: dict[Path, Path] = {}  # final -> temporary
        self.created_dirs: list[Path] = []
        self.done = False
        #: a commit failed midway: the staged temporaries belong to the journal left for ``recover``
        self.journaled = False

    def _mkdirs(self, folder: Path) -> None:
        missing = []
        p = folder
        while not p.exists():
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            d.mkdir()
            self.created_dirs.append(d)

    def new_temp(self, final: str | Path) -> Path:
        """An empty hidden file beside ``final`` for its content; removed unless staged and committed."""
        final = Path(final)
        self._mkdirs(final.parent)
        fd, tmp = tempfile.mkstemp(prefix=_partial_prefix(final), dir=str(final.parent))
        os.close(fd)
        self.temps.add(Path(tmp))
        return Path(tmp)

    def discard(self, tmp: str | Path) -> None:
        tmp = Path(tmp)
        self.temps.discard(tmp)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()

    def stage(self, final: str | Path, tmp: str | Path) -> None:
        """``tmp`` (from ``new_temp``, complete) becomes ``final`` at commit."""
        final, tmp = Path(final), Path(tmp)
        old = self.staged.get(final)
        if old is not None and old != tmp:
            self.discard(old)
        self.staged[final] = tmp

    def stage_text(self, final: str | Path, text: str) -> None:
        tmp = self.new_temp(final)
        try:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        except OSError as exc:
            raise named(exc, final) from None
        self.stage(final, tmp)

    def commit(self) -> None:
        for tmp in self.staged.values():
            os.chmod(tmp, 0o644)
        pairs = [[str(t), str(f)] for f, t in self.staged.items()]
        self._mkdirs(self.journal.parent)
        write_text(self.journal, json.dumps({"pid": os.getpid(), "renames": pairs}, indent=1) + "\n",
                   record=False)
        with signals_held():
            for n, (tmp, final) in enumerate(pairs):
                try:
                    os.replace(tmp, final)
                except OSError as exc:
                    if n == 0:  # nothing replaced yet: the journal goes, abort removes the rest
                        with contextlib.suppress(OSError):
                            self.journal.unlink()
                    else:  # the rest of the temporaries and the journal wait for ``recover``
                        self.journaled = True
                        exc.journal = str(self.journal)  # type: ignore[attr-defined]
                    raise
            self.journal.unlink()
            self.done = True
            _record([f for _, f in pairs])
            for tmp in self.temps - set(self.staged.values()):
                self.discard(tmp)
            self.temps.clear()

    def abort(self) -> None:
        if self.done:
            return
        with signals_held():  # a second interrupt does not cut the clean-up short
            keep = set(self.staged.values()) if self.journaled else set()
            for tmp in list(self.temps - keep):
                self.discard(tmp)
            for d in reversed(self.created_dirs):
                with contextlib.suppress(OSError):
                    d.rmdir()  # only if still empty
            self.done = True

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.done:
            self.abort()


def _read_journal(journal: Path) -> tuple[int | None, list[tuple[str, str]]] | None:
    """(writer's pid, renames) of a journal we wrote; None when it is missing or not of our form."""
    try:
        with open(journal, "rb") as fh:
            raw = fh.read(MAX_JOURNAL_BYTES + 1)
        if len(raw) > MAX_JOURNAL_BYTES:
            return None
        doc = json.loads(raw.decode("utf-8"))
        pid = doc.get("pid")
        pairs = doc["renames"]
        if not isinstance(pairs, list):
            return None
        out = []
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                return None
            out.append((pair[0], pair[1]))
        return (pid if isinstance(pid, int) and not isinstance(pid, bool) else None), out
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def recover(journal_dir: str | Path, name: str, allowed: set[str]) -> list[str]:
    """Finish the renames of a commit that was killed midway, and remove the temporaries that a
    killed render left beside ``allowed``; returns the files it completed.

    A journal is a file in the song's folder, so it is as untrusted as the session: only renames
    of a temporary of ours (a regular file, not a link) onto one of ``allowed`` (the files this
    render may write, compared by real path), in the same folder, are carried out. A journal that
    is not of our form is left for a person to look at; one whose process is still running (a
    render committing right now) is left to it."""
    real_allowed = {os.path.realpath(p) for p in allowed}
    journal = Path(journal_dir) / f"{JOURNAL_PREFIX}{name}.json"
    done: list[str] = []
    read = _read_journal(journal)
    if read is not None and not (read[0] is not None and read[0] != os.getpid() and pid_alive(read[0])):
        with signals_held():
            for tmp, final in read[1]:
                tname = os.path.basename(tmp)
                ours = (os.path.dirname(tmp) == os.path.dirname(final)
                        and tname.startswith(f".{os.path.basename(final)}{PARTIAL_MARK}"))
                if ours and os.path.realpath(final) in real_allowed and os.path.isfile(tmp) \
                        and not os.path.islink(tmp):
                    os.replace(tmp, final)
                    done.append(final)
            with contextlib.suppress(FileNotFoundError):
                journal.unlink()
            if done:
                _record(done)
    _sweep_partials(real_allowed)
    return done


def _sweep_partials(finals: set[str]) -> None:
    """Remove the temporaries of these files left by processes that are gone."""
    by_dir: dict[str, set[str]] = {}
    for f in finals:
        by_dir.setdefault(os.path.dirname(f), set()).add(os.path.basename(f))
    for folder, names in by_dir.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            if not e.name.startswith(".") or PARTIAL_MARK not in e.name:
                continue
            base = e.name[1:e.name.index(PARTIAL_MARK)]
            pid = _owner_pid(e.name, f".{base}{PARTIAL_MARK}")
            if base in names and pid is not None and not pid_alive(pid) and e.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(e.path)


def sweep_spills(tmp_root: str | Path | None = None) -> list[str]:
    """Remove the spill folders (``mixgraph-<pid>-*``) of processes that are gone from the
    temporary folder; returns what it removed. Only our own folders (same owner, not links)."""
    root = str(tmp_root) if tmp_root is not None else tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for e in entries:
        pid = _owner_pid(e.name, SPILL_PREFIX)
        if pid is None or pid_alive(pid):
            continue
        try:
            if not e.is_dir(follow_symlinks=False) or (uid is not None and e.stat(follow_symlinks=False).st_uid != uid):
                continue
            shutil.rmtree(e.path)
            removed.append(e.path)
        except OSError:
            continue
    return removed


def in_spill(path: str | Path) -> bool:
    """Whether ``path`` is in a render's spill folder (``spill_dir``), for messages."""
    root = os.path.realpath(tempfile.gettempdir())
    p = Path(os.path.realpath(path))
    return any(_owner_pid(q.name, SPILL_PREFIX) is not None and str(q.parent) == root for q in (p, *p.parents))


@contextlib.contextmanager
def spill_dir() -> Iterator[str]:
    """A private temporary folder for a render's spill files, removed at the end whatever
    happens (a killed process's is removed by the next render's ``spill_dir``)."""
    sweep_spills()
    path = tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-")
    try:
        yield path
    finally:
        with signals_held():
            shutil.rmtree(path, ignore_errors=True)


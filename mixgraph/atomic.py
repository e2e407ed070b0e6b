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
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

JOURNAL_PREFIX = ".mixgraph-journal-"
PARTIAL_MARK = ".mixgraph-partial-"
#: the signals a commit holds back until its renames are done
HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)}


def write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{PARTIAL_MARK}", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP back for the duration (delivered on exit). Only the main thread
    receives Python signal handlers, so elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class Transaction:
    """A set of files written as hidden temporaries and renamed into place together."""

    def __init__(self, journal_dir: str | Path, name: str):
        self.journal = Path(journal_dir) / f"{JOURNAL_PREFIX}{name}.json"
        self.temps: set[Path] = set()
        self.staged: dict[Path, Path] = {}  # final -> temporary
        self.created_dirs: list[Path] = []
        self.done = False

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
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}{PARTIAL_MARK}", dir=str(final.parent))
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
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        self.stage(final, tmp)

    def commit(self) -> None:
        for tmp in self.staged.values():
            os.chmod(tmp, 0o644)
        pairs = [[str(t), str(f)] for f, t in self.staged.items()]
        self._mkdirs(self.journal.parent)
        write_text(self.journal, json.dumps({"renames": pairs}, indent=1) + "\n")
        with signals_held():
            for tmp, final in pairs:
                os.replace(tmp, final)
            self.journal.unlink()
            self.done = True
        for tmp in self.temps - set(self.staged.values()):
            self.discard(tmp)
        self.temps.clear()

    def abort(self) -> None:
        if self.done:
            return
        for tmp in list(self.temps):
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


def recover(journal_dir: str | Path, name: str, allowed: set[str]) -> list[str]:
    """Finish the renames of a commit that was killed midway; returns the files it completed.

    A journal is a file in the song's folder, so it is as untrusted as the session: only renames
    of a temporary of ours onto one of ``allowed`` (the real paths this render may write), in the
    same folder, are carried out."""
    journal = Path(journal_dir) / f"{JOURNAL_PREFIX}{name}.json"
    try:
        pairs = json.loads(journal.read_text(encoding="utf-8"))["renames"]
        pairs = [(str(t), str(f)) for t, f in pairs]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError):
        return []  # not a journal we wrote; leave it for a person to look at
    done = []
    with signals_held():
        for tmp, final in pairs:
            ours = (os.path.dirname(tmp) == os.path.dirname(final)
                    and os.path.basename(tmp).startswith(f".{os.path.basename(final)}{PARTIAL_MARK}"))
            if ours and os.path.realpath(final) in allowed and os.path.isfile(tmp) and not os.path.islink(tmp):
                os.replace(tmp, final)
                done.append(final)
        journal.unlink()
    return done

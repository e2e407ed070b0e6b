"""Diagnostics and the exception hierarchy (layer 0: stdlib only).

Every problem a user can act on becomes a :class:`Diagnostic` with a position
(``file:line:col``), the dotted path of the offending node, one sentence of what
is wrong and at most one sentence of how to fix it.  Exceptions carry
diagnostics; only :mod:`mixgraph.cli` prints them.

Exit codes (shared by every command):

* 0 ok
* 1 user, media or render error (a missing file, an unreadable source, an
  unreachable loudness target)
* 2 invalid session (YAML, schema, reference or routing problems)
* 3 internal error: a bug in mixgraph
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

EXIT_OK = 0
EXIT_USER = 1
EXIT_INVALID = 2
EXIT_INTERNAL = 3

Severity = Literal["error", "warning"]

#: how many diagnostics a formatted report lists before "... and N more"
MAX_LISTED = 50


@dataclass(frozen=True, order=False)
class Diagnostic:
    """One problem, with where it is and how to fix it."""

    message: str
    file: str | None = None
    line: int | None = None  # 1-based
    col: int | None = None  # 1-based
    path: str = ""  # dotted path in the session, e.g. "tracks.kick.chain[1].ratio"
    hint: str | None = None  # one sentence: how to fix it ("Did you mean 'vocals'?")
    severity: Severity = "error"
    code: str = "error"  # stable machine-readable kind, e.g. "yaml.duplicate-key"
    #: where a template was used, for errors inside templates (file, line, col)
    via: tuple[tuple[str, int, int], ...] = field(default=())

    @property
    def location(self) -> str:
        if self.file is None:
            return "<session>"
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.col or 1}"

    def sort_key(self) -> tuple:
        return (self.file or "", self.line or 0, self.col or 0, self.path, self.message)

    def with_position(self, file: str | None, line: int | None, col: int | None) -> Diagnostic:
        return replace(self, file=file, line=line, col=col)

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
            "via": [{"file": f, "line": ln, "col": c} for f, ln, c in self.via],
        }

    def format(self, source_lines: Sequence[str] | None = None) -> str:
        """House style: ``file:line:col: path  Message. Hint.`` plus a source excerpt."""
        head = f"{self.location}: "
        if self.severity == "warning":
            head += "warning: "
        if self.path:
            head += f"{self.path}  "
        text = head + self.message
        if self.hint:
            text += " " + self.hint
        for f, ln, c in self.via:
            text += f"\n   (used from {f}:{ln}:{c})"
        if source_lines and self.line and 1 <= self.line <= len(source_lines):
            width = len(str(self.line))
            if self.line >= 2:
                prev = source_lines[self.line - 2].rstrip("\n")
                text += f"\n   {str(self.line - 1).rjust(width)} | {prev}"
            cur = source_lines[self.line - 1].rstrip("\n")
            text += f"\n > {str(self.line).rjust(width)} | {cur}"
        return printable(text)


#: C0 controls but the newline, DEL, C1 controls, and lone surrogates (the undecodable bytes of a
#: file name, which no terminal encoding can print)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(m: re.Match) -> str:
    code = ord(m.group())
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape: the byte it stands for
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character but the newline as a visible escape (ESC as ``\\x1b``),
    and each undecodable byte of a file name as the byte (``\\xff``).

    Names in a session (a source path, an output path, a description) come from an untrusted file;
    printed raw, an ESC or BEL in one would drive the terminal (clear it, retitle it, hide lines).
    The escapes are printable themselves, so applying this twice changes nothing."""
    return _CONTROL.sub(_escape, text)


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diags, key=Diagnostic.sort_key)


class MixgraphError(Exception):
    """Base of every error mixgraph raises on purpose."""

    exit_code = EXIT_USER

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = (), hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.diagnostics: list[Diagnostic] = sort_diagnostics(diagnostics)


class UserError(MixgraphError):
    """A problem with the user's input files, media or command line (exit 1)."""

    exit_code = EXIT_USER


class MediaError(UserError):
    """An audio file cannot be read or written as asked (exit 1)."""


class RenderError(UserError):
    """A render cannot complete as declared, e.g. an unreachable loudness target (exit 1)."""


class SessionInvalid(MixgraphError):
    """The session file is not valid: YAML, schema, references or routing (exit 2)."""

    exit_code = EXIT_INVALID

    def __init__(self, file: str | None, diagnostics: Sequence[Diagnostic]):
        errors = [d for d in diagnostics if d.severity == "error"]
        n = len(errors)
        name = file or "session"
        super().__init__(
            f"{name} is not a valid session ({n} problem{'s' if n != 1 else ''})", diagnostics
        )
        self.file = file


class InternalError(MixgraphError):
    """A bug in mixgraph (exit 3)."""

    exit_code = EXIT_INTERNAL


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """Return ``"Did you mean 'x'?"`` for the closest candidate, or None."""
    import difflib

    cands = sorted(set(candidates))
    best = difflib.get_close_matches(word, cands, n=1, cutoff=0.6)
    if best:
        return f"Did you mean '{best[0]}'?"
    return None

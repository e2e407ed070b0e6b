"""Shared terminal output for the CLI: diagnostics in the house style.

Everything printed here passes through :func:`~mixgraph.errors.printable`: messages quote names from
the session file, which must not reach the terminal as control sequences."""

from __future__ import annotations

import sys

from mixgraph.errors import MAX_LISTED, Diagnostic, MixgraphError, printable

_LINES_CACHE: dict[str, list[str] | None] = {}


def _source_lines(file: str | None) -> list[str] | None:
    if not file:
        return None
    if file not in _LINES_CACHE:
        from mixgraph.session.loader import YamlProblem, read_bytes

        # the session layer's bounded read: a FIFO or a device named by a diagnostic never blocks
        try:
            _LINES_CACHE[file] = read_bytes(file, file).decode("utf-8").splitlines()
        except (YamlProblem, UnicodeDecodeError):
            _LINES_CACHE[file] = None
    return _LINES_CACHE[file]


def format_diagnostics(diags: list[Diagnostic], with_source: bool = True) -> str:
    out = []
    for d in diags[:MAX_LISTED]:
        out.append(d.format(_source_lines(d.file) if with_source and d.line else None))
    if len(diags) > MAX_LISTED:
        out.append(f"... and {len(diags) - MAX_LISTED} more")
    return printable("\n".join(out))


def print_diagnostics(err: MixgraphError, stream=None) -> None:
    stream = stream or sys.stderr
    print(printable(f"error: {err.message}"), file=stream)
    if err.hint:
        print(printable(err.hint), file=stream)
    if err.diagnostics:
        print("", file=stream)
        print(format_diagnostics(err.diagnostics), file=stream)


def print_warnings(diags: list[Diagnostic], stream=None) -> None:
    stream = stream or sys.stderr
    warns = [d for d in diags if d.severity == "warning"]
    if warns:
        print(format_diagnostics(warns), file=stream)

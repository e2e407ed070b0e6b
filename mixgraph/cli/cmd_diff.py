"""mixgraph diff A B [--json] [--variant NAME] [--exit-code] | mixgraph diff [OPTIONS] --git-external <7 git args>

As git's external diff (``git config diff.mixgraph.command 'mixgraph diff --git-external'`` and
``*.yaml diff=mixgraph`` in .gitattributes) it gets ``path old-file old-hex old-mode new-file new-hex
new-mode`` (9 with a rename, 1 for an unmerged path); both sides are read with the folder of ``path``
as their session folder, so sources, globs and local templates mean what they mean in the checkout.
Everything after ``--git-external`` is git's: a path such as ``--json.yaml`` or ``-x.yaml`` is a
path, never an option (options go before ``--git-external``).
"""

from __future__ import annotations

import argparse

HELP = "what changed musically between two sessions (files or git revisions like HEAD~1:song.yaml)"


def add_arguments(p) -> None:
    p.add_argument("a", metavar="A", nargs="?", help="session file or REV:path")
    p.add_argument("b", metavar="B", nargs="?", help="session file or REV:path")
    p.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="changes as a JSON list")
    p.add_argument("--variant", metavar="NAME", help="compare this variant of both")
    p.add_argument("--exit-code", action="store_true", help="exit 1 when there are changes (like git diff)")
    # REMAINDER: argparse hands every later argument over as it is, even one that looks like an option
    p.add_argument("--git-external", nargs=argparse.REMAINDER, metavar="GIT-ARG",
                   help="called by git as a diff driver (last, followed by git's arguments: PATH OLD-FILE "
                        "OLD-HEX OLD-MODE NEW-FILE NEW-HEX NEW-MODE)")


def run(args) -> int:
    import json
    import sys
    from pathlib import Path

    from mixgraph.errors import SessionInvalid, UserError, printable
    from mixgraph.session.diff import diff_sessions, format_changes, load_spec

    if args.git_external is not None:
        argv = args.git_external
        if args.a is not None:
            raise UserError("--git-external takes git's arguments after it, and no A or B before it",
                            hint="Set it up with: git config diff.mixgraph.command 'mixgraph diff --git-external'")
        if len(argv) == 1:  # git passes only the path of an unmerged file
            sys.stdout.write(printable(f"* Unmerged path {argv[0]}") + "\n")
            return 0
        if len(argv) < 7:
            raise UserError("--git-external expects the 7 arguments git passes to a diff driver",
                            hint="Set it up with: git config diff.mixgraph.command 'mixgraph diff --git-external'")
        path, old_file, new_file = argv[0], argv[1], argv[4]
        base = Path(path).parent.resolve()
        sys.stdout.write(printable(f"mixgraph diff a/{path} b/{path}") + "\n")
        try:
            old = load_spec(old_file, args.variant, display=f"a/{path}", session_dir=base)
            new = load_spec(new_file, args.variant, display=f"b/{path}", session_dir=base)
        except SessionInvalid as err:
            # a YAML file that is no session (or a broken revision of one): git must still show
            # something, so say why and fall back to the text diff instead of killing 'git diff'
            _text_diff(path, old_file, new_file, err)
            return 1 if args.exit_code else 0
    else:
        if args.b is None or args.rest:
            raise UserError("diff compares two sessions: mixgraph diff A B",
                            hint="For example: mixgraph diff HEAD~1:song.yaml song.yaml")
        old = load_spec(args.a, args.variant)
        new = load_spec(args.b, args.variant)
    changes = diff_sessions(old, new)
    if args.json:
        sys.stdout.write(json.dumps([c.to_dict() for c in changes], indent=2) + "\n")
    else:
        sys.stdout.write(printable(format_changes(changes)))
    return 1 if (args.exit_code and changes) else 0


def _text_diff(path: str, old_file: str, new_file: str, err) -> None:
    import difflib
    import os
    import sys

    from mixgraph.errors import printable

    def lines(f: str) -> list[str]:
        # lines end at a newline only (str.splitlines also splits at form feeds, \x1c-\x1e, U+2028...)
        if f == os.devnull:
            return []
        with open(f, encoding="utf-8", errors="replace") as fh:
            parts = fh.read().split("\n")
        return [x + "\n" for x in parts[:-1]] + ([parts[-1]] if parts[-1] else [])

    first = err.diagnostics[0] if err.diagnostics else None
    where = f"{first.location}: {first.message}" if first is not None else err.message
    out = [f"(not a valid session: {where} Text diff follows.)\n"]
    for line in difflib.unified_diff(lines(old_file), lines(new_file), f"a/{path}", f"b/{path}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    # the text of a broken file can hold anything; the terminal gets it with its controls escaped
    sys.stdout.write(printable("".join(out)))

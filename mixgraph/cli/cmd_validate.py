"""mixgraph validate SESSION... [--format text|json]"""

from __future__ import annotations

HELP = "check session files; every problem with file:line:col"


def add_arguments(p) -> None:
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.add_argument("--format", choices=("text", "json"), default="text")


def run(args) -> int:
    import json
    import sys

    from mixgraph.api.plan import validate_files
    from mixgraph.cli.output import format_diagnostics
    from mixgraph.errors import printable

    reports = validate_files(args.sessions)
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        for r in reports:
            if r.ok:
                for w in r.warnings:
                    print(printable(w), file=sys.stderr)
                print(f"{printable(r.file)}: ok")
            else:
                print(f"error: {printable(r.message)}", file=sys.stderr)
                if r.diagnostics:
                    print("", file=sys.stderr)
                    print(format_diagnostics(r.diagnostics), file=sys.stderr)
    return max((r.exit_code for r in reports), default=0)

"""mixgraph schema [--output PATH]"""

from __future__ import annotations

HELP = "print or write the JSON Schema of the session format"


def add_arguments(p) -> None:
    p.add_argument("--output", "-o", metavar="PATH", help="write the schema here instead of printing it")


def run(args) -> int:
    import os
    import sys
    import tempfile

    from mixgraph.session.schema import schema_text

    text = schema_text()
    if not args.output:
        sys.stdout.write(text)
        return 0
    target = os.path.abspath(args.output)
    fd, tmp = tempfile.mkstemp(prefix=".schema.", dir=os.path.dirname(target))
    try:
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    print(f"wrote {args.output}")
    return 0

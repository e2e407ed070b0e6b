"""mixgraph expand SESSION [--variant NAME]"""

from __future__ import annotations

HELP = "print the fully resolved session as YAML (defaults filled, variant applied)"


def add_arguments(p) -> None:
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--variant", metavar="NAME")


def run(args) -> int:
    import sys

    from mixgraph.api.session import expand_session
    from mixgraph.session.expand import dump_yaml

    sys.stdout.write(dump_yaml(expand_session(args.session, args.variant)))
    return 0

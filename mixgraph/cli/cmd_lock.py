"""mixgraph lock SESSION: record the sources, session, plan and library versions in SESSION.lock"""

from __future__ import annotations

HELP = "write SESSION.lock: source hashes, session and plan hashes, library versions"


def add_arguments(p) -> None:
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--check", action="store_true",
                   help="do not write; exit 1 when the session or its sources differ from the lock")


def run(args) -> int:
    from rich.console import Console

    from mixgraph.recall.lock import check_lock, lock_path, read_lock, update_lock

    out = Console()
    path = lock_path(args.session)
    if args.check:
        check = check_lock(args.session, lock=read_lock(path))
        if check.lock is None:
            out.print(f"{path}: no lock file")
            return 1
        for line in check.problems():
            out.print(f"differs: {line}", markup=False)
        for line in check.version_changes:
            out.print(f"note: {line}", markup=False)
        if check.matches:
            out.print(f"{path}: the session and its {len(check.lock.sources)} sources match the lock")
            return 0
        return 1
    lock, previous, changed, kept = update_lock(args.session)
    out.print(f"{'wrote' if changed else 'unchanged'} {path}: {len(lock.sources)} sources, "
              f"session {lock.session_sha256[:12]}, plan {lock.plan_sha256[:12]}", markup=False)
    if previous is not None and previous.renders and not kept:
        out.print("the session or its sources changed: the recorded output hashes were dropped; "
                  "render again to record new ones", markup=False)
    elif not lock.renders:
        out.print(f"render the session to record its output hashes (mixgraph render {args.session})", markup=False)
    return 0

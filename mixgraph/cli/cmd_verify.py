"""mixgraph verify SESSION [--variant NAME] [--json]"""

from __future__ import annotations

HELP = "re-render a locked session into a temporary folder and compare it with the lock"


def add_arguments(p) -> None:
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--variant", metavar="NAME")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.add_argument("--block-size", type=int, default=None, metavar="N")
    p.add_argument("--jobs", type=int, default=None, metavar="N")


def run(args) -> int:
    import json

    from mixgraph.recall.verify import verify_session

    v = verify_session(args.session, args.variant, block_size=args.block_size, jobs=args.jobs)
    if args.json:
        print(json.dumps(v.to_dict(), indent=2))
        return 0 if v.identical else 1
    p = print
    what = f"{v.session}" + (f" (variant {v.variant})" if v.variant else "")
    for line in v.check.problems():
        p(f"changed since the lock: {line}")
    for line in v.check.version_changes:
        p(f"note: {line}")
    for o in v.outputs:
        if o.identical:
            p(f"identical  {o.name}: samples sha256 {o.new_sha256[:16]}")
            continue
        line = f"DIFFERS    {o.name}: locked {(o.locked_sha256 or '-')[:16]}, now {(o.new_sha256 or '-')[:16]}"
        if o.reference is not None:
            if o.max_diff_dbfs is None:
                line += "; the samples null completely (only the hash differs)"
            else:
                line += (f"; largest sample difference {o.max_diff_dbfs:.1f} dBFS, "
                         f"null residual {o.null_rms_dbfs:.1f} dBFS RMS")
            if o.frames and o.frames[0] != o.frames[1]:
                line += f"; length {o.frames[0]} -> {o.frames[1]} frames"
        if o.note:
            line += f"; {o.note}"
        p(line)
    p(f"{what}: {'identical to the lock' if v.identical else 'differs from the lock'}")
    return 0 if v.identical else 1

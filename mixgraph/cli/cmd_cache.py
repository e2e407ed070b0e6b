"""mixgraph cache info|prune|clear [SESSION] [--cache-dir DIR] [--cache-size SIZE]"""

from __future__ import annotations

HELP = "show, prune (least recently used first) or clear the render cache"


def add_arguments(p) -> None:
    p.add_argument("action", choices=("info", "prune", "clear"))
    p.add_argument("session", nargs="?", metavar="SESSION",
                   help="the session whose .mixgraph/cache to use (default: the current folder's)")
    p.add_argument("--cache-dir", metavar="DIR", help="the cache folder (default $MIXGRAPH_CACHE_DIR, "
                                                      "else .mixgraph/cache beside the session)")
    p.add_argument("--cache-size", metavar="SIZE", default=None,
                   help="prune down to this size (e.g. 2G, 500M; default 4G)")


def open_cache(args):
    """The render cache the options ask for; None with --no-cache."""
    if args.no_cache:
        return None
    from mixgraph.render.cache import Cache, cache_root

    return Cache(cache_root(args.session, args.cache_dir), _size(args))


def _size(args) -> int:
    """--cache-size in bytes (the default when not given)."""
    from mixgraph.errors import UserError, printable
    from mixgraph.render.cache import DEFAULT_SIZE, parse_size

    try:
        return DEFAULT_SIZE if args.cache_size is None else parse_size(args.cache_size)
    except ValueError:
        raise UserError(f"--cache-size: cannot read '{printable(args.cache_size)}' as a size",
                        hint="Write it like 4G, 500M or 1048576.") from None


def _fmt(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def run(args) -> int:
    from pathlib import Path

    from mixgraph.errors import printable
    from mixgraph.render.cache import Cache, cache_root

    size = _size(args)
    session = args.session or str(Path.cwd() / "session.yaml")
    cache = Cache(cache_root(session, args.cache_dir), size)
    where = printable(str(cache.root))
    if args.action == "info":
        entries = cache.entries()
        total = sum(e.size for e in entries)
        print(f"{where}: {len(entries)} entries, {_fmt(total)} (limit {_fmt(size)})")
    elif args.action == "prune":
        n, freed = cache.prune()
        print(f"{where}: removed {n} least recently used entries ({_fmt(freed)})")
    else:
        n, freed = cache.clear()
        print(f"{where}: removed {n} entries ({_fmt(freed)})")
    return 0

"""mixgraph render SESSION [--variant NAME | --all-variants] [--locked] [--out-dir DIR] [--block-size N] [--jobs N]"""

from __future__ import annotations

HELP = "render every output of a session and print the mix-and-master report"


def add_arguments(p) -> None:
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--variant", metavar="NAME")
    p.add_argument("--all-variants", action="store_true",
                   help="render the session and every variant, each with its report, then compare their loudness")
    p.add_argument("--locked", action="store_true",
                   help="refuse to render when the sources or the session differ from SESSION.lock")
    p.add_argument("--out-dir", metavar="DIR", help="write the outputs here instead of their session paths")
    p.add_argument("--block-size", type=int, default=None, metavar="N",
                   help="frames per block (default 65536); the output does not depend on it")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="threads per graph level (default 2); the output does not depend on it")
    p.add_argument("--no-report-files", action="store_true", help="do not write report.json/.md/.html")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--no-cache", action="store_true",
                   help="render everything, reading and writing no cache (the same samples either way)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="the render cache's folder (default $MIXGRAPH_CACHE_DIR, else .mixgraph/cache beside the session)")
    p.add_argument("--cache-size", metavar="SIZE", default=None,
                   help="the cache's size limit, least recently used entries evicted first (default 4G)")
    p.add_argument("--watch", action="store_true",
                   help="render again whenever the session, a template it uses or a source changes (Ctrl-C stops)")
    p.add_argument("--no-node-meters", action="store_true",
                   help="skip loudness/true-peak metering of every track and bus (faster; peaks still counted)")


def _render(args, variant, err, extra_files, reference=None):
    import sys

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from mixgraph.api.render import render_session
    from mixgraph.cli.cmd_cache import open_cache

    kw = dict(variant=variant, out_dir=args.out_dir, block_size=args.block_size, jobs=args.jobs,
              node_meters=not args.no_node_meters, report_files=not args.no_report_files,
              extra_files=extra_files, reference=reference, cache=open_cache(args))
    if args.quiet or not sys.stderr.isatty():
        return render_session(args.session, **kw)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, frac: float) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage if variant is None else f"{variant}: {stage}", total=1.0)
            bar.update(tasks[stage], completed=frac)

        return render_session(args.session, progress=progress, **kw)


def run(args) -> int:
    from rich.console import Console

    from mixgraph.errors import UserError, printable
    from mixgraph.recall.lock import lock_path, lock_recorder, prepare_render

    if args.block_size is not None and args.block_size < 1:
        raise UserError("--block-size must be at least 1")
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    if args.all_variants and args.variant:
        raise UserError("--all-variants renders every variant; leave out --variant")
    if args.watch:
        from mixgraph.cli.watch import watch

        return watch(args)
    err = Console(stderr=True)
    out = Console()
    say = lambda s, c=out: c.print(printable(s), markup=False, highlight=False)  # noqa: E731

    check = prepare_render(args.session, locked=args.locked)
    lname = lock_path(args.session).name
    if check is not None:
        if not check.matches:
            for line in check.problems():
                say(f"warning: differs from {lname}: {line}", err)
            say(f"warning: {lname} is not updated; run `mixgraph lock` to accept the changes", err)
        for line in check.version_changes:
            say(f"note: {line}", err)

    variants: list[str | None] = [args.variant]
    if args.all_variants:
        from mixgraph.api.session import load_session

        variants = [None, *sorted(load_session(args.session).variants)]

    from mixgraph.report import build_report, render_terminal

    results = []
    for variant in variants:
        if len(variants) > 1:
            out.rule(variant or "session")
        recorder = lock_recorder(args.session, check)
        # with --all-variants the session renders first: its master gains and length are what the
        # variants are mastered with (master_gain: base), so they need no render of their own
        base = results[0].reference if results and results[0].variant is None else None
        result = _render(args, variant, err, recorder, base if variant is not None else None)
        results.append(result)
        render_terminal(build_report(result), out)
        for p in result.report_files:
            say(f"wrote {p}")
        say(f"wrote {len(result.sidecars)} provenance sidecar{'s' if len(result.sidecars) != 1 else ''} (<output>.json)")
        if recorder is not None and check is not None and check.lock is not None \
                and (variant or "") in check.lock.renders:
            say(f"recorded the output hashes in {lname}")
    if len(results) > 1:
        _comparison(results, out)
    return 0


def _comparison(results, out) -> None:
    """Each variant's mix print and master side by side, the mix relative to the session's."""
    from rich.table import Table

    def fmt(x, spec="{:.1f}"):
        return "-" if x is None else spec.format(x)

    base = results[0].premaster.integrated_lufs
    t = Table(title="Variants: mix print and master", title_justify="left")
    for col in ("variant", "mix LUFS", "mix vs session", "master LUFS", "dBTP", "LRA LU", "gain dB"):
        t.add_column(col, justify="left" if col == "variant" else "right", no_wrap=col == "variant")
    for r in results:
        mix, m = r.premaster, r.master
        rel = None if mix.integrated_lufs is None or base is None else mix.integrated_lufs - base
        t.add_row(r.variant or "(session)", fmt(mix.integrated_lufs), fmt(rel, "{:+.1f} LU"),
                  fmt(m.integrated_lufs if m else None), fmt(m.true_peak_dbtp if m else None),
                  fmt(m.lra_lu if m else None), fmt(r.loudness.gain_db if r.loudness else None, "{:+.1f}"))
    out.print(t)

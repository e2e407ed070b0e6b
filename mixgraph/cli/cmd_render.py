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
    p.add_argument("--no-node-meters", action="store_true",
                   help="skip loudness/true-peak metering of every track and bus (faster; peaks still counted)")


def _render(args, variant, err):
    import sys

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from mixgraph.api.render import render_session

    kw = dict(variant=variant, out_dir=args.out_dir, block_size=args.block_size, jobs=args.jobs,
              node_meters=not args.no_node_meters)
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
    from pathlib import Path

    from rich.console import Console

    from mixgraph.errors import UserError
    from mixgraph.recall.lock import check_lock, lock_path, read_lock, record_outputs

    if args.block_size is not None and args.block_size < 1:
        raise UserError("--block-size must be at least 1")
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    if args.all_variants and args.variant:
        raise UserError("--all-variants renders every variant; leave out --variant")
    err = Console(stderr=True)
    out = Console()
    say = lambda s, c=out: c.print(s, markup=False, highlight=False)  # noqa: E731

    lpath = lock_path(args.session)
    lock = read_lock(lpath)
    if args.locked and lock is None:
        raise UserError(f"{lpath}: no lock file, and --locked renders only what a lock recorded",
                        hint=f"Run `mixgraph lock {args.session}` first.")
    check = check_lock(args.session, lock=lock) if lock is not None else None
    if check is not None:
        if not check.matches:
            if args.locked:
                raise UserError(f"{args.session} differs from {lpath}; nothing was rendered:\n  "
                                + "\n  ".join(check.problems()),
                                hint=f"Restore the files, or run `mixgraph lock {args.session}` to accept the changes.")
            for line in check.problems():
                say(f"warning: differs from {lpath.name}: {line}", err)
            say(f"warning: {lpath.name} is not updated; run `mixgraph lock` to accept the changes", err)
        for line in check.version_changes:
            say(f"note: {line}", err)

    variants: list[str | None] = [args.variant]
    if args.all_variants:
        from mixgraph.api.session import load_session

        variants = [None, *sorted(load_session(args.session).variants)]

    from mixgraph.report import build_report, render_terminal, write_report

    results = []
    for variant in variants:
        if len(variants) > 1:
            out.rule(variant or "session")
        result = _render(args, variant, err)
        results.append(result)
        report = build_report(result)
        render_terminal(report, out)
        folder = Path(args.out_dir) if args.out_dir else Path(result.outputs[0].written.path).parent
        if not args.no_report_files:
            for p in write_report(report, folder):
                say(f"wrote {p}")
        say(f"wrote {len(result.sidecars)} provenance sidecar{'s' if len(result.sidecars) != 1 else ''} (<output>.json)")
        if check is not None and check.matches:
            if record_outputs(args.session, check.lock, variant, result.session_hash, result.plan.plan_hash(),
                              {o.written.name: o.written.sha256 for o in result.outputs}):
                say(f"recorded the output hashes in {lpath}")
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

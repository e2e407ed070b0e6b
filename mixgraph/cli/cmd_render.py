"""mixgraph render SESSION [--variant NAME] [--out-dir DIR] [--block-size N] [--jobs N]"""

from __future__ import annotations

HELP = "render every output of a session and print the mix-and-master report"


def add_arguments(p) -> None:
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--variant", metavar="NAME")
    p.add_argument("--out-dir", metavar="DIR", help="write the outputs here instead of their session paths")
    p.add_argument("--block-size", type=int, default=4096, metavar="N", help="frames per block (default 4096)")
    p.add_argument("--jobs", type=int, default=None, metavar="N", help="threads (default: all cores)")
    p.add_argument("--no-report-files", action="store_true", help="do not write report.json/.md/.html")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--no-node-meters", action="store_true",
                   help="skip loudness/true-peak metering of every track and bus (faster; peaks still counted)")


def run(args) -> int:
    import sys
    from pathlib import Path

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from mixgraph.api.render import render_session
    from mixgraph.errors import UserError

    if args.block_size < 1:
        raise UserError("--block-size must be at least 1")
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    err = Console(stderr=True)
    out = Console()
    if args.quiet or not sys.stderr.isatty():
        result = render_session(args.session, variant=args.variant, out_dir=args.out_dir,
                                block_size=args.block_size, jobs=args.jobs, node_meters=not args.no_node_meters)
    else:
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err) as bar:
            tasks: dict[str, int] = {}

            def progress(stage: str, frac: float) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=1.0)
                bar.update(tasks[stage], completed=frac)

            result = render_session(args.session, variant=args.variant, out_dir=args.out_dir,
                                    block_size=args.block_size, jobs=args.jobs, progress=progress,
                                    node_meters=not args.no_node_meters)
    from mixgraph.report import build_report, render_terminal, write_report

    report = build_report(result)
    render_terminal(report, out)
    if not args.no_report_files:
        folder = Path(args.out_dir) if args.out_dir else Path(result.outputs[0].written.path).parent
        for p in write_report(report, folder):
            out.print(f"wrote {p}")
    return 0

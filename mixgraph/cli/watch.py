"""``mixgraph render --watch``: render, then render again whenever the session, a template it uses or a
source changes; each time say what changed (the words of ``mixgraph diff``) and the new Mix and
Master loudness. A session error is printed and the loop waits for the next save. Renders go
through the cache, so an edit re-renders only what it touches; the report files are rewritten in
place, so a browser tab showing the HTML report shows the new render when reloaded.

watchfiles (the optional extra ``watch``) is imported only here, and only when no change source is
given (tests give one: an iterator of sets of changed paths).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path


def _lines(result) -> list[str]:
    def lufs(m):
        return "-" if m is None or m.integrated_lufs is None else f"{m.integrated_lufs:.1f} LUFS"

    out = [f"Mix: {lufs(result.premaster)}, {result.premaster.true_peak_dbtp:.1f} dBTP"]
    if result.master is not None:
        out.append(f"Master: {lufs(result.master)}, {result.master.true_peak_dbtp:.1f} dBTP")
    return out


def _inputs(session: str) -> set[str]:
    """Real paths of what a render of ``session`` reads (session, templates, sources, IRs)."""
    paths = {os.path.realpath(session)}
    try:
        from mixgraph.api.plan import resolve_plan

        paths |= set(resolve_plan(session).files.inputs)
    except Exception:  # noqa: BLE001 - a broken session: watch the session file until it is fixed
        pass
    return paths


def _watchfiles(folder: str, relevant: Callable[[], set[str]]) -> Iterator[set[str]]:
    """Batches of changed paths that a render reads. The watcher runs in a thread from the start,
    so a save made while a render runs is not missed: it starts the next render."""
    try:
        import watchfiles
    except ImportError:
        from mixgraph.errors import UserError

        raise UserError("--watch needs the watchfiles package",
                        hint="Install it with: pip install 'mixgraph[watch]'") from None
    import queue
    import signal
    import threading

    batches: queue.Queue = queue.Queue()
    stop = threading.Event()

    def run() -> None:
        # Ctrl-C, SIGTERM and SIGHUP go to the main thread: a signal the kernel handed to this
        # thread (or to the watcher's own threads, which inherit the mask) would not wake the main
        # thread's wait for the next batch, and the command would hang until the next save
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
        for batch in watchfiles.watch(folder, recursive=True, stop_event=stop):
            batches.put({os.path.realpath(p) for _, p in batch})

    threading.Thread(target=run, name="mixgraph-watch", daemon=True).start()
    return _relevant(batches, relevant, stop)


def _relevant(batches, relevant: Callable[[], set[str]], stop) -> Iterator[set[str]]:
    import queue

    try:
        while True:
            changed = batches.get() & relevant()
            while True:  # what else came meanwhile: one render for a burst of saves
                try:
                    changed |= batches.get_nowait() & relevant()
                except queue.Empty:
                    break
            if changed:
                yield changed
    finally:
        stop.set()


def watch(args, changes: Iterable[set[str]] | None = None, say: Callable[[str], None] | None = None,
          render: Callable | None = None) -> int:
    """Render ``args.session`` now and after every batch of ``changes`` (default: file events of
    the session's folder filtered to what the render reads); returns when the changes end."""
    from mixgraph.cli.cmd_cache import open_cache
    from mixgraph.errors import MixgraphError, printable
    from mixgraph.report.render import cache_line
    from mixgraph.session.diff import diff_sessions, format_changes, load_spec

    if say is None:
        def say(line: str) -> None:
            print(line, flush=True)  # at once, also into a pipe
    session = args.session
    cache = open_cache(args)
    watched: set[str] = _inputs(session)
    if changes is None:
        changes = _watchfiles(str(Path(session).resolve().parent), lambda: watched)
    if render is None:
        from mixgraph.api.render import render_session

        def render():
            return render_session(session, variant=args.variant, out_dir=args.out_dir, block_size=args.block_size,
                                  jobs=args.jobs, node_meters=not args.no_node_meters,
                                  report_files=not args.no_report_files, cache=cache)

    before = None
    it = iter(changes)
    while True:
        try:
            now = load_spec(session, args.variant)
            if before is not None:
                say(printable(format_changes(diff_sessions(before, now))).rstrip("\n"))
            before = now
            result = render()
            for line in _lines(result):
                say(line)
            if result.cache is not None:
                say(cache_line(result.cache.to_dict()))
        except MixgraphError as exc:
            say(f"error: {printable(str(exc))}")
        watched = _inputs(session)
        say("watching for changes (Ctrl-C stops)")
        try:
            changed = next(it)
        except (StopIteration, KeyboardInterrupt):
            return 0
        say("changed: " + ", ".join(printable(os.path.basename(p)) for p in sorted(changed)))

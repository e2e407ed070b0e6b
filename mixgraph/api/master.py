"""Master stage of the API: master a finished mix file (see ``mixgraph.mastering.job``)."""

from __future__ import annotations

from pathlib import Path

from mixgraph.mastering.job import master_session


def master_file(mix: str | Path, out: str | Path, **options):
    """Master ``mix`` into ``out`` (with its sidecar and report files); returns the RenderResult."""
    from mixgraph.api.render import render_session
    from mixgraph.graph.compile import compile_session

    session = master_session(mix, out, **options)
    plan = compile_session(session, session_dir=Path(out).resolve().parent)
    return render_session(plan, node_meters=False)

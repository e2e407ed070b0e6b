"""Compile stage of the API: session file -> RenderPlan (through the one static check)."""

from __future__ import annotations

from pathlib import Path

from mixgraph.graph.compile import compile_session as _compile
from mixgraph.graph.plan import RenderPlan
from mixgraph.session.models import Session


def compile_session(path_or_session: str | Path | Session, variant: str | None = None, *,
                    session_dir: str | Path | None = None) -> RenderPlan:
    """The render plan of a session file (the static check ``validate`` runs, media probed and
    outputs checked) or of a session object (compiled as it is, without media)."""
    if isinstance(path_or_session, Session):
        return _compile(path_or_session, session_dir=Path(session_dir or "."), variant=variant)
    from mixgraph.api.plan import resolve_plan

    return resolve_plan(path_or_session, variant).plan

"""Compile stage of the API: session file -> RenderPlan."""

from __future__ import annotations

from pathlib import Path

from mixgraph.graph.compile import compile_session as _compile
from mixgraph.graph.plan import RenderPlan
from mixgraph.session import pipeline
from mixgraph.session.models import Session


def source_channels(session: Session, session_dir: Path) -> dict[str, int]:
    """Channel count of every track's source (read from the file headers)."""
    from mixgraph.render.reader import probe_channels

    out = {}
    for name, t in session.tracks.items():
        out[name] = probe_channels(session_dir / session.sources_dir / t.source)
    return out


def compile_session(path_or_session: str | Path | Session, variant: str | None = None, *,
                    session_dir: str | Path | None = None, check_files: bool = True) -> RenderPlan:
    """Load (if given a path), expand the variant and compile to a RenderPlan."""
    if isinstance(path_or_session, Session):
        base = Path(session_dir or ".")
        session = path_or_session
        return _compile(session, session_dir=base, variant=variant)
    ls = pipeline.load(path_or_session, check_media=check_files)
    session = pipeline.expand(ls, variant)
    chans = source_channels(session, ls.session_dir) if check_files else {}
    return _compile(session, session_file=ls.file, session_dir=ls.session_dir, variant=variant,
                    positions=ls.position, source_channels=chans)

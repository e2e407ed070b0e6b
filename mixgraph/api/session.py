"""Session stage of the API: load, validate, expand (no numpy/scipy/soundfile here)."""

from __future__ import annotations

from pathlib import Path

from mixgraph.session import pipeline
from mixgraph.session.models import Session
from mixgraph.session.pipeline import LoadedSession


def load_session_with_positions(path: str | Path, *, check_files: bool = True) -> LoadedSession:
    """The validated session plus the YAML position of every node (for later diagnostics)."""
    return pipeline.load(path, check_media=check_files)


def load_session(path: str | Path, *, check_files: bool = True) -> Session:
    """Load and validate a session file; raises SessionInvalid (exit 2) or MediaError (exit 1)."""
    return pipeline.load(path, check_media=check_files).session


def expand_session(path_or_loaded: str | Path | LoadedSession, variant: str | None = None,
                   *, check_files: bool = False) -> Session:
    """The fully resolved session: defaults filled, presets resolved, variant applied."""
    ls = path_or_loaded if isinstance(path_or_loaded, LoadedSession) else pipeline.load(
        path_or_loaded, check_media=check_files)
    return pipeline.expand(ls, variant)

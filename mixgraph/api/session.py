"""Session stage of the API: load, validate, expand (no numpy/scipy/soundfile here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mixgraph.errors import Diagnostic, MixgraphError
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


@dataclass
class ValidationReport:
    file: str
    ok: bool
    exit_code: int
    message: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"file": self.file, "ok": self.ok, "exit_code": self.exit_code, "message": self.message,
                "diagnostics": [d.to_dict() for d in self.diagnostics]}


def validate_files(paths: list[str | Path]) -> list[ValidationReport]:
    reports = []
    for p in paths:
        try:
            pipeline.load(p)
            reports.append(ValidationReport(str(p), True, 0))
        except MixgraphError as err:
            reports.append(ValidationReport(str(p), False, err.exit_code, err.message, err.diagnostics))
    return reports

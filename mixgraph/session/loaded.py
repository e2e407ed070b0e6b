"""A loaded session: the validated model, the YAML it came from (with every node's position) and
its path. Its own module so that the stages which take one (expand, pipeline) need not import
each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mixgraph.errors import Diagnostic
from mixgraph.session.loader import LoadedYaml
from mixgraph.session.models import Session


@dataclass(frozen=True)
class LoadedSession:
    session: Session
    loaded: LoadedYaml
    path: Path
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def file(self) -> str:
        return self.loaded.file

    @property
    def session_dir(self) -> Path:
        return self.path.parent

    def position(self, path: tuple, *, key: bool = False) -> tuple[str, int, int] | None:
        """(file, line, col) of a session node (of its key with ``key``), else of its nearest ancestor."""
        file, line, col, _ = self.loaded.locate(path, key=key)
        if line is None:
            return None
        return (file, line, col)

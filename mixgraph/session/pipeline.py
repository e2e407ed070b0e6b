"""The session stages: read -> YAML (+source map) -> [templates] -> schema -> references -> variants -> files.

``load(path)`` returns a :class:`LoadedSession` (the validated model plus the
positions of every YAML node) or raises :class:`SessionInvalid` /
:class:`MediaError` with every problem of the failing stage.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from mixgraph.errors import MediaError, SessionInvalid
from mixgraph.session.diagnostics import convert_validation_error
from mixgraph.session.expand import dump_yaml, expand, session_hash, variant_problems
from mixgraph.session.loaded import LoadedSession
from mixgraph.session.loader import LoadedYaml, YamlProblem, load_yaml_file, load_yaml_text
from mixgraph.session.models import Session
from mixgraph.session.validate import check_files, check_references

#: hook for the template stage: raw LoadedYaml -> LoadedYaml (templates expanded)
RawStage = Callable[[LoadedYaml, Path], LoadedYaml]
RAW_STAGES: list[RawStage] = []


def _templates(loaded: LoadedYaml, session_dir: Path) -> LoadedYaml:
    from mixgraph.session.templates import expand_templates

    return expand_templates(loaded, session_dir)


RAW_STAGES.append(_templates)


def _validate(loaded: LoadedYaml, session_dir: Path, check_media: bool) -> Session:
    try:
        session = Session.model_validate(loaded.data)
    except ValidationError as exc:
        raise SessionInvalid(loaded.file, convert_validation_error(exc, loaded)) from None
    ref = [d for d in check_references(session, loaded) if d.severity == "error"]
    if ref:
        raise SessionInvalid(loaded.file, ref)
    variants = variant_problems(LoadedSession(session, loaded, session_dir / Path(loaded.file).name))
    if variants:
        raise SessionInvalid(loaded.file, variants)
    if check_media:
        missing = check_files(session, session_dir, loaded)
        if missing:
            raise MediaError(
                f"{loaded.file}: {len(missing)} file problem{'s' if len(missing) != 1 else ''}",
                missing,
            )
    return session


def load(path: str | Path, *, check_media: bool = True, display: str | None = None) -> LoadedSession:
    p = Path(path)
    file = display or str(path)
    try:
        loaded = load_yaml_file(p, file)
    except YamlProblem as problem:
        codes = {d.code for d in problem.diagnostics}
        if codes <= {"file.missing", "file.unreadable"}:
            raise MediaError(problem.diagnostics[0].message, problem.diagnostics) from None
        raise SessionInvalid(file, problem.diagnostics) from None
    for stage in RAW_STAGES:
        loaded = stage(loaded, p.parent)
    session = _validate(loaded, p.parent, check_media)
    return LoadedSession(session, loaded, p)


def load_text(text: str, file: str = "<session>", session_dir: Path | None = None,
              check_media: bool = False) -> LoadedSession:
    try:
        loaded = load_yaml_text(text, file)
    except YamlProblem as problem:
        raise SessionInvalid(file, problem.diagnostics) from None
    base = session_dir or Path(".")
    for stage in RAW_STAGES:
        loaded = stage(loaded, base)
    session = _validate(loaded, base, check_media)
    return LoadedSession(session, loaded, base / Path(file).name)


__all__ = ["LoadedSession", "RAW_STAGES", "dump_yaml", "expand", "load", "load_text", "session_hash",
           "variant_problems"]

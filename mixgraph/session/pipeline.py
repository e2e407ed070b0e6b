"""The session stages: read -> YAML (+source map) -> [templates] -> schema -> references -> expand.

``load(path)`` returns a :class:`LoadedSession` (the validated model plus the
positions of every YAML node) or raises :class:`SessionInvalid` /
:class:`MediaError` with every problem of the failing stage.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mixgraph.errors import Diagnostic, MediaError, SessionInvalid
from mixgraph.session.diagnostics import convert_validation_error
from mixgraph.session.loader import LoadedYaml, YamlProblem, load_yaml_file, load_yaml_text
from mixgraph.session.models import Loudness, Session
from mixgraph.session.validate import check_files, check_references, resolved_loudness

#: hook for the template stage: raw LoadedYaml -> LoadedYaml (templates expanded)
RawStage = Callable[[LoadedYaml, Path], LoadedYaml]
RAW_STAGES: list[RawStage] = []


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

    def position(self, path: tuple) -> tuple[str, int, int] | None:
        pos = self.loaded.position(path)
        if pos is None:
            return None
        return (self.loaded.file, pos[0], pos[1])


def _validate(loaded: LoadedYaml, session_dir: Path, check_media: bool) -> Session:
    try:
        session = Session.model_validate(loaded.data)
    except ValidationError as exc:
        raise SessionInvalid(loaded.file, convert_validation_error(exc, loaded)) from None
    ref = [d for d in check_references(session, loaded) if d.severity == "error"]
    if ref:
        raise SessionInvalid(loaded.file, ref)
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


# --------------------------------------------------------------------------- expand


def _set_path(data: dict, dotted: str) -> tuple[Any, Any]:
    """Return (container, key) for a dotted path like 'tracks.kick.chain[0].ratio'."""
    parts: list[str | int] = []
    for piece in dotted.split("."):
        while "[" in piece:
            head, _, rest = piece.partition("[")
            if head:
                parts.append(head)
            idx, _, piece = rest.partition("]")
            parts.append(int(idx))
        if piece:
            parts.append(piece)
    node: Any = data
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def expand(ls: LoadedSession, variant: str | None = None) -> Session:
    """The resolved session: variant applied, presets and tempo resolved, defaults filled."""
    session = ls.session
    data = session.model_dump(mode="python", by_alias=True, exclude_none=False)
    if variant is not None:
        if variant not in session.variants:
            from mixgraph.errors import did_you_mean

            raise SessionInvalid(ls.file, [Diagnostic(
                f"Unknown variant '{variant}'.", ls.file, None, None, "variants",
                did_you_mean(variant, session.variants) or
                (f"Variants: {', '.join(session.variants)}." if session.variants else "This session has no variants."),
                code="ref.variant")])
        v = session.variants[variant]
        vpath = ("variants", variant)
        problems: list[Diagnostic] = []
        for name in v.mute:
            for section in ("tracks", "buses", "returns"):
                if name in data[section]:
                    data[section][name]["mute"] = True
        for name in v.solo:
            for section in ("tracks", "buses", "returns"):
                if name in data[section]:
                    data[section][name]["solo"] = True
        for dotted, value in v.set.items():
            try:
                container, key = _set_path(data, dotted)
                if isinstance(container, dict) and key not in container:
                    raise KeyError(key)
                container[key] = copy.deepcopy(value)
            except (KeyError, IndexError, TypeError, ValueError):
                pos = ls.position(vpath + ("set", dotted))
                problems.append(Diagnostic(
                    f"'{dotted}' names nothing in this session.", *(pos or (ls.file, None, None)),
                    format_dotted(vpath + ("set", dotted)),
                    "Use a dotted path like 'buses.vocals.gain_db' or 'tracks.kick.chain[0].ratio'.",
                    code="ref.variant-set"))
        if v.outputs is not None:
            data["outputs"] = {k: o.model_dump(mode="python") for k, o in v.outputs.items()}
        data["variants"] = {}
        if problems:
            raise SessionInvalid(ls.file, problems)
        try:
            session = Session.model_validate(data)
        except ValidationError as exc:
            pos = ls.position(vpath)
            diags = []
            for d in convert_validation_error(exc, LoadedYaml(data, ls.file, "", {}, {})):
                diags.append(Diagnostic(
                    f"With variant '{variant}': {d.message}", *(pos or (ls.file, None, None)),
                    d.path, d.hint, code=d.code))
            raise SessionInvalid(ls.file, diags) from None
        data = session.model_dump(mode="python", by_alias=True)
    # presets -> explicit numbers
    loud = data["master"].get("loudness")
    if loud is not None:
        target, ceiling = resolved_loudness(Loudness.model_validate(loud))
        loud.update(target_lufs=target, ceiling_dbtp=ceiling)
    # delay notes take the session tempo
    for chain in _all_chains(data):
        for proc in chain:
            if proc.get("type") == "delay" and proc.get("note") and proc.get("tempo_bpm") is None:
                proc["tempo_bpm"] = data.get("tempo_bpm")
    return Session.model_validate(data)


def format_dotted(path: tuple) -> str:
    from mixgraph.session.loader import format_path

    return format_path(path)


def _all_chains(data: dict):
    for section in ("tracks", "buses", "returns"):
        for strip in data.get(section, {}).values():
            yield strip.get("chain", [])
    yield data["master"].get("chain", [])


def session_hash(session: Session) -> str:
    import hashlib

    canon = json.dumps(session.model_dump(mode="json", by_alias=True), sort_keys=True,
                       separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def dump_yaml(session: Session) -> str:
    """Stable YAML of a session (same input, same bytes); re-validates."""
    import yaml

    data = session.model_dump(mode="json", by_alias=True)

    class Dumper(yaml.SafeDumper):
        pass

    def str_rep(dumper, value):
        # quote strings YAML 1.1 would read as something else
        style = None
        if value.lower() in {"yes", "no", "on", "off", "y", "n", "true", "false", "null", "~", ""}:
            style = "'"
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, str_rep)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=100)

"""The expand stage: a validated session -> the fully resolved session.

* a variant is applied (``mute``, ``solo``, ``set`` on dotted paths, ``outputs``
  replacing the outputs) and the result re-validated; problems point at the
  variant's lines;
* loudness presets become explicit ``target_lufs`` / ``ceiling_dbtp``
  (explicit fields win);
* delays with a ``note`` get the session's ``tempo_bpm``;
* every default is filled (the model dump carries every field).

``dump_yaml`` prints a session as stable block-style YAML (same input, same
bytes, keys in model order) that loads back to the same session.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from mixgraph.errors import Diagnostic, SessionInvalid, did_you_mean
from mixgraph.mastering.presets import resolved_loudness
from mixgraph.session.diagnostics import convert_validation_error
from mixgraph.session.loaded import LoadedSession
from mixgraph.session.loader import LoadedYaml, format_path
from mixgraph.session.models import Loudness, Session

SECTIONS = ("tracks", "buses", "returns")


def parse_dotted(dotted: str) -> tuple[str | int, ...]:
    """'tracks.kick.chain[0].ratio' -> ('tracks', 'kick', 'chain', 0, 'ratio'); ValueError if malformed."""
    parts: list[str | int] = []
    for piece in dotted.split("."):
        if not piece:
            raise ValueError(dotted)
        while "[" in piece:
            head, _, rest = piece.partition("[")
            idx, close, piece = rest.partition("]")
            if not close:
                raise ValueError(dotted)
            if head:
                parts.append(head)
            parts.append(int(idx))
        if piece:
            parts.append(piece)
    if not parts:
        raise ValueError(dotted)
    return tuple(parts)


def _container(data: dict, parts: tuple[str | int, ...]) -> tuple[Any, str | int]:
    node: Any = data
    for part in parts[:-1]:
        node = node[part]
    key = parts[-1]
    if isinstance(node, dict):
        if key not in node:
            raise KeyError(key)
    elif isinstance(node, list):
        if not isinstance(key, int):
            raise TypeError(key)
        node[key]  # IndexError when out of range
    else:
        raise TypeError(key)
    return node, key


def _no_variant(ls: LoadedSession, variant: str) -> SessionInvalid:
    names = ls.session.variants
    hint = did_you_mean(variant, names) or (
        f"Variants: {', '.join(names)}." if names else "This session has no variants.")
    return SessionInvalid(ls.file, [Diagnostic(f"Unknown variant '{variant}'.", ls.file, None, None,
                                               "variants", hint, code="ref.variant")])


def apply_variant(ls: LoadedSession, variant: str) -> Session:
    """The session with one variant applied and re-validated (variants dropped)."""
    session = ls.session
    if variant not in session.variants:
        raise _no_variant(ls, variant)
    v = session.variants[variant]
    vpath = ("variants", variant)
    data = session.model_dump(mode="python", by_alias=True)
    for flag, names in (("mute", v.mute), ("solo", v.solo)):
        for name in names:
            for section in SECTIONS:
                if name in data[section]:
                    data[section][name][flag] = True
    problems: list[Diagnostic] = []
    set_paths: dict[tuple, str] = {}
    for dotted, value in v.set.items():
        where = ls.position(vpath + ("set", dotted), key=True) or (ls.file, None, None)
        try:
            parts = parse_dotted(dotted)
            container, key = _container(data, parts)
        except (KeyError, IndexError, TypeError, ValueError):
            problems.append(Diagnostic(
                f"'{dotted}' names nothing in this session.", *where,
                format_path(vpath + ("set", dotted)),
                "Use a dotted path like 'buses.vocals.gain_db' or 'tracks.kick.chain[0].ratio'.",
                code="ref.variant-set"))
            continue
        container[key] = copy.deepcopy(value)
        set_paths[parts] = dotted
    if problems:
        raise SessionInvalid(ls.file, problems)
    if v.outputs is not None:
        data["outputs"] = {k: o.model_dump(mode="python") for k, o in v.outputs.items()}
    data["variants"] = {}
    try:
        return Session.model_validate(data)
    except ValidationError as exc:
        diags = convert_validation_error(exc, LoadedYaml(data, ls.file, "", {}, {}))
        raise SessionInvalid(ls.file, [_at_variant(ls, variant, d, set_paths) for d in diags]) from None


def _at_variant(ls: LoadedSession, variant: str, d: Diagnostic, set_paths: dict[tuple, str]) -> Diagnostic:
    """Point a diagnostic of the patched session at the variant line that caused it."""
    vpath = ("variants", variant)
    target = vpath
    for parts, dotted in set_paths.items():
        p = format_path(parts)
        if d.path == p or d.path.startswith(p + ".") or d.path.startswith(p + "["):
            target = vpath + ("set", dotted)
            break
    where = ls.position(target) or (ls.file, None, None)
    return Diagnostic(f"With variant '{variant}': {d.message}", *where, d.path, d.hint, code=d.code)


def _chains(data: dict) -> Iterator[list]:
    for section in SECTIONS:
        for strip in data.get(section, {}).values():
            yield strip.get("chain", [])
    yield data["master"].get("chain", [])


def expand(ls: LoadedSession, variant: str | None = None) -> Session:
    """The resolved session: variant applied, presets and tempo resolved, defaults filled."""
    session = apply_variant(ls, variant) if variant is not None else ls.session
    data = session.model_dump(mode="python", by_alias=True)
    loud = data["master"].get("loudness")
    if loud is not None:
        target, ceiling = resolved_loudness(Loudness.model_validate(loud))
        loud.update(target_lufs=target, ceiling_dbtp=ceiling)
    for chain in _chains(data):
        for proc in chain:
            if proc.get("type") == "delay" and (proc.get("note") or proc.get("right_note")) \
                    and proc.get("tempo_bpm") is None:
                proc["tempo_bpm"] = data.get("tempo_bpm")
    return Session.model_validate(data)


def variant_problems(ls: LoadedSession) -> list[Diagnostic]:
    """Apply every variant of a valid session; the problems they cause, with positions."""
    out: list[Diagnostic] = []
    for name in ls.session.variants:
        try:
            apply_variant(ls, name)
        except SessionInvalid as err:
            out.extend(err.diagnostics)
    return out


def session_hash(session: Session) -> str:
    canon = json.dumps(session.model_dump(mode="json", by_alias=True), sort_keys=True,
                       separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


# quote strings a YAML 1.1 reader would take for something else
_AMBIGUOUS = {"yes", "no", "on", "off", "y", "n", "true", "false", "null", "~", ""}


def dump_yaml(session: Session) -> str:
    """Stable block-style YAML of a session (same input, same bytes; keys in model order)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def str_rep(dumper, value):
        style = "'" if value.lower() in _AMBIGUOUS else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, str_rep)
    data = session.model_dump(mode="json", by_alias=True)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=100)

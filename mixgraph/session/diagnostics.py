"""Pydantic validation errors -> house-style diagnostics with file:line:col.

One sentence of what is wrong, at most one of how to fix it; never raw
pydantic text.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from mixgraph.errors import Diagnostic, did_you_mean
from mixgraph.session.loader import LoadedYaml, format_path
from mixgraph.session.models import PROCESSOR_MODELS, Session


def _all_field_names() -> set[str]:
    names: set[str] = set()
    seen: set[type] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, f in model.model_fields.items():
            names.add(f.alias or name)
            for t in _model_types(f.annotation):
                walk(t)

    walk(Session)
    for m in PROCESSOR_MODELS.values():
        walk(m)
    return names


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    out = []
    stack = [annotation]
    while stack:
        a = stack.pop()
        if isinstance(a, type) and issubclass(a, BaseModel):
            out.append(a)
            continue
        stack.extend(getattr(a, "__args__", ()) or ())
        meta = getattr(a, "__metadata__", None)
        if meta is not None:
            stack.append(getattr(a, "__origin__", None))
    return out


def _model_at(path: tuple, data: Any) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``path`` (None when unsure)."""
    from typing import get_args, get_origin

    current: Any = Session
    node = data
    for part in path:
        if isinstance(current, type) and issubclass(current, BaseModel):
            f = current.model_fields.get(part) or next(
                (fi for fi in current.model_fields.values() if fi.alias == part), None)
            if f is None:
                return None
            current = f.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list:
            current = get_args(current)[0]
        else:
            return None
        node = node.get(part) if isinstance(node, dict) else (
            node[part] if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node) else None)
        current = _concrete(current, node)
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _concrete(annotation: Any, node: Any) -> Any:
    """Strip Annotated/Optional; pick the union member whose 'type' literal matches the data."""
    from typing import Literal, get_args, get_origin

    while get_origin(annotation) is not None and hasattr(annotation, "__metadata__"):
        annotation = annotation.__origin__
    members = _model_types(annotation)
    if get_origin(annotation) in (dict, list):
        return annotation
    if len(members) == 1:
        return members[0]
    tag = node.get("type") if isinstance(node, dict) else None
    for m in members:
        t = m.model_fields.get("type")
        if t is not None and get_origin(t.annotation) is Literal and tag in get_args(t.annotation):
            return m
    if get_origin(annotation) is not None and not members:
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _concrete(args[0], node)
    return annotation if isinstance(annotation, type) else None


def fields_at(path: tuple, data: Any) -> set[str]:
    """Keys allowed at ``path`` (the model's fields), else every field name of the format."""
    model = _model_at(path, data)
    if model is None:
        return field_names()
    return {f.alias or n for n, f in model.model_fields.items()}


_FIELD_NAMES: set[str] | None = None


def field_names() -> set[str]:
    global _FIELD_NAMES
    if _FIELD_NAMES is None:
        _FIELD_NAMES = _all_field_names()
    return _FIELD_NAMES


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        v = value if len(value) <= 40 else value[:37] + "..."
        return f"the string '{v}'"
    if isinstance(value, int | float):
        return f"the number {_fmt_num(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _fmt_num(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10**15:
        return f"{str(v)[:1 + (v < 0)]}e{len(str(abs(v))) - 1}"  # a YAML integer too large for a float
    return f"{v:g}" if isinstance(v, int | float) and not isinstance(v, bool) else str(v)


#: unit suffix of a field name -> how a sentence names the unit
_UNITS = (("_db_oct", "dB/oct"), ("_dbtp", "dBTP"), ("_lufs", "LUFS"), ("_lu", "LU"), ("_db", "dB"),
          ("_ms", "ms"), ("_hz", "Hz"), ("_bpm", "BPM"), ("_s", "s"))


def _subject(loc: tuple) -> str:
    """'ratio' -> 'Ratio', 'gain_db' -> 'Gain (dB)', 'sample_rate' -> 'Sample rate'."""
    for part in reversed(loc):
        if isinstance(part, str) and part != "[key]":
            if part.startswith("<"):
                return "Value"
            unit = ""
            for suffix, name in _UNITS:
                if part.endswith(suffix) and len(part) > len(suffix):
                    part, unit = part[: -len(suffix)], f" ({name})"
                    break
            return part.replace("_", " ").capitalize() + unit
    return "Value"


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's union-member segments (e.g. 'compressor', 'function-after[...]')."""
    out: list = []
    for part in loc:
        if isinstance(part, str) and ("[" in part and part.endswith("]") and part != "[key]"):
            continue
        out.append(part)
    return tuple(out)


def _strip_tags(loc: tuple, data: Any) -> tuple:
    """Remove discriminator tags pydantic inserts into locations (e.g. 'compressor', 'bell')."""
    out: list = []
    node = data
    for part in loc:
        if part == "[key]":
            out.append(part)
            continue
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and node.get("type") == part:
            continue  # discriminator tag
        elif isinstance(node, dict) and isinstance(part, str) and part == "from_":
            out.append("from")
            node = node.get("from")
        else:
            out.append(part)
            node = None
    return tuple(out)


def convert_validation_error(exc: ValidationError, loaded: LoadedYaml) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    seen: set[tuple] = set()
    for err in exc.errors(include_url=False):
        raw_loc = _clean_loc(tuple(err.get("loc", ())))
        loc = _strip_tags(raw_loc, loaded.data)
        etype = err.get("type", "")
        value = err.get("input")
        ctx = err.get("ctx") or {}
        message, hint, use_key = _message(etype, loc, value, ctx, err.get("msg", ""))
        if etype == "extra_forbidden":
            hint = did_you_mean(str(loc[-1]), fields_at(tuple(loc[:-1]), loaded.data))
        path = tuple(p for p in loc if p != "[key]")
        key_error = "[key]" in loc
        file, line, col, via = loaded.locate(path, key=use_key or key_error)
        ident = (path, message)
        if ident in seen:
            continue
        seen.add(ident)
        diags.append(
            Diagnostic(message, file, line, col, format_path(path), hint, code=f"schema.{etype}", via=via)
        )
    return diags


def _message(etype: str, loc: tuple, value: Any, ctx: dict, msg: str) -> tuple[str, str | None, bool]:  # noqa: C901 (a table: one branch per pydantic error type it rewords)
    subject = _subject(loc)
    key = loc[-1] if loc else ""
    if etype == "missing":
        return f"Missing required key '{key}'.", None, False
    if etype == "extra_forbidden":
        return f"Unknown key '{key}'.", did_you_mean(str(key), field_names()), True
    if etype == "union_tag_invalid":
        tag = ctx.get("tag", value)
        kinds = sorted(PROCESSOR_MODELS) if "compressor" in str(ctx.get("expected_tags", "")) else [
            t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")
        ]
        what = "processor type" if "compressor" in kinds else "type"
        hint = did_you_mean(str(tag), kinds) or f"Use one of: {', '.join(kinds)}."
        return f"Unknown {what} '{tag}'.", hint, False
    if etype == "union_tag_not_found":
        return "Missing key 'type'.", "Every processor and EQ band needs a 'type'.", False
    if etype in ("float_type", "int_type", "float_parsing", "int_parsing", "int_from_float"):
        if etype == "int_from_float":
            return f"{subject} must be a whole number (got {_fmt_num(value)}).", None, False
        return f"{subject} must be a number, got {_describe(value)}.", None, False
    if etype in ("bool_type", "bool_parsing"):
        return f"{subject} must be true or false, got {_describe(value)}.", None, False
    if etype == "string_type":
        return f"{subject} must be text, got {_describe(value)}.", None, False
    if etype in ("dict_type", "model_type", "model_attributes_type"):
        return f"{subject} must be a mapping of keys to values, got {_describe(value)}.", None, False
    if etype in ("list_type", "tuple_type"):
        return f"{subject} must be a list, got {_describe(value)}.", None, False
    if etype == "finite_number":
        return f"{subject} must be a finite number (got {_fmt_num(value)}).", None, False
    if etype == "greater_than_equal":
        return f"{subject} must be at least {_fmt_num(ctx.get('ge'))} (got {_fmt_num(value)}).", None, False
    if etype == "greater_than":
        return f"{subject} must be greater than {_fmt_num(ctx.get('gt'))} (got {_fmt_num(value)}).", None, False
    if etype == "less_than_equal":
        return f"{subject} must be at most {_fmt_num(ctx.get('le'))} (got {_fmt_num(value)}).", None, False
    if etype == "less_than":
        return f"{subject} must be less than {_fmt_num(ctx.get('lt'))} (got {_fmt_num(value)}).", None, False
    if etype == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        return f"{subject} must be one of {expected} (got {_fmt_num(value) if not isinstance(value, str) else repr(value)}).", None, False
    if etype == "string_pattern_mismatch":
        if "[key]" in loc:
            return (
                f"'{value}' is not a valid name.",
                "Names use lower-case letters, digits, '-' and '_', starting with a letter or digit.",
                True,
            )
        if key == "tap":
            return (f"'{value}' is not a tap.",
                    "Use 'master', 'premaster', 'track:NAME', 'bus:NAME' or 'return:NAME'.", False)
        if key == "note":
            return (f"'{value}' is not a note value.", "Use '1/4', '1/8', '1/8d' (dotted) or '1/8t' (triplet).", False)
        return (
            f"'{value}' is not a valid name.",
            "Names use lower-case letters, digits, '-' and '_', starting with a letter or digit.",
            False,
        )
    if etype == "string_too_long":
        return f"{subject} is too long (at most {ctx.get('max_length')} characters).", None, False
    if etype == "too_short":
        return f"{subject} needs at least {ctx.get('min_length')} item(s).", None, False
    if etype == "too_long":
        return f"{subject} takes at most {ctx.get('max_length')} item(s).", None, False
    if etype == "value_error":
        text = str(ctx.get("error", msg))
        text = text.removeprefix("Value error, ")
        return text if text.endswith(".") else text + ".", None, False
    if etype == "literal_error" or etype == "enum":
        return f"{subject}: {msg}.", None, False
    return f"{subject}: {msg.rstrip('.')}.", None, False

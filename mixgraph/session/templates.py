"""Templates: reusable, parameterised pieces of a session (a vocal stack, a band layout).

A session uses them under a top-level ``use:`` mapping (instance name -> use)::

    use:
      vox:                              # the instance name: ${prefix} inside the template
        template: vocal-stack@1         # bundled NAME@VERSION, or a file: ./templates/stack.yaml[@VERSION]
        with: {lead: vox/lead.wav, harmonies: "vox/harmony_*.wav", level_db: -2}

A template file declares its name, version, parameters and a body of session sections::

    template: vocal-stack
    version: 1
    description: ...
    params:
      lead:      {type: file, description: ...}              # no default: required
      harmonies: {type: files, default: [], description: ...}
    body:
      tracks:
        ${prefix}_lead: {source: ${lead}, out: ${bus}}
        ${prefix}_harmony_${n}: {for_each: harmonies, source: ${file}, out: ${bus}}

Rules:

* ``${name}`` is replaced in keys and string values; a value that is exactly one placeholder keeps
  the parameter's type (a number stays a number).
* Parameter types: ``file`` (one path), ``files`` (glob patterns or paths, one string or a list;
  resolved against the session's ``sources_dir``, sorted, so the expansion is deterministic),
  ``number`` (optional ``min``/``max``), ``name``, ``string``, ``bool``.
* ``for_each: PARAM`` inside an entry repeats it once per file of a ``files`` parameter, binding
  ``${file}``, ``${n}`` (1-based), ``${stem}`` (the file name as a name), ``${alt}`` (-1, +1,
  -1, ...: left/right pairs) and ``${spread}`` (evenly from -1 to +1 over the files; 0 for one).
* A placeholder may multiply numbers: ``${spread*width}``, ``${alt*0.8}`` (pans of a stack).
* The session's own ``tracks``/``buses``/``returns`` entries with a generated name override it:
  mappings merge key by key, the session's value wins, lists are replaced whole.
* Bundled templates live in ``mixgraph/templates/<name>/v<version>.yaml`` and are never edited
  once released: a new version is a new file, so a session pinned to ``@1`` renders the same.

Every generated node keeps the position of the template line it came from, with ``via`` the
session line of the ``use``; a value passed through a parameter points at the session's ``with:``.
"""

from __future__ import annotations

import copy
import glob
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mixgraph.errors import Diagnostic, MediaError, did_you_mean
from mixgraph.session.loader import LoadedYaml, YamlProblem, format_path, load_yaml_file

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "templates"
SECTIONS = ("tracks", "buses", "returns")
PARAM_TYPES = ("file", "files", "number", "name", "string", "bool")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\*(?:[A-Za-z_][A-Za-z0-9_]*|-?[0-9]+(?:\.[0-9]+)?))*)\}")
GLOB_CHARS = re.compile(r"[*?\[]")
BUILTINS = ("prefix",)
LOOP_VARS = ("file", "n", "stem", "alt", "spread")

Path_ = tuple


class _Problems(Exception):
    def __init__(self, diags: list[Diagnostic]):
        super().__init__("template problems")
        self.diags = diags


@dataclass
class _Where:
    """A source position, possibly in another file, with the chain of uses that led there."""

    file: str
    line: int | None
    col: int | None
    via: tuple[tuple[str, int, int], ...] = ()


@dataclass
class _Template:
    name: str
    version: int | None
    description: str
    params: dict[str, dict[str, Any]]
    body: dict[str, Any]
    loaded: LoadedYaml
    path: Path


@dataclass
class _Out:
    """Generated data with positions: path -> where (value and key)."""

    values: dict[Path_, _Where] = field(default_factory=dict)
    keys: dict[Path_, _Where] = field(default_factory=dict)


# --------------------------------------------------------------------------- discovery


def bundled_templates() -> dict[str, dict[int, Path]]:
    """name -> {version: path} of the templates shipped with mixgraph."""
    out: dict[str, dict[int, Path]] = {}
    if not BUNDLED_DIR.is_dir():
        return out
    for d in sorted(BUNDLED_DIR.iterdir()):
        if not d.is_dir():
            continue
        for f in d.glob("v*.yaml"):
            m = re.fullmatch(r"v(\d+)\.yaml", f.name)
            if m:
                out.setdefault(d.name, {})[int(m.group(1))] = f
    return out


def describe_bundled() -> list[tuple[str, list[int], str]]:
    """(name, versions, description of the newest) for ``mixgraph init --list``."""
    rows = []
    for name, versions in sorted(bundled_templates().items()):
        newest = versions[max(versions)]
        try:
            data = load_yaml_file(newest).data
            desc = str(data.get("description", "")) if isinstance(data, dict) else ""
        except YamlProblem:
            desc = "(unreadable)"
        rows.append((name, sorted(versions), desc))
    return rows


# --------------------------------------------------------------------------- the stage


def expand_templates(loaded: LoadedYaml, session_dir: Path) -> LoadedYaml:  # noqa: C901 (the template stage's steps in order, each collecting problems with their positions)
    """The raw stage: replace ``use:`` by the generated tracks, buses and returns."""
    data = loaded.data
    if not isinstance(data, dict) or "use" not in data:
        return loaded
    diags: list[Diagnostic] = []
    use = data["use"]
    here = _where(loaded, ("use",))
    if not isinstance(use, dict):
        raise _invalid(loaded, [_diag("'use' must be a mapping: instance name -> {template, with}.", here,
                                      "use", "Write 'use: {vox: {template: vocal-stack@1, with: {...}}}'.",
                                      "template.use")])
    sources_dir = data.get("sources_dir", ".")
    base = session_dir / (sources_dir if isinstance(sources_dir, str) else ".")
    generated: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    owner: dict[tuple[str, str], str] = {}
    out = _Out()
    for inst, spec in use.items():
        try:
            _instantiate(loaded, session_dir, base, str(inst), spec, generated, owner, out)
        except _Problems as p:
            diags.extend(p.diags)
    if diags:
        raise _invalid(loaded, diags)

    new = {k: v for k, v in data.items() if k != "use"}
    source_map = {p: v for p, v in loaded.source_map.items() if not (p and p[0] == "use")}
    key_map = {p: v for p, v in loaded.key_map.items() if not (p and p[0] == "use")}
    origins = dict(loaded.origins)
    for section in SECTIONS:
        if not generated[section]:
            continue
        own = new.get(section)
        if own is not None and not isinstance(own, dict):
            continue  # the schema stage reports it
        own = own or {}
        merged: dict[str, Any] = {}
        for name, value in generated[section].items():
            if name in own:
                merged[name] = _merge(value, own[name])
            else:
                merged[name] = value
        for name, value in own.items():
            if name not in merged:
                merged[name] = value
        new[section] = merged
    # positions: the generated ones first, then the session's own (which win where they exist)
    for p, w in out.values.items():
        if p not in source_map and w.line is not None:
            source_map[p] = (w.line, w.col)
            if w.file != loaded.file or w.via:
                origins[p] = (w.file, w.via)
    for p, w in out.keys.items():
        if p not in key_map and w.line is not None:
            key_map[p] = (w.line, w.col)
    return LoadedYaml(new, loaded.file, loaded.text, source_map, key_map, origins)


def _invalid(loaded: LoadedYaml, diags: list[Diagnostic]):
    from mixgraph.errors import SessionInvalid

    return SessionInvalid(loaded.file, diags)


def _where(loaded: LoadedYaml, path: Path_, *, key: bool = False, via: tuple = ()) -> _Where:
    file, line, col, v = loaded.locate(path, key=key)
    return _Where(file, line, col, v + via)


def _diag(message: str, w: _Where, path: str, hint: str | None, code: str) -> Diagnostic:
    return Diagnostic(message, w.file, w.line, w.col, path, hint, code=code, via=w.via)


# --------------------------------------------------------------------------- one use


def _instantiate(loaded: LoadedYaml, session_dir: Path, base: Path, inst: str, spec: Any,
                 generated: dict[str, dict[str, Any]], owner: dict[tuple[str, str], str], out: _Out) -> None:
    upath = ("use", inst)
    at = _where(loaded, upath, key=True)
    if not NAME_RE.match(inst):
        raise _Problems([_diag(f"'{inst}' is not a valid instance name.", at, format_path(upath),
                               "Use lower-case letters, digits, '-' and '_', starting with a letter or digit.",
                               "template.name")])
    if not isinstance(spec, dict) or "template" not in spec:
        raise _Problems([_diag("A use needs 'template' (and usually 'with').", _where(loaded, upath),
                               format_path(upath), "Write '{template: vocal-stack@1, with: {...}}'.",
                               "template.use")])
    extra = [k for k in spec if k not in ("template", "with")]
    if extra:
        raise _Problems([_diag(f"Unknown key '{extra[0]}' in a use.", _where(loaded, upath + (extra[0],), key=True),
                               format_path(upath + (extra[0],)), "A use has 'template' and 'with'.",
                               "template.use")])
    tmpl = _load_template(loaded, session_dir, upath, spec["template"])
    via = ((at.file, at.line or 0, at.col or 0),)
    args = spec.get("with") or {}
    if not isinstance(args, dict):
        raise _Problems([_diag("'with' must be a mapping: parameter -> value.", _where(loaded, upath + ("with",)),
                               format_path(upath + ("with",)), None, "template.with")])
    values, value_pos = _bind(loaded, tmpl, upath, args, base, via)
    values["prefix"] = inst
    value_pos["prefix"] = at
    body = tmpl.body
    for section, entries in body.items():
        for key, entry in entries.items():
            tpath = ("body", section, key)
            each = entry.get("for_each") if isinstance(entry, dict) else None
            if each is not None:
                if each not in tmpl.params or tmpl.params[each]["type"] != "files":
                    raise _Problems([_diag(f"for_each names '{each}', which is not a 'files' parameter.",
                                           _tw(tmpl, tpath + ("for_each",), via), format_path(tpath + ("for_each",)),
                                           _hint_from(str(each), [p for p, d in tmpl.params.items()
                                                                  if d["type"] == "files"]),
                                           "template.for-each")])
                files = values[each]
                loops = [{"file": f, "n": i + 1, "stem": _stem(f), "alt": -1 if i % 2 == 0 else 1,
                          "spread": 0.0 if len(files) == 1 else -1 + 2 * i / (len(files) - 1)}
                         for i, f in enumerate(files)]
                loop_pos = value_pos[each]
            else:
                loops = [None]
                loop_pos = None
            for loop in loops:
                env = dict(values)
                pos = dict(value_pos)
                if loop is not None:
                    env.update(loop)
                    pos.update({k: loop_pos for k in LOOP_VARS})
                name = _subst(tmpl, key, env, pos, tpath, via, key_only=True)
                if not isinstance(name, str) or not NAME_RE.match(name):
                    raise _Problems([_diag(f"The template makes the name '{name}', which is not a valid name.",
                                           _tw(tmpl, tpath, via, key=True), format_path(tpath),
                                           "Names are lower-case letters, digits, '-' and '_'; "
                                           "pick a prefix or parameters that make one.", "template.name")])
                if (section, name) in owner:
                    raise _Problems([_diag(f"{section[:-1].capitalize() if section != 'buses' else 'Bus'} "
                                           f"'{name}' is made by both '{owner[(section, name)]}' and '{inst}'.",
                                           at, format_path(upath), "Give one of the uses another name "
                                           "(the instance name is the prefix) or another bus parameter.",
                                           "template.collision")])
                owner[(section, name)] = inst
                gpath = (section, name)
                value = _render(tmpl, entry, env, pos, tpath, gpath, via, out, drop_for_each=True)
                generated[section][name] = value
                out.keys[gpath] = _tw(tmpl, tpath, via, key=True)


def _tw(tmpl: _Template, tpath: Path_, via: tuple, *, key: bool = False) -> _Where:
    line_col = tmpl.loaded.position(tpath, key=key)
    line, col = line_col if line_col else (None, None)
    return _Where(str(tmpl.path), line, col, via)


def _hint_from(word: str, options: list[str]) -> str | None:
    hint = did_you_mean(word, options)
    if hint:
        return hint
    return f"Choose one of: {', '.join(options)}." if options else None


def _stem(f: str) -> str:
    s = re.sub(r"[^a-z0-9_-]+", "-", Path(f).stem.lower()).strip("-_")
    return s or "file"


# --------------------------------------------------------------------------- template files


def _load_template(loaded: LoadedYaml, session_dir: Path, upath: Path_, ref: Any) -> _Template:
    w = _where(loaded, upath + ("template",))
    p = format_path(upath + ("template",))
    if not isinstance(ref, str) or not ref:
        raise _Problems([_diag("'template' must be NAME@VERSION or a path to a template file.", w, p, None,
                               "template.ref")])
    name, _, ver = ref.partition("@")
    version: int | None = None
    if ver:
        if not ver.isdigit():
            raise _Problems([_diag(f"'{ver}' is not a version number.", w, p,
                                   f"Write '{name}@1'.", "template.version")])
        version = int(ver)
    is_file = "/" in name or "\\" in name or name.endswith((".yaml", ".yml"))
    if is_file:
        path = _template_path(name, session_dir, w, p)
    else:
        bundled = bundled_templates()
        if name not in bundled:
            raise _Problems([_diag(f"Unknown template '{name}'.", w, p,
                                   _hint_from(name, sorted(bundled)), "template.unknown")])
        if version is None:
            raise _Problems([_diag(f"Pin the version of the bundled template '{name}'.", w, p,
                                   f"Write '{name}@{max(bundled[name])}' (available: "
                                   f"{', '.join(str(v) for v in sorted(bundled[name]))}); a pinned session "
                                   "renders the same when a newer version ships.", "template.version")])
        if version not in bundled[name]:
            raise _Problems([_diag(f"Template '{name}' has no version {version}.", w, p,
                                   f"Available: {', '.join(str(v) for v in sorted(bundled[name]))}.",
                                   "template.version")])
        path = bundled[name][version]
    at = _where(loaded, upath, key=True)
    via = ((at.file, at.line or 0, at.col or 0),)  # the use instance, as for the generated nodes
    try:
        tl = load_yaml_file(path, str(path))
    except YamlProblem as problem:
        if {d.code for d in problem.diagnostics} <= {"file.missing", "file.unreadable"}:
            # a FIFO, a device, a folder, an oversized file: a user error naming the path, at the use
            first = problem.diagnostics[0]
            raise MediaError(first.message, [Diagnostic(first.message, w.file, w.line, w.col, p, None,
                                                        code=first.code, via=w.via)]) from None
        raise _Problems([Diagnostic(d.message, d.file, d.line, d.col, d.path, d.hint, code=d.code, via=via)
                         for d in problem.diagnostics]) from None
    return _check_template(tl, path, version, via, w)


def _template_path(name: str, session_dir: Path, w: _Where, p: str) -> Path:
    """The template file ``name`` under the song folder (the session's), or _Problems. Nothing of a
    file outside the folder is ever read, so no error can show its content."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\", "~")) or (len(name) >= 2 and name[1] == ":" and name[0].isalpha()):
        raise _Problems([_diag(f"The template path '{name}' is absolute.", w, p,
                               "Template files live in the song folder; give a path relative to the session.",
                               "template.path")])
    if ".." in parts:
        raise _Problems([_diag(f"The template path '{name}' leaves the song folder ('..').", w, p,
                               "Copy the template into the song folder.", "template.path")])
    root = session_dir.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise _Problems([_diag(f"The template file '{name}' resolves outside the song folder (a symbolic link).",
                               w, p, "Copy the template into the song folder.", "template.path")])
    if not path.exists():
        raise _Problems([_diag(f"The template file '{name}' does not exist.", w, p,
                               "Template paths are relative to the session file.", "template.missing")])
    return path


def _check_template(tl: LoadedYaml, path: Path, version: int | None, via: tuple, ref_at: _Where) -> _Template:  # noqa: C901 (one branch per rule a template file must meet, each with its own message)
    d = tl.data
    diags: list[Diagnostic] = []

    def bad(tpath: Path_, message: str, hint: str | None = None, key: bool = False,
            code: str = "template.file") -> None:
        line_col = tl.position(tpath, key=key)
        line, col = line_col if line_col else (None, None)
        diags.append(Diagnostic(message, str(path), line, col, format_path(tpath), hint,
                                code=code, via=via))

    if not isinstance(d, dict):
        bad((), "A template file is a mapping with template, version, params and body.")
        raise _Problems(diags)
    for k in d:
        if k not in ("template", "version", "description", "params", "body"):
            bad((k,), f"Unknown key '{k}' in a template file.",
                _hint_from(str(k), ["template", "version", "description", "params", "body"]), key=True)
    if not isinstance(d.get("template"), str):
        bad(("template",), "The template needs its name: 'template: NAME'.")
    fv = d.get("version")
    if not isinstance(fv, int) or isinstance(fv, bool) or fv < 1:
        bad(("version",), "The template needs 'version: N' (a whole number from 1).")
    elif version is not None and fv != version:
        diags.append(Diagnostic(f"The session asks for version {version}, the file is version {fv}.",
                                ref_at.file, ref_at.line, ref_at.col, "", "Use the version the file declares.",
                                code="template.version"))
    params = d.get("params") or {}
    if not isinstance(params, dict):
        bad(("params",), "'params' must be a mapping: name -> {type, default, description}.")
        params = {}
    clean: dict[str, dict[str, Any]] = {}
    for pname, pdef in params.items():
        pp = ("params", pname)
        if not isinstance(pname, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", pname) \
                or pname in BUILTINS + LOOP_VARS:
            bad(pp, f"'{pname}' cannot be a parameter name.",
                f"Use letters, digits and '_'; {', '.join(BUILTINS + LOOP_VARS)} are reserved.", key=True)
            continue
        if not isinstance(pdef, dict) or pdef.get("type") not in PARAM_TYPES:
            bad(pp + ("type",), f"Parameter '{pname}' needs a type: one of {', '.join(PARAM_TYPES)}.")
            continue
        for k in pdef:
            if k not in ("type", "default", "description", "min", "max"):
                bad(pp + (k,), f"Unknown key '{k}' in a parameter.",
                    "A parameter has type, default, description, min, max.", key=True)
        clean[pname] = dict(pdef)
    body = d.get("body")
    if not isinstance(body, dict) or not body:
        bad(("body",), "The template needs a 'body' with tracks, buses or returns.")
        body = {}
    for section, entries in body.items():
        if section not in SECTIONS:
            bad(("body", section), f"A template body holds {', '.join(SECTIONS)}; not '{section}'.",
                _hint_from(str(section), list(SECTIONS)), key=True)
        elif not isinstance(entries, dict):
            bad(("body", section), f"'{section}' must be a mapping: name -> settings.")
        else:
            for key, entry in entries.items():
                _check_placeholders(("body", section, key), key, entry, clean, bad)
    if diags:
        raise _Problems(diags)
    return _Template(str(d["template"]), int(d["version"]), str(d.get("description", "")), clean,
                     body, tl, path)


def _check_placeholders(tpath: Path_, key: Any, entry: Any, params: dict[str, dict[str, Any]], bad) -> None:
    """Every placeholder of one body entry names something, whatever the session passes: an entry
    of a for_each over an empty list is checked too (it would otherwise hide its typo until used)."""
    each = entry.get("for_each") if isinstance(entry, dict) else None
    known = set(params) | set(BUILTINS) | (set(LOOP_VARS) if each is not None else set())
    numeric = {p for p, d in params.items() if d["type"] == "number"} | {"n", "alt", "spread"}

    def check(text: Any, path: Path_, is_key: bool) -> None:
        if not isinstance(text, str):
            return
        for expr in PLACEHOLDER.findall(text):
            names = [n for n in expr.split("*") if n[0].isalpha() or n[0] == "_"]
            for n in names:
                if n not in known:
                    where = " (only inside a for_each entry)" if n in LOOP_VARS else ""
                    bad(path, f"Unknown placeholder '${{{n}}}'{where}.",
                        _hint_from(n, sorted(known)), key=is_key, code="template.placeholder")
                elif "*" in expr and n not in numeric:
                    bad(path, f"'${{{expr}}}' multiplies '{n}', which is not a number.",
                        "Only number parameters, n, alt and spread can be multiplied.", key=is_key,
                        code="template.placeholder")

    def walk(node: Any, path: Path_) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                check(k, path + (k,), True)
                walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + (i,))
        else:
            check(node, path, False)

    check(key, tpath, True)
    walk(entry, tpath)


# --------------------------------------------------------------------------- parameters


def _bind(loaded: LoadedYaml, tmpl: _Template, upath: Path_, args: dict, base: Path,
          via: tuple) -> tuple[dict[str, Any], dict[str, _Where]]:
    diags: list[Diagnostic] = []
    values: dict[str, Any] = {}
    pos: dict[str, _Where] = {}
    wpath = upath + ("with",)
    for a in args:
        if a not in tmpl.params:
            w = _where(loaded, wpath + (a,), key=True)
            diags.append(_diag(f"Template '{tmpl.name}' has no parameter '{a}'.", w, format_path(wpath + (a,)),
                               _hint_from(str(a), sorted(tmpl.params)), "template.param"))
    for pname, pdef in tmpl.params.items():
        ppath = wpath + (pname,)
        if pname in args:
            raw = args[pname]
            w = _where(loaded, ppath)
        elif "default" in pdef:
            raw = copy.deepcopy(pdef["default"])
            w = _tw(tmpl, ("params", pname, "default"), via)
        else:
            w = _where(loaded, upath, key=True)
            diags.append(_diag(f"Template '{tmpl.name}' needs the parameter '{pname}'"
                               + (f" ({pdef['description']})." if pdef.get("description") else "."),
                               w, format_path(wpath), f"Add '{pname}: ...' under 'with'.", "template.param"))
            continue
        try:
            values[pname] = _coerce(pdef, raw, base)
        except ValueError as exc:
            if pdef["type"] == "files":
                hint = ("Patterns and paths are relative to sources_dir; leave the parameter out if there "
                        "are no such files.")
            else:
                bounds = "".join(f", {k} {pdef[k]}" for k in ("min", "max") if k in pdef)
                hint = f"'{pname}' is a {pdef['type']}{bounds}" + (
                    f": {pdef['description']}." if pdef.get("description") else ".")
            diags.append(_diag(str(exc), w, format_path(ppath), hint, "template.param"))
            continue
        pos[pname] = w
    if diags:
        raise _Problems(diags)
    return values, pos


def _coerce(pdef: dict[str, Any], raw: Any, base: Path) -> Any:  # noqa: C901 (one branch per parameter type (file, files, number, name, string, bool))
    t = pdef["type"]
    if t == "number":
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ValueError(f"Expected a number, got {raw!r}.")
        if isinstance(raw, float) and not math.isfinite(raw):
            raise ValueError(f"Expected a finite number, got {raw!r}.")
        if "min" in pdef and raw < pdef["min"]:
            raise ValueError(f"{raw} is below the minimum {pdef['min']}.")
        if "max" in pdef and raw > pdef["max"]:
            raise ValueError(f"{raw} is above the maximum {pdef['max']}.")
        return raw
    if t == "bool":
        if not isinstance(raw, bool):
            raise ValueError(f"Expected true or false, got {raw!r}.")
        return raw
    if t == "name":
        if not isinstance(raw, str) or not NAME_RE.match(raw):
            raise ValueError(f"Expected a name (lower-case letters, digits, '-', '_'), got {raw!r}.")
        return raw
    if t in ("string", "file"):
        if not isinstance(raw, str) or (t == "file" and not raw):
            raise ValueError(f"Expected {'a file path' if t == 'file' else 'a string'}, got {raw!r}.")
        return raw
    # files: one pattern or a list of patterns/paths
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise ValueError(f"Expected a file, a glob pattern or a list of them, got {raw!r}.")
    files: list[str] = []
    for item in items:
        if GLOB_CHARS.search(item):
            matches = sorted(Path(m).relative_to(base).as_posix()
                             for m in glob.glob(os.path.join(glob.escape(str(base)), item))
                             if Path(m).is_file())
            if not matches:
                raise ValueError(f"The pattern '{item}' matches no files in {base}.")
            files.extend(matches)
        else:
            files.append(item)
    seen: set[str] = set()
    return [f for f in files if not (f in seen or seen.add(f))]


# --------------------------------------------------------------------------- rendering the body


def _subst(tmpl: _Template, text: Any, env: dict[str, Any], pos: dict[str, _Where], tpath: Path_,
           via: tuple, *, key_only: bool = False) -> Any:
    if not isinstance(text, str):
        return text
    for expr in PLACEHOLDER.findall(text):
        for n in expr.split("*"):
            if n[0].isalpha() or n[0] == "_":
                if n not in env:
                    options = sorted(set(env) | set(LOOP_VARS))
                    raise _Problems([_diag(f"Unknown placeholder '${{{n}}}'"
                                           + (" (only inside a for_each entry)." if n in LOOP_VARS else "."),
                                           _tw(tmpl, tpath, via, key=key_only), format_path(tpath),
                                           _hint_from(n, options), "template.placeholder")])
        if "*" in expr:
            for n in expr.split("*"):
                v = env.get(n, 0.0)
                if (n in env) and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    raise _Problems([_diag(f"'${{{expr}}}' multiplies '{n}', which is not a number.",
                                           _tw(tmpl, tpath, via, key=key_only), format_path(tpath),
                                           None, "template.placeholder")])
        if "*" in expr and not math.isfinite(_value(expr, env)):
            raise _Problems([_diag(f"'${{{expr}}}' is not a finite number.", _tw(tmpl, tpath, via, key=key_only),
                                   format_path(tpath), "Use smaller factors.", "template.placeholder")])
    m = PLACEHOLDER.fullmatch(text)
    if m and not key_only:
        return copy.deepcopy(_value(m.group(1), env))
    return PLACEHOLDER.sub(lambda mm: _as_text(_value(mm.group(1), env)), text)


def _value(expr: str, env: dict[str, Any]) -> Any:
    if "*" not in expr:
        v = env[expr]
        return round(v, 6) + 0.0 if expr == "spread" else v  # rounded once, for a readable expand
    product = 1.0
    for n in expr.split("*"):
        try:
            product *= float(env[n]) if (n[0].isalpha() or n[0] == "_") else float(n)
        except OverflowError:  # an integer too large for a float
            product = math.inf
    return round(product, 6) + 0.0 if math.isfinite(product) else product


def _as_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _render(tmpl: _Template, node: Any, env: dict[str, Any], pos: dict[str, _Where], tpath: Path_,
            gpath: Path_, via: tuple, out: _Out, *, drop_for_each: bool = False) -> Any:
    here = _tw(tmpl, tpath, via)
    if isinstance(node, dict):
        result = {}
        for k, v in node.items():
            if drop_for_each and k == "for_each":
                continue
            nk = _subst(tmpl, k, env, pos, tpath + (k,), via, key_only=True)
            result[nk] = _render(tmpl, v, env, pos, tpath + (k,), gpath + (nk,), via, out)
            out.keys[gpath + (nk,)] = _tw(tmpl, tpath + (k,), via, key=True)
        out.values[gpath] = here
        return result
    if isinstance(node, list):
        result_l = [_render(tmpl, v, env, pos, tpath + (i,), gpath + (i,), via, out) for i, v in enumerate(node)]
        out.values[gpath] = here
        return result_l
    value = _subst(tmpl, node, env, pos, tpath, via)
    m = PLACEHOLDER.fullmatch(node) if isinstance(node, str) else None
    # a value passed straight through from the session points at the session's 'with:'
    out.values[gpath] = pos.get(m.group(1), here) if m and "*" not in m.group(1) else here
    return value


def _merge(base: Any, over: Any) -> Any:
    """Deep merge: mappings key by key (``over`` wins), anything else replaced by ``over``."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    return over


__all__ = ["BUNDLED_DIR", "bundled_templates", "describe_bundled", "expand_templates"]

"""``mixgraph diff A B``: what changed musically between two versions of a session.

A and B are session files or git revisions of one (``HEAD~1:song.yaml``, ``main:song.yaml``,
``:song.yaml`` for the index). Both are resolved first (templates, presets, tempo applied: what
would render), then compared section by section:

* tracks, buses and returns added or removed, with their source and routing;
* routing (``out``, sends by destination), faders, pans, mutes and solos, a track's channel pick;
* VCA groups added or removed, their gain and members joining or leaving;
* insert chains aligned by a longest common subsequence on the processor ``id`` (or its type), so
  an inserted compressor reads as one insertion, not as every later processor changed;
* every changed parameter as ``old -> new`` with the unit its name carries (``_db`` dB, ``_hz`` Hz,
  ...), and the signed change for levels;
* automation lanes added, removed or changed; the master chain and loudness target; outputs;
  variants.

The result is a list of :class:`Change`; ``format_changes`` prints one line each.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from mixgraph.errors import MediaError, SessionInvalid, UserError
from mixgraph.session import pipeline
from mixgraph.session.loader import YamlProblem, read_text
from mixgraph.session.models import PROCESSOR_MODELS, Session

KIND = {"tracks": "track", "buses": "bus", "returns": "return", "vcas": "vca", "outputs": "output",
        "variants": "variant"}
UNITS = (("_db_oct", "dB/oct"), ("_dbtp", "dBTP"), ("_lufs", "LUFS"), ("_db", "dB"), ("_hz", "Hz"),
         ("_ms", "ms"), ("_lu", "LU"), ("_bpm", "BPM"), ("_s", "s"))
LEVEL_UNITS = ("dB", "LU", "LUFS", "dBTP")
#: words for boolean switches: field -> (when it becomes true, when it becomes false)
SWITCHES = {"mute": ("muted", "unmuted"), "solo": ("soloed", "unsoloed"), "bypass": ("bypassed", "back in"),
            "invert_polarity": ("polarity inverted", "polarity normal"), "pre_fader": ("pre-fader", "post-fader")}
TOP_FIELDS = ("name", "sample_rate", "sources_dir", "tail_s", "tempo_bpm")


@dataclass(frozen=True)
class Change:
    op: str  # "add" | "remove" | "change"
    kind: str  # "track" | "bus" | "return" | "master" | "output" | "variant" | "session"
    name: str
    path: str  # dotted path in the session, e.g. "tracks.vocal.chain[1].ratio"
    old: Any = None
    new: Any = None
    unit: str | None = None
    text: str = ""  # the human line

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("text")
        return d


# --------------------------------------------------------------------------- loading


def load_spec(spec: str, variant: str | None = None, *, display: str | None = None,
              session_dir: Path | None = None) -> Session | None:
    """A resolved session from a file path or ``REV:path``; None for ``/dev/null`` (git's empty side).

    With ``session_dir`` (git's external diff) ``spec`` is always a file, read with that folder as its
    session folder: git names the old side by a temporary file whose name means nothing."""
    if spec == os.devnull:
        return None
    if session_dir is not None:
        file = display or spec
        try:
            text = read_text(spec)
        except YamlProblem as problem:
            # a file that cannot be read is named as git gave it; a problem in it (not UTF-8,
            # binary) is placed in the session's own name
            if {d.code for d in problem.diagnostics} <= {"file.missing", "file.unreadable"}:
                raise MediaError(problem.diagnostics[0].message, problem.diagnostics) from None
            raise SessionInvalid(file, [d.with_position(file, d.line, d.col) for d in problem.diagnostics]) from None
        return pipeline.expand(pipeline.load_text(text, file, session_dir=session_dir), variant)
    if os.path.exists(spec):
        return pipeline.expand(pipeline.load(spec, check_media=False, display=display), variant)
    if ":" in spec:
        rev, _, path = spec.partition(":")
        text = git_show(rev, path)
        wt = Path(path)
        base = wt.parent if str(wt.parent) not in ("", ".") else Path(".")
        ls = pipeline.load_text(text, display or spec, session_dir=base.resolve())
        return pipeline.expand(ls, variant)
    raise UserError(f"{spec}: no such session file",
                    hint="Give a session file or a git revision of one, e.g. HEAD~1:song.yaml.")


def git_show(rev: str, path: str) -> str:
    """The text of ``path`` at ``rev`` (``""`` = the index), resolved like ``git show REV:./path``.

    Read with ``git cat-file blob``: it takes exactly one object name and no paths, so nothing but
    that name reaches git from the command line, and a folder is refused instead of listed. A
    revision that starts with '-' is refused here: git would read it as an option (``--output=F``
    writes a file), and cat-file's syntax has no ``--`` to end the options before it."""
    if rev.startswith("-"):
        raise UserError(f"{rev}:{path}: a revision cannot start with '-'",
                        hint="Name a commit, branch or tag, as in HEAD~1:song.yaml.")
    if not path or path.endswith(("/", os.sep)):
        raise UserError(f"{rev}:{path}: no session file after the revision",
                        hint=f"Name the file in that revision, e.g. {rev or 'HEAD'}:song.yaml.")
    p = Path(path)
    folder = p.parent if str(p.parent) not in ("", ".") else Path(".")
    if not folder.is_dir():
        folder = Path(".")
        rel = path
    else:
        rel = p.name
    try:
        res = subprocess.run(["git", "-C", str(folder), "cat-file", "blob", f"{rev}:./{rel}"],
                             capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise UserError(f"{rev}:{path}: cannot run git ({exc})", hint="Install git, or compare two files.") from None
    if res.returncode != 0:
        lines = res.stderr.decode("utf-8", "replace").strip().splitlines()
        fatal = [x for x in lines if x.startswith("fatal: ")] or lines or ["unknown error"]
        msg = fatal[0].removeprefix("fatal: ").rstrip(".")
        raise UserError(f"{rev}:{path}: git cannot show it ({msg})", hint=_git_hint(msg, rev, path))
    try:
        return res.stdout.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{rev}:{path}: not a UTF-8 text file") from None


def _git_hint(msg: str, rev: str, path: str) -> str:
    if "not a git repository" in msg:
        return f"{path} is not inside a git repository: compare two session files instead."
    if not rev:
        return f"{path} is not in the index: git add it, or name a revision (HEAD:{path})."
    if "does not exist in" in msg or "exists on disk, but not in" in msg:
        return f"The file is not in {rev or 'the index'}; git log --oneline --follow -- {path} lists its revisions."
    if "invalid object name" in msg or "unknown revision" in msg or "bad revision" in msg:
        return f"No revision '{rev}' here; git log --oneline -- {path} lists the ones that changed the file."
    if msg.endswith("bad file"):  # the name is a folder (or a submodule) in that revision
        return f"{path} is not a file in {rev or 'the index'}: name a session file."
    return "Check the revision and the path (git log --oneline -- FILE)."


# --------------------------------------------------------------------------- formatting


def unit_of(key: str) -> str | None:
    for suffix, unit in UNITS:
        if key.endswith(suffix):
            return unit
    return None


def fmt(value: Any, unit: str | None = None) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        value = int(value) if value.is_integer() else round(value, 6)
    if isinstance(value, (list, dict)):
        return _compact(value, unit)
    text = str(value)
    return f"{text} {unit}" if unit and isinstance(value, (int, float)) else text


def _compact(value: Any, unit: str | None = None) -> str:
    """A nested value on one line; a list of numbers takes its unit once (``[200, 2000] Hz``), a
    mapping's values the units of their own keys."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_compact(v, unit_of(str(k)))}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        text = "[" + ", ".join(_compact(v) for v in value) + "]"
        numbers = value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        return f"{text} {unit}" if unit and numbers else text
    return fmt(value, unit)


def _delta(old: Any, new: Any, unit: str | None) -> str:
    if unit in LEVEL_UNITS and isinstance(old, (int, float)) and isinstance(new, (int, float)) \
            and not isinstance(old, bool):
        d = round(new - old, 6)
        return f" ({'+' if d > 0 else ''}{fmt(float(d))} {'LU' if unit in ('LUFS', 'LU') else 'dB'})"
    return ""


def format_changes(changes: list[Change]) -> str:
    if not changes:
        return "no musical changes\n"
    return "".join(c.text + "\n" for c in changes)


# --------------------------------------------------------------------------- comparing


def diff_sessions(a: Session | None, b: Session | None) -> list[Change]:
    da = a.model_dump(mode="json", by_alias=True) if a is not None else {}
    db = b.model_dump(mode="json", by_alias=True) if b is not None else {}
    out: list[Change] = []
    for f in TOP_FIELDS:
        if f in da and f in db and da[f] != db[f]:
            out.append(_change("session", "", f, da[f], db[f], f"~ session: {f}"))
    for section in ("tracks", "buses", "returns", "vcas"):
        out += _diff_named(section, da.get(section, {}), db.get(section, {}))
    out += _diff_master(da.get("master"), db.get("master"))
    for section in ("outputs", "variants"):
        out += _diff_named(section, da.get(section, {}), db.get(section, {}))
    return out


def _change(kind: str, name: str, path: str, old: Any, new: Any, head: str, what: str | None = None) -> Change:
    key = re.split(r"[.\[]", path.rsplit(".", 1)[-1])[0]
    unit = unit_of(key)
    if what is None and key in SWITCHES and isinstance(old, bool) and isinstance(new, bool) and head.endswith(key):
        # "~ track vocal: mute" -> "~ track vocal: muted"
        return Change("change", kind, name, path, old, new, None, head[: -len(key)] + SWITCHES[key][0 if new else 1])
    if what is None:
        what = f"{fmt(old, unit)} -> {fmt(new, unit)}{_delta(old, new, unit)}"
    return Change("change", kind, name, path, old, new, unit, f"{head} {what}")


def _summary(section: str, entry: dict) -> str:
    if section == "tracks":
        bits = [f"source {entry.get('source')}", f"-> {_dest(entry.get('out', 'master'))}"]
    elif section in ("buses", "returns"):
        bits = [f"-> {_dest(entry.get('out', 'master'))}"]
    elif section == "outputs":
        bits = [f"{entry.get('path')}", f"tap {entry.get('tap')}"]
    elif section == "vcas":
        bits = [fmt(entry["gain_db"], "dB")] if entry.get("gain_db") else []
        bits.append(f"members {_compact(entry.get('members', []))}")
        bits += [f"{lane} automated" for lane in entry.get("automation") or {}]
    else:
        bits = [entry.get("description") or "patch"]
    chain = entry.get("chain") or []
    if chain:
        bits.append("chain " + ", ".join(p["type"] for p in chain))
    return ", ".join(str(b) for b in bits)


def _who(kind: str, name: str) -> str:
    """How a line names a strip: ``track vocal``, ``master``."""
    return "master" if kind == "master" else f"{kind} {name}"


def _head(kind: str, name: str) -> str:
    return f"~ {_who(kind, name)}:"


def _dest(name: str) -> str:
    return "master" if name == "master" else f"bus {name}"


def _diff_named(section: str, a: dict, b: dict) -> list[Change]:
    kind = KIND[section]
    out: list[Change] = []
    for name in sorted(set(a) | set(b)):
        path = f"{section}.{name}"
        if name not in a:
            out.append(Change("add", kind, name, path, None, b[name], None,
                              f"+ {kind} {name} ({_summary(section, b[name])})"))
        elif name not in b:
            out.append(Change("remove", kind, name, path, a[name], None, None,
                              f"- {kind} {name} ({_summary(section, a[name])})"))
        elif a[name] != b[name]:
            if section in ("tracks", "buses", "returns", "vcas"):
                out += _diff_strip(kind, name, path, a[name], b[name])
            else:
                out += _diff_fields(kind, name, path, a[name], b[name], _head(kind, name))
    return out


def _diff_strip(kind: str, name: str, path: str, a: dict, b: dict) -> list[Change]:
    head = _head(kind, name)
    out: list[Change] = []
    for key in a:
        if key not in b or a[key] == b[key]:
            continue
        p = f"{path}.{key}"
        if key == "chain":
            out += _diff_chain(kind, name, p, a[key], b[key])
        elif key == "sends":
            out += _diff_sends(kind, name, p, a[key], b[key])
        elif key == "automation":
            out += _diff_automation(kind, name, p, a[key], b[key])
        elif key == "members":
            # a VCA group's members: who joined, who left (their order means nothing)
            out += [Change("remove", kind, name, p, m, None, None, f"- {_who(kind, name)}: member {m}")
                    for m in a[key] if m not in b[key]]
            out += [Change("add", kind, name, p, None, m, None, f"+ {_who(kind, name)}: member {m}")
                    for m in b[key] if m not in a[key]]
        elif key == "out":
            out.append(_change(kind, name, p, a[key], b[key], f"{head} out",
                               f"{_dest(a[key])} -> {_dest(b[key])}"))
        else:
            out += _diff_fields(kind, name, p, a[key], b[key], head, label=key)
    return out


def _keys(a: dict, b: dict) -> list:
    """The keys of a in their order, then those only b has: the order changes are listed in."""
    return list(a) + [k for k in b if k not in a]


def _diff_fields(kind: str, name: str, path: str, a: Any, b: Any, head: str, label: str = "") -> list[Change]:
    """Leaves of two nested values. Lists of mappings (EQ bands, multiband bands) are compared item by
    item: aligned on their ``type`` where every item has one (a band of another type is a
    replacement), else by position; lists of anything else are compared whole."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[Change] = []
        for k in _keys(a, b):
            if a.get(k) != b.get(k):
                sub = f"{label}.{k}" if label else str(k)
                out += _diff_fields(kind, name, f"{path}.{k}", a.get(k), b.get(k), head, sub)
        return out
    if isinstance(a, list) and isinstance(b, list) and a + b and all(isinstance(x, dict) for x in a + b):
        if all("type" in x for x in a + b):
            pairs = _lcs([str(x["type"]) for x in a], [str(x["type"]) for x in b])
        else:
            pairs = [(i, i) for i in range(min(len(a), len(b)))]
        matched_a = {i for i, _ in pairs}
        matched_b = {j for _, j in pairs}
        items: list[tuple[int, list[Change]]] = []  # listed by index: a replacement reads - then +
        for i, x in enumerate(a):
            if i not in matched_a:
                items.append((i, [Change("remove", kind, name, f"{path}[{i}]", x, None, None,
                                         f"-{head[1:]} {label}[{i}] {_item(x)}")]))
        for j, y in enumerate(b):
            if j not in matched_b:
                items.append((j, [Change("add", kind, name, f"{path}[{j}]", None, y, None,
                                         f"+{head[1:]} {label}[{j}] {_item(y)}")]))
        for i, j in pairs:
            if a[i] != b[j]:
                items.append((j, _diff_fields(kind, name, f"{path}[{j}]", a[i], b[j], head, f"{label}[{j}]")))
        return [c for _, cs in sorted(items, key=lambda t: t[0]) for c in cs]
    return [_change(kind, name, path, a, b, f"{head} {label}".rstrip())]


def _proc_key(p: dict) -> str:
    """What matches two processors: the id (a processor whose type changed under the same id is a
    replacement, not a parameter change), else the type."""
    return f"id:{p['id']}:{p['type']}" if p.get("id") else f"type:{p['type']}"


def _proc_name(p: dict, index: int) -> str:
    return f"chain[{index}] {p['type']}" + (f" '{p['id']}'" if p.get("id") else "")


def _lcs(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    n, m = len(a), len(b)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if a[i] == b[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _settings(p: dict) -> str:
    """The parameters of a processor that differ from its defaults, for an added/removed line."""
    bits = _params(p, PROCESSOR_MODELS.get(p.get("type", "")), skip=("type", "id", "bypass"))
    return f" ({', '.join(bits)})" if bits else ""


def _params(d: dict, model: type[BaseModel] | None, skip: tuple[str, ...] = ()) -> list[str]:
    """``key value unit`` for each entry of ``d`` that differs from ``model``'s default (every entry
    without a model); nested mappings and lists of them are summarised with their own models."""
    fields = {(f.alias or n): f for n, f in model.model_fields.items()} if model is not None else {}
    bits = []
    for k, v in d.items():
        if k in skip:
            continue
        field = fields.get(k)
        if field is not None and not field.is_required() and v == field.get_default(call_default_factory=True):
            continue
        if isinstance(v, dict):
            bits.append(f"{k} {_item(v, _nested_model(field, v))}")
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            items = ", ".join(_item(x, _nested_model(field, x)) for x in v)
            # EQ bands read as a list of filters; other lists keep their name
            bits.append(items if k == "bands" and all("type" in x for x in v) else f"{k} [{items}]")
        else:
            bits.append(f"{k} {fmt(v, unit_of(k))}")
    return bits


def _item(d: dict, model: type[BaseModel] | None = None) -> str:
    """One band or other nested mapping: ``bell 1000 Hz +3 dB q 2``, ``{threshold_db -20 dB, ratio 2}``."""
    if model is None:
        model = _nested_model(None, d)
    if "type" in d:
        text = str(d["type"])
        if isinstance(d.get("freq_hz"), (int, float)):
            text += f" {fmt(d['freq_hz'], 'Hz')}"
        if isinstance(d.get("gain_db"), (int, float)):
            text += f" {'+' if d['gain_db'] > 0 else ''}{fmt(d['gain_db'], 'dB')}"
        rest = _params(d, model, skip=("type", "freq_hz", "gain_db"))
        return " ".join([text, *rest])
    bits = _params(d, model)
    return "{" + (", ".join(bits) if bits else "defaults") + "}"


def _nested_model(field: Any, item: dict) -> type[BaseModel] | None:
    """The model of a mapping held by ``field`` (a sidechain, an EQ or multiband band): among the
    models its annotation names, the one whose ``type`` literal is the item's type and whose fields
    hold all the item's keys. Without a field, such a model anywhere in the processors' fields."""
    found: list[type[BaseModel]] = []

    def walk(t: Any) -> None:
        if isinstance(t, type) and issubclass(t, BaseModel):
            found.append(t)
        for arg in get_args(t):
            walk(arg)

    for f in [field] if field is not None else [f for m in PROCESSOR_MODELS.values() for f in m.model_fields.values()]:
        walk(f.annotation)
    for m in found:
        names = {f.alias or n for n, f in m.model_fields.items()}
        t = m.model_fields.get("type")
        kinds = get_args(t.annotation) if t is not None else ()
        if set(item) <= names and (item.get("type") in kinds if "type" in item else t is None):
            return m
    return None


def _diff_chain(kind: str, name: str, path: str, a: list, b: list) -> list[Change]:
    pairs = _lcs([_proc_key(p) for p in a], [_proc_key(p) for p in b])
    matched_a = {i for i, _ in pairs}
    matched_b = {j for _, j in pairs}
    out: list[Change] = []
    for i, p in enumerate(a):
        if i not in matched_a:
            out.append(Change("remove", kind, name, f"{path}[{i}]", p, None, None,
                              f"- {_who(kind, name)}: {_proc_name(p, i)}{_settings(p)}"))
    for j, p in enumerate(b):
        if j not in matched_b:
            out.append(Change("add", kind, name, f"{path}[{j}]", None, p, None,
                              f"+ {_who(kind, name)}: {_proc_name(p, j)}{_settings(p)}"))
    for i, j in pairs:
        if a[i] != b[j]:
            out += _diff_fields(kind, name, f"{path}[{j}]", a[i], b[j], f"~ {_who(kind, name)}: {_proc_name(b[j], j)}")
    return sorted(out, key=lambda c: _index_of(c.path))


def _index_of(path: str) -> int:
    m = re.search(r"chain\[(\d+)\]", path)
    return int(m.group(1)) if m else 0


def _diff_sends(kind: str, name: str, path: str, a: list, b: list) -> list[Change]:
    ia = {s["to"]: s for s in a}
    ib = {s["to"]: s for s in b}
    out: list[Change] = []
    for to in _keys(ia, ib):
        p = f"{path}.{to}"
        if to not in ib:
            out.append(Change("remove", kind, name, p, ia[to], None, None, f"- {_who(kind, name)}: send to {to}"))
        elif to not in ia:
            s = ib[to]
            out.append(Change("add", kind, name, p, None, s, None,
                              f"+ {_who(kind, name)}: send to {to} at {fmt(s['level_db'], 'dB')}"
                              + (" pre-fader" if s.get("pre_fader") else "")))
        elif ia[to] != ib[to]:
            out += _diff_fields(kind, name, p, ia[to], ib[to], f"~ {_who(kind, name)}: send to {to}")
    return out


def _diff_automation(kind: str, name: str, path: str, a: dict, b: dict) -> list[Change]:
    out: list[Change] = []
    for lane in _keys(a, b):
        p = f"{path}.{lane}"
        if lane not in b:
            out.append(Change("remove", kind, name, p, a[lane], None, None, f"- {_who(kind, name)}: automation of {lane}"))
        elif lane not in a:
            out.append(Change("add", kind, name, p, None, b[lane], None,
                              f"+ {_who(kind, name)}: automation of {lane} ({len(b[lane])} points)"))
        elif a[lane] != b[lane]:
            out.append(Change("change", kind, name, p, a[lane], b[lane], unit_of(lane),
                              f"~ {_who(kind, name)}: automation of {lane} changed "
                              f"({len(a[lane])} -> {len(b[lane])} points)"))
    return out


_LOUDNESS_LABEL = {"preset": "preset", "target_lufs": "target", "ceiling_dbtp": "ceiling"}


def _diff_master(a: dict | None, b: dict | None) -> list[Change]:
    if a is None or b is None or a == b:
        return []
    out: list[Change] = []
    head = "~ master:"
    for key in a:
        if a[key] == b.get(key):
            continue
        p = f"master.{key}"
        if key == "chain":
            out += _diff_chain("master", "master", p, a[key], b[key])
        elif key == "automation":
            out += _diff_automation("master", "master", p, a[key], b[key])
        elif key == "loudness" and (a[key] is None or b.get(key) is None):
            # a loudness target added or dropped: one line, with what it asks for
            on = b.get(key) if a[key] is None else a[key]
            what = ", ".join(f"{_LOUDNESS_LABEL.get(k, k)} {fmt(v, unit_of(k))}" for k, v in on.items()
                             if k in _LOUDNESS_LABEL and v is not None)
            op, sign = ("add", "+") if a[key] is None else ("remove", "-")
            out.append(Change(op, "master", "master", p, a[key], b.get(key), None,
                              f"{sign} master: loudness target ({what})"))
        elif key == "loudness":
            la, lb = a[key], b[key]
            for k in list(la) + [k for k in lb if k not in la]:
                if la.get(k) != lb.get(k):
                    label = {"target_lufs": "loudness target", "ceiling_dbtp": "ceiling"}.get(k, f"loudness {k}")
                    out.append(_change("master", "master", f"{p}.{k}", la.get(k), lb.get(k), f"{head} {label}"))
        else:
            out += _diff_fields("master", "master", p, a[key], b[key], head, label=key)
    return out


def diff_specs(a: str, b: str, variant: str | None = None) -> list[Change]:
    return diff_sessions(load_spec(a, variant), load_spec(b, variant))


__all__ = ["Change", "diff_sessions", "diff_specs", "format_changes", "git_show", "load_spec"]

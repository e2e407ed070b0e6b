"""Whole-session checks after the schema: references, Nyquist, automation, files.

Each check collects all its problems with positions; ``check_references``
problems make the session invalid (exit 2), ``check_files`` problems are
media errors (exit 1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mixgraph.errors import Diagnostic, did_you_mean
from mixgraph.mastering.presets import resolved_loudness
from mixgraph.session.loader import LoadedYaml, format_path
from mixgraph.session.models import (
    MAX_TIMELINE_S,
    PROCESSOR_MODELS,
    Bus,
    DelayProc,
    EqProc,
    LimiterProc,
    MultibandProc,
    Output,
    ProcessorBase,
    Session,
    Track,
    automatable_fields,
    check_note_delay,
)

#: extensions an output path may end in (case-insensitive) -> the format the writer uses
OUTPUT_EXTENSIONS = {"wav": "wav", "flac": "flac", "aiff": "aiff", "aif": "aiff", "ogg": "ogg", "oga": "ogg",
                     "mp3": "mp3"}

class _Checker:
    def __init__(self, session: Session, loaded: LoadedYaml | None):
        self.s = session
        self.loaded = loaded
        self.diags: list[Diagnostic] = []
        #: the path tuple of each diagnostic (a variant's problems are mapped back to its lines)
        self.paths: list[tuple] = []
        self.file = loaded.file if loaded else None

    def add(self, path: tuple, message: str, hint: str | None = None, code: str = "ref",
            severity: str = "error", key: bool = False) -> None:
        file, line, col, via = self.loaded.locate(path, key=key) if self.loaded else (self.file, None, None, ())
        self.diags.append(Diagnostic(message, file, line, col, format_path(path), hint,
                                     severity=severity, code=code, via=via))
        self.paths.append(tuple(path))


def strips(session: Session) -> Iterator[tuple[tuple, str, Any]]:
    """(path, kind, strip) of every track, bus and return."""
    for name, t in session.tracks.items():
        yield ("tracks", name), "track", t
    for name, b in session.buses.items():
        yield ("buses", name), "bus", b
    for name, r in session.returns.items():
        yield ("returns", name), "return", r


def chains(session: Session) -> Iterator[tuple[tuple, list[ProcessorBase]]]:
    for path, _kind, strip in strips(session):
        yield path + ("chain",), strip.chain
    yield ("master", "chain"), session.master.chain


def check_references(session: Session, loaded: LoadedYaml | None = None) -> list[Diagnostic]:
    """Every problem of ``session`` that needs neither samples nor the compiled graph, positioned
    with ``loaded``; the variants' ``set`` patches are applied and checked too."""
    c = _Checker(session, loaded)
    _check_session(c)
    _check_variants(c)
    return c.diags


def check_expanded(session: Session) -> list[Diagnostic]:
    """The same checks on a session built in code, e.g. one with a variant applied (its lanes,
    ids, taps and paths after ``set``); diagnostics carry paths in ``session`` but no positions."""
    c = _Checker(session, None)
    _check_session(c)
    return c.diags


def _check_session(c: _Checker) -> None:  # noqa: C901 (one reference check per section of the session, in file order)
    s = c.s
    tracks, buses, returns = set(s.tracks), set(s.buses), set(s.returns)
    everything = tracks | buses | returns

    # unique names across tracks, buses and returns
    owner: dict[str, str] = {}
    for path, kind, _strip in strips(s):
        name = path[1]
        if name == "master":
            c.add(path, "'master' is reserved for the master bus.", "Choose another name.",
                  code="ref.reserved", key=True)
        if name in owner:
            c.add(path, f"The name '{name}' is already used by a {owner[name]}.",
                  "Tracks, buses and returns share one namespace.", code="ref.duplicate-name", key=True)
        else:
            owner[name] = kind

    for name, t in s.tracks.items():
        if t.channels is not None and len(t.channels) == 1 and t.input in ("left", "right"):
            c.add(("tracks", name, "input"), f"'channels' picks one channel ({t.channels[0]}): a mono source "
                  f"has no {t.input} side.", f"Pick a pair ('channels': [{t.channels[0]}, "
                  f"{t.channels[0] + 1}]) to take its {t.input} side, or leave 'input' out.", code="ref.input")
    for path, kind, strip in strips(s):
        # out: a bus or master
        if strip.out != "master" and strip.out not in buses:
            if strip.out in tracks:
                c.add(path + ("out",), f"'{strip.out}' is a track; 'out' takes a bus or 'master'.",
                      code="ref.out")
            elif strip.out in returns:
                c.add(path + ("out",), f"'{strip.out}' is a return; reach it with a send instead.",
                      code="ref.out")
            else:
                c.add(path + ("out",), f"Unknown bus '{strip.out}'.",
                      did_you_mean(strip.out, buses | {"master"}), code="ref.out")
        elif kind != "track" and strip.out == path[1]:
            c.add(path + ("out",), f"'{path[1]}' cannot feed itself.", code="ref.self")
        for i, send in enumerate(strip.sends):
            if send.to not in buses | returns:
                hint = did_you_mean(send.to, buses | returns)
                msg = (f"'{send.to}' is a track; sends go to returns or buses." if send.to in tracks
                       else f"Unknown return or bus '{send.to}'.")
                c.add(path + ("sends", i, "to"), msg, hint, code="ref.send")
            elif send.to == path[1]:
                c.add(path + ("sends", i, "to"), f"'{path[1]}' cannot send to itself.", code="ref.self")
        for i, proc in enumerate(strip.chain):
            sc = getattr(proc, "sidechain", None)
            if sc is not None:
                if sc.from_ not in everything:
                    c.add(path + ("chain", i, "sidechain", "from"), f"Unknown sidechain source '{sc.from_}'.",
                          did_you_mean(sc.from_, everything), code="ref.sidechain")
                elif sc.from_ == path[1]:
                    c.add(path + ("chain", i, "sidechain", "from"),
                          "A sidechain from the node itself is its own detector; remove 'sidechain'.",
                          code="ref.self")
    for i, proc in enumerate(s.master.chain):
        sc = getattr(proc, "sidechain", None)
        if sc is not None and sc.from_ not in everything:
            c.add(("master", "chain", i, "sidechain", "from"), f"Unknown sidechain source '{sc.from_}'.",
                  did_you_mean(sc.from_, everything), code="ref.sidechain")

    _check_vcas(c)
    _check_timeline(c)
    _check_frequencies(c)
    _check_automation(c)
    _check_delays(c)
    _check_master(c)
    _check_outputs(c, s.outputs, ("outputs",))


def vca_cycle(vcas: dict[str, list[str]]) -> list[str] | None:
    """A loop of VCA groups held by each other as [a, b, ..., a] (sorted DFS: deterministic), or None."""
    color = dict.fromkeys(vcas, 0)
    for start in sorted(vcas):
        if color[start]:
            continue
        path = [start]
        stack = [iter(sorted(m for m in vcas[start] if m in vcas))]
        color[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                color[path.pop()] = 2
                stack.pop()
            elif color[nxt] == 1:
                return path[path.index(nxt):] + [nxt]
            elif color[nxt] == 0:
                color[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(m for m in vcas[nxt] if m in vcas)))
    return None


def _check_vcas(c: _Checker) -> None:
    """VCA groups: names in the one namespace, members that exist, once each, and no group that
    holds itself through others (its gain would be added to itself without end)."""
    s = c.s
    strips_ = set(s.tracks) | set(s.buses) | set(s.returns)
    everything = strips_ | set(s.vcas)
    for name, vca in s.vcas.items():
        path = ("vcas", name)
        if name == "master":
            c.add(path, "'master' is reserved for the master bus.", "Choose another name.",
                  code="ref.reserved", key=True)
        elif name in strips_:
            kind = "track" if name in s.tracks else "bus" if name in s.buses else "return"
            c.add(path, f"The name '{name}' is already used by a {kind}.",
                  "VCA groups share one namespace with tracks, buses and returns.",
                  code="ref.duplicate-name", key=True)
        if not vca.members:
            c.add(path + ("members",), f"VCA group '{name}' has no members.",
                  "Name the tracks, buses or returns its fader moves, or remove the group.", code="ref.vca")
        seen: set[str] = set()
        for i, m in enumerate(vca.members):
            mpath = path + ("members", i)
            if m in seen:
                c.add(mpath, f"'{m}' is a member of VCA '{name}' twice.", "Remove the repeated member.",
                      code="ref.vca")
            elif m == name:
                c.add(mpath, f"VCA '{name}' cannot be a member of itself.", "Remove it from its members.",
                      code="ref.vca")
            elif m == "master":
                c.add(mpath, "The master fader cannot be a VCA member.",
                      "Use master.gain_db, or group the buses that feed the master.", code="ref.vca")
            elif m not in everything:
                c.add(mpath, f"Unknown track, bus, return or VCA '{m}'.", did_you_mean(m, everything),
                      code="ref.vca")
            seen.add(m)
    cycle = vca_cycle({n: [m for m in v.members if m != n] for n, v in s.vcas.items()})
    if cycle:
        # the member entry that closes the loop declares it
        a, b = cycle[-2], cycle[-1]
        c.add(("vcas", a, "members", s.vcas[a].members.index(b)), f"VCA loop: {' -> '.join(cycle)}.",
              "A VCA group cannot hold (directly or through others) a group that holds it.", code="ref.vca")


def _freqs(proc: ProcessorBase) -> Iterator[tuple[tuple, float]]:
    if isinstance(proc, EqProc):
        for i, band in enumerate(proc.bands):
            yield ("bands", i, "freq_hz"), band.freq_hz
    elif isinstance(proc, MultibandProc):
        for i, f in enumerate(proc.crossovers_hz):
            yield ("crossovers_hz", i), f
    else:
        for name in ("freq_hz", "highcut_hz", "key_highpass_hz", "key_lowpass_hz"):
            v = getattr(proc, name, None)
            if v is not None:
                yield (name,), v
    sc = getattr(proc, "sidechain", None)
    if sc is not None and sc.highpass_hz is not None:
        yield ("sidechain", "highpass_hz"), sc.highpass_hz


def _check_frequencies(c: _Checker) -> None:
    nyq = c.s.sample_rate / 2.0
    for path, chain in chains(c.s):
        for i, proc in enumerate(chain):
            for sub, f in _freqs(proc):
                if f >= nyq:
                    c.add(path + (i,) + sub,
                          f"{f:g} Hz is not below Nyquist ({nyq:g} Hz at sample_rate {c.s.sample_rate}).",
                          "Lower the frequency or raise the session's sample_rate.", code="range.nyquist")


def _bounds(f: Any) -> tuple[float | None, bool, float | None, bool]:
    """(low, low is exclusive, high, high is exclusive) of a model field's constraints."""
    lo = hi = None
    lo_open = hi_open = False
    for m in f.metadata:
        for attr, is_lo, is_open in (("ge", True, False), ("gt", True, True), ("le", False, False),
                                     ("lt", False, True)):
            v = getattr(m, attr, None)
            if v is None:
                continue
            if is_lo:
                lo, lo_open = float(v), is_open
            else:
                hi, hi_open = float(v), is_open
    return lo, lo_open, hi, hi_open


#: why some parameters a user may try to ride cannot follow a lane
_WHY_NOT_AUTOMATABLE = {
    "lookahead_ms": ": it sets the processor's latency, which the graph compensates once for the whole render",
    "oversample": ": it sets the processor's latency, which the graph compensates once for the whole render",
}


def automatable_params(proc: ProcessorBase) -> dict[str, Any]:
    """Lane name -> model field of every parameter of ``proc`` its DSP reads per frame
    (``bands.<i>.<name>`` for an EQ's bands), in model order."""
    model = type(proc)
    out = {name: model.model_fields[name] for name in automatable_fields(model)}
    if isinstance(proc, EqProc):
        for i, band in enumerate(proc.bands):
            bmodel = type(band)
            for name in automatable_fields(bmodel):
                if name == "q" and getattr(band, "slope_db_oct", None) == 6:
                    continue  # a first-order filter has no q to ride
                out[f"bands.{i}.{name}"] = bmodel.model_fields[name]
    return out


def _range_text(lo: float | None, hi: float | None, hi_open: bool) -> str:
    if hi is None:
        return f"at least {lo:g}"
    return f"{lo:g}..{hi:g}" + (" (exclusive)" if hi_open else "")


def _check_automation(c: _Checker) -> None:
    nyq = c.s.sample_rate / 2.0

    def lanes(path: tuple, strip_like: Any, what: str) -> None:
        chain = getattr(strip_like, "chain", None)  # a VCA group has none
        ids = {p.id: p for p in chain or () if p.id}
        fader = {name: type(strip_like).model_fields[name] for name in automatable_fields(type(strip_like))}
        for key, points in strip_like.automation.items():
            kpath = path + ("automation", key)
            if key in fader:
                field = fader[key]
            elif "." in key and chain is not None:
                pid, _, param = key.partition(".")
                proc = ids.get(pid)
                if proc is None:
                    c.add(kpath, f"No processor with id '{pid}' in this chain.",
                          did_you_mean(pid, ids) or "Give the processor an 'id' to automate it.",
                          code="ref.automation", key=True)
                    continue
                params = automatable_params(proc)
                if param not in params:
                    listed = (f"automatable: {', '.join(params)}" if params
                              else f"a {proc.type} has no automatable parameters")
                    why = _WHY_NOT_AUTOMATABLE.get(param, "")
                    c.add(kpath, f"'{param}' is not an automatable parameter of {proc.type} '{pid}' ({listed}){why}.",
                          did_you_mean(param, params), code="ref.automation", key=True)
                    continue
                field = params[param]
                key = param
            elif chain is None:
                c.add(kpath, f"Cannot automate '{key}' on {what} (automatable: {', '.join(fader)}).",
                      did_you_mean(key, fader), code="ref.automation", key=True)
                continue
            else:
                c.add(kpath, f"Cannot automate '{key}' on {what} (automatable: {', '.join(fader)}, or "
                      "'<processor id>.<parameter>').",
                      did_you_mean(key, fader) or "Use '<processor id>.<parameter>' for a processor's parameter.",
                      code="ref.automation", key=True)
                continue
            lo, lo_open, hi, hi_open = _bounds(field)
            if key.rpartition(".")[2] == "freq_hz" and (hi is None or hi >= nyq):
                hi, hi_open = nyq, True
            last = 0.0
            for j, (t, v) in enumerate(points):
                if t < last or t > MAX_TIMELINE_S:
                    c.add(kpath + (j,), f"Breakpoint times must be >= 0 and ascending, at most {MAX_TIMELINE_S} s "
                          f"(got {t:g} after {last:g}).", code="range.automation")
                last = max(last, t)
                if (lo is not None and (v < lo or (lo_open and v == lo))) or (
                        hi is not None and (v > hi or (hi_open and v == hi))):
                    c.add(kpath + (j,), f"Value {v:g} is outside the parameter's range {_range_text(lo, hi, hi_open)}.",
                          "Automated values keep the static value's range.", code="range.automation")

    for path, kind, strip in strips(c.s):
        lanes(path, strip, f"a {kind}")
    lanes(("master",), c.s.master, "the master")
    for name, vca in c.s.vcas.items():
        lanes(("vcas", name), vca, "a VCA group")


def _check_delays(c: _Checker) -> None:
    for path, chain in chains(c.s):
        for i, proc in enumerate(chain):
            if not isinstance(proc, DelayProc) or proc.tempo_bpm is not None:
                continue  # a delay's own tempo is checked by its model
            for field in ("note", "right_note"):
                note = getattr(proc, field)
                if note is None:
                    continue
                if c.s.tempo_bpm is None:
                    c.add(path + (i, field), f"The note value '{note}' needs a tempo.",
                          "Set 'tempo_bpm' on the delay or on the session.", code="ref.tempo")
                    continue
                try:
                    check_note_delay(note, c.s.tempo_bpm)
                except ValueError as exc:
                    c.add(path + (i, field), str(exc), "Use a shorter note value or a faster tempo.",
                          code="range.delay")


def _check_timeline(c: _Checker) -> None:
    for name, t in c.s.tracks.items():
        if t.trim.end_s is not None and t.start_s + (t.trim.end_s - t.trim.start_s) > MAX_TIMELINE_S:
            c.add(("tracks", name, "start_s"), f"This track would end at {t.start_s + t.trim.end_s - t.trim.start_s:g} s, "
                  f"after the {MAX_TIMELINE_S} s (24 h) a session may last.", code="range.timeline")


def _check_master(c: _Checker) -> None:
    m = c.s.master
    if m.source is not None and (c.s.tracks or c.s.buses or c.s.returns):
        c.add(("master", "source"), "A master with a 'source' masters that file; it cannot also mix tracks.",
              "Remove 'source', or the tracks, buses and returns.", code="ref.master")
    if m.loudness is None:
        return
    _target, ceiling = resolved_loudness(m.loudness)
    for i, proc in enumerate(m.chain):
        if isinstance(proc, LimiterProc) and not proc.bypass and proc.ceiling_dbtp > ceiling + 1e-9:
            c.add(("master", "chain", i, "ceiling_dbtp"),
                  f"The limiter's ceiling {proc.ceiling_dbtp:g} dBTP is above the loudness ceiling {ceiling:g} dBTP.",
                  "Set the limiter's ceiling_dbtp at or below the loudness ceiling.", code="ref.ceiling")


def fill_output_path(template: str, session: Session, output: str, variant: str | None) -> str:
    """Fill {name}, {output} and {variant}; a variant render never overwrites the base render."""
    vtext = f"-{variant}" if variant else ""
    path = template.replace("{name}", session.name).replace("{output}", output)
    if "{variant}" in path:
        return path.replace("{variant}", vtext)
    if variant:
        root, ext = os.path.splitext(path)
        return f"{root}{vtext}{ext}"
    return path


def output_path_problem(path: str) -> tuple[str, str] | None:
    """(message, hint) when an output path's text is not a relative file path inside the session
    folder with a known extension; None when it is. Syntax only: the filesystem is not looked at."""
    if path == "":
        return "The output path is empty.", "Give a file name such as 'renders/{name}{variant}.wav'."
    bad = next((ch for ch in path if ord(ch) < 32 or 127 <= ord(ch) < 160), None)
    if bad is not None:
        return (f"The output path contains a control character (U+{ord(bad):04X}).",
                "Use printable characters only.")
    if "\\" in path:
        return "The output path contains a backslash.", "Separate folders with '/'."
    if path.startswith("/") or (len(path) >= 2 and path[1] == ":" and path[0].isalpha()):
        return "The output path is absolute.", "Write outputs relative to the session folder."
    parts = path.split("/")
    if ".." in parts:
        return "The output path leaves the session folder ('..').", "Write outputs inside the session folder."
    if parts[-1] in ("", "."):
        return "The output path names a folder, not a file.", "End it with a file name such as '{name}.wav'."
    ext = parts[-1].rpartition(".")[2].lower() if "." in parts[-1] else ""
    if ext not in OUTPUT_EXTENSIONS:
        what = f"'.{ext}'" if ext else "no extension"
        return (f"The output path has {what}; mixgraph writes {', '.join('.' + e for e in OUTPUT_EXTENSIONS)}.",
                "End the file name with one of them.")
    return None


def _check_outputs(c: _Checker, outputs: dict[str, Output], base: tuple) -> None:
    s = c.s
    taps = {"master", "premaster"} | {f"track:{n}" for n in s.tracks} | {f"bus:{n}" for n in s.buses} | {
        f"return:{n}" for n in s.returns}
    seen: dict[str, str] = {}
    for name, out in outputs.items():
        if out.tap not in taps:
            c.add(base + (name, "tap"), f"The tap '{out.tap}' names no node of this session.",
                  did_you_mean(out.tap, taps), code="ref.tap")
        problem = output_path_problem(out.path)
        if problem is not None:
            c.add(base + (name, "path"), problem[0], problem[1], code="ref.path")
            continue
        bad = [f for f in ("{" + x for x in out.path.split("{")[1:]) if not f.startswith(("{name}", "{output}", "{variant}"))]
        if bad:
            c.add(base + (name, "path"), f"Unknown placeholder in '{out.path}'.",
                  "Use {name}, {output} or {variant}.", code="ref.path")
            continue
        filled = os.path.normpath(fill_output_path(out.path, s, name, None))
        if filled in seen:
            c.add(base + (name, "path"), f"Output '{name}' writes the same file as '{seen[filled]}'.",
                  "Give each output its own path.", code="ref.output-path")
        seen[filled] = name
        if out.bit_depth == "32f" and out.format in ("mp3", "ogg"):
            c.add(base + (name, "bit_depth"), f"{out.format} files have no 32-bit float format.",
                  code="ref.format")


def _check_variants(c: _Checker) -> None:
    s = c.s
    everything = set(s.tracks) | set(s.buses) | set(s.returns)
    base = {(p, d.message) for p, d in zip(c.paths, c.diags, strict=True)}
    for vname, v in s.variants.items():
        vpath = ("variants", vname)
        for field in ("mute", "solo"):
            for i, n in enumerate(getattr(v, field)):
                if n not in everything:
                    c.add(vpath + (field, i), f"Unknown track, bus or return '{n}'.",
                          did_you_mean(n, everything), code="ref.variant")
        if v.outputs is not None:
            _check_outputs(c, v.outputs, vpath + ("outputs",))
        if v.set:
            _check_variant_set(c, vname, base)


def _check_variant_set(c: _Checker, vname: str, base: set[tuple[tuple, str]]) -> None:
    """Apply a variant's ``set`` and check the result: a lane, an id or a value the patch brings is
    reported at the variant's line. A patch the schema refuses is left to the expand stage."""
    from pydantic import ValidationError

    from mixgraph.session.expand import parse_dotted  # here: expand imports this module

    v = c.s.variants[vname]
    data = c.s.model_dump(mode="python", by_alias=True)
    applied: dict[tuple, str] = {}
    for dotted, value in v.set.items():
        try:
            parts = parse_dotted(dotted)
            node: Any = data
            for part in parts[:-1]:
                node = node[part]
            if isinstance(node, dict) and parts[-1] not in node:
                continue
            node[parts[-1]] = value
        except (KeyError, IndexError, TypeError, ValueError):
            continue  # named nothing: the expand stage reports it
        applied[parts] = dotted
    data["variants"] = {}
    try:
        patched = Session.model_validate(data)
    except ValidationError:
        return
    sub = _Checker(patched, None)
    _check_session(sub)
    for path, d in zip(sub.paths, sub.diags, strict=True):
        if (path, d.message) in base or path[:1] == ("outputs",):
            continue
        target, key = ("variants", vname), True
        for parts, dotted in applied.items():
            n = min(len(parts), len(path))
            if parts[:n] == path[:n]:
                target, key = ("variants", vname, "set", dotted), False
                break
        c.add(target, f"With variant '{vname}': {d.message}", d.hint, code=d.code, key=key)


def source_paths(session: Session, session_dir: Path) -> Iterator[tuple[tuple, Path]]:
    """(yaml path, absolute path) of every file the session reads."""
    base = session_dir / session.sources_dir
    for name, t in session.tracks.items():
        yield ("tracks", name, "source"), (base / t.source)
    for path, chain in chains(session):
        for i, proc in enumerate(chain):
            ir = getattr(proc, "ir", None)
            if ir:
                yield path + (i, "ir"), session_dir / ir
    if session.master.source:
        yield ("master", "source"), session_dir / session.master.source


def check_files(session: Session, session_dir: Path, loaded: LoadedYaml | None = None) -> list[Diagnostic]:
    c = _Checker(session, loaded)
    for path, p in source_paths(session, session_dir):
        if not p.is_file():
            c.add(path, f"The file '{p}' does not exist.",
                  "Check the path (sources are relative to sources_dir, IRs to the session).",
                  code="file.missing")
    # outputs must never overwrite a source
    srcs = {os.path.realpath(p) for _path, p in source_paths(session, session_dir)}
    for name, out in session.outputs.items():
        target = os.path.realpath(session_dir / fill_output_path(out.path, session, name, None))
        if target in srcs:
            c.add(("outputs", name, "path"), "This output would overwrite a source file.",
                  "Write renders to their own folder.", code="file.overwrite-source")
    return c.diags


__all__ = [
    "OUTPUT_EXTENSIONS",
    "automatable_params",
    "check_expanded",
    "check_files",
    "check_references",
    "output_path_problem",
    "fill_output_path",
    "resolved_loudness",
    "source_paths",
    "PROCESSOR_MODELS",
    "Bus",
    "Track",
]

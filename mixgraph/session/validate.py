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
    PROCESSOR_MODELS,
    Bus,
    DelayProc,
    EqProc,
    LimiterProc,
    MultibandProc,
    ProcessorBase,
    Session,
    Track,
)


class _Checker:
    def __init__(self, session: Session, loaded: LoadedYaml | None):
        self.s = session
        self.loaded = loaded
        self.diags: list[Diagnostic] = []
        self.file = loaded.file if loaded else None

    def add(self, path: tuple, message: str, hint: str | None = None, code: str = "ref",
            severity: str = "error", key: bool = False) -> None:
        file, line, col, via = self.loaded.locate(path, key=key) if self.loaded else (self.file, None, None, ())
        self.diags.append(Diagnostic(message, file, line, col, format_path(path), hint,
                                     severity=severity, code=code, via=via))


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
    c = _Checker(session, loaded)
    s = session
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

    _check_frequencies(c)
    _check_automation(c)
    _check_delays(c)
    _check_master(c)
    _check_outputs(c)
    _check_variants(c, everything)
    return c.diags


def _freqs(proc: ProcessorBase) -> Iterator[tuple[tuple, float]]:
    if isinstance(proc, EqProc):
        for i, band in enumerate(proc.bands):
            yield ("bands", i, "freq_hz"), band.freq_hz
    elif isinstance(proc, MultibandProc):
        for i, f in enumerate(proc.crossovers_hz):
            yield ("crossovers_hz", i), f
    else:
        for name in ("freq_hz", "highcut_hz"):
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


def _numeric_params(proc: ProcessorBase) -> dict[str, tuple[float | None, float | None]]:
    """Automatable parameter name -> (min, max) from the model's constraints."""
    out: dict[str, tuple[float | None, float | None]] = {}
    for name, f in type(proc).model_fields.items():
        if name in ("id", "type", "bypass", "sidechain") or f.annotation not in (float, int, float | None):
            continue
        lo = hi = None
        for m in f.metadata:
            lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else (getattr(m, "gt", None) if lo is None else lo)
            hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else (getattr(m, "lt", None) if hi is None else hi)
        out[name] = (lo, hi)
    if isinstance(proc, EqProc):
        for i, band in enumerate(proc.bands):
            for name, f in type(band).model_fields.items():
                if name in ("freq_hz", "gain_db", "q"):
                    lo = hi = None
                    for m in f.metadata:
                        lo = getattr(m, "ge", getattr(m, "gt", lo))
                        hi = getattr(m, "le", getattr(m, "lt", hi))
                    out[f"bands.{i}.{name}"] = (lo, hi)
    return out


def _check_automation(c: _Checker) -> None:
    def lanes(path, strip_like, fader_params):
        ids = {p.id: p for p in strip_like.chain if p.id}
        for key, points in strip_like.automation.items():
            kpath = path + ("automation", key)
            rng: tuple | None = None
            if key in fader_params:
                rng = fader_params[key]
            elif "." in key:
                pid, _, param = key.partition(".")
                proc = ids.get(pid)
                if proc is None:
                    c.add(kpath, f"No processor with id '{pid}' in this chain.",
                          did_you_mean(pid, ids) or "Give the processor an 'id' to automate it.",
                          code="ref.automation", key=True)
                    continue
                params = _numeric_params(proc)
                if param not in params:
                    c.add(kpath, f"'{param}' is not an automatable parameter of {proc.type} '{pid}'.",
                          did_you_mean(param, params), code="ref.automation", key=True)
                    continue
                rng = params[param]
            else:
                c.add(kpath, f"Cannot automate '{key}'.",
                      did_you_mean(key, fader_params) or "Use 'gain_db', 'pan' or '<id>.<parameter>'.",
                      code="ref.automation", key=True)
                continue
            last = -1.0
            for j, (t, v) in enumerate(points):
                if t < 0 or t < last:
                    c.add(kpath + (j,), f"Breakpoint times must be >= 0 and ascending (got {t:g} after {max(last, 0):g}).",
                          code="range.automation")
                last = t
                lo, hi = rng
                if (lo is not None and v < lo) or (hi is not None and v > hi):
                    c.add(kpath + (j,), f"Value {v:g} is outside the parameter's range {lo:g}..{hi:g}.",
                          code="range.automation")

    track_fader = {"gain_db": (-120.0, 24.0), "pan": (-1.0, 1.0)}
    bus_fader = {"gain_db": (-120.0, 24.0), "pan": (-1.0, 1.0), "width": (0.0, 2.0)}
    for path, kind, strip in strips(c.s):
        lanes(path, strip, track_fader if kind == "track" else bus_fader)
    lanes(("master",), c.s.master, {"gain_db": (-60.0, 48.0)})


def _check_delays(c: _Checker) -> None:
    for path, chain in chains(c.s):
        for i, proc in enumerate(chain):
            if isinstance(proc, DelayProc) and proc.note and proc.tempo_bpm is None and c.s.tempo_bpm is None:
                c.add(path + (i, "note"), f"The note value '{proc.note}' needs a tempo.",
                      "Set 'tempo_bpm' on the delay or on the session.", code="ref.tempo")


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


def _check_outputs(c: _Checker) -> None:
    s = c.s
    taps = {"master", "premaster"} | {f"track:{n}" for n in s.tracks} | {f"bus:{n}" for n in s.buses} | {
        f"return:{n}" for n in s.returns}
    seen: dict[str, str] = {}
    for name, out in s.outputs.items():
        if out.tap not in taps:
            c.add(("outputs", name, "tap"), f"The tap '{out.tap}' names no node of this session.",
                  did_you_mean(out.tap, taps), code="ref.tap")
        bad = [f for f in ("{" + x for x in out.path.split("{")[1:]) if not f.startswith(("{name}", "{output}", "{variant}"))]
        if bad:
            c.add(("outputs", name, "path"), f"Unknown placeholder in '{out.path}'.",
                  "Use {name}, {output} or {variant}.", code="ref.path")
            continue
        filled = os.path.normpath(fill_output_path(out.path, s, name, None))
        if filled in seen:
            c.add(("outputs", name, "path"), f"Output '{name}' writes the same file as '{seen[filled]}'.",
                  "Give each output its own path.", code="ref.output-path")
        seen[filled] = name
        if out.bit_depth == "32f" and out.format in ("mp3", "ogg"):
            c.add(("outputs", name, "bit_depth"), f"{out.format} files have no 32-bit float format.",
                  code="ref.format")


def _check_variants(c: _Checker, everything: set[str]) -> None:
    for vname, v in c.s.variants.items():
        for field in ("mute", "solo"):
            for i, n in enumerate(getattr(v, field)):
                if n not in everything:
                    c.add(("variants", vname, field, i), f"Unknown track, bus or return '{n}'.",
                          did_you_mean(n, everything), code="ref.variant")


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
    "check_files",
    "check_references",
    "fill_output_path",
    "resolved_loudness",
    "source_paths",
    "PROCESSOR_MODELS",
    "Bus",
    "Track",
]

"""Every file a render writes, laid out and checked before any audio is computed.

A session is untrusted input: its outputs stay inside the song folder (or the ``--out-dir`` the
user typed), after resolving symlinks; no two files of a render are one file (by real path,
case-folded where the file system folds case); and no file a render writes is one it reads (the
session, its lock, sources, IRs, templates). Every refusal names the output's YAML line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mixgraph.errors import Diagnostic, SessionInvalid, UserError, printable
from mixgraph.graph.plan import RenderPlan
from mixgraph.session.models import Session
from mixgraph.session.pipeline import LoadedSession
from mixgraph.session.validate import source_paths

REPORT_SUFFIXES = ("report.json", "report.md", "report.html")


def lock_path(session_path: str | Path) -> Path:
    """``song.yaml`` -> ``song.lock`` (next to the session)."""
    return Path(session_path).with_suffix(".lock")


def sidecar_path(output_path: str | Path) -> Path:
    return Path(str(output_path) + ".json")


def report_stem(session_name: str, variant: str | None) -> str:
    """'<session>[-<variant>]': variants rendered into one folder keep their own reports."""
    return session_name + (f"-{variant}" if variant else "")


@dataclass(frozen=True)
class OutputFiles:
    #: the folder every written file stays in (real path)
    root: Path
    #: output name -> its audio file, and its provenance sidecar
    audio: dict[str, Path]
    sidecars: dict[str, Path]
    #: report suffix ("report.json", ...) -> file
    reports: dict[str, Path]
    #: where the commit journal of this render lives (see mixgraph.atomic)
    journal_dir: Path
    journal_name: str
    #: real paths of everything the render reads
    inputs: frozenset[str] = field(default_factory=frozenset)

    def all_paths(self) -> list[Path]:
        return [*self.audio.values(), *self.sidecars.values(), *self.reports.values()]


def _letters_component(p: Path) -> Path | None:
    for q in (p, *p.parents):
        if q.name and q.name.lower() != q.name.upper():
            return q
    return None


def folds_case(folder: Path) -> bool:
    """Whether the file system holding ``folder`` treats names differing in case as one file
    (macOS and Windows by default): the same folder under its name in swapped case is itself."""
    q = _letters_component(folder)
    if q is None or not q.exists():
        return False
    other = q.with_name(q.name.swapcase())
    try:
        return other.exists() and os.path.samefile(q, other)
    except OSError:
        return False


def _key(p: str, fold: bool) -> str:
    return p.casefold() if fold else p


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _position(ls: LoadedSession, variant: str | None, name: str) -> tuple[str | None, int | None, int | None]:
    if variant is not None:
        v = ls.session.variants.get(variant)
        if v is not None and name in (getattr(v, "outputs", None) or {}):
            where = ls.position(("variants", variant, "outputs", name, "path"))
            if where:
                return where
    where = ls.position(("outputs", name, "path"))
    return where if where else (ls.file, None, None)


def input_files(plan: RenderPlan, ls: LoadedSession, session: Session) -> dict[str, str]:
    """Real path -> what it is, of every file a render of ``plan`` reads."""
    found = {os.path.realpath(ls.path): "the session file", os.path.realpath(lock_path(ls.path)): "the lock file"}
    for ypath, p in source_paths(session, ls.session_dir):
        found[os.path.realpath(p)] = "the IR" if ypath[-1] == "ir" else "a source"
    for file, _via in ls.loaded.origins.values():
        found[os.path.realpath(ls.session_dir / file)] = "a template"
    return found


def plan_output_files(plan: RenderPlan, ls: LoadedSession, session: Session, *,
                      out_dir: str | Path | None = None) -> OutputFiles:
    """The files a render of ``plan`` writes; SessionInvalid (exit 2) naming each output whose
    file would leave the song folder, collide with another, or overwrite an input."""
    song = Path(os.path.realpath(ls.session_dir))
    root = Path(os.path.realpath(out_dir)) if out_dir is not None else song
    if out_dir is not None and Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise UserError(f"--out-dir {printable(str(out_dir))} is not a folder")
    fold = folds_case(root)
    inputs = input_files(plan, ls, session)
    diags: list[Diagnostic] = []
    audio: dict[str, Path] = {}
    sidecars: dict[str, Path] = {}
    owners: dict[str, str] = {}  # key of a planned file -> what it is

    def claim(name: str, what: str, target: Path) -> None:
        file, line, col = _position(ls, plan.variant, name)

        def refuse(msg: str, hint: str | None = None) -> None:
            diags.append(Diagnostic(msg, file, line, col, f"outputs.{name}.path", hint, code="output.path"))

        real = os.path.realpath(target)
        if not _inside(real, str(root)):
            refuse(f"The {what} {printable(str(target))} is outside the song folder ({printable(str(root))}).",
                   "Outputs are written under the session's folder; name a relative path inside it.")
            return
        if _inside(real, os.path.join(str(song), ".mixgraph")):
            # the render cache's folder: an output there could overwrite an entry another render reads
            refuse(f"The {what} {printable(str(target))} is inside .mixgraph/, mixgraph's own cache folder.",
                   "Write renders to their own folder, e.g. renders/song.wav.")
            return
        if os.path.isdir(real):
            refuse(f"The {what} {printable(str(target))} is a folder.", "Name a file, e.g. renders/song.wav.")
            return
        parent = Path(real).parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            refuse(f"The {what} {printable(str(target))} needs a folder where {printable(str(parent))} is a file.")
            return
        key = _key(real, fold)
        if key in {_key(k, fold) for k in inputs}:
            what_in = next(v for k, v in inputs.items() if _key(k, fold) == key)
            refuse(f"The {what} {printable(str(target))} would overwrite {what_in}; nothing was rendered.",
                   "Write renders to their own folder.")
            return
        if key in owners:
            refuse(f"The {what} {printable(str(target))} is also {owners[key]}: two files of one render "
                   "cannot share a path.", "Give each output its own file name.")
            return
        owners[key] = f"the {what}" + ("" if what.startswith("report") else f" of output '{name}'")

    for o in plan.outputs:
        target = Path(o.path) if out_dir is None else root / Path(o.rel_path).name
        audio[o.name] = target
        sidecars[o.name] = sidecar_path(target)
        claim(o.name, "file", target)
        claim(o.name, "sidecar", sidecar_path(target))
    folder = root if out_dir is not None else (audio[plan.outputs[0].name].parent if plan.outputs else song)
    stem = report_stem(plan.session_name, plan.variant)
    reports = {s: folder / f"{stem}.{s}" for s in REPORT_SUFFIXES}
    for s, p in reports.items():
        claim(plan.outputs[0].name if plan.outputs else "", f"report {s}", p)
    if diags:
        raise SessionInvalid(ls.file, diags)
    journal_name = report_stem(Path(ls.path).stem, plan.variant)
    return OutputFiles(root, audio, sidecars, reports, root, journal_name, frozenset(inputs))


def bare_output_files(plan: RenderPlan, *, out_dir: str | Path | None = None) -> OutputFiles:
    """The files of a render of a compiled plan with no session file (``mixgraph master``): the
    outputs where the plan says (or in ``out_dir``), refusing only collisions with each other and
    with the plan's sources."""
    root = Path(os.path.realpath(out_dir if out_dir is not None else plan.session_dir))
    fold = folds_case(root)
    sources = [n.source.path for n in plan.nodes if n.source] + ([plan.master.source.path] if plan.master.source else [])
    taken = {_key(os.path.realpath(p), fold): "a source" for p in sources}
    audio = {o.name: (Path(o.path) if out_dir is None else root / Path(o.rel_path).name) for o in plan.outputs}
    sidecars = {k: sidecar_path(v) for k, v in audio.items()}
    folder = root if out_dir is not None else (next(iter(audio.values())).parent if audio else root)
    reports = {s: folder / f"{report_stem(plan.session_name, plan.variant)}.{s}" for s in REPORT_SUFFIXES}
    for p in [*audio.values(), *sidecars.values(), *reports.values()]:
        real = os.path.realpath(p)
        if os.path.isdir(real):
            raise UserError(f"{printable(str(p))} is a folder; name the file to write")
        key = _key(real, fold)
        if key in taken:
            raise UserError(f"{printable(str(p))} would overwrite {taken[key]}; nothing was written",
                            hint="Give the output its own file name.")
        taken[key] = "another file of this render"
    return OutputFiles(root, audio, sidecars, reports, folder, report_stem(plan.session_name, plan.variant),
                       frozenset(taken))

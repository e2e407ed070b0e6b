"""The static check: everything about a session that needs no samples, in one place.

``resolve_plan`` loads a session file, applies a variant, probes every source and IR header,
compiles the render plan (routing, channels, latency, deliverable rates) and lays out every file
a render would write, checked against every input and each other. ``validate``, ``plan`` and
``render`` all call it, so a session ``validate`` accepts is one ``render`` starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mixgraph.api.outputs import OutputFiles, plan_output_files
from mixgraph.audio.probe import MediaInfo, probe_media
from mixgraph.errors import Diagnostic, MediaError, MixgraphError
from mixgraph.graph.compile import compile_session as compile_plan
from mixgraph.graph.plan import RenderPlan
from mixgraph.session import pipeline
from mixgraph.session.loader import format_path
from mixgraph.session.models import Session
from mixgraph.session.pipeline import LoadedSession
from mixgraph.session.validate import source_paths


@dataclass(frozen=True)
class ResolvedPlan:
    plan: RenderPlan
    #: the session file as the user named it (for messages)
    file: str
    #: sha256 of the resolved session (variant applied)
    session_hash: str
    loaded: LoadedSession
    session: Session
    media: dict[str, MediaInfo]
    files: OutputFiles


def _probe(session: Session, ls: LoadedSession) -> dict[str, MediaInfo]:
    """Header of every file the session reads, keyed by real path; every problem at its YAML line."""
    media: dict[str, MediaInfo] = {}
    problems: list[Diagnostic] = []
    for ypath, p in source_paths(session, ls.session_dir):
        try:
            media[str(p)] = probe_media(p)
        except MediaError as err:
            where = ls.position(ypath)
            file, line, col = where if where else (ls.file, None, None)
            problems.append(Diagnostic(err.message, file, line, col, format_path(ypath), err.hint,
                                       code="file.media"))
    if problems:
        head = problems[0].message if len(problems) == 1 else f"{ls.file}: {len(problems)} file problems"
        raise MediaError(head, problems)
    return media


def _positions(ls: LoadedSession, variant: str | None):
    """``ls.position`` for the compiler, with what a variant brings (a ``set`` patch, its own
    outputs) placed at the variant's lines instead of the base session's."""
    v = ls.session.variants.get(variant) if variant is not None else None
    if v is None:
        return ls.position
    from mixgraph.session.expand import parse_dotted

    sets = []
    for dotted in v.set:
        try:
            sets.append((parse_dotted(dotted), dotted))
        except ValueError:
            continue
    own_outputs = set(v.outputs or {})
    vpath = ("variants", variant)

    def position(path: tuple):
        for parts, dotted in sets:
            if tuple(path[:len(parts)]) == parts:
                return ls.position(vpath + ("set", dotted)) or ls.position(path)
        if len(path) > 1 and path[0] == "outputs" and path[1] in own_outputs:
            return ls.position(vpath + tuple(path)) or ls.position(path)
        return ls.position(path)

    return position


def resolve_plan(path: str | Path, variant: str | None = None, *, out_dir: str | Path | None = None,
                 loaded: LoadedSession | None = None) -> ResolvedPlan:
    """The render plan of a session file (``variant`` applied) and the files its render writes;
    raises SessionInvalid (exit 2) or MediaError/UserError (exit 1) with every problem found."""
    ls = loaded if loaded is not None else pipeline.load(path)
    session = pipeline.expand(ls, variant)
    media = _probe(session, ls)
    channels = {name: media[str(p)].channels for name, p in
                ((n, ls.session_dir / session.sources_dir / t.source) for n, t in session.tracks.items())}
    plan = compile_plan(session, session_file=ls.file, session_dir=ls.session_dir, variant=variant,
                        positions=_positions(ls, variant), source_channels=channels, media=media)
    files = plan_output_files(plan, ls, session, out_dir=out_dir)
    return ResolvedPlan(plan, ls.file, pipeline.session_hash(session), ls, session, media, files)


def check_session(path: str | Path) -> list[str]:
    """The static check of a session and every variant (what ``mixgraph validate`` runs); returns
    the graph warnings, raises the first failing variant's problems."""
    ls = pipeline.load(path)
    warnings: list[str] = []
    for variant in [None, *sorted(ls.session.variants)]:
        try:
            r = resolve_plan(path, variant, loaded=ls)
        except MixgraphError as err:
            if variant is not None:
                err.message = f"variant '{variant}': {err.message}"
            raise
        warnings.extend(w for w in r.plan.warnings if w not in warnings)
    return warnings


@dataclass
class ValidationReport:
    file: str
    ok: bool
    exit_code: int
    message: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: the graph's warnings (a bus with no inputs, ...), as formatted lines
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"file": self.file, "ok": self.ok, "exit_code": self.exit_code, "message": self.message,
                "diagnostics": [d.to_dict() for d in self.diagnostics], "warnings": self.warnings}


def validate_files(paths: list[str | Path]) -> list[ValidationReport]:
    """The static check of each session file and every variant of it (``mixgraph validate``)."""
    reports = []
    for p in paths:
        try:
            warnings = check_session(p) + _cache_folder_warnings(p)
            reports.append(ValidationReport(str(p), True, 0, warnings=warnings))
        except MixgraphError as err:
            reports.append(ValidationReport(str(p), False, err.exit_code, err.message, err.diagnostics))
    return reports


def _cache_folder_warnings(path: str | Path) -> list[str]:
    """What a render with the default cache folder would refuse (a linked .mixgraph; it needs no
    samples, so validate says it too). A warning, not an error: --no-cache or --cache-dir render."""
    from mixgraph.render.cache import cache_root

    if os.environ.get("MIXGRAPH_CACHE_DIR"):
        return []
    try:
        cache_root(path)
    except MixgraphError as err:
        return [f"warning: {err.message} A render needs --no-cache or --cache-dir."]
    return []

"""The lock file: what a render depended on, so a recall months later renders the same bits.

``mixgraph lock song.yaml`` writes ``song.lock`` next to it (YAML, sorted, one fact per line, so it
diffs cleanly in a pull request):

* the sha256 and format of every source file;
* the sha256 of the resolved session (templates, presets and tempo applied) and of the render plan;
* the versions of mixgraph, Python and the numeric libraries (numpy, scipy, numba, soxr,
  soundfile, libsndfile);
* after a render, the sha256 of every output's samples (per variant).

``mixgraph render`` warns when the sources or the session differ from the lock and records output
hashes when they match; ``render --locked`` refuses to render on any difference; ``mixgraph
verify`` re-renders into a temporary folder and compares with the recorded hashes.
"""

from __future__ import annotations

import importlib.metadata
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mixgraph.api.outputs import lock_path
from mixgraph.api.plan import resolve_plan
from mixgraph.atomic import write_text
from mixgraph.errors import Diagnostic, UserError
from mixgraph.graph.plan import RenderPlan
from mixgraph.version import __version__

LOCK_VERSION = 1
LIBRARIES = ("numpy", "scipy", "numba", "soxr", "soundfile", "pyloudnorm", "pydantic", "PyYAML")
HEADER = (
    "# mixgraph lock file: the sources, session, plan and library versions a render depended on,\n"
    "# and the sha256 of every output's samples. Written by `mixgraph lock` and `mixgraph render`;\n"
    "# checked by `mixgraph render --locked` and `mixgraph verify`. Commit it next to the session.\n"
)


def library_versions() -> dict[str, str]:
    from mixgraph.audio.compare import libsndfile_version

    out = {"mixgraph": __version__, "python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib.lower()] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            out[lib.lower()] = "not installed"
    out["libsndfile"] = libsndfile_version()
    return out


@dataclass
class Lock:
    session: str
    session_sha256: str
    plan_sha256: str
    sources: dict[str, dict[str, Any]]
    versions: dict[str, str]
    #: variant name ("" for the session itself) -> {"session_sha256", "plan_sha256", "outputs": {name: sha}}
    renders: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_text(self) -> str:
        import yaml

        data = {
            "lock_version": LOCK_VERSION,
            "session": self.session,
            "session_sha256": self.session_sha256,
            "plan_sha256": self.plan_sha256,
            "versions": dict(sorted(self.versions.items())),
            "sources": {k: self.sources[k] for k in sorted(self.sources)},
            # "session" cannot clash with a variant: variants are keyed "variant:<name>"
            "renders": {_render_key(k): self.renders[k] for k in sorted(self.renders)},
        }
        return HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=1000)

    @classmethod
    def from_text(cls, text: str, file: str) -> Lock:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise UserError(f"{file}: not a readable lock file ({getattr(exc, 'problem', exc)})",
                            [Diagnostic("Not a readable lock file.", file, mark.line + 1 if mark else None,
                                        mark.column + 1 if mark else None,
                                        hint="Run `mixgraph lock` to write it again.", code="lock.syntax")]) from None
        if not isinstance(data, dict) or data.get("lock_version") != LOCK_VERSION:
            raise UserError(f"{file}: not a mixgraph lock file of version {LOCK_VERSION}",
                            hint="Run `mixgraph lock` to write it again.")
        try:
            renders = {}
            for key, value in (data.get("renders") or {}).items():
                renders["" if key == "session" else key.removeprefix("variant:")] = dict(value)
            return cls(session=str(data["session"]), session_sha256=str(data["session_sha256"]),
                       plan_sha256=str(data["plan_sha256"]), sources=dict(data.get("sources") or {}),
                       versions={str(k): str(v) for k, v in (data.get("versions") or {}).items()},
                       renders=renders)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UserError(f"{file}: incomplete lock file ({exc})",
                            hint="Run `mixgraph lock` to write it again.") from None


def _render_key(variant: str) -> str:
    return "session" if not variant else f"variant:{variant}"


def read_lock(path: str | Path) -> Lock | None:
    p = Path(path)
    if not p.exists():
        return None
    if not p.is_file():
        raise UserError(f"{p}: the lock is not a regular file", hint="Remove it, then run `mixgraph lock`.")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{p}: cannot read the lock file ({exc.__class__.__name__}: {exc})",
                        hint="Run `mixgraph lock` to write it again.") from None
    return Lock.from_text(text, str(p))


def write_lock(lock: Lock, path: str | Path) -> None:
    write_text(path, lock.to_text())


def source_files(plan: RenderPlan) -> dict[str, str]:
    """Lock key (path relative to the session folder, '/' separators) -> absolute path."""
    out = {}
    paths = [n.source.path for n in plan.nodes if n.source]
    if plan.master.source:
        paths.append(plan.master.source.path)
    base = Path(plan.session_dir)
    for p in paths:
        try:
            key = Path(p).resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            key = Path(p).resolve().as_posix()
        out[key] = p
    return dict(sorted(out.items()))


def source_entries(plan: RenderPlan) -> dict[str, dict[str, Any]]:
    from mixgraph.audio.compare import describe, file_sha256

    out = {}
    for key, p in source_files(plan).items():
        entry = {"sha256": file_sha256(p)}
        entry.update(describe(p))
        out[key] = entry
    return out


def build_lock(session_path: str | Path, previous: Lock | None = None) -> tuple[Lock, bool]:
    """A lock for the session as it is now; output hashes of ``previous`` are kept when the
    sources and the session are unchanged. Returns (lock, kept_outputs)."""
    r = resolve_plan(session_path)
    plan, shash = r.plan, r.session_hash
    lock = Lock(session=Path(session_path).name, session_sha256=shash, plan_sha256=plan.plan_hash(),
                sources=source_entries(plan), versions=library_versions())
    kept = False
    if previous is not None and previous.session_sha256 == lock.session_sha256 \
            and _hashes(previous.sources) == _hashes(lock.sources):
        lock.renders = previous.renders
        kept = bool(previous.renders)
    return lock, kept


def _hashes(sources: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {k: str(v.get("sha256")) for k, v in sources.items()}


@dataclass
class LockCheck:
    """How the session as it is now compares with its lock."""

    lock: Lock | None
    changed_sources: list[str] = field(default_factory=list)  # "kick.flac: sha256 abc… -> def…"
    session_changed: bool = False
    version_changes: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return self.lock is not None and not self.changed_sources and not self.session_changed

    def problems(self) -> list[str]:
        out = list(self.changed_sources)
        if self.session_changed:
            out.append("the session changed since it was locked (its resolved sha256 differs)")
        return out


def check_lock(session_path: str | Path, plan: RenderPlan | None = None, session_sha256: str | None = None,
               lock: Lock | None = None) -> LockCheck:
    """Compare the sources, the session and the library versions with ``SESSION.lock``."""
    if lock is None:
        lock = read_lock(lock_path(session_path))
    if lock is None:
        return LockCheck(None)
    if plan is None or session_sha256 is None:
        r = resolve_plan(session_path)
        plan, session_sha256 = r.plan, r.session_hash
    from mixgraph.audio.compare import file_sha256

    check = LockCheck(lock)
    current = source_files(plan)
    for key in sorted(set(current) | set(lock.sources)):
        if key not in current:
            check.changed_sources.append(f"{key}: locked but no longer used by the session")
        elif key not in lock.sources:
            check.changed_sources.append(f"{key}: new source, not in the lock")
        else:
            now = file_sha256(current[key])
            was = str(lock.sources[key].get("sha256"))
            if now != was:
                check.changed_sources.append(f"{key}: sha256 {was[:12]}… in the lock, {now[:12]}… now")
    base_hash = session_sha256
    if plan.variant is not None:
        base_hash = resolve_plan(session_path).session_hash
    check.session_changed = base_hash != lock.session_sha256
    now_versions = library_versions()
    for lib, was in sorted(lock.versions.items()):
        if now_versions.get(lib) != was:
            check.version_changes.append(f"{lib} {was} in the lock, {now_versions.get(lib, 'missing')} now")
    return check


def record_outputs(lock: Lock, variant: str | None, session_sha256: str, plan_sha256: str,
                   outputs: dict[str, str]) -> bool:
    """Store a render's output sample hashes in ``lock``; True when that changed it."""
    key = variant or ""
    entry = {"session_sha256": session_sha256, "plan_sha256": plan_sha256,
             "outputs": dict(sorted(outputs.items()))}
    if lock.renders.get(key) == entry:
        return False
    lock.renders[key] = entry
    return True


def prepare_render(session_path: str | Path, *, locked: bool) -> LockCheck | None:
    """The lock check before a render: None without a lock; with ``locked``, a UserError (nothing
    rendered) when there is no lock or the session or a source differs from it."""
    lpath = lock_path(session_path)
    lock = read_lock(lpath)
    if locked and lock is None:
        raise UserError(f"{lpath}: no lock file, and --locked renders only what a lock recorded",
                        hint=f"Run `mixgraph lock {session_path}` first.")
    if lock is None:
        return None
    check = check_lock(session_path, lock=lock)
    if locked and not check.matches:
        raise UserError(f"{session_path} differs from {lpath}; nothing was rendered:\n  "
                        + "\n  ".join(check.problems()),
                        hint=f"Restore the files, or run `mixgraph lock {session_path}` to accept the changes.")
    return check


def lock_recorder(session_path: str | Path, check: LockCheck | None):
    """The render's ``extra_files``: the lock with this render's output hashes, committed with the
    render's other files; None when the lock is not to be updated (no lock, or it differs)."""
    if check is None or not check.matches or check.lock is None:
        return None
    lock = check.lock

    def extra(result) -> dict[Path, str]:
        changed = record_outputs(lock, result.variant, result.session_hash, result.plan.plan_hash(),
                                 {o.written.name: o.written.sha256 for o in result.outputs})
        return {lock_path(session_path): lock.to_text()} if changed else {}

    return extra


def update_lock(session_path: str | Path) -> tuple[Lock, Lock | None, bool, bool]:
    """``mixgraph lock``: (the lock as it is now, the previous one, whether the file changed,
    whether the recorded output hashes were kept); writes the file only when it changed."""
    path = lock_path(session_path)
    previous = read_lock(path)
    lock, kept = build_lock(session_path, previous)
    changed = previous is None or previous.to_text() != lock.to_text()
    if changed:
        write_lock(lock, path)
    return lock, previous, changed, kept

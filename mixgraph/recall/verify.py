"""``mixgraph verify``: re-render a locked session and say whether the bits came back.

The render goes to a temporary folder (the user's renders are never touched). Each output's
sample hash is compared with the one the lock recorded; when they differ and the locked render is
still on disk (its samples hash to the locked value), the two files are nulled against each other
so the answer is a number: the largest sample difference and the residual level in dBFS.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mixgraph.errors import UserError
from mixgraph.recall.lock import LockCheck, check_lock, lock_path, read_lock


@dataclass
class OutputVerdict:
    name: str
    locked_sha256: str | None
    new_sha256: str | None
    #: the locked render on disk, when its samples still hash to the locked value
    reference: str | None = None
    max_diff_dbfs: float | None = None
    null_rms_dbfs: float | None = None
    frames: tuple[int, int] | None = None  # (locked file, new render) when both are known
    note: str | None = None

    @property
    def identical(self) -> bool:
        return self.locked_sha256 is not None and self.locked_sha256 == self.new_sha256


@dataclass
class Verification:
    session: str
    variant: str | None
    check: LockCheck
    outputs: list[OutputVerdict] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return bool(self.outputs) and all(o.identical for o in self.outputs)

    def to_dict(self) -> dict:
        return {
            "session": self.session,
            "variant": self.variant,
            "identical": self.identical,
            "source_changes": self.check.changed_sources,
            "session_changed": self.check.session_changed,
            "version_changes": self.check.version_changes,
            "outputs": [
                {"name": o.name, "identical": o.identical, "locked_sha256": o.locked_sha256,
                 "new_sha256": o.new_sha256, "reference": o.reference, "max_diff_dbfs": o.max_diff_dbfs,
                 "null_rms_dbfs": o.null_rms_dbfs,
                 "frames": list(o.frames) if o.frames else None, "note": o.note}
                for o in self.outputs
            ],
        }


def verify_session(session_path: str | Path, variant: str | None = None, *, block_size: int | None = None,
                   jobs: int | None = None, progress: Callable[[str, float], None] | None = None) -> Verification:
    from mixgraph.api.plan import resolve_plan
    from mixgraph.api.render import render_session
    from mixgraph.audio.compare import null_test, samples_sha256

    lp = lock_path(session_path)
    lock = read_lock(lp)
    if lock is None:
        raise UserError(f"{lp}: no lock file to verify against",
                        hint=f"Run `mixgraph lock {session_path}` and render once to record the outputs.")
    entry = lock.renders.get(variant or "")
    if not entry or not entry.get("outputs"):
        what = f"variant '{variant}'" if variant else "the session"
        raise UserError(f"{lp}: no output hashes recorded for {what}",
                        hint="Render it once after `mixgraph lock`; render records the hashes in the lock.")
    r = resolve_plan(session_path, variant)
    plan, file, shash = r.plan, r.file, r.session_hash
    check = check_lock(session_path, plan, shash, lock=lock)
    result = Verification(file, variant, check)
    locked: dict[str, str] = dict(entry["outputs"])
    with tempfile.TemporaryDirectory(prefix="mixgraph-verify-") as tmp:
        rendered = render_session(session_path, variant=variant, out_dir=tmp, block_size=block_size, jobs=jobs,
                                  progress=progress, node_meters=False, report_files=False)
        new = {o.written.name: o.written for o in rendered.outputs}
        for name in sorted(set(locked) | set(new)):
            v = OutputVerdict(name, locked.get(name), new[name].sha256 if name in new else None)
            result.outputs.append(v)
            if v.identical:
                continue
            if name not in new:
                v.note = "in the lock but no longer an output of the session"
                continue
            if name not in locked:
                v.note = "a new output, not in the lock"
                continue
            ref = r.files.audio[name]
            if not ref.is_file():
                v.note = f"the locked render ({ref}) is not on disk, so there is nothing to null against"
                continue
            ref_sha = samples_sha256(ref)
            if ref_sha is None:
                v.note = ("a lossy file: compared decoded samples; the file on disk cannot be matched "
                          "to the locked hash")
            elif ref_sha != v.locked_sha256:
                v.note = (f"{ref} is not the locked render either (its samples hash differently), "
                          "so there is nothing to null against")
                continue
            nt = null_test(ref, new[name].path)
            v.reference = str(ref)
            v.max_diff_dbfs, v.null_rms_dbfs = nt.max_diff_dbfs, nt.null_rms_dbfs
            v.frames = (nt.frames_a, nt.frames_b)
    return result

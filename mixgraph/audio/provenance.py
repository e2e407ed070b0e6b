"""Provenance of every rendered file: where it came from, so a file found on a drive in a year can
be traced back to the session, the commit and the settings that made it.

Two places carry it:

* the file itself (``file_metadata``): title, software and a comment naming the session and plan
  hashes, with the session's release metadata (artist, album, year, ISRC...), written as WAV/AIFF
  INFO strings or FLAC/OGG Vorbis comments by libsndfile and as an ID3v2.4 tag in an MP3
  (``audio.tags``);
* a sidecar ``<output file>.json`` next to it (``sidecar_text``): the session and plan hashes,
  the git commit and dirty flag when the session lives in a git repository, the mixgraph version,
  the sha256 of the samples, the achieved loudness and true peak, and for a master output the
  gain reduction of each dynamics processor of the master chain that made it.

Nothing here has a clock in it: the same render writes the same sidecar bytes.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mixgraph.graph.plan import RenderPlan
from mixgraph.version import __version__

SIDECAR_VERSION = 2
#: a processor whose largest gain reduction stays under this never acted (as in the report)
NEVER_ACTED_DB = 0.05


def file_metadata(plan: RenderPlan, session_sha256: str | None) -> dict[str, str]:
    """Strings written into every output file: soundfile attribute names, plus ``isrc`` (which
    ``audio.tags`` writes); the session's ``release`` fields when it has them."""
    parts = [f"mixgraph {__version__}"]
    if session_sha256:
        parts.append(f"session sha256:{session_sha256}")
    parts.append(f"plan sha256:{plan.plan_hash()}")
    if plan.variant:
        parts.append(f"variant {plan.variant}")
    meta = {"title": plan.session_name, "software": f"mixgraph {__version__}", "comment": "; ".join(parts)}
    r = plan.release
    if r is not None:
        release = {"title": r.title, "artist": r.artist, "album": r.album, "genre": r.genre,
                   "copyright": r.copyright, "isrc": r.isrc,
                   "date": None if r.year is None else str(r.year),
                   "tracknumber": None if r.track_number is None else str(r.track_number)}
        meta.update({k: v for k, v in release.items() if v is not None})
    return meta


def git_info(folder: str | Path) -> dict[str, Any] | None:
    """{"commit": sha, "dirty": bool} of the repository holding ``folder``; None outside git.

    Dirty means a tracked file under ``folder`` (the session, its templates and sources) differs
    from the commit; untracked and git-ignored files (renders) do not count.
    """
    folder = str(folder)
    try:
        head = subprocess.run(["git", "-C", folder, "rev-parse", "--verify", "-q", "HEAD"],
                              capture_output=True, text=True, timeout=20)
        if head.returncode != 0:
            return None
        status = subprocess.run(["git", "-C", folder, "status", "--porcelain", "--untracked-files=no", "--", "."],
                                capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    if status.returncode != 0:
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def sidecar_text(plan: RenderPlan, *, session_file: str | None, session_sha256: str | None, written: Any,
                 meter: Any, git: dict[str, Any] | None, gain_reduction: Sequence[Any] | None = None) -> str:
    """The JSON of ``<output>.json`` for one written output (``audio.writer.WrittenOutput``) and the
    meter of the file as written (``meter.MeterResult``).

    ``gain_reduction``: the master chain's ``render.engine.GainReductionStat`` list of the pass that
    wrote this file (a master output); ``master_chain_gain_reduction`` is null without it."""
    w, m = written, meter
    data: dict[str, Any] = {
        "sidecar_version": SIDECAR_VERSION,
        "mixgraph_version": __version__,
        "session": None if session_file is None else Path(session_file).name,
        "variant": plan.variant,
        "session_sha256": session_sha256,
        "plan_sha256": plan.plan_hash(),
        "git": git,
        "output": {
            "name": w.name,
            "file": Path(w.path).name,
            "tap": w.tap,
            "format": w.format,
            "sample_rate": w.sample_rate,
            "bit_depth": w.bit_depth,
            "frames": w.frames,
            "sha256_samples": w.sha256,
            # a lossy file: its bitrate and the gain it was encoded with to decode under its ceiling
            "bitrate_kbps": getattr(w, "bitrate_kbps", None),
            "codec_gain_db": _round(getattr(w, "codec_gain_db", 0.0)),
        },
        "integrated_lufs": _round(m.integrated_lufs),
        "true_peak_dbtp": _round(m.true_peak_dbtp),
        "loudness_target_lufs": _target(plan, w),
        "master_chain_gain_reduction": None if gain_reduction is None else [_gr(g) for g in gain_reduction],
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _target(plan: RenderPlan, w: Any) -> float | None:
    """A master file's loudness target: its own (an output may carry one), else the master's."""
    if w.tap != "master":
        return None
    own = next((o.loudness for o in plan.outputs if o.name == w.name and o.loudness is not None), None)
    lp = own or plan.master.loudness
    return None if lp is None else lp.target_lufs


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 3)


def _gr(g: Any) -> dict[str, Any]:
    """One processor's gain reduction over the file, dB (max, mean over all samples), and a
    multiband's bands, low band first."""
    d: dict[str, Any] = {"kind": g.kind, "id": g.id, "index": g.index, "max_db": _round(g.max_db),
                         "mean_db": _round(g.mean_db), "never_acted": g.max_db < NEVER_ACTED_DB}
    bands = getattr(g, "bands", ()) or ()
    if bands:
        d["bands"] = [_gr(b) for b in bands]
    return d

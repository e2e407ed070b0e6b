"""Master-only jobs: take a finished mix file to a loudness target and a true-peak ceiling."""

from __future__ import annotations

import os
from pathlib import Path

from mixgraph.errors import UserError
from mixgraph.session.models import Session
from mixgraph.session.validate import PRESETS


def master_session(mix: str | Path, out: str | Path, *, target_lufs: float | None = None,
                   ceiling_dbtp: float | None = None, preset: str | None = None, bit_depth: int | str = 24,
                   sample_rate: int | None = None, lookahead_ms: float = 5.0, release_ms: float = 60.0) -> Session:
    """A master-only session: the mix file is the premaster; the chain is one true-peak limiter."""
    from mixgraph.render.reader import open_audio

    if preset is not None and preset not in PRESETS:
        raise UserError(f"Unknown preset '{preset}'.", hint=f"Use one of: {', '.join(PRESETS)}.")
    p_target, p_ceiling = PRESETS.get(preset or "streaming")
    target = p_target if target_lufs is None else target_lufs
    ceiling = p_ceiling if ceiling_dbtp is None else ceiling_dbtp
    with open_audio(mix) as r:
        rate = r.sample_rate
    mix_abs = os.path.abspath(mix)
    out_abs = os.path.abspath(out)
    if mix_abs == out_abs:
        raise UserError("The output would overwrite the mix.", hint="Give the master its own file name.")
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(out).stem.lower()).strip("-_") or "master"
    return Session.model_validate({
        "mixgraph": 1, "name": name[:64], "sample_rate": rate,
        "master": {"source": mix_abs,
                   "chain": [{"type": "limiter", "ceiling_dbtp": ceiling, "lookahead_ms": lookahead_ms,
                              "release_ms": release_ms}],
                   "loudness": {"target_lufs": target, "ceiling_dbtp": ceiling}},
        "outputs": {"master": {"path": out_abs, "bit_depth": bit_depth, "sample_rate": sample_rate}},
    })


def master_file(mix: str | Path, out: str | Path, **options):
    """Master ``mix`` into ``out``; returns the RenderResult (with the report data)."""
    from mixgraph.api.render import render_session
    from mixgraph.graph.compile import compile_session

    session = master_session(mix, out, **options)
    plan = compile_session(session, session_dir=Path(out).resolve().parent)
    return render_session(plan, node_meters=False)

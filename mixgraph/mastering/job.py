"""Master-only jobs: a finished mix file as the premaster of a session whose chain is one
true-peak limiter, taken to a loudness target."""

from __future__ import annotations

import math
import os
from pathlib import Path

from mixgraph.audio.reader import open_audio
from mixgraph.errors import UserError, printable
from mixgraph.mastering.presets import PRESETS
from mixgraph.session.models import Session


def _finite(name: str, value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise UserError(f"{name} must be a finite number (got {value}).")


def master_session(mix: str | Path, out: str | Path, *, target_lufs: float | None = None,
                   ceiling_dbtp: float | None = None, preset: str | None = None, bit_depth: int | str = 24,
                   sample_rate: int | None = None, lookahead_ms: float = 5.0, release_ms: float = 60.0) -> Session:
    """The master-only session of ``mix`` written to ``out``."""
    if preset is not None and preset not in PRESETS:
        raise UserError(f"Unknown preset '{printable(preset)}'.", hint=f"Use one of: {', '.join(PRESETS)}.")
    for name, value in (("--target-lufs", target_lufs), ("--ceiling-dbtp", ceiling_dbtp)):
        _finite(name, value)
    p = PRESETS[preset or "streaming"]
    target = p.target_lufs if target_lufs is None else target_lufs
    ceiling = p.ceiling_dbtp if ceiling_dbtp is None else ceiling_dbtp
    if os.path.isdir(out) or str(out).endswith(("/", os.sep)):
        raise UserError(f"{printable(str(out))} is a folder; name the master file to write (-o folder/master.wav).")
    with open_audio(mix) as r:
        rate = r.sample_rate
    mix_abs = os.path.abspath(mix)
    out_abs = os.path.abspath(out)
    if os.path.realpath(mix_abs) == os.path.realpath(out_abs):
        raise UserError("The output would overwrite the mix.", hint="Give the master its own file name.")
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(out).stem.lower()).strip("-_") or "master"
    from pydantic import ValidationError

    try:
        return Session.model_validate({
            "mixgraph": 1, "name": name[:64], "sample_rate": rate,
            "master": {"source": mix_abs,
                       "chain": [{"type": "limiter", "ceiling_dbtp": ceiling, "lookahead_ms": lookahead_ms,
                                  "release_ms": release_ms}],
                       "loudness": {"target_lufs": target, "ceiling_dbtp": ceiling}},
            "outputs": {"master": {"path": out_abs, "bit_depth": bit_depth, "sample_rate": sample_rate}},
        })
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise UserError(f"Cannot master with these settings: {where}: {first['msg']}") from None

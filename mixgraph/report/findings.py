"""Plain-language findings an engineer acts on, each with a severity and its numbers.

``find(mix, master, nodes, outputs, ceiling_dbtp=...)`` reads meter readings
(``MeterResult`` or anything with its attributes), node levels and output infos of
``mixgraph.report.model``. ``master`` is None when the session has no master stage.
Every threshold is a named constant below.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

#: a master quieter than this (integrated) is still at mix level; release masters sit around -14..-7 LUFS
UNMASTERED_BELOW_LUFS = -16.0
#: a track bus or return peaking above this before the master is clipping (a float bus does not clip,
#: but any converter, plug-in or fixed-point export of that bus will)
BUS_PEAK_LIMIT_DBFS = 0.0
#: the ceiling used when the session sets no loudness target (the usual streaming delivery ceiling)
DEFAULT_CEILING_DBTP = -1.0
#: loudness range (EBU Tech 3342) under this is squashed
SQUASHED_LRA_LU = 4.0
#: the mono fold-down losing more than this much loudness (or a negative correlation) is poor mono compatibility
MONO_LOSS_LU = 3.0
MIN_CORRELATION = 0.0
#: share of the total (unweighted) power below 250 Hz (the meter's "sub" + "low" bands), dB re total;
#: outside this range the low end is too thin or too heavy (a coarse heuristic: 20 % .. 85 % of the power)
LOW_END_RANGE_DB = (-7.0, -0.7)
#: peak-to-loudness ratio (true peak - integrated) under this is over-limited
OVER_LIMITED_PLR_DB = 6.0

SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Finding:
    severity: str  # "critical" (a deliverable problem) | "warning" (fix before release) | "info"
    code: str  # stable identifier: "unmastered", "not-a-master", "bus-clipping", "true-peak", ...
    subject: str  # what it is about: "master", "mix", "bus:drums", an output name
    text: str
    figures: dict[str, float | int | None] = field(default_factory=dict)  # the numbers behind the text


def low_end_share_db(bands: dict[str, float]) -> float | None:
    """Power share of the 'sub' + 'low' bands (each dB re total), dB re total."""
    if not bands or "sub" not in bands or "low" not in bands:
        return None
    p = 10.0 ** (bands["sub"] / 10.0) + 10.0 ** (bands["low"] / 10.0)
    return 10.0 * math.log10(p) if p > 0 else None


def _loudness_checks(m, subject: str) -> list[Finding]:
    out = []
    lra = m.lra_lu
    if lra is not None and lra < SQUASHED_LRA_LU:
        out.append(Finding("warning", "squashed", subject,
                           f"The {subject} has a loudness range of {lra:.1f} LU, under {SQUASHED_LRA_LU:g} LU: "
                           "the dynamics are squashed. Ease off bus compression or limiting.",
                           {"lra_lu": lra, "threshold_lu": SQUASHED_LRA_LU}))
    plr = m.plr_db
    if plr is not None and plr < OVER_LIMITED_PLR_DB:
        out.append(Finding("warning", "over-limited", subject,
                           f"The {subject} has a peak-to-loudness ratio of {plr:.1f} dB, under "
                           f"{OVER_LIMITED_PLR_DB:g} dB: it is over-limited and transients are flattened. "
                           "Lower the loudness target or limiter drive.",
                           {"plr_db": plr, "threshold_db": OVER_LIMITED_PLR_DB}))
    mono, corr = m.mono_loudness_diff_lu, m.correlation
    bad_mono = mono is not None and mono < -MONO_LOSS_LU
    bad_corr = corr is not None and corr < MIN_CORRELATION
    if bad_mono or bad_corr:
        why = []
        if bad_mono:
            why.append(f"the mono fold-down is {-mono:.1f} LU quieter (more than {MONO_LOSS_LU:g} LU)")
        if bad_corr:
            why.append(f"the stereo correlation is {corr:+.2f} (below {MIN_CORRELATION:g})")
        out.append(Finding("warning", "mono", subject,
                           f"Poor mono compatibility of the {subject}: " + " and ".join(why)
                           + ". Check for phase-inverted or wide-stereo parts, especially in the low end.",
                           {"mono_loudness_diff_lu": mono, "correlation": corr,
                            "threshold_lu": -MONO_LOSS_LU, "min_correlation": MIN_CORRELATION}))
    low = low_end_share_db(dict(m.spectral_balance_db or {}))
    if low is not None:
        lo, hi = LOW_END_RANGE_DB
        pct = 100.0 * 10.0 ** (low / 10.0)
        if low > hi:
            out.append(Finding("info", "low-end-heavy", subject,
                               f"Much low end in the {subject}: below 250 Hz holds {pct:.0f} % of the power "
                               f"({low:.1f} dB re total; above {hi:g} dB is heavy). Check kick/bass levels and "
                               "sub-bass build-up.",
                               {"low_end_share_db": low, "max_db": hi}))
        elif low < lo:
            out.append(Finding("info", "low-end-thin", subject,
                               f"Thin low end in the {subject}: below 250 Hz holds only {pct:.0f} % of the power "
                               f"({low:.1f} dB re total; under {lo:g} dB is thin). Check high-pass filters "
                               "and the bass level.",
                               {"low_end_share_db": low, "min_db": lo}))
    return out


def find(mix, master, nodes: Iterable = (), outputs: Iterable = (), *,
         ceiling_dbtp: float | None = None) -> list[Finding]:
    """All findings, most severe first (stable order within a severity)."""
    out: list[Finding] = []
    mastered = master is not None
    final, subject = (master, "master") if mastered else (mix, "mix print")
    ceiling = DEFAULT_CEILING_DBTP if ceiling_dbtp is None else ceiling_dbtp

    i = final.integrated_lufs
    if i is not None and i < UNMASTERED_BELOW_LUFS:
        if mastered:
            out.append(Finding("warning", "unmastered", "master",
                               f"The master sits at {i:.1f} LUFS integrated: it is a mix level, not a master "
                               f"(below {UNMASTERED_BELOW_LUFS:g} LUFS; streaming plays at -14). Set a loudness "
                               "target on the master or raise its limiter drive.",
                               {"integrated_lufs": i, "threshold_lufs": UNMASTERED_BELOW_LUFS}))
        else:
            out.append(Finding("warning", "not-a-master", "mix print",
                               f"The mix print sits at {i:.1f} LUFS integrated and the session has no master "
                               "stage: this is not a master. Add a master chain with a limiter and a loudness "
                               "target before release.",
                               {"integrated_lufs": i, "threshold_lufs": UNMASTERED_BELOW_LUFS}))

    for n in nodes:
        if n.kind not in ("bus", "return"):
            continue
        peak = n.sample_peak_dbfs
        over = peak is not None and math.isfinite(peak) and peak > BUS_PEAK_LIMIT_DBFS
        if n.clipped_samples > 0 or over:
            out.append(Finding("critical", "bus-clipping", n.node,
                               f"{n.node} clips before the master: peak {peak:+.1f} dBFS, {n.clipped_samples} "
                               "samples at or over full scale. Pull its fader (or its inputs) down by at least "
                               f"{max(peak, 0.0) + 0.5:.1f} dB.",
                               {"sample_peak_dbfs": peak, "clipped_samples": n.clipped_samples,
                                "limit_dbfs": BUS_PEAK_LIMIT_DBFS}))

    if mastered:
        tp = master.true_peak_dbtp
        if tp is not None and math.isfinite(tp) and tp > ceiling + 1e-9:
            out.append(Finding("critical", "true-peak", "master",
                               f"The master's true peak is {tp:+.2f} dBTP, over the {ceiling:g} dBTP ceiling "
                               f"by {tp - ceiling:.2f} dB: lossy encodes and converters will clip.",
                               {"true_peak_dbtp": tp, "ceiling_dbtp": ceiling}))
        for o in outputs:
            if o.tap != "master" or o.format in ("ogg", "mp3"):
                continue  # a lossy preview's codec overshoot is not a deliverable's ceiling
            otp = o.true_peak_dbtp
            if otp is not None and math.isfinite(otp) and otp > ceiling + 1e-9:
                out.append(Finding("critical", "true-peak", o.name,
                                   f"Output '{o.name}' ({o.path}) has a true peak of {otp:+.2f} dBTP, over the "
                                   f"{ceiling:g} dBTP ceiling.",
                                   {"true_peak_dbtp": otp, "ceiling_dbtp": ceiling}))

    out.extend(_loudness_checks(final, subject))
    return sorted(out, key=lambda f: SEVERITIES.index(f.severity))

"""Plain-language findings an engineer acts on, each with a severity and its numbers.

``find(mix, master, nodes, outputs, ceiling_dbtp=..., loudness=..., master_chain=...)`` reads meter
readings (``MeterResult`` or anything with its attributes), node levels, output infos, the
loudness solve and the master chain's gain reduction of ``mixgraph.report.model``. ``master`` is
None when the session has no master stage. Every threshold is a named constant below.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

#: a master with no loudness target quieter than this (integrated) is still at mix level; release
#: masters sit around -14..-7 LUFS. A master that met an explicit target (-16 Apple, -23 EBU R128)
#: is mastered whatever its level.
UNMASTERED_BELOW_LUFS = -16.0
#: a track bus or return peaking above this before the master is clipping (a float bus does not clip,
#: but any converter, plug-in or fixed-point export of that bus will)
BUS_PEAK_LIMIT_DBFS = 0.0
#: the ceiling used when the session sets no loudness target (the usual streaming delivery ceiling)
DEFAULT_CEILING_DBTP = -1.0
#: loudness range (EBU Tech 3342) under this is squashed
SQUASHED_LRA_LU = 4.0
#: LRA is the 10th..95th percentile spread of 3 s short-term values: under 30 s of programme there
#: are fewer than ten independent (non-overlapping) 3 s windows, so each percentile is set by one or
#: two phrases rather than by the programme's dynamics, and the figure is not judged
MIN_LRA_PROGRAMME_S = 30.0
#: the shortest programme each figure needs: its window (BS.1770 400 ms block, EBU 3 s short-term)
MIN_PROGRAMME_S = {"integrated_lufs": 0.4, "momentary_max_lufs": 0.4, "plr_db": 0.4,
                   "short_term_max_lufs": 3.0, "lra_lu": MIN_LRA_PROGRAMME_S}
#: the mono fold-down losing more than this much loudness (or a negative correlation) is poor mono compatibility
MONO_LOSS_LU = 3.0
MIN_CORRELATION = 0.0
#: share of the total (unweighted) power below 250 Hz (the meter's "sub" + "low" bands), dB re total;
#: outside this range the low end is too thin or too heavy (a coarse heuristic: 20 % .. 85 % of the power)
LOW_END_RANGE_DB = (-7.0, -0.7)
#: peak-to-loudness ratio (true peak - integrated) under this is over-limited
OVER_LIMITED_PLR_DB = 6.0
#: input gain into the master chain above this: a mix printed with the usual headroom (about
#: -20 LUFS) reaches even a -9 LUFS club target with 11 dB, so more means the mix itself is too
#: quiet, and its noise floor, tails and hum come up by as much
LARGE_INPUT_GAIN_DB = 20.0
#: per-second peak gain reduction above which a master processor is working hard: past ~3 dB of
#: limiting transients audibly dull, past ~4 dB of bus compression the master pumps (1-2 dB is usual)
HARD_GR_DB = {"limiter": 3.0, "clipper": 3.0, "compressor": 4.0, "multiband": 4.0}
#: ... for more than this share of the programme's seconds: working hard throughout, not on a few hits
HARD_SHARE = 0.5
#: a multiband band with this share of the bands' summed mean gain reduction does most of the work:
#: the multiband acts as a one-band compressor (a static EQ or a plain compressor would do)
BAND_SHARE = 0.75
#: ... when that band's mean gain reduction is at least this (less is not work worth naming)
BAND_MIN_MEAN_DB = 1.0
#: a processor whose largest gain reduction stays under this never acted (far below audibility,
#: and under the report's 0.01 dB rounding of a mean)
NEVER_ACTED_DB = 0.05

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


def measured_seconds(m) -> float:
    """Seconds of programme a reading's windowed figures rest on: its duration, or, when its
    short-term series (1 value per step, the first 3 s window complete at 3 s) covers the whole
    programme, the span of the values above the -70 LUFS absolute gate (silence does not count)."""
    dur = float(m.duration_s or 0.0)
    series = tuple(getattr(m, "short_term_series", ()) or ())
    step = float(getattr(m, "series_step_s", 1.0) or 1.0)
    if series and len(series) * step >= dur - step:
        gated = sum(1 for v in series if v is not None and v > -70.0)
        return min(dur, gated * step + (3.0 - step)) if gated else 0.0
    return dur


def too_short(m) -> dict[str, str]:
    """Figure -> "too short to measure (...)" for each figure the programme is too short for."""
    if m is None:
        return {}
    dur, gated = float(m.duration_s or 0.0), measured_seconds(m)
    out = {}
    for key, need in MIN_PROGRAMME_S.items():
        have = gated if key == "lra_lu" else dur
        if have < need:
            what = f"{have:.1f} s above the gate" if key == "lra_lu" and have < dur else f"{dur:.1f} s"
            out[key] = f"too short to measure ({what}; needs {need:g} s)"
    return out


def acted(g) -> bool:
    """Whether a processor (a ``GainReduction``) ever reduced the gain by ``NEVER_ACTED_DB`` or more."""
    return g.max_db is not None and g.max_db >= NEVER_ACTED_DB


def hard_share(g) -> float | None:
    """Share of the whole seconds in which processor ``g`` peaked above its ``HARD_GR_DB``."""
    thr = HARD_GR_DB.get(g.kind)
    ps = tuple(getattr(g, "per_second", ()) or ())
    if thr is None or not ps:
        return None
    return sum(1 for v in ps if v > thr) / len(ps)


def dominant_band(g) -> tuple[int, float] | None:
    """(band index, its share of the bands' summed mean gain reduction) of a multiband's busiest band."""
    bands = tuple(getattr(g, "bands", ()) or ())
    total = sum(b.mean_db for b in bands)
    if not bands or total <= 0:
        return None
    k = max(range(len(bands)), key=lambda i: bands[i].mean_db)
    return k, bands[k].mean_db / total


def band_range(g, k: int) -> str:
    xs = tuple(getattr(g, "crossovers_hz", ()) or ())
    if not xs:
        return f"band {k + 1}"

    def hz(f: float) -> str:
        return f"{f / 1000:g} kHz" if f >= 1000 else f"{f:g} Hz"

    if k == 0:
        return f"band 1, below {hz(xs[0])}"
    if k >= len(xs):
        return f"band {k + 1}, above {hz(xs[-1])}"
    return f"band {k + 1}, {hz(xs[k - 1])} - {hz(xs[k])}"


def _name(g) -> str:
    return g.kind + (f" '{g.processor_id}'" if getattr(g, "processor_id", None) else "")


def _loudness_checks(m, subject: str) -> list[Finding]:
    out = []
    lra = m.lra_lu
    if lra is not None and lra < SQUASHED_LRA_LU and "lra_lu" not in too_short(m):
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


def _chain_checks(chain: Iterable, subject: str, output: str | None = None) -> list[Finding]:
    """A master processor working hard most of the time; a multiband whose one band does the work.
    ``output``: the master file whose own pass these figures are (the finding's subject)."""
    out = []
    for g in chain:
        share = hard_share(g)
        if subject == "master" and share is not None and share > HARD_SHARE:
            thr = HARD_GR_DB[g.kind]
            n = len(g.per_second)
            whose = f"master {_name(g)} of output '{output}'" if output else f"master {_name(g)}"
            out.append(Finding("warning", "chain-works-hard", output or subject,
                               f"The {whose} reduces the gain by more than {thr:g} dB in "
                               f"{share * 100:.0f} % of the seconds ({round(share * n)} of {n}; peak "
                               f"{g.max_db:.1f} dB, mean {g.mean_db:.1f} dB): it works hard throughout, "
                               "not on a few peaks. Lower the loudness target or this stage's drive, or "
                               "control the peaks in the mix.",
                               {"share": share, "threshold_db": thr, "max_share": HARD_SHARE,
                                "max_db": g.max_db, "mean_db": g.mean_db, "seconds": n}))
        dom = dominant_band(g) if g.kind == "multiband" else None
        if dom is not None:
            k, bshare = dom
            b = g.bands[k]
            if bshare >= BAND_SHARE and b.mean_db >= BAND_MIN_MEAN_DB:
                where = "the master" if subject == "master" else subject
                out.append(Finding("info", "multiband-one-band", subject,
                                   f"The {_name(g)} on {where} does {bshare * 100:.0f} % of its work in "
                                   f"{band_range(g, k)} (mean {b.mean_db:.1f} dB, peak {b.max_db:.1f} dB): "
                                   "it acts as a one-band compressor there. A static EQ cut or a plain "
                                   "compressor on that range would do the same with fewer crossovers.",
                                   {"band": k, "share": bshare, "mean_db": b.mean_db, "max_db": b.max_db,
                                    "min_share": BAND_SHARE, "min_mean_db": BAND_MIN_MEAN_DB}))
    return out


def find(mix, master, nodes: Iterable = (), outputs: Iterable = (), *, ceiling_dbtp: float | None = None,  # noqa: C901 (a list of independent checks, each a few lines; split, they would only pass the same arguments around)
         loudness=None, master_chain: Iterable = ()) -> list[Finding]:
    """All findings, most severe first (stable order within a severity).

    ``loudness``: the loudness solve (``LoudnessInfo``) when the session sets a target; a master
    that met it is mastered whatever its level. ``master_chain``: the master chain's
    ``GainReduction`` entries."""
    out: list[Finding] = []
    mastered = master is not None
    final, subject = (master, "master") if mastered else (mix, "mix print")
    ceiling = DEFAULT_CEILING_DBTP if ceiling_dbtp is None else ceiling_dbtp
    nodes = tuple(nodes)

    i = final.integrated_lufs
    if mastered and loudness is not None:
        got, goal, tol = loudness.achieved_lufs, loudness.target_lufs, loudness.tolerance_lu
        if got is not None and abs(got - goal) > tol + 1e-9:
            out.append(Finding("warning", "off-target", "master",
                               f"The master sits at {got:.1f} LUFS integrated, off its {goal:g} LUFS target by "
                               f"{got - goal:+.1f} LU (tolerance {tol:g} LU).",
                               {"integrated_lufs": got, "target_lufs": goal, "tolerance_lu": tol}))
        g = loudness.gain_db
        if g is not None and g > LARGE_INPUT_GAIN_DB:
            out.append(Finding("warning", "large-input-gain", "master",
                               f"The master needed {g:+.1f} dB of input gain to reach {goal:g} LUFS (more "
                               f"than {LARGE_INPUT_GAIN_DB:g} dB): the mix is printed far too quiet, and its "
                               "noise floor, reverb tails and hum come up by as much. Bring the mix up (faders "
                               "or bus gain) before the master stage.",
                               {"gain_db": g, "threshold_db": LARGE_INPUT_GAIN_DB, "target_lufs": goal}))
    elif i is not None and i < UNMASTERED_BELOW_LUFS:
        if mastered:
            out.append(Finding("warning", "unmastered", "master",
                               f"The master sits at {i:.1f} LUFS integrated with no loudness target: it is a "
                               f"mix level, not a master (below {UNMASTERED_BELOW_LUFS:g} LUFS; streaming plays "
                               "at -14). Set a loudness target on the master (a preset, or -23 for broadcast) "
                               "or raise its limiter drive.",
                               {"integrated_lufs": i, "threshold_lufs": UNMASTERED_BELOW_LUFS}))
        else:
            out.append(Finding("warning", "not-a-master", "mix print",
                               f"The mix print sits at {i:.1f} LUFS integrated and the session has no master "
                               "stage: this is not a master. Add a master chain with a limiter and a loudness "
                               "target before release.",
                               {"integrated_lufs": i, "threshold_lufs": UNMASTERED_BELOW_LUFS}))

    for n in nodes:
        if n.kind not in ("bus", "return") or getattr(n, "muted", False):
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
            if o.tap != "master":
                continue
            # every master file against its own ceiling (an output may carry one); an MP3 or Ogg
            # master is a deliverable too, its true peak measured on the file as decoded
            oc = getattr(o, "ceiling_dbtp", None)
            oc = ceiling if oc is None else oc
            otp = o.true_peak_dbtp
            if otp is not None and math.isfinite(otp) and otp > oc + 1e-9:
                how = " after decoding" if o.format in ("ogg", "mp3") else ""
                out.append(Finding("critical", "true-peak", o.name,
                                   f"Output '{o.name}' ({o.path}) has a true peak of {otp:+.2f} dBTP{how}, over "
                                   f"its {oc:g} dBTP ceiling.",
                                   {"true_peak_dbtp": otp, "ceiling_dbtp": oc}))

    out.extend(_loudness_checks(final, subject))
    if mastered:
        out.extend(_chain_checks(master_chain, "master"))
        master_chain = tuple(master_chain)
        for o in outputs:
            # a deliverable mastered in a pass of its own (another target or rate): its chain's
            # work is its own, e.g. a club master's limiter working hard where the streaming one rests
            grs = tuple(getattr(o, "gain_reduction", ()) or ())
            if o.tap == "master" and grs and grs != master_chain:
                out.extend(f for f in _chain_checks(grs, "master", o.name) if f.code == "chain-works-hard")
    for n in nodes:
        if not getattr(n, "muted", False):
            out.extend(_chain_checks(n.gain_reduction, n.node))
    return sorted(out, key=lambda f: SEVERITIES.index(f.severity))

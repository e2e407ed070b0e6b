"""The report of a render: one schema-versioned, JSON-able model, several renderings.

Inputs are plain data (the small dataclasses below), so the renderer, the API or a
test can build a report without this layer importing the API:

* :class:`SessionInfo`   - session name, file, variant and (optional) session hash
* :class:`Timing`        - wall-clock render time and audio duration (-> realtime factor)
* :class:`NodeLevels`    - one track / bus / return: peak, true peak, loudness, crest,
                           clipped samples and :class:`GainReduction` of each dynamics processor
* :class:`LoudnessInfo`  - the loudness-target solve of the master
* :class:`OutputInfo`    - one written file (format, rate, depth, loudness, true peak, sha256)
* :class:`Series`        - time series and spectra for the plots

``build_report(...)`` turns these (plus the premaster and master ``MeterResult``)
into a :class:`Report`; ``report_from_render(result)`` adapts a
``mixgraph.api.render.RenderResult`` (duck-typed). ``to_json`` is deterministic:
fixed key order, floats rounded (0.01 dB/LU, 0.001 for correlation), non-finite
numbers written as ``null``; everything that changes between two runs of the same
session (timestamps, timings, versions) lives only in the ``run`` section.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from mixgraph.report.findings import HARD_GR_DB, Finding, acted, find, hard_share, too_short
from mixgraph.report.platforms import PlatformRow, platform_table
from mixgraph.units import gain_to_db

SCHEMA_VERSION = 3

#: dynamics processors whose gain reduction the report lists
DYNAMICS_KINDS = ("compressor", "gate", "deesser", "limiter", "multiband", "clipper")
#: what the solver's ``max_gain_reduction_db`` budget counts (mixgraph.mastering.solver.Measurement)
BUDGET_COUNTS = "the largest gain reduction of the master limiter(s) only; compressors and other stages are not counted"

# rounding: digits after the point per quantity (0.01 dB / LU is below audibility and meter tolerance)
DB_DIGITS = 2
CORRELATION_DIGITS = 3
SECONDS_DIGITS = 3


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class SessionInfo:
    name: str
    file: str | None = None
    variant: str | None = None
    session_hash: str | None = None


@dataclass(frozen=True)
class Timing:
    render_seconds: float
    duration_s: float  # seconds of audio rendered
    started_at: str | None = None  # ISO 8601 UTC; filled in by build_report when None
    #: what came from the render cache: nodes_reused, nodes_rendered, mix, master, saved_s
    cache: dict | None = None

    @property
    def realtime_factor(self) -> float | None:
        return self.duration_s / self.render_seconds if self.render_seconds > 0 else None


@dataclass(frozen=True)
class GainReduction:
    kind: str  # processor kind ("compressor", "limiter", ...; "band" for a multiband's band)
    index: int  # position in the node's chain (a band: its number, low band 0)
    max_db: float  # largest gain reduction, dB (positive = reduction)
    mean_db: float  # mean over all samples, dB
    processor_id: str | None = None  # the processor's ``id`` in the session, if it has one
    per_second: Sequence[float] = ()  # the largest gain reduction of each whole second
    bands: tuple[GainReduction, ...] = ()  # a multiband's bands, low band first
    crossovers_hz: tuple[float, ...] = ()  # a multiband's crossovers

    @classmethod
    def from_stat(cls, g, crossovers_hz: Iterable[float] = ()) -> GainReduction:
        """From a ``mixgraph.render.engine.GainReductionStat`` (duck-typed)."""
        return cls(kind=g.kind, index=g.index, max_db=g.max_db, mean_db=g.mean_db, processor_id=g.id,
                   per_second=tuple(g.per_second),
                   bands=tuple(cls.from_stat(b) for b in getattr(g, "bands", ()) or ()),
                   crossovers_hz=tuple(float(f) for f in crossovers_hz))


@dataclass(frozen=True)
class NodeLevels:
    node: str  # "track:kick", "bus:drums", "return:plate"
    sample_peak_dbfs: float
    true_peak_dbtp: float | None
    integrated_lufs: float | None
    crest_db: float | None
    clipped_samples: int
    gain_reduction: tuple[GainReduction, ...] = ()
    muted: bool = False

    @property
    def kind(self) -> str:
        return self.node.split(":", 1)[0] if ":" in self.node else self.node

    @classmethod
    def from_meter(cls, node: str, meter, *, clipped_samples: int | None = None,
                   gain_reduction: Iterable[GainReduction] = (), muted: bool = False) -> NodeLevels:
        """From a ``MeterResult`` (or anything with its attributes) of the node's output."""
        return cls(node=node, sample_peak_dbfs=meter.sample_peak_dbfs, true_peak_dbtp=meter.true_peak_dbtp,
                   integrated_lufs=meter.integrated_lufs, crest_db=meter.crest_db,
                   clipped_samples=meter.clipped_samples if clipped_samples is None else clipped_samples,
                   gain_reduction=tuple(gain_reduction), muted=muted)


@dataclass(frozen=True)
class LoudnessInfo:
    target_lufs: float
    ceiling_dbtp: float
    achieved_lufs: float | None
    true_peak_dbtp: float | None
    gain_db: float  # input gain into the master chain the solver settled on
    iterations: int
    limiter_gr_max_db: float
    limiter_gr_mean_db: float
    tolerance_lu: float = 0.1
    #: the solver's limiting budget (``max_gain_reduction_db``); it counts ``BUDGET_COUNTS``
    max_gain_reduction_db: float | None = None


@dataclass(frozen=True)
class OutputInfo:
    name: str
    path: str
    format: str
    sample_rate: int
    bit_depth: int | str
    true_peak_dbtp: float | None
    integrated_lufs: float | None
    clipped_samples: int
    sha256: str  # of the audio samples as written
    tap: str = "master"
    frames: int | None = None
    #: a master file's own loudness target and ceiling (an output may carry its own; else the
    #: master's), and the master chain's gain reduction in the pass that wrote it
    target_lufs: float | None = None
    ceiling_dbtp: float | None = None
    gain_reduction: tuple[GainReduction, ...] = ()


@dataclass(frozen=True)
class Series:
    """Plot data. ``None`` entries are unmeasurable points (silence, too short)."""

    step_s: float = 1.0
    mix_short_term_lufs: Sequence[float | None] = ()
    master_short_term_lufs: Sequence[float | None] = ()
    limiter_gr_step_s: float = 1.0
    limiter_gr_db: Sequence[float] = ()  # max gain reduction per step of the master limiter
    mix_spectrum_db: Mapping[str, float] = field(default_factory=dict)  # band -> dB re total power
    master_spectrum_db: Mapping[str, float] = field(default_factory=dict)


# ----------------------------------------------------------------------------- the model


@dataclass
class Report:
    """The whole report. ``to_dict()`` is the JSON form (and what the templates read)."""

    session: SessionInfo
    plan_hash: str | None
    mastered: bool
    mix: Any  # MeterResult of the premaster (mix print)
    master: Any | None  # MeterResult of the master point, None without a master stage
    loudness: LoudnessInfo | None
    master_chain: tuple[GainReduction, ...]
    nodes: tuple[NodeLevels, ...]
    outputs: tuple[OutputInfo, ...]
    platforms: tuple[PlatformRow, ...]
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    series: Series
    timing: Timing | None
    schema_version: int = SCHEMA_VERSION

    @property
    def final(self):
        """The signal a listener gets: the master if there is a master stage, else the mix print."""
        return self.master if self.mastered and self.master is not None else self.mix

    def to_dict(self) -> dict:
        from mixgraph.version import __version__ as version

        t = self.timing
        run = None
        if t is not None:
            rtf = t.realtime_factor
            run = {"started_at": t.started_at, "render_seconds": _num(t.render_seconds, SECONDS_DIGITS),
                   "audio_seconds": _num(t.duration_s, SECONDS_DIGITS),
                   "realtime_factor": _num(rtf, 1) if rtf is not None else None,
                   "mixgraph_version": version}
            if t.cache is not None:
                run["cache"] = t.cache
        return {
            "schema_version": self.schema_version,
            "session": _clean(asdict(self.session)),
            "plan_hash": self.plan_hash,
            "mastered": self.mastered,
            "mix": meter_dict(self.mix),
            "master": meter_dict(self.master) if self.master is not None else None,
            "loudness": _loudness_dict(self.loudness),
            "master_chain": [_gr_dict(g, master=True) for g in self.master_chain],
            "nodes": [_node_dict(n) for n in self.nodes],
            "outputs": [_output_dict(o) for o in self.outputs],
            "platforms": [_clean(asdict(p)) for p in self.platforms],
            "findings": [_clean(asdict(f)) for f in self.findings],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "series": _clean({k: (dict(v) if isinstance(v, Mapping) else v) for k, v in
                              ((f.name, getattr(self.series, f.name)) for f in fields(Series))}),
            "run": run,
        }


# ----------------------------------------------------------------------------- JSON helpers


def _num(v: float | None, digits: int = DB_DIGITS) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    r = round(float(v), digits)
    return 0.0 if r == 0 else r  # no "-0.0"


def _clean(v: Any, key: str = "") -> Any:
    """Round floats (correlation to 0.001, everything else to 0.01), non-finite -> None."""
    if isinstance(v, bool) or v is None or isinstance(v, int | str):
        return v
    if isinstance(v, float):
        return _num(v, CORRELATION_DIGITS if key == "correlation" else DB_DIGITS)
    if isinstance(v, Mapping):
        return {k: _clean(x, k) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x, key) for x in v]
    if hasattr(v, "item"):  # numpy scalar
        return _clean(v.item(), key)
    return v


def meter_dict(m) -> dict:
    """Every figure of a MeterResult except the plot series (those live in ``series``); a figure
    the programme is too short for is null, with the reason in ``not_measured``."""
    short = dict(m.get("not_measured") or {}) if isinstance(m, Mapping) else too_short(m)
    d = asdict(m) if not isinstance(m, Mapping) else dict(m)
    d.pop("short_term_series", None)
    d.pop("series_step_s", None)
    for key in short:
        d[key] = None
    d = _clean(d)
    d["not_measured"] = short
    return d


def _loudness_dict(lo: LoudnessInfo | None) -> dict | None:
    if lo is None:
        return None
    d = _clean(asdict(lo))
    d["budget_counts"] = BUDGET_COUNTS
    return d


def _gr_dict(g: GainReduction, master: bool = False) -> dict:
    """A processor's gain reduction: max/mean, whether it ever acted; on the master the share of
    seconds over its working-hard threshold; a multiband's bands. (Per-second values stay out:
    the master limiter's are in ``series``.)"""
    d = {"kind": g.kind, "index": g.index, "processor_id": g.processor_id,
         "max_db": _num(g.max_db), "mean_db": _num(g.mean_db), "acted": acted(g)}
    if master and g.kind in HARD_GR_DB:
        share = hard_share(g)
        d["hard_db"] = HARD_GR_DB[g.kind]
        d["share_over_hard"] = _num(share, 3) if share is not None else None
    if g.crossovers_hz:
        d["crossovers_hz"] = [_num(f) for f in g.crossovers_hz]
    if g.bands:
        d["bands"] = [_gr_dict(b) for b in g.bands]
    return d


def _output_dict(o: OutputInfo) -> dict:
    d = _clean({k: v for k, v in asdict(o).items() if k != "gain_reduction"})
    d["gain_reduction"] = [_gr_dict(g, master=True) for g in o.gain_reduction]
    return d


def _node_dict(n: NodeLevels) -> dict:
    d = {"node": n.node, "kind": n.kind, "muted": n.muted}
    d.update(_clean({k: v for k, v in asdict(n).items() if k not in ("node", "gain_reduction", "muted")}))
    d["gain_reduction"] = [_gr_dict(g) for g in n.gain_reduction]
    return d


def to_json(report: Report | Mapping) -> str:
    """Deterministic JSON (fixed key order, rounded floats, trailing newline)."""
    data = report.to_dict() if isinstance(report, Report) else report
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def as_dict(report: Report | Mapping) -> dict:
    """The renderers read the JSON form, so a report.json loaded back renders the same."""
    return report.to_dict() if isinstance(report, Report) else dict(report)


# ----------------------------------------------------------------------------- builder


def _cache_dict(result) -> dict | None:
    use = getattr(result, "cache", None)
    return use.to_dict() if use is not None else None


def build_report(session: SessionInfo | Any, plan_hash: str | None = None, *, premaster=None,
                 master=None, mastered: bool | None = None, loudness: LoudnessInfo | None = None,
                 master_chain: Iterable[GainReduction] = (), nodes: Iterable[NodeLevels] = (), outputs: Iterable[OutputInfo] = (),
                 series: Series | None = None, timing: Timing | None = None,
                 warnings: Iterable[str] = (), notes: Iterable[str] = (),
                 ceiling_dbtp: float | None = None) -> Report:
    """Assemble the report from plain inputs (see the module docstring).

    ``premaster`` / ``master`` are ``MeterResult`` objects (the master is None without a
    master stage). ``mastered`` defaults to "there is a master reading"; ``ceiling_dbtp``
    defaults to the loudness target's ceiling. ``series`` defaults to the short-term
    series and spectra of the two readings. Passing a ``RenderResult`` as the only
    argument is the same as ``report_from_render(result)``.
    """
    if not isinstance(session, SessionInfo) and hasattr(session, "plan") and hasattr(session, "premaster"):
        return report_from_render(session)
    if premaster is None:
        raise TypeError("build_report needs the premaster (mix print) MeterResult")
    if mastered is None:
        mastered = master is not None
    if ceiling_dbtp is None and loudness is not None:
        ceiling_dbtp = loudness.ceiling_dbtp
    if series is None:
        series = Series(step_s=premaster.series_step_s, mix_short_term_lufs=tuple(premaster.short_term_series),
                        master_short_term_lufs=tuple(master.short_term_series) if master is not None else (),
                        mix_spectrum_db=dict(premaster.spectral_balance_db),
                        master_spectrum_db=dict(master.spectral_balance_db) if master is not None else {})
    if timing is not None and timing.started_at is None:
        timing = Timing(timing.render_seconds, timing.duration_s,
                        datetime.now(UTC).replace(microsecond=0).isoformat(), timing.cache)
    nodes = tuple(sorted(nodes, key=lambda n: n.node))
    outputs = tuple(outputs)
    final = master if mastered and master is not None else premaster
    platforms: tuple[PlatformRow, ...] = ()
    if final.integrated_lufs is not None and final.true_peak_dbtp is not None and math.isfinite(final.true_peak_dbtp):
        platforms = tuple(platform_table(final.integrated_lufs, final.true_peak_dbtp))
    master_chain = tuple(master_chain)
    finds = tuple(find(premaster, master if mastered else None, nodes, outputs, ceiling_dbtp=ceiling_dbtp,
                       loudness=loudness, master_chain=master_chain))
    return Report(session=session, plan_hash=plan_hash, mastered=mastered, mix=premaster, master=master,
                  loudness=loudness, master_chain=master_chain, nodes=nodes, outputs=outputs, platforms=platforms, findings=finds,
                  warnings=tuple(warnings), notes=tuple(notes), series=series, timing=timing)


def report_from_render(result) -> Report:
    """Adapt a ``mixgraph.api.render.RenderResult`` (duck-typed; this layer cannot import the API)."""
    plan = result.plan
    plan_nodes = {n.id: n for n in plan.nodes}
    nodes = []
    for nid in sorted(set(result.node_levels) | set(result.node_stats)):
        st = result.node_stats.get(nid, {})
        pn = plan_nodes.get(nid)
        grs = _grs(st.get("gain_reduction", ()), pn.chain if pn is not None else ())
        muted = bool(getattr(pn, "mute", False))
        lv = result.node_levels.get(nid)
        if lv is not None:
            nodes.append(NodeLevels.from_meter(nid, lv, clipped_samples=st.get("clipped"), gain_reduction=grs,
                                               muted=muted))
        else:  # node meters switched off: the engine still counts peaks and clips
            peak = st.get("peak")
            peak_db = gain_to_db(peak) if peak else float("-inf")
            nodes.append(NodeLevels(nid, peak_db, None, None, None, st.get("clipped", 0), grs, muted))
    loud = None
    if result.loudness is not None:
        s = result.loudness
        loud = LoudnessInfo(target_lufs=s.target_lufs, ceiling_dbtp=s.ceiling_dbtp, achieved_lufs=s.achieved_lufs,
                            true_peak_dbtp=s.true_peak_dbtp, gain_db=s.gain_db, iterations=s.iterations,
                            limiter_gr_max_db=s.limiter_gr_max_db, limiter_gr_mean_db=s.limiter_gr_mean_db,
                            tolerance_lu=s.tolerance_lu,
                            max_gain_reduction_db=getattr(plan.master.loudness, "max_gain_reduction_db", None))
    outputs = []
    own = {o.name: o.loudness for o in plan.outputs}
    per_output = getattr(result, "output_stats", None) or {}
    for o in result.outputs:
        w, m = o.written, o.meter
        lp = (own.get(w.name) or plan.master.loudness) if w.tap == "master" else None
        outputs.append(OutputInfo(name=w.name, path=w.path, format=w.format, sample_rate=w.sample_rate,
                                  # a lossy file has no bit depth; its bitrate is what a reader compares
                                  bit_depth=f"{w.bitrate_kbps} kbps" if w.bitrate_kbps else w.bit_depth,
                                  true_peak_dbtp=m.true_peak_dbtp,
                                  integrated_lufs=m.integrated_lufs, clipped_samples=w.clipped_samples,
                                  sha256=w.sha256, tap=w.tap, frames=w.frames,
                                  target_lufs=lp.target_lufs if lp is not None else None,
                                  ceiling_dbtp=lp.ceiling_dbtp if lp is not None else None,
                                  gain_reduction=_grs(per_output.get(w.name, ()), plan.master.chain)))
    mastered = bool(plan.master.chain) or plan.master.loudness is not None
    master_stats = (result.master_stats or {}).get("gain_reduction", ())
    lim = [g for g in master_stats if g.kind == "limiter"]
    pm, ms = result.premaster, result.master
    series = Series(step_s=pm.series_step_s, mix_short_term_lufs=tuple(pm.short_term_series),
                    master_short_term_lufs=tuple(ms.short_term_series) if ms is not None else (),
                    limiter_gr_step_s=1.0, limiter_gr_db=tuple(lim[0].per_second) if lim else (),
                    mix_spectrum_db=dict(pm.spectral_balance_db),
                    master_spectrum_db=dict(ms.spectral_balance_db) if ms is not None else {})
    return build_report(
        SessionInfo(name=plan.session_name, file=result.session_file, variant=plan.variant,
                    session_hash=getattr(result, "session_hash", None)),
        plan.plan_hash(), premaster=pm, master=ms, mastered=mastered, loudness=loud,
        master_chain=_grs(master_stats, plan.master.chain), nodes=nodes,
        outputs=outputs, series=series, timing=Timing(result.render_seconds, result.duration_s,
                                                            cache=_cache_dict(result)),
        warnings=result.warnings, notes=result.notes,
        ceiling_dbtp=plan.master.loudness.ceiling_dbtp if plan.master.loudness else None)


def _grs(stats: Iterable, chain: Sequence) -> tuple[GainReduction, ...]:
    """The report's entries of a chain's ``GainReductionStat`` list (a multiband with its crossovers)."""
    out = []
    for g in stats:
        if g.kind not in DYNAMICS_KINDS:
            continue
        step = chain[g.index] if 0 <= g.index < len(chain) else None
        xs = step.params.get("crossovers_hz", ()) if step is not None and g.kind == "multiband" else ()
        out.append(GainReduction.from_stat(g, xs))
    return tuple(out)

"""The master stage: every master-tapped deliverable from the one premaster spill.

Deliverables are grouped by sample rate; each rate is mastered at that rate (the premaster
resampled once), so its limiter holds the ceiling on the file as written. Every pass of the
solver writes that rate's deliverables to temporaries and meters them as written, so the pass the
solver accepts is the final one (no extra pass); only the pass closest to the target is kept.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from mixgraph.atomic import Transaction
from mixgraph.audio.resample import resample_spill
from mixgraph.audio.writer import OutputWriter
from mixgraph.dsp.kernels.iir import sosfilt_zi
from mixgraph.errors import RenderError
from mixgraph.graph.plan import OutputPlan, RenderPlan
from mixgraph.mastering.chain import master_pass
from mixgraph.mastering.solver import LoudnessSolve, Measurement, Target, solve_gain
from mixgraph.meter import Meter, MeterResult
from mixgraph.meter.kernels import kweighted_stereo, true_peak_hot
from mixgraph.render.engine import GainReductionStat

#: the render's meters use its compiled kernels (numba is loaded anyway); ``mixgraph meter`` does without
COMPILED = {"sos_filter": sosfilt_zi, "true_peak_kernel": true_peak_hot, "stereo_kernel": kweighted_stereo}


def programme_meter(rate: int) -> Meter:
    return Meter(rate, 2, **COMPILED)


def loudness_meter(rate: int) -> Meter:
    """Only the integrated loudness (the solver's passes that write nothing)."""
    return Meter(rate, 2, true_peak=False, light=True, **COMPILED)


@dataclass
class MasterContext:
    """What the master stage needs of the render around it."""

    plan: RenderPlan
    spill_path: str
    length: int
    premaster: MeterResult
    targets: dict[str, Path]
    metadata: dict[str, str]
    tx: Transaction
    tmp_dir: str
    block_size: int
    threaded: bool
    progress: Callable[[str, float], None] | None = None


@dataclass
class MasterStage:
    """The master deliverables, written to the transaction's temporaries (not yet committed)."""

    writers: dict[str, OutputWriter] = field(default_factory=dict)
    as_written: dict[str, MeterResult] = field(default_factory=dict)  # name -> meter of the file as written
    solve: LoudnessSolve | None = None
    master: MeterResult | None = None  # the master at the session's rate
    stats: list[GainReductionStat] = field(default_factory=list)


@dataclass
class _Pass:
    writers: list[OutputWriter]
    result: MeterResult
    stats: list[GainReductionStat]


def _limiter_gr(stats: list[GainReductionStat]) -> tuple[float, float]:
    lim = [s for s in stats if s.kind == "limiter"]
    return max((s.max_db for s in lim), default=0.0), max((s.mean_db for s in lim), default=0.0)


class _RateJob:
    """The deliverables of one sample rate: passes over its spill, the closest one kept."""

    def __init__(self, ctx: MasterContext, rate: int, outs: list[OutputPlan]):
        self.ctx, self.rate, self.outs = ctx, rate, outs
        plan = ctx.plan
        self.spill, self.length = ctx.spill_path, ctx.length
        if rate != plan.sample_rate:
            self.spill = os.path.join(ctx.tmp_dir, f"premaster-{rate}.f64")
            self.length = resample_spill(ctx.spill_path, ctx.length, plan.sample_rate, rate, self.spill)
        lp = plan.master.loudness
        self.target = lp.target_lufs if lp is not None else None
        self.kept: dict[float, _Pass] = {}

    def miss(self, r: MeterResult) -> float:
        if self.target is None or r.integrated_lufs is None:
            return float("inf")
        return abs(r.integrated_lufs - self.target)

    def _discard(self, p: _Pass) -> None:
        for w in p.writers:
            w.abort()
            self.ctx.tx.discard(w.tmp)

    def run_pass(self, g: float) -> _Pass:
        ctx = self.ctx
        ws = [OutputWriter(o, ctx.targets[o.name], self.rate, 2, ctx.plan.seed, metadata=ctx.metadata,
                           tmp=ctx.tx.new_temp(ctx.targets[o.name])) for o in self.outs]
        done = _Pass(ws, None, [])  # type: ignore[arg-type]
        try:
            meter = programme_meter(self.rate)
            # the master is metered as the first lossless file holds it (after dither and
            # quantisation): the master's numbers are the delivered file's, with no second read
            primary = next((w for w in ws if w.lossless), None)
            consumers = [w.write for w in ws]
            if primary is not None:
                primary.meter = meter
            else:
                consumers.append(meter.process)
            done.stats = master_pass(ctx.plan, self.spill, self.length, g, consumers, sample_rate=self.rate,
                                     block_size=ctx.block_size, threaded=ctx.threaded)
            result = meter.result()
            if primary is not None:  # the file holds no overs: count what was clipped to get there
                result = replace(result, clipped_samples=primary.clipped)
            done.result = result
        except BaseException:
            self._discard(done)
            raise
        self._keep_closest(g, done)
        return done

    def _keep_closest(self, g: float, p: _Pass) -> None:
        # only the pass closest to the target (the solver's own rule for its answer) keeps its
        # temporaries, so at most one set waits beside the one being written
        keep = True
        for og in list(self.kept):
            if self.miss(p.result) < self.miss(self.kept[og].result) or og == g:
                self._discard(self.kept.pop(og))
            else:
                keep = False
        if keep:
            self.kept[g] = p
        else:
            self._discard(p)

    def measure(self, g: float) -> Measurement:
        p = self.run_pass(g)
        gr_max, gr_mean = _limiter_gr(p.stats)
        return Measurement(p.result.integrated_lufs, p.result.true_peak_dbtp, gr_max, gr_mean)

    def run(self) -> tuple[_Pass, LoudnessSolve | None]:
        ctx = self.ctx
        lp = ctx.plan.master.loudness
        solve = None
        gain = 0.0
        try:
            if lp is not None:
                target = Target(lp.target_lufs, lp.ceiling_dbtp, lp.tolerance_lu, lp.max_gain_reduction_db)
                report = (lambda f: ctx.progress("loudness", f)) if ctx.progress else None
                solve = solve_gain(self.measure, ctx.premaster.integrated_lufs, target, report)
                gain = solve.gain_db
            if gain not in self.kept:
                self.run_pass(gain)
            chosen = self.kept.pop(gain)
        finally:
            for other in self.kept.values():
                self._discard(other)
            self.kept.clear()
        if solve is not None:
            solve.true_peak_dbtp = chosen.result.true_peak_dbtp
        return chosen, solve


def check_ceiling(plan: RenderPlan, master: MeterResult) -> None:
    """A master over its ceiling is an error: nothing is written."""
    lp = plan.master.loudness
    if lp is None or master.true_peak_dbtp <= lp.ceiling_dbtp + 1e-9:
        return
    has_limiter = any(st.type == "limiter" for st in plan.master.chain)
    hint = None if has_limiter else "Add a limiter at the end of the master chain."
    raise RenderError(f"At {lp.target_lufs:g} LUFS the master's true peak is {master.true_peak_dbtp:.2f} dBTP, "
                      f"above the ceiling {lp.ceiling_dbtp:g} dBTP; nothing was written.", hint=hint)


def deliverable_rates(plan: RenderPlan) -> list[int]:
    """The session's rate first (its master is the report's), then every other master rate."""
    sr = plan.sample_rate
    return sorted({o.sample_rate for o in plan.outputs if o.tap == "master"} | {sr}, key=lambda r: (r != sr, r))


def master_stage(ctx: MasterContext) -> MasterStage:
    """Master every master-tapped output; their files wait in ``ctx.tx`` for the render's commit."""
    plan = ctx.plan
    stage = MasterStage()
    for rate in deliverable_rates(plan):
        outs = [o for o in plan.outputs if o.tap == "master" and o.sample_rate == rate]
        chosen, solve = _RateJob(ctx, rate, outs).run()
        for o, w in zip(outs, chosen.writers, strict=True):
            stage.writers[o.name] = w
            if w.meter is not None:
                stage.as_written[o.name] = chosen.result
        check_ceiling(plan, chosen.result)
        if rate == plan.sample_rate:
            stage.solve, stage.master, stage.stats = solve, chosen.result, chosen.stats
    return stage


def master_warnings(plan: RenderPlan, outputs) -> tuple[list[str], list[str]]:
    """(warnings, notes) about the master files as written: ceiling, target, lossy previews."""
    warnings: list[str] = []
    notes: list[str] = []
    lp = plan.master.loudness
    if lp is None:
        return warnings, notes
    for o in outputs:
        if o.written.tap != "master":
            continue
        m = o.meter
        if o.written.format in ("ogg", "mp3"):
            if m.true_peak_dbtp > lp.ceiling_dbtp + 1e-9:
                notes.append(f"{o.written.path}: the lossy preview decodes to {m.true_peak_dbtp:.2f} dBTP "
                             f"(codec overshoot over the {lp.ceiling_dbtp:g} dBTP master); it is a preview, "
                             "not a deliverable for true-peak limits")
            continue
        if m.true_peak_dbtp > lp.ceiling_dbtp + 1e-9:
            warnings.append(f"{o.written.path}: true peak {m.true_peak_dbtp:.2f} dBTP is above the "
                            f"ceiling {lp.ceiling_dbtp:g} dBTP")
        if m.integrated_lufs is not None and abs(m.integrated_lufs - lp.target_lufs) > lp.tolerance_lu:
            warnings.append(f"{o.written.path}: {m.integrated_lufs:.2f} LUFS is outside "
                            f"{lp.target_lufs:g} +- {lp.tolerance_lu:g} LU")
    return warnings, notes

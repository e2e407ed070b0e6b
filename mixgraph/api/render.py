"""Render stage of the API: session -> plan -> mix -> master (loudness solved) -> files + report data."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from mixgraph.errors import MediaError, RenderError
from mixgraph.graph.compile import compile_session
from mixgraph.graph.plan import RenderPlan
from mixgraph.meter import LevelMeter, LoudnessMeter, MeterResult
from mixgraph.render.engine import Engine, resample_spill
from mixgraph.render.writer import OutputWriter, WrittenOutput
from mixgraph.session import pipeline

#: the solver stops when the master is this close to the target (a fraction of the tolerance,
#: so dither and resampling of the deliverables keep them inside it)
SOLVE_FRACTION = 0.3
MAX_ITERATIONS = 10


@dataclass
class LoudnessSolve:
    target_lufs: float
    ceiling_dbtp: float
    tolerance_lu: float
    achieved_lufs: float
    true_peak_dbtp: float
    gain_db: float
    iterations: int
    limiter_gr_max_db: float
    limiter_gr_mean_db: float


@dataclass
class OutputReport:
    written: WrittenOutput
    meter: MeterResult


@dataclass
class RenderResult:
    plan: RenderPlan
    session_file: str
    variant: str | None
    outputs: list[OutputReport]
    premaster: MeterResult
    master: MeterResult | None
    node_levels: dict[str, MeterResult]
    node_stats: dict
    master_stats: dict
    loudness: LoudnessSolve | None
    render_seconds: float
    duration_s: float
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: sha256 of the resolved session that rendered (variant applied); None for a bare plan
    session_hash: str | None = None
    #: provenance sidecars written next to the outputs
    sidecars: list[str] = field(default_factory=list)

    @property
    def realtime_factor(self) -> float:
        return self.duration_s / self.render_seconds if self.render_seconds > 0 else float("inf")


def plan_for(path: str | Path, variant: str | None = None) -> tuple[RenderPlan, str]:
    plan, file, _ = resolve(path, variant)
    return plan, file


def resolve(path: str | Path, variant: str | None = None) -> tuple[RenderPlan, str, str]:
    """(plan, session file as displayed, sha256 of the resolved session) of a session file."""
    from mixgraph.api.compile import source_channels

    ls = pipeline.load(path)
    session = pipeline.expand(ls, variant)
    chans = source_channels(session, ls.session_dir)
    plan = compile_session(session, session_file=ls.file, session_dir=ls.session_dir, variant=variant,
                           positions=ls.position, source_channels=chans)
    return plan, ls.file, pipeline.session_hash(session)


def _target(plan: RenderPlan, rel: str, out_dir: str | Path | None) -> Path:
    if out_dir is None:
        return Path(plan.session_dir) / rel
    return Path(out_dir) / Path(rel).name


def _check_targets(plan: RenderPlan, targets: dict[str, Path]) -> None:
    sources = {os.path.realpath(n.source.path) for n in plan.nodes if n.source}
    if plan.master.source:
        sources.add(os.path.realpath(plan.master.source.path))
    for name, t in targets.items():
        if os.path.realpath(t) in sources:
            raise MediaError(f"output '{name}' would overwrite the source {t}; nothing was rendered",
                             hint="Write renders to their own folder.")


def render_session(path_or_plan: str | Path | RenderPlan, *, variant: str | None = None,
                   out_dir: str | Path | None = None, block_size: int | None = None, jobs: int | None = None,
                   progress: Callable[[str, float], None] | None = None, node_meters: bool = True) -> RenderResult:
    t0 = time.perf_counter()
    from mixgraph.recall.provenance import file_metadata, write_sidecars

    shash: str | None = None
    if isinstance(path_or_plan, RenderPlan):
        plan, file = path_or_plan, "<plan>"
    else:
        plan, file, shash = resolve(path_or_plan, variant)
    meta = file_metadata(plan, shash)
    sr = plan.sample_rate
    targets = {o.name: _target(plan, o.rel_path, out_dir) for o in plan.outputs}
    _check_targets(plan, targets)
    engine = Engine(plan, block_size=block_size, jobs=jobs)
    writers: dict[str, OutputWriter] = {}
    as_written: dict[str, MeterResult] = {}  # output name -> the meter of its samples as written
    report = (lambda stage, f: progress(stage, f)) if progress else None
    try:
        for o in plan.outputs:
            if o.tap != "master":
                writers[o.name] = OutputWriter(o, targets[o.name], sr, 2, plan.seed, metadata=meta)
        consumers: dict[str, list] = {}
        for o in plan.outputs:
            if o.tap != "master":
                consumers.setdefault(o.tap, []).append(writers[o.name].write)
        pm_meter = LoudnessMeter(sr, 2, compiled=True)
        consumers.setdefault("premaster", []).append(pm_meter.process)
        node_meters_d = {n.id: LevelMeter(sr, 2, compiled=True) for n in plan.nodes} if node_meters else {}
        with tempfile.TemporaryDirectory(prefix="mixgraph-") as tmp:
            mix = engine.run_mix(consumers, spill_dir=tmp,
                                 progress=(lambda f: report("mix", f)) if report else None,
                                 node_observers={k: m.process for k, m in node_meters_d.items()})
            premaster = pm_meter.result()
            # master-tapped outputs, grouped by sample rate: each rate is mastered at that rate
            rates = sorted({o.sample_rate for o in plan.outputs if o.tap == "master"} | {sr},
                           key=lambda r: (r != sr, r))
            solve = None
            master = None
            master_stats: dict = {}
            for rate in rates:
                spill, length = mix.spill_path, mix.length
                if rate != sr:
                    spill = os.path.join(tmp, f"premaster-{rate}.f64")
                    length = resample_spill(mix.spill_path, mix.length, sr, rate, spill)
                outs = [o for o in plan.outputs if o.tap == "master" and o.sample_rate == rate]
                # every pass over the master writes its deliverables (to temporary files) and meters
                # them in full, so the pass the solver accepts is the final one: no extra pass
                candidates: dict[float, tuple[list[OutputWriter], MeterResult, dict]] = {}
                target = plan.master.loudness.target_lufs if plan.master.loudness is not None else None

                def miss(r: MeterResult, target=target) -> float:
                    if target is None or r.integrated_lufs is None:
                        return float("inf")
                    return abs(r.integrated_lufs - target)

                def run_pass(g: float, rate=rate, spill=spill, length=length, outs=outs,
                             candidates=candidates) -> tuple[MeterResult, dict]:
                    ws = [OutputWriter(o, targets[o.name], rate, 2, plan.seed, metadata=meta) for o in outs]
                    try:
                        meter = LoudnessMeter(rate, 2, compiled=True)
                        # the master is metered as the first lossless file holds it (after dither and
                        # quantisation): the master's numbers are the delivered file's, and that file
                        # needs no second read to be checked
                        primary = next((w for w in ws if w.lossless), None)
                        consumers = [w.write for w in ws]
                        if primary is not None:
                            primary.meter = meter
                        else:
                            consumers.append(meter.process)
                        stats = engine.master_pass(spill, length, g, consumers, sample_rate=rate)
                        result = meter.result()
                        if primary is not None:  # the file holds no overs: count what was clipped to get there
                            result = replace(result, clipped_samples=primary.clipped)
                    except BaseException:
                        for w in ws:
                            w.abort()
                        raise
                    # keep only the pass closest to the target (the solver's own rule for its answer),
                    # so at most one set of temporary files waits beside the one being written
                    keep = True
                    for og in list(candidates):
                        if miss(result) < miss(candidates[og][1]) or og == g:
                            for w in candidates.pop(og)[0]:
                                w.abort()
                        else:
                            keep = False
                    if keep:
                        candidates[g] = (ws, result, stats)
                    else:
                        for w in ws:
                            w.abort()
                    return result, stats

                try:
                    rate_solve = None
                    gain = 0.0
                    if plan.master.loudness is not None:
                        rate_solve = solve_master_gain(engine, spill, length, premaster, plan,
                                                       (lambda f: report("loudness", f)) if report else None,
                                                       sample_rate=rate, run_pass=run_pass)
                        gain = rate_solve.gain_db
                    if gain not in candidates:
                        run_pass(gain)
                    ws, result_m, stats = candidates.pop(gain)
                finally:
                    for other in candidates.values():
                        for w in other[0]:
                            w.abort()
                for o, w in zip(outs, ws, strict=True):
                    writers[o.name] = w
                    if w.meter is not None:
                        as_written[o.name] = result_m
                if rate_solve is not None:
                    rate_solve.true_peak_dbtp = result_m.true_peak_dbtp
                check_ceiling(plan, result_m)
                if rate == sr:
                    solve, master, master_stats = rate_solve, result_m, stats
        written = [writers[o.name].finish() for o in plan.outputs]
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    outputs = []
    from mixgraph.api.meter import meter_file

    for w in written:
        # a file metered as it was written (see run_pass) is not read back: the meter saw the
        # samples a reader decodes from it; every other file is metered from disk
        m = as_written.get(w.name)
        outputs.append(OutputReport(w, m if m is not None else meter_file(w.path, compiled=True)))
    warnings = list(plan.warnings)
    notes = list(mix.notes)
    for o in outputs:
        if o.written.clipped_samples:
            warnings.append(f"{o.written.path}: {o.written.clipped_samples} samples beyond full scale were clipped")
    if plan.master.loudness is not None:
        lp = plan.master.loudness
        for o in outputs:
            if o.written.tap == "master":
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
    result = RenderResult(
        plan=plan, session_file=file, variant=plan.variant, outputs=outputs, premaster=premaster,
        master=master, node_levels={k: m.result() for k, m in node_meters_d.items()},
        node_stats=mix.node_stats, master_stats=master_stats, loudness=solve,
        render_seconds=time.perf_counter() - t0, duration_s=mix.length / sr, notes=notes, warnings=warnings,
        session_hash=shash)
    result.sidecars = write_sidecars(result)
    return result


def solve_master_gain(engine: Engine, spill: str, length: int, premaster: MeterResult, plan: RenderPlan,
                      progress: Callable[[float], None] | None = None,
                      sample_rate: int | None = None,
                      run_pass: Callable[[float], tuple[MeterResult, dict]] | None = None) -> LoudnessSolve:
    """Input gain into the master chain so the master lands on the loudness target.

    ``run_pass(g) -> (MeterResult, stats)`` runs one pass over the master at input gain g (the
    render writes its outputs in every pass and keeps the accepted one); by default a pass only
    meters the loudness.

    L(g) is the master's integrated loudness for input gain g (dB). Without dynamics
    L(g) = L(0) + g; a limiter makes the slope smaller, so after the first step the
    solver uses secant steps on (g, L) pairs. It never changes anything but this gain.
    """
    lp = plan.master.loudness
    if premaster.integrated_lufs is None:
        raise RenderError("The mix is silent (below the -70 LUFS gate): there is nothing to bring to "
                          f"{lp.target_lufs:g} LUFS.")
    def measure(g: float) -> tuple[float, float, float, float]:
        if run_pass is not None:
            r, stats = run_pass(g)
        else:  # loudness only: the true peak is checked on the final pass and every file as written
            meter = LevelMeter(sample_rate or plan.sample_rate, 2, compiled=True, true_peak=False)
            stats = engine.master_pass(spill, length, g, [meter.process], sample_rate=sample_rate)
            r = meter.result()
        lim = [s for s in stats["gain_reduction"] if s[0] == "limiter"]
        gr_max = max((s[3] for s in lim), default=0.0)
        gr_mean = max((s[4] for s in lim), default=0.0)
        if r.integrated_lufs is None:
            raise RenderError("The master is silent after its chain; check the master chain.")
        return r.integrated_lufs, r.true_peak_dbtp, gr_max, gr_mean

    target = lp.target_lufs
    g = target - premaster.integrated_lufs
    lo: tuple[float, float] | None = None  # (gain, loudness) below the target
    hi: tuple[float, float] | None = None  # above it
    last: tuple[float, float] | None = None
    best = None
    for it in range(1, MAX_ITERATIONS + 1):
        loud, tp, gr_max, gr_mean = measure(g)
        cand = LoudnessSolve(target, lp.ceiling_dbtp, lp.tolerance_lu, loud, tp, g, it, gr_max, gr_mean)
        if best is None or abs(loud - target) < abs(best.achieved_lufs - target):
            best = cand
        best.iterations = it
        if progress:
            progress(it / MAX_ITERATIONS)
        if abs(loud - target) <= lp.tolerance_lu * SOLVE_FRACTION:
            break
        if loud < target:
            if gr_max > lp.max_gain_reduction_db + 1e-9:
                # still short of the target and already limiting more than allowed: more gain only limits more
                raise RenderError(
                    f"{target:g} LUFS needs more than {gr_max:.1f} dB of limiting, more than "
                    f"max_gain_reduction_db {lp.max_gain_reduction_db:g} dB (reached {loud:.1f} LUFS).",
                    hint="Lower the target, raise max_gain_reduction_db, or bring the mix up with less peak content.")
            lo = (g, loud)
        else:
            hi = (g, loud)
        if lo is not None and hi is not None:
            # regula falsi inside the bracket; L(g) is monotonic in g
            g_new = lo[0] + (target - lo[1]) * (hi[0] - lo[0]) / (hi[1] - lo[1])
            if not (min(lo[0], hi[0]) < g_new < max(lo[0], hi[0])):
                g_new = 0.5 * (lo[0] + hi[0])
        else:
            slope = 1.0
            if last is not None and abs(g - last[0]) > 1e-9:
                slope = min(max((loud - last[1]) / (g - last[0]), 0.2), 1.5)
            g_new = g + max(-12.0, min(12.0, (target - loud) / slope))
        last = (g, loud)
        g = g_new
    assert best is not None
    if best.limiter_gr_max_db > lp.max_gain_reduction_db + 1e-9:
        raise RenderError(
            f"{lp.target_lufs:g} LUFS needs {best.limiter_gr_max_db:.1f} dB of limiting, more than "
            f"max_gain_reduction_db {lp.max_gain_reduction_db:g} dB.",
            hint="Lower the target, raise max_gain_reduction_db, or bring the mix up with less peak content.")
    if abs(best.achieved_lufs - lp.target_lufs) > lp.tolerance_lu:
        raise RenderError(f"The loudness solver did not reach {lp.target_lufs:g} LUFS in {MAX_ITERATIONS} passes "
                          f"(got {best.achieved_lufs:.2f} LUFS).")
    return best


def check_ceiling(plan: RenderPlan, master: MeterResult) -> None:
    lp = plan.master.loudness
    if lp is None or master.true_peak_dbtp <= lp.ceiling_dbtp + 1e-9:
        return
    has_limiter = any(st.kind == "limiter" for st in plan.master.chain)
    hint = None if has_limiter else "Add a limiter at the end of the master chain."
    raise RenderError(f"At {lp.target_lufs:g} LUFS the master's true peak is {master.true_peak_dbtp:.2f} dBTP, "
                      f"above the ceiling {lp.ceiling_dbtp:g} dBTP; nothing was written.", hint=hint)

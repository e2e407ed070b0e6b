"""Render stage of the API: static check -> mix -> master -> files and report, committed together."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mixgraph.api.cached import RenderCache
from mixgraph.api.outputs import OutputFiles, bare_output_files, lock_path
from mixgraph.api.plan import ResolvedPlan, resolve_plan
from mixgraph.atomic import Transaction, named, recover, spill_dir
from mixgraph.audio.provenance import file_metadata, git_info, sidecar_text
from mixgraph.audio.writer import OutputWriter, WrittenOutput
from mixgraph.errors import printable
from mixgraph.graph.plan import RenderPlan
from mixgraph.mastering.solver import LoudnessSolve
from mixgraph.mastering.stage import (
    GroupKey,
    MasterContext,
    master_stage,
    master_warnings,
    programme_meter,
)
from mixgraph.meter import LevelMeter, MeterResult
from mixgraph.render.cache import Cache, CacheMiss
from mixgraph.render.engine import Engine, MixResult


@dataclass(frozen=True)
class MasterReference:
    """What a variant is mastered with by default: the session's own master input gains (per rate
    and loudness) and its length, so alt mixes line up with the main master and null against it
    where they share material."""

    gains: dict[GroupKey, float]
    length: int


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
    #: provenance sidecars and report files written with the outputs
    sidecars: list[str] = field(default_factory=list)
    report_files: list[str] = field(default_factory=list)
    #: this render's master gains and length (what its variants are mastered with)
    reference: MasterReference | None = None
    #: the gains came from the session's master, not this render's own solve
    reference_used: bool = False
    #: every group's loudness solve: "-8 LUFS / -0.3 dBTP at 48000 Hz" -> solve
    solves: dict[str, LoudnessSolve] = field(default_factory=dict)
    #: master output name -> the master chain's gain reduction in the pass that wrote it
    output_stats: dict[str, list] = field(default_factory=dict)
    #: what came from the render cache (``mixgraph.api.cached.CacheUse``); None without a cache
    cache: Any = None

    @property
    def realtime_factor(self) -> float:
        return self.duration_s / self.render_seconds if self.render_seconds > 0 else float("inf")


#: extra files a caller commits with the render (the recall layer's lock): result -> {path: text}
ExtraFiles = Callable[[RenderResult], dict[Path, str]]


@dataclass
class _Mix:
    result: MixResult
    premaster: MeterResult
    writers: dict[str, OutputWriter]
    node_meters: dict[str, LevelMeter]


def _mix_stage(plan: RenderPlan, files: OutputFiles, tx: Transaction, engine: Engine, meta: dict[str, str],
               tmp: str, node_meters: bool, progress, writers: dict[str, OutputWriter],
               length: int | None, node_cache=None) -> _Mix:
    """Every node, block by block; stems and premaster taps written (into ``writers``), the
    premaster spilled; ``length``: exactly this many samples (a variant at the session's length)."""
    consumers: dict[str, list] = {}
    for o in plan.outputs:
        if o.tap != "master":
            target = files.audio[o.name]
            writers[o.name] = OutputWriter(o, target, plan.sample_rate, 2, plan.seed, metadata=meta,
                                           tmp=tx.new_temp(target), spill_dir=tmp)
            consumers.setdefault(o.tap, []).append(writers[o.name].write)
    pm_meter = programme_meter(plan.sample_rate)
    consumers.setdefault("premaster", []).append(pm_meter.process)
    meters = {n.id: LevelMeter(plan.sample_rate, 2, compiled=True) for n in plan.nodes
              if node_cache is None or node_cache.runner(n) is None} if node_meters else {}
    try:
        mix = engine.run_mix(consumers, spill_dir=tmp, progress=(lambda f: progress("mix", f)) if progress else None,
                             node_observers={k: m.process for k, m in meters.items()}, length=length,
                             node_cache=node_cache)
    except OSError as exc:  # a write that names no file: the premaster spill (stems go through libsndfile)
        raise named(exc, tmp) from None
    return _Mix(mix, pm_meter.result(), writers, meters)


def _metered(written: list[WrittenOutput], writers: dict[str, OutputWriter],
             as_written: dict[str, MeterResult]) -> list[OutputReport]:
    from mixgraph.api.meter import meter_file

    # a file metered as it was written is not read back: the meter saw the samples a reader
    # decodes from it; every other file is metered from its temporary on disk
    return [OutputReport(w, as_written.get(w.name) or meter_file(writers[w.name].tmp, compiled=True))
            for w in written]


def _stage_provenance(result: RenderResult, files: OutputFiles, tx: Transaction, report_files: bool) -> None:
    from mixgraph.report import build_report, report_texts

    git = git_info(result.plan.session_dir)
    file = None if result.session_file == "<plan>" else result.session_file
    for o in result.outputs:
        p = files.sidecars[o.written.name]
        # each master file's own pass: its rate and its target, not the session's master
        gr = result.output_stats.get(o.written.name) if o.written.tap == "master" else None
        tx.stage_text(p, sidecar_text(result.plan, session_file=file, session_sha256=result.session_hash,
                                      written=o.written, meter=o.meter, git=git, gain_reduction=gr))
        result.sidecars.append(str(p))
    if report_files:
        for suffix, text in report_texts(build_report(result)).items():
            tx.stage_text(files.reports[suffix], text)
            result.report_files.append(str(files.reports[suffix]))


def render_session(path_or_plan: str | Path | RenderPlan, *, variant: str | None = None,
                   out_dir: str | Path | None = None, block_size: int | None = None, jobs: int | None = None,
                   progress: Callable[[str, float], None] | None = None, node_meters: bool = True,
                   report_files: bool = True, extra_files: ExtraFiles | None = None,
                   reference: MasterReference | None = None, write: bool = True,
                   cache: Cache | None = None) -> RenderResult:
    """Render every output of a session (or of a compiled plan) and write its files.

    Every file (audio, sidecars, reports, ``extra_files``) is written to a temporary and renamed
    into place together once all are complete (see ``mixgraph.atomic``): an error or interrupt
    at any point before that leaves the previous files as they were. ``write=False`` renders and
    measures without writing anything.

    A variant is mastered with the session's own master gains and length (``reference``; rendered
    first when not given) unless it sets ``master_gain: own``.

    ``cache``: reuse what an earlier render computed with the same inputs (``mixgraph.api.cached``);
    the outputs are the same samples as without it."""
    t0 = time.perf_counter()
    if isinstance(path_or_plan, RenderPlan):
        plan, file, shash = path_or_plan, "<plan>", None
        files = bare_output_files(plan, out_dir=out_dir)
    else:
        r: ResolvedPlan = resolve_plan(path_or_plan, variant, out_dir=out_dir)
        plan, file, shash, files = r.plan, r.file, r.session_hash, r.files
        if variant is not None and reference is None and r.loaded.session.variants[variant].master_gain == "base":
            reference = render_session(path_or_plan, block_size=block_size, jobs=jobs, node_meters=False,
                                       report_files=False, write=False, cache=cache).reference
    engine = Engine(plan, block_size=block_size, jobs=jobs)
    meta = file_metadata(plan, shash)
    # a commit this session's last render could not finish (killed) is finished first; its lock
    # is among the files a render commits (the recall layer's extra_files)
    recoverable = {str(p) for p in files.all_paths()}
    if not isinstance(path_or_plan, RenderPlan):
        recoverable.add(str(lock_path(path_or_plan)))
    recover(files.journal_dir, files.journal_name, recoverable)
    reuse = True
    while True:
        opened: dict[str, OutputWriter] = {}  # every writer with a file open
        try:
            with Transaction(files.journal_dir, files.journal_name) as tx, spill_dir() as tmp:
                rc = None if cache is None else RenderCache(
                    cache, plan, reuse=reuse, node_meters=node_meters, targets=files.audio, metadata=meta,
                    length=reference.length if reference is not None else None,
                    fixed_gains=reference.gains if reference is not None else None, block=engine.block)
                if rc is not None:
                    rc.use.retried = not reuse
                try:
                    result = _render(plan, file, shash, files, engine, meta, tx, tmp, opened, t0, node_meters,
                                     progress, reference, rc)
                    if write:
                        _stage_provenance(result, files, tx, report_files)
                        for path, text in (extra_files(result) if extra_files else {}).items():
                            tx.stage_text(path, text)
                        tx.commit()
                    # without write, the transaction's temporaries go with it
                except BaseException:
                    for w in opened.values():
                        w.abort()  # closed before the transaction removes their temporaries
                    raise
                finally:
                    if rc is not None:
                        rc.close()
            return result
        except CacheMiss:
            if not reuse:
                raise
            reuse = False  # a cached entry was corrupt or too short: render it all (nothing was committed)


def _render(plan: RenderPlan, file: str, shash: str | None, files: OutputFiles, engine: Engine,
            meta: dict[str, str], tx: Transaction, tmp: str, opened: dict[str, OutputWriter], t0: float,
            node_meters: bool, progress, reference: MasterReference | None, rc: RenderCache | None = None
            ) -> RenderResult:
    """render_session's work inside its transaction and spill folder, up to the commit."""
    def run_mix(node_cache=None) -> _Mix:
        return _mix_stage(plan, files, tx, engine, meta, tmp, node_meters, progress, opened,
                          reference.length if reference is not None else None, node_cache)

    mix = run_mix() if rc is None else rc.mix(run_mix, lambda r, pm, levels: _Mix(r, pm, {}, levels))
    ctx = MasterContext(plan, mix.result.spill_path, mix.result.length, mix.premaster, files.audio, meta, tx, tmp,
                        engine.block, engine.jobs > 1, progress, reference.gains if reference is not None else None)
    stage = master_stage(ctx) if rc is None else rc.master(ctx, master_stage)
    writers = {**mix.writers, **stage.writers}
    opened.update(stage.writers)
    written = [writers[o.name].finish() for o in plan.outputs]
    for w in writers.values():
        tx.stage(files.audio[w.out.name], w.tmp)
    outputs = _metered(written, writers, stage.as_written)
    if rc is not None:
        rc.store_master(stage, outputs)
    warnings, notes = master_warnings(plan, outputs, fixed_gain=reference is not None)
    warnings = list(plan.warnings) + [
        f"{printable(o.written.path)}: {o.written.clipped_samples} samples beyond full scale were clipped"
        for o in outputs if o.written.clipped_samples] + warnings
    if reference is not None:
        notes.append("mastered with the session's master gain and length (master_gain: base), so it lines "
                     "up with the main master")
    return RenderResult(
        plan=plan, session_file=file, variant=plan.variant, outputs=outputs, premaster=mix.premaster,
        master=stage.master, node_levels={k: m.result() for k, m in mix.node_meters.items()},
        node_stats=mix.result.node_stats, master_stats={"gain_reduction": stage.stats}, loudness=stage.solve,
        render_seconds=time.perf_counter() - t0, duration_s=mix.result.length / plan.sample_rate,
        notes=list(mix.result.notes) + notes, warnings=warnings, session_hash=shash,
        reference=MasterReference(stage.gains, mix.result.length), reference_used=reference is not None,
        solves={k.label(): v for k, v in stage.solves.items()}, output_stats=dict(stage.output_stats),
        cache=rc.use if rc is not None else None)

"""The master stage: every master-tapped deliverable from the one premaster spill.

Deliverables are grouped by sample rate and loudness (an output may carry its own target and
ceiling: one mix, many masters). A deliverable at another rate runs the master chain up to its
last limiter at the session's rate (the same tone at every rate), is resampled, and runs the
last limiter at its own rate, so the ceiling holds on the file as written. Every pass of the
solver writes that rate's deliverables to temporaries and meters them as written, so the pass the
solver accepts is the final one (no extra pass); only the pass closest to the target is kept.
The groups after the session's own master are aimed by a stand-in and a probe
(mixgraph.mastering.surrogate) and run side by side, each in a thread of its own (``_Stage``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from mixgraph.atomic import Transaction
from mixgraph.audio.writer import OutputWriter
from mixgraph.errors import RenderError, printable
from mixgraph.graph.plan import LoudnessPlan, OutputPlan, ProcStep, RenderPlan
from mixgraph.mastering.chain import master_pass, master_pass_converted
from mixgraph.mastering.solver import LoudnessSolve, Measurement, Target, solve_gain
from mixgraph.mastering.surrogate import Guide, StandIn, stand_in_possible
from mixgraph.meter import LevelMeter, LoudnessMeter, MeterResult
from mixgraph.render.engine import GainReductionStat

# The render's meters use its compiled kernels (numba is loaded anyway); ``mixgraph meter`` does without.


def programme_meter(rate: int) -> LoudnessMeter:
    return LoudnessMeter(rate, 2, compiled=True)


def loudness_meter(rate: int) -> LevelMeter:
    """Only the integrated loudness (the solver's passes that write nothing)."""
    return LevelMeter(rate, 2, compiled=True, true_peak=False)


@dataclass(frozen=True)
class GroupKey:
    """Deliverables mastered together: one sample rate, one loudness target and ceiling."""

    rate: int
    loudness: LoudnessPlan | None
    #: the outputs' own loudness (its ceiling then drives the chain's last limiter)
    own: bool = False

    def label(self) -> str:
        if self.loudness is None:
            return f"{self.rate} Hz"
        return f"{self.loudness.target_lufs:g} LUFS / {self.loudness.ceiling_dbtp:g} dBTP at {self.rate} Hz"


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
    #: input gains to use instead of solving (a variant mastered like the session's own master)
    fixed_gains: dict[GroupKey, float] | None = None
    #: the transaction's temporaries are made and discarded by the groups' threads
    tx_lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class MasterStage:
    """The master deliverables, written to the transaction's temporaries (not yet committed)."""

    writers: dict[str, OutputWriter] = field(default_factory=dict)
    as_written: dict[str, MeterResult] = field(default_factory=dict)  # name -> meter of the file as written
    solve: LoudnessSolve | None = None  # the session's master (its rate, master.loudness)
    master: MeterResult | None = None
    stats: list[GainReductionStat] = field(default_factory=list)
    #: every group's input gain and solve (a variant is mastered with the session's gains)
    gains: dict[GroupKey, float] = field(default_factory=dict)
    solves: dict[GroupKey, LoudnessSolve] = field(default_factory=dict)
    #: output name -> the master chain's gain reduction in the pass that wrote that output (its
    #: rate, its target): a club master's limiter works harder than the streaming one's
    output_stats: dict[str, list[GainReductionStat]] = field(default_factory=dict)


@dataclass
class _Pass:
    writers: list[OutputWriter]
    result: MeterResult
    stats: list[GainReductionStat]


def _limiter_gr(stats: list[GainReductionStat]) -> tuple[float, float]:
    lim = [s for s in stats if s.kind == "limiter"]
    return max((s.max_db for s in lim), default=0.0), max((s.mean_db for s in lim), default=0.0)


def group_chain(plan: RenderPlan, key: GroupKey) -> tuple[ProcStep, ...]:
    """The master chain for a group: with the outputs' own ceiling, the chain's last limiter holds
    that ceiling (a club master at -0.3 dBTP from a chain written for -1 dBTP streaming)."""
    chain = plan.master.chain
    if not key.own or key.loudness is None:
        return chain
    last = max((i for i, st in enumerate(chain) if st.type == "limiter"), default=None)
    if last is None:
        return chain
    st = chain[last]
    st = replace(st, params={**st.params, "ceiling_dbtp": key.loudness.ceiling_dbtp})
    return chain[:last] + (st,) + chain[last + 1:]


class _GroupJob:
    """The deliverables of one group: passes over its rate's spill, the closest one kept."""

    def __init__(self, ctx: MasterContext, key: GroupKey, outs: list[OutputPlan], spill: str, length: int,
                 known: list[tuple[float, float]], guide: Callable | None = None,
                 on_first_pass: Callable[[], None] | None = None):
        self.ctx, self.key, self.outs = ctx, key, outs
        self.guide = guide
        self.on_first_pass = on_first_pass  # called once, as the first real pass begins
        self.spill, self.length = spill, length
        self.chain = group_chain(ctx.plan, key)
        self.target = key.loudness.target_lufs if key.loudness is not None else None
        self.kept: dict[float, _Pass] = {}
        self.known = known  # (gain, loudness) of every pass over this rate and chain

    def miss(self, r: MeterResult) -> float:
        if self.target is None or r.integrated_lufs is None:
            return float("inf")
        return abs(r.integrated_lufs - self.target)

    def _discard(self, p: _Pass) -> None:
        discard(self.ctx, p.writers)

    def _temp(self, o: OutputPlan) -> Path:
        with self.ctx.tx_lock:
            return self.ctx.tx.new_temp(self.ctx.targets[o.name])

    def run_pass(self, g: float) -> _Pass:
        ctx = self.ctx
        if self.on_first_pass is not None:
            hook, self.on_first_pass = self.on_first_pass, None
            hook()
        ws = [OutputWriter(o, ctx.targets[o.name], self.key.rate, 2, ctx.plan.seed, metadata=ctx.metadata,
                           tmp=self._temp(o), spill_dir=ctx.tmp_dir) for o in self.outs]
        done = _Pass(ws, None, [])  # type: ignore[arg-type]
        try:
            meter = programme_meter(self.key.rate)
            # the master is metered as the first lossless file holds it (after dither and
            # quantisation): the master's numbers are the delivered file's, with no second read
            primary = next((w for w in ws if w.lossless), None)
            consumers = [w.write for w in ws]
            if primary is not None:
                primary.meter = meter
            else:
                consumers.append(meter.process)
            if self.key.rate == ctx.plan.sample_rate:
                done.stats = master_pass(ctx.plan, self.spill, self.length, g, consumers,
                                         block_size=ctx.block_size, threaded=ctx.threaded, chain=self.chain)
            else:
                done.stats = master_pass_converted(ctx.plan, self.spill, self.length, g, consumers,
                                                   out_rate=self.key.rate, block_size=ctx.block_size,
                                                   threaded=ctx.threaded, chain=self.chain)
            result = meter.result()
            if primary is not None:  # the file holds no overs: count what was clipped to get there
                result = replace(result, clipped_samples=primary.clipped)
            done.result = result
        except BaseException:
            self._discard(done)
            raise
        if result.integrated_lufs is not None:
            self.known.append((g, result.integrated_lufs))
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

    def probe(self, g: float) -> float | None:
        """The integrated loudness of the real chain at gain g, with no file written and no true
        peak metered (about half a pass): the guide's measure of its stand-in's error."""
        ctx = self.ctx
        meter = loudness_meter(self.key.rate)
        master_pass(ctx.plan, self.spill, self.length, g, [meter.process], block_size=ctx.block_size,
                    threaded=ctx.threaded, chain=self.chain)
        return meter.result().integrated_lufs

    def measure(self, g: float) -> Measurement:
        p = self.run_pass(g)
        gr_max, gr_mean = _limiter_gr(p.stats)
        return Measurement(p.result.integrated_lufs, p.result.true_peak_dbtp, gr_max, gr_mean)

    def run(self) -> tuple[_Pass, LoudnessSolve | None, float]:
        ctx = self.ctx
        lp = self.key.loudness
        solve = None
        gain = 0.0
        fixed = (ctx.fixed_gains or {}).get(self.key)
        try:
            if fixed is not None:
                gain = fixed
            elif lp is not None:
                target = Target(lp.target_lufs, lp.ceiling_dbtp, lp.tolerance_lu, lp.max_gain_reduction_db)
                report = (lambda f: ctx.progress("loudness", f)) if ctx.progress else None
                prior = list(self.known)
                solve = solve_gain(self.measure, ctx.premaster.integrated_lufs, target, report, known=prior,
                                   guide=self.guide)
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
        return chosen, solve, gain


def check_ceiling(plan: RenderPlan, master: MeterResult, lp: LoudnessPlan | None) -> None:
    """A master over its ceiling is an error: nothing is written."""
    if lp is None or master.true_peak_dbtp <= lp.ceiling_dbtp + 1e-9:
        return
    has_limiter = any(st.type == "limiter" for st in plan.master.chain)
    hint = None if has_limiter else "Add a limiter at the end of the master chain."
    raise RenderError(f"At {lp.target_lufs:g} LUFS the master's true peak is {master.true_peak_dbtp:.2f} dBTP, "
                      f"above the ceiling {lp.ceiling_dbtp:g} dBTP; nothing was written.", hint=hint)


def groups(plan: RenderPlan) -> dict[GroupKey, list[OutputPlan]]:
    """The master deliverables by (rate, loudness): the session's own master (its rate, the
    master's loudness) first, even with no file of its own, since the report describes it."""
    sr = plan.sample_rate
    out: dict[GroupKey, list[OutputPlan]] = {GroupKey(sr, plan.master.loudness): []}
    for o in plan.outputs:
        if o.tap != "master":
            continue
        key = GroupKey(o.sample_rate, plan.master.loudness)
        if o.loudness is not None:
            own = GroupKey(o.sample_rate, o.loudness, True)
            ml = plan.master.loudness
            # the master's own target and ceiling on the master's own chain: one solve, not two
            same = ml is not None and (ml.target_lufs, ml.ceiling_dbtp) == (o.loudness.target_lufs,
                                                                           o.loudness.ceiling_dbtp)
            if not (same and group_chain(plan, own) == plan.master.chain):
                key = own
        out.setdefault(key, []).append(o)
    return out


def discard(ctx: MasterContext, writers: list[OutputWriter]) -> None:
    for w in writers:
        w.abort()
        with ctx.tx_lock:
            ctx.tx.discard(w.tmp)


@dataclass(frozen=True)
class _View:
    """What a group is aimed with: per (rate, chain), the real points and the stand-in as they
    stood when the group started. Each group gets copies, so what it sees does not depend on how
    far the groups running beside it have got (the same gains, the same bits, on any machine)."""

    known: dict[tuple, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    stand_ins: dict[tuple, StandIn] = field(default_factory=dict)


class _Stage:
    """The groups after the session's own master run side by side: each starts as the one before
    it begins its first real pass (its aim, stand-in passes and probe done, so the next is aimed
    with them), with the view it left; the main thread waits for them in order. Unthreaded
    (``--jobs 1``) the next group runs to its end right there, with the same view: the same bits."""

    def __init__(self, ctx: MasterContext, todo: list[tuple[GroupKey, list[OutputPlan]]]):
        self.ctx, self.todo = ctx, todo
        self.main = GroupKey(ctx.plan.sample_rate, ctx.plan.master.loudness)
        self.futures: dict[int, Future] = {}
        self.pool = (ThreadPoolExecutor(len(todo) - 1, thread_name_prefix="mixgraph-target")
                     if ctx.threaded and len(todo) > 1 else None)
        self.lock = threading.Lock()

    def job(self, i: int, view: _View) -> _GroupJob:
        ctx, plan = self.ctx, self.ctx.plan
        key, outs = self.todo[i]
        chain = group_chain(plan, key)
        ck = (key.rate, repr(chain))
        points = list(view.known.get(ck, ()))
        guide = None
        stand_in = None
        # the session's own master is solved as it always was (its bits do not depend on how many
        # other deliverables there are); a later target at the session's rate is aimed by a
        # stand-in pass corrected by what the real passes so far measured
        if (key != self.main and key.loudness is not None and key.rate == plan.sample_rate
                and not (ctx.fixed_gains or {}).get(key) and stand_in_possible(chain)):
            stand_in = (view.stand_ins[ck].copy() if ck in view.stand_ins else
                        StandIn(plan, ctx.spill_path, ctx.length, chain, ctx.block_size, threaded=ctx.threaded))
            others = [(si.ceiling_dbtp, si, view.known.get(k, ())) for k, si in view.stand_ins.items() if k != ck]
            guide = Guide(stand_in, key.loudness.target_lufs, key.loudness.tolerance_lu, others)
        job = _GroupJob(ctx, key, outs, ctx.spill_path, ctx.length, points, guide)
        if guide is not None:
            guide.probe = job.probe

        def start_next() -> None:
            stand_ins = dict(view.stand_ins)
            if stand_in is not None:
                stand_ins[ck] = stand_in.copy()
            self.start(i + 1, _View({**view.known, ck: tuple(points)}, stand_ins))

        job.on_first_pass = start_next if i + 1 < len(self.todo) else None
        return job

    def start(self, i: int, view: _View) -> None:
        job = self.job(i, view)
        if self.pool is not None:
            with self.lock:
                self.futures[i] = self.pool.submit(job.run)
            return
        fut: Future = Future()
        self.futures[i] = fut
        try:
            fut.set_result(job.run())
        except BaseException as exc:  # raised in order, as a thread's would be
            fut.set_exception(exc)

    def run(self) -> list[tuple[_Pass, LoudnessSolve | None, float]]:
        """Every group's (chosen pass, solve, gain), in order; the first group in this thread."""
        results = []
        error: BaseException | None = None
        try:
            first = self.job(0, _View())
            first.on_first_pass = None  # the next groups are aimed with its finished solve
            results.append(first.run())
            if len(self.todo) > 1:
                self.start(1, _View({(first.key.rate, repr(first.chain)): tuple(first.known)}))
            for k in range(1, len(self.todo)):
                # group k was started by group k-1's first pass, which has ended by now (a group
                # that failed before its first pass started no other)
                with self.lock:
                    fut = self.futures.get(k)
                if fut is None:
                    break
                try:
                    results.append(fut.result())
                except BaseException as exc:  # the rest still run to their end before the error is raised
                    error = error or exc
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
        if error is not None:
            for chosen, _, _ in results:
                discard(self.ctx, chosen.writers)
            raise error
        return results


def master_stage(ctx: MasterContext) -> MasterStage:
    """Master every master-tapped output; their files wait in ``ctx.tx`` for the render's commit.
    The passes of the groups at one rate and chain share what they measured, so a second target
    on the same chain needs fewer passes; the groups after the session's own master run side by
    side (``_Stage``)."""
    plan = ctx.plan
    stage = MasterStage()
    todo = list(groups(plan).items())
    for (key, outs), (chosen, solve, gain) in zip(todo, _Stage(ctx, todo).run(), strict=True):
        for o, w in zip(outs, chosen.writers, strict=True):
            stage.writers[o.name] = w
            stage.output_stats[o.name] = chosen.stats
            if w.meter is not None:
                stage.as_written[o.name] = chosen.result
        check_ceiling(plan, chosen.result, key.loudness)
        stage.as_written.update(encode_lossy(chosen.writers, key.loudness))
        stage.gains[key] = gain
        if solve is not None:
            stage.solves[key] = solve
        if key == GroupKey(plan.sample_rate, plan.master.loudness):
            stage.solve, stage.master, stage.stats = solve, chosen.result, chosen.stats
    return stage


#: encodes of a lossy master before its overshoot of the ceiling is an error
LOSSY_TRIES = 4


def encode_lossy(writers: list[OutputWriter], lp: LoudnessPlan | None) -> dict[str, MeterResult]:
    """Encode the lossy masters of a group so each decodes under the ceiling by its margin (the
    margin covers the codec's variation between encodes and decoders): a file that overshoots (the codec's
    filtering and quantisation add peaks the limiter never saw) is encoded again from its spill,
    lowered by the overshoot plus half the margin, at most LOSSY_TRIES times. Returns the meter of
    each file as decoded from disk; RenderError when one stays over."""
    from mixgraph.audio.reader import open_audio

    metered: dict[str, MeterResult] = {}
    for w in writers:
        if w.lossless or lp is None:
            continue
        margin = w.out.ceiling_margin_db or 0.0
        limit = lp.ceiling_dbtp - margin
        gain = 0.0
        for _ in range(LOSSY_TRIES):
            w.encode(gain)
            with open_audio(w.tmp) as r:
                meter = programme_meter(r.sample_rate)
                for block in r.blocks(65536):
                    meter.process(block)
            m = meter.result()
            over = m.true_peak_dbtp - limit
            if over <= 1e-9:
                break
            gain -= over + margin / 2
        else:
            raise RenderError(f"{printable(str(w.path))}: decodes to {m.true_peak_dbtp:.2f} dBTP after {LOSSY_TRIES} "
                              f"encodes, above the ceiling {lp.ceiling_dbtp:g} dBTP less its {margin:g} dB margin; "
                              "nothing was written.",
                              hint="Give it a higher bitrate_kbps or a larger ceiling_margin_db.")
        metered[w.out.name] = m
    return metered


def master_warnings(plan: RenderPlan, outputs, *, fixed_gain: bool = False) -> tuple[list[str], list[str]]:
    """(warnings, notes) about the master files as written; RenderError for a master over its
    ceiling, a lossy one as decoded (nothing is written). ``fixed_gain``: a variant mastered with
    the session's gain, whose loudness differs from the target by design (an instrumental is
    quieter)."""
    warnings: list[str] = []
    notes: list[str] = []
    by_name = {o.name: o for o in plan.outputs}
    for o in outputs:
        if o.written.tap != "master":
            continue
        lp = by_name[o.written.name].loudness or plan.master.loudness
        if lp is None:
            continue
        m = o.meter
        path = printable(o.written.path)
        lossy = o.written.format in ("ogg", "mp3")
        if lossy and o.written.codec_gain_db < 0:
            notes.append(f"{path}: encoded {-o.written.codec_gain_db:.2f} dB under the master so it decodes "
                         f"to {m.true_peak_dbtp:.2f} dBTP, under the {lp.ceiling_dbtp:g} dBTP ceiling "
                         f"(codec overshoot at {o.written.bitrate_kbps} kbps)")
        if m.true_peak_dbtp > lp.ceiling_dbtp + 1e-9:
            raise RenderError(f"{path}: true peak {m.true_peak_dbtp:.2f} dBTP as written, above the ceiling "
                              f"{lp.ceiling_dbtp:g} dBTP; nothing was written.",
                              hint="Lower the limiter's ceiling or the target, or give this output its own "
                                   "loudness with a lower ceiling_dbtp.")
        if lossy:
            continue  # lowered under its ceiling: its loudness follows the master's, not the target
        if not fixed_gain and m.integrated_lufs is not None and abs(m.integrated_lufs - lp.target_lufs) > lp.tolerance_lu:
            warnings.append(f"{path}: {m.integrated_lufs:.2f} LUFS is outside "
                            f"{lp.target_lufs:g} +- {lp.tolerance_lu:g} LU")
    return warnings, notes

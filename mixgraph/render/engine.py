"""The streaming block engine: runs a RenderPlan block by block.

Signal flow per node is the one documented in ``mixgraph/graph/plan.py``.
All state (filters, envelopes, delay lines, source positions) carries across
blocks, so the output does not depend on the block size; sums are at unity in
the plan's input order, so they do not depend on thread timing either.

Two stages:

1. mix: every node, block by block, up to the master's input sum (the
   *premaster*), which is spilled to a float64 temporary file (float64 so the
   master is bit-identical to an in-memory render; memory stays flat);
2. master: ``mixgraph.mastering`` runs the master chain over the spilled premaster.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mixgraph.audio.resample import load_ir
from mixgraph.audio.sources import SourceStream
from mixgraph.dsp.automation import Lane
from mixgraph.dsp.base import GRStats
from mixgraph.dsp.basic import apply_pan, apply_width, pan_gains
from mixgraph.dsp.registry import create
from mixgraph.errors import RenderError
from mixgraph.graph.plan import NodePlan, ProcStep, RenderPlan, dsp_kwargs
from mixgraph.render import warmup
from mixgraph.units import db_to_gain

SILENCE = db_to_gain(-120.0)  # -120 dBFS: "silent" for tail: auto
SILENCE_HOLD_S = 0.1  # silent this long after the timeline: the tail is over
MAX_AUTO_TAIL_S = 30.0


def longest_gap_s(plan: RenderPlan) -> float:
    """The longest silence a delay or a reverb pre-delay can leave before its signal comes back."""
    from mixgraph.units import note_to_ms

    gap = 0.0
    steps = [st for n in plan.nodes for st in n.chain] + list(plan.master.chain)
    for st in steps:
        p = st.params
        if st.type == "delay":
            ms = p.get("time_ms") or note_to_ms(p["note"], p["tempo_bpm"])
            right = p.get("right_time_ms") or (note_to_ms(p["right_note"], p["tempo_bpm"])
                                               if p.get("right_note") else 0.0)
            gap = max(gap, ms * 1e-3, right * 1e-3)
        elif st.type == "reverb":
            gap = max(gap, p.get("predelay_ms", 0.0) * 1e-3)
    return gap + SILENCE_HOLD_S


class DelayLine:
    """Integer delay with carried history: block-size invariant."""

    def __init__(self, channels: int, delay: int):
        self.delay = delay
        self.hist = np.zeros((channels, delay))

    def process(self, x: np.ndarray) -> np.ndarray:
        if self.delay == 0:
            return x
        buf = np.concatenate((self.hist, x), axis=1)
        self.hist = buf[:, x.shape[1]:]
        return buf[:, : x.shape[1]]


def _db(values) -> np.ndarray:
    return db_to_gain(np.asarray(values, dtype=np.float64))


@dataclass
class ChainRunner:
    steps: tuple[ProcStep, ...]
    sample_rate: int
    channels_in: int
    block_size: int
    session_dir: Path
    procs: list = field(default_factory=list)
    lanes: list = field(default_factory=list)
    key_lines: list = field(default_factory=list)
    gr_stats: list[GRStats] = field(default_factory=list)

    def __post_init__(self):
        ch = self.channels_in
        for st in self.steps:
            params = dsp_kwargs(st)
            if st.type == "reverb" and params.get("ir"):
                params["ir"] = load_ir(self.session_dir / params["ir"], self.sample_rate)
            p = create(st.type, **params)
            p.prepare(self.sample_rate, ch, self.block_size)
            self.procs.append(p)
            p.gr_stats = GRStats(self.sample_rate)  # dynamics fold their gain reduction into it
            self.gr_stats.append(p.gr_stats)
            self.lanes.append({k: Lane(v, self.sample_rate) for k, v in st.automation.items()})
            self.key_lines.append(DelayLine(2, st.sidechain.delay_samples) if st.sidechain else None)
            ch = p.output_channels(ch)
        self.channels_out = ch

    def process(self, x: np.ndarray, pos: int, keys: dict[str, np.ndarray]) -> np.ndarray:
        n = x.shape[1]
        for st, p, lanes, kl in zip(self.steps, self.procs, self.lanes, self.key_lines, strict=True):
            params = {k: lane.values_at(pos, n) for k, lane in lanes.items()}
            key = kl.process(keys[st.sidechain.source]) if kl is not None else None
            x = p.process(x, key=key, params=params)
        return x


class NodeRunner:
    def __init__(self, node: NodePlan, plan: RenderPlan, block_size: int):
        self.node = node
        sr = plan.sample_rate
        self.source = SourceStream(node.source, sr) if node.source else None
        if self.source is not None and self.source.channels != node.channels_in:
            node_ch = self.source.channels
        else:
            node_ch = node.channels_in
        self.in_lines = [DelayLine(2, i.delay_samples) for i in node.inputs]
        self.in_gains = [db_to_gain(i.level_db) for i in node.inputs]
        self.input_delay = DelayLine(node_ch, node.input_delay_samples)
        self.chain = ChainRunner(node.chain, sr, node_ch, block_size, Path(plan.session_dir))
        self.lanes = {k: Lane(v, sr) for k, v in node.automation.items()}
        # the fader in dB: its own gain plus its VCA groups' (a group's lane, or its constant gain)
        gain_db = node.gain_db
        self.vca_gains: list[float] = []
        self.vca_lanes: list[Lane] = []
        for name in node.vcas:
            vca = plan.vca(name)
            if "gain_db" in vca.automation:
                self.vca_lanes.append(Lane(vca.automation["gain_db"], sr))
            else:
                self.vca_gains.append(vca.gain_db)
                gain_db += vca.gain_db
        self.gain_db = gain_db
        self.gain = db_to_gain(gain_db)
        self.fader_moves = "gain_db" in self.lanes or bool(self.vca_lanes)
        # constant gain and pan (the usual case): one (2, 1) column of gains, one multiply per block
        self.post_gains = None
        if not self.fader_moves and "pan" not in self.lanes:
            mono = self.chain.channels_out == 1
            if node.pan != 0 or mono:
                gl, gr = pan_gains(node.pan, self.chain.channels_out)
                self.post_gains = np.array([[self.gain * float(gl)], [self.gain * float(gr)]])
            else:
                self.post_gains = np.array([[self.gain], [self.gain]])
        self.has_keys = any(st.sidechain for st in node.chain)
        self.gr = self.chain.gr_stats
        self.peak = 0.0
        self.clipped = 0
        #: count peak and clips here; off when a node meter observes this node (it counts them)
        self.count_levels = True
        #: whether a pre-fader send takes this node's pre-fader signal
        self.keep_pre = any(i.source == node.id and i.point == "pre"
                            for n in (*plan.nodes, plan.master) for i in n.inputs)

    def run(self, pos: int, n: int, bufs: dict[str, tuple[np.ndarray | None, np.ndarray]]
            ) -> tuple[np.ndarray | None, np.ndarray]:
        node = self.node
        if self.source is not None:
            x = self.source.block(pos, n)
        else:
            x = sum_inputs(node.inputs, self.in_lines, self.in_gains, bufs, n)
        x = self.input_delay.process(x)
        keys = ({st.sidechain.source: bufs[st.sidechain.source][1] for st in node.chain if st.sidechain}
                if self.has_keys else {})
        pre = self.chain.process(x, pos, keys)
        if node.mute:
            z = np.zeros((2, n))
            return z, z
        if self.post_gains is not None:
            post = pre * self.post_gains  # (channels, n) * (2, 1): stereo out from mono or stereo
        else:
            g = _db(self.fader_db(pos, n)) if self.fader_moves else self.gain
            pan = self.lanes["pan"].values_at(pos, n) if "pan" in self.lanes else node.pan
            post = apply_pan(pre * g, pan) if (np.any(pan != 0) or pre.shape[0] == 1) else pre * g
        if node.kind != "track":
            width = self.lanes["width"].values_at(pos, n) if "width" in self.lanes else node.width
            if np.any(width != 1.0):
                post = apply_width(post, width)
        # the pre-fader signal, stereo, for pre-fader sends; None when nothing takes it, so the
        # block is freed here instead of held until the block's end (16 MB at 64k frames, 16 tracks)
        if not self.keep_pre:
            pre2 = None
        elif pre.shape[0] == 2:
            pre2 = pre
        else:
            pre2 = np.vstack((pre[0], pre[0])) * db_to_gain(-3.0103)
        if n and self.count_levels:
            a = np.abs(post)
            self.peak = max(self.peak, float(a.max()))
            self.clipped += int(np.count_nonzero(a >= 1.0))
        return pre2, post

    def fader_db(self, pos: int, n: int) -> np.ndarray:
        """The fader in dB at each sample of the block: its own lane (or gain) plus the constant
        VCA gains, plus each automated VCA group's lane, in dB, sample by sample."""
        own = self.lanes.get("gain_db")
        if own is not None:
            db = own.values_at(pos, n)
            for g in self.vca_gains:
                db = db + g
        else:
            db = np.full(n, self.gain_db)
        for lane in self.vca_lanes:
            db = db + lane.values_at(pos, n)
        return db

    def stats(self) -> dict:
        return {**({"peak": self.peak, "clipped": self.clipped} if self.count_levels else {}),
                "gain_reduction": gain_reduction_stats(self.node.chain, self.gr)}

    def close(self) -> None:
        if self.source is not None:
            self.source.close()


def sum_inputs(inputs, lines, gains, bufs, n: int) -> np.ndarray:
    """The sum of a bus's (or the master's) inputs at unity in the plan's order, each delayed by
    its line and scaled by its send level: one output array, added to in place (the first two
    inputs summed into it, so no input is copied first: the same sums in the same order)."""
    x = None
    first = None  # the first input, until the second one comes
    for inp, line, g in zip(inputs, lines, gains, strict=True):
        pre, post = bufs[inp.source]
        sig = line.process(pre if inp.point == "pre" else post)
        if g != 1.0:
            sig = sig * g
        if x is not None:
            x += sig
        elif first is None:
            first = sig
        else:
            x = np.add(first, sig)
    if x is None:
        return np.zeros((2, n)) if first is None else first.copy()
    return x


def run_parallel(pool: ThreadPoolExecutor, helpers: int, tasks: list[Callable]) -> list:
    """Each task's result, in order: the calling thread and ``helpers`` threads of ``pool`` take
    the tasks one at a time, in order, until none is left. One hand-off per helper per call
    instead of a future per task, and the caller works instead of waiting (with --jobs 2: one
    thread woken per level and block, not two). The first error is raised once every thread
    has stopped taking tasks (the others finish the ones they hold)."""
    results: list = [None] * len(tasks)
    lock = threading.Lock()
    nxt = [0]
    failed: list[BaseException] = []

    def drain() -> None:
        while not failed:
            with lock:
                i = nxt[0]
                nxt[0] = i + 1
            if i >= len(tasks):
                return
            try:
                results[i] = tasks[i]()
            except BaseException as exc:
                failed.append(exc)
                raise

    futures = [pool.submit(drain) for _ in range(min(helpers, len(tasks) - 1))]
    try:
        drain()
    except BaseException as exc:  # also an interrupt between two tasks: the helpers stop taking
        if not failed:
            failed.append(exc)
        raise
    finally:
        wait(futures)  # (an error of theirs is in failed)
    if failed:
        raise failed[0]
    return results


class TapSink:
    """Keeps samples [trim, trim + length) of a stream and forwards them in blocks.

    ``length`` may grow while rendering (tail: auto); samples past the current length are
    held back, not dropped, until the length is known, so block cuts never change the result."""

    def __init__(self, trim: int, consumers: list[Callable[[np.ndarray], None]]):
        self.trim = trim
        self.pos = 0
        self.consumers = consumers
        self.length: int | None = None
        self.sent = 0
        self.pending: list[np.ndarray] = []

    def push(self, x: np.ndarray) -> None:
        n = x.shape[1]
        lo = max(self.trim - self.pos, 0)
        self.pos += n
        if lo < n:
            self.pending.append(x[:, lo:])
        self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        y = np.concatenate(self.pending, axis=1) if len(self.pending) > 1 else self.pending[0]
        room = y.shape[1] if self.length is None else max(0, self.length - self.sent)
        out, rest = y[:, :room], y[:, room:]
        self.pending = [rest] if rest.shape[1] else []
        if out.shape[1]:
            self.sent += out.shape[1]
            for c in self.consumers:
                c(out)


DYNAMICS_KINDS = ("compressor", "gate", "deesser", "limiter", "multiband", "clipper")


@dataclass(frozen=True)
class GainReductionStat:
    """How hard one dynamics processor of a chain worked over the render."""

    kind: str
    id: str | None
    index: int  # its position in the chain
    max_db: float
    mean_db: float
    per_second: tuple[float, ...]
    #: a multiband's bands, low band first (kind "band", index = band number)
    bands: tuple[GainReductionStat, ...] = ()


def _stat(kind: str, pid: str | None, i: int, g: GRStats) -> GainReductionStat:
    return GainReductionStat(kind, pid, i, g.max, g.mean, tuple(g.per_second),
                             tuple(_stat("band", None, k, b) for k, b in enumerate(g.bands)))


def gain_reduction_stats(steps: tuple[ProcStep, ...], grs: list[GRStats]) -> list[GainReductionStat]:
    return [_stat(st.type, st.id, i, g) for i, (st, g) in enumerate(zip(steps, grs, strict=True))
            if st.type in DYNAMICS_KINDS]


@dataclass
class MixResult:
    length: int  # samples of every output (timeline + tail)
    timeline: int
    spill_path: str
    node_stats: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: frames every node ran for (the length, the taps' latency and the last block's rest)
    frames: int = 0


#: frames per block when none is given: large enough that the per-block Python overhead of a
#: node (and the threads' hand-offs of the GIL) is small next to its DSP, small enough that a
#: stereo block (1 MB of float64) stays in a core's L2 cache and 16 stereo tracks a few tens of
#: MB per block (the sizes measured against each other: benchmarks/README.md).
DEFAULT_BLOCK = 65536
#: threads per graph level when none is given: 2 (fewer on a 1-core machine): two threads pay off
#: on the 2-core benchmark machine; more were not measured, and the nodes still hold the GIL
#: between their compiled kernels.
DEFAULT_JOBS = max(1, min(2, os.cpu_count() or 1))


class Engine:
    def __init__(self, plan: RenderPlan, block_size: int | None = None, jobs: int | None = None):
        block_size = DEFAULT_BLOCK if block_size is None else block_size
        if block_size < 1:
            raise RenderError("--block-size must be at least 1")
        self.plan = plan
        self.block = int(block_size)
        self.jobs = max(1, jobs or DEFAULT_JOBS)

    def run_mix(self, tap_consumers: dict[str, list[Callable[[np.ndarray], None]]], spill_dir: str | None = None,
                progress: Callable[[float], None] | None = None,
                node_observers: dict[str, Callable[[np.ndarray], None]] | None = None,
                length: int | None = None, node_cache=None) -> MixResult:
        """Every node, block by block, up to the premaster (spilled to a float64 file in
        ``spill_dir``); each tap's consumers get its samples, each observed node's observer its output.
        ``length``: render exactly this many samples (a variant written at the session's length).
        ``node_cache`` (``mixgraph.render.nodecache.NodeCache``): runners that read cached streams,
        and a recorder of the streams rendered."""
        run = _MixRun(self, tap_consumers, spill_dir, node_observers or {}, length, node_cache)
        try:
            return run.run(progress)
        finally:
            run.close()


class _Length:
    """How long the render is: the timeline plus ``tail_s``, or with ``tail_s: auto`` the timeline
    extended while the premaster or any tapped stem rings above -120 dBFS (a stem written on its own
    may ring on where the mix does not, e.g. a muted reverb return printed as a stem), capped."""

    def __init__(self, plan: RenderPlan, timeline: int, fixed: int | None = None):
        sr = plan.sample_rate
        self.auto = plan.tail_s == "auto" and fixed is None
        self.timeline = timeline
        if fixed is not None:
            self.hold = 0
            self.cap = self.length = fixed
        elif self.auto:
            self.hold = int(max(SILENCE_HOLD_S, longest_gap_s(plan)) * sr)
            self.cap = timeline + int(MAX_AUTO_TAIL_S * sr)
            self.length = timeline
        else:
            self.hold = 0
            self.cap = timeline + int(round(float(plan.tail_s) * sr))
            self.length = self.cap
        self.last_loud = -1

    def update(self, pos: int, signals: list[tuple[np.ndarray, int]]) -> int:
        if self.auto:
            for sig, trim in signals:
                loud = np.flatnonzero(np.max(np.abs(sig), axis=0) > SILENCE)
                if loud.size:
                    self.last_loud = max(self.last_loud, pos + int(loud[-1]) - trim)
            self.length = min(self.cap, max(self.timeline, self.last_loud + 1 + self.hold))
        return self.length


class _MixRun:
    """One run of the mix stage (see Engine.run_mix)."""

    def __init__(self, engine: Engine, tap_consumers: dict[str, list[Callable[[np.ndarray], None]]],
                 spill_dir: str | None, observers: dict[str, Callable[[np.ndarray], None]],
                 fixed_length: int | None = None, node_cache=None):
        plan = self.plan = engine.plan
        sr = plan.sample_rate
        self.block, self.jobs = engine.block, engine.jobs
        self.runners: dict[str, NodeRunner] = {}
        self.pool: ThreadPoolExecutor | None = None
        self.spill = None
        self.master_src = None
        self.observers = observers
        self.node_cache = node_cache
        for node in plan.nodes:
            cached = node_cache.runner(node) if node_cache is not None else None
            self.runners[node.id] = cached or NodeRunner(node, plan, self.block)
        warmup.maybe_start()  # the command line's first render: a helper compiles its last kernels
        self.master_lines = [DelayLine(2, i.delay_samples) for i in plan.master.inputs]
        self.master_gains = [db_to_gain(i.level_db) for i in plan.master.inputs]
        self.master_src = SourceStream(plan.master.source, sr) if plan.master.source else None
        timeline = max([r.source.end for r in self.runners.values() if r.source is not None]
                       + ([self.master_src.end] if self.master_src else []) + [0])
        if timeline == 0:
            raise RenderError("Nothing to render: the session has no sources.")
        self.length = _Length(plan, timeline, fixed_length)
        self.taps = {t.name: t for t in plan.taps}
        self.sinks = {name: TapSink(self.taps[name].trim_samples, consumers)
                      for name, consumers in tap_consumers.items() if name not in ("master", "premaster")}
        fd, self.spill_path = tempfile.mkstemp(prefix=".mixgraph-premaster-", suffix=".f64", dir=spill_dir)
        self.spill = os.fdopen(fd, "wb")
        spill = self.spill
        self.pm_sink = TapSink(plan.master.premaster_latency_samples,
                               [lambda x: spill.write(np.ascontiguousarray(x.T))]
                               + list(tap_consumers.get("premaster", [])))
        self.max_trim = max([self.pm_sink.trim] + [s.trim for s in self.sinks.values()])
        # the calling thread is one of the workers (see run_parallel)
        if self.jobs > 1:
            self.pool = ThreadPoolExecutor(self.jobs - 1, thread_name_prefix="mixgraph-node")
        self.levels = [[plan.node(nid) for nid in ids if nid != "master"] for ids in plan.levels]
        for nid in observers:
            self.runners[nid].count_levels = False

    def deliver(self, pm: np.ndarray, stems: dict[str, np.ndarray], length: int) -> None:
        # blocks are fresh arrays no node writes to again, so another thread may read them
        self.pm_sink.length = length
        self.pm_sink.push(pm)
        for name, sink in self.sinks.items():
            sink.length = length
            sink.push(stems[name])

    def run_node(self, nd: NodePlan, pos: int, n: int, bufs: dict) -> tuple:
        # each node's meter runs in the same worker as the node (a node's blocks still reach its
        # meter in timeline order: levels are processed one after another)
        if self.node_cache is not None:
            t = time.perf_counter()
            res = self.runners[nd.id].run(pos, n, bufs)
            self.node_cache.record(nd.id, res, time.perf_counter() - t)
        else:
            res = self.runners[nd.id].run(pos, n, bufs)
        observe = self.observers.get(nd.id)
        if observe is not None:
            observe(res[1])
        return res

    def nodes_block(self, pos: int, n: int, held: tuple | None) -> dict[str, tuple]:
        """Every node's block at ``pos``, level by level. With threads, the sinks (premaster meter,
        spill, stem writers) take the previous block ``held`` as one more task beside the first
        level, so blocks reach them in order, one behind, without a busy thread of their own."""
        bufs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for li, level in enumerate(self.levels):
            sink = li == 0 and held is not None
            if self.pool is not None and (len(level) > 1 or sink):
                tasks = [(lambda nd=nd: self.run_node(nd, pos, n, bufs)) for nd in level]
                if sink:
                    tasks.insert(0, lambda args=held: self.deliver(*args))
                results = run_parallel(self.pool, self.jobs - 1, tasks)[int(sink):]
            else:
                if sink:
                    self.deliver(*held)
                results = [self.run_node(nd, pos, n, bufs) for nd in level]
            for nd, res in zip(level, results, strict=True):
                bufs[nd.id] = res
        return bufs

    def premaster(self, pos: int, n: int, bufs: dict) -> np.ndarray:
        if self.master_src is not None:
            pm = self.master_src.block(pos, n)
            return np.vstack((pm[0], pm[0])) if pm.shape[0] == 1 else pm
        return sum_inputs(self.plan.master.inputs, self.master_lines, self.master_gains, bufs, n)

    def run(self, progress: Callable[[float], None] | None) -> MixResult:
        held: tuple | None = None  # with threads: the block the sinks take next
        pos = 0
        length = self.length.length
        while pos < length + self.max_trim:
            n = self.block
            bufs = self.nodes_block(pos, n, held)
            held = None
            pm = self.premaster(pos, n, bufs)
            stems = {name: bufs[self.taps[name].node][1] for name in self.sinks}
            length = self.length.update(pos, [(pm, self.pm_sink.trim)]
                                        + [(stems[name], sink.trim) for name, sink in self.sinks.items()])
            if self.pool is not None:
                held = (pm, stems, length)
            else:
                self.deliver(pm, stems, length)
            pos += n
            if progress is not None:
                progress(min(1.0, pos / max(1, length + self.max_trim)))
        if held is not None:
            self.deliver(*held)
        self.spill.close()
        stats = {nid: r.stats() for nid, r in self.runners.items()}
        if self.node_cache is not None:
            self.node_cache.ran(self.runners)
        notes = [r.source.note for r in self.runners.values() if r.source is not None and r.source.note]
        if self.master_src is not None and self.master_src.note:
            notes.append(self.master_src.note)
        return MixResult(length, self.length.timeline, self.spill_path, stats, notes, pos)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        for r in self.runners.values():
            r.close()
        if self.master_src is not None:
            self.master_src.close()
        if self.spill is not None and not self.spill.closed:
            self.spill.close()


class Handoff:
    """Calls ``fn(*args)`` for each ``submit`` in one background thread, in the order submitted,
    with at most ``depth`` calls queued (the caller waits for the oldest beyond that, so memory
    stays bounded); ``close`` waits for the rest, re-raising the first error, and stops the
    thread (it also does so on the way out of a ``with`` block). With ``threaded=False`` the
    calls run in the caller's thread, at once (``--jobs 1``)."""

    def __init__(self, fn: Callable, name: str, threaded: bool = True, depth: int = 2):
        self.fn = fn
        self.depth = depth
        self.pool = ThreadPoolExecutor(1, thread_name_prefix=name) if threaded else None
        self.pending: list = []

    def submit(self, *args) -> None:
        if self.pool is None:
            self.fn(*args)
            return
        while len(self.pending) >= self.depth:
            self.pending.pop(0).result()
        self.pending.append(self.pool.submit(self.fn, *args))

    def close(self) -> None:
        try:
            while self.pending:
                self.pending.pop(0).result()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Stop without waiting for what has not started (an error is already on its way)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Handoff:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.abort()

"""One pass of the master chain over the spilled premaster at an input gain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from mixgraph.audio.resample import StreamResampler, resampled_length
from mixgraph.dsp.automation import Lane
from mixgraph.graph.plan import ProcStep, RenderPlan
from mixgraph.render.engine import (
    ChainRunner,
    GainReductionStat,
    Handoff,
    TapSink,
    gain_reduction_stats,
)
from mixgraph.units import db_to_gain

FRAME_BYTES = 2 * 8  # a stereo float64 frame of the spill


def master_pass(plan: RenderPlan, spill_path: str, length: int, gain_db: float,
                consumers: list[Callable[[np.ndarray], None]], *, sample_rate: int | None = None,
                block_size: int, threaded: bool, chain: tuple[ProcStep, ...] | None = None
                ) -> list[GainReductionStat]:
    """Master gain + ``gain_db`` + chain over the premaster spill; feeds ``length`` samples of the
    master point (the chain's latency trimmed) to ``consumers``; returns the chain's dynamics.

    ``sample_rate``: the spill's rate when it is not the session's (a deliverable at another rate
    is mastered at its own rate, so its limiter holds the ceiling on the file as written).
    ``threaded``: the consumers (writers, meter) take block k in a thread of their own while the
    chain runs block k+1. ``chain``: the master chain to run (default the plan's)."""
    sr = sample_rate or plan.sample_rate
    m = plan.master
    steps = m.chain if chain is None else chain
    runner = ChainRunner(steps, sr, 2, block_size, Path(plan.session_dir))
    lanes = {k: Lane(v, sr) for k, v in m.automation.items()}
    latency = sum(p.latency_samples for p in runner.procs)
    sink = TapSink(latency, consumers)
    sink.length = length
    total = length + latency
    pos = 0
    with open(spill_path, "rb") as fh, Handoff(sink.push, "mixgraph-master", threaded) as out:
        while pos < total:
            n = min(block_size, total - pos)
            x = np.frombuffer(fh.read(n * FRAME_BYTES), dtype=np.float64).reshape(-1, 2).T
            if x.shape[1] < n:  # past the spill's end: the chain's latency and tail run on silence
                x = np.concatenate((x, np.zeros((2, n - x.shape[1]))), axis=1)
            if "gain_db" in lanes:
                x = x * db_to_gain(lanes["gain_db"].values_at(pos, n) + gain_db)
            else:
                x = x * db_to_gain(m.gain_db + gain_db)
            out.submit(runner.process(x, pos, {}))
            pos += n
    return gain_reduction_stats(steps, runner.gr_stats)


def split_at_last_limiter(chain: tuple[ProcStep, ...]) -> tuple[tuple[ProcStep, ...], tuple[ProcStep, ...]]:
    """(everything before the last limiter, the last limiter and what follows it)."""
    last = max((i for i, st in enumerate(chain) if st.type == "limiter"), default=len(chain))
    return chain[:last], chain[last:]


def master_pass_converted(plan: RenderPlan, spill_path: str, length: int, gain_db: float,
                          consumers: list[Callable[[np.ndarray], None]], *, out_rate: int, block_size: int,
                          threaded: bool, chain: tuple[ProcStep, ...] | None = None) -> list[GainReductionStat]:
    """A deliverable at another rate than the session's: the master chain up to its last limiter
    runs at the session's rate (so EQ and every other colour are the same at every rate: bilinear
    filters cramp differently near each rate's Nyquist), the result is resampled (soxr VHQ), and
    the last limiter and what follows run at the deliverable's rate, so the ceiling holds on the
    file as written. Feeds ``resampled_length(length)`` samples to ``consumers``."""
    sr = plan.sample_rate
    m = plan.master
    steps = m.chain if chain is None else chain
    pre, post = split_at_last_limiter(steps)
    base = Path(plan.session_dir)
    pre_runner = ChainRunner(pre, sr, 2, block_size, base)
    big = -(-block_size * out_rate // sr) + 64  # the largest resampled block
    post_runner = ChainRunner(post, out_rate, 2, big, base)
    lanes = {k: Lane(v, sr) for k, v in m.automation.items()}
    lat_pre = sum(p.latency_samples for p in pre_runner.procs)
    lat_post = sum(p.latency_samples for p in post_runner.procs)
    n_out = resampled_length(length, sr, out_rate)
    out_sink = TapSink(lat_post, consumers)
    out_sink.length = n_out
    rs = StreamResampler(sr, out_rate)
    pos_post = [0]
    with open(spill_path, "rb") as fh, Handoff(out_sink.push, "mixgraph-master", threaded) as out:

        def post_chain(z: np.ndarray) -> None:
            if z.shape[1]:
                out.submit(post_runner.process(z, pos_post[0], {}))
                pos_post[0] += z.shape[1]

        pre_sink = TapSink(lat_pre, [lambda y: post_chain(rs.process(y))])
        pre_sink.length = length
        pos = 0
        while pos < length + lat_pre:
            n = min(block_size, length + lat_pre - pos)
            x = np.frombuffer(fh.read(n * FRAME_BYTES), dtype=np.float64).reshape(-1, 2).T
            if x.shape[1] < n:
                x = np.concatenate((x, np.zeros((2, n - x.shape[1]))), axis=1)
            g = lanes["gain_db"].values_at(pos, n) + gain_db if "gain_db" in lanes else m.gain_db + gain_db
            pre_sink.push(pre_runner.process(x * db_to_gain(g), pos, {}))
            pos += n
        post_chain(rs.flush())
        if lat_post:  # the limiter's lookahead runs on silence past the end
            post_chain(np.zeros((2, lat_post)))
    return gain_reduction_stats(pre, pre_runner.gr_stats) + [
        replace(s, index=s.index + len(pre)) for s in gain_reduction_stats(post, post_runner.gr_stats)]

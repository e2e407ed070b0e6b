"""One pass of the master chain over the spilled premaster at an input gain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

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

"""Time compiling a generated 200-track, 40-bus session (target: under 0.2 s).

    python benchmarks/compile_bench.py [--tracks 200] [--buses 40]
"""

from __future__ import annotations

import argparse
import statistics
import time

from mixgraph.graph.compile import compile_session
from mixgraph.session.models import Session


def make(tracks: int, buses: int) -> Session:
    bus = {f"b{i}": {"out": f"b{i // 4}" if i >= 4 else "master",
                     "chain": [{"type": "compressor", "threshold_db": -12, "ratio": 2}]} for i in range(buses)}
    trk = {f"t{i}": {"source": f"t{i}.wav", "out": f"b{i % buses}", "chain": [
        {"type": "eq", "bands": [{"type": "highpass", "freq_hz": 80}, {"type": "bell", "freq_hz": 2500, "gain_db": 3}]},
        {"type": "compressor", "threshold_db": -18, "ratio": 4}], "sends": [{"to": "verb", "level_db": -12}]}
        for i in range(tracks)}
    return Session.model_validate({"mixgraph": 1, "name": "big", "tracks": trk, "buses": bus,
                                   "returns": {"verb": {"chain": [{"type": "reverb", "mix": 1.0}]}},
                                   "master": {"chain": [{"type": "limiter"}]}})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracks", type=int, default=200)
    ap.add_argument("--buses", type=int, default=40)
    args = ap.parse_args()
    s = make(args.tracks, args.buses)
    compile_session(s)  # warm-up: imports and numba caches
    times = []
    for _ in range(5):
        t = time.perf_counter()
        plan = compile_session(s)
        times.append(time.perf_counter() - t)
    print(f"compile {args.tracks} tracks, {args.buses} buses: median {statistics.median(times) * 1000:.1f} ms "
          f"({len(plan.nodes)} nodes, {len(plan.levels)} levels)")


if __name__ == "__main__":
    main()

"""CPU time of the chorus on 60 s of 48 kHz noise (the figures in benchmarks/README.md).

    python benchmarks/chorus_bench.py

Process time of the best of 5 passes in 65536-frame blocks (the render's block), after one
warm-up call so numba's compile is not counted; the stereo echo delay runs for scale.
"""

from __future__ import annotations

import time

import numpy as np

from mixgraph.dsp.chorus import Chorus
from mixgraph.dsp.delay import Delay

SR = 48000
BLOCK = 65536


def cpu_s(p, x, params=None) -> float:
    p.prepare(SR, x.shape[0], BLOCK)
    p.process(x[:, :1000])
    best = float("inf")
    for _ in range(5):
        p.reset()
        t0 = time.process_time()
        for i in range(0, x.shape[1], BLOCK):
            p.process(x[:, i : i + BLOCK], params={k: v[i : i + BLOCK] for k, v in (params or {}).items()})
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    x = np.random.default_rng(0).standard_normal((2, 60 * SR)) * 0.1
    n = x.shape[1]
    lanes = {"rate_hz": np.linspace(0.5, 3, n), "depth_ms": np.linspace(1, 4, n), "mix": np.linspace(0.2, 0.8, n)}
    rows = [
        ("chorus, 2 voices, stereo", cpu_s(Chorus(voices=2), x)),
        ("chorus, 2 voices, stereo, rate/depth/mix lanes", cpu_s(Chorus(voices=2), x, lanes)),
        ("chorus, 2 voices, mono in, stereo out", cpu_s(Chorus(voices=2), x[:1])),
        ("chorus, 4 voices, stereo", cpu_s(Chorus(voices=4), x)),
        ("delay (echo), stereo, for scale", cpu_s(Delay(time_ms=250.0), x)),
    ]
    for name, s in rows:
        print(f"{name:50s} {s:.3f} s")


if __name__ == "__main__":
    main()

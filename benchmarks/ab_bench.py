"""CPU of two source trees rendering the same session, runs alternated (A, B, B, A, ...).

    git archive 0bb5353 | tar -x -C /tmp/base          # a checkout of the "before" tree
    python benchmarks/ab_bench.py --a /tmp/base --b . --runs 3 --jobs 1,2

Each run is ``python -m mixgraph render SESSION --out-dir D --quiet --no-report-files --jobs J``
with the tree first on the import path (run from its folder); CPU is user + sys of the child from
``wait4``, as in run.py. One untimed render per tree first, so both find numba's kernels cached.
The order alternates within each pair of runs (ABBA), so a drift of the shared machine's speed
weighs on both alike. The masters of the two trees are compared byte for byte and reported.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def render(tree: Path, session: Path, out: Path, jobs: int) -> tuple[float, float]:
    """(wall s, cpu s) of one render by the source tree ``tree``."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**ENV, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "mixgraph", "render", str(session), "--out-dir", str(out), "--quiet",
           "--no-report-files", "--jobs", str(jobs)]
    if (tree / "mixgraph" / "render" / "cache.py").exists():
        cmd.append("--no-cache")  # a tree with the render cache would reuse the first run's work
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise SystemExit(f"{tree}: exit {p.returncode}\n{p.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def digest(out: Path) -> dict[str, str]:
    """sha256 of every audio file a render wrote (sidecars hold times and paths: left out)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
            for p in sorted(out.rglob("*")) if p.suffix in (".wav", ".flac", ".f64")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, help="source tree A (the 'before')")
    ap.add_argument("--b", required=True, help="source tree B (the 'after')")
    ap.add_argument("--session", default=str(HERE / "_work" / "bench-16x180-s0" / "session.yaml"))
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tree and --jobs value")
    ap.add_argument("--jobs", default="1,2", help="comma-separated --jobs values")
    ap.add_argument("--out", default=str(HERE / "_work" / "ab"))
    args = ap.parse_args(argv)
    trees = {"A": Path(args.a).resolve(), "B": Path(args.b).resolve()}
    session = Path(args.session).resolve()
    out = Path(args.out).resolve()
    for name, tree in trees.items():  # untimed warm-up: numba caches, byte-code
        render(tree, session, out / f"warm-{name}", 2)
    digests = {name: digest(out / f"warm-{name}") for name in trees}
    print(f"outputs identical: {digests['A'] == digests['B']}  A {digests['A']}  B {digests['B']}", flush=True)
    for jobs in (int(j) for j in args.jobs.split(",")):
        cpu: dict[str, list[float]] = {"A": [], "B": []}
        wall: dict[str, list[float]] = {"A": [], "B": []}
        for i in range(args.runs):
            for name in ("AB" if i % 2 == 0 else "BA"):
                w, c = render(trees[name], session, out / f"run-{name}", jobs)
                cpu[name].append(c)
                wall[name].append(w)
                print(f"jobs {jobs} run {i} {name}: wall {w:.2f} s cpu {c:.2f} s", flush=True)
        ma, mb = statistics.median(cpu["A"]), statistics.median(cpu["B"])
        print(f"jobs {jobs}: cpu median A {ma:.2f} s, B {mb:.2f} s, B/A {mb / ma:.3f}; "
              f"A {[round(c, 2) for c in cpu['A']]} B {[round(c, 2) for c in cpu['B']]}; "
              f"wall median A {statistics.median(wall['A']):.2f} B {statistics.median(wall['B']):.2f}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

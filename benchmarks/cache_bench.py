"""The render cache on the 16x180 workload: cold, identical, a master-limiter release change and
one track's EQ change, each against the cold render's wall time.

    python benchmarks/cache_bench.py                      # 16x180, 3 rounds
    python benchmarks/cache_bench.py --workload 16x60 --rounds 2
    MIXGRAPH_CACHE_STREAMS=track,bus,return python benchmarks/cache_bench.py   # every node's stream

Each render is a child process, ``python -m mixgraph render SESSION --out-dir D --quiet
--no-report-files --cache-dir C`` (the product path); wall time from ``Popen`` to ``wait4``. A
round: clear the cache, render cold, render the same session again (identical), render with the
master limiter's release at 90 ms (only the master stage runs), then with track t01's bell at
+4 dB (the cache holds the cold render and the release edit). Every output's sample hash is
checked against a ``--no-cache`` render of the same session. One untimed render first compiles
numba's kernels. Printed: each step's median, min and max over the rounds, and its median share
of the cold render's wall time.

The same steps run again inside one Python process (``render_session(..., cache=...)`` after a
warm-up render), as ``mixgraph render --watch`` renders: no interpreter start, imports or kernel
loading per render.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate, parse_workload  # noqa: E402

STEPS = ("cold", "identical", "master release", "track EQ")


def variants(session: Path) -> dict[str, Path]:
    out = {"cold": session, "identical": session}
    rel = yaml.safe_load(session.read_text())
    for st in rel["master"]["chain"]:
        if st["type"] == "limiter":
            st["release_ms"] = 90.0
    out["master release"] = session.with_name("cache-release.yaml")
    out["master release"].write_text(yaml.safe_dump(rel, sort_keys=False))
    eq = yaml.safe_load(session.read_text())
    for st in eq["tracks"]["t01"]["chain"]:
        if st["type"] == "eq":
            for b in st["bands"]:
                if b["type"] == "bell":
                    b["gain_db"] = 4.0
    out["track EQ"] = session.with_name("cache-eq.yaml")
    out["track EQ"].write_text(yaml.safe_dump(eq, sort_keys=False))
    return out


def render(session: Path, out_dir: Path, cache: Path | None) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "mixgraph", "render", str(session), "--out-dir", str(out_dir), "--quiet",
           "--no-report-files"] + (["--cache-dir", str(cache)] if cache else ["--no-cache"])
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, _ = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode()
    p.stderr.close()
    if status != 0:
        raise SystemExit(f"render failed: {' '.join(cmd)}\n{err}")
    side = next(out_dir.rglob("*.wav.json"))
    return wall, json.loads(side.read_text())["output"]["sha256_samples"]


def in_process(paths: dict[str, Path], work: Path, rounds: int, want: dict[str, str]) -> dict[str, list[float]]:
    from mixgraph.api.render import render_session
    from mixgraph.render.cache import Cache

    render_session(paths["cold"], out_dir=work / "warm", report_files=False)
    times: dict[str, list[float]] = {k: [] for k in STEPS}
    for _ in range(rounds):
        shutil.rmtree(work / "pcache", ignore_errors=True)
        cache = Cache(work / "pcache")
        for step in STEPS:
            t0 = time.perf_counter()
            r = render_session(paths[step], out_dir=work / "pout", report_files=False, cache=cache)
            times[step].append(time.perf_counter() - t0)
            if r.outputs[0].written.sha256 != want[step]:
                raise SystemExit(f"in process, {step}: the sample hash differs from the --no-cache render's")
    return times


def show(label: str, times: dict[str, list[float]]) -> None:
    cold = statistics.median(times["cold"])
    print(label)
    for step in STEPS:
        t = times[step]
        print(f"  {step:16s} median {statistics.median(t):6.2f} s  (min {min(t):.2f}, max {max(t):.2f})  "
              f"{100 * statistics.median(t) / cold:5.1f} % of cold")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", default="16x180")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    n, s = parse_workload(args.workload)
    session = generate(n, s, HERE / "_work")
    paths = variants(session)
    work = Path(tempfile.mkdtemp(prefix="cache-bench-", dir=HERE / "_work"))
    try:
        want = {k: render(p, work / "ref", None)[1] for k, p in paths.items()}  # also warms numba up
        times: dict[str, list[float]] = {k: [] for k in STEPS}
        for _ in range(args.rounds):
            cache = work / "cache"
            shutil.rmtree(cache, ignore_errors=True)
            for step in STEPS:
                wall, sha = render(paths[step], work / "out", cache)
                if sha != want[step]:
                    raise SystemExit(f"{step}: sample hash {sha} differs from the --no-cache render's {want[step]}")
                times[step].append(wall)
        print(f"workload {args.workload}, {args.rounds} rounds, streams: "
              f"{os.environ.get('MIXGRAPH_CACHE_STREAMS', 'bus,return (default)')}")
        show("one process per render (the command line):", times)
        size = sum(f.stat().st_size for f in (work / "cache").rglob("*") if f.is_file())
        print(f"  cache size after a round: {size / 1e6:.0f} MB")
        show("one process, renders in turn (as --watch):", in_process(paths, work, args.rounds, want))
        print("every output's sample hash equals the --no-cache render's")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

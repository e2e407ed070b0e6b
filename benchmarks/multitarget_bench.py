"""Cost of many masters from one mix: one master output against three loudness targets.

    python benchmarks/multitarget_bench.py                         # 16x180, 5 alternated runs each
    python benchmarks/multitarget_bench.py --workload 16x60 --runs 3
    python benchmarks/multitarget_bench.py --profile               # where the master stage's time goes

The workload is benchmarks/generate.py's (16 stems, track/bus/master chains, -14 LUFS at -1 dBTP).
Two sessions are written next to its session.yaml:

* ``one.yaml``   -- the workload as it is: one 24-bit master output at -14 LUFS, -1 dBTP;
* ``three.yaml`` -- the same mix with three master outputs, each with its own loudness:
  ``stream`` (preset streaming: -14 LUFS, -1 dBTP), ``loud`` (-9 LUFS, -1 dBTP) and ``club``
  (-8 LUFS at -0.3 dBTP).

Each run is a child process, ``python -m mixgraph render SESSION --out-dir D --quiet
--no-report-files --no-cache`` (the product path, every pass computed: the render cache would
reuse the mix and masters between runs; ``cache_bench.py`` measures it); the two sessions take turns, so a drift of the shared
machine spreads over both. Wall time runs from ``Popen`` to ``wait4``; CPU time is the child's
user + sys from ``wait4``'s rusage. One untimed render first compiles numba's kernels. Printed:
medians, the three/one ratios, and every output's loudness and true peak as written (mixgraph's
meter; the tests check the same against independent references).

``--profile`` renders ``three.yaml`` in this process with timers around the master stage's parts
(each group's passes and gains, the lossy encodes) and prints them.
"""

from __future__ import annotations

import argparse
import os
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

PY = sys.executable
RUN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
RUN_ENV["PYTHONPATH"] = str(HERE.parent) + (os.pathsep + RUN_ENV["PYTHONPATH"] if RUN_ENV.get("PYTHONPATH") else "")

THREE = {
    "stream": {"path": "renders/{name}-stream.wav", "bit_depth": 24, "loudness": {"preset": "streaming"}},
    "loud": {"path": "renders/{name}-loud.wav", "bit_depth": 24, "loudness": {"target_lufs": -9.0}},
    "club": {"path": "renders/{name}-club.wav", "bit_depth": 24,
             "loudness": {"target_lufs": -8.0, "ceiling_dbtp": -0.3}},
}


def sessions(root: Path) -> dict[str, Path]:
    """one.yaml and three.yaml beside the generated session.yaml."""
    doc = yaml.safe_load((root / "session.yaml").read_text())
    out = {}
    for name, outputs in (("one", doc["outputs"]), ("three", THREE)):
        d = dict(doc, outputs=outputs)
        d["master"] = dict(doc["master"], loudness=dict(doc["master"]["loudness"], max_gain_reduction_db=24.0))
        p = root / f"{name}.yaml"
        p.write_text(yaml.safe_dump(d, sort_keys=False, default_flow_style=None, width=120))
        out[name] = p
    return out


def run_once(session: Path, out_dir: Path) -> tuple[float, float]:
    cmd = [PY, "-m", "mixgraph", "render", str(session), "--out-dir", str(out_dir), "--quiet", "--no-report-files",
           "--no-cache"]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=RUN_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    p.stderr and p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


def check(out_dir: Path) -> list[str]:
    from mixgraph.api.meter import meter_file

    lines = []
    for f in sorted(out_dir.glob("*.wav")):
        m = meter_file(f)
        lines.append(f"  {f.name}: {m.integrated_lufs:.2f} LUFS, {m.true_peak_dbtp:.2f} dBTP")
    return lines


def bench(paths: dict[str, Path], runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="mg-multitarget-") as tmp:
        dirs = {k: Path(tmp) / k for k in paths}
        run_once(paths["one"], dirs["one"])  # untimed: numba's kernels compiled and cached
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in paths}
        for i in range(runs):
            order = list(paths) if i % 2 == 0 else list(reversed(paths))
            for k in order:
                times[k].append(run_once(paths[k], dirs[k]))
                print(f"run {i + 1} {k}: wall {times[k][-1][0]:.2f} s, cpu {times[k][-1][1]:.2f} s", flush=True)
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
        for k, (w, c) in med.items():
            print(f"{k}: median wall {w:.2f} s, cpu {c:.2f} s over {runs} runs")
            print("\n".join(check(dirs[k])))
        print(f"three/one: wall {med['three'][0] / med['one'][0]:.2f}x, cpu {med['three'][1] / med['one'][1]:.2f}x")


def profile(session: Path) -> None:
    """Timers around the master stage's parts, in this process (kernels warmed by one render)."""
    sys.path.insert(0, str(HERE.parent))
    import mixgraph.api.render as api_render
    import mixgraph.mastering.stage as stage
    from mixgraph.api.render import render_session

    spent: dict[str, list[float]] = {}

    def timed(mod, name, label=None):
        fn = getattr(mod, name)

        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent.setdefault(label or name, []).append(time.perf_counter() - t)

        setattr(mod, name, wrapper)

    for name in ("master_pass", "master_pass_converted", "encode_lossy"):
        if hasattr(stage, name):
            timed(stage, name)
    timed(api_render, "_mix_stage")
    timed(api_render, "master_stage")
    with tempfile.TemporaryDirectory(prefix="mg-multitarget-") as tmp:
        render_session(session, out_dir=tmp, report_files=False)
        spent.clear()
        t = time.perf_counter()
        r = render_session(session, out_dir=tmp, report_files=False)
        total = time.perf_counter() - t
    print(f"render {total:.2f} s")
    for k, v in spent.items():
        print(f"  {k}: {len(v)} calls, {sum(v):.2f} s ({', '.join(f'{x:.2f}' for x in v)})")
    for label, s in r.solves.items():
        print(f"  solve {label}: {s.iterations} passes, gain {s.gain_db:+.3f} dB -> {s.achieved_lufs:.3f} LUFS")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", default="16x180", help="TRACKSxSECONDS (default 16x180)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each session (default 5)")
    ap.add_argument("--profile", action="store_true", help="time the master stage's parts of three.yaml")
    ap.add_argument("--out", default=str(HERE / "_work"), help="where the stems are generated and cached")
    a = ap.parse_args(argv)
    n, s = parse_workload(a.workload)
    paths = sessions(generate(n, s, a.out).parent)
    if a.profile:
        profile(paths["three"])
    else:
        bench(paths, a.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

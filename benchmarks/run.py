"""Benchmark mixgraph against its peers on the same synthetic workload, on this machine.

    python benchmarks/run.py --workloads 16x180,16x900 --repeats 3
    python benchmarks/run.py --quick              # 4x20, one repeat: checks the harness

Every runner is a child process (mixgraph through its CLI, pedalboard with 1 and 2 threads, ffmpeg,
the numpy/scipy floors).  Per repeat the runners go round-robin, the order rotated by one each
repeat, so slow drifts of the machine spread over all of them.  For each run:

* wall time: ``time.perf_counter`` from ``Popen`` to the child's ``wait4``;
* CPU time: user + sys of the child and its reaped descendants (``wait4``'s rusage);
* peak RSS: the larger of any one process's high-water mark (``VmHWM``, kept by the kernel) and
  the process tree's RSS summed, both read every 250 ms (a light sampler: one every 20 ms took
  ~0.1 s of CPU from a runner that keeps both cores busy);

and once per runner its output is measured: integrated loudness (pyloudnorm, BS.1770-4) and
true peak (4x oversampled with ``scipy.signal.resample_poly``), so nobody wins by doing less.
A runner that is not installed, fails or times out is skipped with a note.  Results are printed as
a table and written to ``benchmarks/_work/results-<date>.json``.  Cold start (``mixgraph
validate`` wall time; the first render of a fresh copy of the package, with neither byte-code
nor numba's compiled kernels cached, vs the second) is measured on the first workload unless
``--no-cold``. Runners get this environment without PYTHONDONTWRITEBYTECODE: byte-code is cached
as Python does by default.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate, parse_workload  # noqa: E402

PY = sys.executable
PEERS = HERE / "peers"
#: the runners' environment: this one, but Python caches byte-code as it does by default (a
#: sandbox that sets PYTHONDONTWRITEBYTECODE would have every mixgraph run compile its own
#: modules again: ~0.05 s a run that no installed copy pays)
RUN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
#: how often the process tree's memory is read: each process's high-water mark (VmHWM, kept by
#: the kernel, so spikes between reads count) and the tree's RSS summed (a wrapper and its ffmpeg).
#: A 20 ms sampler took ~0.1 s of CPU from a runner that keeps both cores busy (16x180, --jobs 2:
#: median 4.25 s sampled every 20 ms against 4.12 s every 1 s).
SAMPLE_INTERVAL_S = 0.25


@dataclass
class Runner:
    name: str
    what: str
    skip: str | None = None  # why it cannot run here

    def command(self, session: Path, workload: Path, out_dir: Path) -> list[str]:
        raise NotImplementedError

    def output(self, out_dir: Path) -> Path:
        return out_dir / "out.wav"


@dataclass
class MixgraphRunner(Runner):
    jobs: int = 1

    def command(self, session, workload, out_dir):
        return [PY, "-m", "mixgraph", "render", str(session), "--out-dir", str(out_dir), "--quiet",
                "--no-report-files", "--no-cache", "--jobs", str(self.jobs)]

    def output(self, out_dir):
        wavs = sorted(out_dir.glob("*-master.wav"))
        return wavs[0] if wavs else out_dir / "missing-master.wav"


@dataclass
class ScriptRunner(Runner):
    script: str = ""
    extra: list[str] = field(default_factory=list)

    def command(self, session, workload, out_dir):
        return [PY, str(PEERS / self.script), str(workload), str(out_dir / "out.wav"), *self.extra]


def _has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def make_runners() -> list[Runner]:
    mixgraph_skip = None if _has_module("mixgraph.api.render") else "mixgraph.api.render not importable"
    pb_skip = None if _has_module("pedalboard") else "pedalboard not installed (pip install '.[bench]')"
    ff_skip = None if shutil.which("ffmpeg") else "ffmpeg not on PATH"
    return [
        MixgraphRunner("mixgraph-j1", "mixgraph render --jobs 1", mixgraph_skip, jobs=1),
        MixgraphRunner("mixgraph-j2", "mixgraph render --jobs 2", mixgraph_skip, jobs=2),
        ScriptRunner("pedalboard-1t", "pedalboard chains, 1 thread", pb_skip, script="pedalboard_peer.py",
                     extra=["--threads", "1"]),
        ScriptRunner("pedalboard-2t", "pedalboard chains, 2 threads over tracks", pb_skip,
                     script="pedalboard_peer.py", extra=["--threads", "2"]),
        ScriptRunner("ffmpeg", "ffmpeg -filter_complex, 2 passes", ff_skip, script="ffmpeg_peer.py"),
        ScriptRunner("floor-sum", "numpy: read + sum + write", None, script="floor_peer.py",
                     extra=["--mode", "sum"]),
        ScriptRunner("floor-biquad", "scipy: read + 3 biquads + sum + write", None, script="floor_peer.py",
                     extra=["--mode", "biquad"]),
    ]


# --------------------------------------------------------------------------- one timed run


@dataclass
class RunResult:
    ok: bool
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    note: str = ""


def _tree_memory(proc, hwm: dict[int, int]) -> int:
    """The tree's RSS summed now; each process's high-water mark so far (VmHWM, kept in hwm)."""
    import psutil

    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
            with open(f"/proc/{p.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        hwm[p.pid] = max(hwm.get(p.pid, 0), int(line.split()[1]) * 1024)
                        break
        except (psutil.Error, OSError):
            pass
    return total


def timed_run(cmd: list[str], log: Path, timeout_s: float, env: dict | None = None,
              cwd: str | None = None) -> RunResult:
    """Run cmd as a child; wall time, CPU (user + sys of the child and every process it reaped) and
    peak RSS: the larger of any one process's high-water mark (VmHWM: the kernel's own, so a
    spike between samples still counts; read every SAMPLE_INTERVAL_S, the last read up to one
    interval before the process ends) and the tree's RSS summed at a sample."""
    import psutil

    peak = 0
    hwm: dict[int, int] = {}
    done = threading.Event()
    reaped: dict = {}
    with open(log, "w") as fh:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=RUN_ENV if env is None else env,
                             cwd=cwd, start_new_session=True)
        ps = psutil.Process(p.pid)

        def reap() -> None:
            _, status, usage = os.wait4(p.pid, 0)
            reaped.update(t=time.perf_counter(), status=status, usage=usage)
            done.set()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_memory(ps, hwm))
                done.wait(SAMPLE_INTERVAL_S)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        threading.Thread(target=reap, daemon=True).start()
        note = ""
        if not done.wait(timeout_s):
            os.killpg(p.pid, 9)  # the child's own session: only what this run started
            done.wait()
            note = f"timed out after {timeout_s:.0f} s"
        th.join()
    rc = os.waitstatus_to_exitcode(reaped["status"])
    p.returncode = rc  # reaped here, not by Popen
    if not note and rc != 0:
        note = f"exit code {rc}"
    usage = reaped["usage"]
    wall = reaped["t"] - t0
    cpu = usage.ru_utime + usage.ru_stime
    peak = max([peak, *hwm.values()])
    if rc != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        note += (": " + " | ".join(tail)) if tail else ""
    return RunResult(rc == 0, wall, cpu, peak / 2**20, note)


# --------------------------------------------------------------------------- output checks


def measure_output(path: Path) -> dict:
    """Integrated loudness (pyloudnorm) and 4x-oversampled true peak of a written file."""
    import numpy as np
    import pyloudnorm
    import soundfile as sf
    from scipy.signal import resample_poly

    x, sr = sf.read(path, dtype="float64", always_2d=True)
    lufs = pyloudnorm.Meter(sr).integrated_loudness(x)
    tp = 0.0
    for ch in range(x.shape[1]):
        tp = max(tp, float(np.max(np.abs(resample_poly(x[:, ch], 4, 1)))), float(np.max(np.abs(x[:, ch]))))
    return {"lufs": float(lufs), "true_peak_dbtp": 20 * math.log10(tp) if tp > 0 else -math.inf,
            "seconds": x.shape[0] / sr, "sample_rate": sr}


# --------------------------------------------------------------------------- cold start


def cold_start(session: Path, work: Path, timeout_s: float, repeats: int = 3) -> dict:
    out: dict = {}
    log = work / "cold.log"
    v = [timed_run([PY, "-m", "mixgraph", "validate", str(session)], log, timeout_s) for _ in range(repeats)]
    out["validate_wall_s"] = statistics.median(r.wall_s for r in v) if all(r.ok for r in v) else None
    out["validate_note"] = "; ".join(r.note for r in v if not r.ok)
    # the first render after install: a fresh copy of the package, first on the import path, with
    # neither byte-code nor compiled kernels cached (both are written by that first run); then the
    # same command again
    import mixgraph

    with tempfile.TemporaryDirectory(prefix="mixgraph-cold-") as tmp:
        shutil.copytree(Path(mixgraph.__file__).parent, Path(tmp) / "mixgraph",
                        ignore=shutil.ignore_patterns("__pycache__"))
        env = {**RUN_ENV, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cache"),
               "PYTHONPATH": os.pathsep.join([tmp, *filter(None, [RUN_ENV.get("PYTHONPATH")])])}
        # run from the copy's folder: "-m" puts the working directory first on the path
        # (found, not imported, and -B: the copy must keep no byte-code for the first render)
        where = subprocess.run([PY, "-B", "-c", "import importlib.util; print(importlib.util.find_spec('mixgraph').origin)"],
                               env=env, cwd=tmp, capture_output=True, text=True).stdout.strip()
        if not os.path.realpath(where).startswith(os.path.realpath(tmp) + os.sep):
            out["cold_note"] = f"the fresh copy was not imported ({where}); cold numbers not measured"
            return out
        cmd = [PY, "-m", "mixgraph", "render", str(session.resolve()), "--out-dir",
               str((work / "cold-render").resolve()), "--quiet", "--no-report-files", "--no-cache"]
        first = timed_run(cmd, log, timeout_s, env, cwd=tmp)
        second = timed_run(cmd, log, timeout_s, env, cwd=tmp)
    out["render_empty_numba_cache"] = asdict(first)
    out["render_warm_numba_cache"] = asdict(second)
    return out


# --------------------------------------------------------------------------- report


def _fmt(x, spec: str, none: str = "-") -> str:
    return none if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def summarise(runners: list[Runner], runs: dict[str, list[RunResult]], outputs: dict[str, dict],
              audio_s: float) -> list[dict]:
    rows = []
    for r in runners:
        ok = [x for x in runs.get(r.name, []) if x.ok]
        bad = [x for x in runs.get(r.name, []) if not x.ok]
        row = {"runner": r.name, "what": r.what, "runs": len(ok),
               "wall_s": statistics.median(x.wall_s for x in ok) if ok else None,
               "cpu_s": statistics.median(x.cpu_s for x in ok) if ok else None,
               "peak_rss_mb": max(x.peak_rss_mb for x in ok) if ok else None,
               "note": r.skip or "; ".join(sorted({x.note for x in bad}))}
        row["realtime_x"] = audio_s / row["wall_s"] if row["wall_s"] else None
        row.update({k: outputs.get(r.name, {}).get(k) for k in ("lufs", "true_peak_dbtp")})
        rows.append(row)
    ref = next((x for x in rows if x["runner"] == "mixgraph-j2" and x["wall_s"]), None) or next(
        (x for x in rows if x["runner"].startswith("mixgraph") and x["wall_s"]), None)
    for row in rows:
        row["mixgraph_over_peer"] = ref["wall_s"] / row["wall_s"] if ref and row["wall_s"] else None
    return rows


def print_table(title: str, rows: list[dict], ref_name: str | None) -> None:
    print(f"\n{title}")
    head = f"{'runner':<15} {'wall s':>8} {'cpu s':>8} {'RSS MB':>8} {'x RT':>6} {'mg/peer':>8} " \
           f"{'LUFS':>7} {'dBTP':>6}  note"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['runner']:<15} {_fmt(r['wall_s'], '8.2f'):>8} {_fmt(r['cpu_s'], '8.2f'):>8} "
              f"{_fmt(r['peak_rss_mb'], '8.0f'):>8} {_fmt(r['realtime_x'], '6.1f'):>6} "
              f"{_fmt(r['mixgraph_over_peer'], '8.2f'):>8} {_fmt(r['lufs'], '7.2f'):>7} "
              f"{_fmt(r['true_peak_dbtp'], '6.2f'):>6}  {r['note'][:120]}")
    if ref_name:
        print(f"(mg/peer: median wall of {ref_name} / the runner's; < 1 means mixgraph is faster)")


def versions() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "machine": platform.machine()}
    for mod in ("numpy", "scipy", "numba", "pedalboard", "pyloudnorm", "soundfile"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - a missing peer is reported, not fatal
            info[mod] = None
    try:
        info["mixgraph_git"] = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
                                              capture_output=True, text=True).stdout.strip() or None
    except OSError:
        info["mixgraph_git"] = None
    ff = shutil.which("ffmpeg")
    if ff:
        first = subprocess.run([ff, "-version"], capture_output=True, text=True).stdout.splitlines()
        info["ffmpeg"] = first[0] if first else None
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="mixgraph vs peers on a synthetic workload")
    ap.add_argument("--workloads", default="16x180", help="comma-separated NxS (tracks x seconds)")
    ap.add_argument("--repeats", type=int, default=None, help="runs per runner (default 3, quick 1)")
    ap.add_argument("--quick", action="store_true", help="4x20, one repeat: a check of the harness")
    ap.add_argument("--only", default=None, help="comma-separated runner names to run")
    ap.add_argument("--skip", default="", help="comma-separated runner names to leave out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default=str(HERE / "_work"), help="stems, outputs, logs and results go here")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per run before it is killed")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start measurements")
    args = ap.parse_args(argv)
    specs = ["4x20"] if args.quick else [s for s in args.workloads.split(",") if s]
    repeats = args.repeats or (1 if args.quick else 3)
    try:
        workloads = [parse_workload(s) for s in specs]
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not _has_module("psutil"):
        print("error: psutil is needed to sample memory (pip install '.[bench]')", file=sys.stderr)
        return 2
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    runners = make_runners()
    if args.only:
        keep = set(args.only.split(","))
        runners = [r for r in runners if r.name in keep]
    runners = [r for r in runners if r.name not in set(args.skip.split(","))]
    results = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": versions(),
               "repeats": repeats, "method": {
                   "wall": "time.perf_counter from Popen to wait4",
                   "cpu": "user+sys of the child and its reaped descendants (wait4's rusage)",
                   "rss": "the larger of any one process's VmHWM and the tree's summed RSS, read every "
                          f"{SAMPLE_INTERVAL_S * 1000:.0f} ms",
                   "loudness": "pyloudnorm integrated (BS.1770-4)",
                   "true_peak": "max |x| after scipy.signal.resample_poly 4x"},
               "workloads": []}
    for wi, (n, s) in enumerate(workloads):
        spec = f"{n}x{s:g}"
        print(f"== workload {spec}: generating / reusing stems", flush=True)
        session = generate(n, s, work, args.seed, log=lambda m: print(m, flush=True))
        wjson = session.parent / "workload.json"
        runs: dict[str, list[RunResult]] = {r.name: [] for r in runners}
        outputs: dict[str, dict] = {}
        active = [r for r in runners if r.skip is None]
        if wi == 0 and any(isinstance(r, MixgraphRunner) for r in active):
            # one untimed render first, so the timed ones find numba's kernels compiled, as every
            # render after the first does (the first one is measured apart: cold start)
            warm_dir = work / "runs" / spec / "warm-up"
            shutil.rmtree(warm_dir, ignore_errors=True)
            warm_dir.mkdir(parents=True)
            mg = next(r for r in active if isinstance(r, MixgraphRunner))
            res = timed_run(mg.command(session, wjson, warm_dir), warm_dir / "log.txt", args.timeout)
            print(f"  warm-up render (untimed): {res.wall_s:.2f} s {res.note}", flush=True)
        for rep in range(repeats):
            order = active[rep % len(active):] + active[:rep % len(active)] if active else []
            for r in order:
                out_dir = work / "runs" / spec / r.name
                if out_dir.exists():
                    shutil.rmtree(out_dir)
                out_dir.mkdir(parents=True)
                res = timed_run(r.command(session, wjson, out_dir), out_dir / "log.txt", args.timeout)
                if res.ok and not r.output(out_dir).is_file():
                    res.ok, res.note = False, f"no output file {r.output(out_dir).name}"
                runs[r.name].append(res)
                status = f"{res.wall_s:7.2f} s  cpu {res.cpu_s:7.2f} s  rss {res.peak_rss_mb:6.0f} MB" \
                    if res.ok else f"FAILED ({res.note})"
                print(f"  [{rep + 1}/{repeats}] {r.name:<14} {status}", flush=True)
                if res.ok and r.name not in outputs:
                    try:
                        outputs[r.name] = measure_output(r.output(out_dir))
                    except Exception as e:  # noqa: BLE001 - an unreadable output is a note, not a crash
                        outputs[r.name] = {"error": str(e)}
            # a runner that failed on every try so far is not retried
            active = [r for r in active if any(x.ok for x in runs[r.name])]
        rows = summarise(runners, runs, outputs, s)
        entry = {"workload": spec, "tracks": n, "seconds": s, "session": str(session), "rows": rows,
                 "runs": {k: [asdict(x) for x in v] for k, v in runs.items()}, "outputs": outputs}
        ref = next((r["runner"] for r in rows if r["runner"] == "mixgraph-j2" and r["wall_s"]), None) or next(
            (r["runner"] for r in rows if r["runner"].startswith("mixgraph") and r["wall_s"]), None)
        print_table(f"workload {spec} ({n} stereo tracks x {s:g} s, {repeats} repeat(s), median)", rows, ref)
        if wi == 0 and not args.no_cold and any(isinstance(r, MixgraphRunner) and r.skip is None for r in runners):
            print("\ncold start (mixgraph):", flush=True)
            cs = cold_start(session, work / "runs" / spec, args.timeout)
            entry["cold_start"] = cs
            print(f"  validate: {_fmt(cs['validate_wall_s'], '.2f')} s {cs['validate_note']}")
            if "cold_note" in cs:
                print(f"  render: {cs['cold_note']}")
            else:
                first, second = cs["render_empty_numba_cache"], cs["render_warm_numba_cache"]
                print(f"  render, first after install (no byte-code, empty numba cache): {first['wall_s']:.2f} s "
                      f"{first['note']}")
                print(f"  render, the second: {second['wall_s']:.2f} s {second['note']}")
        results["workloads"].append(entry)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = work / f"results-{stamp}.json"
    path.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

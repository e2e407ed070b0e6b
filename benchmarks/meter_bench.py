"""Speed and peak memory of `mixgraph meter` on a long file (issue 5's targets: a 1-hour stereo
48 kHz 24-bit file in < 200 MB peak RSS at > 200x realtime).

    python benchmarks/meter_bench.py                    # 1 hour, 3 runs
    python benchmarks/meter_bench.py --minutes 3 --runs 5
    python benchmarks/meter_bench.py --steady             # one level throughout: the worst case
    python benchmarks/meter_bench.py --profile            # cProfile of one run, top 25 by own time

The file is generated once, deterministically, in blocks (noise and tones with level changes
every few seconds) and cached in benchmarks/_work/ (git-ignored). Each run is a child process;
its peak RSS comes from wait4() (ru_maxrss of that child only).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
SR = 48000
BLOCK = SR * 10


def make(path: Path, minutes: float, steady: bool = False) -> None:
    if path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3341)
    tmp = path.with_suffix(".partial.wav")
    total = int(minutes * 60 * SR)
    with sf.SoundFile(tmp, "w", SR, 2, subtype="PCM_24") as f:
        done = 0
        while done < total:
            n = min(BLOCK, total - done)
            t = (done + np.arange(n)) / SR
            # steady: one level throughout, so nearly every block may hold the true peak and the
            # meter cannot skip its interpolation (the worst case for speed)
            level = 10 ** ((-16 if steady else rng.uniform(-30, -14)) / 20)
            tone = np.sin(2 * np.pi * rng.uniform(80, 800) * t)
            noise = rng.standard_normal((2, n)) * 0.25
            x = level * (tone + noise)
            f.write(np.clip(x.T, -1, 1))
            done += n
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steady", action="store_true", help="constant level (worst case for the true peak)")
    ap.add_argument("--profile", action="store_true", help="one child run under cProfile; prints the top functions")
    args = ap.parse_args()
    path = HERE / "_work" / f"meter-{args.minutes:g}min{'-steady' if args.steady else ''}.wav"
    make(path, args.minutes, args.steady)
    if args.profile:
        prof = HERE / "_work" / "meter.prof"
        subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "mixgraph", "meter", str(path),
                        "--json"], check=True, stdout=subprocess.DEVNULL)
        import pstats

        pstats.Stats(str(prof)).sort_stats("tottime").print_stats(25)
        return
    walls, rss = [], []
    reading = None
    for _ in range(args.runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "mixgraph", "meter", str(path), "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = proc.stdout.read()
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - t0)
        rss.append(usage.ru_maxrss / 1024)  # Linux: kilobytes
        if status != 0:
            raise SystemExit(f"meter failed: {err.decode()}")
        reading = json.loads(out)
    audio_s = args.minutes * 60
    wall = statistics.median(walls)
    r = reading[0] if isinstance(reading, list) else reading
    print(f"file: {path.name} ({audio_s:g} s stereo 48 kHz 24-bit)")
    print(f"wall median {wall:.2f} s over {args.runs} runs ({', '.join(f'{w:.2f}' for w in walls)}): "
          f"{audio_s / wall:.0f}x realtime")
    print(f"peak RSS median {statistics.median(rss):.0f} MB ({', '.join(f'{m:.0f}' for m in rss)})")
    print(f"integrated {r['integrated_lufs']} LUFS, LRA {r['lra_lu']} LU, true peak {r['true_peak_dbtp']} dBTP")


if __name__ == "__main__":
    main()

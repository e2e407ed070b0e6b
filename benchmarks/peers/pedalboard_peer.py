"""Peer: the workload with Spotify's pedalboard, streamed in blocks, 1..N threads over tracks.

    python benchmarks/peers/pedalboard_peer.py WORKLOAD.json OUT.wav [--threads 2]

Per track: HighpassFilter x2 (pedalboard's high-pass is 1st order; two at 51.5 Hz give 12 dB/oct
with -3 dB at 80 Hz), PeakFilter, HighShelfFilter, Compressor, Gain, then the balance pan in numpy.
Buses: Compressor.  Master: LowShelfFilter, Compressor into a stored premaster, then pedalboard's
BrickwallLimiter (true-peak sidechain; the older Limiter if this pedalboard has none), with the
input gain solved by pyloudnorm to -14 LUFS and the limiter re-run.  Sums are numpy.
"""

from __future__ import annotations

import argparse
import math
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pedalboard as pb
import soundfile as sf
from common import BLOCK, balance_gains, load_workload, solve_loudness
from pedalboard.io import AudioFile

# two cascaded 1st-order high-passes at fc: |H|^2 = (f^2/(f^2+fc^2))^2 = 1/2 at f = 80 Hz
HP_CASCADE_FACTOR = math.sqrt(math.sqrt(2.0) - 1.0)


def comp(p: dict) -> pb.Compressor:
    return pb.Compressor(threshold_db=p["threshold_db"], ratio=p["ratio"], attack_ms=p["attack_ms"],
                         release_ms=p["release_ms"])


def eq_plugins(bands: list[dict]) -> list:
    out = []
    for b in bands:
        if b["type"] == "highpass":
            fc = b["freq_hz"] * HP_CASCADE_FACTOR
            for _ in range(b.get("slope_db_oct", 12) // 12):
                out += [pb.HighpassFilter(cutoff_frequency_hz=fc), pb.HighpassFilter(cutoff_frequency_hz=fc)]
        elif b["type"] == "bell":
            out.append(pb.PeakFilter(cutoff_frequency_hz=b["freq_hz"], gain_db=b["gain_db"], q=b.get("q", 1.0)))
        elif b["type"] == "highshelf":
            out.append(pb.HighShelfFilter(cutoff_frequency_hz=b["freq_hz"], gain_db=b["gain_db"],
                                          q=b.get("q", 0.7071)))
        elif b["type"] == "lowshelf":
            out.append(pb.LowShelfFilter(cutoff_frequency_hz=b["freq_hz"], gain_db=b["gain_db"],
                                         q=b.get("q", 0.7071)))
    return out


def limiter(p: dict):
    if hasattr(pb, "BrickwallLimiter"):
        return pb.BrickwallLimiter(ceiling_db=p["ceiling_dbtp"], release_ms=p["release_ms"],
                                   lookahead_ms=p["lookahead_ms"], true_peak=True)
    return pb.Limiter(threshold_db=p["ceiling_dbtp"], release_ms=p["release_ms"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    w = load_workload(args.workload)
    sr = w["sample_rate"]
    tracks = w["tracks"]
    boards = [pb.Pedalboard(eq_plugins(w["track_eq"]) + [comp(w["track_comp"]), pb.Gain(gain_db=t["gain_db"])])
              for t in tracks]
    pans = [np.array(balance_gains(t["pan"]), dtype=np.float32)[:, None] for t in tracks]
    bus_boards = {b: pb.Pedalboard([comp(w["bus_comp"])]) for b in w["buses"]}
    master = pb.Pedalboard(eq_plugins(w["master_eq"]) + [comp(w["master_comp"])])
    files = [AudioFile(t["path"]) for t in tracks]
    frames = min(f.frames for f in files)
    premaster = np.zeros((2, frames), dtype=np.float32)

    def track_block(i: int, n: int) -> np.ndarray:
        x = files[i].read(n)  # (channels, n) float32
        return boards[i](x, sr, reset=False) * pans[i]

    pool = ThreadPoolExecutor(args.threads) if args.threads > 1 else None
    for start in range(0, frames, BLOCK):
        n = min(BLOCK, frames - start)
        if pool is None:
            outs = [track_block(i, n) for i in range(len(tracks))]
        else:
            outs = list(pool.map(track_block, range(len(tracks)), [n] * len(tracks)))
        sums = {b: np.zeros((2, n), dtype=np.float32) for b in w["buses"]}
        for t, y in zip(tracks, outs, strict=True):
            sums[t["bus"]] += y
        if pool is None:
            bus_out = [bus_boards[b](sums[b], sr, reset=False) for b in w["buses"]]
        else:
            bus_out = list(pool.map(lambda b, s=sums: bus_boards[b](s[b], sr, reset=False), w["buses"]))
        mix = np.sum(bus_out, axis=0)
        premaster[:, start:start + n] = master(mix, sr, reset=False)
    if pool is not None:
        pool.shutdown()
    for f in files:
        f.close()

    def limit(x):
        return limiter(w["master_limiter"])(x, sr)

    out, gain_db, lufs = solve_loudness(premaster, sr, limit, w["target_lufs"])
    sf.write(args.out, np.asarray(out).T, sr, subtype="PCM_24")
    print(f"pedalboard {pb.__version__}: loudness gain {gain_db:+.2f} dB -> {lufs:.2f} LUFS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

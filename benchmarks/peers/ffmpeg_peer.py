"""Peer: the workload as one ffmpeg -filter_complex graph, two passes for loudness.

    python benchmarks/peers/ffmpeg_peer.py WORKLOAD.json OUT.wav [--ffmpeg ffmpeg]

Per track: highpass (2 poles, Butterworth Q), equalizer (bell, Q), highshelf, acompressor (peak,
linked by the louder channel, hard knee), volume, pan (balance gains).  Buses: amix normalize=0,
acompressor.  Master: amix normalize=0, lowshelf, acompressor, alimiter (sample peak, no
auto-level).  Pass 1 runs the whole graph and measures the limited output with ebur128; pass 2
adds the gain to -14 LUFS before the limiter and writes 24-bit PCM.  The graph is converted to
float64 planar (aformat=dblp) at each input.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys

from common import balance_gains, load_workload


def lin(db: float) -> float:
    return 10.0 ** (db / 20.0)


def acomp(p: dict) -> str:
    # acompressor: threshold is linear, attack/release in ms
    return (f"acompressor=threshold={lin(p['threshold_db']):.6f}:ratio={p['ratio']}:attack={p['attack_ms']}"
            f":release={p['release_ms']}:detection=peak:link=maximum:knee=1")


def eq_chain(bands: list[dict]) -> list[str]:
    out = []
    for b in bands:
        if b["type"] == "highpass":
            for _ in range(b.get("slope_db_oct", 12) // 12):
                out.append(f"highpass=f={b['freq_hz']}:poles=2:width_type=q:width={b.get('q', 0.7071)}")
        elif b["type"] == "bell":
            out.append(f"equalizer=f={b['freq_hz']}:width_type=q:width={b.get('q', 1.0)}:gain={b['gain_db']}")
        elif b["type"] in ("highshelf", "lowshelf"):
            out.append(f"{b['type']}=f={b['freq_hz']}:width_type=q:width={b.get('q', 0.7071)}:gain={b['gain_db']}")
    return out


def graph(w: dict, gain_db: float | None, measure: bool = False) -> str:
    parts = []
    for i, t in enumerate(w["tracks"]):
        gl, gr = balance_gains(t["pan"])
        chain = ["aformat=sample_fmts=dblp"] + eq_chain(w["track_eq"]) + [
            acomp(w["track_comp"]), f"volume={t['gain_db']}dB", f"pan=stereo|c0={gl:.6f}*c0|c1={gr:.6f}*c1"]
        parts.append(f"[{i}:a]{','.join(chain)}[t{i}]")
    for b in w["buses"]:
        ins = [f"[t{i}]" for i, t in enumerate(w["tracks"]) if t["bus"] == b]
        parts.append(f"{''.join(ins)}amix=inputs={len(ins)}:normalize=0:duration=longest,{acomp(w['bus_comp'])}[b_{b}]")
    m = [f"amix=inputs={len(w['buses'])}:normalize=0:duration=longest"] + eq_chain(w["master_eq"]) + [
        acomp(w["master_comp"])]
    if gain_db is not None:
        m.append(f"volume={gain_db:.4f}dB")
    lim = w["master_limiter"]
    m.append(f"alimiter=limit={lin(lim['ceiling_dbtp']):.6f}:attack={lim['lookahead_ms']}:release={lim['release_ms']}"
             ":level=disabled")
    if measure:
        m.append("ebur128=framelog=verbose")
    parts.append(f"{''.join(f'[b_{b}]' for b in w['buses'])}{','.join(m)}[master]")
    return ";".join(parts)


def run(ffmpeg: str, w: dict, gain_db: float | None, tail: list[str], measure: bool = False) -> str:
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-y"]
    for t in w["tracks"]:
        cmd += ["-i", t["path"]]
    cmd += ["-filter_complex", graph(w, gain_db, measure)] + tail
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-4000:])
        raise SystemExit(p.returncode)
    return p.stderr


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("out")
    ap.add_argument("--ffmpeg", default="ffmpeg")
    args = ap.parse_args()
    w = load_workload(args.workload)
    # pass 1: measure the limited master (ebur128 summary on stderr)
    log = run(args.ffmpeg, w, None, ["-map", "[master]", "-f", "null", "-"], measure=True)
    found = re.findall(r"I:\s+(-?[\d.]+|-inf) LUFS", log)
    if not found:
        sys.stderr.write("could not read the integrated loudness from ebur128\n")
        return 1
    measured = float(found[-1])
    gain_db = w["target_lufs"] - measured if math.isfinite(measured) else 0.0
    # pass 2: the gain into the limiter, written as 24-bit PCM
    run(args.ffmpeg, w, gain_db, ["-map", "[master]", "-c:a", "pcm_s24le", "-ar", str(w["sample_rate"]), args.out])
    print(f"ffmpeg: pass 1 {measured:.3f} LUFS, gain {gain_db:+.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Floor peers: how fast the plain numpy/scipy work of the workload can go.

    python benchmarks/peers/floor_peer.py WORKLOAD.json OUT.wav --mode sum|biquad

sum:    read every stem (soundfile, blocks), sum, write 24-bit.  No processing at all.
biquad: read, the track EQ's three biquads (RBJ cookbook high-pass, peaking, high shelf) with
        scipy.signal.sosfilt and carried state, fader gain and pan, sum, write 24-bit.
Neither compresses, limits or targets loudness: they bound from below what any renderer that
reads, filters and writes the same audio can take.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import soundfile as sf
from common import BLOCK, balance_gains, db, eq_sos, load_workload
from scipy import signal


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("out")
    ap.add_argument("--mode", choices=("sum", "biquad"), default="sum")
    args = ap.parse_args()
    w = load_workload(args.workload)
    sr = w["sample_rate"]
    files = [sf.SoundFile(t["path"]) for t in w["tracks"]]
    frames = min(f.frames for f in files)
    sos = eq_sos(w["track_eq"], sr)
    zis = [np.zeros((sos.shape[0], 2, 2)) for _ in files]
    gains = [np.array(balance_gains(t["pan"]))[:, None] * db(t["gain_db"]) for t in w["tracks"]]
    with sf.SoundFile(args.out, "w", samplerate=sr, channels=2, subtype="PCM_24", format="WAV") as out:
        for start in range(0, frames, BLOCK):
            n = min(BLOCK, frames - start)
            acc = np.zeros((2, n))
            for i, f in enumerate(files):
                x = f.read(n, dtype="float64", always_2d=True).T
                if args.mode == "biquad":
                    x, zis[i] = signal.sosfilt(sos, x, axis=-1, zi=zis[i])
                    x *= gains[i]
                acc += x
            out.write(acc.T)
    for f in files:
        f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

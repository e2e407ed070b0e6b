"""Deterministic synthetic session for the benchmark: N stereo 24-bit 48 kHz stems of S seconds.

    python benchmarks/generate.py --tracks 16 --seconds 180 --out benchmarks/_work [--seed 0]

Each stem mixes band-limited noise, a harmonic tone (a note and its overtones) and decaying
drum-like pulses (a pitch-swept sine "kick" or a noise "snare/hat"), under a slow level swell so
compressors have something to do.  The stem's RMS (over both channels) is set to a level drawn
between -26 and -14 dBFS, inside the -30..-10 dBFS the workload asks for.  Stems are written block
by block (memory stays flat for 16x900) and cached by (N, S, seed): a second run with the same
arguments reuses the files if the manifest and the file sizes still match.

Besides the stems it writes, in ``OUT/bench-<N>x<S>-s<seed>/``:

* ``session.yaml``  -- the mixgraph session of the workload (see ``workload_session``);
* ``workload.json`` -- the same workload, flattened for the peers (paths, gains, pans, buses,
  every processor parameter), so every runner reads one definition;
* ``manifest.json`` -- parameters, per-stem target level and sha256 of the samples.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml
from scipy import signal

SAMPLE_RATE = 48000
#: generation block: fixed, so the random streams (and the bytes) never depend on memory settings
GEN_BLOCK = 1 << 16
GENERATOR_VERSION = 1
#: stem RMS levels are drawn from this range (dBFS), inside the -30..-10 dBFS the workload asks for
LEVEL_RANGE_DB = (-26.0, -14.0)

# --------------------------------------------------------------------------- the workload

#: per-track chain, in the session vocabulary (key = pydantic field = DSP argument)
TRACK_EQ = [
    {"type": "highpass", "freq_hz": 80.0, "slope_db_oct": 12},
    {"type": "bell", "freq_hz": 2500.0, "gain_db": 3.0, "q": 1.0},
    {"type": "highshelf", "freq_hz": 8000.0, "gain_db": 2.0},
]
TRACK_COMP = {"threshold_db": -18.0, "ratio": 4.0, "attack_ms": 10.0, "release_ms": 100.0}
BUS_COMP = {"threshold_db": -12.0, "ratio": 2.0, "attack_ms": 30.0, "release_ms": 200.0}
MASTER_EQ = [{"type": "lowshelf", "freq_hz": 100.0, "gain_db": 1.0}]
MASTER_COMP = {"threshold_db": -10.0, "ratio": 1.5, "attack_ms": 30.0, "release_ms": 300.0}
MASTER_LIMITER = {"ceiling_dbtp": -1.0, "lookahead_ms": 5.0, "release_ms": 60.0}
TARGET_LUFS = -14.0

#: the 16-track layout: tracks 1-4 drums, 5-10 music, 11-14 vocals, 15-16 fx
BUS_SHARES = (("drums", 4), ("music", 6), ("vocals", 4), ("fx", 2))


def bus_counts(n_tracks: int) -> list[tuple[str, int]]:
    """Tracks per bus for N tracks: the 4/6/4/2 split of 16, scaled (largest remainder).

    Every bus gets at least one track when N >= 4; with fewer tracks, the later buses are dropped.
    """
    total = sum(s for _, s in BUS_SHARES)
    exact = [n_tracks * s / total for _, s in BUS_SHARES]
    counts = [math.floor(e) for e in exact]
    if n_tracks >= len(BUS_SHARES):
        counts = [max(1, c) for c in counts]
    while sum(counts) < n_tracks:  # hand out the rest by largest remainder
        i = max(range(len(counts)), key=lambda k: (exact[k] - counts[k], -k))
        counts[i] += 1
    while sum(counts) > n_tracks:  # the minimum of one made too many: take from the largest
        i = max(range(len(counts)), key=lambda k: (counts[k], -k))
        counts[i] -= 1
    return [(name, c) for (name, _), c in zip(BUS_SHARES, counts, strict=True) if c > 0]


def workload_name(n_tracks: int, seconds: float, seed: int) -> str:
    return f"bench-{n_tracks}x{_fmt_seconds(seconds)}-s{seed}"


def _fmt_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds).replace(".", "p")


def track_settings(n_tracks: int, seed: int) -> list[dict]:
    """Name, fader gain, pan and bus of every track (deterministic in (N, seed))."""
    rng = np.random.default_rng([seed, 7919])
    buses = [b for b, c in bus_counts(n_tracks) for _ in range(c)]
    out = []
    for i in range(n_tracks):
        gain_db = round(float(rng.uniform(-4.0, 2.0)), 2)
        pan = round(float(rng.uniform(-0.7, 0.7)), 2)
        out.append({"name": f"t{i + 1:02d}", "source": f"t{i + 1:02d}.wav", "gain_db": gain_db,
                    "pan": pan, "bus": buses[i]})
    return out


def workload_session(n_tracks: int, seconds: float, seed: int, stems_dir: str) -> dict:
    """The workload as a mixgraph session (a plain dict, ready for YAML and ``Session.model_validate``)."""
    tracks = {}
    for t in track_settings(n_tracks, seed):
        tracks[t["name"]] = {
            "source": t["source"],
            "gain_db": t["gain_db"],
            "pan": t["pan"],
            "chain": [
                {"type": "eq", "bands": [dict(b) for b in TRACK_EQ]},
                {"type": "compressor", **TRACK_COMP},
            ],
            "out": t["bus"],
        }
    buses = {name: {"chain": [{"type": "compressor", **BUS_COMP}]} for name, _ in bus_counts(n_tracks)}
    return {
        "mixgraph": 1,
        "name": workload_name(n_tracks, seconds, seed),
        "sample_rate": SAMPLE_RATE,
        "sources_dir": stems_dir,
        "tail_s": 0.0,
        "tracks": tracks,
        "buses": buses,
        "master": {
            "chain": [
                {"type": "eq", "bands": [dict(b) for b in MASTER_EQ]},
                {"type": "compressor", **MASTER_COMP},
                {"type": "limiter", **MASTER_LIMITER},
            ],
            "loudness": {"target_lufs": TARGET_LUFS},
        },
        "outputs": {"master": {"path": "renders/{name}-master.wav", "bit_depth": 24}},
    }


# --------------------------------------------------------------------------- one stem


class StemSynth:
    """Block-wise synthesis of one stereo stem; the recipe is drawn from ``rng`` once."""

    def __init__(self, seed: int, index: int, frames: int, sr: int = SAMPLE_RATE):
        self.sr = sr
        self.frames = frames
        self.rng = np.random.default_rng([seed, index, GENERATOR_VERSION])
        rng = self.rng
        self.level_db = float(rng.uniform(*LEVEL_RANGE_DB))
        # shares of power: noise, tone, pulses (pulses capped so the crest factor stays sane)
        shares = rng.dirichlet([2.0, 2.0, 2.0])
        shares[2] = min(shares[2], 0.3)
        shares /= shares.sum()
        # band-limited noise: 2nd-order Butterworth band-pass, state carried across blocks
        lo = float(rng.uniform(60.0, 800.0))
        hi = float(rng.uniform(2500.0, 14000.0))
        self.sos = signal.butter(2, [lo, hi], btype="bandpass", fs=sr, output="sos")
        self.zi = np.zeros((self.sos.shape[0], 2, 2))
        impulse = np.zeros(sr)
        impulse[0] = 1.0
        noise_power = float(np.sum(signal.sosfilt(self.sos, impulse) ** 2))  # var of filtered unit white noise
        self.common = float(rng.uniform(0.3, 0.8))  # share of the noise common to both channels
        self.noise_gain = math.sqrt(shares[0] / noise_power)
        # harmonic tone: a note between A1 and A4 and 4 overtones at 1/k amplitude
        self.f0 = 55.0 * 2.0 ** (int(rng.integers(0, 37)) / 12.0)
        self.harm = np.array([k for k in range(1, 6) if k * self.f0 < 0.45 * sr], dtype=np.float64)
        amps = 1.0 / self.harm
        self.tone_amps = amps * math.sqrt(shares[1] / float(np.sum(amps**2) / 2.0))
        self.tone_phase = rng.uniform(0.0, 2.0 * np.pi, size=len(self.harm))
        tone_pan = float(rng.uniform(-0.5, 0.5))
        gl, gr = math.cos((tone_pan + 1) * math.pi / 4), math.sin((tone_pan + 1) * math.pi / 4)
        self.tone_lr = np.array([[gl], [gr]]) * math.sqrt(2.0)  # (gl^2 + gr^2) / 2 = 1
        # pulses: a template, repeated on a tempo grid with some jitter and accent
        bpm = float(rng.uniform(90.0, 140.0))
        subdiv = int(rng.choice([1, 2]))
        step = 60.0 / bpm / subdiv
        onsets = np.arange(0.0, frames / sr, step)
        onsets = onsets + rng.uniform(0.0, 0.004, size=len(onsets))
        keep = rng.random(len(onsets)) < 0.85
        self.onsets = np.round(onsets[keep] * sr).astype(np.int64)
        self.accents = rng.uniform(0.6, 1.0, size=len(self.onsets))
        tau = float(rng.uniform(0.03, 0.12))
        n = np.arange(int(5 * tau * sr)) / sr
        env = np.exp(-n / tau)
        if rng.random() < 0.5:  # "kick": sine swept from ~150 Hz down to ~50 Hz
            f = 50.0 + 100.0 * np.exp(-n / 0.03)
            tpl = env * np.sin(2.0 * np.pi * np.cumsum(f) / sr)
        else:  # "snare/hat": a high-passed noise burst
            burst = rng.standard_normal(len(n))
            tpl = env * signal.sosfilt(signal.butter(2, 1500.0, "highpass", fs=sr, output="sos"), burst)
        pulse_energy = float(np.sum(tpl**2) * np.mean(self.accents**2)) if len(self.accents) else 0.0
        pulse_power = pulse_energy * len(self.onsets) / max(frames, 1)
        self.tpl = tpl * (math.sqrt(shares[2] / pulse_power) if pulse_power > 0 else 0.0)
        # slow swell: gain(t) = depth_db * sin(2 pi t / period + phase), power-normalised over a period
        self.swell_db = float(rng.uniform(2.0, 6.0))
        self.swell_period = float(rng.uniform(6.0, 20.0))
        self.swell_phase = float(rng.uniform(0.0, 2.0 * np.pi))
        grid = np.linspace(0.0, 2.0 * np.pi, 4096, endpoint=False)
        swell_power = float(np.mean(10.0 ** (self.swell_db * np.sin(grid) / 10.0)))
        self.scale = 10.0 ** (self.level_db / 20.0) / math.sqrt(swell_power)
        self.clipped = 0

    def block(self, start: int, n: int) -> np.ndarray:
        """Samples [start, start + n) as (2, n) float64."""
        sr = self.sr
        idx = np.arange(start, start + n, dtype=np.float64)
        t = idx / sr
        # noise
        white = self.rng.standard_normal((3, n))
        c = math.sqrt(self.common)
        d = math.sqrt(1.0 - self.common)
        stereo = np.vstack((c * white[0] + d * white[1], c * white[0] + d * white[2]))
        filt, self.zi = signal.sosfilt(self.sos, stereo, axis=-1, zi=self.zi)
        x = filt * self.noise_gain
        # tone
        ph = 2.0 * np.pi * self.f0 * np.outer(self.harm, t) + self.tone_phase[:, None]
        x += self.tone_lr * (self.tone_amps @ np.sin(ph))[None, :]
        # pulses overlapping this block
        L = len(self.tpl)
        lo = np.searchsorted(self.onsets, start - L, side="right")
        hi = np.searchsorted(self.onsets, start + n, side="left")
        pulses = np.zeros(n)
        for o, a in zip(self.onsets[lo:hi], self.accents[lo:hi], strict=True):
            s0 = max(o, start)
            s1 = min(o + L, start + n)
            if s1 > s0:
                pulses[s0 - start : s1 - start] += a * self.tpl[s0 - o : s1 - o]
        x += pulses[None, :]
        # swell and level
        swell = 10.0 ** (self.swell_db * np.sin(2.0 * np.pi * t / self.swell_period + self.swell_phase) / 20.0)
        x *= swell * self.scale
        over = np.abs(x) > 0.999
        if over.any():
            self.clipped += int(over.sum())
            np.clip(x, -0.999, 0.999, out=x)
        return x


def write_stem(path: Path, seed: int, index: int, frames: int, sr: int = SAMPLE_RATE) -> dict:
    """Write one stem (24-bit WAV) block by block; return its manifest entry."""
    synth = StemSynth(seed, index, frames, sr)
    h = hashlib.sha256()
    sumsq = 0.0
    tmp = path.with_name(path.name + ".part")
    with sf.SoundFile(tmp, "w", samplerate=sr, channels=2, subtype="PCM_24", format="WAV") as f:
        for start in range(0, frames, GEN_BLOCK):
            n = min(GEN_BLOCK, frames - start)
            x = synth.block(start, n)
            # quantise as the file will hold it, so the hash and level describe the written samples
            q = np.round(x * 8388608.0).astype(np.int32)
            h.update(np.ascontiguousarray(q.T).tobytes())
            sumsq += float(np.sum((q / 8388608.0) ** 2))
            f.write(q.T.astype(np.float64) / 8388608.0)
    tmp.replace(path)
    rms_db = 10.0 * math.log10(sumsq / (2 * frames)) if frames else -math.inf
    return {"file": path.name, "target_rms_db": round(synth.level_db, 3), "rms_db": round(rms_db, 3),
            "sha256": h.hexdigest(), "clipped_samples": synth.clipped, "bytes": path.stat().st_size}


def generate(n_tracks: int, seconds: float, out: str | Path, seed: int = 0, force: bool = False,
             log=print) -> Path:
    """Generate (or reuse) the stems and the session; return the session.yaml path."""
    if n_tracks < 1 or seconds <= 0:
        raise ValueError("need at least one track and a positive duration")
    root = Path(out) / workload_name(n_tracks, seconds, seed)
    stems = root / "stems"
    stems.mkdir(parents=True, exist_ok=True)
    frames = int(round(seconds * SAMPLE_RATE))
    params = {"tracks": n_tracks, "seconds": seconds, "seed": seed, "sample_rate": SAMPLE_RATE,
              "frames": frames, "generator_version": GENERATOR_VERSION}
    manifest_path = root / "manifest.json"
    manifest = None
    if manifest_path.exists() and not force:
        try:
            old = json.loads(manifest_path.read_text())
            if old.get("params") == params and all(
                (stems / s["file"]).is_file() and (stems / s["file"]).stat().st_size == s["bytes"]
                for s in old["stems"]
            ):
                manifest = old
                log(f"reusing {len(old['stems'])} cached stems in {stems}")
        except (ValueError, KeyError, OSError):
            manifest = None
    if manifest is None:
        entries = []
        for i in range(n_tracks):
            entries.append(write_stem(stems / f"t{i + 1:02d}.wav", seed, i, frames))
            log(f"  {entries[-1]['file']}: {entries[-1]['rms_db']:.1f} dBFS RMS")
        manifest = {"params": params, "stems": entries}
        _atomic_write(manifest_path, json.dumps(manifest, indent=1))
    session = workload_session(n_tracks, seconds, seed, "stems")
    _atomic_write(root / "session.yaml", "# generated by benchmarks/generate.py -- do not edit\n"
                  + yaml.safe_dump(session, sort_keys=False, default_flow_style=None, width=120))
    _atomic_write(root / "workload.json", json.dumps(peer_workload(n_tracks, seconds, seed, stems), indent=1))
    return root / "session.yaml"


def peer_workload(n_tracks: int, seconds: float, seed: int, stems: Path) -> dict:
    """The workload flattened for the peers: absolute stem paths and every parameter."""
    return {
        "name": workload_name(n_tracks, seconds, seed),
        "sample_rate": SAMPLE_RATE,
        "frames": int(round(seconds * SAMPLE_RATE)),
        "tracks": [{**t, "path": str((stems / t["source"]).resolve())} for t in track_settings(n_tracks, seed)],
        "buses": [name for name, _ in bus_counts(n_tracks)],
        "track_eq": TRACK_EQ,
        "track_comp": TRACK_COMP,
        "bus_comp": BUS_COMP,
        "master_eq": MASTER_EQ,
        "master_comp": MASTER_COMP,
        "master_limiter": MASTER_LIMITER,
        "target_lufs": TARGET_LUFS,
    }


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text)
    tmp.replace(path)


def parse_workload(spec: str) -> tuple[int, float]:
    """'16x180' -> (16, 180.0)."""
    try:
        n, s = spec.lower().split("x")
        return int(n), float(s)
    except ValueError:
        raise ValueError(f"workload {spec!r} is not NxS (tracks x seconds), e.g. 16x180") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "_work"))
    ap.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = ap.parse_args(argv)
    try:
        path = generate(args.tracks, args.seconds, args.out, args.seed, args.force)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

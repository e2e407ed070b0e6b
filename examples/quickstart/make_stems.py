"""Generate the quickstart stems: deterministic, real-sounding synthetic parts.

    python examples/quickstart/make_stems.py

Writes 16-bit FLAC files (48 kHz, 12 s, 120 BPM) into ``stems/`` next to this
script: kick, snare, hats, bass, vocal (a formant-filtered sawtooth with
vibrato and sibilants) and keys (stereo chords). A development script, not a
render path: it may loop over notes (never over samples).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

SR = 48000
SECONDS = 12.0
BPM = 120.0
BEAT = 60.0 / BPM
N = int(SR * SECONDS)
rng = np.random.default_rng(20261125)


def at(t: float) -> int:
    return int(round(t * SR))


def kick() -> np.ndarray:
    out = np.zeros(N)
    n = at(0.45)
    t = np.arange(n) / SR
    freq = 48 + 110 * np.exp(-t / 0.035)
    phase = 2 * np.pi * np.cumsum(freq) / SR
    hit = np.sin(phase) * np.exp(-t / 0.16)
    hit[: at(0.002)] *= np.linspace(0, 1, at(0.002))
    click = signal.lfilter(*signal.butter(2, 3000 / (SR / 2), "high"), rng.standard_normal(at(0.004)))
    hit[: click.size] += 0.15 * click
    for beat in np.arange(0, SECONDS / BEAT):
        s = at(beat * BEAT)
        out[s : s + n] += hit[: max(0, min(n, N - s))]
    return 0.55 * out


def snare() -> np.ndarray:
    out = np.zeros(N)
    n = at(0.3)
    t = np.arange(n) / SR
    noise = signal.lfilter(*signal.butter(2, [900 / (SR / 2), 9000 / (SR / 2)], "band"), rng.standard_normal(n))
    body = np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.05)
    hit = (0.6 * noise * np.exp(-t / 0.09) + 0.5 * body)
    for beat in np.arange(1, SECONDS / BEAT, 2):
        s = at(beat * BEAT)
        out[s : s + n] += hit[: max(0, min(n, N - s))]
    return 0.45 * out


def hats() -> np.ndarray:
    out = np.zeros(N)
    n = at(0.06)
    t = np.arange(n) / SR
    b, a = signal.butter(4, 7000 / (SR / 2), "high")
    for i, step in enumerate(np.arange(0, SECONDS / BEAT, 0.5)):
        s = at(step * BEAT)
        hit = signal.lfilter(b, a, rng.standard_normal(n)) * np.exp(-t / 0.018) * (1.0 if i % 2 else 0.6)
        out[s : s + n] += hit[: max(0, min(n, N - s))]
    return 0.25 * out


def saw(freq: np.ndarray) -> np.ndarray:
    phase = np.cumsum(freq) / SR
    return 2.0 * (phase - np.floor(phase + 0.5))


def bass() -> np.ndarray:
    notes = [41.2, 41.2, 55.0, 49.0]  # E1 E1 A1 G1, one per bar
    freq = np.repeat(notes * 3, at(4 * BEAT))[:N]
    freq = np.pad(freq, (0, N - freq.size), mode="edge")
    raw = 0.6 * saw(freq) + 0.4 * np.sin(2 * np.pi * np.cumsum(freq) / SR)
    lp = signal.lfilter(*signal.butter(2, 400 / (SR / 2)), raw)
    env = np.ones(N)
    for beat in np.arange(0, SECONDS / BEAT, 0.5):  # eighth-note pumping plucks
        s = at(beat * BEAT)
        n = min(at(0.5 * BEAT), N - s)
        env[s : s + n] = 0.35 + 0.65 * np.exp(-np.arange(n) / SR / 0.12)
    return 0.5 * lp * env


def vocal() -> np.ndarray:
    melody = [(0, 2, 220.0), (2, 1, 246.9), (3, 1, 261.6), (4, 3, 293.7), (8, 2, 261.6),
              (10, 2, 246.9), (12, 4, 220.0), (16, 2, 329.6), (18, 2, 293.7), (20, 3, 261.6)]
    freq = np.full(N, 220.0)
    gate = np.zeros(N)
    for beat, length, f in melody:
        s, e = at(beat * BEAT), min(N, at((beat + length) * BEAT - 0.05))
        freq[s:e] = f
        n = e - s
        g = np.ones(n)
        ramp = min(at(0.04), n // 2)
        g[:ramp] = np.linspace(0, 1, ramp)
        g[n - ramp :] = np.linspace(1, 0, ramp)
        gate[s:e] = g
    t = np.arange(N) / SR
    freq = freq * (1 + 0.012 * np.sin(2 * np.pi * 5.5 * t))  # vibrato
    src = saw(freq)
    out = np.zeros(N)
    for f0, bw, gain in ((700, 110, 1.0), (1220, 120, 0.6), (2600, 160, 0.35)):  # an "ah" vowel
        b, a = signal.iirpeak(f0 / (SR / 2), f0 / bw)
        out += gain * signal.lfilter(b, a, src)
    out *= gate
    # sibilants at some note starts
    b, a = signal.butter(4, [5000 / (SR / 2), 9500 / (SR / 2)], "band")
    for beat, _length, _f in melody[::3]:
        s = at(beat * BEAT)
        n = at(0.07)
        out[s : s + n] += 0.5 * signal.lfilter(b, a, rng.standard_normal(n)) * np.hanning(n)
    return 0.35 * out / np.max(np.abs(out))


def keys() -> np.ndarray:
    chords = [(164.8, 196.0, 246.9), (164.8, 196.0, 246.9), (220.0, 261.6, 329.6), (196.0, 246.9, 293.7)]
    out = np.zeros((2, N))
    bar = at(4 * BEAT)
    t = np.arange(bar) / SR
    for i in range(int(np.ceil(N / bar))):
        s = i * bar
        n = min(bar, N - s)
        env = (1 - np.exp(-t[:n] / 0.01)) * np.exp(-t[:n] / 1.4)
        for j, f in enumerate(chords[i % 4]):
            tone = sum(np.sin(2 * np.pi * f * k * t[:n] + j) / k**1.5 for k in range(1, 6))
            out[0, s : s + n] += env * tone * (0.8 if j == 0 else 0.5)
            out[1, s : s + n] += env * tone * (0.5 if j == 0 else 0.8)
    return 0.12 * out


def main() -> None:
    folder = Path(__file__).resolve().parent / "stems"
    folder.mkdir(exist_ok=True)
    parts = {"kick": kick(), "snare": snare(), "hats": hats(), "bass": bass(), "vocal": vocal(), "keys": keys()}
    for name, x in parts.items():
        x = np.atleast_2d(x)
        peak = np.max(np.abs(x))
        assert peak < 1.0, (name, peak)
        sf.write(folder / f"{name}.flac", x.T, SR, subtype="PCM_16")
        rms = 20 * np.log10(np.sqrt(np.mean(x**2)))
        print(f"{name:6s} peak {20 * np.log10(peak):6.1f} dBFS  rms {rms:6.1f} dBFS")


if __name__ == "__main__":
    main()

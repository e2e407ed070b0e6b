"""Generate the stems of the example song: short, deterministic, synthetic parts.

    python examples/song/make_stems.py [OUT_DIR]

Writes 16-bit mono FLAC files (44.1 kHz, 3 s, 90 BPM) into ``stems/`` next to this script (or
OUT_DIR): a lead vocal, 2 doubles, 6 harmonies, 2 ad-libs (formant-filtered sawtooths with
vibrato), and a band: kick, snare, 2 overheads, bass, 2 guitars, keys. A development script, not
a render path: it loops over notes and files, never over samples.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

SR = 44100
SECONDS = 3.0
BPM = 90.0
BEAT = 60.0 / BPM
N = int(SR * SECONDS)
T = np.arange(N) / SR
rng = np.random.default_rng(90)


def saw(freq: np.ndarray) -> np.ndarray:
    phase = np.cumsum(freq) / SR
    return 2.0 * (phase - np.floor(phase + 0.5))


def voice(root_hz: float, vowel: tuple[float, float], start: float, vib_hz: float, level: float) -> np.ndarray:
    """A sung line: two notes, vibrato, two formants, a soft attack and release."""
    f = np.where(T < 1.5, root_hz, root_hz * 2 ** (2 / 12))
    f = f * (1 + 0.006 * np.sin(2 * np.pi * vib_hz * T))
    x = signal.sosfilt(signal.butter(4, 3500, "low", fs=SR, output="sos"), saw(f))
    y = np.zeros(N)
    for fc, q in ((vowel[0], 5.0), (vowel[1], 8.0)):
        b, a = signal.iirpeak(fc, q, fs=SR)
        y += signal.lfilter(b, a, x)
    env = np.clip((T - start) / 0.08, 0, 1) * np.clip((SECONDS - 0.2 - T) / 0.3, 0, 1)
    return level * y * env / np.max(np.abs(y))


def hits(times: list[float], hit: np.ndarray) -> np.ndarray:
    out = np.zeros(N)
    for t in times:
        s = int(t * SR)
        n = min(hit.size, N - s)
        out[s:s + n] += hit[:n]
    return out


def drum(kind: str) -> np.ndarray:
    n = int(0.35 * SR)
    t = np.arange(n) / SR
    if kind == "kick":
        hit = np.sin(2 * np.pi * np.cumsum(45 + 100 * np.exp(-t / 0.03)) / SR) * np.exp(-t / 0.15)
        return 0.6 * hits([b * BEAT for b in range(0, 5)], hit)
    noise = rng.standard_normal(n)
    if kind == "snare":
        hit = signal.lfilter(*signal.butter(2, [1000, 8000], "band", fs=SR), noise) * np.exp(-t / 0.08)
        hit += 0.4 * np.sin(2 * np.pi * 185 * t) * np.exp(-t / 0.05)
        return 0.5 * hits([b * BEAT for b in (1, 3)], hit)
    hit = signal.lfilter(*signal.butter(2, 6000, "high", fs=SR), noise) * np.exp(-t / 0.03)
    return 0.25 * hits([b * BEAT / 2 for b in range(0, 9)], hit)


def tone(freqs: list[float], level: float, decay: float, times: list[float], bright: float) -> np.ndarray:
    n = int(1.2 * SR)
    t = np.arange(n) / SR
    note = sum(np.sin(2 * np.pi * f * k * t) * bright ** (k - 1) for f in freqs for k in range(1, 5))
    note = note * np.exp(-t / decay)
    out = hits(times, note)
    return level * out / np.max(np.abs(out))


def stems() -> dict[str, np.ndarray]:
    vowels = [(700, 1200), (400, 2000), (500, 1000), (300, 2300), (600, 1700), (450, 1500)]
    out = {
        "vox/lead.flac": voice(220.0, (650, 1100), 0.1, 5.5, 0.5),
        "vox/double_1.flac": voice(220.0 * 1.003, (640, 1150), 0.12, 5.2, 0.4),
        "vox/double_2.flac": voice(220.0 * 0.997, (660, 1080), 0.11, 5.8, 0.4),
    }
    for i, (interval, vowel) in enumerate(zip((3, 4, 7, 9, 12, -5), vowels, strict=True)):
        out[f"vox/harmony_{i + 1}.flac"] = voice(220.0 * 2 ** (interval / 12), vowel, 0.15 + 0.02 * i,
                                                   5.0 + 0.2 * i, 0.3)
    out["vox/adlib_1.flac"] = voice(330.0, (500, 1500), 1.6, 6.0, 0.35)
    out["vox/adlib_2.flac"] = voice(294.0, (450, 1800), 2.0, 6.2, 0.35)
    out["band/kick.flac"] = drum("kick")
    out["band/snare.flac"] = drum("snare")
    out["band/oh_left.flac"] = drum("hats")
    out["band/oh_right.flac"] = 0.8 * drum("hats")
    out["band/bass.flac"] = tone([55.0], 0.5, 0.5, [b * BEAT for b in range(5)], 0.3)
    out["band/gtr_left.flac"] = tone([110.0, 164.8, 220.0], 0.3, 0.4, [b * BEAT for b in range(5)], 0.5)
    out["band/gtr_right.flac"] = tone([110.0, 164.8, 220.0], 0.3, 0.4, [(b + 0.5) * BEAT for b in range(5)], 0.5)
    out["band/keys.flac"] = tone([261.6, 329.6, 392.0], 0.25, 1.0, [0.0, 1.5], 0.2)
    return out


def main(folder: Path) -> None:
    for rel, x in stems().items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        sf.write(p, np.clip(x, -1, 1), SR, subtype="PCM_16")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "stems")

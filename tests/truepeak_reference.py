"""The independent true-peak reference and the high-frequency material the limiter and meter tests
share (issue "Mastering that keeps its promises").

The reference is ``scipy.signal.resample_poly(x, 16, 1)`` with a long Kaiser-window low-pass
(2049 taps at 16x, 64 base samples a side, beta 8) instead of resample_poly's default (beta 5,
10 base samples a side), which is itself 1.5 dB down near 20 kHz at 44.1 kHz and so cannot judge a
detector there. This one is flat to 1.4e-4 (0.001 dB) up to 0.95 x Nyquist; its 16-point grid
under-reads a sine there by at most 20 log10(cos(pi 0.475 / 16)) = -0.038 dB.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

REFERENCE_FILTER = signal.firwin(16 * 128 + 1, 1 / 16, window=("kaiser", 8.0))
RATES = (44100, 48000, 96000)


def true_peak_16x(x: np.ndarray) -> float:
    """dBTP of x (channels, n) by the 16x reference (x should fade in and out: the edges of a
    hard-cut signal ring in any interpolator)."""
    y = signal.resample_poly(np.atleast_2d(x), 16, 1, axis=-1, window=REFERENCE_FILTER)
    return float(20 * np.log10(np.abs(y).max()))


def fade(n: int, sr: int) -> np.ndarray:
    """A 5 ms raised-cosine fade in and out over n frames."""
    k = int(0.005 * sr)
    w = np.ones(n)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
    w[:k] = ramp
    w[n - k :] = ramp[::-1]
    return w


def hf_bursts(sr: int, seconds: float = 0.3, seed: int = 0) -> np.ndarray:
    """Sine bursts swept from 12 kHz to 21 kHz (at most 0.95 x Nyquist), one every 5 ms, their Hann
    envelopes 0.5 ms and 2 ms long in turn, random phase per channel, over low-passed noise (8 kHz)
    about 10 dB down: short high-frequency peaks that a droopy interpolator misses and a
    limiter working on the noise lets through. Peak sample level about 0 dBFS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    bed = signal.sosfilt(signal.butter(4, 8000, fs=sr, output="sos"), rng.standard_normal((2, n)))
    x = 0.15 * bed
    top = min(21000.0, 0.95 * sr / 2)
    starts = np.arange(int(0.01 * sr), n - int(0.015 * sr), int(0.005 * sr))
    freqs = np.linspace(12000.0, top, starts.size)
    for k, (s, f) in enumerate(zip(starts, freqs, strict=True)):
        width = int((0.0005 if k % 2 else 0.002) * sr)
        t = np.arange(width) / sr
        for c in range(2):
            x[c, s : s + width] += 0.5 * np.hanning(width) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    return x * fade(n, sr)


def twin_tone(sr: int, seconds: float = 0.4, f1: float = 19000.0, f2: float = 20000.0) -> np.ndarray:
    """19 + 20 kHz at equal level (the beat's peaks fall between samples at every phase), left and
    right a little apart in phase, 0 dBFS sum amplitude."""
    n = int(seconds * sr)
    t = np.arange(n) / sr
    left = 0.5 * np.sin(2 * np.pi * f1 * t) + 0.5 * np.sin(2 * np.pi * f2 * t + 0.3)
    right = 0.5 * np.sin(2 * np.pi * f1 * t + 1.0) + 0.5 * np.sin(2 * np.pi * f2 * t + 2.1)
    return np.stack([left, right]) * fade(n, sr)


def sine(sr: int, f: float, seconds: float = 0.1, phase: float = 0.37, amp: float = 0.5) -> np.ndarray:
    n = int(seconds * sr)
    t = np.arange(n) / sr
    return (amp * np.sin(2 * np.pi * f * t + phase) * fade(n, sr))[None]

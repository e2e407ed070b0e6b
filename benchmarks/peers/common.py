"""Shared pieces of the benchmark peers: the workload file, pan law, RBJ biquads, loudness solving.

The peers are separate processes started by ``benchmarks/run.py``; each reads ``workload.json``
written by ``benchmarks/generate.py`` (one definition of the workload for every runner).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

BLOCK = 1 << 15  # frames per streaming block in the Python peers


def load_workload(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def balance_gains(pan: float) -> tuple[float, float]:
    """mixgraph's law for a stereo source (mixgraph/dsp/basic.py): unity at centre,
    the far side attenuated by cos(|pan| * pi / 2)."""
    far = math.cos(abs(pan) * math.pi / 2.0)
    return (far, 1.0) if pan > 0 else (1.0, far) if pan < 0 else (1.0, 1.0)


def db(x: float) -> float:
    return 10.0 ** (x / 20.0)


# RBJ Audio EQ Cookbook (R. Bristow-Johnson), formulas written out: sos rows [b0 b1 b2 a0 a1 a2]
def rbj_highpass(f: float, q: float, fs: float) -> np.ndarray:
    w0 = 2 * math.pi * f / fs
    alpha = math.sin(w0) / (2 * q)
    c = math.cos(w0)
    b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
    a = [1 + alpha, -2 * c, 1 - alpha]
    return _norm(b, a)


def rbj_peaking(f: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    A = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * f / fs
    alpha = math.sin(w0) / (2 * q)
    c = math.cos(w0)
    b = [1 + alpha * A, -2 * c, 1 - alpha * A]
    a = [1 + alpha / A, -2 * c, 1 - alpha / A]
    return _norm(b, a)


def rbj_shelf(kind: str, f: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    A = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * f / fs
    alpha = math.sin(w0) / (2 * q)
    c = math.cos(w0)
    s = 2 * math.sqrt(A) * alpha
    if kind == "lowshelf":
        b = [A * ((A + 1) - (A - 1) * c + s), 2 * A * ((A - 1) - (A + 1) * c), A * ((A + 1) - (A - 1) * c - s)]
        a = [(A + 1) + (A - 1) * c + s, -2 * ((A - 1) + (A + 1) * c), (A + 1) + (A - 1) * c - s]
    else:
        b = [A * ((A + 1) + (A - 1) * c + s), -2 * A * ((A - 1) + (A + 1) * c), A * ((A + 1) + (A - 1) * c - s)]
        a = [(A + 1) - (A - 1) * c + s, 2 * ((A - 1) - (A + 1) * c), (A + 1) - (A - 1) * c - s]
    return _norm(b, a)


def _norm(b, a) -> np.ndarray:
    return np.array([[b[0] / a[0], b[1] / a[0], b[2] / a[0], 1.0, a[1] / a[0], a[2] / a[0]]])


def eq_sos(bands: list[dict], fs: float) -> np.ndarray:
    """The workload's EQ bands as one second-order-section array (highpass: 12 dB/oct per section)."""
    rows = []
    for b in bands:
        if b["type"] == "highpass":
            for _ in range(b.get("slope_db_oct", 12) // 12):
                rows.append(rbj_highpass(b["freq_hz"], b.get("q", 0.7071), fs))
        elif b["type"] == "bell":
            rows.append(rbj_peaking(b["freq_hz"], b["gain_db"], b.get("q", 1.0), fs))
        elif b["type"] in ("lowshelf", "highshelf"):
            rows.append(rbj_shelf(b["type"], b["freq_hz"], b["gain_db"], b.get("q", 0.7071), fs))
        else:
            raise ValueError(f"band type {b['type']} not in the workload")
    return np.vstack(rows)


def solve_loudness(premaster: np.ndarray, sr: int, limit, target_lufs: float, tol_lu: float = 0.1,
                   max_iter: int = 5) -> tuple[np.ndarray, float, float]:
    """Gain into the limiter until the limited output is within tol of the target.

    ``premaster`` is (channels, frames); ``limit(x)`` runs a fresh limiter over x.
    Returns (output, gain_db, measured_lufs); pyloudnorm measures (BS.1770-4).
    """
    import pyloudnorm

    meter = pyloudnorm.Meter(sr)
    gain_db = 0.0
    out = limit(premaster)
    lufs = meter.integrated_loudness(np.asarray(out, dtype=np.float64).T)
    for _ in range(max_iter):
        if not math.isfinite(lufs) or abs(lufs - target_lufs) <= tol_lu:
            break
        gain_db += target_lufs - lufs
        out = limit(premaster * np.float32(db(gain_db)) if premaster.dtype == np.float32 else premaster * db(gain_db))
        lufs = meter.integrated_loudness(np.asarray(out, dtype=np.float64).T)
    return out, gain_db, lufs

"""Unit conversions shared by every layer (layer 0: the standard library only).

Parameter names carry their unit (``gain_db``, ``attack_ms``, ``freq_hz``,
``ceiling_dbtp``, ``target_lufs``); these helpers convert between them.

The level conversions take a Python number or a numpy array. A number goes through ``math``
(libm's pow and log10); anything else through numpy's ufuncs, with numpy imported only then, so
the session layer, which passes numbers, never loads it. The two paths are kept apart on purpose:
numpy's vectorised power differs from libm's in the last bit for some values (on AVX-512 CPUs),
and each caller keeps the bits it always had.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

#: ln(10) / 20: a level in dB times this is the natural log of its amplitude ratio
DB_TO_LN = math.log(10.0) / 20.0


def db_to_gain(db: float | np.ndarray) -> float | np.ndarray:
    """Amplitude ratio of a level in dB, 10^(dB/20): a float for a number, numpy's power of
    an array (or of a numpy scalar for a 0-d one) otherwise."""
    if isinstance(db, (int, float)):
        return math.pow(10.0, db / 20.0)
    import numpy as np

    return np.power(10.0, np.asarray(db) / 20.0)


def db_to_gain_array(db: float | np.ndarray) -> np.ndarray:
    """10^(dB/20) as an array, computed as exp(dB ln(10)/20): numpy's vectorised exp is much
    faster than its power (for per-sample automation), and differs from db_to_gain in the last
    bit for some values."""
    import numpy as np

    return np.exp(np.asarray(db, dtype=np.float64) * DB_TO_LN)


def gain_to_db(gain: float | np.ndarray, floor: float = 1e-10) -> float | np.ndarray:
    """Level in dB of an amplitude ratio (a magnitude, >= 0), 20*log10, the ratio raised to
    ``floor`` first (the default 1e-10 reads as -200 dB, for silence)."""
    if isinstance(gain, (int, float)):
        return 20.0 * math.log10(max(gain, floor))
    import numpy as np

    return 20.0 * np.log10(np.maximum(gain, floor))


def power_to_db(power: float | np.ndarray, floor: float = 1e-20) -> float | np.ndarray:
    """Level in dB of a power ratio, 10*log10, the ratio raised to ``floor`` first (the
    default 1e-20 reads as -200 dB)."""
    if isinstance(power, (int, float)):
        return 10.0 * math.log10(max(power, floor))
    import numpy as np

    return 10.0 * np.log10(np.maximum(power, floor))


def ms_to_samples(ms: float, sample_rate: float) -> int:
    """Whole samples in ``ms`` milliseconds: ms * 1e-3 * sample_rate (in that order) rounded to
    the nearest integer, a tie to the even one (Python's round: 0.5 ms at 1 kHz gives 0, 1.5 ms
    gives 2)."""
    return int(round(ms * 1e-3 * sample_rate))


def time_constant_coeff(ms: float, sample_rate: float) -> float:
    """One-pole smoothing coefficient for a time constant of ``ms`` milliseconds.

    y[n] = c*y[n-1] + (1-c)*x[n] reaches 1-1/e of a step after ``ms``.
    """
    if ms <= 0.0:
        return 0.0
    return math.exp(-1.0 / (ms * 1e-3 * sample_rate))


NOTE_VALUES = {
    "1/1": 4.0,
    "1/2": 2.0,
    "1/4": 1.0,
    "1/8": 0.5,
    "1/16": 0.25,
    "1/32": 0.125,
}


def note_to_ms(note: str, tempo_bpm: float) -> float:
    """Length of a note value at a tempo: "1/8", "1/8d" (dotted), "1/8t" (triplet).

    A quarter note lasts 60000/tempo_bpm ms.
    """
    base = note.rstrip("dt")
    if base not in NOTE_VALUES:
        raise ValueError(f"unknown note value {note!r}")
    beats = NOTE_VALUES[base]
    if note.endswith("d"):
        beats *= 1.5
    elif note.endswith("t"):
        beats *= 2.0 / 3.0
    return beats * 60000.0 / tempo_bpm

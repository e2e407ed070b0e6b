"""Unit conversions shared by every layer (layer 0: stdlib only).

Parameter names carry their unit (``gain_db``, ``attack_ms``, ``freq_hz``,
``ceiling_dbtp``, ``target_lufs``); these helpers convert between them.
"""

from __future__ import annotations

import math

#: the floor used when a level of zero is expressed in dB
SILENCE_DB = -200.0


def db_to_gain(db: float) -> float:
    """Amplitude ratio of a level in dB: 20*log10 convention."""
    return 10.0 ** (db / 20.0)


def gain_to_db(gain: float) -> float:
    """Level in dB of an amplitude ratio; SILENCE_DB for zero."""
    g = abs(gain)
    if g <= 0.0:
        return SILENCE_DB
    return 20.0 * math.log10(g)


def power_to_db(power: float) -> float:
    """Level in dB of a power ratio: 10*log10 convention."""
    if power <= 0.0:
        return SILENCE_DB
    return 10.0 * math.log10(power)


def ms_to_samples(ms: float, sample_rate: float) -> int:
    """Nearest whole number of samples in ``ms`` milliseconds."""
    return int(round(ms * 1e-3 * sample_rate))


def s_to_samples(seconds: float, sample_rate: float) -> int:
    return int(round(seconds * sample_rate))


def samples_to_s(n: int, sample_rate: float) -> float:
    return n / float(sample_rate)


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

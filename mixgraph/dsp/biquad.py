"""RBJ Audio EQ Cookbook biquads (Robert Bristow-Johnson, "Cookbook formulae for audio
equalizer biquad filter coefficients"), returned as normalised second-order sections
``[b0, b1, b2, 1, a1, a2]`` for ``scipy.signal.sosfilt``.
"""

from __future__ import annotations

import math

import numpy as np

from mixgraph.units import db_to_gain


def _norm(b0, b1, b2, a0, a1, a2) -> np.ndarray:
    return np.array([b0 / a0, b1 / a0, b2 / a0, 1.0, a1 / a0, a2 / a0])


def _w0(freq_hz: float, fs: float) -> tuple[float, float, float]:
    w0 = 2.0 * math.pi * freq_hz / fs
    return w0, math.cos(w0), math.sin(w0)


def peaking(freq_hz: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    """Cookbook peakingEQ: H(s) = (s^2 + s*(A/Q) + 1) / (s^2 + s/(A*Q) + 1)."""
    a = db_to_gain(gain_db / 2.0)  # the cookbook's A = 10^(gain/40)
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    return _norm(1 + alpha * a, -2 * cw, 1 - alpha * a, 1 + alpha / a, -2 * cw, 1 - alpha / a)


def lowshelf(freq_hz: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    """Cookbook lowShelf with the Q form of alpha."""
    a = db_to_gain(gain_db / 2.0)  # the cookbook's A = 10^(gain/40)
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    k = 2.0 * math.sqrt(a) * alpha
    return _norm(
        a * ((a + 1) - (a - 1) * cw + k),
        2 * a * ((a - 1) - (a + 1) * cw),
        a * ((a + 1) - (a - 1) * cw - k),
        (a + 1) + (a - 1) * cw + k,
        -2 * ((a - 1) + (a + 1) * cw),
        (a + 1) + (a - 1) * cw - k,
    )


def highshelf(freq_hz: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    """Cookbook highShelf with the Q form of alpha."""
    a = db_to_gain(gain_db / 2.0)  # the cookbook's A = 10^(gain/40)
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    k = 2.0 * math.sqrt(a) * alpha
    return _norm(
        a * ((a + 1) + (a - 1) * cw + k),
        -2 * a * ((a - 1) + (a + 1) * cw),
        a * ((a + 1) + (a - 1) * cw - k),
        (a + 1) - (a - 1) * cw + k,
        2 * ((a - 1) - (a + 1) * cw),
        (a + 1) - (a - 1) * cw - k,
    )


def lowpass(freq_hz: float, q: float, fs: float) -> np.ndarray:
    """Cookbook LPF: H(s) = 1 / (s^2 + s/Q + 1)."""
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    return _norm((1 - cw) / 2, 1 - cw, (1 - cw) / 2, 1 + alpha, -2 * cw, 1 - alpha)


def highpass(freq_hz: float, q: float, fs: float) -> np.ndarray:
    """Cookbook HPF: H(s) = s^2 / (s^2 + s/Q + 1)."""
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    return _norm((1 + cw) / 2, -(1 + cw), (1 + cw) / 2, 1 + alpha, -2 * cw, 1 - alpha)


def bandpass(freq_hz: float, q: float, fs: float) -> np.ndarray:
    """Cookbook BPF, constant 0 dB peak gain: H(s) = (s/Q) / (s^2 + s/Q + 1)."""
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    return _norm(alpha, 0.0, -alpha, 1 + alpha, -2 * cw, 1 - alpha)


def notch(freq_hz: float, q: float, fs: float) -> np.ndarray:
    """Cookbook notch: H(s) = (s^2 + 1) / (s^2 + s/Q + 1)."""
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    return _norm(1.0, -2 * cw, 1.0, 1 + alpha, -2 * cw, 1 - alpha)


BUTTERWORTH_Q = 1.0 / math.sqrt(2.0)
#: a shelf's default Q as the session writes it (slope 1: the steepest without overshoot), so a
#: band without q gives the filter of a session's band
SHELF_Q = 0.7071


def butterworth_qs(order: int) -> list[float]:
    """Q of each 2nd-order section of an even-order Butterworth filter.

    Poles at angles (2k+1)*pi/(2N) from the imaginary axis: Q_k = 1 / (2 sin((2k+1) pi / (2N))).
    """
    return [1.0 / (2.0 * math.sin((2 * k + 1) * math.pi / (2 * order))) for k in range(order // 2)]


def band_sos(band: dict, fs: float) -> np.ndarray:
    """Sections of one EQ band (same keys as the session's band models)."""
    kind = band["type"]
    f = float(band["freq_hz"])
    if kind == "bell":
        return peaking(f, float(band["gain_db"]), float(band.get("q", 1.0)), fs)[None, :]
    if kind == "lowshelf":
        return lowshelf(f, float(band["gain_db"]), float(band.get("q", SHELF_Q)), fs)[None, :]
    if kind == "highshelf":
        return highshelf(f, float(band["gain_db"]), float(band.get("q", SHELF_Q)), fs)[None, :]
    if kind in ("highpass", "lowpass"):
        sections = int(band.get("slope_db_oct", 12)) // 12
        q = float(band.get("q", BUTTERWORTH_Q))
        # The default q gives a true Butterworth cascade of order 2*sections (what "24 dB/oct"
        # means on a console); any other q is used for every section.
        qs = butterworth_qs(2 * sections) if abs(q - BUTTERWORTH_Q) < 1e-4 else [q] * sections
        fn = highpass if kind == "highpass" else lowpass
        return np.stack([fn(f, qk, fs) for qk in qs])
    if kind == "notch":
        return notch(f, float(band.get("q", 1.0)), fs)[None, :]
    if kind == "bandpass":
        return bandpass(f, float(band.get("q", 1.0)), fs)[None, :]
    raise ValueError(f"unknown EQ band type {kind!r}")

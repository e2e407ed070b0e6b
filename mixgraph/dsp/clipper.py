"""Oversampled soft-knee clipper, for the peaks a limiter would otherwise pump on.

The input (times ``drive_db``) is upsampled by ``oversample``, shaped by a static curve and
brought back down. With c the ceiling and t = c * 10^(-knee_db / 20) the start of the knee:

    f(x) = x                                        |x| <= t
    f(x) = sign(x) (c - (2c - t - |x|)^2 / (4 (c - t)))   t < |x| < 2c - t
    f(x) = sign(x) c                                |x| >= 2c - t

the identity below the knee, a parabola whose slope falls from 1 to 0 (C1 at both ends) and the
ceiling above it; knee_db 0 is a hard clip.

The oversampler is a cascade of linear-phase half-band FIR stages (Kaiser windowed sinc, 110 dB
stopband), designed so that 0 .. 0.4535 fs (20 kHz at 44.1 kHz) passes flat and nothing above
fs - 0.4535 fs folds back into it. The first stage carries the steep transition; each further
stage has a wide one and few taps. A short delay at the top rate makes the whole latency a
whole number of base samples, declared as ``latency_samples``.
"""

from __future__ import annotations

import numpy as np

from mixgraph.dsp.base import Processor
from mixgraph.dsp.oversample import kaiser_lowpass
from mixgraph.units import db_to_gain

#: the flat band, relative to the base rate (20 kHz at 44.1 kHz)
PASSBAND = 20000.0 / 44100.0
#: stopband attenuation of every half-band stage, dB
STOPBAND_DB = 110.0
FACTORS = (1, 2, 4, 8, 16)
#: base frames run through the whole cascade at a time, so the oversampled arrays stay in cache
SUB_BLOCK = 1024


def halfband(stage: int) -> np.ndarray:
    """The 4J - 1 taps of the half-band low-pass of stage ``stage`` (1: fs -> 2 fs), at its high
    rate: flat to PASSBAND fs, stopband from 2^(stage-1) fs - PASSBAND fs (whatever folds into
    the flat band at the stage below). The off-centre taps are scaled to sum to exactly 1/2, so
    both polyphase branches pass DC at unity."""
    rate = 2.0**stage  # the stage's high rate, in base rates
    f_pass = PASSBAND / rate  # cycles per high-rate sample
    width = 0.5 - 2.0 * f_pass  # the transition, symmetric about a quarter of the high rate
    beta = 0.1102 * (STOPBAND_DB - 8.7)
    numtaps = int(np.ceil((STOPBAND_DB - 7.95) / (2.285 * 2.0 * np.pi * width))) + 1
    j = max(2, -(-(numtaps + 1) // 4))
    h = kaiser_lowpass(4 * j - 1, 0.5, beta)
    centre = 2 * j - 1
    off = np.arange(h.size) != centre
    even = np.arange(h.size) % 2 == 0
    h[off & ~even] = 0.0  # the sinc's zeros, exactly
    h[even] *= 0.5 / h[even].sum()
    h[centre] = 0.5
    return h


class Clipper(Processor):
    kind = "clipper"
    automatable = ("drive_db",)

    def __init__(self, ceiling_db: float = -1.0, knee_db: float = 2.0, drive_db: float = 0.0, oversample: int = 16):
        super().__init__()
        if int(oversample) not in FACTORS:
            raise ValueError(f"clipper: oversample must be one of {FACTORS}, got {oversample}")
        self.ceiling_db = float(ceiling_db)
        self.knee_db = float(knee_db)
        self.drive_db = float(drive_db)
        self.oversample = int(oversample)
        self._gr = np.zeros(0)

    def _prepare(self) -> None:
        self.ceiling = float(db_to_gain(self.ceiling_db))
        self.knee_start = float(db_to_gain(self.ceiling_db - self.knee_db))
        f = self.oversample
        stages = f.bit_length() - 1
        # stage s pairs an up and a down filter, each delaying 2J - 1 samples at 2^s fs
        self.g = [np.ascontiguousarray(halfband(s)[0::2]) for s in range(1, stages + 1)]
        top = sum(2 * (gs.size - 1) * (f >> s) for s, gs in enumerate(self.g, start=1))
        self.pad = (-top) % f  # top-rate samples that round the latency to whole base samples
        self.lat = (top + self.pad) // f
        self._reset()

    @property
    def latency_samples(self) -> int:
        return self.lat if self._prepared else 0

    @property
    def tail_samples(self) -> int:
        return self.latency_samples

    def _reset(self) -> None:
        ch = self.channels
        self.up_hist = [np.zeros((ch, gs.size - 1)) for gs in self.g]
        self.down_hist = [np.zeros((ch, 2 * gs.size - 2)) for gs in self.g]
        self.pad_hist = np.zeros((ch, self.pad))

    def _process(self, x, key, params):
        drive = params.get("drive_db")
        if drive is not None:
            x = x * db_to_gain(np.asarray(drive))
        elif self.drive_db != 0.0:
            x = x * db_to_gain(self.drive_db)
        n = x.shape[1]
        if n <= SUB_BLOCK:
            return self._run(np.ascontiguousarray(x))
        y = np.empty((self.channels, n))
        gr = np.empty(n)
        for i in range(0, n, SUB_BLOCK):
            y[:, i : i + SUB_BLOCK] = self._run(np.ascontiguousarray(x[:, i : i + SUB_BLOCK]))
            gr[i : i + SUB_BLOCK] = self._gr
        self._gr = gr
        return y

    def _run(self, u: np.ndarray) -> np.ndarray:
        from mixgraph.dsp.kernels.clipper import halfband_down, halfband_up, soft_clip

        n = u.shape[1]
        for gs, hist in zip(self.g, self.up_hist, strict=True):
            u = halfband_up(gs, u, hist)
        if self.pad:
            ext = np.concatenate((self.pad_hist, u), axis=1)
            u = np.ascontiguousarray(ext[:, : u.shape[1]])
            self.pad_hist = ext[:, u.shape[1] :]
        worst = np.empty(n)
        v = soft_clip(u, self.ceiling, self.knee_start, self.oversample, worst)
        np.divide(1.0, worst, out=worst)
        self._gr = 20.0 * np.log10(worst)
        for gs, hist in zip(reversed(self.g), reversed(self.down_hist), strict=True):
            v = halfband_down(gs, v, hist)
        return v

    def gain_reduction_db(self):
        return self._gr

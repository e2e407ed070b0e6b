"""Feedback echo with a one-pole high-cut in the loop; time in ms or a tempo-synced note."""

from __future__ import annotations

import math

import numpy as np

from mixgraph.dsp.base import Processor
from mixgraph.dsp.kernels.delay import feedback_delay
from mixgraph.units import ms_to_samples, note_to_ms


class Delay(Processor):
    kind = "delay"
    automatable = ("mix",)

    def __init__(self, time_ms: float | None = None, note: str | None = None, tempo_bpm: float | None = None,
                 feedback: float = 0.3, mix: float = 0.25, highcut_hz: float | None = 8000.0):
        super().__init__()
        if time_ms is None:
            if note is None or tempo_bpm is None:
                raise ValueError("delay needs time_ms, or note with tempo_bpm")
            time_ms = note_to_ms(note, tempo_bpm)
        self.time_ms = float(time_ms)
        self.note = note
        self.tempo_bpm = tempo_bpm
        self.feedback = float(feedback)
        self.mix = float(mix)
        self.highcut_hz = highcut_hz

    def _prepare(self) -> None:
        fs = self.sample_rate
        self.d = max(1, ms_to_samples(self.time_ms, fs))
        # one-pole low-pass y = (1-c) x + c y[n-1], c = exp(-2 pi fc / fs)
        self.lp = math.exp(-2.0 * math.pi * self.highcut_hz / fs) if self.highcut_hz else 0.0
        self._reset()

    def _reset(self) -> None:
        self.buf = np.zeros((self.channels, self.d + 1))
        self.pos = np.zeros(1, dtype=np.int64)
        self.lp_state = np.zeros(self.channels)

    @property
    def tail_samples(self) -> int:
        if self.feedback <= 0:
            return self.d
        repeats = math.log(1e-6) / math.log(self.feedback)  # -120 dB
        return int(self.d * (repeats + 1))

    def _process(self, x, key, params):
        wet = feedback_delay(np.ascontiguousarray(x), self.buf, self.pos, self.d, self.feedback, self.lp,
                             self.lp_state)
        mix = params.get("mix", self.mix)
        return (1.0 - mix) * x + mix * wet

"""Feedback echo with a one-pole high-cut in the loop; time in ms or a tempo-synced note.

``mode``: ``mono`` echoes each channel on its own with one time; ``stereo`` runs a left and a
right line (a mono input feeds both), the right one at ``right_time_ms``/``right_note`` when
given; ``pingpong`` feeds the sum of the input into the left line and crosses the feedback,
so the repeats alternate left, right, left, ... (each repeat ``feedback`` times the last).

``time_ms``, ``feedback`` and ``highcut_hz`` may be automated (the loop filter's coefficient
follows the lane per frame: a linear lane gives a smooth sweep, no zipper steps). The read position is fractional (cubic Hermite)
and follows the time lane per sample, slew-limited to ``MAX_SLEW`` samples per sample: a ramp
bends the pitch like a tape delay and a jump glides, neither clicks. With a right-side time,
the lane moves both sides and keeps their ratio.
"""

from __future__ import annotations

import math

import numpy as np

from mixgraph.dsp.base import Processor
from mixgraph.dsp.kernels.delay import echo
from mixgraph.units import note_to_ms

MODES = ("mono", "stereo", "pingpong")
#: the read delay changes by at most this many samples per sample (a pitch change of 50 %)
MAX_SLEW = 0.5
#: the longest automated time (the session's bound on time_ms), so the buffer holds any lane
MAX_TIME_MS = 5000.0


class Delay(Processor):
    kind = "delay"
    automatable = ("time_ms", "feedback", "mix", "highcut_hz")

    def __init__(self, time_ms: float | None = None, note: str | None = None, tempo_bpm: float | None = None,
                 feedback: float = 0.3, mix: float = 0.25, highcut_hz: float | None = 8000.0,
                 mode: str = "mono", right_time_ms: float | None = None, right_note: str | None = None):
        super().__init__()
        if time_ms is None:
            if note is None or tempo_bpm is None:
                raise ValueError("delay needs time_ms, or note with tempo_bpm")
            time_ms = note_to_ms(note, tempo_bpm)
        if mode not in MODES:
            raise ValueError(f"delay mode must be one of {MODES}, got {mode!r}")
        if right_time_ms is None and right_note is not None:
            if tempo_bpm is None:
                raise ValueError("delay right_note needs tempo_bpm")
            right_time_ms = note_to_ms(right_note, tempo_bpm)
        self.time_ms = float(time_ms)
        self.note = note
        self.tempo_bpm = tempo_bpm
        self.feedback = float(feedback)
        self.mix = float(mix)
        self.highcut_hz = highcut_hz
        self.mode = mode
        self.right_time_ms = float(right_time_ms) if right_time_ms is not None else None
        self.right_note = right_note

    def output_channels(self, input_channels: int) -> int:
        return input_channels if self.mode == "mono" else 2

    def _samples(self, ms):
        return np.maximum(2.0, np.asarray(ms, dtype=np.float64) * (self.sample_rate / 1000.0))

    def _prepare(self) -> None:
        fs = self.sample_rate
        right = self.right_time_ms if self.right_time_ms is not None else self.time_ms
        self.ratio = right / self.time_ms  # the right side's time relative to the (automated) left
        self.d = float(self._samples(self.time_ms))
        self.d_right = float(self._samples(right))
        longest = max(self.time_ms, right, MAX_TIME_MS * max(1.0, self.ratio))
        self.size = int(math.ceil(longest * fs / 1000.0)) + 4
        self.lines = self.channels if self.mode == "mono" else 2
        # one-pole low-pass y = (1-c) x + c y[n-1], c = exp(-2 pi fc / fs)
        self.lp = math.exp(-2.0 * math.pi * self.highcut_hz / fs) if self.highcut_hz else 0.0
        self._reset()

    def _reset(self) -> None:
        self.buf = np.zeros((self.lines, self.size))
        self.pos = np.zeros(1, dtype=np.int64)
        self.lp_state = np.zeros(self.lines)
        self.cur = np.full(self.lines, np.nan)

    @property
    def tail_samples(self) -> int:
        d = self.d if self.mode == "mono" else max(self.d, self.d_right)
        if self.mode == "pingpong":
            d = self.d + self.d_right  # one round trip: left, then right
        if self.feedback <= 0:
            return int(math.ceil(d))
        repeats = math.log(1e-6) / math.log(self.feedback)  # -120 dB
        return int(math.ceil(d * (repeats + 1)))

    def _process(self, x, key, params):
        n = x.shape[1]
        if "time_ms" in params:
            left = self._samples(params["time_ms"])
            right = self._samples(params["time_ms"] * self.ratio)
        else:
            left = np.full(n, self.d)
            right = np.full(n, self.d_right)
        fb = np.asarray(params.get("feedback", self.feedback), dtype=np.float64)
        fb = np.full(n, float(fb)) if fb.ndim == 0 else fb
        if self.mode == "mono":
            target = np.broadcast_to(left, (self.lines, n))
            src = x
            dry = x
        else:
            dry = x if x.shape[0] == 2 else np.vstack((x[0], x[0]))
            target = np.vstack((left, right))
            if self.mode == "stereo":
                src = dry
            else:
                src = np.vstack((0.5 * (dry[0] + dry[1]), np.zeros(n)))
        if "highcut_hz" in params:
            fc = np.broadcast_to(np.asarray(params["highcut_hz"], dtype=np.float64), (n,))
            lp = np.exp(-2.0 * math.pi * np.maximum(fc, 0.0) / self.sample_rate)
        else:
            lp = np.full(n, self.lp)
        wet = echo(np.ascontiguousarray(src), self.buf, self.pos, np.ascontiguousarray(target), self.cur,
                   MAX_SLEW, np.ascontiguousarray(fb), lp, self.lp_state, self.mode == "pingpong")
        mix = params.get("mix", self.mix)
        return (1.0 - mix) * dry + mix * wet

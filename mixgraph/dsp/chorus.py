"""Chorus: 1 to 4 voices, each a copy of the input behind a sinusoidally modulated delay.

Voice v of line c reads at ``delay_ms + depth_ms * sin(2 pi (phase + (v + c * spread / 2) / voices))``:
the voices' LFOs sit evenly around the cycle, and the right line's sit between the left line's
(at ``spread`` 1 the 2 x voices phases are evenly spaced, alternating left and right; one voice
gives an inverted right LFO). A mono input with ``spread`` > 0 feeds both lines and comes out
stereo; with ``spread`` 0 the output keeps the input's channels. The wet signal is the mean of
the voices; ``mix`` blends it with the dry.

The LFO phase is the running sum of ``rate_hz / fs`` from the first sample after prepare/reset,
so the output does not depend on the block cut, and a rate lane bends the sweep without a jump.
``rate_hz``, ``depth_ms`` and ``mix`` are read per frame; a depth lane beyond ``delay_ms`` holds the
shortest delay at 2 samples (the interpolator's reach into the written history). The read is a 6-point Lagrange
interpolation (flatter at the top than linear or cubic; numbers in benchmarks/README.md).
"""

from __future__ import annotations

import math

import numpy as np

from mixgraph.dsp.base import Processor
from mixgraph.dsp.kernels.delay import chorus

#: the session's bounds on the centre delay and the (automatable) depth, which size the buffer
MAX_DELAY_MS = 50.0
MAX_DEPTH_MS = 10.0
#: the interpolator reads up to this many samples beyond the whole delay
REACH = 3


class Chorus(Processor):
    kind = "chorus"
    automatable = ("rate_hz", "depth_ms", "mix")

    def __init__(self, voices: int = 2, rate_hz: float = 0.8, depth_ms: float = 2.0, delay_ms: float = 12.0,
                 spread: float = 1.0, mix: float = 0.5):
        super().__init__()
        if not 1 <= int(voices) <= 4:
            raise ValueError(f"chorus voices must be 1 .. 4, got {voices}")
        if not 0.0 <= spread <= 1.0:
            raise ValueError(f"chorus spread must be within 0 .. 1, got {spread}")
        self.voices = int(voices)
        self.rate_hz = float(rate_hz)
        self.depth_ms = float(depth_ms)
        self.delay_ms = float(delay_ms)
        self.spread = float(spread)
        self.mix = float(mix)

    def output_channels(self, input_channels: int) -> int:
        return 2 if self.spread > 0 else input_channels

    def _prepare(self) -> None:
        ms = self.sample_rate / 1000.0
        self.lines = self.output_channels(self.channels)
        self.centre = self.delay_ms * ms
        # room for the centre delay plus any depth a lane may reach, and the interpolator's reach
        self.size = int(math.ceil((self.delay_ms + MAX_DEPTH_MS) * ms)) + 2 * REACH + 2
        v = np.arange(self.voices, dtype=np.float64)
        self.offsets = np.ascontiguousarray(
            [(v + c * 0.5 * self.spread) / self.voices for c in range(self.lines)], dtype=np.float64)
        self._reset()

    def _reset(self) -> None:
        self.buf = np.zeros((self.lines, self.size))
        self.pos = np.zeros(1, dtype=np.int64)
        self.phase = np.zeros(1)

    @property
    def tail_samples(self) -> int:
        # the longest delay any voice can read (the depth lane's bound included), plus the reach
        return int(math.ceil((self.delay_ms + MAX_DEPTH_MS) * self.sample_rate / 1000.0)) + REACH

    def _per_frame(self, params, name, n):
        v = np.asarray(params.get(name, getattr(self, name)), dtype=np.float64)
        return np.ascontiguousarray(np.full(n, float(v)) if v.ndim == 0 else v)

    def _process(self, x, key, params):
        n = x.shape[1]
        dry = x if x.shape[0] == self.lines else np.vstack((x[0], x[0]))
        inc = self._per_frame(params, "rate_hz", n) / self.sample_rate
        depth = self._per_frame(params, "depth_ms", n) * (self.sample_rate / 1000.0)
        wet = chorus(np.ascontiguousarray(dry), self.buf, self.pos, self.phase, inc, self.centre, depth,
                     self.offsets)
        mix = params.get("mix", self.mix)
        return (1.0 - mix) * dry + mix * wet

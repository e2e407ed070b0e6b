"""Reverb: convolution with an impulse response, or an algorithmic feedback delay network.

Convolution: ``convolution.Convolver``, zero latency and the same bits for any block cut
(a short direct FIR, then non-uniformly partitioned overlap-save levels), equal to
``scipy.signal.fftconvolve`` to about -300 dB; a mono input or a mono IR is convolved once and
the wet signal duplicated. Algorithmic: ``kernels.fdn`` (8 lines, Householder feedback, per-line
gains for the RT60 ``decay_s``, one-pole damping). Output is always stereo.
"""

from __future__ import annotations

import numpy as np

from mixgraph.dsp.base import Processor
from mixgraph.dsp.convolution import Convolver
from mixgraph.dsp.kernels.delay import fdn
from mixgraph.units import ms_to_samples

#: FDN line lengths in ms (mutually prime in samples at common rates)
_LINES_MS = (29.7, 37.1, 41.1, 43.7, 53.3, 59.9, 67.7, 73.1)


class Reverb(Processor):
    kind = "reverb"
    automatable = ("mix",)

    def __init__(self, ir=None, decay_s: float = 2.0, predelay_ms: float = 0.0, damping: float = 0.5,
                 mix: float = 0.25):
        super().__init__()
        self.ir = None if ir is None or isinstance(ir, str) else np.atleast_2d(np.asarray(ir, dtype=np.float64))
        if isinstance(ir, str):
            raise ValueError("reverb 'ir' must be loaded into an array by the engine")
        self.decay_s = float(decay_s)
        self.predelay_ms = float(predelay_ms)
        self.damping = float(damping)
        self.mix = float(mix)

    def output_channels(self, input_channels: int) -> int:
        return 2

    def _prepare(self) -> None:
        fs = self.sample_rate
        self.pre = ms_to_samples(self.predelay_ms, fs)
        if self.ir is None:
            self.lens = np.array([ms_to_samples(ms, fs) for ms in _LINES_MS], dtype=np.int64)
            self.gains = 10.0 ** (-3.0 * self.lens / (fs * self.decay_s))
            self.size = int(self.lens.max()) + 1
        else:
            # the input's own channels: a mono input or a mono IR is convolved once, not twice
            ir = self.ir if self.ir.shape[0] == 2 else self.ir[:1]  # other counts: the first channel
            self.conv = Convolver(ir, self.channels)
        self._reset()

    def _reset(self) -> None:
        self.pre_hist = np.zeros((self.channels, self.pre))
        if self.ir is None:
            self.lines = np.zeros((len(self.lens), self.size))
            self.pos = np.zeros(len(self.lens), dtype=np.int64)
            self.lp = np.zeros(len(self.lens))
        else:
            self.conv.reset()

    @property
    def tail_samples(self) -> int:
        if self.ir is not None:
            return self.ir.shape[1] + ms_to_samples(self.predelay_ms, self.sample_rate)
        return int(1.5 * self.decay_s * self.sample_rate) + ms_to_samples(self.predelay_ms, self.sample_rate)

    def _process(self, x, key, params):
        n = x.shape[1]
        dry = x if x.shape[0] == 2 else np.vstack((x[0], x[0]))
        if self.pre:
            src = np.concatenate((self.pre_hist, x), axis=1)
            self.pre_hist = src[:, n:]
            src = src[:, :n]
        else:
            src = x
        if self.ir is None:
            src = src if src.shape[0] == 2 else np.vstack((src[0], src[0]))
            # 0.35: keeps the wet level near the dry level for a unit impulse at default decay
            wet = 0.35 * fdn(np.ascontiguousarray(src), self.lines, self.lens, self.pos, self.gains,
                             self.damping, self.lp)
        else:
            wet = self.conv.process(src)
            if wet.shape[0] == 1:
                wet = np.vstack((wet[0], wet[0]))
        mix = params.get("mix", self.mix)
        return (1.0 - mix) * dry + mix * wet

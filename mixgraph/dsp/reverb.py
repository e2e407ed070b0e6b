"""Reverb: convolution with an impulse response, or an algorithmic feedback delay network.

Convolution, zero latency and independent of the caller's block size: the first
``PARTITION`` taps of the IR run as a direct FIR (numba, fixed summation order); the rest
runs as a uniformly partitioned overlap-save convolution (partitions of ``PARTITION``
samples, a frequency-domain delay line; Wefers, "Partitioned convolution algorithms for
real-time auralization", 2015) computed at fixed absolute chunk boundaries, so the output
is the same for any block cut and equals ``scipy.signal.fftconvolve`` to about -300 dB. Algorithmic: ``kernels.fdn`` (8 lines, Householder feedback, per-line
gains for the RT60 ``decay_s``, one-pole damping). Output is always stereo.
"""

from __future__ import annotations

import numpy as np

from mixgraph.dsp.base import Processor
from mixgraph.dsp.kernels.delay import fdn
from mixgraph.dsp.oversample import FIR
from mixgraph.units import ms_to_samples

#: partition size of the convolution (samples)
PARTITION = 512

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
            ir = self.ir if self.ir.shape[0] == 2 else np.vstack((self.ir[0], self.ir[0]))
            p = PARTITION
            self.head = FIR(ir[0, :p], 1), FIR(ir[1, :p], 1)
            tail = ir[:, p:]
            k = -(-tail.shape[1] // p)  # partitions of the tail
            padded = np.zeros((2, k * p))
            padded[:, : tail.shape[1]] = tail
            parts = padded.reshape(2, k, p)
            self.H = np.fft.rfft(np.concatenate((parts, np.zeros_like(parts)), axis=-1), axis=-1)  # (2, k, p+1)
        self._reset()

    def _conv_reset(self) -> None:
        p = PARTITION
        for f in self.head:
            f.reset()
        k = self.H.shape[1]
        self.fdl = np.zeros((2, k, p + 1), dtype=complex)  # spectra of the last k input windows
        self.prev = np.zeros((2, p))
        self.cur = np.zeros((2, p))
        self.fill = 0
        self.tail_out = np.zeros((2, p))  # tail contribution for the chunk being filled

    def _convolve(self, x: np.ndarray) -> np.ndarray:
        p = PARTITION
        n = x.shape[1]
        out = np.vstack((self.head[0](x[:1]), self.head[1](x[1:2])))
        i = 0
        while i < n:
            take = min(p - self.fill, n - i)
            self.cur[:, self.fill : self.fill + take] = x[:, i : i + take]
            out[:, i : i + take] += self.tail_out[:, self.fill : self.fill + take]
            self.fill += take
            i += take
            if self.fill == p:  # a chunk is complete: the tail of the next chunk is now known
                if self.H.shape[1]:
                    self.fdl = np.roll(self.fdl, 1, axis=1)
                    self.fdl[:, 0] = np.fft.rfft(np.concatenate((self.prev, self.cur), axis=1), axis=-1)
                    y = np.fft.irfft((self.fdl * self.H).sum(axis=1), n=2 * p, axis=-1)
                    self.tail_out = y[:, p:]
                self.prev = self.cur.copy()
                self.fill = 0
        return out

    def _reset(self) -> None:
        self.pre_hist = np.zeros((2, self.pre))
        if self.ir is None:
            self.lines = np.zeros((len(self.lens), self.size))
            self.pos = np.zeros(len(self.lens), dtype=np.int64)
            self.lp = np.zeros(len(self.lens))
        else:
            self._conv_reset()

    @property
    def tail_samples(self) -> int:
        if self.ir is not None:
            return self.ir.shape[1] + ms_to_samples(self.predelay_ms, self.sample_rate)
        return int(1.5 * self.decay_s * self.sample_rate) + ms_to_samples(self.predelay_ms, self.sample_rate)

    def _process(self, x, key, params):
        n = x.shape[1]
        dry = x if x.shape[0] == 2 else np.vstack((x[0], x[0]))
        src = np.concatenate((self.pre_hist, dry), axis=1)
        self.pre_hist = src[:, n:]
        src = src[:, :n]
        if self.ir is None:
            # 0.35: keeps the wet level near the dry level for a unit impulse at default decay
            wet = 0.35 * fdn(np.ascontiguousarray(src), self.lines, self.lens, self.pos, self.gains,
                             self.damping, self.lp)
        else:
            wet = self._convolve(src)
        mix = params.get("mix", self.mix)
        return (1.0 - mix) * dry + mix * wet

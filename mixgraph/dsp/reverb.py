"""Reverb: convolution with an impulse response, or an algorithmic feedback delay network.

Convolution: ``convolution.Convolver``, zero latency and the same bits for any block cut
(a short direct FIR, then non-uniformly partitioned overlap-save levels), equal to
``scipy.signal.fftconvolve`` to about -300 dB; a mono input or a mono IR is convolved once and
the wet signal duplicated. Algorithmic: ``kernels.fdn`` (8 lines, Householder feedback, in each
line a one-pole absorbent filter g (1 - a) / (1 - a z^-1), Jot's method): g and a are solved per
line so that the loss per pass gives the RT60 ``decay_s`` at 707 Hz (the middle of the
500 Hz - 1 kHz mid band, in octaves) and ``decay_s * 2 ** (-2 * damping)`` at 8 kHz (damping
0: as long as the mids, 0.5: half, 1: a quarter; 4 kHz then lies at about 0.78 and 0.5).
Anchored at 8 kHz, a first-order filter keeps the 500 Hz and 1 kHz octaves within a few per
cent of each other even at damping 1; below the mids the decay is a little longer, as in
rooms. Output is always stereo.
"""

from __future__ import annotations

import numpy as np

from mixgraph.dsp.base import Processor
from mixgraph.dsp.convolution import Convolver
from mixgraph.dsp.kernels.delay import fdn
from mixgraph.units import ms_to_samples

#: FDN line lengths in ms (mutually prime in samples at common rates)
_LINES_MS = (29.7, 37.1, 41.1, 43.7, 53.3, 59.9, 67.7, 73.1)
#: the frequencies where ``decay_s`` and the damped high decay are set, Hz
MID_HZ = 707.0
HIGH_HZ = 8000.0
#: the steepest absorbent filter (its pole); very short decays with strong damping reach it
_MAX_POLE = 0.9


def absorbent_filters(lens: np.ndarray, fs: float, decay_s: float, damping: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-line (g, a) of g (1 - a) / (1 - a z^-1) whose magnitude is the loss per pass of an RT60
    of ``decay_s`` at MID_HZ and ``decay_s * 2 ** (-2 * damping)`` at HIGH_HZ (60 dB in RT60 s)."""
    t_high = decay_s * 2.0 ** (-2.0 * damping)
    cm = np.cos(2 * np.pi * min(MID_HZ, 0.45 * fs) / fs)
    ch = np.cos(2 * np.pi * min(HIGH_HZ, 0.45 * fs) / fs)
    g_mid = 10.0 ** (-3.0 * lens / (fs * decay_s))
    g_high = 10.0 ** (-3.0 * lens / (fs * t_high))
    # |H(w)|^2 = g^2 (1-a)^2 / (1 - 2a cos w + a^2): the ratio of the two sets a alone
    ratio = (g_high / g_mid) ** 2

    def ratio_of(a):
        return (1 - 2 * a * cm + a * a) / (1 - 2 * a * ch + a * a)

    ratio = np.maximum(ratio, ratio_of(_MAX_POLE))
    with np.errstate(divide="ignore", invalid="ignore"):
        b = (cm - ratio * ch) / (1.0 - ratio)
        a = np.where(ratio < 1.0, b - np.sqrt(np.maximum(b * b - 1.0, 0.0)), 0.0)
    g = g_mid * np.sqrt(1 - 2 * a * cm + a * a) / (1 - a)
    return np.minimum(g, 0.9999), a


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
            self.gains, self.poles = absorbent_filters(self.lens, fs, self.decay_s, self.damping)
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
        # 90 dB of the longest decay, the lowest frequencies' (the absorbent filters' DC gain g)
        slowest = float(np.max(-3.0 * self.lens / (self.sample_rate * np.log10(self.gains))))
        return int(1.5 * max(self.decay_s, slowest) * self.sample_rate) + ms_to_samples(self.predelay_ms,
                                                                                        self.sample_rate)

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
                             self.poles, self.lp)
        else:
            wet = self.conv.process(src)
            if wet.shape[0] == 1:
                wet = np.vstack((wet[0], wet[0]))
        mix = params.get("mix", self.mix)
        return (1.0 - mix) * dry + mix * wet

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

Automation: ``decay_s`` and ``damping`` redesign the absorbent filters on the control grid
(every ``CONTROL_PERIOD`` frames from prepare/reset), so a tail follows its lane as it rings.
``predelay_ms`` reads the pre-delay line at a fractional delay that follows the lane, slew-limited
to ``PREDELAY_SLEW`` samples per sample: a jump glides (a brief pitch bend of the reverb's input),
never clicks.
"""

from __future__ import annotations

import numpy as np

from mixgraph.dsp.base import CONTROL_PERIOD, Processor
from mixgraph.dsp.convolution import Convolver
from mixgraph.dsp.kernels.delay import fdn, fdn_segments, slewed_delay
from mixgraph.units import ms_to_samples

#: FDN line lengths in ms (mutually prime in samples at common rates)
_LINES_MS = (29.7, 37.1, 41.1, 43.7, 53.3, 59.9, 67.7, 73.1)
#: the frequencies where ``decay_s`` and the damped high decay are set, Hz
MID_HZ = 707.0
HIGH_HZ = 8000.0
#: the steepest absorbent filter (its pole); very short decays with strong damping reach it
_MAX_POLE = 0.9
#: an automated pre-delay moves by at most this many samples per sample (a pitch bend of 25 %)
PREDELAY_SLEW = 0.25
#: the longest pre-delay (the session's bound), so the line holds any lane
MAX_PREDELAY_MS = 500.0


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
    automatable = ("decay_s", "predelay_ms", "damping", "mix")

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
        self.pre_size = int(np.ceil(max(self.predelay_ms, MAX_PREDELAY_MS) * fs / 1000.0)) + 4
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
        self.pre_buf = None  # the automated pre-delay's line, made on the first lane
        self.frame = 0  # frames since prepare/reset: the control grid
        if self.ir is None:
            self.lines = np.zeros((len(self.lens), self.size))
            self.pos = np.zeros(len(self.lens), dtype=np.int64)
            self.lp = np.zeros(len(self.lens))
            self.cur_gains = self.gains[None, :].copy()  # the absorbent filters now (automation)
            self.cur_poles = self.poles[None, :].copy()
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

    def _predelay(self, x, params):
        n = x.shape[1]
        if "predelay_ms" in params:
            if self.pre_buf is None:
                self.pre_buf = np.zeros((self.channels, self.pre_size))
                self.pre_pos = np.zeros(1, dtype=np.int64)
                self.pre_cur = np.full(self.channels, np.nan)
            ms = np.clip(np.asarray(params["predelay_ms"], dtype=np.float64), 0.0, MAX_PREDELAY_MS)
            target = np.ascontiguousarray(np.broadcast_to(ms * (self.sample_rate / 1000.0), (n,)))
            return slewed_delay(np.ascontiguousarray(x), self.pre_buf, self.pre_pos, target, self.pre_cur,
                                PREDELAY_SLEW)
        if not self.pre:
            return x
        src = np.concatenate((self.pre_hist, x), axis=1)
        self.pre_hist = src[:, n:]
        return src[:, :n]

    def _fdn(self, src, params):
        n = src.shape[1]
        if "decay_s" not in params and "damping" not in params:
            return fdn(src, self.lines, self.lens, self.pos, self.gains, self.poles, self.lp)
        # the grid points in this block; frames before the first keep the filters designed at the
        # last grid point (in an earlier block)
        first = (-self.frame) % CONTROL_PERIOD
        grid = np.arange(first, n, CONTROL_PERIOD)
        ones = np.ones(n)
        decay = (np.asarray(params.get("decay_s", self.decay_s)) * ones)[grid]
        damping = (np.asarray(params.get("damping", self.damping)) * ones)[grid]
        g, a = absorbent_filters(self.lens[None, :], self.sample_rate, np.maximum(decay, 1e-3)[:, None],
                                 np.clip(damping, 0.0, 1.0)[:, None])
        gains = np.concatenate((self.cur_gains, g))
        poles = np.concatenate((self.cur_poles, a))
        self.cur_gains = gains[-1:].copy()
        self.cur_poles = poles[-1:].copy()
        return fdn_segments(src, self.lines, self.lens, self.pos, np.ascontiguousarray(gains),
                            np.ascontiguousarray(poles), self.lp, first, CONTROL_PERIOD)

    def _process(self, x, key, params):
        dry = x if x.shape[0] == 2 else np.vstack((x[0], x[0]))
        src = self._predelay(x, params)
        if self.ir is None:
            src = src if src.shape[0] == 2 else np.vstack((src[0], src[0]))
            # 0.35: keeps the wet level near the dry level for a unit impulse at default decay
            wet = 0.35 * self._fdn(np.ascontiguousarray(src), params)
        else:
            wet = self.conv.process(src)
            if wet.shape[0] == 1:
                wet = np.vstack((wet[0], wet[0]))
        self.frame += x.shape[1]
        mix = params.get("mix", self.mix)
        return (1.0 - mix) * dry + mix * wet

"""Lookahead true-peak brickwall limiter.

Detection uses the shared true-peak interpolator (mixgraph.dsp.truepeak: flat to
0.95 x Nyquist, an 8x grid refined between its points): p[n] = the peak over the
channels of base interval n.  The wanted gain is t[n] = min(1, c / p[n]) with c
the ceiling less a 0.1 dB safety margin (which also covers the interpolator's
0.04 dB worst-case error at 0.95 x Nyquist).  The applied gain is

    h = sliding minimum of t over L+2 samples   (L = lookahead)
    r = instant-attack / one-pole-release of h  (r <= h)
    g = moving average of r over L+1 samples    (a smooth ramp into each peak;
                                                 all three in kernels.limiter_gain)

Every term of the average is <= the t of the peak it protects, so g never
exceeds it: the gain is down before the peak arrives, without a step.  The
audio is delayed by L plus the interpolator's delay; that total is declared as
``latency_samples`` so the graph compiler can compensate it.
"""

from __future__ import annotations

import numpy as np

from mixgraph.dsp import truepeak
from mixgraph.dsp.base import Processor
from mixgraph.dsp.kernels.limiter import limiter_gain
from mixgraph.dsp.kernels.truepeak import scan
from mixgraph.units import db_to_gain, gain_to_db, ms_to_samples, time_constant_coeff

MARGIN_DB = 0.1
#: the adaptive release's slow stage charges with this time constant: a reduction must last about
#: this long (a held chord, not a drum hit) before the slow release holds it
SLOW_ATTACK_MS = 300.0


class Limiter(Processor):
    kind = "limiter"
    automatable = ()

    def __init__(self, ceiling_dbtp: float = -1.0, lookahead_ms: float = 5.0, release_ms: float = 60.0,
                 adaptive_release: bool = False, slow_release_ms: float = 1000.0):
        super().__init__()
        self.adaptive_release = bool(adaptive_release)
        self.slow_release_ms = float(slow_release_ms)
        self.ceiling_dbtp = float(ceiling_dbtp)
        self.lookahead_ms = float(lookahead_ms)
        self.release_ms = float(release_ms)
        self._gr = np.zeros(0)

    def _prepare(self) -> None:
        fs = self.sample_rate
        self.L = max(1, ms_to_samples(self.lookahead_ms, fs))
        self.ceiling = db_to_gain(self.ceiling_dbtp - MARGIN_DB)
        self.a_rel = time_constant_coeff(self.release_ms, fs)
        self.D = truepeak.DELAY
        # below this level a whole window cannot interpolate above the ceiling (|y| <= G max|x|)
        self.hot_level = self.ceiling / truepeak.GAIN_BOUND
        self._reset()

    @property
    def latency_samples(self) -> int:
        return self.L + self.D if self._prepared else 0

    @property
    def tail_samples(self) -> int:
        return self.latency_samples

    def _reset(self) -> None:
        self.tp_hist = np.zeros((self.channels, truepeak.SUPPORT - 1))
        self.t_hist = np.ones(self.L + 1)  # last L+1 wanted gains
        if self.adaptive_release:
            fs = self.sample_rate
            self.rel_state = np.array([1.0, 1.0, time_constant_coeff(SLOW_ATTACK_MS, fs),
                                       time_constant_coeff(self.slow_release_ms, fs)])
        else:
            self.rel_state = np.ones(1)
        # moving average of the released gain over L+1 samples, as if it had been 1 forever
        self.avg_ring = np.ones(self.L + 1)
        self.avg_state = np.array([float(self.L + 1), 0.0])
        self.audio_hist = np.zeros((self.channels, self.L + self.D))

    def _process(self, x, key, params):
        n = x.shape[1]
        # p: the true peak per base sample, computed only where it can reach the ceiling
        # (elsewhere 0; t = 1 there either way)
        p = np.zeros(n)
        scan(truepeak.B1, truepeak.B2, self.tp_hist, np.ascontiguousarray(x), self.hot_level,
             np.empty(truepeak.SUPPORT - 1 + n), np.empty(n + truepeak.PRE), p)
        t = p  # min(1, ceiling / max(p, 1e-12)), in place
        np.maximum(t, 1e-12, out=t)
        np.divide(self.ceiling, t, out=t)
        np.minimum(t, 1.0, out=t)
        full = np.concatenate((self.t_hist, t))
        # h: the minimum over the trailing L+2 wanted gains, r: released, g: averaged (one kernel)
        g = np.empty(n)
        limiter_gain(full, self.L + 2, self.a_rel, self.rel_state, self.avg_ring, self.avg_state, g)
        self.t_hist = full[-(self.L + 1) :]
        audio = np.concatenate((self.audio_hist, x), axis=1)
        y = audio[:, :n] * g
        self.audio_hist = audio[:, n:]
        self._gr = -gain_to_db(g, 1e-12)
        return y

    def gain_reduction_db(self):
        return self._gr


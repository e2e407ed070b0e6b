"""Compressor, gate/expander and de-esser (feed-forward, log-domain).

Static curve and smoothing after Giannoulis, Massberg & Reiss, "Digital Dynamic
Range Compressor Design - A Tutorial and Analysis", JAES 60(6), 2012:

    x_G = 20 log10(level)
    y_G = x_G                                        if 2(x_G - T) < -W
        = x_G + (1/R - 1)(x_G - T + W/2)^2 / (2W)    if 2|x_G - T| <= W
        = T + (x_G - T)/R                            if 2(x_G - T) > W
    gain reduction x_L = x_G - y_G, smoothed by the branching detector (kernels.smooth_branching)

Stereo detection is linked (the louder channel sets the gain for both).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mixgraph.dsp.base import GRStats, Processor
from mixgraph.dsp.biquad import bandpass, butterworth_qs, highpass
from mixgraph.dsp.kernels.dynamics import (
    curve_smooth,
    gate_smooth,
    linked_level,
    smooth_branching,
)
from mixgraph.dsp.kernels.iir import onepole_stream
from mixgraph.dsp.kernels.iir import sosfilt_zi as sosfilt
from mixgraph.units import DB_TO_LN, gain_to_db, ms_to_samples, power_to_db, time_constant_coeff

_EPS = 1e-12


def static_gain_reduction(level_db: np.ndarray, threshold_db, ratio, knee_db) -> np.ndarray:
    """x_G - y_G of the soft-knee curve above (>= 0), vectorised; threshold/ratio may be arrays."""
    over = level_db - threshold_db
    slope = 1.0 - 1.0 / np.asarray(ratio, dtype=np.float64)
    gr = np.maximum(over, 0.0) * slope
    if np.any(np.asarray(knee_db) > 0):
        w = np.maximum(np.asarray(knee_db, dtype=np.float64), 1e-9)
        in_knee = 2.0 * np.abs(over) <= w
        knee = slope * (over + w / 2.0) ** 2 / (2.0 * w)
        gr = np.where(in_knee, knee, gr)
    return gr


class _Detector:
    """Level detector: optional high-pass, then peak (|x|) or RMS (one-pole mean square)."""

    def __init__(self, fs: float, channels: int, highpass_hz: float | None, mode: str, rms_ms: float):
        self.sos = None
        if highpass_hz:
            self.sos = np.stack([highpass(highpass_hz, q, fs) for q in butterworth_qs(2)])
        self.channels = channels
        self.mode = mode
        self.c = time_constant_coeff(rms_ms, fs)
        self.reset()

    def reset(self) -> None:
        self.zi = None if self.sos is None else np.zeros((self.sos.shape[0], self.channels, 2))
        self.ms_zi = np.zeros(1)

    def level_db(self, side: np.ndarray) -> np.ndarray:
        if self.sos is not None:
            if self.zi is None or self.zi.shape[1] != side.shape[0]:
                self.zi = np.zeros((self.sos.shape[0], side.shape[0], 2))
            side, self.zi = sosfilt(self.sos, side, self.zi)
        if self.mode == "rms":
            power = np.max(side * side, axis=0)
            ms = onepole_stream(power, self.c, self.ms_zi)
            return power_to_db(ms, _EPS)
        return gain_to_db(np.max(np.abs(side), axis=0), _EPS)


def _param(params: Mapping[str, np.ndarray], name: str, default: float):
    return params[name] if name in params else default


class Compressor(Processor):
    kind = "compressor"
    uses_key = True
    automatable = ("threshold_db", "ratio", "knee_db", "makeup_db", "mix")

    def __init__(self, threshold_db: float = -18.0, ratio: float = 4.0, attack_ms: float = 10.0,
                 release_ms: float = 100.0, knee_db: float = 0.0, makeup_db: float = 0.0,
                 detector: str = "peak", rms_ms: float = 10.0, mix: float = 1.0,
                 sidechain_highpass_hz: float | None = None):
        super().__init__()
        self.threshold_db = float(threshold_db)
        self.ratio = float(ratio)
        self.attack_ms = float(attack_ms)
        self.release_ms = float(release_ms)
        self.knee_db = float(knee_db)
        self.makeup_db = float(makeup_db)
        self.detector = detector
        self.rms_ms = float(rms_ms)
        self.mix = float(mix)
        self.sidechain_highpass_hz = sidechain_highpass_hz
        self._gr = np.zeros(0)

    def _prepare(self) -> None:
        fs = self.sample_rate
        self.a_att = time_constant_coeff(self.attack_ms, fs)
        self.a_rel = time_constant_coeff(self.release_ms, fs)
        self.det = _Detector(fs, self.channels, self.sidechain_highpass_hz, self.detector, self.rms_ms)
        self._reset()

    def _reset(self) -> None:
        self.state = np.zeros(1)
        self.det.reset()
        self._fold_sink = GRStats(self.sample_rate)

    def _process(self, x, key, params):
        side = x if key is None else key
        if not params and self.mix == 1.0:
            return self._process_fused(x, side)
        level = self.det.level_db(side)
        target = static_gain_reduction(
            level, _param(params, "threshold_db", self.threshold_db),
            _param(params, "ratio", self.ratio), _param(params, "knee_db", self.knee_db))
        gr = smooth_branching(target, self.a_att, self.a_rel, self.state)
        self._gr = gr
        # 10^(dB/20) as exp(dB * ln(10)/20): the same gain, several times faster than power()
        gain = np.exp((_param(params, "makeup_db", self.makeup_db) - gr) * DB_TO_LN)
        mix = _param(params, "mix", self.mix)
        if np.all(np.asarray(mix) == 1.0):
            return x * gain
        return x * ((1.0 - mix) + mix * gain)

    def _process_fused(self, x, side):
        """Constant parameters and mix 1 (the usual case): the level and the curve+smoother each one
        compiled pass, log10/exp vectorised by numpy (faster than scalar libm calls in a kernel);
        the general path's samples to rounding (1e-16 relative: the static curve is numpy's
        there, the kernel's here)."""
        det = self.det
        if det.sos is not None:
            if det.zi is None or det.zi.shape[1] != side.shape[0]:
                det.zi = np.zeros((det.sos.shape[0], side.shape[0], 2))
            side, det.zi = sosfilt(det.sos, side, det.zi)
        n = x.shape[1]
        buf = np.empty(n)
        linked_level(np.ascontiguousarray(side), det.mode == "rms", det.c, det.ms_zi, buf)
        np.log10(buf, out=buf)
        gr = np.empty(n)
        # the gain reduction is folded into the caller's stats in the same pass (or a private
        # fold nobody reads, when there is no caller's)
        stats = self.gr_stats if self.gr_stats is not None else self._fold_sink
        maxima = stats.maxima_buffer(n)
        # buf becomes (makeup - gr) ln(10)/20: 10^((makeup - gr)/20) as exp, the general path's gain
        k = curve_smooth(buf, 10.0 if det.mode == "rms" else 20.0, self.threshold_db, self.ratio, self.knee_db,
                         self.a_att, self.a_rel, self.makeup_db, self.state, gr, stats.sr, stats.state, maxima)
        stats.folded(n, maxima, k)
        self._gr_folded = stats is self.gr_stats
        self._gr = gr
        np.exp(buf, out=buf)
        return x * buf

    def gain_reduction_db(self):
        return self._gr


class Gate(Processor):
    """Downward expander: below the threshold, gain falls by (ratio - 1) dB per dB, at most range_db."""

    kind = "gate"
    uses_key = True
    automatable = ("threshold_db", "range_db", "ratio")

    def __init__(self, threshold_db: float = -50.0, range_db: float = 80.0, ratio: float = 10.0,
                 attack_ms: float = 1.0, hold_ms: float = 10.0, release_ms: float = 100.0,
                 sidechain_highpass_hz: float | None = None):
        super().__init__()
        self.threshold_db = float(threshold_db)
        self.range_db = float(range_db)
        self.ratio = float(ratio)
        self.attack_ms = float(attack_ms)
        self.hold_ms = float(hold_ms)
        self.release_ms = float(release_ms)
        self.sidechain_highpass_hz = sidechain_highpass_hz
        self._gr = np.zeros(0)

    def _prepare(self) -> None:
        fs = self.sample_rate
        self.a_att = time_constant_coeff(self.attack_ms, fs)
        self.a_rel = time_constant_coeff(self.release_ms, fs)
        self.hold = ms_to_samples(self.hold_ms, fs)
        self.det = _Detector(fs, self.channels, self.sidechain_highpass_hz, "peak", 10.0)
        self._reset()

    def _reset(self) -> None:
        self.state = np.zeros(2)
        self.det.reset()

    def _process(self, x, key, params):
        level = self.det.level_db(x if key is None else key)
        t = _param(params, "threshold_db", self.threshold_db)
        r = _param(params, "ratio", self.ratio)
        rng = _param(params, "range_db", self.range_db)
        under = np.minimum(level - t, 0.0)
        target = np.maximum(under * (r - 1.0), -np.asarray(rng, dtype=np.float64))
        g = gate_smooth(target, self.a_att, self.a_rel, self.hold, self.state)
        self._gr = -g
        return x * np.exp(g * DB_TO_LN)

    def gain_reduction_db(self):
        return self._gr


class DeEsser(Processor):
    """Split-band de-esser: y = x + band * (g - 1), band = cookbook band-pass (0 dB peak) of x.

    With no reduction (g = 1) the output is x exactly; the band's level drives a
    compressor whose reduction is limited to range_db."""

    kind = "deesser"
    automatable = ("threshold_db", "ratio", "range_db")

    def __init__(self, freq_hz: float = 6000.0, q: float = 1.0, threshold_db: float = -30.0,
                 ratio: float = 4.0, range_db: float = 12.0, attack_ms: float = 1.0,
                 release_ms: float = 60.0):
        super().__init__()
        self.freq_hz = float(freq_hz)
        self.q = float(q)
        self.threshold_db = float(threshold_db)
        self.ratio = float(ratio)
        self.range_db = float(range_db)
        self.attack_ms = float(attack_ms)
        self.release_ms = float(release_ms)
        self._gr = np.zeros(0)

    def _prepare(self) -> None:
        fs = self.sample_rate
        self.sos = bandpass(self.freq_hz, self.q, fs)[None, :]
        self.a_att = time_constant_coeff(self.attack_ms, fs)
        self.a_rel = time_constant_coeff(self.release_ms, fs)
        self._reset()

    def _reset(self) -> None:
        self.zi = np.zeros((1, self.channels, 2))
        self.state = np.zeros(1)

    def _process(self, x, key, params):
        band, self.zi = sosfilt(self.sos, x, self.zi)
        level = gain_to_db(np.max(np.abs(band), axis=0), _EPS)
        target = static_gain_reduction(level, _param(params, "threshold_db", self.threshold_db),
                                       _param(params, "ratio", self.ratio), 0.0)
        target = np.minimum(target, _param(params, "range_db", self.range_db))
        gr = smooth_branching(target, self.a_att, self.a_rel, self.state)
        self._gr = gr
        return x + band * (np.exp(-gr * DB_TO_LN) - 1.0)

    def gain_reduction_db(self):
        return self._gr

"""Compressor, gate/expander and de-esser (feed-forward, log-domain).

Static curve and smoothing after Giannoulis, Massberg & Reiss, "Digital Dynamic
Range Compressor Design - A Tutorial and Analysis", JAES 60(6), 2012:

    x_G = 20 log10(level)
    y_G = x_G                                        if 2(x_G - T) < -W
        = x_G + (1/R - 1)(x_G - T + W/2)^2 / (2W)    if 2|x_G - T| <= W
        = T + (x_G - T)/R                            if 2(x_G - T) > W
    gain reduction x_L = x_G - y_G, smoothed by the branching detector (kernels.smooth_branching)

Stereo detection is linked by the louder channel: each channel's level gives its own gain
reduction (curve and smoother), and the larger applies to both channels. Linking the levels
before the smoother instead (the louder channel's instantaneous |x| or x^2) read wide stereo hot:
a quadrature or uncorrelated pair never dips where both channels cross zero, so it got up to
2.1 x (1 - 1/R) dB more reduction than mono at the same channel level.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mixgraph.dsp import midside
from mixgraph.dsp.base import CONTROL_PERIOD, GRStats, Processor
from mixgraph.dsp.biquad import bandpass, butterworth_qs, highpass, lowpass
from mixgraph.dsp.kernels.dynamics import (
    biquad_segments,
    channel_levels,
    curve_smooth,
    gate_smooth,
    smooth_linked,
)
from mixgraph.dsp.kernels.iir import sosfilt_zi as sosfilt
from mixgraph.units import DB_TO_LN, gain_to_db, ms_to_samples, power_to_db, time_constant_coeff

_EPS = 1e-12
#: frames per pass of the compressor's compiled path (its buffers stay in a core's L2 cache)
_CHUNK = 16384


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
    """Level detector: optional key high-pass, then each channel's peak (|x|) or RMS (one-pole mean
    square), linear, (channels, n). The channels are linked on their gain reductions."""

    def __init__(self, fs: float, channels: int, highpass_hz: float | None, mode: str, rms_ms: float,
                 lowpass_hz: float | None = None, key_highpass_hz: float | None = None):
        # 2nd-order Butterworth sections (scipy.signal.butter(2, f, ...)): the external sidechain's
        # high-pass, then the processor's own key high-pass and low-pass (both: a band-pass)
        sections = [highpass(f, q, fs) for f in (highpass_hz, key_highpass_hz) if f for q in butterworth_qs(2)]
        if lowpass_hz:
            sections += [lowpass(lowpass_hz, q, fs) for q in butterworth_qs(2)]
        self.sos = np.stack(sections) if sections else None
        self.channels = channels
        self.mode = mode
        self.c = time_constant_coeff(rms_ms, fs)
        self.reset()

    def reset(self) -> None:
        self.zi = None if self.sos is None else np.zeros((self.sos.shape[0], self.channels, 2))
        self.ms_zi = np.zeros(2)

    def filtered(self, side: np.ndarray) -> np.ndarray:
        if self.sos is None:
            return side
        if self.zi is None or self.zi.shape[1] != side.shape[0]:
            self.zi = np.zeros((self.sos.shape[0], side.shape[0], 2))
        side, self.zi = sosfilt(self.sos, side, self.zi)
        return side

    def channel_levels(self, side: np.ndarray) -> np.ndarray:
        """Each channel's linear level (peak |x| or mean square), floored at 1e-12."""
        side = np.ascontiguousarray(self.filtered(side))
        out = np.empty(side.shape)
        channel_levels(side, self.mode == "rms", self.c, self.ms_zi, out)
        return out

    def level_db(self, side: np.ndarray) -> np.ndarray:
        """The louder channel's level, dB (the gate's and de-esser's linked detector)."""
        side = self.filtered(side)
        return gain_to_db(np.max(np.abs(side), axis=0), _EPS)


def _param(params: Mapping[str, np.ndarray], name: str, default: float):
    return params[name] if name in params else default


def _coeff(params: Mapping[str, np.ndarray], name: str, default_ms: float, fs: float, n: int) -> np.ndarray:
    """The smoother coefficient of a time constant per frame: exp(-1 / (ms fs / 1000)), automated
    or constant."""
    if name in params:
        return np.exp(-1.0 / (np.asarray(params[name], dtype=np.float64) * 1e-3 * fs))
    return np.full(n, time_constant_coeff(default_ms, fs))


class Compressor(Processor):
    """Feed-forward compressor. Stereo link: each channel's level gives its own gain reduction
    (curve and smoother); the larger applies to both channels, so a wide or one-sided stereo
    signal is compressed as much as a mono one at the level of its louder channel."""

    kind = "compressor"
    uses_key = True
    automatable = ("threshold_db", "ratio", "attack_ms", "release_ms", "knee_db", "makeup_db", "mix")

    def __init__(self, threshold_db: float = -18.0, ratio: float = 4.0, attack_ms: float = 10.0,
                 release_ms: float = 100.0, knee_db: float = 0.0, makeup_db: float = 0.0,
                 detector: str = "peak", rms_ms: float = 10.0, mix: float = 1.0,
                 lookahead_ms: float = 0.0, key_highpass_hz: float | None = None,
                 key_lowpass_hz: float | None = None, mode: str = "stereo",
                 sidechain_highpass_hz: float | None = None):
        super().__init__()
        self.threshold_db = float(threshold_db)
        self.ratio = float(ratio)
        self.lookahead_ms = float(lookahead_ms)
        self.key_highpass_hz = key_highpass_hz
        self.key_lowpass_hz = key_lowpass_hz
        self.mode = mode
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
        self.det = _Detector(fs, self.channels, self.sidechain_highpass_hz, self.detector, self.rms_ms,
                             self.key_lowpass_hz, self.key_highpass_hz)
        self._levels = np.empty((2, _CHUNK))
        self._buf = np.empty(_CHUNK)
        self._lookahead = ms_to_samples(self.lookahead_ms, fs)
        self._reset()

    @property
    def latency_samples(self) -> int:
        return self._lookahead if self._prepared else 0

    @property
    def tail_samples(self) -> int:
        return self.latency_samples

    def _delayed(self, x: np.ndarray) -> np.ndarray:
        """x delayed by the lookahead (the detector reads the undelayed signal or key, so the gain
        moves that much before the audio it acts on arrives)."""
        if not self._lookahead:
            return x
        ext = np.concatenate([self._line, x], axis=1)
        self._line = ext[:, x.shape[1]:].copy()
        return ext[:, : x.shape[1]]

    def _reset(self) -> None:
        self._line = np.zeros((self.channels, self._lookahead))
        # one smoother state per key channel (a key may be stereo on a mono track)
        self.state = np.zeros(2)
        self.det.reset()
        self._fold_sink = GRStats(self.sample_rate)

    def _process(self, x, key, params):
        if self.mode == "stereo" or (self.mode == "mid" and x.shape[0] == 1):
            side = x if key is None else key
            return self._compress(self._delayed(x), side, params)
        if x.shape[0] == 1:  # mode side on mono: there is no side to compress
            self._gr = np.zeros(x.shape[1])
            return self._delayed(x)
        # mid/side: compress one of M = (L+R)/2, S = (L-R)/2 (keyed by itself or the external key),
        # the other passes (delayed alike), then back to left/right
        ms = midside.encode(x)
        k = 0 if self.mode == "mid" else 1
        side = ms[k:k + 1] if key is None else key
        ms = self._delayed(ms)
        ms[k] = self._compress(np.ascontiguousarray(ms[k:k + 1]), side, params)[0]
        return midside.decode(ms)

    def _compress(self, x, side, params):
        if not params and self.mix == 1.0:
            return self._process_fused(x, side)
        n = x.shape[1]
        levels = self.det.channel_levels(side)
        level = (power_to_db if self.detector == "rms" else gain_to_db)(levels, _EPS)
        target = static_gain_reduction(
            level, _param(params, "threshold_db", self.threshold_db),
            _param(params, "ratio", self.ratio), _param(params, "knee_db", self.knee_db))
        fs = self.sample_rate
        gr = smooth_linked(np.ascontiguousarray(target), _coeff(params, "attack_ms", self.attack_ms, fs, n),
                           _coeff(params, "release_ms", self.release_ms, fs, n), self.state)
        self._gr = gr
        # 10^(dB/20) as exp(dB * ln(10)/20): the same gain, several times faster than power()
        gain = np.exp((_param(params, "makeup_db", self.makeup_db) - gr) * DB_TO_LN)
        mix = _param(params, "mix", self.mix)
        if np.all(np.asarray(mix) == 1.0):
            return x * gain
        return x * ((1.0 - mix) + mix * gain)

    def _process_fused(self, x, side):
        """Constant parameters and mix 1 (the usual case): the levels and the curve+smoother+link
        each one compiled pass, log10/exp vectorised by numpy (faster than scalar libm calls in a
        kernel); the general path's samples to rounding (1e-16 relative: the static curve is
        numpy's there, the kernel's here). A long block goes through in chunks of _CHUNK frames,
        so the passes' buffers stay in the core's cache (a 65536-frame stereo block's levels alone
        are 1 MB: the passes over it ran several times slower)."""
        det = self.det
        n = x.shape[1]
        side = np.ascontiguousarray(det.filtered(side))
        gr = np.empty(n)
        y = np.empty_like(x)
        # the gain reduction is folded into the caller's stats in the same pass (or a private
        # fold nobody reads, when there is no caller's)
        stats = self.gr_stats if self.gr_stats is not None else self._fold_sink
        rms = det.mode == "rms"
        scale = 10.0 if rms else 20.0
        for a in range(0, n, _CHUNK):
            b = min(n, a + _CHUNK)
            m = b - a
            levels = self._levels[: side.shape[0], :m]
            buf = self._buf[:m]
            channel_levels(side[:, a:b], rms, det.c, det.ms_zi, levels)
            np.log10(levels, out=levels)
            maxima = stats.maxima_buffer(m)
            # buf becomes (makeup - gr) ln(10)/20: 10^((makeup - gr)/20) as exp, the general
            # path's gain
            k = curve_smooth(levels, scale, self.threshold_db, self.ratio, self.knee_db, self.a_att,
                             self.a_rel, self.makeup_db, self.state, gr[a:b], buf, stats.sr, stats.state,
                             maxima)
            stats.folded(m, maxima, k)
            np.exp(buf, out=buf)
            np.multiply(x[:, a:b], buf, out=y[:, a:b])
        self._gr_folded = stats is self.gr_stats
        self._gr = gr
        return y

    def gain_reduction_db(self):
        return self._gr


class Gate(Processor):
    """Downward expander: below the threshold, gain falls by (ratio - 1) dB per dB, at most range_db.

    Hysteresis: open, the gate closes only when the level falls hysteresis_db under the threshold.
    Hold: the gain stays put for hold_ms after the level drops, which must cover the gaps between
    a low tone's peaks (half a period: 25 ms at 20 Hz), or the gate chatters on every cycle."""

    kind = "gate"
    uses_key = True
    automatable = ("threshold_db", "range_db", "ratio", "attack_ms", "hold_ms", "release_ms")

    def __init__(self, threshold_db: float = -50.0, range_db: float = 80.0, ratio: float = 10.0,
                 hysteresis_db: float = 3.0, attack_ms: float = 1.0, hold_ms: float = 50.0,
                 release_ms: float = 100.0, sidechain_highpass_hz: float | None = None):
        super().__init__()
        self.threshold_db = float(threshold_db)
        self.range_db = float(range_db)
        self.ratio = float(ratio)
        self.hysteresis_db = float(hysteresis_db)
        self.attack_ms = float(attack_ms)
        self.hold_ms = float(hold_ms)
        self.release_ms = float(release_ms)
        self.sidechain_highpass_hz = sidechain_highpass_hz
        self._gr = np.zeros(0)

    def _prepare(self) -> None:
        fs = self.sample_rate
        self.det = _Detector(fs, self.channels, self.sidechain_highpass_hz, "peak", 10.0)
        self._reset()

    def _reset(self) -> None:
        self.state = np.zeros(3)
        self.det.reset()

    def _process(self, x, key, params):
        n = x.shape[1]
        fs = self.sample_rate
        level = self.det.level_db(x if key is None else key)

        def per_frame(name):
            return np.broadcast_to(np.asarray(_param(params, name, getattr(self, name)), dtype=np.float64), (n,))

        if "hold_ms" in params:
            hold = np.rint(np.asarray(params["hold_ms"], dtype=np.float64) * 1e-3 * fs)
        else:
            hold = np.full(n, float(ms_to_samples(self.hold_ms, fs)))
        g = gate_smooth(np.ascontiguousarray(level), np.ascontiguousarray(per_frame("threshold_db")),
                        np.ascontiguousarray(per_frame("ratio")), np.ascontiguousarray(per_frame("range_db")),
                        self.hysteresis_db, _coeff(params, "attack_ms", self.attack_ms, fs, n),
                        _coeff(params, "release_ms", self.release_ms, fs, n), hold, self.state)
        self._gr = -g
        return x * np.exp(g * DB_TO_LN)

    def gain_reduction_db(self):
        return self._gr


def bandpass_rows(freq_hz: np.ndarray, q: np.ndarray, fs: float) -> np.ndarray:
    """biquad.bandpass (cookbook BPF, 0 dB peak) for arrays of frequencies and Qs: rows
    [b0, b1, b2, 1, a1, a2]."""
    w0 = 2.0 * np.pi * np.asarray(freq_hz, dtype=np.float64) / fs
    alpha = np.sin(w0) / (2.0 * np.asarray(q, dtype=np.float64))
    a0 = 1.0 + alpha
    rows = np.empty((w0.size, 6))
    rows[:, 0] = alpha / a0
    rows[:, 1] = 0.0
    rows[:, 2] = -alpha / a0
    rows[:, 3] = 1.0
    rows[:, 4] = -2.0 * np.cos(w0) / a0
    rows[:, 5] = (1.0 - alpha) / a0
    return rows


class DeEsser(Processor):
    """Split-band de-esser: y = x + band * (g - 1), band = cookbook band-pass (0 dB peak) of x.

    With no reduction (g = 1) the output is x exactly; the band's level drives a
    compressor whose reduction is limited to range_db. Stereo is linked as the compressor's: each
    channel's band level gets its own reduction and the larger applies to both channels (the
    louder band's instantaneous level, linked before the smoother, read uncorrelated stereo
    about 1 dB hot). Automated freq_hz and q redesign the
    band-pass on the absolute control grid (every CONTROL_PERIOD frames, from the lanes' values
    at the grid point), so any block cut gives the same output."""

    kind = "deesser"
    automatable = ("freq_hz", "q", "threshold_db", "ratio", "range_db")

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
        self.a_att = time_constant_coeff(self.attack_ms, fs)
        self.a_rel = time_constant_coeff(self.release_ms, fs)
        self._reset()

    def _reset(self) -> None:
        self.sos = bandpass(self.freq_hz, self.q, self.sample_rate)[None, :]
        self.zi = np.zeros((1, self.channels, 2))
        self.state = np.zeros(2)  # one smoother per channel
        self.pos = 0

    def _band(self, x, params):
        n = x.shape[1]
        if "freq_hz" not in params and "q" not in params:
            band, self.zi = sosfilt(self.sos, x, self.zi)
            return band
        # the grid points in this block; frames before the first keep the coefficients designed
        # at the last grid point (in an earlier block)
        first = (-self.pos) % CONTROL_PERIOD
        grid = np.arange(first, n, CONTROL_PERIOD)
        ones = np.ones(n)
        rows = bandpass_rows((_param(params, "freq_hz", self.freq_hz) * ones)[grid],
                             (_param(params, "q", self.q) * ones)[grid], self.sample_rate)
        coefs = np.concatenate([self.sos, rows])
        band = biquad_segments(np.ascontiguousarray(x), coefs, first, CONTROL_PERIOD, self.zi[0])
        self.sos = coefs[-1:].copy()
        return band

    def _process(self, x, key, params):
        band = self._band(x, params)
        n = x.shape[1]
        self.pos += n
        # linked as the compressor: each channel's band level gets its own reduction (curve,
        # range and smoother), the larger applies to both channels
        level = gain_to_db(np.abs(band), _EPS)
        target = static_gain_reduction(level, _param(params, "threshold_db", self.threshold_db),
                                       _param(params, "ratio", self.ratio), 0.0)
        target = np.minimum(target, _param(params, "range_db", self.range_db))
        gr = smooth_linked(np.ascontiguousarray(target), np.full(n, self.a_att), np.full(n, self.a_rel),
                           self.state)
        self._gr = gr
        return x + band * (np.exp(-gr * DB_TO_LN) - 1.0)

    def gain_reduction_db(self):
        return self._gr

"""Parametric EQ: biquad bands in series (stereo, or the mid or side only), compiled cascades with
carried state; a dynamic band is a bell whose gain follows its own band's level (``DynamicBell``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from mixgraph.dsp import midside
from mixgraph.dsp.base import CONTROL_PERIOD, Processor
from mixgraph.dsp.biquad import band_sos, bandpass
from mixgraph.dsp.kernels.dynamics import dynamic_bell
from mixgraph.dsp.kernels.iir import sosfilt_zi as sosfilt
from mixgraph.units import time_constant_coeff

#: the dynamic bell's gain table step, dB: the bell between two rows is their coefficients' blend
#: (measured within 0.001 dB of the bell designed at that gain for the cookbook design, up to
#: 0.2 dB for a matched bell near Nyquist whose neighbouring rows come from different fits; a
#: finer table costs its designs at prepare: 0.2 s of CPU for a loud band near Nyquist)
TABLE_STEP_DB = 0.25
#: the dynamic band's detector averages the band's square over this long at least ...
DETECTOR_MS = 5.0
#: ... and over this many periods of its frequency (a low band's ripple at twice its frequency
#: would otherwise reach the gain)
DETECTOR_PERIODS = 3.0


class DynamicBell:
    """One dynamic band: a bell at ``freq_hz``/``q`` whose gain goes from 0 towards ``gain_db`` as
    its band's level exceeds ``threshold_db`` (a cut when gain_db < 0, a boost when > 0).

    Detector: the cookbook band-pass (0 dB peak) at freq_hz/q of each channel, its mean square over
    max(DETECTOR_MS, DETECTOR_PERIODS / freq_hz) (a one-pole mean), the louder channel's, in dB
    (RMS: a sine of peak a reads 20 log10(a / sqrt 2)). Law: (level - threshold_db) * (1 - 1/ratio)
    dB above the threshold, at most |gain_db|; smoothed per sample by the branching attack/release
    one-pole (attack while the band moves away from 0 dB). The bell at each sample's gain comes
    from a table of bells (the band's ``design``) every TABLE_STEP_DB, blended per sample, so the
    coefficients move as smoothly as the gain: no zipper noise, and no redesign in the loop."""

    automatable = ("threshold_db", "ratio")

    def __init__(self, freq_hz: float, gain_db: float, threshold_db: float = -30.0, ratio: float = 4.0,
                 q: float = 1.0, attack_ms: float = 10.0, release_ms: float = 100.0,
                 design: str = "matched"):
        self.freq_hz = float(freq_hz)
        self.gain_db = float(gain_db)
        self.threshold_db = float(threshold_db)
        self.ratio = float(ratio)
        self.q = float(q)
        self.attack_ms = float(attack_ms)
        self.release_ms = float(release_ms)
        self.design = design
        self.gain_trace = np.zeros(0)
        #: its lanes' names in the EQ's params ("bands.<i>.")
        self.prefix = ""

    def prepare(self, fs: float, channels: int) -> None:
        self.channels = channels
        self.bp = bandpass(self.freq_hz, self.q, fs)
        self.c_ms = time_constant_coeff(max(DETECTOR_MS, 1e3 * DETECTOR_PERIODS / self.freq_hz), fs)
        self.a_att = time_constant_coeff(self.attack_ms, fs)
        self.a_rel = time_constant_coeff(self.release_ms, fs)
        self.range_db = abs(self.gain_db)
        steps = max(1, math.ceil(self.range_db / TABLE_STEP_DB - 1e-9))
        self.step_db = max(self.range_db / steps, 1e-9)
        sign = 1.0 if self.gain_db >= 0 else -1.0
        rows = [band_sos({"type": "bell", "freq_hz": self.freq_hz, "gain_db": sign * k * self.step_db,
                          "q": self.q, "design": self.design}, fs)[0] for k in range(1, steps + 1)]
        # 0 dB: the first bell's poles as its zeros too (an identity whose coefficients blend
        # smoothly into the first bell's; [1, 0, 0] / [1, 0, 0] would not: its poles are elsewhere)
        rows.insert(0, np.concatenate([rows[0][3:], rows[0][3:]]))
        self.table = np.ascontiguousarray(np.stack(rows))
        self.reset()

    def reset(self) -> None:
        self.bp_zi = np.zeros((self.channels, 2))
        self.ms = np.zeros(self.channels)
        self.g = np.zeros(1)
        self.zi = np.zeros((self.channels, 2))

    def process(self, x: np.ndarray, params: Mapping[str, np.ndarray], prefix: str) -> np.ndarray:
        n = x.shape[1]

        def per_frame(name: str, default: float) -> np.ndarray:
            v = params.get(prefix + name)
            return np.full(n, default) if v is None else np.asarray(v, dtype=np.float64)

        threshold = per_frame("threshold_db", self.threshold_db)
        slope = 1.0 - 1.0 / per_frame("ratio", self.ratio)
        self.gain_trace = np.empty(n)
        return dynamic_bell(np.ascontiguousarray(x), self.bp, self.bp_zi, self.c_ms, self.ms, threshold,
                            slope, self.range_db, self.a_att, self.a_rel, self.g, self.table, self.step_db,
                            self.zi, self.gain_trace)


class _Static:
    """A run of static bands: one cascade, redesigned on the control grid when automated."""

    def __init__(self, indices: list[int]):
        self.indices = indices
        self.sos = np.zeros((0, 6))
        self.zi = np.zeros((0, 1, 2))


class EQ(Processor):
    kind = "eq"

    def __init__(self, bands: Sequence[Mapping] = (), mode: str = "stereo"):
        super().__init__()
        if mode not in ("stereo", "mid", "side"):
            raise ValueError(f"eq: unknown mode {mode!r}")
        self.mode = mode
        self.bands = [dict(b) for b in bands]
        self.automatable = tuple(
            f"bands.{i}.{p}" for i, b in enumerate(self.bands)
            for p in (DynamicBell.automatable if b.get("type") == "dynamic" else ("freq_hz", "gain_db", "q"))
            if p in b
        )
        # static runs between dynamic bands, in band order
        self.stages: list[_Static | DynamicBell] = []
        for i, b in enumerate(self.bands):
            if b.get("type") == "dynamic":
                dyn = DynamicBell(**{k: v for k, v in b.items() if k != "type"})
                dyn.prefix = f"bands.{i}."
                self.stages.append(dyn)
            elif self.stages and isinstance(self.stages[-1], _Static):
                self.stages[-1].indices.append(i)
            else:
                self.stages.append(_Static([i]))
        if not self.stages:
            self.stages.append(_Static([]))

    def _design(self, bands: list[dict]) -> np.ndarray:
        if not bands:
            return np.array([[1.0, 0, 0, 1.0, 0, 0]])
        return np.concatenate([band_sos(b, self.sample_rate) for b in bands], axis=0)

    @property
    def sos(self) -> np.ndarray:
        """The static bands' sections, in order (the whole EQ's when it has no dynamic band)."""
        return np.concatenate([s.sos for s in self.stages if isinstance(s, _Static)], axis=0)

    def _prepare(self) -> None:
        if self.mode != "stereo" and self.channels != 2:
            raise ValueError(f"eq: mode {self.mode!r} needs a stereo signal, got {self.channels} channel(s)")
        for stage in self.stages:
            if isinstance(stage, DynamicBell):
                stage.prepare(self.sample_rate, 1 if self.mode != "stereo" else self.channels)
        self._reset()

    def _reset(self) -> None:
        ch = 1 if self.mode != "stereo" else self.channels
        for stage in self.stages:
            if isinstance(stage, DynamicBell):
                stage.reset()
            else:
                stage.sos = self._design([self.bands[i] for i in stage.indices])
                stage.zi = np.zeros((stage.sos.shape[0], ch, 2))
        self.pos = 0

    def _process(self, x: np.ndarray, key, params: Mapping[str, np.ndarray]) -> np.ndarray:
        if self.mode == "stereo":
            return self._filter(x, params)
        # mid or side only: the other half of the M/S pair passes untouched
        ms = midside.encode(x)
        k = 0 if self.mode == "mid" else 1
        ms[k : k + 1] = self._filter(ms[k : k + 1], params)
        return midside.decode(ms)

    def _filter(self, x: np.ndarray, params: Mapping[str, np.ndarray]) -> np.ndarray:
        for stage in self.stages:
            if isinstance(stage, DynamicBell):
                x = stage.process(x, params, stage.prefix)
            else:
                x = self._static(stage, x, params)
        self.pos += x.shape[1]
        return x

    def _static(self, stage: _Static, x: np.ndarray, params: Mapping[str, np.ndarray]) -> np.ndarray:
        n = x.shape[1]
        auto = {}
        for name, values in params.items():
            if name.startswith("bands."):
                _, idx, field = name.split(".")
                if int(idx) in stage.indices:
                    auto[(int(idx), field)] = values
        if not auto:
            y, stage.zi = sosfilt(stage.sos, x, stage.zi)
            return y
        y = np.empty_like(x)
        i = 0
        pos = self.pos
        while i < n:
            # sub-blocks end on the absolute control grid, so any block cut gives the same output
            step = CONTROL_PERIOD - (pos % CONTROL_PERIOD)
            j = min(n, i + step)
            # redesigned on grid points only (a block starting mid-period keeps the period's
            # design), so the coefficients do not depend on where blocks start
            if pos % CONTROL_PERIOD == 0:
                bands = {k: dict(self.bands[k]) for k in stage.indices}
                for (idx, field), values in auto.items():
                    bands[idx][field] = float(values[i])
                stage.sos = self._design([bands[k] for k in stage.indices])
            y[:, i:j], stage.zi = sosfilt(stage.sos, x[:, i:j], stage.zi)
            pos += j - i
            i = j
        return y

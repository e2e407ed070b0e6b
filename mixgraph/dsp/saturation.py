"""Tanh soft clipping, oversampled to keep aliasing down.

y = output * tanh(drive * x), computed at ``oversample`` times the rate (cascaded linear-phase
half-band stages from ``oversample.py``, flat to 20 kHz at 44.1 kHz); the dry path is delayed
by the same latency so dry/wet mixing stays aligned. Oversampling alone stops working at heavy
drive: the curve nears a square wave whose harmonics fold back at the oversampled rate itself.
So the default 8x runs the curve with second-order antiderivative anti-aliasing
(``kernels.saturation``, ADAA2), which keeps the alias lines of a -6 dBFS tone below -80 dBc up
to 48 dB of drive (tones up to 15 kHz); its linear roll-off is undone by short filters around
it and its delay padded to one base-rate sample (latency 80 instead of 79). 4x and 2x run the
plain curve: cheaper, and they alias at heavy drive.
"""

from __future__ import annotations

import numpy as np

from mixgraph.dsp.base import Processor
from mixgraph.dsp.kernels.saturation import tanh_adaa2
from mixgraph.dsp.oversample import Downsampler, Upsampler, round_trip_latency, stage_count
from mixgraph.units import db_to_gain

#: the factor that runs the curve with ADAA2 (the default); the others run plain tanh
ADAA_FACTOR = 8
#: ADAA2's own delay with its pre- and post-filters, in oversampled samples
ADAA_DELAY = 4
#: ADAA2 passes a linear signal as (1 + 2 cos w) / 3 = 1 - 2v/3 (v = 1 - cos w). The post-filter
#: [-k, 1 + 2k, -k], 1 + 2kv with k = 1/12, undoes the part that the curve's harmonics see (the
#: triangular kernel); the 5-tap pre-filter 1 + v/2 + 13 v^2/36 the rest, to O(v^3)
ADAA_POST = 1.0 / 12.0
ADAA_PRE = np.array([49.0 / 24.0, -11.0 / 18.0, 13.0 / 144.0])  # centre, +-1, +-2 taps


class Saturation(Processor):
    kind = "saturation"
    automatable = ("drive_db", "output_db", "mix")

    def __init__(self, drive_db: float = 6.0, output_db: float = 0.0, mix: float = 1.0, oversample: int = 8):
        super().__init__()
        self.drive_db = float(drive_db)
        self.output_db = float(output_db)
        self.mix = float(mix)
        self.oversample = int(oversample)
        stage_count(self.oversample)  # refuses a factor other than 1, 2, 4, 8

    def _prepare(self) -> None:
        f = self.oversample
        if f > 1:
            self.up = Upsampler(f, self.channels)
            self.down = Downsampler(f, self.channels)
            self.lat = round_trip_latency(f)
            if f == ADAA_FACTOR:
                self.lat += 1  # ADAA2 and its filters, padded to one base-rate sample
        else:
            self.lat = 0
        self._reset()

    @property
    def latency_samples(self) -> int:
        return self.lat if self._prepared else 0

    def _reset(self) -> None:
        if self.oversample > 1:
            self.up.reset()
            self.down.reset()
        self.dry_hist = np.zeros((self.channels, self.lat))
        self.adaa_state = np.zeros((self.channels, 8))
        self.pad_hist = np.zeros((self.channels, ADAA_FACTOR - ADAA_DELAY))

    def _process(self, x, key, params):
        f = self.oversample
        n = x.shape[1]
        # arrays even for a constant: numpy's power, whose bits these gains always had
        drive = db_to_gain(np.asarray(params.get("drive_db", self.drive_db)))
        out_gain = db_to_gain(np.asarray(params.get("output_db", self.output_db)))
        if f > 1:
            hi = self.up.process(x)
            d = np.repeat(drive, f) if np.ndim(drive) else drive
            if f == ADAA_FACTOR:
                d = d if np.ndim(d) else np.full(hi.shape[1], float(d))
                y = tanh_adaa2(hi, d, ADAA_PRE, ADAA_POST, self.adaa_state)
                ext = np.concatenate((self.pad_hist, y), axis=1)
                self.pad_hist = ext[:, hi.shape[1]:]
                wet = self.down.process(np.ascontiguousarray(ext[:, : hi.shape[1]]))
            else:
                wet = self.down.process(np.tanh(d * hi))
        else:
            wet = np.tanh(drive * x)
        dry_all = np.concatenate((self.dry_hist, x), axis=1)
        dry = dry_all[:, :n]
        self.dry_hist = dry_all[:, n:]
        # automation arrays are aligned with the (delayed) output
        mix = params.get("mix", self.mix)
        return (1.0 - mix) * dry + mix * out_gain * wet

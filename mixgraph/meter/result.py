"""What the meter reports about one signal (layer 3, plain data).

``None`` means "not measurable" (too short, or silent below the absolute
gate), never a made-up number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class MeterResult:
    sample_rate: int
    channels: int
    duration_s: float
    integrated_lufs: float | None  # ITU-R BS.1770-4 gated
    momentary_max_lufs: float | None  # 400 ms window, max over a 10 ms grid
    short_term_max_lufs: float | None  # 3 s window, max over a 10 ms grid
    lra_lu: float | None  # EBU Tech 3342
    true_peak_dbtp: float  # BS.1770-4 Annex 2, >= 4x oversampling, max over channels
    sample_peak_dbfs: float
    rms_dbfs: float
    crest_db: float  # sample peak - RMS
    plr_db: float | None  # true peak - integrated loudness (peak-to-loudness ratio)
    correlation: float | None  # stereo correlation -1..+1 (None for mono or silence)
    mono_loudness_diff_lu: float | None  # loudness of (L+R)/2 fold-down minus stereo loudness
    clipped_samples: int  # samples at or beyond full scale (|x| >= 1.0)
    spectral_balance_db: dict[str, float] = field(default_factory=dict)  # band -> dB re total
    #: short-term loudness every ``series_step_s`` seconds (for plots); None where unmeasurable
    short_term_series: tuple[float | None, ...] = ()
    series_step_s: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MultichannelResult(MeterResult):
    """A reading with BS.1770-4 channel weights (3 or more channels, or a layout whose weights
    are not all 1.0): the loudness figures are of the weighted sum, the peaks of every channel
    (the LFE's too), and each channel's own peaks follow in file order. ``correlation`` and
    ``mono_loudness_diff_lu`` are None (defined for stereo only)."""

    layout: str | None = None  # the named layout the channels make ("5.1"), None if none
    layout_source: str = "none"  # "option" (--layout), "mask" (WAV channel mask), "convention", "none"
    layout_note: str | None = None  # why some weights are a guess (1.0), for the user
    channel_labels: tuple[str, ...] = ()
    channel_weights: tuple[float, ...] = ()
    channel_true_peak_dbtp: tuple[float, ...] = ()
    channel_sample_peak_dbfs: tuple[float, ...] = ()

"""Fixed, hand-made report inputs (no meter, no render): the same numbers every run."""

from __future__ import annotations

from mixgraph.meter.result import MeterResult
from mixgraph.report import (
    GainReduction,
    LoudnessInfo,
    NodeLevels,
    OutputInfo,
    Series,
    SessionInfo,
    Timing,
    build_report,
)

BANDS = {"sub": -9.0, "low": -4.5, "low_mid": -3.5, "high_mid": -9.0, "high": -14.0}


def reading(i=-14.0, tp=-1.2, *, lra=6.0, mono=-0.5, corr=0.8, bands=None, plr=None, **kw) -> MeterResult:
    """A MeterResult with every figure given by hand (PLR = TP - I unless given)."""
    base = dict(sample_rate=48000, channels=2, duration_s=12.0, integrated_lufs=i,
                momentary_max_lufs=None if i is None else i + 4.0,
                short_term_max_lufs=None if i is None else i + 2.0, lra_lu=lra, true_peak_dbtp=tp,
                sample_peak_dbfs=tp - 0.3, rms_dbfs=(i if i is not None else -60.0) - 1.0, crest_db=8.0,
                plr_db=plr if plr is not None else (None if i is None else tp - i), correlation=corr,
                mono_loudness_diff_lu=mono, clipped_samples=0,
                spectral_balance_db=dict(BANDS if bands is None else bands),
                short_term_series=(None, None) + tuple((i or -30.0) + d for d in (-1.0, 0.5, 1.0, -0.5)),
                series_step_s=1.0)
    base.update(kw)
    return MeterResult(**base)


#: the master chain: a glue compressor that never acted, a multiband whose low band does the work,
#: the limiter (its per-second maxima are the series below)
MASTER_CHAIN = (
    GainReduction("compressor", 0, 0.03, 0.004, "glue", per_second=(0.03,) * 6),
    GainReduction("multiband", 1, 5.0, 2.1, "mb", per_second=(1.0, 5.0, 4.5, 2.0, 1.0, 0.5),
                  bands=(GainReduction("band", 0, 5.0, 2.0), GainReduction("band", 1, 0.6, 0.1),
                         GainReduction("band", 2, 0.02, 0.0)),
                  crossovers_hz=(120.0, 2500.0)),
    GainReduction("limiter", 2, 4.2, 0.8, per_second=(0.0, 1.5, 4.2, 0.8, 0.0, 0.3)),
)


def fixed_inputs() -> dict:
    """build_report keyword inputs of a small mastered session with a clipping drum bus."""
    mix = reading(-19.5, -3.2, lra=7.2, corr=0.712, momentary_max_lufs=-14.9)
    master = reading(-14.0234, -1.05, lra=5.1, corr=0.7049)
    return dict(
        session=SessionInfo(name="song", file="song.yaml", variant="radio", session_hash="ab" * 32),
        plan_hash="cd" * 32,
        premaster=mix, master=master,
        loudness=LoudnessInfo(target_lufs=-14.0, ceiling_dbtp=-1.0, achieved_lufs=-14.0234, true_peak_dbtp=-1.05,
                              gain_db=5.4871, iterations=3, limiter_gr_max_db=4.2, limiter_gr_mean_db=0.8,
                              max_gain_reduction_db=12.0),
        master_chain=MASTER_CHAIN,
        nodes=[NodeLevels("track:kick", -6.3, -6.0, -24.0, 12.5, 0,
                          (GainReduction("compressor", 1, 6.5, 2.25, "kick-comp"),
                           GainReduction("gate", 2, 0.04, 0.001))),
               NodeLevels("track:shaker", float("-inf"), None, None, None, 0,
                          (GainReduction("compressor", 0, 2.0, 0.5),), muted=True),
               NodeLevels("bus:drums", 0.2, 0.4, -22.0, 10.0, 12),
               NodeLevels("return:plate", -18.0, -17.9, -35.5, 14.0, 0)],
        outputs=[OutputInfo("master", "renders/song-radio-master.wav", "wav", 48000, 24, -1.05, -14.02, 0,
                            "0123456789abcdef" * 4, tap="master", frames=576000),
                 OutputInfo("preview", "renders/song-radio.ogg", "ogg", 44100, "n/a", -0.8, -14.1, 0,
                            "fedcba9876543210" * 4, tap="master", frames=529200)],
        series=Series(step_s=1.0, mix_short_term_lufs=mix.short_term_series,
                      master_short_term_lufs=master.short_term_series, limiter_gr_step_s=1.0,
                      limiter_gr_db=(0.0, 1.5, 4.2, 0.8, 0.0, 0.3), mix_spectrum_db=mix.spectral_balance_db,
                      master_spectrum_db={"sub": -8.8, "low": -4.6, "low_mid": -3.6, "high_mid": -8.7,
                                          "high": -13.5}),
        timing=Timing(render_seconds=0.5, duration_s=12.0),
        warnings=["renders/song-radio.ogg: something to look at"],
        notes=["source kick.wav was resampled 44100 -> 48000 Hz"],
    )


def fixed_report():
    return build_report(**fixed_inputs())

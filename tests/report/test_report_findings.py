"""Each finding fires on its side of its threshold and stays quiet on the other."""

from __future__ import annotations

import math

import pytest
from report_inputs import reading

from mixgraph.report.findings import (
    BAND_MIN_MEAN_DB,
    BAND_SHARE,
    BUS_PEAK_LIMIT_DBFS,
    HARD_GR_DB,
    HARD_SHARE,
    LARGE_INPUT_GAIN_DB,
    LOW_END_RANGE_DB,
    MIN_LRA_PROGRAMME_S,
    MONO_LOSS_LU,
    NEVER_ACTED_DB,
    OVER_LIMITED_PLR_DB,
    SQUASHED_LRA_LU,
    UNMASTERED_BELOW_LUFS,
    acted,
    find,
    low_end_share_db,
    measured_seconds,
    too_short,
)
from mixgraph.report.model import GainReduction, LoudnessInfo, NodeLevels, OutputInfo

# a master that triggers nothing: -14 LUFS, -1.2 dBTP (PLR 12.8), LRA 6, mono -0.5 LU, corr 0.8, balanced bands
CLEAN = dict(i=-14.0, tp=-1.2)


def codes(mix=None, master=None, nodes=(), outputs=(), ceiling=None, loudness=None, chain=()) -> dict[str, object]:
    mix = mix or reading(**CLEAN)
    return {f.code: f for f in find(mix, master, nodes, outputs, ceiling_dbtp=ceiling, loudness=loudness,
                                    master_chain=chain)}


def solve(target, achieved=None, gain=6.0, tol=0.1) -> LoudnessInfo:
    """The loudness solve of a master that met ``target`` (or ``achieved``) with ``gain`` dB of input gain."""
    got = target if achieved is None else achieved
    return LoudnessInfo(target_lufs=target, ceiling_dbtp=-1.0, achieved_lufs=got, true_peak_dbtp=-1.2, gain_db=gain,
                        iterations=3, limiter_gr_max_db=2.0, limiter_gr_mean_db=0.3, tolerance_lu=tol,
                        max_gain_reduction_db=12.0)


def test_the_clean_master_has_no_findings():
    assert codes(master=reading(**CLEAN)) == {}


def test_thresholds_are_the_documented_values():
    assert (UNMASTERED_BELOW_LUFS, SQUASHED_LRA_LU, MONO_LOSS_LU, OVER_LIMITED_PLR_DB, BUS_PEAK_LIMIT_DBFS) == (
        -16.0, 4.0, 3.0, 6.0, 0.0)
    assert (MIN_LRA_PROGRAMME_S, LARGE_INPUT_GAIN_DB, HARD_SHARE, BAND_SHARE, BAND_MIN_MEAN_DB, NEVER_ACTED_DB) == (
        30.0, 20.0, 0.5, 0.75, 1.0, 0.05)
    assert HARD_GR_DB == {"limiter": 3.0, "clipper": 3.0, "compressor": 4.0, "multiband": 4.0}


def test_quiet_master_looks_unmastered():
    f = codes(master=reading(-20.3, -6.0))["unmastered"]
    assert f.severity == "warning" and f.figures["integrated_lufs"] == -20.3
    assert f.text.startswith("The master sits at -20.3 LUFS") and "not a master" in f.text
    assert "unmastered" in codes(master=reading(-16.1, -3.0))
    assert "unmastered" not in codes(master=reading(-15.9, -3.0))


def test_mix_print_without_master_stage_is_not_a_master():
    found = codes(mix=reading(-20.0, -4.0), master=None)
    assert "not-a-master" in found and "-20.0 LUFS" in found["not-a-master"].text
    assert "unmastered" not in found
    assert "not-a-master" not in codes(mix=reading(-15.0, -2.0), master=None)
    # with a master stage the quiet mix print is fine (the master is what counts)
    assert "not-a-master" not in codes(mix=reading(-20.0, -4.0), master=reading(**CLEAN))


@pytest.mark.parametrize("node,peak,clipped,expect", [
    ("bus:drums", 0.1, 0, True),  # over full scale
    ("bus:drums", -0.1, 0, False),
    ("bus:drums", -0.5, 3, True),  # clipped samples counted (at full scale) even with the peak at -0.5 dBFS
    ("return:plate", 0.4, 2, True),
    ("track:kick", 1.0, 50, False),  # a track is not a bus
])
def test_bus_clipping(node, peak, clipped, expect):
    n = NodeLevels(node, peak, peak + 0.2, -20.0, 10.0, clipped)
    found = codes(master=reading(**CLEAN), nodes=[n])
    assert ("bus-clipping" in found) == expect
    if expect:
        f = found["bus-clipping"]
        assert f.severity == "critical" and f.subject == node and f.figures["clipped_samples"] == clipped


def test_true_peak_over_the_ceiling():
    assert "true-peak" in codes(master=reading(-14.0, -0.9), ceiling=-1.0)
    assert "true-peak" not in codes(master=reading(-14.0, -1.1), ceiling=-1.0)
    assert "true-peak" in codes(master=reading(-14.0, -1.5), ceiling=-2.0)
    assert "true-peak" in codes(master=reading(-14.0, -0.5))  # default ceiling -1 dBTP without a target
    f = codes(master=reading(-14.0, -0.25), ceiling=-1.0)["true-peak"]
    assert f.figures == {"true_peak_dbtp": -0.25, "ceiling_dbtp": -1.0} and "0.75 dB" in f.text
    # every master file over its ceiling is found, an MP3/Ogg one as decoded too; a stem is not a master
    wav = OutputInfo("master", "m.wav", "wav", 44100, 16, -0.7, -14.0, 0, "0" * 64)
    ogg = OutputInfo("preview", "m.ogg", "ogg", 44100, "n/a", -0.7, -14.0, 0, "0" * 64)
    mp3 = OutputInfo("radio", "m.mp3", "mp3", 44100, "n/a", -1.2, -14.0, 0, "0" * 64)
    stem = OutputInfo("mix", "mix.wav", "wav", 44100, 24, 0.5, -20.0, 0, "0" * 64, tap="premaster")
    found = find(reading(**CLEAN), reading(**CLEAN), [], [wav, ogg, mp3, stem], ceiling_dbtp=-1.0)
    assert [f.subject for f in found] == ["master", "preview"]
    assert "after decoding" in found[1].text and found[1].figures["ceiling_dbtp"] == -1.0


def test_each_master_file_is_held_to_its_own_ceiling():
    """A club master at -0.3 dBTP under its own -0.3 ceiling is fine; over it, it is found against -0.3."""
    club = OutputInfo("club", "club.wav", "wav", 48000, 24, -0.4, -8.0, 0, "0" * 64, target_lufs=-8.0,
                      ceiling_dbtp=-0.3)
    assert not [f for f in find(reading(**CLEAN), reading(**CLEAN), [], [club], ceiling_dbtp=-1.0)
                if f.code == "true-peak"]
    over = OutputInfo("club", "club.mp3", "mp3", 48000, "n/a", -0.2, -8.0, 0, "0" * 64, target_lufs=-8.0,
                      ceiling_dbtp=-0.3)
    (f,) = [f for f in find(reading(**CLEAN), reading(**CLEAN), [], [over], ceiling_dbtp=-1.0)
            if f.code == "true-peak"]
    assert f.subject == "club" and f.figures == {"true_peak_dbtp": -0.2, "ceiling_dbtp": -0.3}


def test_a_deliverable_mastered_in_its_own_pass_gets_its_own_working_hard_finding():
    rest = (GainReduction("limiter", 1, 1.0, 0.1, per_second=(0.5,) * 10),)
    hard = (GainReduction("limiter", 1, 6.0, 3.5, per_second=(4.0,) * 9 + (1.0,)),)
    club = OutputInfo("club", "club.wav", "wav", 48000, 24, -0.4, -8.0, 0, "0" * 64, target_lufs=-8.0,
                      ceiling_dbtp=-0.3, gain_reduction=hard)
    same = OutputInfo("stream", "s.wav", "wav", 48000, 24, -1.1, -14.0, 0, "0" * 64, gain_reduction=rest)
    found = [f for f in find(reading(**CLEAN), reading(**CLEAN), [], [club, same], ceiling_dbtp=-1.0,
                             master_chain=rest) if f.code == "chain-works-hard"]
    assert [f.subject for f in found] == ["club"]
    assert "output 'club'" in found[0].text and found[0].figures["share"] == pytest.approx(0.9)


@pytest.mark.parametrize("lra,expect", [(3.9, True), (4.1, False), (None, False)])
def test_squashed_loudness_range(lra, expect):
    assert ("squashed" in codes(master=reading(-14.0, -1.2, lra=lra, duration_s=180.0))) == expect


@pytest.mark.parametrize("plr,expect", [(5.9, True), (6.1, False)])
def test_over_limited_plr(plr, expect):
    assert ("over-limited" in codes(master=reading(-8.0, -1.0, plr=plr))) == expect


@pytest.mark.parametrize("mono,corr,expect", [(-3.1, 0.5, True), (-2.9, 0.5, False), (-1.0, -0.1, True),
                                              (-1.0, 0.1, False), (None, None, False)])
def test_mono_compatibility(mono, corr, expect):
    found = codes(master=reading(-14.0, -1.2, mono=mono, corr=corr))
    assert ("mono" in found) == expect


@pytest.mark.parametrize("sub,low,expect", [
    (-3.0, -3.0, "low-end-heavy"),  # 2 x 50 % of the power: 0.0 dB
    (-8.0, -4.0, None),  # 15.8 % + 39.8 % = 55.6 %: -2.55 dB
    (-15.0, -10.0, "low-end-thin"),  # 3.2 % + 10 % = 13.2 %: -8.8 dB
])
def test_low_end_balance(sub, low, expect):
    bands = {"sub": sub, "low": low, "low_mid": -3.0, "high_mid": -9.0, "high": -15.0}
    share = 10 * math.log10(10 ** (sub / 10) + 10 ** (low / 10))  # power sum of the two bands
    assert low_end_share_db(bands) == pytest.approx(share, abs=1e-12)
    found = codes(master=reading(-14.0, -1.2, bands=bands))
    assert {c for c in found if c.startswith("low-end")} == ({expect} if expect else set())
    lo, hi = LOW_END_RANGE_DB
    assert (share > hi) == (expect == "low-end-heavy") and (share < lo) == (expect == "low-end-thin")


def test_low_end_thresholds_either_side():
    # sub alone carrying the whole low end, just either side of the limits
    lo, hi = LOW_END_RANGE_DB
    for share, expect in ((hi + 0.05, "low-end-heavy"), (hi - 0.05, None), (lo - 0.05, "low-end-thin"),
                          (lo + 0.05, None)):
        bands = {"sub": share, "low": -200.0, "low_mid": -3.0, "high_mid": -9.0, "high": -15.0}
        found = codes(master=reading(-14.0, -1.2, bands=bands))
        assert {c for c in found if c.startswith("low-end")} == ({expect} if expect else set())


def test_findings_come_most_severe_first():
    n = NodeLevels("bus:drums", 0.5, 0.7, -20.0, 10.0, 4)
    fs = find(reading(**CLEAN), reading(-20.0, -0.5, lra=2.0, duration_s=60.0), [n], [], ceiling_dbtp=-1.0)
    sev = [f.severity for f in fs]
    assert sev == sorted(sev, key=("critical", "warning", "info").index)
    assert {f.code for f in fs} >= {"bus-clipping", "true-peak", "unmastered", "squashed"}


# ----------------------------------------------------------------------------- explicit targets


@pytest.mark.parametrize("target", [-16.0, -23.0, -24.0])
def test_a_master_that_met_its_explicit_target_is_mastered(target):
    """Apple's -16, EBU R128's -23 and ATSC's -24: quiet on purpose, not unmastered."""
    found = codes(master=reading(target, -3.0), loudness=solve(target))
    assert found == {}
    # a master that quiet with no target at all does look like a mix level
    assert "unmastered" in codes(master=reading(target - 0.5, -3.0))


def test_a_master_off_its_target_says_so_and_is_not_called_unmastered():
    found = codes(master=reading(-23.4, -3.0), loudness=solve(-23.0, achieved=-23.4))
    f = found["off-target"]
    assert "unmastered" not in found
    assert f.figures == {"integrated_lufs": -23.4, "target_lufs": -23.0, "tolerance_lu": 0.1}
    assert "-0.4 LU" in f.text
    assert "off-target" not in codes(master=reading(-23.09, -3.0), loudness=solve(-23.0, achieved=-23.09))


# ----------------------------------------------------------------------------- short programmes


def test_lra_of_a_short_programme_is_too_short_to_measure_not_squashed():
    # the brief's case: a 10 s programme with a (meaningless) 1.5 LU LRA
    short = reading(-14.0, -1.2, lra=1.5, duration_s=10.0)
    assert "squashed" not in codes(master=short)
    assert too_short(short) == {"lra_lu": "too short to measure (10.0 s; needs 30 s)"}
    assert "squashed" in codes(master=reading(-14.0, -1.2, lra=1.5, duration_s=30.0))
    assert "squashed" not in codes(master=reading(-14.0, -1.2, lra=1.5, duration_s=29.9))
    # shorter than the 3 s short-term and the 400 ms momentary windows
    assert set(too_short(reading(-14.0, -1.2, duration_s=2.0))) == {"lra_lu", "short_term_max_lufs"}
    assert set(too_short(reading(-14.0, -1.2, duration_s=0.3))) == {
        "lra_lu", "short_term_max_lufs", "momentary_max_lufs", "integrated_lufs", "plr_db"}


def test_lra_counts_only_the_seconds_above_the_gate():
    # 60 s, of which the series (1 s steps, the first value at 3 s) is above -70 LUFS for 20 values:
    # the short-term windows cover 20 + 2 = 22 s of programme, short of 30
    series = (None, None) + (-14.0,) * 20 + (-90.0,) * 38
    m = reading(-14.0, -1.2, lra=1.5, duration_s=60.0, short_term_series=series)
    assert measured_seconds(m) == 22.0
    assert too_short(m)["lra_lu"] == "too short to measure (22.0 s above the gate; needs 30 s)"
    assert "squashed" not in codes(master=m)
    loud = reading(-14.0, -1.2, lra=1.5, duration_s=60.0, short_term_series=(None, None) + (-14.0,) * 58)
    assert measured_seconds(loud) == 60.0 and "squashed" in codes(master=loud)


# ----------------------------------------------------------------------------- the chain working hard


def test_large_input_gain_from_the_loudness_solve():
    # the brief's choir: -9 LUFS reached with +41.5 dB of input gain
    f = codes(master=reading(-9.0, -1.0, plr=8.0), loudness=solve(-9.0, gain=41.5))["large-input-gain"]
    assert f.severity == "warning" and f.figures == {"gain_db": 41.5, "threshold_db": 20.0, "target_lufs": -9.0}
    assert "+41.5 dB" in f.text
    assert "large-input-gain" not in codes(master=reading(**CLEAN), loudness=solve(-14.0, gain=19.9))
    assert "large-input-gain" in codes(master=reading(**CLEAN), loudness=solve(-14.0, gain=20.1))


def limiter(per_second, kind="limiter", pid=None):
    ps = tuple(per_second)
    return GainReduction(kind, 0, max(ps), sum(ps) / len(ps), pid, per_second=ps)


@pytest.mark.parametrize("kind,per_second,expect", [
    ("limiter", (3.5,) * 6 + (1.0,) * 4, True),  # 6 of 10 seconds over 3 dB
    ("limiter", (3.5,) * 5 + (1.0,) * 5, False),  # half: not more than half
    ("limiter", (2.9,) * 10, False),  # under the threshold throughout
    ("compressor", (3.5,) * 10, False),  # 3.5 dB of bus compression is moderate
    ("compressor", (4.5,) * 8 + (0.0,) * 2, True),
    ("gate", (20.0,) * 10, False),  # a gate's reduction is its job
])
def test_a_master_processor_working_hard_most_of_the_time(kind, per_second, expect):
    found = codes(master=reading(**CLEAN), chain=[limiter(per_second, kind, "final")])
    assert ("chain-works-hard" in found) == expect
    if expect:
        f = found["chain-works-hard"]
        share = sum(v > HARD_GR_DB[kind] for v in per_second) / len(per_second)
        assert f.figures["share"] == share and f.figures["seconds"] == len(per_second)
        assert f"{kind} 'final'" in f.text and f"{share * 100:.0f} % of the seconds" in f.text


def test_a_track_compressor_working_hard_is_not_a_master_finding():
    n = NodeLevels("track:vox", -3.0, -2.9, -18.0, 10.0, 0, (limiter((8.0,) * 10, "compressor"),))
    assert "chain-works-hard" not in codes(master=reading(**CLEAN), nodes=[n])


def multiband(means, xs=(120.0, 2500.0)):
    bands = tuple(GainReduction("band", k, m * 2, m) for k, m in enumerate(means))
    return GainReduction("multiband", 1, max(b.max_db for b in bands), max(means), "mb",
                         per_second=(1.0,) * 10, bands=bands, crossovers_hz=xs)


@pytest.mark.parametrize("means,expect", [
    ((3.0, 0.5, 0.5), 0),  # 75 % in the low band
    ((0.2, 0.3, 2.0), 2),  # 80 % in the top band
    ((2.0, 1.0, 0.0), None),  # 67 %: shared
    ((0.9, 0.1, 0.0), None),  # 90 %, but under 1 dB of mean reduction
])
def test_a_multiband_band_doing_most_of_the_work(means, expect):
    found = codes(master=reading(**CLEAN), chain=[multiband(means)])
    assert (found["multiband-one-band"].figures["band"] if "multiband-one-band" in found else None) == expect
    # on a track too
    n = NodeLevels("bus:keys", -6.0, -5.9, -20.0, 10.0, 0, (multiband(means),))
    found = codes(master=reading(**CLEAN), nodes=[n])
    assert ("multiband-one-band" in found) == (expect is not None)
    if expect == 0:
        assert "band 1, below 120 Hz" in found["multiband-one-band"].text and "on bus:keys" in found[
            "multiband-one-band"].text
    if expect == 2:
        assert "band 3, above 2.5 kHz" in found["multiband-one-band"].text


def test_never_acted_below_the_threshold():
    assert not acted(GainReduction("compressor", 0, 0.049, 0.001))
    assert acted(GainReduction("compressor", 0, 0.05, 0.001))


def test_a_muted_bus_is_not_judged():
    muted = NodeLevels("bus:fx", float("-inf"), None, None, None, 0, (multiband((3.0, 0.0, 0.0)),), muted=True)
    assert codes(master=reading(**CLEAN), nodes=[muted]) == {}

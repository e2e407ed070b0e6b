"""Each finding fires on its side of its threshold and stays quiet on the other."""

from __future__ import annotations

import math

import pytest
from report_inputs import reading

from mixgraph.report.findings import (
    BUS_PEAK_LIMIT_DBFS,
    LOW_END_RANGE_DB,
    MONO_LOSS_LU,
    OVER_LIMITED_PLR_DB,
    SQUASHED_LRA_LU,
    UNMASTERED_BELOW_LUFS,
    find,
    low_end_share_db,
)
from mixgraph.report.model import NodeLevels, OutputInfo

# a master that triggers nothing: -14 LUFS, -1.2 dBTP (PLR 12.8), LRA 6, mono -0.5 LU, corr 0.8, balanced bands
CLEAN = dict(i=-14.0, tp=-1.2)


def codes(mix=None, master=None, nodes=(), outputs=(), ceiling=None) -> dict[str, object]:
    mix = mix or reading(**CLEAN)
    return {f.code: f for f in find(mix, master, nodes, outputs, ceiling_dbtp=ceiling)}


def test_the_clean_master_has_no_findings():
    assert codes(master=reading(**CLEAN)) == {}


def test_thresholds_are_the_documented_values():
    assert (UNMASTERED_BELOW_LUFS, SQUASHED_LRA_LU, MONO_LOSS_LU, OVER_LIMITED_PLR_DB, BUS_PEAK_LIMIT_DBFS) == (
        -16.0, 4.0, 3.0, 6.0, 0.0)


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
    # a lossless master output over the ceiling is found; a lossy preview's overshoot is not
    wav = OutputInfo("master", "m.wav", "wav", 44100, 16, -0.7, -14.0, 0, "0" * 64)
    ogg = OutputInfo("preview", "m.ogg", "ogg", 44100, "n/a", -0.7, -14.0, 0, "0" * 64)
    assert [f.subject for f in find(reading(**CLEAN), reading(**CLEAN), [], [wav, ogg], ceiling_dbtp=-1.0)] == [
        "master"]


@pytest.mark.parametrize("lra,expect", [(3.9, True), (4.1, False), (None, False)])
def test_squashed_loudness_range(lra, expect):
    assert ("squashed" in codes(master=reading(-14.0, -1.2, lra=lra))) == expect


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
    fs = find(reading(**CLEAN), reading(-20.0, -0.5, lra=2.0), [n], [], ceiling_dbtp=-1.0)
    sev = [f.severity for f in fs]
    assert sev == sorted(sev, key=("critical", "warning", "info").index)
    assert {f.code for f in fs} >= {"bus-clipping", "true-peak", "unmastered", "squashed"}

"""Platform table against the published reference levels (as of 2025), computed here by hand."""

from __future__ import annotations

import pytest

from mixgraph.report.platforms import PLATFORMS, platform_table

# published reference levels, written out independently of the module's table:
# (integrated LUFS reference, raises quiet masters?, hard max true peak dBTP of a delivery standard)
PUBLISHED = {
    "Spotify": (-14.0, True, None),
    "Apple Music": (-16.0, True, None),
    "YouTube": (-14.0, False, None),
    "Tidal": (-14.0, False, None),
    "Amazon Music": (-14.0, False, None),
    "EBU R128 broadcast": (-23.0, True, -1.0),
    "ATSC A/85": (-24.0, True, -2.0),
}


def rows(i, tp):
    return {r.platform: r for r in platform_table(i, tp)}


def test_the_table_covers_the_published_platforms():
    assert {p.name: (p.reference_lufs, p.turns_up, p.max_true_peak_dbtp) for p in PLATFORMS} == PUBLISHED


def test_a_loud_master_is_turned_down_everywhere():
    # a -9 LUFS / -0.5 dBTP master: every reference is lower, so each one turns it down to its reference
    table = rows(-9.0, -0.5)
    expected_gain = {"Spotify": -5.0, "Apple Music": -7.0, "YouTube": -5.0, "Tidal": -5.0, "Amazon Music": -5.0,
                     "EBU R128 broadcast": -14.0, "ATSC A/85": -15.0}
    for name, (ref, _up, _tp) in PUBLISHED.items():
        r = table[name]
        assert r.gain_db == pytest.approx(expected_gain[name], abs=1e-12)
        assert r.gain_db == pytest.approx(ref - (-9.0), abs=1e-12)
        assert r.result_lufs == pytest.approx(ref, abs=1e-12)
        assert r.result_true_peak_dbtp == pytest.approx(-0.5 + expected_gain[name], abs=1e-12)
        assert not r.true_peak_risk and r.risk == "none"
    assert table["Spotify"].action == "turned down 5.0 dB"


def test_a_quiet_master_is_raised_only_where_the_policy_allows():
    # -20 LUFS / -6 dBTP: Spotify would add 6 dB but stops at -1 dBTP (5 dB); Apple adds its 4 dB
    # (peak -2 dBTP, under -1); down-only platforms leave it; broadcast turns it down
    t = rows(-20.0, -6.0)
    assert t["Spotify"].gain_db == pytest.approx(5.0) and t["Spotify"].result_lufs == pytest.approx(-15.0)
    assert t["Spotify"].result_true_peak_dbtp == pytest.approx(-1.0) and not t["Spotify"].true_peak_risk
    assert "5.0 of 6.0 dB" in t["Spotify"].action
    assert t["Apple Music"].gain_db == pytest.approx(4.0) and t["Apple Music"].result_lufs == pytest.approx(-16.0)
    for name in ("YouTube", "Tidal", "Amazon Music"):
        assert t[name].gain_db == 0.0 and t[name].result_lufs == -20.0 and "only turns down" in t[name].action
    assert t["EBU R128 broadcast"].gain_db == pytest.approx(-3.0)
    assert t["ATSC A/85"].gain_db == pytest.approx(-4.0)


def test_no_peak_headroom_means_no_raise():
    t = rows(-18.0, -0.5)  # already above -1 dBTP: Spotify/Apple cannot raise it at all
    assert t["Spotify"].gain_db == 0.0 and t["Apple Music"].gain_db == 0.0
    assert t["Spotify"].risk == "codec headroom"  # -0.5 dBTP plays unchanged, above -1 dBTP


def test_true_peak_risks():
    # -15 LUFS / -0.2 dBTP: YouTube leaves it (down only) -> -0.2 dBTP: lossy-codec headroom risk
    t = rows(-15.0, -0.2)
    assert t["YouTube"].true_peak_risk and t["YouTube"].risk == "codec headroom"
    assert t["ATSC A/85"].result_true_peak_dbtp == pytest.approx(-9.2) and not t["ATSC A/85"].true_peak_risk
    # a very quiet, peaky master: broadcast raises it 7 dB to -23 LUFS -> +4 dBTP, over the -1 dBTP maximum
    t = rows(-30.0, -3.0)
    ebu = t["EBU R128 broadcast"]
    assert ebu.gain_db == pytest.approx(7.0) and ebu.result_true_peak_dbtp == pytest.approx(4.0)
    assert ebu.risk == "over ceiling"
    # ATSC: +6 dB -> +3 dBTP over its -2 dBTP maximum
    assert t["ATSC A/85"].result_true_peak_dbtp == pytest.approx(3.0) and t["ATSC A/85"].risk == "over ceiling"
    # -1.5 dBTP after -1 dB of gain: under -1 dBTP but over ATSC's -2 dBTP
    t = rows(-23.0, -0.5)
    assert t["ATSC A/85"].result_true_peak_dbtp == pytest.approx(-1.5) and t["ATSC A/85"].risk == "over ceiling"
    assert t["EBU R128 broadcast"].risk == "over ceiling"  # 0 dB gain: -0.5 dBTP is over its -1 dBTP maximum
    # Spotify cannot raise it (peak already over -1 dBTP): it plays at -0.5 dBTP, a codec headroom risk
    assert t["Spotify"].gain_db == 0.0 and t["Spotify"].risk == "codec headroom"

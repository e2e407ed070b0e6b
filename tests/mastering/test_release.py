"""Deliverables as released: lossy masters that decode under their ceiling at every bitrate, the
release metadata in every file, and the session fields refused at their line.

True peaks are checked on the decoded files with the 16x reference of tests/truepeak_reference.py, tags
with the readers of tests/audio/tagread.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import yaml

from mixgraph.api.render import render_session
from mixgraph.cli import main
from mixgraph.errors import RenderError
from tests.audio.tagread import flac_comments, id3v2, mp3_first_frame_kbps, ogg_comments, riff_info
from tests.mastering.test_deliverables import session, true_peak_16x

RELEASE = {"title": "Night Drive", "artist": "The Band", "album": "First LP", "year": 2024,
           "isrc": "GBABC2400001", "track_number": 3, "genre": "Synthpop", "copyright": "2024 Label Ltd"}


def loud_session(tmp_path, outputs, release=None):
    """A master driven 10 dB into its limiter (-8 LUFS under -1 dBTP): dense peaks at the ceiling,
    which a lossy codec's filtering pushes over it."""
    path = session(tmp_path, outputs, loudness={"target_lufs": -8.0, "ceiling_dbtp": -1.0,
                                                 "max_gain_reduction_db": 30})
    if release is not None:
        doc = yaml.safe_load(path.read_text())
        doc["release"] = release
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_lossy_masters_decode_under_the_ceiling_at_every_bitrate(tmp_path):
    outs = {"wav": {"path": "out/m.wav"},
            **{f"mp3-{k}": {"path": f"out/m{k}.mp3", "bitrate_kbps": k} for k in (128, 192, 320)},
            **{f"ogg-{k}": {"path": f"out/m{k}.ogg", "bitrate_kbps": k} for k in (128, 320)}}
    r = render_session(loud_session(tmp_path, outs), node_meters=False)
    by_name = {o.written.name: o for o in r.outputs}
    for name in outs:
        if name == "wav":
            continue
        x, _ = sf.read(tmp_path / outs[name]["path"], dtype="float64")
        assert true_peak_16x(x) <= -1.0, name
        # the render's own meter read the file as decoded, within 0.05 dB of the 16x reference
        # (less than the 0.1 dB margin the file keeps under its ceiling)
        assert by_name[name].meter.true_peak_dbtp == pytest.approx(true_peak_16x(x), abs=0.05), name
        assert by_name[name].meter.true_peak_dbtp <= -1.1, name
    # the codec overshot at least at 128 kbps, so that file was encoded lower
    assert by_name["mp3-128"].written.codec_gain_db < -0.1
    assert any("m128.mp3: encoded" in n and "under the -1 dBTP ceiling" in n for n in r.notes)
    for k in (128, 192, 320):
        assert mp3_first_frame_kbps(tmp_path / f"out/m{k}.mp3") == k
    # the lossless master is as mastered: the lowering is the lossy files' own
    assert by_name["wav"].written.codec_gain_db == 0.0
    side = json.loads((tmp_path / "out/m128.mp3.json").read_text())["output"]
    assert side["bitrate_kbps"] == 128
    assert side["codec_gain_db"] == round(by_name["mp3-128"].written.codec_gain_db, 3)


def test_lossy_master_still_over_the_ceiling_is_an_error_and_nothing_is_written(tmp_path, monkeypatch):
    import mixgraph.mastering.stage as stage

    monkeypatch.setattr(stage, "LOSSY_TRIES", 1)  # no second encode: the codec's overshoot stays
    outs = {"wav": {"path": "out/m.wav"}, "mp3": {"path": "out/m.mp3", "bitrate_kbps": 128}}
    with pytest.raises(RenderError, match=r"m\.mp3: decodes to .* above the ceiling -1 dBTP less its 0.1 dB margin; nothing was written"):
        render_session(loud_session(tmp_path, outs), node_meters=False)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_release_metadata_in_every_format(tmp_path):
    outs = {f: {"path": f"out/m.{f}"} for f in ("wav", "flac", "ogg", "mp3", "aiff")}
    render_session(loud_session(tmp_path, outs, RELEASE), node_meters=False)
    o = tmp_path / "out"
    info = riff_info(o / "m.wav")
    assert {k: info[k] for k in ("INAM", "IART", "IPRD", "ICRD", "ISRC", "ITRK", "IGNR", "ICOP")} == {
        "INAM": "Night Drive", "IART": "The Band", "IPRD": "First LP", "ICRD": "2024", "ISRC": "GBABC2400001",
        "ITRK": "3", "IGNR": "Synthpop", "ICOP": "2024 Label Ltd"}
    assert info["ICMT"].startswith("mixgraph ") and "plan sha256:" in info["ICMT"]  # provenance stays
    assert info["ISFT"].startswith("mixgraph ")
    for comments in (flac_comments(o / "m.flac"), ogg_comments(o / "m.ogg")):
        assert {k: comments[k] for k in ("TITLE", "ARTIST", "ALBUM", "DATE", "ISRC", "TRACKNUMBER")} == {
            "TITLE": ["Night Drive"], "ARTIST": ["The Band"], "ALBUM": ["First LP"], "DATE": ["2024"],
            "ISRC": ["GBABC2400001"], "TRACKNUMBER": ["3"]}
        assert "plan sha256:" in comments["COMMENT"][0]
    major, frames, _ = id3v2(o / "m.mp3")
    assert major == 4
    assert {k: frames[k] for k in ("TIT2", "TPE1", "TALB", "TDRC", "TSRC", "TRCK", "TCON", "TCOP")} == {
        "TIT2": "Night Drive", "TPE1": "The Band", "TALB": "First LP", "TDRC": "2024", "TSRC": "GBABC2400001",
        "TRCK": "3", "TCON": "Synthpop", "TCOP": "2024 Label Ltd"}
    assert "plan sha256:" in frames["COMM"] and frames["TSSE"].startswith("mixgraph ")
    with sf.SoundFile(o / "m.aiff") as f:  # AIFF: libsndfile's NAME, AUTH, (c) chunks; no ISRC field
        assert (f.title, f.artist, f.copyright) == ("Night Drive", "The Band", "2024 Label Ltd")


def test_a_variant_sets_its_own_isrc(tmp_path):
    path = loud_session(tmp_path, {"wav": {"path": "out/{name}{variant}.wav"}}, RELEASE)
    doc = yaml.safe_load(path.read_text())
    doc["variants"] = {"instrumental": {"mute": ["vocal"], "set": {"release.isrc": "GBABC2400002",
                                                                   "release.title": "Night Drive (Instrumental)"}}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    render_session(path, variant="instrumental", node_meters=False)
    info = riff_info(next((tmp_path / "out").glob("*instrumental*.wav")))
    assert (info["ISRC"], info["INAM"]) == ("GBABC2400002", "Night Drive (Instrumental)")


def test_without_release_the_title_is_the_session_name(tmp_path):
    render_session(loud_session(tmp_path, {"wav": {"path": "out/m.wav"}}), node_meters=False)
    info = riff_info(tmp_path / "out/m.wav")
    assert info["INAM"] == "song" and "ISRC" not in info and "IART" not in info


def validate(tmp_path, capsys, text):
    sf.write(tmp_path / "kick.wav", np.zeros((480, 1)), 48000)
    path = tmp_path / "s.yaml"
    path.write_text(text)
    code = main(["validate", "--format", "json", str(path)])
    report = json.loads(capsys.readouterr().out)[0]
    return code, report["diagnostics"]


HEAD = "mixgraph: 1\nname: song\nsample_rate: 48000\ntracks:\n  kick: {source: kick.wav}\n"


@pytest.mark.parametrize("isrc", ["GB-ABC-24-00001", "GBABC240001", "gbabc2400001", "G1ABC2400001"])
def test_a_bad_isrc_is_refused_at_its_line(tmp_path, capsys, isrc):
    code, diags = validate(tmp_path, capsys, HEAD + f"release:\n  title: Song\n  isrc: {isrc}\n")
    assert code == 2
    d = diags[0]
    assert (d["line"], d["col"]) == (8, 9), d
    assert "is not an ISRC" in d["message"]
    if "-" in isrc:
        assert "without the dashes" in d["message"]


@pytest.mark.parametrize("output, line, col, fragment", [
    ("{path: m.wav, bitrate_kbps: 192}", 7, 6, "lossless and has no bitrate"),
    ("{path: m.mp3, bitrate_kbps: 100}", 7, 34, "has no 100 kbps bitrate"),
    ("{path: m.mp3, bitrate_kbps: 600}", 7, 34, "at most 500"),
    ("{path: m.ogg, bitrate_kbps: 48}", 7, 34, "no 48 kbps setting"),
    ("{path: m.mp3, sample_rate: 22050, bitrate_kbps: 192}", 7, 54, "22050 Hz has no 192 kbps"),
    ("{path: m.flac, ceiling_margin_db: 0.2}", 7, 6, "'ceiling_margin_db' is for lossy"),
    ("{path: m.mp3, tap: premaster, ceiling_margin_db: 0.2}", 7, 6, "'ceiling_margin_db' is for lossy"),
])
def test_lossy_fields_refused_at_their_line(tmp_path, capsys, output, line, col, fragment):
    """At the bad value; at the output's mapping for a field the output's format does not take."""
    code, diags = validate(tmp_path, capsys, HEAD + "outputs:\n  x: " + output + "\n")
    assert code == 2
    d = diags[0]
    assert fragment in d["message"], d
    assert (d["line"], d["col"]) == (line, col), d


def test_mp3_bitrates_accepted_at_each_mpeg_version(tmp_path, capsys):
    text = HEAD + ("outputs:\n  a: {path: a.mp3, bitrate_kbps: 320}\n"
                   "  b: {path: b.mp3, sample_rate: 24000, bitrate_kbps: 144}\n"
                   "  c: {path: c.mp3, sample_rate: 11025, bitrate_kbps: 64}\n"
                   "  d: {path: d.ogg, bitrate_kbps: 500, ceiling_margin_db: 0.5}\n")
    code, diags = validate(tmp_path, capsys, text)
    assert code == 0, diags

"""Class 3 of the hostile-session corpus: validate is never weaker than render. Each session here
is broken in a way some stage notices (routing, channels, extensions, variants, Nyquist of a
deliverable, media): validate must refuse it with the code render gives, and the refused render
touches nothing."""

from __future__ import annotations

import pytest

from tests.trust.corpus import FRAMES, assert_refused, base_doc, make_song, write_wav

COMP = {"type": "compressor", "threshold_db": -30, "ratio": 4}


# --------------------------------------------------------------------------- routing loops


def test_loop_through_out(tmp_path, capsys):
    doc = base_doc(buses={"x": {"out": "y"}, "y": {"out": "x"}})
    doc["tracks"]["a"]["out"] = "x"
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_loop_through_a_send_and_a_return(tmp_path, capsys):
    doc = base_doc(buses={"g": {"sends": [{"to": "r"}]}}, returns={"r": {"out": "g"}})
    doc["tracks"]["a"]["out"] = "g"
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_loop_between_two_returns(tmp_path, capsys):
    doc = base_doc(returns={"r1": {"sends": [{"to": "r2"}]}, "r2": {"sends": [{"to": "r1"}]}})
    doc["tracks"]["a"]["sends"] = [{"to": "r1"}]
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_loop_through_a_sidechain(tmp_path, capsys):
    # bus b feeds bus c, and b's compressor is keyed from c
    doc = base_doc(buses={"b": {"out": "c", "chain": [{**COMP, "sidechain": {"from": "c"}}]}, "c": {}})
    doc["tracks"]["a"]["out"] = "b"
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_track_keyed_by_its_own_bus(tmp_path, capsys):
    doc = base_doc(buses={"g": {}})
    doc["tracks"]["a"].update(out="g", chain=[{**COMP, "sidechain": {"from": "g"}}])
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_sidechain_on_the_master_chain(tmp_path, capsys):
    doc = base_doc(master={"chain": [{**COMP, "sidechain": {"from": "a"}}]})
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_send_to_itself(tmp_path, capsys):
    doc = base_doc(returns={"r": {"sends": [{"to": "r"}]}})
    doc["tracks"]["a"]["sends"] = [{"to": "r"}]
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


# --------------------------------------------------------------------------- channels, extensions


def test_width_on_a_mono_track(tmp_path, capsys):
    doc = base_doc()
    doc["tracks"]["a"]["chain"] = [{"type": "width", "width": 1.5}]
    assert_refused(capsys, make_song(tmp_path, doc, channels=1))


@pytest.mark.parametrize("path", ["out/x.txt", "out/x.mp4", "out/x.wav.bak"])
def test_bad_output_extension(tmp_path, capsys, path):
    doc = base_doc(outputs={"mix": {"path": path, "bit_depth": "32f"}})
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_format_that_cannot_hold_the_bit_depth(tmp_path, capsys):
    doc = base_doc(outputs={"mix": {"path": "out/x.mp3", "bit_depth": "32f"}})
    assert_refused(capsys, make_song(tmp_path, doc))


def test_an_empty_session(tmp_path, capsys):
    doc = base_doc()
    doc["tracks"] = {}
    assert_refused(capsys, make_song(tmp_path, doc))


# --------------------------------------------------------------------------- problems only a variant brings


def test_variant_set_making_a_loop(tmp_path, capsys):
    doc = base_doc(buses={"x": {}, "y": {"out": "x"}}, variants={"v": {"set": {"buses.x.out": "y"}}})
    doc["tracks"]["a"]["out"] = "y"
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,), variant="v")


def test_variant_output_with_an_unknown_tap(tmp_path, capsys):
    doc = base_doc(variants={"v": {"outputs": {"o": {"path": "out/o.wav", "tap": "bus:nope"}}}})
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,), variant="v")


def test_variant_with_an_unknown_sidechain(tmp_path, capsys):
    doc = base_doc(variants={"v": {"set": {"tracks.b.chain": [{**COMP, "sidechain": {"from": "nope"}}]}}})
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,), variant="v")


def test_variant_sample_rate_under_an_eq_band(tmp_path, capsys):
    doc = base_doc(variants={"v": {"set": {"sample_rate": 16000}}})
    doc["tracks"]["a"]["chain"] = [{"type": "eq", "bands": [{"type": "bell", "freq_hz": 10000, "gain_db": 3}]}]
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,), variant="v")


def test_variant_adding_master_source_beside_tracks(tmp_path, capsys):
    doc = base_doc(variants={"v": {"set": {"master.source": "a.wav"}}})
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,), variant="v")


def test_variant_muting_an_unknown_node(tmp_path, capsys):
    doc = base_doc(variants={"v": {"mute": ["nope"]}})
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,), variant="v")


def test_variant_set_on_an_unknown_path(tmp_path, capsys):
    doc = base_doc(variants={"v": {"set": {"tracks.nope.gain_db": 1.0}}})
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,), variant="v")


# --------------------------------------------------------------------------- Nyquist of a deliverable


def _deliverable_44k(doc):
    doc["outputs"] = {"mix": {"path": "out/mix.wav", "bit_depth": "32f"},
                      "cd": {"path": "out/cd.wav", "sample_rate": 44100, "bit_depth": 16}}
    return doc


def test_master_eq_band_above_the_nyquist_of_a_44k_output(tmp_path, capsys):
    doc = _deliverable_44k(base_doc(master={"chain": [
        {"type": "eq", "bands": [{"type": "bell", "freq_hz": 22500, "gain_db": 3}]}]}))
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_master_multiband_crossover_above_the_nyquist_of_a_44k_output(tmp_path, capsys):
    doc = _deliverable_44k(base_doc(master={"chain": [
        {"type": "multiband", "crossovers_hz": [1000, 22500], "bands": [{}, {}, {}]}]}))
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_master_deesser_above_the_nyquist_of_an_8k_output(tmp_path, capsys):
    doc = base_doc(master={"chain": [{"type": "deesser", "freq_hz": 6500}]})
    doc["outputs"]["phone"] = {"path": "out/phone.wav", "sample_rate": 8000, "bit_depth": 16}
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_track_eq_band_above_the_session_nyquist(tmp_path, capsys):
    doc = base_doc()
    doc["tracks"]["a"]["chain"] = [{"type": "eq", "bands": [{"type": "highshelf", "freq_hz": 30000, "gain_db": 3}]}]
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_multiband_crossover_above_the_session_nyquist(tmp_path, capsys):
    doc = base_doc()
    doc["tracks"]["a"]["chain"] = [{"type": "multiband", "crossovers_hz": [30000], "bands": [{}, {}]}]
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


# --------------------------------------------------------------------------- media and IRs


def _broken_media(song, name: str, kind: str):
    p = song.dir / "stems" / name if not name.startswith("/") else song.dir / name[1:]
    p.parent.mkdir(parents=True, exist_ok=True)
    if kind == "missing":
        p.unlink(missing_ok=True)
    elif kind == "truncated":
        write_wav(p, frames=FRAMES, seed=3)
        p.write_bytes(p.read_bytes()[:30])
    elif kind == "zero-frames":
        write_wav(p, frames=0)
    elif kind == "text":
        p.write_text("this is not audio, only text pretending to be a WAV file\n" * 20)
    elif kind == "3ch":
        write_wav(p, channels=3)
    elif kind == "9ch":
        write_wav(p, channels=9)
    else:
        raise AssertionError(kind)


MEDIA = ["missing", "truncated", "zero-frames", "text", "3ch", "9ch"]


@pytest.mark.parametrize("kind", MEDIA)
def test_broken_source(tmp_path, capsys, kind):
    song = make_song(tmp_path)
    _broken_media(song, "a.wav", kind)
    assert_refused(capsys, song, names=("a.wav",))


@pytest.mark.parametrize("kind", MEDIA)
def test_broken_convolution_ir(tmp_path, capsys, kind):
    doc = base_doc(returns={"verb": {"chain": [{"type": "reverb", "ir": "irs/ir.wav", "mix": 1.0}]}})
    doc["tracks"]["a"]["sends"] = [{"to": "verb", "level_db": -6}]
    song = make_song(tmp_path, doc)
    _broken_media(song, "/irs/ir.wav", kind)
    assert_refused(capsys, song, names=("ir.wav",))


@pytest.mark.parametrize("kind", ["missing", "text", "zero-frames"])
def test_broken_master_source(tmp_path, capsys, kind):
    doc = base_doc(master={"source": "a.wav"})
    doc["tracks"] = {}
    song = make_song(tmp_path, doc)
    _broken_media(song, "a.wav", kind)
    assert_refused(capsys, song, names=("a.wav",))


def test_broken_ir_only_in_a_variant(tmp_path, capsys):
    doc = base_doc(returns={"verb": {"chain": [{"type": "reverb", "decay_s": 0.3, "mix": 1.0}]}},
                   variants={"v": {"set": {"returns.verb.chain": [{"type": "reverb", "ir": "nope.wav", "mix": 1.0}]}}})
    doc["tracks"]["a"]["sends"] = [{"to": "verb", "level_db": -6}]
    assert_refused(capsys, make_song(tmp_path, doc), variant="v", names=("nope.wav", "song.yaml"))

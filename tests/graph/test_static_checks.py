"""Every refusal of the render that needs no samples is the static check's: ``mixgraph validate``
refuses the session at the YAML line that causes it (exit 2 for the session, exit 1 for its
media). Each case here validated and then failed (or wrote NaN) in the render before."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from mixgraph.cli import main
from mixgraph.errors import MediaError, SessionInvalid
from mixgraph.graph.compile import compile_session
from mixgraph.session.models import MAX_TIMELINE_S, Session

SR = 48000
HEAD = "mixgraph: 1\nname: song\ntail_s: 0\n"
TRACK = "tracks:\n  a: {source: st.wav}\n"


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(1)
    sf.write(tmp_path / "st.wav", 0.1 * rng.standard_normal((SR, 2)), SR)
    sf.write(tmp_path / "mono.wav", 0.1 * rng.standard_normal((SR, 1)), SR)
    return tmp_path


def validate(capsys, folder, text: str):
    path = folder / "s.yaml"
    path.write_text(text)
    code = main(["validate", "--format", "json", str(path)])
    report = json.loads(capsys.readouterr().out)[0]
    return code, report


def at(text: str, needle: str) -> tuple[int, int]:
    """1-based (line, col) of ``needle`` in ``text``."""
    i = text.index(needle)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


def refused(capsys, folder, text: str, code: int, needle: str, path: str) -> dict:
    """The one diagnostic of a refused session, checked at ``needle``'s line and column."""
    got, report = validate(capsys, folder, text)
    assert got == code, report
    (d,) = report["diagnostics"]
    assert ((d["line"], d["col"]), d["path"]) == (at(text, needle), path), d
    return d


def session(**body) -> Session:
    return Session.model_validate({"mixgraph": 1, "name": "g", **body})


# --------------------------------------------------------------------------- 1. master key


def test_a_sidechain_key_on_the_master_chain_is_refused(capsys, folder):
    text = HEAD + TRACK + "master:\n  chain:\n    - {type: compressor, sidechain: {from: a}}\n"
    d = refused(capsys, folder, text, 2, "a}}", "master.chain[0].sidechain.from")
    assert d["code"] == "graph.master-key" and "cannot take a sidechain key" in d["message"]


# --------------------------------------------------------------------------- 2. channels


def test_width_on_a_mono_source_is_refused_at_the_processor(capsys, folder):
    text = HEAD + "tracks:\n  v:\n    source: mono.wav\n    chain:\n      - {type: width, width: 1.5}\n"
    d = refused(capsys, folder, text, 2, "width, width", "tracks.v.chain[0].type")
    assert d["message"] == "width needs 2 channel(s), but the signal here has 1."


def test_width_after_a_pan_on_a_mono_source_is_fine(capsys, folder):
    text = HEAD + ("tracks:\n  v:\n    source: mono.wav\n    chain:\n      - {type: pan, pan: 0.2}\n"
                   "      - {type: width, width: 1.5}\n")
    assert validate(capsys, folder, text)[0] == 0


def test_one_sided_polarity_on_a_mono_signal_is_a_warning(capsys, folder):
    text = HEAD + "tracks:\n  v:\n    source: mono.wav\n    chain: [{type: polarity, channels: left}]\n"
    code, report = validate(capsys, folder, text)
    assert code == 0 and any("polarity 'left' inverts all of it" in w for w in report["warnings"])


def test_width_is_the_only_kind_that_refuses_mono():
    # the compiler reads the DSP's declaration; if another kind starts refusing mono it is caught too
    from mixgraph.dsp.registry import _REGISTRY, processor_class

    assert [k for k in sorted(_REGISTRY) if 1 not in processor_class(k).accepts_channels] == ["width"]


# --------------------------------------------------------------------------- 3. Nyquist

MASTERED_AT_44K = "outputs:\n  m: {path: out/m.wav}\n  cd: {path: out/cd.wav, sample_rate: 44100, bit_depth: 16}\n"


def test_a_band_above_a_master_outputs_nyquist_is_refused_naming_the_output(capsys, folder):
    text = HEAD + TRACK + ("master:\n  chain:\n    - {type: eq, bands: [{type: bell, freq_hz: 22500, gain_db: 3}]}\n"
                           + MASTERED_AT_44K)
    d = refused(capsys, folder, text, 2, "22500", "master.chain[0].bands[0].freq_hz")
    assert d["message"] == ("22500 Hz is not below Nyquist (22050 Hz) at 44100 Hz, the rate output 'cd' is "
                            "mastered at.")
    assert d["code"] == "graph.nyquist"


def test_the_band_the_cd_output_refuses_is_an_unstable_filter_at_44k():
    # why: the RBJ bell designed above Nyquist has a pole outside the unit circle (the render's NaN;
    # the matched design's minimax fit may find a stable biquad there, but the band means nothing
    # at that rate and is refused whatever its design)
    from mixgraph.dsp.biquad import band_sos

    band = {"type": "bell", "freq_hz": 22500.0, "gain_db": 3.0, "q": 1.0, "design": "cookbook"}
    sos = band_sos(band, 44100)
    assert np.max(np.abs(np.roots(sos[0, 3:]))) > 1.0
    sos = band_sos(band, 48000)
    assert np.max(np.abs(np.roots(sos[0, 3:]))) < 1.0


@pytest.mark.parametrize("proc, needle, path", [
    ("{type: multiband, crossovers_hz: [200, 22100], bands: [{}, {}, {}]}", "22100", "crossovers_hz[1]"),
    ("{type: deesser, freq_hz: 23000}", "23000", "freq_hz"),
    ("{type: delay, time_ms: 100, highcut_hz: 23000}", "23000", "highcut_hz"),
    ("{type: eq, bands: [{type: lowpass, freq_hz: 23000}]}", "23000", "bands[0].freq_hz"),
])
def test_every_master_frequency_is_checked_at_every_master_rate(capsys, folder, proc, needle, path):
    text = HEAD + TRACK + f"master:\n  chain:\n    - {proc}\n" + MASTERED_AT_44K
    d = refused(capsys, folder, text, 2, needle, f"master.chain[0].{path}")
    assert "44100 Hz, the rate output 'cd' is mastered at" in d["message"]


def test_an_automated_master_frequency_is_checked_at_every_master_rate(capsys, folder):
    text = HEAD + TRACK + ("master:\n  chain:\n    - {id: tone, type: eq, bands: [{type: bell, freq_hz: 1000, "
                           "gain_db: 3}]}\n  automation:\n    tone.bands.0.freq_hz: [[0, 1000], [1, 22400]]\n"
                           + MASTERED_AT_44K)
    d = refused(capsys, folder, text, 2, "[1, 22400]", "master.automation.tone.bands.0.freq_hz[1]")
    assert "22400 Hz is not below Nyquist (22050 Hz)" in d["message"]


def test_a_master_band_under_the_session_nyquist_is_fine_with_no_lower_master_output(capsys, folder):
    # a premaster or a stem at 44.1 kHz is resampled after the master chain: it does not constrain it
    text = HEAD + TRACK + ("master:\n  chain:\n    - {type: eq, bands: [{type: bell, freq_hz: 22500, gain_db: 3}]}\n"
                           "outputs:\n  m: {path: out/m.wav}\n"
                           "  mix: {path: out/mix.wav, tap: premaster, sample_rate: 44100}\n"
                           "  stem: {path: out/a.wav, tap: 'track:a', sample_rate: 44100}\n")
    assert validate(capsys, folder, text)[0] == 0


def test_a_variants_output_at_a_lower_rate_is_refused_at_the_variant(capsys, folder):
    text = HEAD + TRACK + ("master:\n  chain:\n    - {type: eq, bands: [{type: bell, freq_hz: 22500, gain_db: 3}]}\n"
                           "variants:\n  cd:\n    outputs:\n      disc: {path: out/cd.wav, sample_rate: 44100}\n")
    code, report = validate(capsys, folder, text)
    assert code == 2
    (d,) = report["diagnostics"]
    assert report["message"].startswith("variant 'cd': ")
    assert "the rate output 'disc' is mastered at" in d["message"]
    assert d["path"] == "master.chain[0].bands[0].freq_hz" and (d["line"], d["col"]) == at(text, "22500")


def test_a_frequency_a_variant_sets_is_refused_at_the_variants_line(capsys, folder):
    text = HEAD + TRACK + ("master:\n  chain:\n    - {type: eq, bands: [{type: bell, freq_hz: 1000, gain_db: 3}]}\n"
                           + MASTERED_AT_44K +
                           "variants:\n  bright:\n    set:\n      master.chain[0].bands[0].freq_hz: 22300\n")
    code, report = validate(capsys, folder, text)
    assert code == 2
    (d,) = report["diagnostics"]
    assert "22300 Hz is not below Nyquist (22050 Hz)" in d["message"]
    assert (d["line"], d["col"]) == at(text, "22300")


@pytest.mark.parametrize("proc, path", [
    ({"type": "eq", "bands": [{"type": "highshelf", "freq_hz": 22100, "gain_db": 2}]}, "bands[0].freq_hz"),
    ({"type": "compressor", "sidechain": {"from": "k", "highpass_hz": 22100}}, "sidechain.highpass_hz"),
])
def test_track_frequencies_are_checked_at_the_session_rate_by_the_compiler(proc, path):
    # the compiler's own check (a session object skips the session layer's)
    s = session(sample_rate=44100, tracks={"k": {"source": "k.wav"}, "t": {"source": "t.wav", "chain": [proc]}})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s)
    (d,) = exc.value.diagnostics
    assert (d.path, d.code) == (f"tracks.t.chain[0].{path}", "graph.nyquist")
    assert d.message == "22100 Hz is not below Nyquist (22050 Hz) at the session's sample_rate 44100 Hz."


# --------------------------------------------------------------------------- 4. media


def test_a_trim_past_the_files_end_is_a_media_error_at_the_trim(capsys, folder):
    text = HEAD + "tracks:\n  a: {source: st.wav, trim: {start_s: 5}}\n"
    d = refused(capsys, folder, text, 1, "5}}", "tracks.a.trim.start_s")
    assert d["message"] == "The trim leaves no audio: it starts at 5 s, and the file lasts 1 s."


def test_a_track_ending_after_the_timeline_bound_is_a_media_error(capsys, folder):
    start = MAX_TIMELINE_S - 0.5  # the file lasts 1 s: it would end half a second past the bound
    text = HEAD + f"tracks:\n  a: {{source: st.wav, start_s: {start}}}\n"
    d = refused(capsys, folder, text, 1, str(start), "tracks.a.start_s")
    assert d["message"].startswith(f"This track would end at {MAX_TIMELINE_S + 0.5:g} s")
    ok = HEAD + f"tracks:\n  a: {{source: st.wav, start_s: {MAX_TIMELINE_S - 1}}}\n"
    assert validate(capsys, folder, ok)[0] == 0


def test_a_60_s_ir_does_not_count_against_the_timeline(capsys, folder):
    sf.write(folder / "hall.wav", np.zeros((60 * 8000, 2)), 8000, subtype="PCM_16")
    text = HEAD + (f"tracks:\n  a: {{source: st.wav, start_s: {MAX_TIMELINE_S - 2}, sends: [{{to: hall}}]}}\n"
                   "returns:\n  hall: {chain: [{type: reverb, ir: hall.wav, mix: 1.0}]}\n")
    assert validate(capsys, folder, text)[0] == 0


def test_more_than_two_channels_are_refused_for_sources_and_irs(capsys, folder):
    sf.write(folder / "surround.wav", np.zeros((SR, 3)), SR)
    text = HEAD + "tracks:\n  a: {source: surround.wav}\n"
    d = refused(capsys, folder, text, 1, "surround.wav", "tracks.a.source")
    assert "3 channels" in d["message"]
    text = HEAD + TRACK + "master:\n  chain: [{type: reverb, ir: surround.wav}]\n"
    refused(capsys, folder, text, 1, "surround.wav", "master.chain[0].ir")


class Info:
    """A media header as audio.probe.MediaInfo gives it (the compiler reads only these)."""

    def __init__(self, channels: int, sample_rate: int, frames: int):
        self.channels, self.sample_rate, self.frames = channels, sample_rate, frames
        self.duration_s = frames / sample_rate


def test_the_compilers_media_checks_on_headers(tmp_path):
    # what the probe lets through is checked by the compiler itself: a day-long mixdown, a
    # three-channel IR, a source that is shorter than one sample at the session's rate
    s = session(master={"source": "mix.wav"})
    media = {str(tmp_path / "mix.wav"): Info(2, 8000, (MAX_TIMELINE_S + 1) * 8000)}
    with pytest.raises(MediaError) as exc:
        compile_session(s, session_dir=tmp_path, media=media)
    assert [(d.path, d.code) for d in exc.value.diagnostics] == [("master.source", "media.timeline")]
    s = session(tracks={"t": {"source": "t.wav", "chain": [{"type": "reverb", "ir": "ir.wav"}]}})
    media = {str(tmp_path / "t.wav"): Info(1, 48000, 4800), str(tmp_path / "ir.wav"): Info(3, 48000, 480)}
    with pytest.raises(MediaError) as exc:
        compile_session(s, session_dir=tmp_path, media=media)
    assert [(d.path, d.code) for d in exc.value.diagnostics] == [("tracks.t.chain[0].ir", "media.channels")]
    s = session(sample_rate=8000, tracks={"t": {"source": "t.wav"}})
    with pytest.raises(MediaError) as exc:
        compile_session(s, session_dir=tmp_path, media={str(tmp_path / "t.wav"): Info(1, 96000, 1)})
    assert "shorter than one sample" in exc.value.diagnostics[0].message


# --------------------------------------------------------------------------- 5. master source, variants


def test_master_source_beside_tracks_is_refused_by_the_compiler_too():
    s = session(tracks={"t": {"source": "t.wav"}}, master={"source": "mix.wav"})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s)
    assert [(d.path, d.code) for d in exc.value.diagnostics] == [("master.source", "graph.master-source")]


def test_an_unknown_tap_a_variant_brings_is_refused_at_the_variant(capsys, folder):
    text = HEAD + TRACK + "variants:\n  stems:\n    outputs:\n      s: {path: out/s.wav, tap: 'track:b'}\n"
    d = refused(capsys, folder, text, 2, "'track:b'", "variants.stems.outputs.s.tap")
    assert "names no node" in d["message"]


def test_an_unknown_sidechain_source_a_variant_sets_is_refused_at_the_variant(capsys, folder):
    text = HEAD + ("tracks:\n  a: {source: st.wav}\n  b:\n    source: st.wav\n    chain:\n"
                   "      - {type: compressor, sidechain: {from: a}}\n"
                   "variants:\n  duck:\n    set:\n      tracks.b.chain[0].sidechain.from: kick\n")
    code, report = validate(capsys, folder, text)
    assert code == 2
    (d,) = report["diagnostics"]
    assert "Unknown sidechain source 'kick'" in d["message"] and (d["line"], d["col"]) == at(text, "kick")


def test_a_master_key_a_variant_sets_is_refused(capsys, folder):
    text = HEAD + TRACK + ("master:\n  chain:\n    - {type: compressor}\n"
                           "variants:\n  duck:\n    set:\n      master.chain[0].sidechain: {from: a}\n")
    code, report = validate(capsys, folder, text)
    assert code == 2 and report["message"].startswith("variant 'duck': ")
    (d,) = report["diagnostics"]
    assert d["code"] == "graph.master-key" and (d["line"], d["col"]) == at(text, "{from: a}\n")


# --------------------------------------------------------------------------- 6. output formats


def test_flac_at_32f_from_the_extension_is_refused(capsys, folder):
    text = HEAD + TRACK + "outputs:\n  m: {path: out/m.flac, bit_depth: 32f}\n"
    d = refused(capsys, folder, text, 2, "32f", "outputs.m.bit_depth")
    assert d["message"] == "FLAC has no 32-bit float format."


def test_mp3_at_a_rate_the_encoder_refuses_is_refused(capsys, folder):
    text = HEAD.replace("tail_s: 0", "sample_rate: 96000") + TRACK + "outputs:\n  m: {path: out/m.mp3}\n"
    d = refused(capsys, folder, text, 2, "out/m.mp3", "outputs.m.path")
    assert d["message"] == "MP3 cannot be written at 96000 Hz (the session's sample_rate)."
    ok = HEAD + TRACK + "outputs:\n  m: {path: out/m.mp3, sample_rate: 44100}\n"
    assert validate(capsys, folder, ok)[0] == 0


def test_ogg_above_200_khz_is_refused(capsys, folder):
    # libsndfile 1.2 crashes the process (SIGSEGV) opening such a file
    text = HEAD + TRACK + "outputs:\n  m: {path: out/m.ogg, sample_rate: 384000}\n"
    d = refused(capsys, folder, text, 2, "384000", "outputs.m.sample_rate")
    assert d["message"] == "Ogg Vorbis cannot be written at 384000 Hz; at most 200000 Hz."


def test_a_session_with_nothing_to_render_is_refused(capsys, folder):
    """The render refuses it (nothing to render), so validate does too."""
    code, report = validate(capsys, folder, HEAD)
    assert code == 2 and any("nothing to render" in d["message"] for d in report["diagnostics"])

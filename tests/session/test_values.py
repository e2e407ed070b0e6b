"""The session layer refuses, at load time and at the offending line, what makes no sense:
non-finite numbers, timelines beyond a day, filter and tempo edges, lanes the DSP ignores,
output paths outside the session folder, templates outside the song folder, files that are
not regular files or too large, and nesting that would exhaust the parser."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mixgraph.cli import main
from mixgraph.session.loader import MAX_BYTES
from mixgraph.session.models import MAX_TIMELINE_S, PROCESSOR_MODELS, Session
from mixgraph.session.validate import automatable_params, check_expanded
from tests.conftest import REPO

HEAD = "mixgraph: 1\nname: song\n"


def validate(capsys, tmp_path, text: str, name: str = "s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    code = main(["validate", "--format", "json", str(path)])
    out = capsys.readouterr().out
    return code, json.loads(out)[0]["diagnostics"]


def kick(tmp_path) -> str:
    """A real 0.1 s source in ``tmp_path`` and the track that plays it: a session the static check
    accepts needs something to render."""
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "k.wav", np.zeros((4800, 2)), 48000, subtype="PCM_16")
    return "tracks:\n  kick: {source: k.wav}\n"


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """1-based (line, col) of the nth occurrence of ``needle`` in ``text``: where a diagnostic must point."""
    i = -1
    for _ in range(nth):
        i = text.index(needle, i + 1)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


def first(capsys, tmp_path, text: str):
    code, diags = validate(capsys, tmp_path, text)
    assert diags, "expected a diagnostic"
    d = diags[0]
    return code, d["line"], d["col"], d["path"], d["message"] + " " + (d["hint"] or "")


# --------------------------------------------------------------------------- 1. non-finite numbers


@pytest.mark.parametrize("bad", [".nan", ".inf", "-.inf", ".NaN", "+.inf"])
@pytest.mark.parametrize("where, text, path", [
    ("track fader", "tracks:\n  kick: {source: k.wav, gain_db: X}\n", "tracks.kick.gain_db"),
    ("eq q", "tracks:\n  kick:\n    source: k.wav\n    chain: [{type: eq, bands: [{type: bell, freq_hz: 100, "
     "gain_db: 1, q: X}]}]\n", "tracks.kick.chain[0].bands[0].q"),
    ("breakpoint time", "tracks:\n  kick: {source: k.wav, automation: {gain_db: [[X, 1]]}}\n",
     "tracks.kick.automation.gain_db[0][0]"),
    ("breakpoint value", "tracks:\n  kick: {source: k.wav, automation: {gain_db: [[0, X]]}}\n",
     "tracks.kick.automation.gain_db[0][1]"),
    ("trim end", "tracks:\n  kick: {source: k.wav, trim: {end_s: X}}\n", "tracks.kick.trim.end_s"),
    ("sidechain", "tracks:\n  kick: {source: k.wav}\n  bass:\n    source: k.wav\n    chain: [{type: compressor, "
     "sidechain: {from: kick, highpass_hz: X}}]\n", "tracks.bass.chain[0].sidechain.highpass_hz"),
    ("loudness", "master: {loudness: {target_lufs: X}}\n", "master.loudness.target_lufs"),
    ("tail", "tail_s: X\n", "tail_s"),
    ("tempo", "tempo_bpm: X\n", "tempo_bpm"),
])
def test_non_finite_numbers_are_refused_at_their_line(capsys, tmp_path, bad, where, text, path):
    text = HEAD + text.replace("X", bad)
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl), p) == (2, at(text, bad), path), msg
    assert "finite" in msg or "'tail_s' must be 'auto'" in msg or "at least" in msg or "at most" in msg


def test_non_finite_message(capsys, tmp_path):
    _, _, _, _, msg = first(capsys, tmp_path, HEAD + "tracks:\n  kick: {source: k.wav, pan: .nan}\n")
    assert msg.strip() == "Pan must be a finite number (got nan)."


def test_huge_integer_is_a_diagnostic_not_an_overflow(capsys, tmp_path):
    text = HEAD + "sample_rate: 1" + "0" * 400 + "\n"
    code, line, col, path, msg = first(capsys, tmp_path, text)
    assert (code, (line, col), path) == (2, at(text, "10"), "sample_rate") and "at most 384000 (got 1e400)" in msg


# --------------------------------------------------------------------------- 2. timeline bounds


@pytest.mark.parametrize("text, needle, path, fragment", [
    ("tail_s: -1\n", "-1", "tail_s", "'tail_s' must be 'auto' or a number of seconds from 0 to 600"),
    ("tail_s: 601\n", "601", "tail_s", "from 0 to 600"),
    ("tracks:\n  kick: {source: k.wav, start_s: 86401}\n", "86401", "tracks.kick.start_s", "at most 86400"),
    ("tracks:\n  kick: {source: k.wav, trim: {start_s: 90000}}\n", "90000", "tracks.kick.trim.start_s",
     "at most 86400"),
    ("tracks:\n  kick: {source: k.wav, fade: {in_ms: 1.0e+9}}\n", "1.0e", "tracks.kick.fade.in_ms",
     "at most 8.64e+07"),
    ("tracks:\n  kick: {source: k.wav, start_s: 80000, trim: {start_s: 10, end_s: 7000}}\n", "80000",
     "tracks.kick.start_s", "end at 86990 s, after the 86400 s (24 h)"),
    ("tracks:\n  kick: {source: k.wav, automation: {gain_db: [[0, 0], [86401, 1]]}}\n", "[86401",
     "tracks.kick.automation.gain_db[1]", "at most 86400 s"),
    ("tracks:\n  kick: {source: k.wav, automation: {gain_db: [[-1, 0]]}}\n", "[-1",
     "tracks.kick.automation.gain_db[0]", ">= 0 and ascending"),
])
def test_timeline_bounds(capsys, tmp_path, text, needle, path, fragment):
    text = HEAD + text
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl), p) == (2, at(text, needle), path), msg
    assert fragment in msg


def test_timeline_limits_accept_their_edges(capsys, tmp_path):
    code, diags = validate(capsys, tmp_path, HEAD + "tail_s: 600\ntracks:\n  kick: {source: k.wav, start_s: 86000, "
                           "trim: {end_s: 400}, automation: {gain_db: [[0, 0], [86400, 1]]}}\n")
    assert [d for d in diags if d["code"] != "file.missing"] == []
    assert MAX_TIMELINE_S == 24 * 3600


# --------------------------------------------------------------------------- 3. floors


@pytest.mark.parametrize("text, needle, path, fragment", [
    ("chain: [{type: eq, bands: [{type: bell, freq_hz: 100, gain_db: 1, q: 0.05}]}]", "0.05",
     "tracks.kick.chain[0].bands[0].q", "Q must be at least 0.1 (got 0.05)"),
    ("chain: [{type: eq, bands: [{type: highpass, freq_hz: 0.5}]}]", "0.5",
     "tracks.kick.chain[0].bands[0].freq_hz", "at least 1 (got 0.5)"),
    ("chain: [{type: deesser, q: 0.01}]", "0.01", "tracks.kick.chain[0].q", "at least 0.1"),
    ("chain: [{type: delay, note: 1/4, tempo_bpm: 5}]", "5}", "tracks.kick.chain[0].tempo_bpm", "at least 20"),
    ("chain: [{type: delay, note: 1/1d, tempo_bpm: 30}]", "{type: delay", "tracks.kick.chain[0]",
     "The note '1/1d' at 30 BPM lasts 12 s, longer than the 10 s"),
    ("chain: [{type: multiband, crossovers_hz: [0.5], bands: [{}, {}]}]", "0.5",
     "tracks.kick.chain[0].crossovers_hz[0]", "at least 1"),
    # automated values keep the static range: q toward 0 is refused at its breakpoint
    ("chain: [{id: eq1, type: eq, bands: [{type: bell, freq_hz: 100, gain_db: 1}]}]\n"
     "    automation: {eq1.bands.0.q: [[0, 1], [2, 0]]}", "[2, 0]", "tracks.kick.automation.eq1.bands.0.q[1]",
     "Value 0 is outside the parameter's range 0.1..40"),
    ("chain: [{id: eq1, type: eq, bands: [{type: lowpass, freq_hz: 1000}]}]\n"
     "    automation: {eq1.bands.0.freq_hz: [[0, 1000], [1, 24000]]}", "[1, 24000]",
     "tracks.kick.automation.eq1.bands.0.freq_hz[1]", "range 1..24000 (exclusive)"),
    ("chain: [{id: c, type: compressor}]\n    automation: {c.mix: [[0, 1.5]]}", "[0, 1.5]",
     "tracks.kick.automation.c.mix[0]", "range 0..1"),
])
def test_floors_and_automated_ranges(capsys, tmp_path, text, needle, path, fragment):
    text = HEAD + "tracks:\n  kick:\n    source: k.wav\n    " + text + "\n"
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl), p) == (2, at(text, needle), path), msg
    assert fragment in msg


def test_session_tempo_too_slow_for_a_note_is_refused_at_the_note(capsys, tmp_path):
    ok = HEAD + "tempo_bpm: 25\ntracks:\n  kick:\n    source: k.wav\n    chain: [{type: delay, note: 1/1}]\n"
    code, diags = validate(capsys, tmp_path, ok)  # 9.6 s: allowed
    assert [d["code"] for d in diags] == ["file.missing"]
    text = ok.replace("25", "20")
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl), p) == (2, at(text, "1/1"), "tracks.kick.chain[0].note"), msg
    assert "The note '1/1' at 20 BPM lasts 12 s, longer than the 10 s a delay may be." in msg


# --------------------------------------------------------------------------- 4. automatable parameters

#: what the DSP reads per frame: each processor's _process (mixgraph/dsp/*.py), read by hand
DSP_READS = {
    "gain": ["gain_db"], "pan": ["pan"], "polarity": [], "width": ["width"],
    "compressor": ["threshold_db", "ratio", "attack_ms", "release_ms", "knee_db", "makeup_db", "mix"],
    "gate": ["threshold_db", "range_db", "ratio", "attack_ms", "hold_ms", "release_ms"], "deesser": ["freq_hz", "q", "threshold_db", "ratio", "range_db"],
    "saturation": ["drive_db", "output_db", "mix"], "delay": ["time_ms", "feedback", "mix", "highcut_hz"],
    "reverb": ["decay_s", "predelay_ms", "damping", "mix"],
    "chorus": ["rate_hz", "depth_ms", "mix"],
    "transient": ["attack_db", "sustain_db", "mix"],
    "multiband": [], "limiter": [], "clipper": ["drive_db"],
}


def test_models_mark_what_the_dsp_reads():
    from mixgraph.dsp.registry import processor_class

    for kind, model in PROCESSOR_MODELS.items():
        if kind == "eq":
            continue
        proc = model.model_validate({"type": kind, **({"time_ms": 100.0} if kind == "delay" else {}),
                                     **({"crossovers_hz": [200.0], "bands": [{}, {}]} if kind == "multiband" else {})})
        assert list(automatable_params(proc)) == DSP_READS[kind], kind
        assert sorted(processor_class(kind).automatable) == sorted(DSP_READS[kind]), kind


def _instance(kind: str, extra: dict):
    from mixgraph.dsp.registry import create
    from mixgraph.graph.compile import step_params

    proc = PROCESSOR_MODELS[kind].model_validate({"type": kind, **extra})
    p = create(kind, **step_params(proc))
    p.prepare(48000, 2, 4096)
    return proc, p


# the gate's hold shorter than the signal's 33 ms parts, so its threshold decides within them; a
# transient shaper at 0 dB is a null whatever its mix
EXTRA = {"delay": {"time_ms": 10.0}, "gate": {"hold_ms": 5.0}, "transient": {"attack_db": 6.0, "sustain_db": -4.0}, "multiband": {"crossovers_hz": [500.0], "bands": [{}, {}]},
         "eq": {"bands": [{"type": "bell", "freq_hz": 1000.0, "gain_db": 3.0},
                          {"type": "highpass", "freq_hz": 80.0}, {"type": "notch", "freq_hz": 3000.0}]}}


@pytest.mark.parametrize("kind", sorted(PROCESSOR_MODELS))
def test_a_marked_parameter_changes_the_output_and_an_unmarked_one_does_not(kind):
    """The independent check of the list: a lane on a marked parameter changes the samples, a lane
    on any other numeric parameter leaves them bit for bit (so refusing it loses nothing)."""
    import numpy as np

    rng = np.random.default_rng(1)
    n = 4800
    # loud, then just under the gate's threshold (ratio and threshold matter), then far under (range)
    x = rng.standard_normal((2, n)) * np.repeat([0.3, 10 ** (-65 / 20), 10 ** (-105 / 20)], n // 3)
    if kind == "gate":  # a drop and a rise: the gate's hold and attack act
        x = rng.standard_normal((2, n)) * np.repeat([0.3, 10 ** (-65 / 20), 0.3], n // 3)
    proc, _ = _instance(kind, EXTRA.get(kind, {}))
    marked = automatable_params(proc)
    fields = {}
    for name, f in type(proc).model_fields.items():
        if f.annotation in (float, float | None) and name not in ("id",):
            fields[name] = f
    for i, band in enumerate(getattr(proc, "bands", []) if kind == "eq" else []):
        for name, f in type(band).model_fields.items():
            if f.annotation is float:
                fields[f"bands.{i}.{name}"] = f
    assert set(marked) <= set(fields)
    for name in fields:
        current = proc
        for part in name.split("."):
            current = current[int(part)] if part.isdigit() else getattr(current, part)
        base = float(current) if current is not None else 100.0
        alt = base * 1.5 + 3.0  # inside the range for every marked parameter but mix/pan/width
        if name.endswith(("mix", "pan")):
            alt = 0.5 if base != 0.5 else 0.25
        if name.endswith("width"):
            alt = 1.5
        if name.endswith(("threshold_db",)):
            alt = base / 2
        _, p1 = _instance(kind, EXTRA.get(kind, {}))
        _, p2 = _instance(kind, EXTRA.get(kind, {}))
        y1 = p1.process(x.copy())
        y2 = p2.process(x.copy(), params={name: np.full(n, alt)})
        if name in marked:
            assert not np.array_equal(y1, y2), (kind, name)
        else:
            assert np.array_equal(y1, y2), (kind, name)


@pytest.mark.parametrize("text, path, fragment", [
    ("    chain: [{id: d, type: delay, time_ms: 100}]\n    automation: {d.right_time_ms: [[0, 50]]}\n",
     "tracks.kick.automation.d.right_time_ms",
     "'right_time_ms' is not an automatable parameter of delay 'd' (automatable: time_ms, feedback, mix, "
     "highcut_hz)"),
    ("    chain: [{id: lim, type: limiter}]\n    automation: {lim.lookahead_ms: [[0, 2], [1, 8]]}\n",
     "tracks.kick.automation.lim.lookahead_ms",
     "'lookahead_ms' is not an automatable parameter of limiter 'lim' (a limiter has no automatable parameters): "
     "it sets the processor's latency"),
    ("    chain: [{id: lim, type: limiter}]\n    automation: {lim.ceiling_dbtp: [[0, -2]]}\n",
     "tracks.kick.automation.lim.ceiling_dbtp", "a limiter has no automatable parameters"),
    ("    chain: [{id: c, type: compressor}]\n    automation: {c.rms_ms: [[0, 5]]}\n",
     "tracks.kick.automation.c.rms_ms",
     "(automatable: threshold_db, ratio, attack_ms, release_ms, knee_db, makeup_db, mix)"),
    ("    chain: [{id: e, type: eq, bands: [{type: highpass, freq_hz: 80}]}]\n"
     "    automation: {e.bands.0.gain_db: [[0, 1]]}\n", "tracks.kick.automation.e.bands.0.gain_db",
     "(automatable: bands.0.freq_hz, bands.0.q)"),
    ("    chain: [{id: e, type: eq, bands: [{type: dynamic, freq_hz: 3000, gain_db: -6}]}]\n"
     "    automation: {e.bands.0.gain_db: [[0, 1]]}\n", "tracks.kick.automation.e.bands.0.gain_db",
     "(automatable: bands.0.threshold_db, bands.0.ratio)"),
    ("    automation: {width: [[0, 1]]}\n", "tracks.kick.automation.width",
     "Cannot automate 'width' on a track (automatable: gain_db, pan"),
])
def test_lanes_the_dsp_ignores_are_refused(capsys, tmp_path, text, path, fragment):
    text = HEAD + "tracks:\n  kick:\n    source: k.wav\n" + text
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl), p) == (2, at(text, path.rpartition("automation.")[2] + ":"), path), msg
    assert fragment in msg


def test_master_lanes(capsys, tmp_path):
    text = HEAD + "master:\n  automation: {pan: [[0, 1]]}\n"
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl), p) == (2, at(text, "pan"), "master.automation.pan") and "on the master (automatable: gain_db" in msg
    code, diags = validate(capsys, tmp_path, HEAD + kick(tmp_path) + "buses:\n  b: {automation: {width: "
                           "[[0, 1], [1, 2]], pan: [[0, -1]]}}\nmaster:\n  automation: {gain_db: [[0, -3]]}\n")
    assert (code, diags) == (0, [])


def test_schema_marks_automatable_fields():
    from mixgraph.session.schema import session_json_schema

    defs = session_json_schema()["$defs"]
    assert defs["CompressorProc"]["properties"]["threshold_db"]["automatable"] is True
    assert "automatable" not in defs["CompressorProc"]["properties"]["rms_ms"]
    assert defs["BellBand"]["properties"]["q"]["automatable"] is True
    assert defs["BellBand"]["properties"]["q"]["minimum"] == 0.1
    assert "automatable" not in defs["LimiterProc"]["properties"]["ceiling_dbtp"]


def test_a_variant_set_that_adds_a_lane_is_checked_at_its_line(capsys, tmp_path):
    text = HEAD + ("tracks:\n  kick:\n    source: k.wav\n    chain: [{id: c, type: compressor}]\n"
                   "variants:\n  v:\n    set:\n      tracks.kick.automation: {c.rms_ms: [[0, 50]]}\n")
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl)) == (2, at(text, "{c.rms_ms")), msg
    assert p == "variants.v.set.tracks.kick.automation"
    assert msg.startswith("With variant 'v': 'rms_ms' is not an automatable parameter of compressor 'c'")
    # a set that renames the automated processor leaves its lane dangling
    text = HEAD + ("tracks:\n  kick:\n    source: k.wav\n    chain: [{id: c, type: compressor}]\n"
                   "    automation: {c.ratio: [[0, 2]]}\nvariants:\n  v:\n    set:\n      tracks.kick.chain[0].id: d\n")
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl), p) == (2, at(text, "v:"), "variants.v"), msg
    assert "With variant 'v': No processor with id 'c' in this chain." in msg


def test_check_expanded_on_a_session_object():
    s = Session.model_validate({
        "mixgraph": 1, "name": "x",
        "tracks": {"kick": {"source": "k.wav", "chain": [{"type": "gate", "id": "g"}],
                            "automation": {"g.hysteresis_db": [[0.0, 5.0]], "g.ratio": [[0.0, 2.0]]}}},
        "outputs": {"o": {"path": "../out.wav"}},
    })
    got = [(d.path, d.line, d.message) for d in check_expanded(s)]
    assert got == [
        ("tracks.kick.automation.g.hysteresis_db", None,
         "'hysteresis_db' is not an automatable parameter of gate 'g' (automatable: threshold_db, range_db, "
         "ratio, attack_ms, hold_ms, release_ms)."),
        ("outputs.o.path", None, "The output path leaves the session folder ('..')."),
    ]


# --------------------------------------------------------------------------- 5. schema defaults


def test_ceiling_null_is_documented_as_what_it_does():
    from mixgraph.session.schema import session_json_schema
    from mixgraph.session.validate import resolved_loudness

    prop = session_json_schema()["$defs"]["Loudness"]["properties"]["ceiling_dbtp"]
    assert prop["default"] is None and "-1 dBTP without a preset" in prop["description"]
    from mixgraph.session.models import Loudness

    assert resolved_loudness(Loudness(target_lufs=-14.0)) == (-14.0, -1.0)
    assert resolved_loudness(Loudness(preset="club")) == (-9.0, -0.3)


# --------------------------------------------------------------------------- 6. output paths


BAD_PATHS = [
    ('"/tmp/x.wav"', "is absolute"),
    ('"C:/x.wav"', "is absolute"),
    ('"../x.wav"', "leaves the session folder"),
    ('"renders/../../x.wav"', "leaves the session folder"),
    ('"a\\0b.wav"', "control character (U+0000)"),
    ('"a\\tb.wav"', "control character (U+0009)"),
    ('"a\\x85b.wav"', "control character (U+0085)"),
    ('""', "is empty"),
    ('"."', "names a folder"),
    ('"renders/"', "names a folder"),
    ('"mix.txt"', "has '.txt'"),
    ('"renders/mix"', "has no extension"),
    ('"renders\\\\mix.wav"', "backslash"),
]


@pytest.mark.parametrize("value, fragment", BAD_PATHS)
def test_output_path_policy(capsys, tmp_path, value, fragment):
    text = HEAD + f"outputs:\n  main:\n    path: {value}\n"
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl), p) == (2, at(text, value), "outputs.main.path"), msg
    assert fragment in msg
    text = HEAD + f"variants:\n  loud:\n    outputs:\n      main:\n        path: {value}\n"
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl), p) == (2, at(text, value), "variants.loud.outputs.main.path"), msg
    assert fragment in msg


@pytest.mark.parametrize("value", ["renders/{name}{variant}.WAV", "a.aif", "b.oga", "c/d/e.flac", "mix.mp3",
                                   "./mix.ogg", "x.aiff"])
def test_output_paths_that_are_fine(capsys, tmp_path, value):
    code, diags = validate(capsys, tmp_path, HEAD + kick(tmp_path) + f"outputs:\n  main:\n    path: '{value}'\n")
    assert (code, diags) == (0, [])


def test_variant_output_tap_is_checked(capsys, tmp_path):
    text = HEAD + "variants:\n  v:\n    outputs:\n      main: {path: v.wav, tap: 'track:nope'}\n"
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl), p) == (2, at(text, "'track:nope'"), "variants.v.outputs.main.tap")
    assert "names no node" in msg


# --------------------------------------------------------------------------- 7. templates

SECRET = "hunter2-do-not-print"


def _run(args, cwd, timeout=120):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "mixgraph", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)  # the timeout only guards against a hang


@pytest.fixture
def song(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(f"template: x\nversion: 1\nbody: {SECRET}\n{SECRET}: [\n")
    folder = tmp_path / "song"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("ref, fragment", [
    ("/proc/self/environ", "is absolute"),
    ("{outside}/secret.yaml", "is absolute"),
    ("../outside/secret.yaml", "leaves the song folder ('..')"),
    ("./link.yaml", "resolves outside the song folder"),
    ("./linkdir/secret.yaml", "resolves outside the song folder"),
    ("./zero.yaml", "resolves outside the song folder"),
])
def test_templates_outside_the_song_folder_are_refused_without_their_content(song, ref, fragment):
    (song / "link.yaml").symlink_to(song.parent / "outside/secret.yaml")
    (song / "linkdir").symlink_to(song.parent / "outside")
    (song / "zero.yaml").symlink_to("/dev/zero")
    ref = ref.replace("{outside}", str(song.parent / "outside"))
    (song / "s.yaml").write_text(HEAD + f"use:\n  vox:\n    template: {ref}\n")
    for fmt in ("text", "json"):
        r = _run(["validate", "--format", fmt, "s.yaml"], song)
        assert r.returncode == 2, r.stderr
        assert SECRET not in r.stdout + r.stderr
        assert "Traceback" not in r.stderr
    d = json.loads(r.stdout)[0]["diagnostics"][0]
    assert (d["line"], d["col"], d["path"]) == (5, 15, "use.vox.template") and fragment in d["message"]
    assert at(HEAD + f"use:\n  vox:\n    template: {ref}\n", ref) == (5, 15)


def test_secret_in_the_environment_is_not_printed(song):
    (song / "s.yaml").write_text(HEAD + "use:\n  vox:\n    template: /proc/self/environ\n")
    env_secret = "env-secret-4242"
    r = subprocess.run([sys.executable, "-m", "mixgraph", "validate", "s.yaml"], cwd=song, capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO), MY_TOKEN=env_secret))
    assert r.returncode == 2 and env_secret not in r.stdout + r.stderr and "s.yaml:5:15:" in r.stderr


def test_template_fifo_in_the_song_folder_is_a_user_error(song):
    os.mkfifo(song / "t.yaml")
    (song / "s.yaml").write_text(HEAD + "use:\n  vox:\n    template: ./t.yaml\n")
    r = _run(["validate", "s.yaml"], song)
    assert r.returncode == 1, r.stderr
    assert "s.yaml:5:15:" in r.stderr and "t.yaml is not a regular file (a device, FIFO or socket)" in r.stderr


def test_template_inside_the_folder_through_a_symlink_is_fine(tmp_path, capsys):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl/real.yaml").write_text("template: t\nversion: 1\nparams: {src: {type: file}}\n"
                                            "body:\n  tracks:\n    ${prefix}_a: {source: '${src}'}\n")
    (tmp_path / "alias.yaml").symlink_to(tmp_path / "tpl/real.yaml")
    code, diags = validate(capsys, tmp_path, HEAD + "use:\n  v:\n    template: ./alias.yaml\n    with: {src: a.wav}\n")
    assert [d["code"] for d in diags] == ["file.missing"] and code == 1  # a.wav: only the media check fails


@pytest.mark.parametrize("value, fragment", [(".nan", "Expected a finite number, got nan"),
                                             ("-.inf", "Expected a finite number, got -inf")])
def test_template_number_parameters_are_finite(capsys, tmp_path, value, fragment):
    text = HEAD + f"use:\n  vox:\n    template: vocal-stack@1\n    with: {{lead: k.wav, level_db: {value}}}\n"
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl), p) == (2, at(text, value), "use.vox.with.level_db"), msg
    assert fragment in msg


def test_template_product_overflow_is_refused(capsys, tmp_path):
    template = ("template: t\nversion: 1\nparams: {w: {type: number}}\nbody:\n  tracks:\n"
                "    ${prefix}_a: {source: a.wav, pan: '${w*1" + "0" * 400 + "}'}\n")
    (tmp_path / "t.yaml").write_text(template)
    code, diags = validate(capsys, tmp_path, HEAD + "use:\n  v:\n    template: ./t.yaml\n    with: {w: 2}\n")
    d = diags[0]
    assert (code, d["file"], (d["line"], d["col"])) == (2, str(tmp_path / "t.yaml"), at(template, "'${w"))
    assert "is not a finite number" in d["message"]


# --------------------------------------------------------------------------- 8. reading files


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "too-large"])
def test_session_files_that_are_not_sessions_are_refused_promptly(tmp_path, kind):
    path = tmp_path / "s.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.write_bytes(b"# " + b"x" * MAX_BYTES + b"\nmixgraph: 1\n")
    r = _run(["validate", str(path)], tmp_path)
    assert r.returncode == 1, r.stderr
    size = path.stat().st_size if kind == "too-large" else 0
    assert "Traceback" not in r.stderr
    expected = {"fifo": "is not a regular file (a device, FIFO or socket)",
                "dev-zero": "is not a regular file (a device, FIFO or socket)",
                "too-large": f"is larger than 4 MiB ({size} bytes)"}[kind]
    assert f"{path} {expected}" in r.stderr


def test_four_mib_exactly_is_read(tmp_path, capsys):
    from mixgraph.session.loader import read_text

    path = tmp_path / "s.yaml"
    body = HEAD.encode()
    path.write_bytes(body + b"#" * (MAX_BYTES - len(body)))
    assert read_text(path).startswith(HEAD) and MAX_BYTES == 4 * 1024 * 1024


@pytest.mark.parametrize("text, opener", [
    (HEAD + "tracks: " + "[" * 10_000 + "]" * 10_000 + "\n", "["),
    (HEAD + "tracks: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n", "{"),
    (HEAD + "tracks:\n" + "".join(" " * i + "-\n" for i in range(1, 2000)), "-"),
])
def test_very_deep_nesting_is_an_invalid_session(capsys, tmp_path, text, opener):
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert code == 2 and "Nesting deeper than 64 levels" in msg
    # at the first node below 65 levels: the document's mapping is level 1 and the n-th opener level n + 1,
    # so the 65th '[' or '-' (the key inside the 64th '{')
    lines = text.splitlines()
    if opener == "-":
        assert (ln, cl) == (3 + 65, 65 + 1) and lines[ln - 1].strip() == "-", (ln, cl)
    else:
        assert ln == 3 and lines[2][:cl - 1].count(opener) == 64, (ln, cl)
        assert lines[2][cl - 1] == {"[": "[", "{": "a"}[opener], (ln, cl)


def test_a_variant_set_to_nan_is_refused_at_its_line(capsys, tmp_path):
    text = HEAD + "tracks:\n  kick: {source: k.wav}\nvariants:\n  v:\n    set: {tracks.kick.gain_db: .nan}\n"
    code, ln, cl, p, msg = first(capsys, tmp_path, text)
    assert (code, (ln, cl)) == (2, at(text, ".nan")), msg
    assert "With variant 'v': Gain (dB) must be a finite number (got nan)." in msg

"""Properties of the trust contract over generated sessions: a session validate accepts compiles
(plan accepts it), and after a random mutation validate and render still agree (the same exit
code: 0, 1 or 2; never 3; a refused render touches nothing)."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.trust.corpus import assert_user_facing, cli, make_song, same_verdict, write_wav

STEMS = {"s0.wav": 2, "s1.wav": 1, "s2.wav": 2}

PROCESSORS = [
    {"type": "gain", "gain_db": -3.0},
    {"type": "eq", "bands": [{"type": "bell", "freq_hz": 1000, "gain_db": 3.0}, {"type": "highpass", "freq_hz": 80}]},
    {"type": "compressor", "threshold_db": -24, "ratio": 3},
    {"type": "saturation", "drive_db": 6, "oversample": 2},
    {"type": "delay", "time_ms": 30, "feedback": 0.2, "mix": 0.3},
    {"type": "chorus", "voices": 2, "depth_ms": 1.5, "mix": 0.4},
    {"type": "gate", "threshold_db": -40},
    {"type": "polarity"},
]


@st.composite
def sessions(draw) -> dict:
    n_tracks = draw(st.integers(1, 4))
    buses = [f"b{i}" for i in range(draw(st.integers(0, 2)))]
    returns = [f"r{i}" for i in range(draw(st.integers(0, 2)))]
    fader = st.floats(-12, 6, allow_nan=False).map(lambda x: round(x, 2))
    pan = st.floats(-1, 1, allow_nan=False).map(lambda x: round(x, 2))
    chain = st.lists(st.sampled_from(PROCESSORS), max_size=2).map(copy.deepcopy)
    tracks = {}
    for i in range(n_tracks):
        t = {"source": draw(st.sampled_from(sorted(STEMS))), "gain_db": draw(fader), "pan": draw(pan),
             "chain": draw(chain), "out": draw(st.sampled_from(["master", *buses]))}
        if returns:
            t["sends"] = [{"to": r, "level_db": draw(fader)} for r in draw(st.lists(st.sampled_from(returns),
                                                                                    max_size=2, unique=True))]
        tracks[f"t{i}"] = t
    # buses feed only later buses (or the master), so the generated routing has no loop
    bus_doc = {b: {"gain_db": draw(fader), "chain": draw(chain),
                   "out": draw(st.sampled_from(["master", *buses[i + 1:]]))} for i, b in enumerate(buses)}
    ret_doc = {r: {"chain": [{"type": "reverb", "decay_s": 0.3, "mix": 1.0}],
                   "out": draw(st.sampled_from(["master", *buses]))} for r in returns}
    outputs = {"master": {"path": "out/master.wav", "bit_depth": "32f"}}
    if draw(st.booleans()):
        outputs["mix"] = {"path": "out/mix.wav", "tap": "premaster", "bit_depth": 24}
    if buses and draw(st.booleans()):
        outputs["stem"] = {"path": "out/stem.wav", "tap": f"bus:{buses[0]}", "bit_depth": 16}
    return {"mixgraph": 1, "name": "p", "sample_rate": 48000, "sources_dir": "stems",
            "tail_s": draw(st.sampled_from([0.0, 0.1])), "tracks": tracks, "buses": bus_doc, "returns": ret_doc,
            "outputs": outputs}


def new_song(base: Path, doc: dict):
    song = make_song(Path(tempfile.mkdtemp(dir=base)), doc, stems=())
    for i, (name, ch) in enumerate(STEMS.items()):
        write_wav(song.dir / "stems" / name, channels=ch, seed=i)
    return song


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=sessions())
def test_validate_ok_implies_plan_ok(tmp_path, capsys, doc):
    song = new_song(tmp_path, doc)
    v = cli(capsys, "validate", song.session)
    assert_user_facing(v)
    assert v.code == 0, f"a generated valid session was refused:\n{v.text}"
    p = cli(capsys, "plan", song.session, "--json")
    assert_user_facing(p)
    assert p.code == 0, p.text


BAD_VALUES = [("gain_db", 100.0), ("pan", 5.0), ("gain_db", "loud"), ("gain_db", float("nan")),
              ("chain", [{"type": "compressor", "ratio": 0.5}]), ("chain", [{"type": "width"}]),
              ("chain", [{"type": "eq", "bands": [{"type": "bell", "freq_hz": 30000, "gain_db": 1}]}]),
              ("source", "missing.wav"), ("source", "../victim/notes.txt"), ("start_s", -1.0),
              ("automation", {"gain_db": [[0, -6.0], [0.1, 0.0]]}), ("automation", {"nope.x": [[0, 1.0]]})]

VARIANT_SETS = [{"tracks.t0.gain_db": 1.0}, {"tracks.t0.out": "nope"}, {"tracks.t0.gain_db": 99.0},
                {"sample_rate": 44100}, {"sample_rate": 8000}, {"tail_s": -1.0}, {"master.source": "s0.wav"},
                {"tracks.t0.chain": [{"type": "compressor", "sidechain": {"from": "t0"}}]},
                {"outputs": {"x": {"path": "../victim/x.wav"}}}, {"tracks.t0.source": "s1.wav"}]


@st.composite
def mutated(draw) -> tuple[dict, str | None]:
    doc = draw(sessions())
    names = list(doc["tracks"]) + list(doc["buses"]) + list(doc["returns"])
    kind = draw(st.sampled_from(["route", "bad-value", "delete", "loop", "variant"]))
    variant = None
    track = doc["tracks"][draw(st.sampled_from(sorted(doc["tracks"])))]
    if kind == "route":
        node = draw(st.sampled_from([*doc["tracks"].values(), *doc["buses"].values(), *doc["returns"].values()]))
        node["out"] = draw(st.sampled_from([*names, "master", "nope"]))
    elif kind == "bad-value":
        key, value = draw(st.sampled_from(BAD_VALUES))
        track[key] = copy.deepcopy(value)
    elif kind == "delete":
        where = draw(st.sampled_from(["source", "name", "mixgraph", "output-path", "tracks"]))
        if where == "source":
            del track["source"]
        elif where == "output-path":
            del doc["outputs"]["master"]["path"]
        else:
            del doc[where]
    elif kind == "loop":
        doc["buses"].setdefault("b0", {})
        doc["buses"].setdefault("b1", {})
        doc["buses"]["b0"]["out"], doc["buses"]["b1"]["out"] = "b1", "b0"
        track["out"] = "b0"
    else:
        doc["variants"] = {"v": {"set": copy.deepcopy(draw(st.sampled_from(VARIANT_SETS)))}}
        variant = "v"
    return doc, variant


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=mutated())
def test_validate_and_render_agree_after_a_mutation(tmp_path, capsys, case):
    doc, variant = case
    song = new_song(tmp_path, doc)
    same_verdict(capsys, song, "--no-report-files", *(("--variant", variant) if variant else ()))

"""VCA groups and a track's channel pick, statically: what ``validate`` refuses (exit 2 for the
session, exit 1 for what the file's header makes impossible) at the YAML line and column that
causes it, and what the compiler puts in the plan."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from mixgraph.cli import main
from mixgraph.errors import SessionInvalid
from mixgraph.graph.compile import compile_session
from mixgraph.session.diff import diff_sessions
from mixgraph.session.models import Session

SR = 48000
HEAD = "mixgraph: 1\nname: song\ntail_s: 0\n"
TRACKS = "tracks:\n  kick: {source: st.wav}\n  snare: {source: st.wav}\nbuses:\n  drums: {}\n"


@pytest.fixture
def folder(tmp_path):
    sf.write(tmp_path / "st.wav", np.zeros((SR // 10, 2)), SR)
    sf.write(tmp_path / "mono.wav", np.zeros((SR // 10, 1)), SR)
    sf.write(tmp_path / "poly.wav", np.zeros((SR // 10, 4)), SR)
    return tmp_path


def validate(capsys, folder, text: str) -> tuple[int, dict]:
    path = folder / "s.yaml"
    path.write_text(text)
    code = main(["validate", "--format", "json", str(path)])
    return code, json.loads(capsys.readouterr().out)[0]


def at(text: str, needle: str) -> tuple[int, int]:
    """1-based (line, col) of ``needle`` in ``text``."""
    i = text.index(needle)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


def refused(capsys, folder, text: str, code: int, needle: str, path: str) -> dict:
    got, report = validate(capsys, folder, text)
    assert got == code, report
    (d,) = report["diagnostics"]
    assert ((d["line"], d["col"]), d["path"]) == (at(text, needle), path), d
    return d


def session(**body) -> Session:
    return Session.model_validate({"mixgraph": 1, "name": "g", **body})


# --------------------------------------------------------------------------- VCA groups


@pytest.mark.parametrize("vcas,needle,path,message", [
    ("  v: {members: [kick, kik]}\n", "kik]", "vcas.v.members[1]", "Unknown track, bus, return or VCA 'kik'."),
    ("  v: {members: [kick, snare, kick]}\n", "kick]", "vcas.v.members[2]", "'kick' is a member of VCA 'v' twice."),
    ("  v: {members: []}\n", "[]", "vcas.v.members", "VCA group 'v' has no members."),
    ("  v: {members: [v]}\n", "v]", "vcas.v.members[0]", "VCA 'v' cannot be a member of itself."),
    ("  v: {members: [master]}\n", "master]", "vcas.v.members[0]", "The master fader cannot be a VCA member."),
    ("  a: {members: [b]}\n  b: {members: [c]}\n  c: {members: [a, kick]}\n", "a, kick", "vcas.c.members[0]",
     "VCA loop: a -> b -> c -> a."),
    ("  drums: {members: [kick]}\n", "drums: {m", "vcas.drums", "The name 'drums' is already used by a bus."),
    ("  v: {members: [kick], automation: {pan: [[0, 1]]}}\n", "pan", "vcas.v.automation.pan",
     "Cannot automate 'pan' on a VCA group (automatable: gain_db)."),
    ("  v: {members: [kick], automation: {gain_db: [[0, 30]]}}\n", "[0, 30]", "vcas.v.automation.gain_db[0]",
     "Value 30 is outside the parameter's range -120..24."),
])
def test_vca_problems_are_refused_at_their_line(capsys, folder, vcas, needle, path, message):
    text = HEAD + TRACKS + "vcas:\n" + vcas
    d = refused(capsys, folder, text, 2, needle, path)
    assert d["message"] == message


def test_a_variant_can_set_a_vca_and_its_problems_are_its_own(capsys, folder):
    text = HEAD + TRACKS + "vcas:\n  v: {members: [kick]}\nvariants:\n  quiet: {set: {vcas.v.gain_db: -6}}\n"
    assert validate(capsys, folder, text)[0] == 0
    text = HEAD + TRACKS + "vcas:\n  v: {members: [kick]}\nvariants:\n  bad: {set: {vcas.v.members: [kik]}}\n"
    d = refused(capsys, folder, text, 2, "[kik]", "variants.bad.set.vcas.v.members")
    assert "Unknown track, bus, return or VCA 'kik'" in d["message"]


def test_nested_groups_resolve_to_each_members_groups_once():
    s = session(tracks={"kick": {"source": "k.wav", "out": "drums"}, "vox": {"source": "v.wav"}},
                buses={"drums": {}},
                vcas={"all": {"gain_db": -1, "members": ["drums_vca", "band"]},
                      "band": {"members": ["drums_vca", "vox"]},
                      "drums_vca": {"gain_db": -3, "members": ["kick", "drums"],
                                    "automation": {"gain_db": [[0, -3], [1, 0]]}}})
    plan = compile_session(s)
    # drums_vca reaches 'all' twice (directly and through 'band'): counted once
    assert plan.node("track:kick").vcas == ("all", "band", "drums_vca")
    assert plan.node("bus:drums").vcas == ("all", "band", "drums_vca")
    assert plan.node("track:vox").vcas == ("all", "band")
    assert [(v.name, v.gain_db, v.automation) for v in plan.vcas] == [
        ("all", -1.0, {}), ("band", 0.0, {}), ("drums_vca", -3.0, {"gain_db": [[0.0, -3.0], [1.0, 0.0]]})]
    # routing is untouched: no node, edge or level for a group
    assert plan.levels == (("track:kick", "track:vox"), ("bus:drums",), ("master",))


def test_the_compiler_refuses_vca_loops_and_unknown_members_of_sessions_built_in_code():
    s = session(tracks={"t": {"source": "t.wav"}},
                vcas={"a": {"members": ["b", "t"]}, "b": {"members": ["a"]}, "c": {"members": ["zz"]}})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s)
    assert sorted((d.path, d.message) for d in exc.value.diagnostics) == [
        ("vcas.b.members[0]", "VCA loop: a -> b -> a."), ("vcas.c.members[0]", "Unknown track, bus, return or VCA 'zz'.")]


def test_diff_reads_vca_changes_as_an_engineer_would():
    a = session(tracks={"kick": {"source": "k.wav"}, "snare": {"source": "s.wav"}},
                vcas={"drums": {"gain_db": -3, "members": ["kick"]}})
    b = session(tracks={"kick": {"source": "k.wav"}, "snare": {"source": "s.wav", "input": "left"}},
                vcas={"drums": {"gain_db": -4.5, "members": ["snare", "kick"]},
                      "all": {"members": ["drums"], "automation": {"gain_db": [[0, 0], [4, -6]]}}})
    assert [c.text for c in diff_sessions(a, b)] == [
        "~ track snare: input as-is -> left",
        "+ vca all (members [drums], gain_db automated)",
        "~ vca drums: gain_db -3 dB -> -4.5 dB (-1.5 dB)",
        "+ vca drums: member snare",
    ]
    assert [c.text for c in diff_sessions(b, a)][-1] == "- vca drums: member snare"


# --------------------------------------------------------------------------- channel pick and sum


def test_a_file_of_more_than_two_channels_needs_a_pick(capsys, folder):
    text = HEAD + "tracks:\n  a: {source: poly.wav}\n"
    d = refused(capsys, folder, text, 1, "poly.wav", "tracks.a.source")
    assert d["message"] == "poly.wav has 4 channels; a track plays one or two of them."
    assert validate(capsys, folder, HEAD + "tracks:\n  a: {source: poly.wav, channels: [4, 1]}\n")[0] == 0
    assert validate(capsys, folder, HEAD + "tracks:\n  a: {source: poly.wav, channels: [2, 3], input: sum}\n")[0] == 0


def test_a_channel_the_file_does_not_have_is_refused_at_its_number(capsys, folder):
    text = HEAD + "tracks:\n  a: {source: poly.wav, channels: [2, 5]}\n"
    d = refused(capsys, folder, text, 1, "5]", "tracks.a.channels[1]")
    assert d["message"] == "There is no channel 5: poly.wav has 4 channels (counted from 1)."
    text = HEAD + "tracks:\n  a: {source: mono.wav, channels: [2]}\n"
    refused(capsys, folder, text, 1, "2]", "tracks.a.channels[0]")


def test_left_or_right_needs_two_channels(capsys, folder):
    text = HEAD + "tracks:\n  a: {source: mono.wav, input: right}\n"
    d = refused(capsys, folder, text, 1, "right", "tracks.a.input")
    assert d["message"] == "mono.wav is mono: it has no right side."
    text = HEAD + "tracks:\n  a: {source: poly.wav, channels: [3], input: left}\n"
    d = refused(capsys, folder, text, 2, "left", "tracks.a.input")  # the session alone says so
    assert d["hint"].startswith("Pick a pair ('channels': [3, 4])")


@pytest.mark.parametrize("channels,needle", [("[1, 1]", "[1, 1]"), ("[0]", "0]"), ("[1, 2, 3]", "[1, 2, 3]"),
                                              ("[]", "[]")])
def test_bad_channel_lists_are_refused_by_the_schema(capsys, folder, channels, needle):
    text = HEAD + f"tracks:\n  a: {{source: poly.wav, channels: {channels}}}\n"
    got, report = validate(capsys, folder, text)
    assert got == 2
    (d,) = report["diagnostics"]
    assert (d["line"], d["col"]) == at(text, needle), d


def test_the_plan_carries_the_pick_and_the_track_its_channel_count():
    s = session(tracks={"l": {"source": "s.wav", "input": "left"}, "r": {"source": "s.wav", "input": "right"},
                        "s": {"source": "s.wav", "input": "sum"}, "m": {"source": "m.wav", "input": "sum"},
                        "p": {"source": "p.wav", "channels": [3, 4]},
                        "pr": {"source": "p.wav", "channels": [3, 4], "input": "right"},
                        "ps": {"source": "p.wav", "channels": [3, 4], "input": "sum"}, "as": {"source": "s.wav"}})
    plan = compile_session(s, source_channels={"l": 2, "r": 2, "s": 2, "m": 1, "p": 6, "pr": 6, "ps": 6, "as": 2})
    got = {n.id.split(":")[1]: (n.source.channels, n.source.sum, n.channels_in) for n in plan.nodes}
    assert got == {"l": ((1,), False, 1), "r": ((2,), False, 1), "s": (None, True, 1), "m": (None, False, 1),
                   "p": ((3, 4), False, 2), "pr": ((4,), False, 1), "ps": ((3, 4), True, 1),
                   "as": (None, False, 2)}


def test_mixgraph_plan_shows_the_groups_and_the_pick():
    from mixgraph.cli.cmd_plan import describe

    s = session(tracks={"di": {"source": "p.wav", "channels": [3, 4], "input": "sum", "gain_db": -1}},
                vcas={"band": {"gain_db": -2, "members": ["di"]}})
    text = describe(compile_session(s, source_channels={"di": 4}))
    assert "  track:di source p.wav channels [3, 4] summed (1 ch)  latency 0 smp" in text
    assert "    fader -1 dB + vca (band), pan +0" in text
    assert "vca band: -2 dB" in text

"""Graph compiler passes: names, cycles, solo/mute, channels, latency alignment, schedule determinism."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixgraph.errors import SessionInvalid
from mixgraph.graph.compile import compile_session
from mixgraph.session.models import Session
from tests.conftest import REPO


def session(**body) -> Session:
    return Session.model_validate({"mixgraph": 1, "name": "g", **body})


def diag_of(exc) -> list[str]:
    return [d.message for d in exc.value.diagnostics]


def test_implicit_routing_to_master_and_schedule_levels():
    plan = compile_session(session(tracks={"a": {"source": "a.wav"}, "b": {"source": "b.wav", "out": "bus"}},
                                   buses={"bus": {}}))
    assert plan.levels == (("track:a", "track:b"), ("bus:bus",), ("master",))
    assert [i.source for i in plan.master.inputs] == ["bus:bus", "track:a"]


def test_cycle_is_reported_with_its_exact_path():
    s = session(tracks={"t": {"source": "t.wav", "out": "a"}},
                buses={"a": {"out": "b"}, "b": {"out": "c"}, "c": {"out": "a"}})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s)
    assert diag_of(exc) == ["Routing loop: bus:a -> bus:b -> bus:c -> bus:a."]


def test_send_cycle_through_a_return():
    s = session(tracks={"t": {"source": "t.wav", "out": "a"}}, buses={"a": {"sends": [{"to": "r"}]}},
                returns={"r": {"out": "a"}})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s)
    assert "bus:a -> return:r -> bus:a" in diag_of(exc)[0]


def test_sidechain_from_a_dependent_node_is_a_cycle():
    s = session(tracks={"kick": {"source": "k.wav", "out": "drums"}},
                buses={"drums": {"chain": [{"type": "compressor", "sidechain": {"from": "glue"}}], "out": "glue"},
                       "glue": {}})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s)
    assert diag_of(exc)[0].startswith("A sidechain key depends on the node it keys")


def test_self_send_and_unknown_targets():
    s = session(tracks={"t": {"source": "t.wav", "sends": [{"to": "t"}]}})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s)
    assert "Unknown return or bus 't'." in diag_of(exc)
    s = session(tracks={"t": {"source": "t.wav", "out": "drms"}}, buses={"drums": {}})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s)
    assert exc.value.diagnostics[0].hint == "Did you mean 'drums'?"


def test_width_on_a_mono_track_is_a_channel_error():
    s = session(tracks={"v": {"source": "v.wav", "chain": [{"type": "width", "width": 1.5}]}})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s, source_channels={"v": 1})
    assert "width needs 2 channel(s)" in diag_of(exc)[0]
    assert compile_session(s, source_channels={"v": 2}).node("track:v").chain[0].channels_in == 2


def test_solo_mutes_everything_not_on_a_soloed_path():
    s = session(tracks={"a": {"source": "a", "out": "drums", "solo": True, "sends": [{"to": "verb"}]},
                        "b": {"source": "b", "out": "drums"}, "c": {"source": "c"}},
                buses={"drums": {}}, returns={"verb": {}})
    plan = compile_session(s)
    muted = {n.id for n in plan.nodes if n.mute}
    assert muted == {"track:b", "track:c"}  # the bus, its return and the soloed track play


def test_limiter_latency_is_compensated_on_parallel_paths_and_trimmed():
    s = session(tracks={"a": {"source": "a", "out": "bus"},
                        "b": {"source": "b", "out": "bus", "chain": [{"type": "limiter", "lookahead_ms": 5}]}},
                buses={"bus": {}}, master={"chain": [{"type": "limiter", "lookahead_ms": 2}]},
                outputs={"m": {"path": "m.wav"}, "p": {"path": "p.wav", "tap": "premaster"}})
    plan = compile_session(s)
    lat_b = plan.node("track:b").latency_samples
    from mixgraph.dsp.truepeak import DELAY

    assert lat_b == 240 + DELAY  # 5 ms lookahead at 48 kHz + the true-peak interpolator
    delays = {i.source: i.delay_samples for i in plan.node("bus:bus").inputs}
    assert delays == {"track:a": lat_b, "track:b": 0}
    taps = {t.name: t.trim_samples for t in plan.taps}
    assert taps == {"premaster": lat_b, "master": lat_b + 96 + DELAY}


def test_late_sidechain_key_delays_the_keyed_signal():
    s = session(tracks={"kick": {"source": "k", "chain": [{"type": "limiter", "lookahead_ms": 1}]},
                        "bass": {"source": "b", "chain": [{"type": "compressor", "sidechain": {"from": "kick"}}]}})
    plan = compile_session(s)
    bass = plan.node("track:bass")
    from mixgraph.dsp.truepeak import DELAY

    assert bass.input_delay_samples == plan.node("track:kick").latency_samples == 48 + DELAY
    assert bass.chain[0].sidechain.delay_samples == 0


def test_same_session_same_plan_and_hash_regardless_of_key_order():
    body = {"tracks": {"a": {"source": "a", "out": "x"}, "b": {"source": "b", "out": "y"}}, "buses": {"x": {}, "y": {}}}
    rev = {"tracks": dict(reversed(list(body["tracks"].items()))), "buses": dict(reversed(list(body["buses"].items())))}
    p1, p2 = compile_session(session(**body)), compile_session(session(**rev))
    assert p1.to_json() == p2.to_json() and p1.plan_hash() == p2.plan_hash()


@st.composite
def dags(draw):
    n_tracks = draw(st.integers(1, 6))
    n_buses = draw(st.integers(0, 6))
    buses = {}
    for i in range(n_buses):  # bus i may only feed a bus with a higher index: acyclic
        out = draw(st.sampled_from(["master"] + [f"b{j}" for j in range(i + 1, n_buses)]))
        buses[f"b{i}"] = {"out": out}
    tracks = {f"t{i}": {"source": "x.wav", "out": draw(st.sampled_from(["master"] + list(buses)))}
              for i in range(n_tracks)}
    for i in range(n_buses):
        targets = [f"b{j}" for j in range(i + 1, n_buses)]
        if targets and draw(st.booleans()):
            buses[f"b{i}"]["sends"] = [{"to": draw(st.sampled_from(targets))}]
    return tracks, buses


@settings(max_examples=60, deadline=None)
@given(dags())
def test_random_dags_schedule_every_node_once_respecting_edges(dag):
    tracks, buses = dag
    plan = compile_session(session(tracks=tracks, buses=buses))
    order = [nid for level in plan.levels for nid in level]
    assert sorted(order) == sorted([f"track:{t}" for t in tracks] + [f"bus:{b}" for b in buses] + ["master"])
    pos = {nid: i for i, nid in enumerate(order)}
    for node in plan.nodes:
        for inp in node.inputs:
            assert pos[inp.source] < pos[node.id]
    for inp in plan.master.inputs:
        assert pos[inp.source] < pos["master"]


@settings(max_examples=60, deadline=None)
@given(dags())
def test_an_injected_back_edge_gives_the_cycle(dag):
    tracks, buses = dag
    if len(buses) < 2:
        return
    names = sorted(buses, key=lambda b: int(b[1:]))
    first, last = names[0], names[-1]
    edges = {(f"bus:{b}", f"bus:{v['out']}") for b, v in buses.items() if v["out"] != "master"}
    edges |= {(f"bus:{b}", f"bus:{sd['to']}") for b, v in buses.items() for sd in v.get("sends", [])}
    reach, frontier = {f"bus:{first}"}, [f"bus:{first}"]
    while frontier:
        cur = frontier.pop()
        for a, b in edges:
            if a == cur and b not in reach:
                reach.add(b)
                frontier.append(b)
    buses[last]["out"] = first  # the back edge
    edges.discard((f"bus:{last}", "bus:master"))
    edges.add((f"bus:{last}", f"bus:{first}"))
    if f"bus:{last}" not in reach:
        compile_session(session(tracks=tracks, buses=buses))  # no cycle: compiles
        return
    with pytest.raises(SessionInvalid) as exc:
        compile_session(session(tracks=tracks, buses=buses))
    msg = exc.value.diagnostics[0].message
    assert msg.startswith("Routing loop: ") and msg.endswith(".")
    path = msg.removeprefix("Routing loop: ").rstrip(".").split(" -> ")
    assert path[0] == path[-1]
    assert all((a, b) in edges for a, b in zip(path, path[1:], strict=False))  # a real cycle, edge by edge
    assert (f"bus:{last}", f"bus:{first}") in set(zip(path, path[1:], strict=False))  # through the injected edge


EXAMPLES = sorted(REPO.glob("examples/*/session.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_golden_plan(path, golden):
    from mixgraph.api.compile import compile_session as compile_file

    plan = compile_file(path)
    golden(REPO / "tests/graph/golden" / f"{path.parent.name}.plan.json", plan.to_json())


def test_plan_json_and_hash_do_not_depend_on_where_the_checkout_lives(tmp_path):
    import shutil

    from mixgraph.api.compile import compile_session as compile_file

    src = REPO / "examples/quickstart"
    copy = tmp_path / "elsewhere" / "quickstart"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("renders"))
    a, b = compile_file(src / "session.yaml"), compile_file(copy / "session.yaml")
    assert a.to_json() == b.to_json() and a.plan_hash() == b.plan_hash()
    assert str(REPO) not in a.to_json()


def test_compiler_diagnostics_point_at_the_yaml_that_declared_the_edge(tmp_path):
    import numpy as np
    import soundfile as sf

    from mixgraph.api.compile import compile_session as compile_file

    sf.write(tmp_path / "t.wav", np.zeros((480, 1)), 48000)
    path = tmp_path / "loop.yaml"
    path.write_text("mixgraph: 1\nname: loop\ntracks:\n  t: {source: t.wav, out: a}\nbuses:\n"
                    "  a: {out: b}\n  b:\n    out: a\n")
    with pytest.raises(SessionInvalid) as exc:
        compile_file(path)
    d = exc.value.diagnostics[0]
    assert d.message == "Routing loop: bus:a -> bus:b -> bus:a."
    assert (d.file, d.line, d.col, d.path) == (str(path), 8, 10, "buses.b.out")


def test_unreachable_nodes_are_warnings_not_errors():
    plan = compile_session(session(tracks={"t": {"source": "t"}}, returns={"lonely": {}}))
    assert any("return:lonely has no inputs" in w for w in plan.warnings)


# --------------------------------------------------------------------------- added: registered latency processor,
# name resolution hints, taps and output resolution


@pytest.fixture
def latency_compressor():
    """Replace the 'compressor' kind by one that declares 10 * |threshold_db| samples of latency.

    The session models only allow real kinds, so a test processor with a declared latency is
    registered under an existing kind; the compiler must read the latency from the registered class."""
    from mixgraph.dsp import registry
    from mixgraph.dsp.dynamics import Compressor

    class LatencyCompressor(Compressor):
        @property
        def latency_samples(self) -> int:
            return int(round(-10 * self.threshold_db))

    registry.register("compressor", LatencyCompressor)
    yield
    registry.unregister("compressor")


def comp(threshold_db: float, **extra) -> dict:
    return {"type": "compressor", "threshold_db": threshold_db, **extra}


def test_declared_latencies_align_every_sum_send_and_key(latency_compressor):
    s = session(
        tracks={"a": {"source": "a", "out": "bus", "chain": [comp(-10)]},   # 100 samples
                "b": {"source": "b", "out": "bus", "chain": [comp(-3)],     # 30 samples
                      "sends": [{"to": "verb", "pre_fader": True}]},
                "c": {"source": "c", "out": "bus", "sends": [{"to": "verb"}]},  # 0 samples
                "k": {"source": "k"},
                # the key from k (latency 0) meets the signal after 100 samples: the key is delayed
                "d": {"source": "d", "chain": [comp(-10), comp(0, sidechain={"from": "k"})]}},
        buses={"bus": {}}, returns={"verb": {}},
        outputs={"m": {"path": "m.wav"}, "p": {"path": "p.wav", "tap": "premaster"},
                 "stem": {"path": "b.wav", "tap": "track:b"}})
    plan = compile_session(s)
    lat = {n.id: n.latency_samples for n in plan.nodes}
    assert lat == {"track:a": 100, "track:b": 30, "track:c": 0, "track:k": 0, "track:d": 100,
                   "bus:bus": 100, "return:verb": 30}
    assert {i.source: i.delay_samples for i in plan.node("bus:bus").inputs} == \
        {"track:a": 0, "track:b": 70, "track:c": 100}
    assert {i.source: (i.point, i.delay_samples) for i in plan.node("return:verb").inputs} == \
        {"track:b": ("pre", 0), "track:c": ("post", 30)}
    d = plan.node("track:d")
    assert [st.latency_samples for st in d.chain] == [100, 0]
    assert (d.input_delay_samples, d.chain[1].sidechain.source, d.chain[1].sidechain.delay_samples) == (0, "track:k", 100)
    assert {i.source: i.delay_samples for i in plan.master.inputs} == \
        {"bus:bus": 0, "return:verb": 70, "track:d": 0, "track:k": 100}
    assert {t.name: t.trim_samples for t in plan.taps} == {"master": 100, "premaster": 100, "track:b": 30}
    # every input of every sum arrives at the same time
    for n in [*plan.nodes, plan.master]:
        arrivals = {lat[i.source] + i.delay_samples for i in n.inputs}
        assert len(arrivals) <= 1


def test_unknown_send_and_sidechain_sources_suggest_the_near_name():
    s = session(tracks={"kick": {"source": "k"},
                        "bass": {"source": "b", "sends": [{"to": "plat"}],
                                 "chain": [{"type": "compressor", "sidechain": {"from": "kik"}}]}},
                returns={"plate": {}})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s)
    got = sorted((d.path, d.message, d.hint, d.code) for d in exc.value.diagnostics)
    assert got == sorted([
        ("tracks.bass.sends[0].to", "Unknown return or bus 'plat'.", "Did you mean 'plate'?", "graph.unknown-target"),
        ("tracks.bass.chain[0].sidechain.from", "Unknown sidechain source 'kik'.", "Did you mean 'kick'?",
         "graph.unknown-target"),
    ])


def test_out_to_a_track_is_an_error_and_all_errors_of_a_pass_come_together():
    s = session(tracks={"a": {"source": "a", "out": "b"}, "b": {"source": "b", "out": "nowhere"}})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s)
    assert [d.message for d in exc.value.diagnostics] == ["'b' is not a bus.", "'nowhere' is not a bus."]


def test_output_tapping_an_unknown_node_is_an_error():
    s = session(tracks={"kick": {"source": "k"}}, outputs={"stem": {"path": "s.wav", "tap": "track:kik"}})
    with pytest.raises(SessionInvalid) as exc:
        compile_session(s)
    d = exc.value.diagnostics[0]
    assert (d.code, d.path, d.hint) == ("graph.tap", "outputs.stem.tap", "Did you mean 'track:kick'?")


def test_outputs_resolve_format_dither_rate_and_variant_paths(tmp_path):
    s = session(sample_rate=44100, tracks={"a": {"source": "a"}},
                outputs={"cd": {"path": "{name}-{output}.wav", "bit_depth": 16},
                         "hi": {"path": "out/{name}.flac", "bit_depth": 24, "sample_rate": 96000},
                         "v": {"path": "{name}{variant}.wav"}})
    base = {o.name: o for o in compile_session(s, session_dir=tmp_path).outputs}
    assert (base["cd"].rel_path, base["cd"].format, base["cd"].dither, base["cd"].sample_rate) == \
        ("g-cd.wav", "wav", "tpdf", 44100)
    assert (base["hi"].rel_path, base["hi"].format, base["hi"].dither, base["hi"].sample_rate) == \
        ("out/g.flac", "flac", "none", 96000)
    assert base["v"].rel_path == "g.wav"
    var = {o.name: o.rel_path for o in compile_session(s, session_dir=tmp_path, variant="loud").outputs}
    assert var == {"cd": "g-cd-loud.wav", "hi": "out/g-loud.flac", "v": "g-loud.wav"}


def test_bypassed_processors_are_dropped_and_automation_is_split(tmp_path):
    s = session(tracks={"v": {"source": "v.wav", "chain": [
        {"type": "gain", "gain_db": 3, "bypass": True},
        {"type": "eq", "id": "tone", "bands": [{"type": "bell", "freq_hz": 1000, "gain_db": 2}]}],
        "automation": {"gain_db": [[0, 0], [1, -6]], "tone.bands.0.gain_db": [[0, 2], [2, 4]]}}})
    n = compile_session(s, session_dir=tmp_path).node("track:v")
    assert [st.type for st in n.chain] == ["eq"]
    assert n.automation == {"gain_db": [[0.0, 0.0], [1.0, -6.0]]}
    assert n.chain[0].automation == {"bands.0.gain_db": [[0.0, 2.0], [2.0, 4.0]]}
    assert n.source.rel_path == "v.wav" and n.source.path == str((tmp_path / "v.wav").resolve())

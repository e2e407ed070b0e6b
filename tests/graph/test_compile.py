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
    assert lat_b == 240 + 8  # 5 ms lookahead at 48 kHz + the true-peak interpolator
    delays = {i.source: i.delay_samples for i in plan.node("bus:bus").inputs}
    assert delays == {"track:a": lat_b, "track:b": 0}
    taps = {t.name: t.trim_samples for t in plan.taps}
    assert taps == {"premaster": lat_b, "master": lat_b + 96 + 8}


def test_late_sidechain_key_delays_the_keyed_signal():
    s = session(tracks={"kick": {"source": "k", "chain": [{"type": "limiter", "lookahead_ms": 1}]},
                        "bass": {"source": "b", "chain": [{"type": "compressor", "sidechain": {"from": "kick"}}]}})
    plan = compile_session(s)
    bass = plan.node("track:bass")
    assert bass.input_delay_samples == plan.node("track:kick").latency_samples == 48 + 8
    assert bass.chain[0].key.delay_samples == 0


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
    assert all((a, b) in edges for a, b in zip(path, path[1:]))  # a real cycle, edge by edge
    assert (f"bus:{last}", f"bus:{first}") in set(zip(path, path[1:]))  # through the injected edge


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

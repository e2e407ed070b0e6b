"""Compressor lookahead: declared as latency, the audio delayed behind the detector (so the gain is
down when a step arrives, by the smoother's closed form), and compensated by the graph (a lookahead
path nulls against the same source on a plain path)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import yaml

from mixgraph.dsp.dynamics import Compressor

SR = 48000


def test_latency_is_the_lookahead_and_the_audio_is_delayed_by_it():
    c = Compressor(threshold_db=0.0, lookahead_ms=5.0)
    c.prepare(SR, 2, 4096)
    assert c.latency_samples == 240
    x = np.random.default_rng(1).standard_normal((2, 5000)) * 0.1
    y = np.concatenate([c.process(x[:, a:a + 97]) for a in range(0, 5000, 97)], axis=1)
    np.testing.assert_array_equal(y[:, 240:], x[:, :-240])
    assert np.all(y[:, :240] == 0.0)


@pytest.mark.parametrize("lookahead_ms", [0.0, 2.0, 5.0])
def test_the_gain_is_down_when_a_step_arrives(lookahead_ms):
    s, att_ms = 4800, 1.0
    x = np.full((1, 3 * s), 0.01)
    x[0, s:] = 1.0  # -40 dBFS -> 0 dBFS
    c = Compressor(threshold_db=-20.0, ratio=1000.0, attack_ms=att_ms, release_ms=100.0, lookahead_ms=lookahead_ms)
    c.prepare(SR, 1, 4096)
    y = c.process(x)
    L = c.latency_samples
    final = 20.0 * (1 - 1 / 1000)
    a = np.exp(-1.0 / (att_ms * 1e-3 * SR))
    # the detector sees the step at frame s; the audio's step leaves at s + L, when the branching
    # smoother has had L + 1 steps: gr = final (1 - a^(L + 1))
    gr_at_arrival = -20 * np.log10(y[0, s + L] / 1.0)
    assert gr_at_arrival == pytest.approx(final * (1 - a ** (L + 1)), abs=1e-9)
    assert np.all(y[0, :L] == 0.0)  # the line's start
    np.testing.assert_allclose(y[0, L:s], 0.01, rtol=1e-15)  # untouched until the detector sees it
    # the last L frames before it (the quiet audio still in the line) ride the same attack
    k = np.arange(L)
    np.testing.assert_allclose(y[0, s:s + L], 0.01 * 10 ** (-final * (1 - a ** (k + 1)) / 20), rtol=1e-12)
    if lookahead_ms >= 5.0:
        assert gr_at_arrival > 0.99 * final


def test_graph_compensates_the_lookahead(tmp_path):
    """A lookahead compressor that does not compress, summed with the same source inverted on a
    plain path: the compiler's delay on the plain path makes them null."""
    from mixgraph.api.plan import resolve_plan
    from mixgraph.api.render import render_session

    stems = tmp_path / "stems"
    stems.mkdir()
    x = 0.2 * np.random.default_rng(0).standard_normal((SR, 2))
    sf.write(stems / "a.wav", x, SR, subtype="FLOAT")
    doc = {"mixgraph": 1, "name": "t", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0.0,
           "tracks": {"a": {"source": "a.wav", "out": "bus",
                            "chain": [{"type": "compressor", "threshold_db": 0.0, "lookahead_ms": 5.0}]},
                      "b": {"source": "a.wav", "out": "bus", "invert_polarity": True}},
           "buses": {"bus": {}},
           "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"}}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    plan = resolve_plan(str(path)).plan
    assert {i.source: i.delay_samples for i in plan.node("bus:bus").inputs} == {"track:a": 0, "track:b": 240}
    render_session(str(path), node_meters=False)
    mix = sf.read(tmp_path / "out/mix.wav", always_2d=True)[0]
    assert mix.shape == x.shape
    assert np.max(np.abs(mix)) < 1e-7  # float32 file: its own rounding floor (-140 dBFS)

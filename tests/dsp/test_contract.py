"""Every processor kind through the same contract: block-size invariance, silence, reset, frame counts."""

from __future__ import annotations

import numpy as np
import pytest

from mixgraph.dsp import registry

SR = 48000
RNG = np.random.default_rng(7)
IR = RNG.standard_normal((1, 500)) * np.exp(-np.arange(500) / 80)

PARAMS = {
    "gain": {"gain_db": -3.0},
    "pan": {"pan": 0.4},
    "polarity": {"channels": "left"},
    "width": {"width": 1.5},
    "eq": {"bands": [{"type": "highpass", "freq_hz": 80, "slope_db_oct": 24, "q": 0.7071},
                     {"type": "bell", "freq_hz": 2500, "gain_db": 3, "q": 1.0},
                     {"type": "highshelf", "freq_hz": 8000, "gain_db": 2, "q": 0.7071}]},
    "eq_dynamic": {"bands": [{"type": "highpass", "freq_hz": 80, "slope_db_oct": 12},
                             {"type": "dynamic", "freq_hz": 3000, "gain_db": -9, "threshold_db": -30,
                              "attack_ms": 1, "release_ms": 20},
                             {"type": "dynamic", "freq_hz": 9000, "gain_db": 6, "threshold_db": -40, "q": 2},
                             {"type": "bell", "freq_hz": 2500, "gain_db": 3, "q": 1.0}]},
    "compressor": {"threshold_db": -24, "ratio": 4, "attack_ms": 1, "release_ms": 50, "knee_db": 6,
                   "lookahead_ms": 0.5},
    "gate": {"threshold_db": -20, "hold_ms": 2},
    "deesser": {"freq_hz": 6000, "threshold_db": -40},
    "transient": {"attack_db": 9.0, "sustain_db": -6.0, "fast_ms": 0.5, "slow_ms": 20.0, "mix": 0.8},
    "limiter": {"ceiling_dbtp": -6.0, "lookahead_ms": 2},
    "clipper": {"ceiling_db": -6.0, "knee_db": 2.0},
    "multiband": {"crossovers_hz": [200, 2000], "bands": [{"threshold_db": -30}, {}, {"threshold_db": -30}]},
    "saturation": {"drive_db": 12},
    "delay": {"time_ms": 5, "feedback": 0.5},
    "delay_pingpong": {"time_ms": 5, "right_time_ms": 3.3, "feedback": 0.6, "mode": "pingpong"},
    "reverb": {"ir": IR, "mix": 0.5},
    "chorus": {"voices": 3, "rate_hz": 3.0, "depth_ms": 1.5, "delay_ms": 4.0},
    "chorus_narrow": {"voices": 2, "spread": 0.0, "mix": 0.7},
}


def test_every_kind_has_contract_parameters():
    assert {k.split("_")[0] for k in PARAMS} == set(registry.kinds())


def make(kind, channels=2):
    p = registry.create(kind.split("_")[0], **PARAMS[kind])  # "delay_pingpong": a second delay case
    p.prepare(SR, channels, 4096)
    return p


def signal_(channels=2, n=6000):
    x = 0.3 * RNG.standard_normal((channels, n))
    x[:, 2000:2100] *= 4  # a loud burst so dynamics work
    return x


@pytest.mark.parametrize("kind", sorted(PARAMS))
def test_block_size_invariance(kind):
    x = signal_()
    p = make(kind)
    ref = p.process(x)
    assert ref.shape == (p.output_channels(2), x.shape[1])
    for block in (1, 7, 64, 4096):
        p.reset()
        parts = []
        for i in range(0, x.shape[1], block):
            parts.append(p.process(x[:, i : i + block]))
            parts.append(p.process(x[:, :0]))  # a 0-frame block changes nothing
        y = np.concatenate(parts, axis=1)
        np.testing.assert_allclose(y, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(PARAMS))
def test_silence_in_silence_out(kind):
    p = make(kind)
    y = p.process(np.zeros((2, 4096)))
    assert np.max(np.abs(y)) == 0.0


@pytest.mark.parametrize("kind", sorted(PARAMS))
def test_reset_clears_state_and_tails(kind):
    x = signal_()
    p = make(kind)
    first = p.process(x)
    p.process(x)  # leave state behind
    p.reset()
    np.testing.assert_array_equal(p.process(x), first)
    p.reset()
    assert np.max(np.abs(p.process(np.zeros((2, 2048))))) == 0.0


@pytest.mark.parametrize("kind", [k for k in sorted(PARAMS) if k != "width"])
def test_mono_input(kind):
    p = make(kind, channels=1)
    y = p.process(signal_(1, 3000))
    assert y.shape == (p.output_channels(1), 3000)
    assert np.all(np.isfinite(y))


def test_width_refuses_mono():
    p = registry.create("width", width=1.2)
    with pytest.raises(ValueError):
        p.prepare(SR, 1, 4096)

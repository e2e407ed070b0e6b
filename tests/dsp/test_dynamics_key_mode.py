"""The compressor's own key filters (against scipy's Butterworth designs) and its mid/side modes
(against a mono compressor run on M or S, decoded by L = M + S, R = M - S)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from mixgraph.dsp.dynamics import Compressor

SR = 48000


@pytest.mark.parametrize("kw, designs", [
    ({"key_lowpass_hz": 200.0}, [(200.0, "lowpass")]),
    ({"key_highpass_hz": 2000.0}, [(2000.0, "highpass")]),
    ({"key_highpass_hz": 60.0, "key_lowpass_hz": 150.0}, [(60.0, "highpass"), (150.0, "lowpass")]),
    ({"key_lowpass_hz": 500.0, "sidechain_highpass_hz": 40.0}, [(40.0, "highpass"), (500.0, "lowpass")]),
])
def test_key_filters_are_butterworth(kw, designs):
    c = Compressor(**kw)
    c.prepare(SR, 1, 8192)
    imp = np.zeros((1, 8192))
    imp[0, 0] = 1.0
    h = c.det.filtered(imp)[0]
    sos = np.concatenate([signal.butter(2, f, btype, fs=SR, output="sos") for f, btype in designs])
    np.testing.assert_allclose(h, signal.sosfilt(sos, imp[0]), rtol=0, atol=1e-12)


def test_a_band_passed_key_hears_the_kick_not_the_hats():
    n = np.arange(SR)
    x = 0.1 * np.sin(2 * np.pi * 440 * n / SR)[None]
    kick = 0.9 * np.sin(2 * np.pi * 80 * n / SR)[None]
    hats = 0.9 * np.sin(2 * np.pi * 9000 * n / SR)[None]

    def gr(key):
        c = Compressor(threshold_db=-20.0, ratio=4.0, key_highpass_hz=40.0, key_lowpass_hz=150.0)
        c.prepare(SR, 1, 4096)
        c.process(x, key=key)
        return c.gain_reduction_db()[-4800:].mean()

    assert gr(kick) > 10.0
    # 9 kHz is 6 octaves over the 150 Hz corner: -72 dB, far under the threshold
    assert gr(hats) == 0.0


@pytest.mark.parametrize("mode", ["mid", "side"])
def test_mid_side_modes(mode):
    rng = np.random.default_rng(3)
    n = 20000
    mid = rng.standard_normal(n) * np.repeat([0.05, 0.8], n // 2)
    sid = rng.standard_normal(n) * np.repeat([0.6, 0.02], n // 2)
    x = np.stack([mid + sid, mid - sid])
    kw = {"threshold_db": -24.0, "ratio": 4.0, "attack_ms": 2.0, "release_ms": 80.0, "lookahead_ms": 1.0}
    c = Compressor(mode=mode, **kw)
    c.prepare(SR, 2, 4096)
    y = np.concatenate([c.process(x[:, a:a + 999]) for a in range(0, n, 999)], axis=1)
    ref = Compressor(**kw)
    ref.prepare(SR, 1, 4096)
    L = ref.latency_samples
    comp, keep = (mid, sid) if mode == "mid" else (sid, mid)
    done = ref.process(comp[None])[0]
    assert np.max(np.abs(done[L:] - comp[:-L])) > 0.1  # it compresses
    kept = np.concatenate([np.zeros(L), keep[:-L]])
    m_out, s_out = (done, kept) if mode == "mid" else (kept, done)
    np.testing.assert_allclose(y, np.stack([m_out + s_out, m_out - s_out]), rtol=0, atol=1e-12)


def test_side_mode_on_mono_passes_and_mid_mode_is_the_plain_compressor():
    x = np.random.default_rng(2).standard_normal((1, 5000))
    side = Compressor(mode="side", threshold_db=-30.0)
    side.prepare(SR, 1, 4096)
    np.testing.assert_array_equal(side.process(x), x)
    mid, plain = Compressor(mode="mid", threshold_db=-30.0), Compressor(threshold_db=-30.0)
    for c in (mid, plain):
        c.prepare(SR, 1, 4096)
    np.testing.assert_array_equal(mid.process(x), plain.process(x))

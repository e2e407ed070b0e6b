"""The EQ's dynamic band against independent references: the static law written out here, the RBJ
cookbook bell (coefficients from its text) and the analog prototype for the whole response, the
exponential law of a one-pole for attack and release. Block-size invariance, silence, reset and
mono run in test_contract.py ("eq_dynamic")."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from mixgraph.dsp.eq import EQ

FS = 44100


def cookbook_bell(f0, gain_db, q, fs):
    """RBJ Audio EQ Cookbook peakingEQ, (b, a)."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * f0 / fs
    alpha = math.sin(w0) / (2 * q)
    return ([1 + alpha * a, -2 * math.cos(w0), 1 - alpha * a], [1 + alpha / a, -2 * math.cos(w0), 1 - alpha / a])


def analog_bell_db(f, f0, gain_db, q):
    """|H(jw)| in dB of (s^2 + s (A/Q) + 1) / (s^2 + s/(A Q) + 1), s normalised to 2 pi f0."""
    a = 10 ** (gain_db / 40)
    w = 2 * np.pi * np.asarray(f, dtype=float)
    _, h = signal.freqs([1, a / q, 1], [1, 1 / (a * q), 1], worN=w / (2 * np.pi * f0))
    return 20 * np.log10(np.abs(h))


def law_db(level_db, threshold_db, ratio, gain_db):
    """The band's gain: (level - threshold)(1 - 1/ratio) above the threshold, at most |gain_db|,
    in the direction of gain_db."""
    size = min(max(level_db - threshold_db, 0.0) * (1 - 1 / ratio), abs(gain_db))
    return math.copysign(size, gain_db)


def amplitudes(y, freqs, fs=FS):
    """Least-squares amplitude of each sinusoid of ``freqs`` in y (1-D)."""
    n = np.arange(y.size) / fs
    cols = [f(2 * np.pi * fr * n) for fr in freqs for f in (np.sin, np.cos)]
    coef, *_ = np.linalg.lstsq(np.stack(cols, axis=1), y, rcond=None)
    return np.hypot(coef[0::2], coef[1::2])


def dyn_eq(channels=1, **band):
    eq = EQ([{"type": "dynamic", **band}])
    eq.prepare(FS, channels, 8192)
    return eq


def tone(f, amp, seconds, fs=FS):
    return amp * np.sin(2 * np.pi * f * np.arange(int(seconds * fs)) / fs)


@pytest.mark.parametrize("f0, amp_db, threshold_db, ratio, gain_db, q", [
    (1000.0, -10.0, -30.0, 4.0, -24.0, 1.0),     # cut, law below the range: 17 * 0.75 = 12.74 dB
    (3000.0, -6.0, -20.0, 2.0, 9.0, 2.0),        # boost, law: 11 * 0.5 = 5.5 dB
    (15000.0, -3.0, -40.0, 10.0, -12.0, 0.7),    # bright: cut at the range
    (120.0, -20.0, -36.0, 3.0, -6.0, 1.0),       # a low band: 3 periods of detector
])
def test_steady_state_gain_is_the_static_laws(f0, amp_db, threshold_db, ratio, gain_db, q):
    amp = 10 ** (amp_db / 20)
    eq = dyn_eq(freq_hz=f0, gain_db=gain_db, threshold_db=threshold_db, ratio=ratio, q=q,
                attack_ms=5.0, release_ms=50.0)
    y = eq.process(tone(f0, amp, 1.5)[None])[0]
    # at the centre the band-pass passes the tone unchanged: its RMS is amp / sqrt 2
    want = law_db(amp_db - 10 * math.log10(2), threshold_db, ratio, gain_db)
    got = 20 * np.log10(amplitudes(y[-FS // 2:], [f0])[0] / amp)
    assert got == pytest.approx(want, abs=0.1)
    assert abs(want) > 3.0  # the case does move the bell


@pytest.mark.parametrize("design", ["cookbook", "matched"])
def test_steady_state_response_is_the_static_bell_at_that_gain(design):
    f0, q, amp = 2000.0, 1.5, 10 ** (-8 / 20)
    eq = dyn_eq(freq_hz=f0, gain_db=-15.0, threshold_db=-30.0, ratio=3.0, q=q, design=design)
    probes = np.array([50.0, 300.0, 900.0, 1500.0, 2600.0, 4000.0, 8000.0, 16000.0, 19500.0])
    # probes 60 dB under the tone: they leave the band's level (the gain) as the tone sets it
    x = tone(f0, amp, 2.0) + sum(tone(f, 1e-3 * amp, 2.0) for f in probes)
    y = eq.process(x[None])[0]
    g = law_db(-8 - 10 * math.log10(2), -30.0, 3.0, -15.0)  # -8.33 dB
    tail = slice(-FS, None)
    got = 20 * np.log10(amplitudes(y[tail], probes) / amplitudes(x[tail], probes))
    if design == "cookbook":
        _, h = signal.freqz(*cookbook_bell(f0, g, q, FS), worN=probes, fs=FS)
        np.testing.assert_allclose(got, 20 * np.log10(np.abs(h)), atol=0.05)
    else:  # the matched design's promise: the analog shape within 0.5 dB to 20 kHz
        np.testing.assert_allclose(got, analog_bell_db(probes, f0, g, q), atol=0.5)
    assert np.min(got) < -3.0  # the probes near f0 are cut


@pytest.mark.parametrize("channels", [1, 2])
def test_below_threshold_the_band_is_transparent(channels):
    rng = np.random.default_rng(3)
    eq = dyn_eq(channels, freq_hz=6000.0, gain_db=12.0, threshold_db=-20.0, ratio=4.0)
    # bright noise at -50 dBFS RMS, a short click, silence, and a loud tone far from the band
    x = 10 ** (-50 / 20) * rng.standard_normal((channels, FS))
    x[:, 1000] += 0.05
    x[:, 20000:30000] = 0.0
    x[:, 30000:] += tone(60.0, 0.9, (FS - 30000) / FS)
    y = eq.process(x)
    null = np.max(np.abs(y - x))
    assert null == 0.0 or 20 * np.log10(null) < -120.0
    assert np.max(eq.stages[0].gain_trace) == 0.0


def test_attack_and_release_follow_the_exponential_law():
    attack_ms, release_ms, f0 = 30.0, 200.0, 3000.0
    eq = dyn_eq(freq_hz=f0, gain_db=-10.0, threshold_db=-40.0, ratio=20.0, attack_ms=attack_ms,
                release_ms=release_ms)
    # 0.6 s of a tone far above threshold (the law asks more than 10 dB: the target sits at the
    # range), then silence
    x = np.concatenate([tone(f0, 0.5, 0.6), np.zeros(int(1.5 * FS))])
    eq.process(x[None])
    g = eq.stages[0].gain_trace
    t = np.arange(g.size) / FS
    # attack: once the detector has settled (10 time constants of its 5 ms mean), 10 - g decays
    # as exp(-t / attack)
    a = (t > 0.05) & (t < 0.25)
    slope = np.polyfit(t[a], np.log(10.0 - g[a]), 1)[0]
    assert -1 / slope * 1e3 == pytest.approx(attack_ms, rel=0.01)
    # release: after the band's level has fallen below the threshold, g decays as exp(-t / release)
    r = (t > 0.7) & (t < 1.5)
    slope = np.polyfit(t[r], np.log(g[r]), 1)[0]
    assert -1 / slope * 1e3 == pytest.approx(release_ms, rel=0.01)
    assert g[int(0.6 * FS) - 1] == pytest.approx(10.0, abs=0.01)


def test_stereo_is_linked_by_the_louder_channel():
    f0 = 1000.0
    eq = dyn_eq(2, freq_hz=f0, gain_db=-12.0, threshold_db=-30.0, ratio=4.0)
    # left loud (law: 7 dB of cut), right 30 dB quieter (below threshold on its own)
    x = np.stack([tone(f0, 10 ** (-20 / 20), 1.0), tone(f0, 10 ** (-50 / 20), 1.0)])
    y = eq.process(x)
    want = law_db(-20 - 10 * math.log10(2), -30.0, 4.0, -12.0)
    for c in (0, 1):
        got = 20 * np.log10(amplitudes(y[c, -FS // 4:], [f0])[0] / amplitudes(x[c, -FS // 4:], [f0])[0])
        assert got == pytest.approx(want, abs=0.1)
    # a mono signal in both channels gets the mono processor's output on each
    mono = dyn_eq(1, freq_hz=f0, gain_db=-12.0, threshold_db=-30.0, ratio=4.0).process(x[:1])
    both = dyn_eq(2, freq_hz=f0, gain_db=-12.0, threshold_db=-30.0, ratio=4.0).process(np.vstack([x[0], x[0]]))
    np.testing.assert_array_equal(both[0], mono[0])
    np.testing.assert_array_equal(both[1], mono[0])


def test_threshold_and_ratio_are_read_per_block():
    f0 = 1000.0
    # as the session passes them: every field of the band
    eq = EQ([{"type": "bell", "freq_hz": 200.0, "gain_db": 0.0, "q": 1.0},
             {"type": "dynamic", "freq_hz": f0, "gain_db": -20.0, "threshold_db": -30.0, "ratio": 4.0}])
    assert set(eq.automatable) == {"bands.0.freq_hz", "bands.0.gain_db", "bands.0.q",
                                   "bands.1.threshold_db", "bands.1.ratio"}
    eq.prepare(FS, 1, 8192)
    x = tone(f0, 10 ** (-10 / 20), 2.0)[None]
    n = x.shape[1]
    thr = np.where(np.arange(n) < n // 2, -30.0, -24.0)
    y = eq.process(x, params={"bands.1.threshold_db": thr, "bands.1.ratio": np.full(n, 2.0)})[0]
    level = -10 - 10 * math.log10(2)
    for seg, t in ((slice(n // 2 - FS // 4, n // 2), -30.0), (slice(n - FS // 4, n), -24.0)):
        got = 20 * np.log10(amplitudes(y[seg], [f0])[0] / 10 ** (-10 / 20))
        assert got == pytest.approx(law_db(level, t, 2.0, -20.0), abs=0.1)

"""The transient shaper against its closed form: two one-pole followers of the channels' mean power
computed here with scipy.signal.lfilter (not by the kernel), their ratio in dB, the dead band and
span written out; nulls, steady tones, level independence, mono/stereo, automation and mix."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from mixgraph.dsp.transient import TransientShaper

SR = 48000


def hit(level_dbfs=-6.0, n=SR // 2, start=2400, rise_ms=2.0, decay_ms=60.0, f=900.0):
    """An exponentially decaying burst with a known attack: a tone under (1 - e^-t/rise) e^-t/decay,
    peaking near ``level_dbfs``; silence before ``start``."""
    t = np.arange(n - start) / SR
    env = (1.0 - np.exp(-t / (rise_ms * 1e-3))) * np.exp(-t / (decay_ms * 1e-3))
    x = np.zeros(n)
    x[start:] = env / env.max() * np.sin(2 * np.pi * f * t)
    return 10 ** (level_dbfs / 20) * x


def reference_gain_db(x, attack_db, sustain_db, fast_ms=1.0, slow_ms=30.0, dead=1.0, span=6.0):
    """The closed form: p = mean over channels of x^2, f and s one-pole followers
    y[n] = a y[n-1] + (1 - a) p[n], a = exp(-1 / (tau fs)), d = 10 log10(f / s) dB, and the gain
    attack_db * clip((d - dead) / span, 0, 1) + sustain_db * clip((-d - dead) / span, 0, 1)."""
    p = np.mean(np.atleast_2d(x) ** 2, axis=0)
    a_f = np.exp(-1.0 / (fast_ms * 1e-3 * SR))
    a_s = np.exp(-1.0 / (slow_ms * 1e-3 * SR))
    f = lfilter([1 - a_f], [1, -a_f], p)
    s = lfilter([1 - a_s], [1, -a_s], p)
    d = 10 * np.log10((f + 1e-30) / (s + 1e-30))
    return attack_db * np.clip((d - dead) / span, 0, 1) + sustain_db * np.clip((-d - dead) / span, 0, 1)


def run(x, **kw):
    x = np.atleast_2d(x)
    t = TransientShaper(**kw)
    t.prepare(SR, x.shape[0], 4096)
    y = t.process(x)
    return y, t.gain_db()


@pytest.mark.parametrize("attack_db,sustain_db", [(12.0, 0.0), (0.0, -12.0), (-24.0, 24.0), (6.0, -6.0)])
def test_gain_curve_is_the_two_followers_closed_form(attack_db, sustain_db):
    x = hit()
    y, g = run(x, attack_db=attack_db, sustain_db=sustain_db)
    ref = reference_gain_db(x, attack_db, sustain_db)
    np.testing.assert_allclose(g, ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(y[0], x * 10 ** (ref / 20), rtol=0, atol=1e-12)
    # the hit really has an attack and a sustain phase: both settings reach their full value
    if attack_db:
        assert g.max() == pytest.approx(max(attack_db, 0), abs=1e-9) or g.min() == pytest.approx(attack_db, abs=1e-9)
    if sustain_db:
        assert np.any(np.abs(g - sustain_db) < 1e-9)


def test_attack_comes_before_sustain():
    # +attack acts in the first milliseconds of the hit, -sustain in the tail
    x = hit(start=2400)
    _, g = run(x, attack_db=10.0, sustain_db=-10.0)
    boosted = np.flatnonzero(g > 0)
    cut = np.flatnonzero(g < 0)
    assert boosted.size and cut.size
    assert 2400 <= boosted[0] < 2400 + 48 and boosted[-1] < cut[0]
    assert cut[0] < 2400 + int(0.06 * SR)


@pytest.mark.parametrize("channels", [1, 2])
def test_zero_settings_null(channels):
    rng = np.random.default_rng(3)
    x = np.vstack([hit(), 0.2 * rng.standard_normal(SR // 2)])[:channels]
    y, g = run(x, attack_db=0.0, sustain_db=0.0, fast_ms=0.3, slow_ms=200.0)
    assert np.array_equal(y, x) and np.all(g == 0.0)


@pytest.mark.parametrize("f", [1000.0, 5000.0])
@pytest.mark.parametrize("channels", [1, 2])
def test_steady_tone_gets_unity_gain(f, channels):
    # after the onset (the slow follower settles in about 10 x 30 ms) a steady tone's envelope
    # ratio ripples inside the dead band: the gain is exactly 0 dB, the output the input
    t = np.arange(SR) / SR
    x = np.vstack([0.5 * np.sin(2 * np.pi * f * t), 0.5 * np.sin(2 * np.pi * f * t + 1.0)])[:channels]
    y, g = run(x, attack_db=24.0, sustain_db=24.0)
    tail = slice(SR // 2, None)
    assert np.all(g[tail] == 0.0)
    assert np.array_equal(y[:, tail], x[:, tail])
    # the reference says the same: the ripple of d stays under 1 dB
    assert np.all(reference_gain_db(x, 24.0, 24.0)[tail] == 0.0)


@pytest.mark.parametrize("attack_db,sustain_db", [(12.0, -12.0), (-18.0, 9.0)])
def test_level_independent(attack_db, sustain_db):
    # the same hit at -30 and -6 dBFS: the same gain curve within 0.1 dB (in fact to rounding)
    _, g_low = run(hit(-30.0), attack_db=attack_db, sustain_db=sustain_db)
    _, g_high = run(hit(-6.0), attack_db=attack_db, sustain_db=sustain_db)
    assert np.max(np.abs(g_low - g_high)) < 0.1
    assert np.max(np.abs(g_low)) > 8.0


def test_stereo_linked_and_dual_mono_equals_mono():
    x = hit()
    y1, g1 = run(x, attack_db=9.0, sustain_db=-9.0)
    y2, g2 = run(np.vstack([x, x]), attack_db=9.0, sustain_db=-9.0)
    np.testing.assert_allclose(g2, g1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y2, np.vstack([y1[0], y1[0]]), rtol=0, atol=1e-12)
    # one side only: both channels get the same gain (linked), from the mean power of the pair
    pair = np.vstack([x, np.zeros_like(x)])
    y, g = run(pair, attack_db=9.0, sustain_db=-9.0)
    np.testing.assert_allclose(g, reference_gain_db(pair, 9.0, -9.0), rtol=0, atol=1e-9)
    assert np.all(y[1] == 0.0)


def test_mix_blends_dry_and_shaped():
    x = hit()
    wet, g = run(x, attack_db=12.0, sustain_db=-12.0)
    half, _ = run(x, attack_db=12.0, sustain_db=-12.0, mix=0.5)
    np.testing.assert_allclose(half[0], 0.5 * x + 0.5 * x * 10 ** (g / 20), rtol=0, atol=1e-12)


def test_automated_attack_is_read_per_frame():
    x = hit()
    n = x.size
    lane = np.where(np.arange(n) < 2400 + 96, 12.0, 0.0)  # the boost switched off 2 ms into the hit
    t = TransientShaper(attack_db=12.0)
    t.prepare(SR, 1, 4096)
    t.process(x[None], params={"attack_db": lane})
    ref = reference_gain_db(x, 1.0, 0.0) * lane
    np.testing.assert_allclose(t.gain_db(), ref, rtol=0, atol=1e-9)
    assert t.gain_db()[2400 + 90] > 1.0 and np.all(t.gain_db()[2400 + 96:] == 0.0)


def test_silence_and_a_short_loud_click():
    # silence: 0 dB (no division by zero); a one-sample full-scale click: the attack gain at once
    y, g = run(np.zeros((2, 1000)), attack_db=24.0, sustain_db=24.0)
    assert np.all(g == 0.0) and np.all(y == 0.0)
    x = np.zeros(2000)
    x[500] = 1.0
    _, g = run(x, attack_db=24.0, sustain_db=-24.0)
    np.testing.assert_allclose(g, reference_gain_db(x, 24.0, -24.0), rtol=0, atol=1e-9)
    assert g[500] == pytest.approx(24.0)


def test_session_refuses_a_slow_envelope_not_slower_than_the_fast_one():
    from pydantic import ValidationError

    from mixgraph.session.models import TransientProc

    ok = TransientProc.model_validate({"type": "transient", "attack_db": 6.0, "fast_ms": 2.0, "slow_ms": 40.0})
    assert (ok.attack_db, ok.sustain_db, ok.mix) == (6.0, 0.0, 1.0)
    with pytest.raises(ValidationError, match="slow_ms .5. must be longer than fast_ms .5."):
        TransientProc.model_validate({"type": "transient", "fast_ms": 5.0, "slow_ms": 5.0})
    with pytest.raises(ValidationError):
        TransientProc.model_validate({"type": "transient", "attack_db": 30.0})

"""The de-esser's stereo link, as the compressor's (test_dynamics_link.py): each channel's band level
gets its own reduction (curve and smoother) and the larger applies to both, so mono, wide and
one-sided stereo at the same channel level are reduced alike; checked against the static law of
Giannoulis, Massberg & Reiss (2012) written out here."""

from __future__ import annotations

import numpy as np
import pytest

from mixgraph.dsp.dynamics import DeEsser

SR = 48000
N = SR
T = np.arange(N) / SR
A = 0.1  # every channel's amplitude: -20 dBFS, 10 dB over the threshold in the middle of the band


def law(level_db, t=-30.0, r=4.0, range_db=12.0):
    """x_G - y_G of the hard-knee curve, limited to range_db."""
    return min(max(level_db - t, 0.0) * (1 - 1 / r), range_db)


def pairs(f=6000.0):
    s = A * np.sin(2 * np.pi * f * T)
    rng = np.random.default_rng(9)
    return {
        "mono": s[None],
        "dual-mono": np.stack([s, s]),
        "quadrature": np.stack([s, A * np.cos(2 * np.pi * f * T)]),
        "uncorrelated": np.stack([s, A * np.sin(2 * np.pi * f * 1.013 * T + 1.0)]),
        "left-only": np.stack([s, np.zeros(N)]),
        "noise-like": np.stack([s, A * np.sin(2 * np.pi * (f + 350.0 * rng.standard_normal()) * T)]),
    }


def noises():
    """Mono noise and two independent noises of the same statistics (sibilance-like: white, the
    band-pass picks its band): the case that read hot, 0.8-1.5 dB more reduction in stereo."""
    rng = np.random.default_rng(4)
    n = rng.standard_normal((3, N)) * A
    return n[:1], n[1:]


def steady_gr(x, **kw):
    d = DeEsser(freq_hz=6000.0, q=1.0, threshold_db=-30.0, ratio=4.0, range_db=12.0, **kw)
    d.prepare(SR, x.shape[0], 4096)
    d.process(x)
    return float(np.mean(d.gain_reduction_db()[-SR // 4:]))


@pytest.mark.parametrize("timing", [{}, {"attack_ms": 0.1, "release_ms": 5.0}, {"attack_ms": 1.0, "release_ms": 10.0},
                                    {"attack_ms": 5.0, "release_ms": 200.0}])
def test_wide_stereo_is_not_read_hot(timing):
    x = pairs()
    mono = steady_gr(x["mono"], **timing)
    assert mono > 4.0
    for name in ("dual-mono", "quadrature", "uncorrelated", "left-only", "noise-like"):
        assert steady_gr(x[name], **timing) == pytest.approx(mono, abs=0.5), name
    mono_noise, stereo_noise = noises()
    mono = steady_gr(mono_noise, **timing)
    assert mono > 2.0
    assert steady_gr(stereo_noise, **timing) == pytest.approx(mono, abs=0.5)


def test_slow_release_holds_the_channel_peak_law():
    # an instant attack and a slow release hold the reduction at the law of the channel's peak,
    # whichever stereo image carries it
    x = pairs()
    for name in ("mono", "quadrature", "uncorrelated", "left-only"):
        gr = steady_gr(x[name], attack_ms=0.01, release_ms=2000.0)
        assert gr == pytest.approx(law(20 * np.log10(A)), abs=0.1), name


def test_the_reduction_applies_to_both_channels():
    # left-only sibilance: the right channel's band is silent, its output untouched but for the
    # shared gain acting on its (empty) band; the left band is reduced as in mono
    x = pairs()["left-only"].copy()
    x[1] = 0.1 * np.sin(2 * np.pi * 300.0 * T)  # a low voice on the right: outside the band
    d = DeEsser(freq_hz=6000.0, threshold_db=-30.0, ratio=4.0, range_db=12.0)
    d.prepare(SR, 2, 4096)
    y = d.process(x)
    m = DeEsser(freq_hz=6000.0, threshold_db=-30.0, ratio=4.0, range_db=12.0)
    m.prepare(SR, 1, 4096)
    ym = m.process(x[:1])
    np.testing.assert_allclose(y[0], ym[0], rtol=0, atol=1e-12)
    # the 300 Hz voice is two octaves and more under the band: within 0.1 dB of itself
    tail = slice(-SR // 4, None)
    assert 20 * np.log10(np.std(y[1, tail]) / np.std(x[1, tail])) == pytest.approx(0.0, abs=0.1)

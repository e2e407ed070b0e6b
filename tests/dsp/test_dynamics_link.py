"""The compressor's stereo link: mono, wide and one-sided stereo at the same channel level get the
same gain reduction (the louder channel's), for the peak and the rms detector, checked against the
static law of Giannoulis, Massberg & Reiss (2012) written out here."""

from __future__ import annotations

import numpy as np
import pytest

from mixgraph.dsp.dynamics import Compressor

SR = 48000
N = 2 * SR
T = np.arange(N) / SR
A = 0.5  # every channel's amplitude: -6.02 dBFS peak, -9.03 dBFS RMS


def law(level_db, t=-30.0, r=4.0, w=0.0):
    """x_G - y_G of the soft-knee curve (Giannoulis et al. 2012, eq. 4)."""
    over = level_db - t
    if 2 * over < -w:
        return 0.0
    if w > 0 and 2 * abs(over) <= w:
        return (1 - 1 / r) * (over + w / 2) ** 2 / (2 * w)
    return over * (1 - 1 / r)


def pairs(f=1000.0):
    """Mono and stereo at the same per-channel level: dual mono, quadrature, two unrelated tones,
    one side only, and two independent noises scaled to a sine's RMS."""
    s = A * np.sin(2 * np.pi * f * T)
    rng = np.random.default_rng(5)
    noise = rng.standard_normal((2, N))
    noise *= (A / np.sqrt(2)) / np.sqrt(np.mean(noise**2, axis=1, keepdims=True))
    return {
        "mono": s[None],
        "dual-mono": np.stack([s, s]),
        "quadrature": np.stack([s, A * np.cos(2 * np.pi * f * T)]),
        "uncorrelated": np.stack([s, A * np.sin(2 * np.pi * f * 1.37 * T + 1.0)]),
        "left-only": np.stack([s, np.zeros(N)]),
        "noise": noise,
    }


def steady_gr(x, **kw):
    c = Compressor(threshold_db=-30.0, ratio=4.0, **kw)
    c.prepare(SR, x.shape[0], 4096)
    c.process(x)
    return float(np.mean(c.gain_reduction_db()[-SR // 4:]))


@pytest.mark.parametrize("name", ["mono", "dual-mono", "quadrature", "uncorrelated", "left-only", "noise"])
def test_rms_link_reads_the_channel_level(name):
    # rms over 200 ms: the detector reads each channel's RMS, A/sqrt(2), whatever the correlation
    x = pairs()[name]
    gr = steady_gr(x, detector="rms", rms_ms=200.0, attack_ms=5.0, release_ms=50.0)
    assert gr == pytest.approx(law(20 * np.log10(A / np.sqrt(2))), abs=0.1 if name != "noise" else 0.5)


@pytest.mark.parametrize("name", ["mono", "dual-mono", "quadrature", "uncorrelated", "left-only"])
def test_peak_link_reads_the_channel_peak(name):
    # an instant attack and a slow release hold the reduction at the peak's: the law at A
    x = pairs()[name]
    gr = steady_gr(x, detector="peak", attack_ms=0.01, release_ms=2000.0)
    assert gr == pytest.approx(law(20 * np.log10(A)), abs=0.1)


@pytest.mark.parametrize("detector", ["peak", "rms"])
@pytest.mark.parametrize("f", [50.0, 1000.0])
@pytest.mark.parametrize("timing", [{}, {"attack_ms": 1.0, "release_ms": 50.0}])
def test_wide_stereo_is_not_read_hot(detector, f, timing):
    # at working time constants the reduction follows the signal's cycles; mono and wide stereo at
    # the same channel level stay within 0.5 dB (a link of the louder channel's instantaneous level
    # read quadrature up to 1.6 dB hotter here)
    x = pairs(f)
    mono = steady_gr(x["mono"], detector=detector, **timing)
    assert mono > 10.0
    for name in ("quadrature", "uncorrelated", "left-only"):
        assert steady_gr(x[name], detector=detector, **timing) == pytest.approx(mono, abs=0.5), name


def test_mono_key_on_stereo_and_stereo_key_on_mono():
    # the key's channels are linked, whatever the processed signal's count
    x = pairs()
    c = Compressor(threshold_db=-30.0, ratio=4.0, attack_ms=0.01, release_ms=2000.0)
    c.prepare(SR, 1, 4096)
    c.process(np.full((1, N), 0.01), key=x["quadrature"])
    assert c.gain_reduction_db()[-1] == pytest.approx(law(20 * np.log10(A)), abs=0.1)

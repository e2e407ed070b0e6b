"""The oversampled soft-knee clipper against independent references: its static curve (the
formula, written out here) after the declared delay, its flatness below the knee (Welch transfer
estimate from noise), its aliasing (FFT of a clipped 7 kHz tone), its latency (the impulse
response's centre of symmetry) and its gain-reduction figures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from mixgraph.dsp.base import GRStats
from mixgraph.dsp.clipper import Clipper, halfband

SR = 44100


def formula(x, ceiling_db, knee_db):
    """The curve of the docstring: identity below t, a parabola from slope 1 to slope 0 between t
    and 2c - t, the ceiling above."""
    c = 10 ** (ceiling_db / 20)
    t = c * 10 ** (-knee_db / 20)
    a = np.abs(x)
    y = np.where(a <= t, a, np.where(a >= 2 * c - t, c, a - (a - t) ** 2 / (4 * (c - t))))
    return np.sign(x) * y


def make(channels=1, **kw):
    p = Clipper(**kw)
    p.prepare(SR, channels, 1 << 18)
    return p


def test_the_curve_is_c1_and_never_above_the_ceiling():
    x = np.linspace(-3, 3, 600001)
    y = formula(x, -6.0, 3.0)
    dy = np.diff(y) / np.diff(x)
    assert np.max(np.abs(y)) <= 10 ** (-6 / 20) + 1e-15
    assert np.all(dy >= -1e-12) and np.all(dy <= 1 + 1e-12)
    assert np.max(np.abs(np.diff(dy))) < 1e-3  # no jump in the slope anywhere


@pytest.mark.parametrize("oversample,knee_db", [(16, 2.0), (4, 3.0), (1, 2.0)])
def test_static_curve_after_the_delay(oversample, knee_db):
    # a 5 Hz sine driven 8 dB past the ceiling: slow enough that the filters pass the curve's
    # output unchanged, so the output is the formula of the input, latency samples later
    p = make(ceiling_db=-6.0, knee_db=knee_db, oversample=oversample)
    n = SR
    x = 10 ** (2 / 20) * np.sin(2 * np.pi * 5 * np.arange(n) / SR)[None]
    y = p.process(x)[0]
    lat = p.latency_samples
    assert lat == {16: 89, 4: 85, 1: 0}[oversample]
    ref = formula(x[0, : n - lat], -6.0, knee_db)
    err = np.max(np.abs(y[lat:] - ref))
    assert err < (1e-12 if oversample == 1 else 2e-5), err
    assert np.max(np.abs(y)) > 10 ** (-6 / 20) * 0.9999  # it does reach the ceiling


def test_flat_to_20_khz_below_the_knee():
    # noise 20 dB under the knee: the clipper is the two filter cascades only; the transfer
    # function estimated from input and output (Welch) is flat within 0.1 dB to 20 kHz
    p = make(ceiling_db=0.0, knee_db=2.0)
    x = 0.01 * np.random.default_rng(3).standard_normal((1, 8 * SR))
    y = p.process(x)[0]
    lat = p.latency_samples
    xin, yout = x[0, : -lat], y[lat:]
    f, pxy = signal.csd(xin, yout, fs=SR, nperseg=4096)
    _, pxx = signal.welch(xin, fs=SR, nperseg=4096)
    mag = 20 * np.log10(np.abs(pxy / pxx))
    band = (f > 20) & (f <= 20000)
    assert np.max(np.abs(mag[band])) < 0.1, np.max(np.abs(mag[band]))


def test_each_half_band_meets_its_design():
    for stage in (1, 2, 3, 4):
        h = halfband(stage)
        assert h.size % 4 == 3 and h[h.size // 2] == 0.5
        w, resp = signal.freqz(h, worN=1 << 15, fs=2.0**stage)  # frequencies in base rates
        mag = np.abs(resp)
        passband = 20000 / 44100
        assert np.max(np.abs(20 * np.log10(mag[w <= passband]))) < 0.001
        assert 20 * np.log10(np.max(mag[w >= 2.0 ** (stage - 1) - passband])) < -100


def alias_dbc(y, f0_bin, n):
    """Largest spectral line up to 20 kHz that is not a harmonic of the tone, dB re the tone."""
    spec = np.abs(np.fft.rfft(y * signal.windows.blackmanharris(n)))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    harmonic = np.zeros(spec.size, bool)
    harmonic[:8] = True
    for h in range(1, 7):
        k = h * f0_bin
        harmonic[max(0, k - 8) : k + 9] = True
    band = (freqs <= 20000) & ~harmonic
    return 20 * np.log10(spec[band].max() / spec[f0_bin - 3 : f0_bin + 4].max())


@pytest.mark.parametrize("oversample,bound", [(16, -80.0), (1, None)])
def test_aliases_of_a_7khz_tone_clipped_12_db(oversample, bound):
    n = 2 * SR
    k = round(7000 * n / SR)  # on a bin, so the window separates lines cleanly
    p = make(ceiling_db=-13.0, knee_db=2.0, oversample=oversample)
    skip = 4096
    x = 10 ** (-1 / 20) * np.sin(2 * np.pi * k * np.arange(n + skip) / n)[None]
    y = p.process(x)[0, skip:]
    alias = alias_dbc(y, k, n)
    if bound is not None:
        assert alias < bound, alias
    else:
        assert alias > -50, alias  # without oversampling the same measurement sees the folding


def test_latency_is_the_centre_of_a_symmetric_impulse_response():
    for factor in (2, 4, 8, 16):
        p = make(oversample=factor)
        x = np.zeros((1, 512))
        x[0, 0] = 1e-3
        h = p.process(x)[0] / 1e-3
        lat = p.latency_samples
        assert np.argmax(np.abs(h)) == lat
        np.testing.assert_allclose(h[: 2 * lat + 1], h[2 * lat :: -1], atol=1e-12)  # linear phase
        assert np.sum(h) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("block", [1, 7, 64, 4096])
def test_block_size_invariant_with_drive_automation(block):
    rng = np.random.default_rng(5)
    x = 0.5 * rng.standard_normal((2, 5000))
    drive = np.linspace(0.0, 12.0, 5000)
    p = make(channels=2, ceiling_db=-3.0, knee_db=1.0)
    ref = p.process(x, params={"drive_db": drive})
    p.reset()
    parts = [p.process(x[:, i : i + block], params={"drive_db": drive[i : i + block]})
             for i in range(0, x.shape[1], block)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), ref)


def test_gain_reduction_of_a_sine_6_db_over():
    p = make(channels=2, ceiling_db=-6.0, knee_db=2.0)
    p.gr_stats = GRStats(SR)
    x = np.sin(2 * np.pi * 100 * np.arange(SR) / SR)[None].repeat(2, axis=0)  # 0 dBFS peaks: 6.02 dB over
    p.process(x)
    assert p.gr_stats.max == pytest.approx(20 * np.log10(1 / 10 ** (-6 / 20)), abs=1e-3)
    # a sine under the knee is not touched
    q = make(ceiling_db=-6.0, knee_db=2.0)
    q.process(0.35 * x[:1])  # peaks at -9.1 dBFS, the knee starts at -8
    assert np.max(q.gain_reduction_db()) == 0.0


def test_refuses_other_factors():
    with pytest.raises(ValueError):
        Clipper(oversample=3)

"""Saturation: flat oversampling filters to 20 kHz, alias lines below -80 dBc at the default 8x
(ADAA2) up to 48 dB of drive, harmonics equal to the tanh curve's own Fourier series and to the
curve on a 64x oversampled tone, dry/wet aligned; the ADAA2 kernel against its definition."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import dblquad
from scipy.signal import resample_poly
from scipy.signal.windows import blackmanharris

from mixgraph.dsp.kernels.saturation import adaa2_tanh
from mixgraph.dsp.saturation import Saturation


def run(x, sr, **kw):
    s = Saturation(**kw)
    s.prepare(sr, x.shape[0], x.shape[1])
    return s.process(x), s.latency_samples


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("factor", [2, 4, 8])
def test_flat_to_20_khz_within_a_tenth_of_a_db(sr, factor):
    # a multi-tone at -80 dBFS per tone, where tanh(x) = x to 1e-8: output against the input itself
    n = 1 << 15
    bins = np.round(np.array([100, 1000, 5000, 10000, 14000, 16000, 18000, 19000, 19500, 20000]) * n / sr)
    bins = bins.astype(int)
    t = np.arange(2 * n)
    x = 1e-4 * sum(np.sin(2 * np.pi * b * t / n + b) for b in bins)
    y, lat = run(x[None], sr, drive_db=0.0, oversample=factor)
    ratio = np.fft.rfft(y[0, n:])[bins] / np.fft.rfft(x[n - lat : 2 * n - lat])[bins]
    assert np.max(np.abs(20 * np.log10(np.abs(ratio)))) < 0.1
    assert np.max(np.abs(np.angle(ratio))) < 1e-3  # the declared latency is the filters' delay


def lines(y, sr, f0_bin, n):
    """(dBc of the largest non-harmonic line below 20 kHz, dBc of harmonics 3 and 5 where below
    Nyquist). Harmonic lines are those of h * f0 below Nyquist; anything else is an alias."""
    spec = np.abs(np.fft.rfft(y * blackmanharris(n, sym=False)))
    ref = spec[f0_bin]
    harmonic = np.zeros(spec.size, bool)
    for h in range(1, n // (2 * f0_bin) + 1):
        harmonic[max(0, h * f0_bin - 6) : h * f0_bin + 7] = True
    freqs = np.fft.rfftfreq(n, 1 / sr)
    other = spec[(~harmonic) & (freqs > 20) & (freqs < 20000)]
    harm = [spec[h * f0_bin] for h in (3, 5) if h * f0_bin < spec.size]
    return 20 * np.log10(other.max() / ref), 20 * np.log10(np.array(harm) / ref)


def tanh_harmonics_dbc(gain, amp):
    """The curve's own Fourier series: tanh(gain * amp * sin) on a dense grid of one period."""
    m = 1 << 14
    c = np.abs(np.fft.rfft(np.tanh(gain * amp * np.sin(2 * np.pi * np.arange(m) / m))))
    return 20 * np.log10(c[[3, 5]] / c[1])


def reference_harmonics_dbc(x, gain, sr, f0_bin, n):
    """The ideal curve on the tone oversampled 64x (scipy resample_poly), decimated back: the
    levels of its harmonic lines below 20 kHz, dBc (the lines the processor should make)."""
    y = resample_poly(np.tanh(gain * resample_poly(x, 64, 1)), 1, 64)[-n:]
    spec = np.abs(np.fft.rfft(y * blackmanharris(n, sym=False)))
    hs = [h for h in range(2, n) if h * f0_bin * sr / n < 20000]
    return hs, 20 * np.log10(spec[[h * f0_bin for h in hs]] / spec[f0_bin])


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("tone_hz", [3000, 5000, 7000, 11000, 15000])
def test_aliases_below_80_dbc_at_the_default_factor_up_to_48_db(sr, tone_hz):
    n = 1 << 16
    f0_bin = round(tone_hz * n / sr)  # on a bin: whole periods in the window
    t = np.arange(n + 4096)
    x = 0.5 * np.sin(2 * np.pi * f0_bin * t / n)  # -6 dBFS
    for drive_db in (0.0, 12.0, 24.0, 36.0, 48.0):
        y, _ = run(x[None], sr, drive_db=drive_db)
        alias, _ = lines(y[0, 4096:], sr, f0_bin, n)
        assert alias < -80, (drive_db, alias)
        # the wanted lines are the 64x reference's harmonics (odd ones, above -100 dBc)
        hs, want = reference_harmonics_dbc(x, 10 ** (drive_db / 20), sr, f0_bin, n)
        spec = np.abs(np.fft.rfft(y[0, -n:] * blackmanharris(n, sym=False)))
        got = 20 * np.log10(spec[[h * f0_bin for h in hs]] / spec[f0_bin]) if hs else np.array([])
        loud = want > -100
        np.testing.assert_allclose(got[loud], want[loud], atol=0.05)


def test_adaa2_is_the_curve_averaged_over_the_interpolated_input():
    # 2 F2[a, b, c] = 2 * integral of tanh over the simplex (Hermite-Genocchi), by scipy's dblquad;
    # same-sign points at heavy drive, points across zero, nearly equal points, a = c
    cases = [(0.1, 0.5, 0.9), (-3.0, 0.2, 4.0), (30.0, 30.00002, 30.00005), (100.0, 100.0, 100.00001),
             (-125.0, -124.99, -124.995), (1e-6, -1e-6, 2e-6), (0.5, 0.50001, 0.50003), (2.0, 1.0, 2.0),
             (2.0, 2.00005, 2.0), (-0.3, 0.3, -0.3), (0.0, 0.0, 0.0), (-1.5, 2.5, 40.0), (5.0, 4.0, 3.0)]
    for a, b, c in cases:
        def curve(s2, s1, a=a, b=b, c=c):
            return np.tanh(a + s1 * (b - a) + s2 * (c - a))

        want = 2 * dblquad(curve, 0, 1, 0, lambda s1: 1 - s1, epsabs=1e-13, epsrel=1e-13)[0]
        assert abs(adaa2_tanh(a, b, c) - want) < 1e-10, (a, b, c)


def test_the_test_sees_aliasing_at_a_cheap_factor():
    sr, n = 44100, 1 << 16
    f0_bin = round(7000 * n / sr)
    t = np.arange(n + 4096)
    x = 0.5 * np.sin(2 * np.pi * f0_bin * t / n)
    y, _ = run(x[None], sr, drive_db=24.0, oversample=4)
    assert lines(y[0, 4096:], sr, f0_bin, n)[0] > -60


def test_harmonics_are_the_curves_fourier_series():
    # a 1 kHz tone: harmonics 3 and 5 (3, 5 kHz) are well inside the flat band
    sr, n = 48000, 1 << 15
    f0_bin = round(1000 * n / sr)
    t = np.arange(n + 4096)
    for drive_db in (6.0, 18.0):
        y, _ = run(0.5 * np.sin(2 * np.pi * f0_bin * t / n)[None], sr, drive_db=drive_db)
        _, harm = lines(y[0, 4096:], sr, f0_bin, n)
        np.testing.assert_allclose(harm, tanh_harmonics_dbc(10 ** (drive_db / 20), 0.5), atol=0.01)


@pytest.mark.parametrize("factor", [1, 2, 4, 8])
def test_dry_and_wet_are_aligned(factor):
    # drive 0 dB on a tiny signal: wet = dry, so any mix gives the input delayed by the latency
    t = np.arange(3000)
    x = 1e-5 * np.array([np.sin(2 * np.pi * 440 * t / 48000) + np.sin(2 * np.pi * 15000 * t / 48000 + 1),
                         np.sin(2 * np.pi * 3000 * t / 48000 + 2)])  # below 20 kHz: the filters pass it
    y, lat = run(x, 48000, drive_db=0.0, mix=0.5, oversample=factor)
    # after the filters' own length (the onset of the sines is broadband)
    np.testing.assert_allclose(y[:, lat + 200 :], x[:, 200 : 3000 - lat], rtol=0, atol=1e-9)


def test_only_the_offered_factors():
    with pytest.raises(ValueError, match="oversampling factor"):
        Saturation(oversample=3)

"""Chorus against independent references: phase-modulation sidebands (Bessel functions), the
formula y[n] = mean over voices of x(n - d_v[n]) on a sine, an exact shift at a whole static
delay, a dry mix, L/R decorrelation on noise, and the interpolator's top-end loss.

The interpolator's error bound at a frequency f0 is computed here with scipy's Lagrange
polynomial through the same six nodes: on a sine, each output sample differs from the ideal
fractional delay by at most max over fractions |G(f) - e^{-j w0 f}|, so every spectral line and
every sample of the chorus is within that bound of the ideal.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.interpolate import lagrange
from scipy.special import jv

from mixgraph.dsp.chorus import MAX_DEPTH_MS, Chorus

SR = 48000
NODES = np.arange(-2, 4)  # the six samples around the whole delay the kernel reads


def interp_error(f0: float, sr: float = SR, nodes=NODES) -> float:
    """Largest |read - ideal| of a unit sine of f0 read at any fraction between nodes 0 and 1."""
    w0 = 2 * np.pi * f0 / sr
    vals = np.exp(-1j * w0 * nodes)  # x at delay k + t, relative to delay k
    re, im = lagrange(nodes, vals.real), lagrange(nodes, vals.imag)
    f = np.linspace(0, 1, 401)
    return float(np.max(np.abs(re(f) + 1j * im(f) - np.exp(-1j * w0 * f))))


def mean_gain_sq(f0: float, sr: float = SR, nodes=NODES) -> float:
    """Mean over fractions of |G(f)|^2: the power gain of noise read at a sweeping fraction."""
    w0 = 2 * np.pi * f0 / sr
    vals = np.exp(-1j * w0 * nodes)
    re, im = lagrange(nodes, vals.real), lagrange(nodes, vals.imag)
    f = np.linspace(0, 1, 2001)[:-1]
    return float(np.mean(np.abs(re(f) + 1j * im(f)) ** 2))


def run(c: Chorus, x: np.ndarray, params=None, block=4096, channels=None):
    c.prepare(SR, x.shape[0] if channels is None else channels, block)
    out = []
    for i in range(0, x.shape[1], block):
        p = {k: v[i : i + block] for k, v in (params or {}).items()}
        out.append(c.process(x[:, i : i + block], params=p))
    return np.concatenate(out, axis=1)


def sine(f0, n, sr=SR):
    return np.sin(2 * np.pi * f0 * np.arange(n) / sr)[None]


def formula(f0, n, delay_ms, depth_ms, rate_hz, voices=1, spread=0.0, line=0):
    """mean_v sin(w0 (n - d_v[n])), d_v = D + A sin(2 pi (phi[n] + (v + line * spread / 2) / voices)),
    phi[n] = sum of rate / fs over the samples before n."""
    n_ = np.arange(n)
    rate = np.broadcast_to(np.asarray(rate_hz, float), (n,))
    depth = np.broadcast_to(np.asarray(depth_ms, float), (n,)) * SR / 1000
    phi = np.concatenate(([0.0], np.cumsum(rate[:-1] / SR)))
    y = np.zeros(n)
    for v in range(voices):
        d = delay_ms * SR / 1000 + depth * np.sin(2 * np.pi * (phi + (v + line * spread / 2) / voices))
        y += np.sin(2 * np.pi * f0 * (n_ - d) / SR)
    return y / voices


@pytest.mark.parametrize("f0, rate_hz, depth_ms", [(1000.0, 5.0, 0.2), (10000.0, 4.0, 0.03)])
def test_one_voice_on_a_sine_has_the_bessel_sidebands(f0, rate_hz, depth_ms):
    # d(t) = D + A sin(2 pi fr t) on sin(2 pi f0 t): phase modulation of index beta = 2 pi f0 A,
    # lines at f0 +- k fr of amplitude |J_k(beta)|; one second holds whole periods of both
    c = Chorus(voices=1, rate_hz=rate_hz, depth_ms=depth_ms, delay_ms=10.0, spread=0.0, mix=1.0)
    y = run(c, sine(f0, 3 * SR))[0, SR : 2 * SR]
    spec = np.abs(np.fft.rfft(y)) * 2 / SR  # 1 Hz bins, amplitude per line
    beta = 2 * np.pi * f0 * depth_ms / 1000
    tol = interp_error(f0)  # 2.4e-8 at 1 kHz, 0.019 at 10 kHz
    for k in range(4):
        for line in (f0 + k * rate_hz, f0 - k * rate_hz):
            assert abs(spec[int(line)] - abs(jv(k, beta))) <= tol, (k, line)
    # and nothing else: the lines found hold the signal's power
    found = sum(spec[int(f0 + k * rate_hz)] ** 2 + (k > 0) * spec[int(f0 - k * rate_hz)] ** 2 for k in range(12))
    assert found / 2 == pytest.approx(np.mean(y**2), rel=4 * tol)


@pytest.mark.parametrize("f0", [1000.0, 10000.0])
def test_voices_and_spread_follow_the_formula(f0):
    n = SR // 2
    c = Chorus(voices=3, rate_hz=2.5, depth_ms=1.5, delay_ms=5.0, spread=0.6, mix=1.0)
    y = run(c, sine(f0, n))  # a mono input, spread > 0: stereo out
    assert y.shape == (2, n)
    live = slice(int(7e-3 * SR), None)  # after the longest delay has filled
    for line in (0, 1):
        want = formula(f0, n, 5.0, 1.5, 2.5, voices=3, spread=0.6, line=line)
        assert np.max(np.abs(y[line, live] - want[live])) <= interp_error(f0)


def test_one_voice_at_full_spread_inverts_the_right_lfo():
    n = SR // 2
    y = run(Chorus(voices=1, rate_hz=1.0, depth_ms=2.0, delay_ms=8.0, spread=1.0, mix=1.0), sine(1000.0, n))
    live = slice(int(10e-3 * SR), None)
    left = formula(1000.0, n, 8.0, 2.0, 1.0)
    right = formula(1000.0, n, 8.0, -2.0, 1.0)  # the sweep upside down
    assert np.max(np.abs(y[0, live] - left[live])) <= interp_error(1000.0)
    assert np.max(np.abs(y[1, live] - right[live])) <= interp_error(1000.0)


@pytest.mark.parametrize("block", [1, 37, 4096])
def test_rate_and_depth_lanes_are_read_per_sample_with_a_continuous_phase(block):
    n = SR
    t = np.arange(n)
    rate = np.interp(t, [0.2 * SR, 0.6 * SR], [0.5, 6.0])
    depth = np.interp(t, [0.3 * SR, 0.8 * SR], [0.5, 3.0])
    mix = np.interp(t, [0.1 * SR, 0.9 * SR], [1.0, 0.3])
    x = sine(1000.0, n)
    c = Chorus(voices=2, rate_hz=0.5, depth_ms=0.5, delay_ms=6.0, spread=0.0, mix=1.0)
    y = run(c, x, {"rate_hz": rate, "depth_ms": depth, "mix": mix}, block=block)[0]
    wet = formula(1000.0, n, 6.0, depth, rate, voices=2)
    want = (1 - mix) * x[0] + mix * wet
    live = t > 0.01 * SR
    # the kernel's running phase and numpy's cumsum round differently: 1e-12 of a cycle at most
    assert np.max(np.abs(y[live] - want[live])) <= interp_error(1000.0) + 1e-9


def test_block_cut_does_not_change_the_bits_under_automation():
    rng = np.random.default_rng(3)
    n = 9000
    x = rng.standard_normal((2, n))
    lanes = {"rate_hz": np.linspace(0.2, 9.0, n), "depth_ms": np.linspace(4.0, 0.0, n),
             "mix": np.linspace(0.0, 1.0, n)}
    ref = run(Chorus(voices=4, spread=0.8), x, lanes, block=n)
    for block in (1, 7, 64, 4096):
        np.testing.assert_array_equal(run(Chorus(voices=4, spread=0.8), x, lanes, block=block), ref)


@pytest.mark.parametrize("voices", [1, 2, 3, 4])
def test_a_whole_static_delay_is_an_exact_shift(voices):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4000))
    y = run(Chorus(voices=voices, depth_ms=0.0, delay_ms=10.0, mix=1.0), x)  # 480 samples at 48 kHz
    want = np.zeros_like(x)
    want[:, 480:] = x[:, :-480]
    if voices <= 2:
        np.testing.assert_array_equal(y, want)
    else:  # the mean of 3 or 4 equal reads rounds in the sum: within an ulp or two
        np.testing.assert_allclose(y, want, rtol=5e-16, atol=0)


@pytest.mark.parametrize("f0", [1000.0, 10000.0])
def test_a_fractional_static_delay_is_the_ideal_delay_within_the_interpolators_error(f0):
    n = SR // 4
    y = run(Chorus(voices=2, depth_ms=0.0, delay_ms=10.0107, mix=1.0, spread=0.0), sine(f0, n))[0]
    d = 10.0107 * SR / 1000  # 480.5136 samples
    want = np.sin(2 * np.pi * f0 * (np.arange(n) - d) / SR)
    live = slice(500, None)
    err = np.max(np.abs(y[live] - want[live]))
    assert err <= interp_error(f0)
    assert err > 0.2 * interp_error(f0)  # a fraction near the worst: the bound is not loose


@pytest.mark.parametrize("channels, spread", [(1, 0.0), (2, 0.0), (2, 1.0), (1, 1.0)])
def test_mix_zero_is_the_dry_signal_bit_for_bit(channels, spread):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((channels, 5000)) * 3.0
    y = run(Chorus(voices=4, rate_hz=7.0, depth_ms=4.0, spread=spread, mix=0.0), x)
    assert y.shape == (2 if spread else channels, 5000)
    for c in range(y.shape[0]):
        np.testing.assert_array_equal(y[c], x[min(c, channels - 1)])


def test_declared_tail_holds_the_last_echo():
    c = Chorus(voices=2, rate_hz=3.0, depth_ms=2.0, delay_ms=12.0, mix=1.0)
    x = np.zeros((1, 4000))
    x[0, 0] = 1.0
    y = run(c, x)
    assert c.tail_samples == math.ceil((12.0 + MAX_DEPTH_MS) * SR / 1000) + 3  # a depth lane may reach 10 ms
    nz = np.nonzero(y[0])[0]
    # an impulse comes back between delay - depth and delay + depth, widened by the 6-point read
    assert nz[0] >= int(10e-3 * SR) - 2 and nz[-1] <= math.ceil(14e-3 * SR) + 3
    assert nz[-1] <= c.tail_samples
    # a depth lane at its bound still ends within the declared tail
    full = run(Chorus(voices=2, rate_hz=3.0, depth_ms=2.0, delay_ms=12.0, mix=1.0), x,
               {"depth_ms": np.full(4000, MAX_DEPTH_MS)})
    assert np.max(np.abs(full[:, c.tail_samples + 1 :])) == 0.0


def test_spread_decorrelates_left_and_right_of_a_mono_noise():
    rng = np.random.default_rng(11)
    n = 4 * SR
    x = rng.standard_normal((1, n))
    live = slice(SR // 10, None)

    def corr(y):
        return float(np.corrcoef(y[0, live], y[1, live])[0, 1])

    # one voice, mix 1, full spread: L reads at D + A s(t), R at D - A s(t), so for white noise
    # the correlation is the mean over the LFO cycle of sinc(2 A sin(theta)) (A in samples)
    a = 2.0 * SR / 1000
    theta = np.linspace(0, 2 * np.pi, 100000, endpoint=False)
    ideal = float(np.mean(np.sinc(2 * a * np.sin(theta))))  # 0.0066
    wide = corr(run(Chorus(voices=1, rate_hz=1.0, depth_ms=2.0, delay_ms=10.0, spread=1.0, mix=1.0), x))
    assert abs(wide - ideal) < 0.02
    # the default two voices at half mix: the shared dry keeps its correlation; the reference is
    # the same average over the cycle of the sinc between every pair of reads, dry included
    mixed = corr(run(Chorus(spread=1.0), x))
    assert abs(mixed - ideal_correlation(2, 0.5, 2.0, 12.0, theta)) < 0.01  # 0.708 (ideal reads: 0.668)
    same = run(Chorus(spread=0.0, mix=1.0), np.vstack((x, x)))
    np.testing.assert_array_equal(same[0], same[1])


def ideal_correlation(voices, mix, depth_ms, delay_ms, theta):
    """Correlation of L and R for white noise read by fractional delays at full spread:
    E[x(n-a) x(n-b)] = sinc(a - b) for ideal reads, averaged over the LFO cycle for covariance and
    power; the 6-point read keeps a share g of white noise's power (its |G|^2 averaged over the
    band and the fractions), which scales every product of two wet reads."""
    g = float(np.mean([mean_gain_sq(f) for f in np.linspace(0, SR / 2, 97)[1:-1]]))  # 0.82
    a = depth_ms * SR / 1000
    centre = delay_ms * SR / 1000
    taps = {c: [(0.0, 1 - mix)] + [(centre + a * np.sin(theta + 2 * np.pi * (v + c / 2) / voices), mix / voices)
                                     for v in range(voices)] for c in (0, 1)}

    def cov(p, q):
        return sum(gp * gq * (g if np.ndim(dp) and np.ndim(dq) else 1.0) * np.mean(np.sinc(np.asarray(dp) - np.asarray(dq)))
                   for dp, gp in p for dq, gq in q)

    return float(cov(taps[0], taps[1]) / np.sqrt(cov(taps[0], taps[0]) * cov(taps[1], taps[1])))


@pytest.mark.parametrize("f0", [5000.0, 10000.0, 16000.0])
def test_top_end_loss_on_noise_is_the_interpolators_mean_gain(f0):
    # a sweeping delay reads noise at every fraction: the wet band power falls by the mean of
    # |G(f)|^2 over fractions (6-point Lagrange: -0.00, -0.10, -1.11 dB at 5, 10, 16 kHz at 48 kHz;
    # linear: -0.31, -1.23, -3.01)
    rng = np.random.default_rng(13)
    n = 8 * SR
    x = rng.standard_normal((1, n))
    y = run(Chorus(voices=1, rate_hz=1.0, depth_ms=4.0, delay_ms=10.0, spread=0.0, mix=1.0), x)
    xs, ys = np.fft.rfft(x[0, SR:]), np.fft.rfft(y[0, SR:])
    freqs = np.fft.rfftfreq(n - SR, 1 / SR)
    band = np.abs(freqs - f0) < 500
    got = 10 * np.log10(np.sum(np.abs(ys[band]) ** 2) / np.sum(np.abs(xs[band]) ** 2))
    want = 10 * np.log10(mean_gain_sq(f0))
    assert got == pytest.approx(want, abs=0.15)
    # linear interpolation (two nodes) would lose more: the reason for six
    assert 10 * np.log10(mean_gain_sq(f0, nodes=np.arange(0, 2))) < want - 0.2


def test_depth_must_stay_under_the_delay():
    from pydantic import ValidationError

    from mixgraph.session.models import ChorusProc

    with pytest.raises(ValidationError, match="depth_ms"):
        ChorusProc.model_validate({"type": "chorus", "depth_ms": 5.0, "delay_ms": 4.0})
    with pytest.raises(ValueError):
        Chorus(voices=5)


def test_a_depth_lane_beyond_the_delay_holds_the_shortest_delay_at_two_samples():
    n = SR // 2
    t = np.arange(n)
    c = Chorus(voices=1, rate_hz=4.0, depth_ms=0.5, delay_ms=1.0, spread=0.0, mix=1.0)
    y = run(c, sine(500.0, n), {"depth_ms": np.full(n, 3.0)})[0]
    d = np.maximum(2.0, 48.0 + 144.0 * np.sin(2 * np.pi * 4.0 * t / SR))  # 1 ms +- 3 ms, held at 2
    want = np.sin(2 * np.pi * 500.0 * (t - d) / SR)
    live = t > 0.01 * SR
    assert np.max(np.abs(y[live] - want[live])) <= interp_error(500.0) + 1e-9

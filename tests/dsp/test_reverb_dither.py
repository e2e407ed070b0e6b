"""Convolution reverb against scipy's fftconvolve; TPDF dither noise floor and absence of spurs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import fftconvolve

from mixgraph.dsp.dither import Quantizer
from mixgraph.dsp.reverb import Reverb

SR = 48000


@pytest.mark.parametrize("block", [64, 1000, 4096])
@pytest.mark.parametrize("ir_channels,in_channels", [(1, 2), (2, 2), (2, 1)])
def test_convolution_equals_fftconvolve(block, ir_channels, in_channels):
    rng = np.random.default_rng(5)
    ir = rng.standard_normal((ir_channels, 3000)) * np.exp(-np.arange(3000) / 600)
    x = rng.standard_normal((in_channels, 20000)) * 0.2
    r = Reverb(ir=ir, mix=1.0)
    r.prepare(SR, in_channels, block)
    y = np.concatenate([r.process(x[:, i : i + block]) for i in range(0, x.shape[1], block)], axis=1)
    xs = x if in_channels == 2 else np.vstack((x[0], x[0]))
    irs = ir if ir_channels == 2 else np.vstack((ir[0], ir[0]))
    ref = fftconvolve(xs, irs, axes=-1)[:, : x.shape[1]]
    residual_db = 20 * np.log10(np.max(np.abs(y - ref)) / np.max(np.abs(ref)))
    assert residual_db < -120


def test_algorithmic_reverb_decays_at_its_rt60():
    r = Reverb(decay_s=1.0, mix=1.0)
    r.prepare(SR, 2, 4096)
    x = np.zeros((2, 3 * SR))
    x[:, 0] = 1.0
    y = r.process(x)
    energy = np.cumsum((y**2).sum(axis=0)[::-1])[::-1]  # Schroeder backward integration
    edc = 10 * np.log10(energy / energy[0])
    t20 = np.argmax(edc < -25) - np.argmax(edc < -5)  # 20 dB of decay
    assert 3 * t20 / SR == pytest.approx(1.0, rel=0.2)  # extrapolated to 60 dB


def test_tpdf_dither_noise_floor_and_no_spurs():
    n = np.arange(4 * SR)
    f = 997.0
    x = 10 ** (-60 / 20) * np.sin(2 * np.pi * f * n / SR)
    q = Quantizer(16, "tpdf", seed=1, channels=1)
    codes = q.process(x[None])[0]
    err = codes / 2**15 - x
    lsb = 2.0**-15
    # TPDF dither of +-1 LSB: total error power = rounding (LSB^2/12) + dither (LSB^2/6) = LSB^2/4
    assert 10 * np.log10(np.mean(err**2)) == pytest.approx(10 * np.log10(lsb**2 / 4), abs=0.2)
    # the error is signal-independent noise: no harmonics of the sine stand out of the floor
    spec = np.abs(np.fft.rfft(err * np.hanning(err.size))) ** 2
    freqs = np.fft.rfftfreq(err.size, 1 / SR)
    floor = np.median(spec)
    for k in range(2, 8):
        band = spec[np.abs(freqs - k * f) < 2]
        assert 10 * np.log10(band.max() / floor) < 15
    # without dither the same signal shows clear distortion spurs
    plain = Quantizer(16, "none").process(x[None])[0] / 2**15 - x
    spec_plain = np.abs(np.fft.rfft(plain * np.hanning(plain.size))) ** 2
    worst = max(spec_plain[np.abs(freqs - k * f) < 2].max() for k in (3, 5))
    assert 10 * np.log10(worst / np.median(spec_plain)) > 25


def test_dither_is_seeded_and_shaped_noise_moves_up():
    x = np.zeros((2, SR))
    a = Quantizer(16, "tpdf", seed=3, channels=2).process(x + 1e-4)
    b = Quantizer(16, "tpdf", seed=3, channels=2).process(x + 1e-4)
    assert np.array_equal(a, b)
    shaped = Quantizer(16, "tpdf-shaped", seed=3, channels=2).process(x + 1e-4)[0] - 1e-4 * 2**15
    spec = np.abs(np.fft.rfft(shaped)) ** 2
    freqs = np.fft.rfftfreq(SR, 1 / SR)
    assert spec[freqs > 16000].mean() > 4 * spec[freqs < 4000].mean()


@pytest.mark.parametrize("bits", [16, 24])
@pytest.mark.parametrize("kind", ["none", "tpdf", "tpdf-shaped"])
def test_encode_gives_the_clipped_interleaved_codes_of_process(bits, kind):
    # the writer's compiled pass against the numpy steps it replaced: process, count and clip the
    # overs, interleave (16 bit as int16, 24 bit at the top of an int32, as libsndfile takes it)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 10000)) * 0.5  # a tenth of the samples beyond full scale
    ref_q, q = Quantizer(bits, kind, seed=7, channels=2), Quantizer(bits, kind, seed=7, channels=2)
    top = 2 ** (bits - 1)
    datas, overs = [], 0
    for a, b in ((0, 1), (1, 4321), (4321, 10000)):  # any block cut: the same file
        codes = ref_q.process(x[:, a:b])
        want_over = int(np.count_nonzero((codes > top - 1) | (codes < -top)))
        codes = np.clip(codes, -top, top - 1).astype(np.int32)
        want = codes.T.astype(np.int16) if bits == 16 else (codes << (32 - bits)).T
        data, over, meter = q.encode(x[:, a:b], metered=True)
        assert data.dtype == want.dtype and data.flags.c_contiguous
        assert np.array_equal(data, want)
        assert over == want_over
        assert np.array_equal(meter, codes / top)
        datas.append(data)
        overs += over
    assert 500 < overs < 1500
    assert np.array_equal(np.concatenate(datas), Quantizer(bits, kind, seed=7, channels=2).encode(x)[0])


@pytest.mark.parametrize("kind", ["none", "tpdf", "tpdf-shaped"])
def test_encode_refuses_a_nan_instead_of_writing_an_arbitrary_code(kind):
    x = np.full((2, 100), 0.25)
    x[1, 37] = np.nan
    with pytest.raises(FloatingPointError, match="frame 37"):
        Quantizer(24, kind, seed=1, channels=2).encode(x, metered=True)

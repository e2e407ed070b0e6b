"""Meter behaviour on generated signals, cross-checked against pyloudnorm and analytic values."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
from scipy import signal

from mixgraph.meter import LevelMeter, LoudnessMeter, measure_array

SR = 48000


def music_like(seconds=12.0, seed=3):
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    noise = signal.sosfilt(signal.butter(2, [80, 8000], "band", fs=SR, output="sos"), rng.standard_normal((2, n)))
    env = 0.3 + 0.7 * (np.sin(2 * np.pi * 0.25 * np.arange(n) / SR) > 0)
    tone = 0.2 * np.sin(2 * np.pi * 220 * np.arange(n) / SR)
    return 0.1 * noise * env + tone


def test_integrated_matches_pyloudnorm():
    x = music_like()
    ours = measure_array(x, SR).integrated_lufs
    ref = pyloudnorm.Meter(SR).integrated_loudness(x.T)
    assert ours == pytest.approx(ref, abs=0.05)


@pytest.mark.parametrize("sr", [44100, 96000])
def test_other_rates_match_pyloudnorm(sr):
    rng = np.random.default_rng(1)
    x = 0.05 * rng.standard_normal((2, sr * 6))
    assert measure_array(x, sr).integrated_lufs == pytest.approx(pyloudnorm.Meter(sr).integrated_loudness(x.T), abs=0.05)


def test_block_size_does_not_change_the_numbers():
    x = music_like(5.0)
    whole = measure_array(x, SR, block=x.shape[1])
    for block in (7, 1024, 48000):
        r = measure_array(x, SR, block=block)
        for key in ("integrated_lufs", "momentary_max_lufs", "short_term_max_lufs", "lra_lu", "true_peak_dbtp"):
            assert getattr(r, key) == pytest.approx(getattr(whole, key), abs=1e-9)


def test_short_inputs_are_not_measurable():
    r = measure_array(0.1 * np.ones((2, int(0.3 * SR))), SR)
    assert r.integrated_lufs is None and r.momentary_max_lufs is None and r.short_term_max_lufs is None
    r = measure_array(0.1 * np.sin(np.arange(2 * SR) * 0.1)[None].repeat(2, 0), SR)
    assert r.integrated_lufs is not None and r.short_term_max_lufs is None and r.lra_lu is None


def test_silence_is_not_measurable():
    r = measure_array(np.zeros((2, 5 * SR)), SR)
    assert r.integrated_lufs is None and r.lra_lu is None


def test_true_peak_of_an_intersample_sine():
    # fs/4 sine with 45 degree phase: samples at 0.707 of the peak
    n = np.arange(SR)
    x = 0.5 * np.sin(2 * np.pi * n / 4 + np.pi / 4)
    r = measure_array(np.vstack((x, x)), SR)
    assert r.sample_peak_dbfs == pytest.approx(20 * np.log10(0.5 * np.sqrt(0.5)), abs=0.01)
    assert r.true_peak_dbtp == pytest.approx(20 * np.log10(0.5), abs=0.2)


def test_correlation_and_mono_fold_down():
    x = music_like(5.0)[0]
    same = measure_array(np.vstack((x, x)), SR)
    assert same.correlation == pytest.approx(1.0)
    assert same.mono_loudness_diff_lu == pytest.approx(0.0, abs=0.01)
    inverted = measure_array(np.vstack((x, -x)), SR)
    assert inverted.correlation == pytest.approx(-1.0)
    assert inverted.mono_loudness_diff_lu < -60


def test_stats_of_a_sine():
    n = np.arange(4 * SR)
    x = 0.5 * np.sin(2 * np.pi * 997 * n / SR)
    r = measure_array(np.vstack((x, x)), SR)
    assert r.rms_dbfs == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.01)
    assert r.crest_db == pytest.approx(3.01, abs=0.01)
    assert r.clipped_samples == 0
    assert max(r.spectral_balance_db, key=r.spectral_balance_db.get) == "low_mid"


def test_streaming_meter_counts_clips():
    m = LevelMeter(SR, 1)
    m.process(np.array([[0.5, 1.0, -1.2, 0.3]]))
    assert m.result().clipped_samples == 2


def test_level_meter_gives_the_loudness_meters_loudness_and_peaks_and_nothing_else():
    x = music_like(6.0)
    for block in (7, 4096, x.shape[1]):
        full, light = LoudnessMeter(SR, 2), LevelMeter(SR, 2)
        for i in range(0, x.shape[1], block):
            full.process(x[:, i : i + block])
            light.process(x[:, i : i + block])
        f, lt = full.result(), light.result()
        assert lt.integrated_lufs == pytest.approx(f.integrated_lufs, abs=1e-9)
        assert (lt.true_peak_dbtp, lt.sample_peak_dbfs, lt.crest_db, lt.clipped_samples) == \
            (f.true_peak_dbtp, f.sample_peak_dbfs, f.crest_db, f.clipped_samples)
        assert lt.lra_lu is None and lt.momentary_max_lufs is None and lt.short_term_max_lufs is None
        assert lt.mono_loudness_diff_lu is None and lt.spectral_balance_db == {}


def test_the_private_sosfilt_loop_is_checked_before_it_is_trusted():
    from scipy.signal import sosfilt

    from mixgraph.meter.meter import _default_sosfilt, _private_loop_works

    assert _private_loop_works(_default_sosfilt())
    assert _private_loop_works(lambda s, x, z: sosfilt(s, x, axis=-1, zi=z))
    assert not _private_loop_works(lambda s, x, z: (2 * x, z))  # a changed private API: rejected
    assert not _private_loop_works(lambda s, x, z: (x, np.zeros_like(z)))  # state not carried

    def broken(s, x, z):
        raise TypeError("signature changed")

    assert not _private_loop_works(broken)


def test_spectral_balance_puts_each_tone_s_power_in_its_band():
    # tones at the centres of four bands, powers 1 : 1/4 : 1/16 : 1/64 (amplitudes halving), on
    # both channels; the band shares follow from the powers alone (a Hann window keeps a tone's
    # power inside a few bins of its own band): 10 log10(P_band / P_total)
    t = np.arange(SR * 6) / SR
    freqs, amps = (120.0, 700.0, 3500.0, 10000.0), (0.4, 0.2, 0.1, 0.05)
    x = sum(a * np.sin(2 * np.pi * f * t) for f, a in zip(freqs, amps, strict=True))
    m = LoudnessMeter(SR, 2)
    interleaved = np.stack((x, x), axis=1)  # (n, 2), as read from a file: blocks are views of .T
    for i in range(0, t.size, 7777):  # blocks not a multiple of the FFT size
        m.process(interleaved[i : i + 7777].T)
    bands = m.result().spectral_balance_db
    total = sum(a * a for a in amps)
    for name, a in zip(("low", "low_mid", "high_mid", "high"), amps, strict=True):
        assert bands[name] == pytest.approx(10 * np.log10(a * a / total), abs=0.01)
    assert bands["sub"] < -50.0  # only the 120 Hz tone's window leakage

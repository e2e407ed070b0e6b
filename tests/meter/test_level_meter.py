"""The render's level meter (compiled kernels) gives the numbers of the numpy level meter for any
block size, and the loudness meter's loudness and peaks."""


from __future__ import annotations

import numpy as np
import pytest

from mixgraph.meter import LevelMeter, LoudnessMeter, measure_array
from tests.truepeak_reference import fade

SR = 48000


def test_compiled_level_meter_equals_the_numpy_one():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, SR * 4)) * np.linspace(0.01, 0.6, SR * 4)  # some samples clip
    ref = LevelMeter(SR, 2)  # scipy's sosfilt for the K-weighting: an independent filter
    for i in range(0, x.shape[1], 4096):
        ref.process(x[:, i : i + 4096])
    r = ref.result()
    assert r.clipped_samples > 0
    for block in (7, 1000, 16384, x.shape[1]):
        m = LevelMeter(SR, 2, compiled=True)
        for i in range(0, x.shape[1], block):
            m.process(x[:, i : i + block])
        got = m.result()
        # the same 400 ms gating blocks (every 100 ms), summed in another order: equal to rounding
        assert len(m.gate.blocks) == len(ref.gate.blocks) == (x.shape[1] // 480 - 40) // 10 + 1
        np.testing.assert_allclose(m.gate.blocks, ref.gate.blocks, rtol=1e-12, atol=0)
        assert got.integrated_lufs == pytest.approx(r.integrated_lufs, abs=1e-9)
        assert got.crest_db == pytest.approx(r.crest_db, abs=1e-9)
        # the interpolation sums in another order than numpy's convolution: equal to rounding
        assert got.true_peak_dbtp == pytest.approx(r.true_peak_dbtp, abs=1e-12)
        assert (got.sample_peak_dbfs, got.clipped_samples) == (r.sample_peak_dbfs, r.clipped_samples)


def test_level_true_peak_of_an_intersample_peak():
    # fs/4 sine at 45 degrees: every sample at 0.707 of the peak, the peak between samples (faded
    # in and out: a sine switched on at full level rings above its amplitude in any interpolator)
    n = np.arange(SR)
    x = (0.5 * np.sin(np.pi / 2 * n + np.pi / 4) * fade(SR, SR))[None].repeat(2, 0)
    m = LevelMeter(SR, 2, compiled=True)
    for i in range(0, SR, 4096):
        m.process(x[:, i : i + 4096])
    r = m.result()
    assert r.sample_peak_dbfs == pytest.approx(20 * np.log10(0.5 * np.sqrt(0.5)), abs=1e-6)
    # the interpolator is flat here and the parabola refines its grid: within 0.01 dB of the peak
    assert r.true_peak_dbtp == pytest.approx(20 * np.log10(0.5), abs=0.01)
    assert r.true_peak_dbtp == pytest.approx(measure_array(x, SR, block=4096).true_peak_dbtp, abs=1e-12)
    assert r.spectral_balance_db == {} and r.lra_lu is None and r.correlation is None


def test_loudness_pass_without_true_peak_reports_the_sample_peak():
    x = 0.5 * np.sin(np.pi / 2 * np.arange(SR) + np.pi / 4)[None].repeat(2, 0)
    m, full = LevelMeter(SR, 2, compiled=True, true_peak=False), LoudnessMeter(SR, 2)
    m.process(x)
    full.process(x)
    r = m.result()
    assert m.true_peak is None
    assert r.true_peak_dbtp == r.sample_peak_dbfs < full.result().true_peak_dbtp - 2.9  # 3 dB below the peak
    assert r.integrated_lufs == pytest.approx(full.result().integrated_lufs, abs=1e-9)

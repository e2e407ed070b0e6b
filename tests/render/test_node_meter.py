"""The fused node meter of a render gives the numbers of the light meter for any block size."""


from __future__ import annotations

import numpy as np
import pytest

from mixgraph.meter.meter import Meter
from mixgraph.render.node_meter import NodeMeter

SR = 48000


def test_node_meter_equals_the_light_meter():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, SR * 4)) * np.linspace(0.01, 0.6, SR * 4)  # some samples clip
    ref = Meter(SR, 2, light=True)  # scipy's sosfilt for the K-weighting: an independent filter
    for i in range(0, x.shape[1], 4096):
        ref.process(x[:, i : i + 4096])
    r = ref.result()
    assert r.clipped_samples > 0
    for block in (7, 1000, 16384, x.shape[1]):
        m = NodeMeter(SR, 2)
        for i in range(0, x.shape[1], block):
            m.process(x[:, i : i + block])
        got = m.result()
        # the same 400 ms gating blocks (every 100 ms), summed in another order: equal to rounding
        assert len(m.gate_blocks) == len(ref.gate_blocks) == (x.shape[1] // 480 - 40) // 10 + 1
        np.testing.assert_allclose(m.gate_blocks, ref.gate_blocks, rtol=1e-12, atol=0)
        assert got.integrated_lufs == pytest.approx(r.integrated_lufs, abs=1e-9)
        assert got.crest_db == pytest.approx(r.crest_db, abs=1e-9)
        # the interpolation sums in another order than BLAS: equal to rounding
        assert got.true_peak_dbtp == pytest.approx(r.true_peak_dbtp, abs=1e-12)
        assert (got.sample_peak_dbfs, got.clipped_samples) == (r.sample_peak_dbfs, r.clipped_samples)


def test_node_true_peak_of_an_intersample_peak():
    # fs/4 sine at 45 degrees: every sample at 0.707 of the peak, the peak between samples
    n = np.arange(SR)
    x = 0.5 * np.sin(np.pi / 2 * n + np.pi / 4)[None].repeat(2, 0)
    m = NodeMeter(SR, 2)
    for i in range(0, SR, 4096):
        m.process(x[:, i : i + 4096])
    r = m.result()
    assert r.sample_peak_dbfs == pytest.approx(20 * np.log10(0.5 * np.sqrt(0.5)), abs=1e-6)
    # within the EBU Tech 3341 true-peak tolerance of the real peak, and what the meter says
    assert r.true_peak_dbtp == pytest.approx(20 * np.log10(0.5), abs=0.2)
    from mixgraph.meter import measure_array

    assert r.true_peak_dbtp == pytest.approx(measure_array(x, SR, block=4096).true_peak_dbtp, abs=1e-12)

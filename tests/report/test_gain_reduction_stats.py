"""Per-band gain reduction of the multiband, against bands split by scipy's own Butterworth design."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from mixgraph.dsp.base import GRStats
from mixgraph.dsp.dynamics import Compressor
from mixgraph.dsp.multiband import Multiband

SR = 48000
XS = [200.0, 3000.0]
BANDS = [dict(threshold_db=-30.0, ratio=4.0, attack_ms=5.0, release_ms=80.0),
         dict(threshold_db=-12.0, ratio=2.0, attack_ms=5.0, release_ms=80.0),
         dict(threshold_db=-40.0, ratio=3.0, attack_ms=2.0, release_ms=50.0)]


def lr4(kind: str, f: float) -> np.ndarray:
    s = signal.butter(2, f, btype="lowpass" if kind == "low" else "highpass", fs=SR, output="sos")
    return np.vstack([s, s])  # LR4: the 2nd-order Butterworth twice


def reference_bands(x: np.ndarray) -> list[np.ndarray]:
    """The crossover tree of the multiband's docstring, with scipy filters."""
    rest, out = x, []
    for k, f in enumerate(XS):
        band = signal.sosfilt(lr4("low", f), rest, axis=-1)
        rest = signal.sosfilt(lr4("high", f), rest, axis=-1)
        for g in XS[k + 1:]:
            band = signal.sosfilt(lr4("low", g), band, axis=-1) + signal.sosfilt(lr4("high", g), band, axis=-1)
        out.append(band)
    return [*out, rest]


def test_each_band_folds_its_own_gain_reduction_for_any_block_cut():
    rng = np.random.default_rng(3)
    n = SR * 3 + 777
    t = np.arange(n) / SR
    # loud lows, quiet mids, a burst of highs in the second second
    x = 0.5 * np.sin(2 * np.pi * 60 * t) + 0.05 * np.sin(2 * np.pi * 1000 * t)
    x = x + 0.3 * rng.standard_normal(n) * ((t > 1) & (t < 2))
    x = np.vstack([x, 0.9 * x])
    ref = []
    for band, params in zip(reference_bands(x), BANDS, strict=True):
        c = Compressor(**params)
        c.prepare(SR, 2, n)
        c.process(band, params={"threshold_db": np.full(n, params["threshold_db"])})  # the general path
        ref.append(c.gain_reduction_db())
    for cut in (4096, 777):
        mb = Multiband(XS, BANDS)
        mb.prepare(SR, 2, cut)
        mb.gr_stats = GRStats(SR)
        for i in range(0, n, cut):
            mb.process(x[:, i:i + cut])
        stats = mb.gr_stats
        assert len(stats.bands) == 3
        for b, gr in zip(stats.bands, ref, strict=True):
            assert b.max == pytest.approx(gr.max(), abs=1e-6)
            assert b.mean == pytest.approx(gr.mean(), abs=1e-6)
            assert b.per_second == pytest.approx([gr[k * SR:(k + 1) * SR].max() for k in range(3)], abs=1e-6)
        # the processor's own figure is the largest band reduction, sample by sample
        top = np.max(np.vstack(ref), axis=0)
        assert stats.max == pytest.approx(top.max(), abs=1e-6)
        assert stats.mean == pytest.approx(top.mean(), abs=1e-6)
    # the lows (60 Hz at -6 dBFS against a -30 dB threshold) do most of the work, the mids little
    assert ref[0].mean() > 10 and ref[1].max() < 0.5

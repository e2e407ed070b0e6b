"""The issue's synthetic master (19 kHz-region bursts over noise at -14 LUFS, ceiling -0.1 dBTP) came
out at +1.45 dBTP while the report said -0.2: every written file must now be at or under the
ceiling by the independent 16x reference, and the reported true peak must agree with it."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import yaml

from mixgraph.api.render import render_session
from tests.truepeak_reference import hf_bursts, true_peak_16x


def test_hf_master_keeps_its_ceiling_and_reports_it(tmp_path):
    sr = 48000
    x = np.concatenate([hf_bursts(sr, seconds=0.5, seed=s) for s in range(6)], axis=1) * 0.5
    sf.write(tmp_path / "mix.wav", x.T, sr, subtype="FLOAT")
    ceiling = -0.1
    doc = {"mixgraph": 1, "name": "hf", "sample_rate": sr,
           "master": {"source": str(tmp_path / "mix.wav"),
                      "chain": [{"type": "limiter", "ceiling_dbtp": ceiling}],
                      "loudness": {"target_lufs": -14.0, "ceiling_dbtp": ceiling, "max_gain_reduction_db": 30.0}},
           "outputs": {"hd": {"path": "out/hd.wav", "bit_depth": 24},
                       "cd": {"path": "out/cd.wav", "bit_depth": 16, "sample_rate": 44100, "dither": "tpdf"}}}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    result = render_session(tmp_path / "m.yaml", node_meters=False)
    for o in result.outputs:
        y, _ = sf.read(o.written.path, always_2d=True)
        ref = true_peak_16x(y.T)
        assert ref <= ceiling, o.written.path
        assert o.meter.true_peak_dbtp == pytest.approx(ref, abs=0.1), o.written.path
        assert o.meter.integrated_lufs == pytest.approx(-14.0, abs=0.5)

"""Mastering the quickstart mix (drums, bass, vocal, keys) to loudness targets from -23 to -7 LUFS:
every written file lands within 0.1 LU of the target with its true peak at or below the ceiling,
measured by the meter on the file as written (24-bit 48 kHz and 16-bit 44.1 kHz)."""

from __future__ import annotations

import pytest
import yaml

from mixgraph.api.meter import meter_file
from mixgraph.api.render import render_session
from mixgraph.cli import main
from mixgraph.errors import RenderError
from tests.conftest import REPO


@pytest.fixture(scope="module")
def mix_print(tmp_path_factory):
    out = tmp_path_factory.mktemp("mix")
    render_session(REPO / "examples/quickstart/session.yaml", out_dir=out, node_meters=False)
    return out / "quickstart-mix.wav"


def master_job(tmp_path, mix, target, ceiling, max_gr=30.0, saturate=True):
    doc = {"mixgraph": 1, "name": "m", "sample_rate": 48000,
           "master": {"source": str(mix),
                      "chain": [{"type": "eq", "bands": [{"type": "lowshelf", "freq_hz": 100, "gain_db": -1.0}]},
                                {"type": "compressor", "threshold_db": -18, "ratio": 2.5, "attack_ms": 10,
                                 "release_ms": 150, "knee_db": 6},
                                {"type": "saturation", "drive_db": 4.0 if saturate else 0.0, "oversample": 4,
                                 "bypass": not saturate},
                                {"type": "limiter", "ceiling_dbtp": ceiling}],
                      "loudness": {"target_lufs": target, "ceiling_dbtp": ceiling, "max_gain_reduction_db": max_gr}},
           "outputs": {"hd": {"path": "out/hd.wav", "bit_depth": 24},
                       "cd": {"path": "out/cd.wav", "bit_depth": 16, "sample_rate": 44100, "dither": "tpdf"}}}
    path = tmp_path / "master.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.parametrize("target,ceiling", [(-23, -1.0), (-16, -1.0), (-14, -1.0), (-11, -1.0), (-9, -0.3),
                                            (-7, -0.3)])
def test_every_written_master_meets_target_and_ceiling(tmp_path, mix_print, target, ceiling):
    render_session(master_job(tmp_path, mix_print, target, ceiling), node_meters=False)
    for name in ("hd", "cd"):
        m = meter_file(tmp_path / "out" / f"{name}.wav")
        assert m.integrated_lufs == pytest.approx(target, abs=0.1), name
        assert m.true_peak_dbtp <= ceiling, name


def test_unreachable_target_fails_and_writes_nothing(tmp_path, mix_print):
    job = master_job(tmp_path, mix_print, -5.0, -1.0, max_gr=6.0, saturate=False)
    with pytest.raises(RenderError) as exc:
        render_session(job, node_meters=False)
    assert "more than max_gain_reduction_db 6 dB" in exc.value.message
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_master_one_liner(tmp_path, mix_print, capsys):
    out = tmp_path / "club.wav"
    assert main(["master", str(mix_print), "--preset", "club", "-o", str(out)]) == 0
    m = meter_file(out)
    assert m.integrated_lufs == pytest.approx(-9.0, abs=0.1) and m.true_peak_dbtp <= -0.3
    assert main(["master", str(mix_print), "--target-lufs", "-16", "--ceiling-dbtp", "-1.5", "-o", str(out),
                 "--bit-depth", "16", "--sample-rate", "44100"]) == 0
    m = meter_file(out)
    assert (m.sample_rate, m.integrated_lufs is not None) == (44100, True)
    assert m.integrated_lufs == pytest.approx(-16.0, abs=0.1) and m.true_peak_dbtp <= -1.5
    assert "Master" in capsys.readouterr().out

"""A real render: a choir-quiet mix taken to -9 LUFS. The report and the master's sidecar carry
every processor's gain reduction, and the findings say the chain works hard."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import yaml

from mixgraph.api.render import render_session
from mixgraph.report import build_report, render_markdown, to_json
from mixgraph.report.findings import LARGE_INPUT_GAIN_DB, NEVER_ACTED_DB

SR = 48000
SECONDS = 10


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("choir")
    (tmp / "stems").mkdir()
    rng = np.random.default_rng(5)
    n = SR * SECONDS
    t = np.arange(n) / SR
    # a quiet choir: a 220 Hz tone and a little noise around -50 dBFS RMS
    choir = 0.004 * np.sin(2 * np.pi * 220 * t) + 0.001 * rng.standard_normal(n)
    sf.write(tmp / "stems/choir.wav", np.vstack([choir, choir]).T, SR, subtype="FLOAT")
    sf.write(tmp / "stems/shaker.wav", 0.3 * rng.standard_normal((n, 2)), SR, subtype="FLOAT")
    doc = {"mixgraph": 1, "name": "choir", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0.0,
           "tracks": {"choir": {"source": "choir.wav",
                                "chain": [{"type": "compressor", "id": "c", "threshold_db": 0.0}]},
                      "shaker": {"source": "shaker.wav", "mute": True,
                                 "chain": [{"type": "compressor", "threshold_db": -30.0}]}},
           "master": {"chain": [{"type": "multiband", "id": "mb", "crossovers_hz": [120.0, 2000.0],
                                 "bands": [{"threshold_db": -10.0}, {"threshold_db": -20.0},
                                           {"threshold_db": -10.0}]},
                                {"type": "limiter", "ceiling_dbtp": -1.0}],
                      "loudness": {"target_lufs": -9.0, "ceiling_dbtp": -1.0}},
           "outputs": {"master": {"path": "out/master.wav", "bit_depth": 24}}}
    (tmp / "s.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    result = render_session(str(tmp / "s.yaml"))
    return tmp, result


def test_the_report_carries_every_processor_and_says_the_chain_works_hard(rendered):
    tmp, result = rendered
    data = json.loads(to_json(build_report(result)))
    lo = data["loudness"]
    assert lo["gain_db"] > 35  # -50-ish LUFS to -9
    codes = {f["code"]: f for f in data["findings"]}
    assert codes["large-input-gain"]["figures"] == {"gain_db": lo["gain_db"], "threshold_db": LARGE_INPUT_GAIN_DB,
                                                    "target_lufs": -9.0}
    assert "unmastered" not in codes and "squashed" not in codes
    # a 10 s programme: LRA is too short to measure, in words
    assert data["master"]["lra_lu"] is None
    assert data["master"]["not_measured"]["lra_lu"].startswith("too short to measure")
    md = render_markdown(data)
    assert "| Loudness range | too short to measure" in md and "never acted" in md
    # the master chain: the multiband with its three bands, the limiter equal to the solver's figure
    mb, lim = data["master_chain"]
    assert (mb["kind"], mb["processor_id"], mb["crossovers_hz"]) == ("multiband", "mb", [120.0, 2000.0])
    assert [b["index"] for b in mb["bands"]] == [0, 1, 2]
    assert mb["max_db"] == max(b["max_db"] for b in mb["bands"])  # the processor's figure: the largest band's
    assert lim["kind"] == "limiter" and lim["max_db"] == lo["limiter_gr_max_db"]
    assert lo["max_gain_reduction_db"] == 12.0 and "limiter" in lo["budget_counts"]
    # the 220 Hz choir sits in the middle band, which does nearly all the work
    assert mb["bands"][1]["mean_db"] > 10 * max(mb["bands"][0]["mean_db"], mb["bands"][2]["mean_db"], 0.01)
    assert codes["multiband-one-band"]["figures"]["band"] == 1
    nodes = {n["node"]: n for n in data["nodes"]}
    assert nodes["track:shaker"]["muted"] is True and nodes["track:choir"]["muted"] is False
    # a compressor at 0 dB on a choir peaking at -41 dBFS never acts
    assert nodes["track:choir"]["gain_reduction"][0]["acted"] is False
    assert nodes["track:choir"]["gain_reduction"][0]["max_db"] == 0.0
    assert nodes["track:shaker"]["gain_reduction"][0]["acted"] is True  # muted after its chain: it still worked
    assert "| track:shaker | muted |" in md


def test_the_master_sidecar_lists_the_master_chain(rendered):
    tmp, result = rendered
    side = json.loads((tmp / "out/master.wav.json").read_text())
    assert side["sidecar_version"] == 2
    chain = side["master_chain_gain_reduction"]
    stats = result.master_stats["gain_reduction"]
    assert [(g["kind"], g["id"], g["index"]) for g in chain] == [("multiband", "mb", 0), ("limiter", None, 1)]
    for g, s in zip(chain, stats, strict=True):
        assert g["max_db"] == round(s.max_db, 3) and g["mean_db"] == round(s.mean_db, 3)
        assert g["never_acted"] is (s.max_db < NEVER_ACTED_DB)
    assert chain[0]["never_acted"] is False  # the multiband does the work on the quiet choir
    assert [b["max_db"] for b in chain[0]["bands"]] == [round(b.max_db, 3) for b in stats[0].bands]

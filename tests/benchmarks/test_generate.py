"""The benchmark's synthetic session: deterministic stems at the asked levels, a valid session."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from mixgraph.session.models import Session

ROOT = Path(__file__).resolve().parents[2]


def _load_generate():
    spec = importlib.util.spec_from_file_location("mixgraph_bench_generate", ROOT / "benchmarks" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gen = _load_generate()


def _sample_hashes(stems: Path) -> dict[str, str]:
    import hashlib

    out = {}
    for p in sorted(stems.glob("*.wav")):
        x, _ = sf.read(p, dtype="int32")  # 24-bit samples in the top bytes: exact
        out[p.name] = hashlib.sha256(x.tobytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    a = tmp_path_factory.mktemp("a")
    b = tmp_path_factory.mktemp("b")
    pa = gen.generate(5, 3.0, a, seed=3, log=lambda *_: None)
    pb = gen.generate(5, 3.0, b, seed=3, log=lambda *_: None)
    return pa, pb


def test_same_seed_same_samples(two_runs):
    pa, pb = two_runs
    ha, hb = _sample_hashes(pa.parent / "stems"), _sample_hashes(pb.parent / "stems")
    assert len(ha) == 5
    assert ha == hb


def test_other_seed_other_samples(two_runs, tmp_path):
    pc = gen.generate(5, 3.0, tmp_path, seed=4, log=lambda *_: None)
    ha = _sample_hashes(two_runs[0].parent / "stems")
    hc = _sample_hashes(pc.parent / "stems")
    assert not set(ha.values()) & set(hc.values())


def test_files_are_stereo_24bit_48k(two_runs):
    for p in sorted((two_runs[0].parent / "stems").glob("*.wav")):
        info = sf.info(p)
        assert (info.channels, info.samplerate, info.subtype, info.frames) == (2, 48000, "PCM_24", 144000)


def test_levels_within_range_and_no_clipping(two_runs):
    manifest = json.loads((two_runs[0].parent / "manifest.json").read_text())
    for entry in manifest["stems"]:
        x, _ = sf.read(two_runs[0].parent / "stems" / entry["file"], dtype="float64")
        rms_db = 10 * np.log10(np.mean(x**2))
        assert -30.0 <= rms_db <= -10.0, (entry["file"], rms_db)
        assert abs(rms_db - entry["rms_db"]) < 0.01  # manifest describes the file
        assert np.max(np.abs(x)) < 1.0


def test_block_generation_matches_manifest_hash(two_runs):
    manifest = json.loads((two_runs[0].parent / "manifest.json").read_text())
    for entry in manifest["stems"]:
        x, _ = sf.read(two_runs[0].parent / "stems" / entry["file"], dtype="int32")
        import hashlib

        assert hashlib.sha256(np.ascontiguousarray(x >> 8).tobytes()).hexdigest() == entry["sha256"]


def test_cache_reuses_files(two_runs):
    pa = two_runs[0]
    stem = pa.parent / "stems" / "t01.wav"
    mtime = stem.stat().st_mtime_ns
    msgs = []
    gen.generate(5, 3.0, pa.parent.parent, seed=3, log=msgs.append)
    assert stem.stat().st_mtime_ns == mtime
    assert any("reusing" in m for m in msgs)


def test_session_validates_and_matches_workload(two_runs):
    data = yaml.safe_load(two_runs[0].read_text())
    s = Session.model_validate(data)
    assert set(s.buses) == {"drums", "music", "vocals", "fx"}
    t = s.tracks["t01"]
    eq, comp = t.chain
    assert [b.type for b in eq.bands] == ["highpass", "bell", "highshelf"]
    assert eq.bands[0].slope_db_oct == 12 and eq.bands[0].freq_hz == 80
    assert (comp.threshold_db, comp.ratio, comp.attack_ms, comp.release_ms) == (-18, 4, 10, 100)
    assert [p.type for p in s.master.chain] == ["eq", "compressor", "limiter"]
    assert s.master.chain[2].ceiling_dbtp == -1.0
    assert s.master.loudness.target_lufs == -14.0
    assert s.outputs["master"].bit_depth == 24
    for name in s.tracks:
        assert (two_runs[0].parent / s.sources_dir / s.tracks[name].source).is_file()


@pytest.mark.parametrize(
    "n, expected",
    [
        (16, [("drums", 4), ("music", 6), ("vocals", 4), ("fx", 2)]),
        (8, [("drums", 2), ("music", 3), ("vocals", 2), ("fx", 1)]),
        (4, [("drums", 1), ("music", 1), ("vocals", 1), ("fx", 1)]),
        (32, [("drums", 8), ("music", 12), ("vocals", 8), ("fx", 4)]),
        (2, [("drums", 1), ("music", 1)]),
    ],
)
def test_bus_split_is_proportional(n, expected):
    assert gen.bus_counts(n) == expected


def test_16_tracks_follow_the_stated_layout():
    buses = [t["bus"] for t in gen.track_settings(16, 0)]
    assert buses == ["drums"] * 4 + ["music"] * 6 + ["vocals"] * 4 + ["fx"] * 2


def test_parse_workload():
    assert gen.parse_workload("16x180") == (16, 180.0)
    with pytest.raises(ValueError):
        gen.parse_workload("16by180")


def test_peer_workload_matches_the_session(two_runs):
    """The peers read workload.json; it must describe the same mix as session.yaml."""
    root = two_runs[0].parent
    w = json.loads((root / "workload.json").read_text())
    s = Session.model_validate(yaml.safe_load(two_runs[0].read_text()))
    assert [t["name"] for t in w["tracks"]] == list(s.tracks)
    for t in w["tracks"]:
        st = s.tracks[t["name"]]
        assert (t["gain_db"], t["pan"], t["bus"]) == (st.gain_db, st.pan, st.out)
        assert Path(t["path"]) == (root / s.sources_dir / st.source).resolve()
        eq, comp = st.chain
        assert [b.model_dump() for b in eq.bands] == [
            s_band.model_dump() for s_band in type(eq).model_validate({"type": "eq", "bands": w["track_eq"]}).bands
        ]
        assert comp.model_dump(include=set(w["track_comp"])) == w["track_comp"]
    assert w["buses"] == list(s.buses)
    for name in s.buses:
        assert s.buses[name].chain[0].model_dump(include=set(w["bus_comp"])) == w["bus_comp"]
    m_eq, m_comp, m_lim = s.master.chain
    assert m_comp.model_dump(include=set(w["master_comp"])) == w["master_comp"]
    assert m_lim.model_dump(include=set(w["master_limiter"])) == w["master_limiter"]
    assert w["target_lufs"] == s.master.loudness.target_lufs
    assert w["frames"] == 3 * 48000

"""Every example validates; expand re-validates and is byte-stable; the JSON Schema is current."""

from __future__ import annotations

import json

import pytest

from mixgraph.api.session import expand_session, load_session
from mixgraph.cli import main
from mixgraph.session.pipeline import dump_yaml, load_text
from mixgraph.session.schema import schema_text
from tests.conftest import REPO

EXAMPLES = sorted(REPO.glob("examples/*/session.yaml"))


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_validates_and_starts_with_the_schema_line(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert path.read_text().startswith("# yaml-language-server: $schema=../../schemas/session.schema.json")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_expand_revalidates_and_is_stable(path):
    session = load_session(path)
    variants = [None, *session.variants]
    for v in variants:
        text = dump_yaml(expand_session(path, v))
        again = load_text(text, "expanded.yaml").session
        assert dump_yaml(again) == text  # a fixed point: same input, same bytes
        assert dump_yaml(expand_session(path, v)) == text


def test_variant_is_applied():
    path = REPO / "examples/quickstart/session.yaml"
    assert expand_session(path, "instrumental").tracks["vocal"].mute is True
    assert expand_session(path, "vocal-up").tracks["vocal"].gain_db == 3.0
    loud = expand_session(path).master.loudness
    assert (loud.target_lufs, loud.ceiling_dbtp) == (-14.0, -1.0)


def test_presets_resolve_to_their_numbers(tmp_path):
    for preset, (target, ceiling) in {"streaming": (-14, -1), "apple": (-16, -1), "club": (-9, -0.3),
                                      "broadcast": (-23, -1)}.items():
        text = f"mixgraph: 1\nname: x\nmaster:\n  loudness: {{preset: {preset}}}\n"
        ls = load_text(text, "p.yaml")
        from mixgraph.session.pipeline import expand

        loud = expand(ls).master.loudness
        assert (loud.target_lufs, loud.ceiling_dbtp) == (target, ceiling)


def test_schema_file_is_current():
    committed = (REPO / "schemas/session.schema.json").read_text()
    assert committed == schema_text(), "run: mixgraph schema -o schemas/session.schema.json"
    schema = json.loads(committed)
    assert schema["title"] == "mixgraph session"
    assert "description" in schema["$defs"]["CompressorProc"]["properties"]["ratio"]


def test_validate_runs_the_checks_a_render_runs(tmp_path):
    """validate probes the media and compiles every variant, as a render does: a stem that is not
    audio, which used to pass validate and fail the render, now fails both with the file named."""
    import shutil
    import subprocess
    import sys

    song = tmp_path / "quickstart"
    shutil.copytree(REPO / "examples/quickstart", song)
    assert subprocess.run([sys.executable, "-m", "mixgraph", "validate", str(song / "session.yaml")],
                          capture_output=True, text=True).returncode == 0
    kick = song / "stems/kick.flac"
    kick.write_text("not audio\n")
    for cmd in ("validate", "plan"):
        r = subprocess.run([sys.executable, "-m", "mixgraph", cmd, str(song / "session.yaml")],
                           capture_output=True, text=True)
        assert r.returncode == 1, (cmd, r.stderr)
        assert "kick.flac" in r.stderr and "Traceback" not in r.stderr


SONG = REPO / "examples/song/session.yaml"


def test_song_is_built_from_both_templates_with_a_per_song_override():
    import yaml

    raw = yaml.safe_load(SONG.read_text())
    assert {u["template"] for u in raw["use"].values()} == {"band@1", "vocal-stack@1"}
    assert raw["use"]["vox"]["with"]["harmonies"] == "vox/harmony_*.flac"
    session = load_session(SONG)
    harmonies = sorted(k for k in session.tracks if k.startswith("vox_harmony_"))
    assert harmonies == [f"vox_harmony_{i}" for i in range(1, 7)]
    assert [session.tracks[h].source for h in harmonies] == [f"vox/harmony_{i}.flac" for i in range(1, 7)]
    assert {session.tracks[h].out for h in harmonies} == {"vocals"}
    assert {"band_kick", "band_snare", "band_bass", "band_gtr_1", "band_gtr_2", "band_keys_1"} <= set(session.tracks)
    assert (session.buses["drums"].gain_db, session.buses["music"].gain_db) == (-5.0, -6.0)
    # the override: the session's gain and automation over the template's lead, which keeps the rest
    lead = session.tracks["vox_lead"]
    assert "source" not in raw["tracks"]["vox_lead"] and lead.source == "vox/lead.flac"
    assert lead.gain_db == 1.5 and [p.type for p in lead.chain] == ["eq", "compressor", "deesser"]
    # the bus chain is a list, so the session's replaces the template's whole
    assert [(p.type, p.ratio) for p in session.buses["vocals"].chain] == [("compressor", 2.5)]


def test_song_stems_are_what_make_stems_writes(tmp_path):
    import runpy

    import numpy as np
    import soundfile as sf

    runpy.run_path(str(SONG.parent / "make_stems.py"))["main"](tmp_path)
    committed = sorted(p.relative_to(SONG.parent / "stems") for p in (SONG.parent / "stems").rglob("*.flac"))
    assert len(committed) == 19 and committed == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.flac"))
    total = sum((SONG.parent / "stems" / f).stat().st_size for f in committed)
    assert total < 1.5e6
    for f in committed:
        a, sr_a = sf.read(tmp_path / f, dtype="int16")
        b, sr_b = sf.read(SONG.parent / "stems" / f, dtype="int16")
        assert sr_a == sr_b == 44100 and a.ndim == 1 and np.array_equal(a, b), f

"""Recall: the lock file, `render --locked`, `verify`, provenance sidecars and file metadata,
`--all-variants` with its comparison table."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
import yaml

from mixgraph.cli import main
from mixgraph.recall.lock import lock_path, read_lock

SR = 48000


def make_session(tmp_path, *, variants=None, outputs=None):
    """Two stereo 24-bit WAV tracks of the same noise (so muting one is exactly -6.02 dB)."""
    stems = tmp_path / "stems"
    stems.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    x = 0.1 * rng.standard_normal((SR * 2, 2))
    for name in ("a", "b"):
        sf.write(stems / f"{name}.wav", x, SR, subtype="PCM_24")
    doc = {
        "mixgraph": 1, "name": "song", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0.0,
        "tracks": {"a": {"source": "a.wav"}, "b": {"source": "b.wav"}},
        "outputs": outputs or {"mix": {"path": "renders/{name}{variant}-mix.wav", "tap": "premaster",
                                       "bit_depth": "32f"}},
    }
    if variants:
        doc["variants"] = variants
    p = tmp_path / "song.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return p


def cli(*args) -> int:
    return main([str(a) for a in args])


def flip_one_byte(wav_path, frame: int, byte_in_sample: int = 1):
    """Add 1 to one byte of one 24-bit sample (left channel) in the data chunk, in place."""
    raw = bytearray(wav_path.read_bytes())
    data = raw.index(b"data") + 8
    pos = data + frame * 2 * 3 + byte_in_sample
    raw[pos] = (raw[pos] + 1) % 256
    wav_path.write_bytes(bytes(raw))


def test_lock_render_verify_round_trip(tmp_path, capsys):
    s = make_session(tmp_path)
    assert cli("lock", s) == 0
    lock = read_lock(lock_path(s))
    assert sorted(lock.sources) == ["stems/a.wav", "stems/b.wav"]
    assert lock.sources["stems/a.wav"]["format"] == "WAV PCM_24"
    assert lock.sources["stems/a.wav"]["frames"] == 2 * SR
    import hashlib

    assert lock.sources["stems/a.wav"]["sha256"] == hashlib.sha256((tmp_path / "stems/a.wav").read_bytes()).hexdigest()
    assert lock.renders == {}
    assert {"mixgraph", "numpy", "scipy", "numba", "soxr", "soundfile", "libsndfile"} <= set(lock.versions)

    assert cli("render", s, "-q", "--no-report-files") == 0
    lock = read_lock(lock_path(s))
    out = tmp_path / "renders/song-mix.wav"
    # the recorded hash is the hash of the samples in the file (float32, interleaved)
    samples = sf.read(out, dtype="float32", always_2d=True)[0]
    assert lock.renders[""]["outputs"] == {"mix": hashlib.sha256(np.ascontiguousarray(samples).tobytes()).hexdigest()}

    capsys.readouterr()
    assert cli("verify", s) == 0
    text = capsys.readouterr().out
    assert "identical  mix" in text and "identical to the lock" in text
    # locking again with nothing changed keeps the recorded hashes and the bytes of the file
    before = lock_path(s).read_bytes()
    assert cli("lock", s) == 0
    assert lock_path(s).read_bytes() == before


def test_one_changed_source_byte_fails_locked_render_and_verify_measures_it(tmp_path, capsys):
    s = make_session(tmp_path)
    assert cli("lock", s) == 0 and cli("render", s, "-q", "--no-report-files") == 0
    out = tmp_path / "renders/song-mix.wav"
    rendered = out.read_bytes()
    flip_one_byte(tmp_path / "stems/a.wav", frame=1000, byte_in_sample=1)  # +256 LSB of 24-bit = 2^-15

    capsys.readouterr()
    assert cli("render", s, "--locked", "-q", "--no-report-files") == 1
    err = capsys.readouterr().err
    assert "stems/a.wav: sha256" in err and "nothing was rendered" in err and "Traceback" not in err
    assert out.read_bytes() == rendered  # --locked refused before touching anything

    assert cli("verify", s, "--json") == 1
    v = json.loads(capsys.readouterr().out)
    assert v["identical"] is False
    assert v["source_changes"][0].startswith("stems/a.wav: sha256")
    (o,) = v["outputs"]
    assert o["name"] == "mix" and o["identical"] is False
    # the mix is the plain sum (unity faders, centre balance): the difference is exactly the edit,
    # +-256/2^23 = 2^-15 (the byte may carry into the next one when it wraps; not at this seed)
    assert o["max_diff_dbfs"] == pytest.approx(20 * math.log10(2.0 ** -15), abs=1e-3)
    # one sample in 2 * 2 * SR differs: RMS = 2^-15 / sqrt(4 SR)
    assert o["null_rms_dbfs"] == pytest.approx(20 * math.log10(2.0 ** -15 / math.sqrt(4 * SR)), abs=1e-3)
    assert out.read_bytes() == rendered  # verify rendered into a temporary folder


def test_render_without_locked_warns_and_leaves_the_lock_alone(tmp_path, capsys):
    s = make_session(tmp_path)
    assert cli("lock", s) == 0
    before = lock_path(s).read_bytes()
    flip_one_byte(tmp_path / "stems/b.wav", frame=5)
    capsys.readouterr()
    assert cli("render", s, "-q", "--no-report-files") == 0
    err = capsys.readouterr().err
    assert "warning: differs from song.lock: stems/b.wav" in err
    assert lock_path(s).read_bytes() == before  # no output hashes recorded against a stale lock
    assert cli("lock", s, "--check") == 1
    assert cli("lock", s) == 0
    assert cli("lock", s, "--check") == 0


def test_locked_without_a_lock_and_verify_without_hashes_are_user_errors(tmp_path, capsys):
    s = make_session(tmp_path)
    assert cli("render", s, "--locked", "-q") == 1
    assert "no lock file" in capsys.readouterr().err
    assert cli("verify", s) == 1
    assert "no lock file" in capsys.readouterr().err
    assert cli("lock", s) == 0
    assert cli("verify", s) == 1
    assert "no output hashes recorded" in capsys.readouterr().err


def test_session_edit_is_reported_by_locked_render(tmp_path, capsys):
    s = make_session(tmp_path)
    assert cli("lock", s) == 0
    s.write_text(s.read_text().replace("source: b.wav", "source: b.wav\n    gain_db: 1.0"))
    capsys.readouterr()
    assert cli("render", s, "--locked", "-q") == 1
    assert "the session changed since it was locked" in capsys.readouterr().err


def git(cwd, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_sidecar_and_file_metadata_carry_the_provenance(tmp_path):
    from mixgraph.api.plan import resolve_plan
    from mixgraph.api.render import render_session

    s = make_session(tmp_path, outputs={
        "mix": {"path": "renders/mix.wav", "tap": "premaster", "bit_depth": 24},
        "flac": {"path": "renders/mix.flac", "tap": "premaster", "bit_depth": 16},
    })
    (tmp_path / ".gitignore").write_text("renders/\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "song")
    head = git(tmp_path, "rev-parse", "HEAD")
    r = resolve_plan(s)
    plan, shash = r.plan, r.session_hash

    r = render_session(s, node_meters=False)
    side = json.loads((tmp_path / "renders/mix.wav.json").read_text())
    assert side["session_sha256"] == shash and side["plan_sha256"] == plan.plan_hash()
    assert side["git"] == {"commit": head, "dirty": False}
    assert side["output"]["sha256_samples"] == r.outputs[0].written.sha256
    assert side["integrated_lufs"] == pytest.approx(r.outputs[0].meter.integrated_lufs, abs=1e-3)
    assert side["true_peak_dbtp"] == pytest.approx(r.outputs[0].meter.true_peak_dbtp, abs=1e-3)
    for f in ("mix.wav", "mix.flac"):
        meta = sf.SoundFile(tmp_path / "renders" / f).copy_metadata()
        assert f"session sha256:{shash}" in meta["comment"]
        assert f"plan sha256:{plan.plan_hash()}" in meta["comment"]
        assert meta["title"] == "song"

    s.write_text(s.read_text().replace("tail_s: 0.0", "tail_s: 0.5"))
    render_session(s, node_meters=False)
    side = json.loads((tmp_path / "renders/mix.wav.json").read_text())
    assert side["git"] == {"commit": head, "dirty": True}


def test_sidecar_outside_git_has_no_commit(tmp_path):
    from mixgraph.api.render import render_session

    s = make_session(tmp_path)
    render_session(s, node_meters=False)
    side = json.loads((tmp_path / "renders/song-mix.wav.json").read_text())
    assert side["git"] is None and side["variant"] is None and side["session"] == "song.yaml"


def test_all_variants_render_with_their_own_reports_and_a_comparison(tmp_path, capsys):
    s = make_session(tmp_path, variants={
        "solo-a": {"description": "only a", "mute": ["b"]},
        "hot": {"set": {"tracks.b.gain_db": 6.0}},
    })
    capsys.readouterr()
    assert cli("render", s, "--all-variants", "-q") == 0
    text = capsys.readouterr().out
    lufs = {}
    for stem in ("song", "song-solo-a", "song-hot"):
        rep = json.loads((tmp_path / "renders" / f"{stem}.report.json").read_text())
        lufs[stem] = rep["mix"]["integrated_lufs"]
    # a and b carry the same noise: muting b halves the amplitude (-6.02 dB); b at +6 dB makes
    # 1 + 10^(6/20) times the amplitude of a alone
    assert lufs["song-solo-a"] - lufs["song"] == pytest.approx(-20 * math.log10(2), abs=0.05)
    assert lufs["song-hot"] - lufs["song-solo-a"] == pytest.approx(20 * math.log10(1 + 10 ** 0.3), abs=0.05)
    assert "Variants" in text
    rows = {line.split()[1]: line for line in text.splitlines() if line.startswith("│")}
    assert "-6.0 LU" in rows["solo-a"] and "+0.0 LU" in rows["(session)"]
    assert f"{20 * math.log10(1 + 10 ** 0.3) - 20 * math.log10(2):+.1f} LU" in rows["hot"]
    for f in ("song-mix.wav", "song-solo-a-mix.wav", "song-hot-mix.wav"):
        assert (tmp_path / "renders" / f).is_file() and (tmp_path / "renders" / f"{f}.json").is_file()


def test_all_variants_and_variant_exclude_each_other(tmp_path, capsys):
    s = make_session(tmp_path, variants={"x": {"mute": ["b"]}})
    assert cli("render", s, "--all-variants", "--variant", "x") == 1
    assert "leave out --variant" in capsys.readouterr().err


def test_dither_seed_follows_the_song_not_its_edits(tmp_path):
    from mixgraph.api.plan import resolve_plan

    def resolve(path, variant=None):
        return (resolve_plan(path, variant).plan,)

    s = make_session(tmp_path, variants={"x": {"mute": ["b"]}})
    seed = resolve(s)[0].seed
    assert resolve(s, "x")[0].seed == seed
    s.write_text(s.read_text().replace("source: b.wav", "source: b.wav\n    gain_db: 1.0"))
    assert resolve(s)[0].seed == seed
    s.write_text(s.read_text().replace("name: song", "name: other"))
    assert resolve(s)[0].seed != seed

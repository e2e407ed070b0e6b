"""Classes 1 and 2 of the hostile-session corpus: a render must not destroy a file the user owns
(the session, its lock, a source, an IR, a template, another output, a sidecar or report) nor
write anywhere outside the song folder. Every case: validate refuses (exit 1 or 2), render refuses
with the same code, and not one file under tmp_path was created, changed or removed."""

from __future__ import annotations

import os

import pytest
import yaml

from tests.trust.corpus import (
    SECRET,
    assert_refused,
    assert_user_facing,
    base_doc,
    changes,
    cli,
    make_song,
    proc,
    snapshot,
    write_wav,
)

WAV = {"format": "wav", "bit_depth": "32f"}


def outputs(**paths) -> dict:
    return {name: {"path": p, **WAV} for name, p in paths.items()}


# --------------------------------------------------------------------------- class 1: files destroyed


@pytest.mark.parametrize("path", ["song.yaml", "./song.yaml", "out/../song.yaml"])
def test_output_naming_the_session_file_is_refused(tmp_path, capsys, path):
    song = make_song(tmp_path, base_doc(outputs=outputs(mix=path)))
    assert_refused(capsys, song)


def test_output_naming_the_lock_file_is_refused(tmp_path, capsys):
    # the lock is written by `mixgraph lock` on a good session, which then names it as an output
    song = make_song(tmp_path, base_doc(outputs=outputs(mix="out/mix.wav")))
    assert cli(capsys, "lock", song.session).code == 0
    assert (song.dir / "song.lock").exists()
    song.session.write_text(song.session.read_text().replace("out/mix.wav", "song.lock"))
    assert_refused(capsys, song)


def test_output_naming_another_outputs_sidecar_is_refused(tmp_path, capsys):
    song = make_song(tmp_path, base_doc(outputs=outputs(x="out/x.wav", side="out/x.wav.json")))
    assert_refused(capsys, song)


def test_output_naming_a_report_file_is_refused(tmp_path, capsys):
    # the report files are <name>.report.{json,md,html} in the first output's folder
    song = make_song(tmp_path, base_doc(outputs=outputs(mix="out/mix.wav", rep="out/t.report.html")))
    assert_refused(capsys, song)


def test_output_naming_a_source_is_refused(tmp_path, capsys):
    song = make_song(tmp_path, base_doc(outputs=outputs(mix="stems/a.wav")))
    assert_refused(capsys, song)


def test_output_naming_a_source_through_a_symlinked_folder_is_refused(tmp_path, capsys):
    song = make_song(tmp_path, base_doc(outputs=outputs(mix="alias/a.wav")))
    os.symlink("stems", song.dir / "alias")
    assert_refused(capsys, song)


def test_output_naming_a_convolution_ir_is_refused(tmp_path, capsys):
    doc = base_doc(returns={"verb": {"chain": [{"type": "reverb", "ir": "ir.wav", "mix": 1.0}]}},
                   outputs=outputs(mix="ir.wav"))
    doc["tracks"]["a"]["sends"] = [{"to": "verb", "level_db": -6}]
    song = make_song(tmp_path, doc)
    write_wav(song.dir / "ir.wav", frames=2400, seed=9)
    assert_refused(capsys, song)


def test_variant_output_naming_a_variants_ir_is_refused(tmp_path, capsys):
    # the variant's output 'ir.wav' is written as 'ir-v.wav' (the variant's suffix), the IR the
    # variant itself uses
    doc = base_doc(returns={"verb": {"chain": [{"id": "r", "type": "reverb", "decay_s": 0.3, "mix": 1.0}]}},
                   variants={"v": {"set": {"returns.verb.chain": [{"type": "reverb", "ir": "ir-v.wav", "mix": 1.0}]},
                                   "outputs": outputs(mix="ir.wav")}})
    doc["tracks"]["a"]["sends"] = [{"to": "verb", "level_db": -6}]
    song = make_song(tmp_path, doc)
    write_wav(song.dir / "ir-v.wav", frames=2400, seed=9)
    assert_refused(capsys, song, variant="v")


def test_output_naming_a_template_file_is_refused(tmp_path, capsys):
    song = make_song(tmp_path)
    (song.dir / "templates").mkdir()
    (song.dir / "templates" / "mine.yaml").write_text(yaml.safe_dump({
        "template": "mine", "version": 1, "params": {"src": {"type": "file"}},
        "body": {"tracks": {"${prefix}_x": {"source": "${src}"}}}}))
    doc = base_doc(use={"m": {"template": "./templates/mine.yaml@1", "with": {"src": "a.wav"}}},
                   outputs=outputs(mix="templates/mine.yaml"))
    song.write(doc)
    assert cli(capsys, "expand", song.session).code in (0, 2)  # the template itself loads
    assert_refused(capsys, song)


def test_two_outputs_with_one_path_are_refused(tmp_path, capsys):
    song = make_song(tmp_path, base_doc(outputs=outputs(a="out/x.wav", b="out//x.wav")))
    assert_refused(capsys, song)


def test_two_outputs_through_a_symlinked_folder_are_refused(tmp_path, capsys):
    song = make_song(tmp_path, base_doc(outputs=outputs(a="out/x.wav", b="out2/x.wav")))
    (song.dir / "out").mkdir()
    os.symlink("out", song.dir / "out2")
    assert_refused(capsys, song)


def test_two_outputs_in_a_variant_with_one_path_are_refused(tmp_path, capsys):
    song = make_song(tmp_path, base_doc(variants={"v": {"outputs": outputs(a="out/same.wav", b="./out/same.wav")}}))
    assert_refused(capsys, song, variant="v")


def test_out_dir_with_two_outputs_of_one_basename_is_refused(tmp_path, capsys):
    # validate cannot know --out-dir; the render alone must refuse before writing anything
    song = make_song(tmp_path, base_doc(outputs=outputs(a="one/x.wav", b="two/x.wav")))
    assert cli(capsys, "validate", song.session).code == 0
    assert_refused(capsys, song, "--out-dir", song.dir / "flat", validate=False, codes=(1, 2))


def test_out_dir_output_naming_the_session_is_refused(tmp_path, capsys):
    song = make_song(tmp_path, base_doc(outputs=outputs(a="renders/song.yaml")))
    assert_refused(capsys, song, "--out-dir", song.dir)


def test_output_case_folding_onto_the_session_is_refused_where_the_fs_folds(tmp_path, capsys):
    probe = tmp_path / "Fold"
    probe.write_text("x")
    if not (tmp_path / "fold").exists():
        pytest.skip("this file system does not fold case, so SONG.YAML is another file than song.yaml")
    probe.unlink()
    song = make_song(tmp_path, base_doc(outputs=outputs(mix="SONG.YAML")))
    assert_refused(capsys, song)


# --------------------------------------------------------------------------- class 2: writes outside


@pytest.mark.parametrize("path", ["../victim/notes.txt", "../victim/new.wav", "out/../../victim/x.wav",
                                  "../song/../victim/y.wav"])
def test_relative_output_leaving_the_song_is_refused(tmp_path, capsys, path):
    song = make_song(tmp_path, base_doc(outputs=outputs(mix=path)))
    assert_refused(capsys, song)


def test_absolute_output_path_is_refused(tmp_path, capsys):
    song = make_song(tmp_path, base_doc(outputs=outputs(mix=str(tmp_path / "victim" / "abs.wav"))))
    assert_refused(capsys, song)


def test_absolute_output_path_inside_the_song_is_refused_too(tmp_path, capsys):
    song = make_song(tmp_path, base_doc(outputs=outputs(mix=str(tmp_path / "song" / "out" / "abs.wav"))))
    assert_refused(capsys, song)


def test_symlinked_out_folder_leaving_the_song_is_refused(tmp_path, capsys):
    song = make_song(tmp_path, base_doc(outputs=outputs(mix="out/x.wav")))
    os.symlink(os.path.join("..", "victim"), song.dir / "out")
    assert_refused(capsys, song)


def test_symlinked_output_file_pointing_outside_is_refused(tmp_path, capsys):
    song = make_song(tmp_path, base_doc(outputs=outputs(mix="out/x.wav")))
    (song.dir / "out").mkdir()
    os.symlink(os.path.join("..", "..", "victim", "notes.txt"), song.dir / "out" / "x.wav")
    assert_refused(capsys, song)


def _evil_template(path):
    path.write_text(f"# {SECRET}\ntemplate: evil\nversion: 1\nparams: {{}}\n"
                    f"body: {{tracks: {{{SECRET}: {{source: a.wav}}}}}}\n")


@pytest.mark.parametrize("spec", ["../evil.yaml", "../evil.yaml@1", "ABS", "ABS@1"])
def test_template_outside_the_song_is_refused_without_echoing_it(tmp_path, capsys, spec):
    song = make_song(tmp_path)
    _evil_template(tmp_path / "evil.yaml")
    spec = spec.replace("ABS", str(tmp_path / "evil.yaml"))
    song.write(base_doc(use={"e": {"template": spec}}))
    v = assert_refused(capsys, song, codes=(2,))
    assert SECRET not in v.text
    assert SECRET not in cli(capsys, "expand", song.session).text
    assert SECRET not in cli(capsys, "render", song.session, "-q").text


def test_template_through_a_symlink_leaving_the_song_is_refused(tmp_path, capsys):
    song = make_song(tmp_path)
    _evil_template(tmp_path / "evil.yaml")
    (song.dir / "templates").mkdir()
    os.symlink(os.path.join("..", "..", "evil.yaml"), song.dir / "templates" / "t.yaml")
    song.write(base_doc(use={"e": {"template": "./templates/t.yaml@1"}}))
    v = assert_refused(capsys, song, codes=(2,))
    assert SECRET not in v.text


@pytest.mark.parametrize("spec", ["/proc/self/environ", "/proc/self/environ@1", "/etc/passwd"])
def test_template_naming_a_system_file_is_refused_without_echoing_it(tmp_path, spec):
    # a subprocess, so /proc/self/environ is a process whose environment holds the secret
    song = make_song(tmp_path)
    song.write(base_doc(use={"e": {"template": spec}}))
    before = snapshot(tmp_path)
    for cmd in ("validate", "expand", "render"):
        r = proc(cmd, song.session, env={"MIXGRAPH_TRUST_SECRET": SECRET})
        assert_user_facing(r, (song.session.name,))
        assert r.code == 2, (cmd, r.code, r.text)
        assert SECRET not in r.text
        assert "root:" not in r.text
    assert not changes(before, snapshot(tmp_path))


def test_case_folding_collisions_are_refused_where_the_fs_folds(tmp_path, capsys, monkeypatch):
    """On a file system that folds case (macOS, Windows), Out/Mix.wav and out/mix.wav are one file;
    this one does not fold, so the probe's answer is replaced to check the comparison itself."""
    from mixgraph.api import outputs as layout

    song = make_song(tmp_path, base_doc(outputs=outputs(a="out/Mix.wav", b="out/mix.wav")))
    assert cli(capsys, "validate", song.session).code == 0  # two files here
    monkeypatch.setattr(layout, "folds_case", lambda folder: True)
    r = cli(capsys, "validate", song.session)
    assert r.code == 2 and "cannot share a path" in r.text


def test_folds_case_answers_from_the_file_system(tmp_path):
    from mixgraph.api.outputs import folds_case

    (tmp_path / "Song").mkdir()
    assert folds_case(tmp_path / "Song") == (tmp_path / "sONG").exists()

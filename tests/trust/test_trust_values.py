"""Classes 4, 6 and 7 of the hostile-session corpus.

4 silently wrong: what renders is what the session says (automation lanes the DSP would ignore,
  negative tails, non-finite numbers, the schema's documented default is the one used);
6 no exit 3 on user input or environment;
7 unbounded work refused promptly (exit 1 or 2), run in subprocesses whose timeout is a safety net.
"""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
import soundfile as sf
import yaml

from tests.trust.corpus import (
    RENDER_OPTS,
    WORKTREE,
    assert_refused,
    assert_user_facing,
    base_doc,
    changes,
    cli,
    make_song,
    proc,
    same_verdict,
    sample_hash,
    snapshot,
    write_wav,
)

# --------------------------------------------------------------------------- class 4: silently wrong

#: (processor with id 'p', parameter, breakpoints far from the static value)
LANES = [
    ({"type": "delay", "time_ms": 100, "feedback": 0.3, "mix": 0.5}, "time_ms", [[0, 20], [0.2, 400]]),
    ({"type": "delay", "time_ms": 100, "feedback": 0.3, "mix": 0.5}, "feedback", [[0, 0.0], [0.2, 0.95]]),
    ({"type": "reverb", "decay_s": 1.0, "mix": 0.5}, "decay_s", [[0, 0.1], [0.2, 8.0]]),
    ({"type": "reverb", "decay_s": 1.0, "mix": 0.5}, "predelay_ms", [[0, 50], [0.2, 300]]),
    ({"type": "compressor", "threshold_db": -40, "ratio": 10, "attack_ms": 10}, "attack_ms", [[0, 0.1], [0.2, 300]]),
    ({"type": "compressor", "threshold_db": -40, "ratio": 10, "release_ms": 100}, "release_ms", [[0, 1], [0.2, 3000]]),
    ({"type": "limiter", "ceiling_dbtp": -12}, "lookahead_ms", [[0, 0.5], [0.2, 20]]),
    ({"type": "deesser", "threshold_db": -60, "ratio": 8}, "freq_hz", [[0, 2000], [0.2, 12000]]),
    ({"type": "deesser", "threshold_db": -60, "ratio": 8}, "q", [[0, 0.3], [0.2, 15]]),
    # a control: a lane the DSP honours, so the test's "differs" branch is known to work
    ({"type": "compressor", "threshold_db": -40, "ratio": 10}, "threshold_db", [[0, -40], [0.2, 0]]),
]


def _lane_doc(proc_: dict, lane: dict | None) -> dict:
    doc = base_doc(tail_s=0.5)
    doc["tracks"]["a"]["chain"] = [{"id": "p", **proc_}]
    if lane:
        doc["tracks"]["a"]["automation"] = lane
    return doc


@pytest.mark.parametrize("proc_, param, points", LANES, ids=[f"{p['type']}.{q}" for p, q, _ in LANES])
def test_automation_lane_is_refused_or_honoured(tmp_path, capsys, proc_, param, points):
    # either answer is right: validate refuses the lane (exit 2, and render agrees), or the render
    # honours it (its samples differ from the same session without the lane)
    song = make_song(tmp_path / "lane", _lane_doc(proc_, {f"p.{param}": points}))
    v = cli(capsys, "validate", song.session)
    assert_user_facing(v)
    if v.code == 2:
        assert_refused(capsys, song, codes=(2,))
        return
    assert v.code == 0, v.text
    plain = make_song(tmp_path / "plain", _lane_doc(proc_, None))
    for s in (song, plain):
        r = cli(capsys, "render", s.session, *RENDER_OPTS, "--no-report-files")
        assert r.code == 0, r.text
    assert sample_hash(song.dir / "out/mix.wav") != sample_hash(plain.dir / "out/mix.wav"), (
        f"validate accepted the lane p.{param} but the render ignored it (same samples as without it)")


def test_unknown_lane_added_by_a_variant_is_refused(tmp_path, capsys):
    doc = base_doc(variants={"v": {"set": {"tracks.a.automation": {"nope.gain_db": [[0, 1.0]]}}}})
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,), variant="v")


def test_lane_on_an_unknown_parameter_of_a_known_processor_is_refused(tmp_path, capsys):
    doc = _lane_doc({"type": "compressor"}, {"p.nonsense": [[0, 1.0]]})
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


def test_lane_on_a_processor_id_only_a_variant_removes_is_refused(tmp_path, capsys):
    doc = _lane_doc({"type": "compressor"}, {"p.threshold_db": [[0, -20.0], [0.2, -40.0]]})
    doc["variants"] = {"v": {"set": {"tracks.a.chain": []}}}
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,), variant="v")


def test_negative_tail_is_refused(tmp_path, capsys):
    assert_refused(capsys, make_song(tmp_path, base_doc(tail_s=-0.5)), codes=(2,))


@pytest.mark.parametrize("points", [[[0, float("nan")]], [[float("nan"), 0.0]], [[0, 0.0], [float("inf"), 1.0]],
                                    [[0, float("-inf")]]], ids=["nan-value", "nan-time", "inf-time", "-inf-value"])
def test_non_finite_automation_is_refused(tmp_path, capsys, points):
    doc = base_doc()
    doc["tracks"]["a"]["automation"] = {"gain_db": points}
    assert_refused(capsys, make_song(tmp_path, doc), codes=(2,))


NAN, INF = float("nan"), float("inf")

#: (dotted path into base_doc, value): every non-finite number is refused at validate
NON_FINITE = [
    ("tracks.a.gain_db", NAN), ("tracks.a.pan", NAN), ("tracks.a.gain_db", -INF), ("tail_s", INF),
    ("tempo_bpm", NAN), ("tracks.a.fade.in_ms", INF), ("tracks.a.trim.end_s", INF),
    ("tracks.a.trim.start_s", NAN), ("master.gain_db", NAN), ("tracks.a.chain", [{"type": "compressor",
                                                                                    "threshold_db": NAN}]),
    ("tracks.a.chain", [{"type": "eq", "bands": [{"type": "bell", "freq_hz": INF, "gain_db": 1}]}]),
    ("tracks.a.chain", [{"type": "gate", "hold_ms": INF}]),
    ("tracks.a.chain", [{"type": "compressor", "sidechain": {"from": "b", "highpass_hz": INF}}]),
    ("tracks.a.chain", [{"type": "delay", "time_ms": 100, "highcut_hz": INF}]),
    ("tracks.a.chain", [{"type": "multiband", "crossovers_hz": [NAN], "bands": [{}, {}]}]),
    ("master.loudness", {"target_lufs": NAN}), ("master.loudness", {"preset": "streaming", "tolerance_lu": NAN}),
    ("variants", {"v": {"set": {"tracks.a.gain_db": NAN}}}),
    ("variants", {"v": {"set": {"tail_s": INF}}}),
]


def _set(doc: dict, dotted: str, value) -> dict:
    *head, last = dotted.split(".")
    node = doc
    for k in head:
        node = node.setdefault(k, {})
    node[last] = value
    return doc


@pytest.mark.parametrize("where, value", NON_FINITE, ids=[f"{w}-{i}" for i, (w, _) in enumerate(NON_FINITE)])
def test_non_finite_number_is_refused(tmp_path, capsys, where, value):
    song = make_song(tmp_path, _set(base_doc(), where, value))
    assert_refused(capsys, song, codes=(2,), variant="v" if where == "variants" else None)


def test_schema_default_ceiling_is_the_ceiling_used(tmp_path, capsys):
    """null in the schema means "the preset's ceiling, or -1 dBTP without a preset" (a -1 default
    would override a preset's own ceiling): the schema must say what null does, and expand and the
    plan must agree on the ceiling used."""
    schema = json.loads((WORKTREE / "schemas/session.schema.json").read_text())
    prop = schema["$defs"]["Loudness"]["properties"]["ceiling_dbtp"]
    assert prop.get("default") is None and "-1 dBTP without a preset" in prop["description"]
    song = make_song(tmp_path, base_doc(master={"chain": [{"type": "limiter"}], "loudness": {"target_lufs": -16.0}}))
    e = cli(capsys, "expand", song.session)
    assert e.code == 0, e.text
    expanded = yaml.safe_load(e.out)["master"]["loudness"]["ceiling_dbtp"]
    p = cli(capsys, "plan", song.session, "--json")
    assert p.code == 0, p.text
    used = json.loads(p.out)["master"]["loudness"]["ceiling_dbtp"]
    assert expanded == used == -1.0, f"expand prints {expanded!r}, the plan uses {used!r}"


# --------------------------------------------------------------------------- class 6: no exit 3


def test_infinite_start_is_refused(tmp_path, capsys):
    song = make_song(tmp_path, _set(base_doc(), "tracks.a.start_s", INF))
    assert_refused(capsys, song, codes=(2,))


def test_nan_tail_is_refused(tmp_path, capsys):
    assert_refused(capsys, make_song(tmp_path, base_doc(tail_s=NAN)), codes=(2,))


def test_eq_q_automated_to_zero_is_refused(tmp_path, capsys):
    doc = base_doc()
    doc["tracks"]["a"]["chain"] = [{"id": "e", "type": "eq", "bands": [{"type": "bell", "freq_hz": 1000,
                                                                          "gain_db": 6, "q": 1.0}]}]
    doc["tracks"]["a"]["automation"] = {"e.bands.0.q": [[0, 1.0], [0.1, 0.0]]}
    assert_refused(capsys, make_song(tmp_path, doc))


def test_eq_freq_automated_above_nyquist_is_refused(tmp_path, capsys):
    doc = base_doc()
    doc["tracks"]["a"]["chain"] = [{"id": "e", "type": "eq", "bands": [{"type": "bell", "freq_hz": 1000,
                                                                          "gain_db": 6}]}]
    doc["tracks"]["a"]["automation"] = {"e.bands.0.freq_hz": [[0, 1000.0], [0.1, 30000.0]]}
    assert_refused(capsys, make_song(tmp_path, doc))


def test_tiny_tempo_with_a_note_delay_is_refused(tmp_path, capsys):
    doc = base_doc(tempo_bpm=0.001)
    doc["tracks"]["a"]["chain"] = [{"type": "delay", "note": "1/1"}]
    assert_refused(capsys, make_song(tmp_path, doc), subprocess_timeout=120)


def test_very_deep_yaml_nesting_is_refused(tmp_path, capsys):
    depth = 20000
    song = make_song(tmp_path)
    song.write("mixgraph: 1\nname: t\ntracks: " + "[" * depth + "]" * depth + "\n")
    assert_refused(capsys, song, codes=(2,))


def test_very_deep_yaml_mapping_nesting_is_refused(tmp_path, capsys):
    depth = 20000
    song = make_song(tmp_path)
    song.write("mixgraph: 1\nname: t\ntracks: " + "{a: " * depth + "1" + "}" * depth + "\n")
    assert_refused(capsys, song, codes=(2,))


@pytest.mark.parametrize("path", ["out/a\0b.wav", "out/\x01x.wav", "", ".", "out/", "out", "notes.txt/x.wav", "./"],
                         ids=["nul", "control", "empty", "dot", "trailing-slash", "folder", "file-parent", "dot-slash"])
def test_bad_output_path_is_refused(tmp_path, capsys, path):
    song = make_song(tmp_path, base_doc(outputs={"mix": {"path": path, "format": "wav", "bit_depth": "32f"}}))
    (song.dir / "out").mkdir()
    (song.dir / "out" / "keep.txt").write_text("mine")
    (song.dir / "notes.txt").write_text("mine")
    assert_refused(capsys, song, codes=(2,))


def test_raw_source_is_refused(tmp_path, capsys):
    doc = base_doc()
    doc["tracks"]["a"]["source"] = "a.raw"
    song = make_song(tmp_path, doc)
    (song.dir / "stems" / "a.raw").write_bytes(np.zeros(4800, dtype="<i2").tobytes())
    assert_refused(capsys, song, codes=(1,), names=("a.raw",))


def _chmod_effective(path, mode, access) -> bool:
    os.chmod(path, mode)
    return not os.access(path, access)


def test_read_only_output_folder_is_a_user_error(tmp_path, capsys):
    song = make_song(tmp_path)
    out = song.dir / "out"
    out.mkdir()
    if not _chmod_effective(out, stat.S_IRUSR | stat.S_IXUSR, os.W_OK):
        os.chmod(out, 0o755)
        pytest.skip("running as root: chmod does not stop this process writing the folder")
    try:
        v = cli(capsys, "validate", song.session)
        assert_user_facing(v)
        assert_refused(capsys, song, codes=(1,), validate=False)
    finally:
        os.chmod(out, 0o755)


def test_unreadable_lock_is_a_user_error(tmp_path, capsys):
    song = make_song(tmp_path)
    assert cli(capsys, "lock", song.session).code == 0
    lock = song.dir / "song.lock"
    if not _chmod_effective(lock, 0, os.R_OK):
        os.chmod(lock, 0o644)
        pytest.skip("running as root: chmod 000 does not stop this process reading the lock")
    try:
        assert_refused(capsys, song, codes=(1,), validate=False)
    finally:
        os.chmod(lock, 0o644)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage\x80\x81", b"- 1\n- 2\n", b"{{{{", b"sources: 7\n"],
                         ids=["non-utf8", "list", "broken-yaml", "wrong-shape"])
def test_corrupt_lock_never_gives_exit_3_nor_is_rewritten(tmp_path, capsys, content):
    song = make_song(tmp_path)
    lock = song.dir / "song.lock"
    lock.write_bytes(content)
    for cmd in (("validate",), ("render", *RENDER_OPTS), ("lock", "--check"), ("verify",)):
        r = cli(capsys, cmd[0], song.session, *cmd[1:])
        assert_user_facing(r)
        assert r.code in (0, 1), (cmd, r.code, r.text)
        assert lock.read_bytes() == content, f"{cmd[0]} rewrote the corrupt lock"


def _mix_file(tmp_path):
    return write_wav(tmp_path / "mix.wav", frames=48000, seed=4)


def test_master_to_a_folder_is_a_user_error(tmp_path, capsys):
    mix = _mix_file(tmp_path)
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "keep.txt").write_text("mine")
    before = snapshot(tmp_path)
    r = cli(capsys, "master", mix, "--target-lufs", "-16", "-o", tmp_path / "dest")
    assert_user_facing(r)
    assert r.code == 1, r.text
    assert not changes(before, snapshot(tmp_path))


@pytest.mark.parametrize("opt", [("--target-lufs", "nan"), ("--target-lufs", "inf"), ("--ceiling-dbtp", "nan"),
                                 ("--ceiling-dbtp", "inf"), ("--target-lufs", "-1e308"), ("--sample-rate", "0"),
                                 ("--sample-rate", "-48000")],
                         ids=["lufs-nan", "lufs-inf", "ceiling-nan", "ceiling-inf", "lufs-1e308", "rate-0", "rate-neg"])
def test_master_with_a_non_finite_or_absurd_option_is_a_user_error(tmp_path, capsys, opt):
    mix = _mix_file(tmp_path)
    before = snapshot(tmp_path)
    args = ["master", mix, "-o", tmp_path / "m.wav", *opt]
    if opt[0] != "--target-lufs":
        args += ["--target-lufs", "-16"]
    r = cli(capsys, *args)
    assert_user_facing(r)
    assert r.code in (1, 2), r.text
    assert not changes(before, snapshot(tmp_path))


@pytest.mark.parametrize("direction", ["added", "removed"])
def test_diff_when_a_multiband_is_added_or_removed(tmp_path, capsys, direction):
    plain = base_doc()
    multi = base_doc()
    multi["tracks"]["a"]["chain"] = [{"type": "multiband", "crossovers_hz": [200, 2000], "bands": [{}, {}, {}]}]
    multi["master"] = {"chain": [{"type": "multiband", "crossovers_hz": [120], "bands": [{}, {"ratio": 3}]}]}
    a, b = (plain, multi) if direction == "added" else (multi, plain)
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(a))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(b))
    for extra in ((), ("--json",)):
        r = cli(capsys, "diff", tmp_path / "a.yaml", tmp_path / "b.yaml", *extra)
        assert_user_facing(r)
        assert r.code == 0, r.text
        assert "multiband" in r.out


@pytest.mark.parametrize("content", [b"not audio at all\n" * 10, b""], ids=["text", "empty"])
def test_meter_of_a_non_audio_file_is_a_user_error(tmp_path, capsys, content):
    f = tmp_path / "x.wav"
    f.write_bytes(content)
    r = cli(capsys, "meter", f)
    assert_user_facing(r, ("x.wav",))
    assert r.code == 1, r.text


# --------------------------------------------------------------------------- class 7: unbounded work

T = 20  # seconds: a safety net, far above what a refusal takes


@pytest.mark.parametrize("where, value", [("tracks.a.start_s", 100_000_000.0), ("tail_s", 100_000.0),
                                          ("tracks.a.start_s", 86_401.0), ("tracks.a.fade.in_ms", 1e15)],
                         ids=["start-1e8", "tail-1e5", "start-24h", "fade-1e15"])
def test_absurd_timeline_is_refused(tmp_path, capsys, where, value):
    song = make_song(tmp_path, _set(base_doc(), where, value))
    codes = (2,) if where != "tracks.a.fade.in_ms" else (0, 2)
    if codes == (0, 2):
        # a fade longer than the file is a fade that never completes: fine to render, or refused
        same_verdict(capsys, song)
        return
    assert_refused(capsys, song, codes=codes, subprocess_timeout=T)


def test_wav_claiming_a_1_hz_rate_is_refused(tmp_path, capsys):
    song = make_song(tmp_path)
    sf.write(song.dir / "stems" / "a.wav", np.zeros((48000, 2)), 1, subtype="FLOAT")
    assert sf.info(str(song.dir / "stems" / "a.wav")).samplerate == 1
    assert_refused(capsys, song, names=("a.wav",), subprocess_timeout=T)


@pytest.mark.parametrize("cmd", ["validate", "render", "plan", "expand", "lock"])
def test_dev_zero_as_session_is_refused_promptly(tmp_path, cmd):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero on this system")
    r = proc(cmd, "/dev/zero", timeout=T, cwd=tmp_path)
    assert_user_facing(r, ("/dev/zero",))
    assert r.code == 1, r.text
    assert not list(tmp_path.iterdir())


def test_dev_null_as_session_is_refused(tmp_path, capsys):
    r = cli(capsys, "validate", os.devnull)
    assert_user_facing(r, (os.devnull,))
    assert r.code == 1, r.text


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_device_as_source_is_refused(tmp_path, capsys, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} on this system")
    doc = base_doc()
    doc["tracks"]["a"]["source"] = device
    assert_refused(capsys, make_song(tmp_path, doc), codes=(1,), names=(device,), subprocess_timeout=T)


def test_fifo_as_session_is_refused(tmp_path):
    fifo = tmp_path / "song.yaml"
    os.mkfifo(fifo)
    for cmd in ("validate", "render"):
        r = proc(cmd, fifo, timeout=T)  # nobody writes the FIFO: opening it to read would block
        assert_user_facing(r, ("song.yaml",))
        assert r.code == 1, (cmd, r.text)


def test_fifo_as_source_is_refused(tmp_path, capsys):
    song = make_song(tmp_path)
    (song.dir / "stems" / "a.wav").unlink()
    os.mkfifo(song.dir / "stems" / "a.wav")
    assert_refused(capsys, song, codes=(1,), names=("a.wav",), subprocess_timeout=T)


def test_huge_session_file_is_refused(tmp_path):
    song = make_song(tmp_path)
    with open(song.session, "r+b") as f:  # a sparse 256 MiB file: a valid head, then NUL bytes
        f.truncate(256 << 20)
    before = snapshot(tmp_path)
    for cmd in ("validate", "render"):
        r = proc(cmd, song.session, timeout=T)
        assert_user_facing(r, ("song.yaml",))
        assert r.code in (1, 2), (cmd, r.text)
    assert not changes(before, snapshot(tmp_path))


def test_huge_but_well_formed_session_file_is_refused(tmp_path):
    song = make_song(tmp_path)
    text = song.session.read_text()
    with open(song.session, "a") as f:  # 64 MiB of YAML comments after a valid session
        line = "# " + "x" * 1021 + "\n"
        f.write(text and line * (64 << 10))
    before = snapshot(tmp_path)
    r = proc("validate", song.session, timeout=T)
    assert_user_facing(r, ("song.yaml",))
    assert r.code in (1, 2), r.text
    assert not changes(before, snapshot(tmp_path))

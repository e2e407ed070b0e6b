"""One mix, many masters; alt mixes that line up with the main master.

Loudness is checked with pyloudnorm (an independent BS.1770 implementation) and the true peak with
the 16x polyphase reference of tests/truepeak_reference.py, both on the files as written. The
material is band-limited to 20 kHz: the true peak is promised for content up to 0.95 x Nyquist
(docs/architecture.md, "True peak")."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
import yaml
from scipy import signal

from mixgraph.api.render import render_session
from tests.truepeak_reference import true_peak_16x as reference_true_peak

SR = 48000


def true_peak_16x(x: np.ndarray) -> float:
    """dBTP of x (frames, channels) by the 16x reference."""
    return reference_true_peak(x.T)


def lufs(path) -> float:
    x, sr = sf.read(path, dtype="float64")
    return pyloudnorm.Meter(sr).integrated_loudness(x)


def stems(folder, seconds=12.0):
    """Drums-like clicks through the whole song; a 'vocal' (a 440 Hz tone with vibrato) only in
    the second half, so an instrumental shares the first half with the main mix."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    beat = np.zeros(n)
    for k in range(0, n, SR // 2):
        m = min(n - k, 2400)
        beat[k:k + m] += 0.3 * np.exp(-np.arange(m) / 300.0) * rng.standard_normal(m)
    lowpass = signal.butter(8, 20000, fs=SR, output="sos")
    beat = signal.sosfilt(lowpass, beat)
    noise = signal.sosfilt(lowpass, rng.standard_normal(n))
    bed = 0.1 * noise + 0.2 * np.sin(2 * np.pi * 110 * t)
    vocal = np.where(t > seconds / 2, 0.25 * np.sin(2 * np.pi * 440 * t + 3 * np.sin(2 * np.pi * 5 * t)), 0.0)
    for name, x in (("beat", beat), ("bed", bed), ("vocal", vocal)):
        sf.write(folder / f"{name}.wav", np.stack([x, x], axis=1), SR, subtype="FLOAT")


def session(tmp_path, outputs, variants=None, loudness=None):
    stems(tmp_path / "stems")
    doc = {"mixgraph": 1, "name": "song", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0.5,
           "tracks": {n: {"source": f"{n}.wav"} for n in ("beat", "bed", "vocal")},
           "master": {"chain": [{"type": "compressor", "threshold_db": -16, "ratio": 2, "attack_ms": 10,
                                 "release_ms": 150},
                                {"type": "limiter", "ceiling_dbtp": -1.0}],
                      "loudness": loudness or {"target_lufs": -14.0, "max_gain_reduction_db": 24}},
           "outputs": outputs}
    if variants:
        doc["variants"] = variants
    path = tmp_path / "song.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_each_output_reaches_its_own_target_under_its_own_ceiling(tmp_path):
    outs = {"stream": {"path": "out/stream.wav", "loudness": {"preset": "streaming"}},
            "club": {"path": "out/club.wav", "loudness": {"target_lufs": -8.0, "ceiling_dbtp": -0.3,
                                                          "max_gain_reduction_db": 30}},
            "broadcast": {"path": "out/bc.wav", "sample_rate": 44100, "bit_depth": 16,
                          "loudness": {"preset": "broadcast"}}}
    r = render_session(session(tmp_path, outs), node_meters=False)
    expect = {"stream.wav": (-14.0, -1.0), "club.wav": (-8.0, -0.3), "bc.wav": (-23.0, -1.0)}
    for name, (target, ceiling) in expect.items():
        x, sr = sf.read(tmp_path / "out" / name, dtype="float64")
        assert lufs(tmp_path / "out" / name) == pytest.approx(target, abs=0.1), name
        assert true_peak_16x(x) <= ceiling + 0.01, name
    assert sf.info(tmp_path / "out/bc.wav").samplerate == 44100
    assert len(r.solves) >= 3  # the session's master and the three deliverables' own solves
    club = next(s for k, s in r.solves.items() if k.startswith("-8 LUFS"))
    assert club.ceiling_dbtp == -0.3


def test_a_second_target_on_the_same_chain_starts_from_the_first_ones_passes(tmp_path):
    """Targets share the chain's measured (gain, loudness) curve: later solves need fewer passes."""
    outs = {"a": {"path": "out/a.wav", "loudness": {"target_lufs": -13.0, "ceiling_dbtp": -1.0}},
            "b": {"path": "out/b.wav", "loudness": {"target_lufs": -13.5, "ceiling_dbtp": -1.0}}}
    r = render_session(session(tmp_path, outs), node_meters=False)
    first = r.solves["-13 LUFS / -1 dBTP at 48000 Hz"]
    second = r.solves["-13.5 LUFS / -1 dBTP at 48000 Hz"]
    assert second.iterations <= first.iterations
    assert lufs(tmp_path / "out/b.wav") == pytest.approx(-13.5, abs=0.1)


def test_loudness_on_a_stem_output_is_refused_at_its_line(tmp_path):
    from mixgraph.errors import SessionInvalid

    path = session(tmp_path, {"mix": {"path": "out/mix.wav", "tap": "premaster",
                                      "loudness": {"target_lufs": -14}}})
    with pytest.raises(SessionInvalid) as exc:
        render_session(path)
    d = exc.value.diagnostics[0]
    assert "master" in d.message and d.line is not None


def test_an_instrumental_is_mastered_with_the_main_gain_and_length_and_nulls_where_they_share(tmp_path):
    outs = {"master": {"path": "out/{name}{variant}.wav", "bit_depth": "32f"}}
    path = session(tmp_path, outs, variants={"instrumental": {"mute": ["vocal"]},
                                             "own": {"mute": ["vocal"], "master_gain": "own"}})
    main = render_session(path, node_meters=False)
    inst = render_session(path, variant="instrumental", node_meters=False)
    own = render_session(path, variant="own", node_meters=False)
    assert inst.reference_used and not own.reference_used
    assert inst.reference.gains == main.reference.gains  # the main master's input gain, not its own
    a, _ = sf.read(tmp_path / "out/song.wav", dtype="float64")
    b, _ = sf.read(tmp_path / "out/song-instrumental.wav", dtype="float64")
    assert a.shape == b.shape  # the same length, so it cuts against the main master
    # the first half (no vocal in either) nulls: float files, the same gain, the same chain state
    half = int(0.45 * a.shape[0])
    assert np.max(np.abs(a[:half] - b[:half])) < 1e-6
    # the instrumental is quieter than the main master, as it should be, not re-normalised to -14
    assert lufs(tmp_path / "out/song-instrumental.wav") < lufs(tmp_path / "out/song.wav") - 0.5
    # the opted-out variant solves its own gain: back on the target
    assert lufs(tmp_path / "out/song-own.wav") == pytest.approx(-14.0, abs=0.1)


def test_a_master_file_over_its_ceiling_is_an_error_and_nothing_is_written(tmp_path):
    """Without a limiter the master cannot hold its ceiling at a loud target: refused, no files."""
    from mixgraph.errors import RenderError

    path = session(tmp_path, {"master": {"path": "out/m.wav"}}, loudness={"target_lufs": -6.0})
    doc = yaml.safe_load(path.read_text())
    doc["master"]["chain"] = []
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(RenderError, match="ceiling"):
        render_session(path, node_meters=False)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def third_octave_levels(x: np.ndarray, sr: int, centres) -> np.ndarray:
    """Mean-square power (dB) of the mid in each third-octave band (base-2 edges), from one
    periodogram of the whole file: by Parseval, the same number at any sample rate for the same
    band-limited signal (no analysis windows whose grid would differ between the rates)."""
    mid = x.mean(axis=1)
    spec = np.abs(np.fft.rfft(mid)) ** 2 * 2.0 / mid.size ** 2
    f = np.fft.rfftfreq(mid.size, 1.0 / sr)
    out = []
    for c in centres:
        lo, hi = c * 2 ** (-1 / 6), min(c * 2 ** (1 / 6), 20000.0)
        out.append(10 * np.log10(spec[(f >= lo) & (f < hi)].sum()))
    return np.array(out)


def test_masters_at_44k1_and_48k_have_the_same_tone_to_20k(tmp_path):
    """A bright EQ on the master cramps differently near each rate's Nyquist when run at each
    rate; run at the session's rate and converted, the two deliverables match per third-octave."""
    rng = np.random.default_rng(11)
    n = 20 * SR
    white = rng.standard_normal((n, 2))
    from scipy.signal import lfilter  # gently pink: more like music than white noise

    pinkish = lfilter([1.0], [1.0, -0.9], white, axis=0) * 0.02
    (tmp_path / "stems").mkdir()
    sf.write(tmp_path / "stems/n.wav", pinkish, SR, subtype="FLOAT")
    doc = {"mixgraph": 1, "name": "tone", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0,
           "tracks": {"n": {"source": "n.wav"}},
           "master": {"chain": [{"type": "eq", "bands": [{"type": "highshelf", "freq_hz": 9000, "gain_db": 4},
                                                         {"type": "bell", "freq_hz": 16000, "gain_db": 3, "q": 1.0}]},
                                {"type": "limiter", "ceiling_dbtp": -1.0}],
                      "loudness": {"target_lufs": -16.0}},
           "outputs": {"a": {"path": "out/48.wav", "bit_depth": "32f"},
                       "b": {"path": "out/44.wav", "bit_depth": "32f", "sample_rate": 44100}}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    render_session(tmp_path / "s.yaml", node_meters=False)
    a, ra = sf.read(tmp_path / "out/48.wav", dtype="float64")
    b, rb = sf.read(tmp_path / "out/44.wav", dtype="float64")
    centres = [50 * 2 ** (k / 3) for k in range(0, 26)]  # 50 Hz .. 16 kHz, the last band cut at 20 kHz
    la, lb = third_octave_levels(a, ra, centres), third_octave_levels(b, rb, centres)
    diff = la - lb
    # both are solved to -16 LUFS; the 48 kHz master also carries 20-24 kHz, which the loudness
    # counts, so its level sits a little lower everywhere else: the tone is the shape of diff
    assert np.max(np.abs(diff - np.median(diff))) < 0.1, np.round(diff, 3)
    assert abs(np.median(diff)) < 0.25


def test_extra_targets_leave_the_main_master_bits_alone_and_land_each_on_its_own(tmp_path, monkeypatch):
    """The session's own master is solved as it always was, with no stand-in pass: the same samples
    with or without other targets beside it; the extra targets (aimed by the stand-in) each land
    within 0.1 LU (pyloudnorm) and under their ceiling (16x reference) on the files as written."""
    import mixgraph.mastering.surrogate as surrogate

    one = tmp_path / "one"
    calls = []
    real_run = surrogate.StandIn._run
    monkeypatch.setattr(surrogate.StandIn, "_run", lambda self, g: calls.append(g) or real_run(self, g))
    r1 = render_session(session(one, {"master": {"path": "out/m.wav"}}), node_meters=False, report_files=False)
    assert calls == []  # one target: the solver's own steps only
    three = tmp_path / "three"
    outs = {"master": {"path": "out/m.wav"},
            "loud": {"path": "out/loud.wav", "loudness": {"target_lufs": -9.0, "max_gain_reduction_db": 30}},
            "club": {"path": "out/club.wav", "loudness": {"target_lufs": -8.0, "ceiling_dbtp": -0.3,
                                                          "max_gain_reduction_db": 30}}}
    r3 = render_session(session(three, outs), node_meters=False, report_files=False)
    assert calls  # the extra targets were aimed by the stand-in
    sha = {o.written.name: o.written.sha256 for o in r3.outputs}
    assert sha["master"] == r1.outputs[0].written.sha256
    for name, target, ceiling in (("loud", -9.0, -1.0), ("club", -8.0, -0.3)):
        x, _ = sf.read(three / "out" / f"{name}.wav", dtype="float64")
        assert lufs(three / "out" / f"{name}.wav") == pytest.approx(target, abs=0.1), name
        assert true_peak_16x(x) <= ceiling + 0.01, name


def test_extra_targets_mastered_side_by_side_have_the_bits_of_one_thread(tmp_path):
    """The targets after the main master run in threads of their own, each aimed with what the
    one before it had measured when it began its real pass: the files do not depend on how the
    threads were scheduled, so --jobs 1 (no threads) writes the same bits."""
    outs = {"master": {"path": "out/m.wav"},
            "loud": {"path": "out/loud.wav", "loudness": {"target_lufs": -9.0, "max_gain_reduction_db": 30}},
            "louder": {"path": "out/louder.wav", "loudness": {"target_lufs": -8.5, "max_gain_reduction_db": 30}},
            "club": {"path": "out/club.wav", "loudness": {"target_lufs": -8.0, "ceiling_dbtp": -0.3,
                                                          "max_gain_reduction_db": 30}}}
    sha = []
    for jobs in (2, 1):
        r = render_session(session(tmp_path / str(jobs), outs), node_meters=False, report_files=False, jobs=jobs)
        sha.append({o.written.name: o.written.sha256 for o in r.outputs})
    assert len(set(sha[0].values())) == 4
    assert sha[0] == sha[1]


def test_each_sidecar_and_report_row_carries_its_own_pass_gain_reduction(tmp_path):
    """Two rates and two targets: a 48 kHz and a 44.1 kHz file at the master's -14 LUFS and a
    44.1 kHz club master at -8 LUFS / -0.3 dBTP. Each file's sidecar and report row hold the
    master chain's gain reduction of the pass that wrote that file, and its own target."""
    import json

    outs = {"hd": {"path": "out/hd.wav"},
            "cd": {"path": "out/cd.wav", "sample_rate": 44100, "bit_depth": 16},
            "club": {"path": "out/club.wav", "sample_rate": 44100,
                     "loudness": {"target_lufs": -8.0, "ceiling_dbtp": -0.3, "max_gain_reduction_db": 30}}}
    r = render_session(session(tmp_path, outs), node_meters=False)
    side = {n: json.loads((tmp_path / "out" / f"{n}.wav.json").read_text()) for n in outs}
    report = json.loads((tmp_path / "out" / "song.report.json").read_text()) if (
        tmp_path / "out" / "song.report.json").exists() else json.loads(
        next(tmp_path.rglob("*.report.json")).read_text())
    rows = {o["name"]: o for o in report["outputs"]}

    def limiter(stats):
        return next(g for g in stats if g["kind"] == "limiter")

    for n in outs:
        stats = r.output_stats[n]
        want = next(s for s in stats if s.kind == "limiter")
        assert limiter(side[n]["master_chain_gain_reduction"])["max_db"] == round(want.max_db, 3), n
        assert limiter(rows[n]["gain_reduction"])["max_db"] == round(want.max_db, 2), n
    # the session-rate file's figures are the report's master chain; the others' are their own
    assert r.output_stats["hd"] == r.master_stats["gain_reduction"]
    assert r.output_stats["cd"] != r.output_stats["hd"]  # its own pass: the last limiter at 44.1 kHz
    club, cd = limiter(side["club"]["master_chain_gain_reduction"]), limiter(side["cd"]["master_chain_gain_reduction"])
    # 6 LU louder into a ceiling only 0.7 dB higher: the club pass's limiter works far harder
    assert club["mean_db"] > cd["mean_db"] + 0.2 and club["max_db"] > cd["max_db"] + 2.0
    assert (side["club"]["loudness_target_lufs"], side["cd"]["loudness_target_lufs"]) == (-8.0, -14.0)
    assert (rows["club"]["target_lufs"], rows["club"]["ceiling_dbtp"]) == (-8.0, -0.3)

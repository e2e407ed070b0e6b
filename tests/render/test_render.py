"""End-to-end renders of small generated sessions: sums, invariance, latency, writes."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf
import yaml

from mixgraph.api.render import render_session
from mixgraph.dsp import registry
from mixgraph.dsp.base import Processor
from mixgraph.errors import MediaError, MixgraphError

SR = 48000


def write_stems(folder, n=SR, channels=2, seed=0, names=("a", "b", "c")):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for name in names:
        x = 0.2 * rng.standard_normal((n, channels))
        sf.write(folder / f"{name}.wav", x, SR, subtype="FLOAT")
        data[name] = sf.read(folder / f"{name}.wav", always_2d=True)[0].T
    return data


def session_file(tmp_path, body: dict) -> str:
    doc = {"mixgraph": 1, "name": "t", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0.0, **body}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(p)


def read(path):
    return sf.read(path, always_2d=True)[0].T


def test_unity_session_is_the_plain_sum(tmp_path):
    data = write_stems(tmp_path / "stems")
    s = session_file(tmp_path, {"tracks": {k: {"source": f"{k}.wav"} for k in data},
                                "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"}}})
    render_session(s, node_meters=False)
    mix = read(tmp_path / "out/mix.wav")
    expected = (data["a"] + data["b"] + data["c"]).astype(np.float32)
    np.testing.assert_array_equal(mix.astype(np.float32), expected)


def test_mono_source_is_panned_with_the_constant_power_law(tmp_path):
    data = write_stems(tmp_path / "stems", channels=1, names=("m",))
    s = session_file(tmp_path, {"tracks": {"m": {"source": "m.wav", "pan": 0.0}},
                                "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"}}})
    render_session(s, node_meters=False)
    mix = read(tmp_path / "out/mix.wav")
    np.testing.assert_allclose(mix, np.vstack([data["m"][0] * np.sqrt(0.5)] * 2), atol=1e-7)


def full_session(tmp_path):
    write_stems(tmp_path / "stems", n=SR * 2)
    return session_file(tmp_path, {
        "tail_s": "auto",
        "tracks": {
            "a": {"source": "a.wav", "chain": [{"type": "compressor", "threshold_db": -20, "ratio": 4}],
                  "sends": [{"to": "verb", "level_db": -6}], "out": "grp"},
            "b": {"source": "b.wav", "pan": -0.5, "chain": [
                {"type": "compressor", "sidechain": {"from": "a"}, "threshold_db": -30, "ratio": 4},
                {"type": "saturation", "drive_db": 6}], "out": "grp"},
            "c": {"source": "c.wav", "gain_db": -3, "sends": [{"to": "verb", "level_db": -10, "pre_fader": True}],
                  "automation": {"gain_db": [[0, -10], [1, 0]]}},
        },
        "buses": {"grp": {"chain": [{"type": "eq", "bands": [{"type": "bell", "freq_hz": 1000, "gain_db": 3}]}]}},
        "returns": {"verb": {"chain": [{"type": "reverb", "decay_s": 0.3, "mix": 1.0}]}},
        "master": {"chain": [{"type": "limiter", "ceiling_dbtp": -1.0}], "loudness": {"target_lufs": -16}},
        "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"},
                    "master": {"path": "out/master.wav", "bit_depth": 24},
                    "cd": {"path": "out/cd.wav", "bit_depth": 16, "sample_rate": 44100},
                    "grp": {"path": "out/grp.wav", "tap": "bus:grp", "bit_depth": "32f"}},
    })


def test_block_size_and_jobs_do_not_change_a_bit(tmp_path):
    s = full_session(tmp_path)
    hashes = []
    for block, jobs in ((4096, 1), (512, 2), (8192, 2), (777, 1)):
        r = render_session(s, block_size=block, jobs=jobs, out_dir=tmp_path / f"o{block}", node_meters=False)
        hashes.append({o.written.name: o.written.sha256 for o in r.outputs})
    assert all(h == hashes[0] for h in hashes[1:])


def test_master_lands_on_target_under_the_ceiling(tmp_path):
    s = full_session(tmp_path)
    r = render_session(s, node_meters=False)
    master = next(o for o in r.outputs if o.written.name == "master")
    assert master.meter.integrated_lufs == pytest.approx(-16.0, abs=0.1)
    assert master.meter.true_peak_dbtp <= -1.0
    assert r.loudness.iterations <= 6


def assert_same_reading(got, disk):
    """A meter reading of samples as written equals the reading of the file on disk (to rounding:
    the meters' blocks are cut differently)."""
    assert got.integrated_lufs == pytest.approx(disk.integrated_lufs, abs=1e-9)
    assert got.true_peak_dbtp == pytest.approx(disk.true_peak_dbtp, abs=1e-9)
    assert got.sample_peak_dbfs == pytest.approx(disk.sample_peak_dbfs, abs=1e-12)
    assert got.short_term_max_lufs == pytest.approx(disk.short_term_max_lufs, abs=1e-9)


def test_outputs_metered_as_written_read_back_the_same(tmp_path):
    # the master files are metered in the pass that writes them, not read back: the numbers must
    # be those of the files on disk as libsndfile decodes them (24-bit and, at 44.1 kHz, 16-bit)
    from mixgraph.api.meter import meter_file

    s = full_session(tmp_path)
    r = render_session(s, node_meters=False)
    outs = {o.written.name: o for o in r.outputs}
    assert r.master is outs["master"].meter  # the master panel is the delivered 24-bit file
    for name in ("master", "cd", "mix"):
        assert_same_reading(outs[name].meter, meter_file(outs[name].written.path))


def test_float_output_metered_as_written(tmp_path):
    from mixgraph.audio.writer import OutputWriter
    from mixgraph.graph.plan import OutputPlan
    from mixgraph.meter import LoudnessMeter, measure_array

    x = 0.3 * np.random.default_rng(5).standard_normal((2, SR * 3))
    out = OutputPlan(name="m", path=str(tmp_path / "m.wav"), rel_path="m.wav", tap="master", format="wav", sample_rate=SR,
                     bit_depth="32f", dither="none")
    w = OutputWriter(out, tmp_path / "m.wav", SR, 2, 0, tmp=tmp_path / "m.wav")
    assert w.lossless
    w.meter = LoudnessMeter(SR, 2)
    for i in range(0, x.shape[1], 10000):
        w.write(x[:, i : i + 10000])
    w.finish()
    got = w.meter.result()
    assert_same_reading(got, measure_array(read(tmp_path / "m.wav"), SR))
    # float32 rounding is what the meter saw: not the float64 input's peak
    assert got.sample_peak_dbfs != 20 * np.log10(np.abs(x).max())


class FixedLatency(Processor):
    """Test processor: a pure delay that declares itself as latency."""

    kind = "test-latency"

    def __init__(self, gain_db: float = 0.0):
        super().__init__()
        self.d = 100

    @property
    def latency_samples(self):
        return self.d

    def _reset(self):
        self.hist = np.zeros((self.channels, self.d))

    def _prepare(self):
        self._reset()

    def _process(self, x, key, params):
        buf = np.concatenate((self.hist, x), axis=1)
        self.hist = buf[:, x.shape[1]:]
        return buf[:, : x.shape[1]]


def test_latency_compensation_nulls(tmp_path):
    """Two parallel paths into a bus, one through a processor that declares 100 samples of latency
    (registered in place of 'gain', the way a plugin with latency appears in a DAW): the compiler's
    compensating delays make the sum equal the reference (2x the source), residual below -140 dBFS."""
    from mixgraph.api.plan import resolve_plan

    data = write_stems(tmp_path / "stems", names=("a",))
    registry.register("gain", FixedLatency)
    try:
        s = session_file(tmp_path, {
            "tracks": {"a": {"source": "a.wav", "out": "bus"},
                       "b": {"source": "a.wav", "out": "bus", "chain": [{"type": "gain", "gain_db": 0.0}]}},
            "buses": {"bus": {}},
            "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"}}})
        plan = resolve_plan(s).plan
        # the compiler's own compensation, not delays written into the plan by hand
        assert {i.source: i.delay_samples for i in plan.node("bus:bus").inputs} == {"track:a": 100, "track:b": 0}
        assert {t.name: t.trim_samples for t in plan.taps} == {"premaster": 100}
        render_session(s, node_meters=False)
        mix = read(tmp_path / "out/mix.wav")
        residual = mix - 2 * data["a"].astype(np.float32)
        assert 20 * np.log10(np.max(np.abs(residual)) + 1e-300) < -140
    finally:
        registry.unregister("gain")


def test_compiler_compensates_limiter_latency_on_a_parallel_path(tmp_path):
    data = write_stems(tmp_path / "stems", names=("a",))
    s = session_file(tmp_path, {
        "tracks": {"a": {"source": "a.wav", "out": "bus", "gain_db": -20},
                   # 6 dB down into the limiter: the noise's true peak (-0.08 dBTP) would reach its
                   # threshold (ceiling less 0.1 dB) and the limiter would act, not pass it through
                   "b": {"source": "a.wav", "out": "bus", "gain_db": -14,
                         "chain": [{"type": "gain", "gain_db": -6.0}, {"type": "limiter", "ceiling_dbtp": 0.0}]}},
        "buses": {"bus": {}},
        "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"}}})
    render_session(s, node_meters=False)
    mix = read(tmp_path / "out/mix.wav")
    expected = 2 * 10 ** (-20 / 20) * data["a"]
    residual = mix[:, 1000:-1000] - expected[:, 1000:-1000]  # the limiter is transparent at -20 dBFS
    assert 20 * np.log10(np.max(np.abs(residual))) < -120  # float32 file: its own rounding floor


def test_sends_pre_and_post_fader(tmp_path):
    data = write_stems(tmp_path / "stems", names=("a",))
    base = {"returns": {"r": {}},
            "outputs": {"ret": {"path": "out/r.wav", "tap": "return:r", "bit_depth": "32f"}}}
    for pre, expected_gain in ((False, 10 ** (-12 / 20) * 10 ** (-6 / 20)), (True, 10 ** (-6 / 20))):
        s = session_file(tmp_path, {**base, "tracks": {"a": {"source": "a.wav", "gain_db": -12,
                                                           "sends": [{"to": "r", "level_db": -6, "pre_fader": pre}]}}})
        render_session(s, node_meters=False)
        np.testing.assert_allclose(read(tmp_path / "out/r.wav"), data["a"] * expected_gain, atol=1e-6)


def test_trim_start_and_fades(tmp_path):
    folder = tmp_path / "stems"
    folder.mkdir()
    sf.write(folder / "one.wav", np.ones((SR, 2)) * 0.5, SR, subtype="FLOAT")
    s = session_file(tmp_path, {"tracks": {"a": {"source": "one.wav", "start_s": 0.5, "trim": {"start_s": 0.25},
                                                 "fade": {"in_ms": 100, "out_ms": 100}}},
                                "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"}}})
    render_session(s, node_meters=False)
    mix = read(tmp_path / "out/mix.wav")[0]
    assert mix.size == int(1.25 * SR)
    assert np.all(mix[: SR // 2] == 0)
    assert mix[SR // 2 + 2400] == pytest.approx(0.25, abs=1e-6)  # half-way through the fade-in
    assert mix[SR // 2 + 24000] == pytest.approx(0.5, abs=1e-6)
    assert mix[-1] == pytest.approx(0.5 / 4800, abs=1e-6)  # last sample of the linear fade-out


def test_resampled_source_keeps_pitch_and_level(tmp_path):
    folder = tmp_path / "stems"
    folder.mkdir()
    n = np.arange(44100)
    sf.write(folder / "s.wav", np.vstack([0.5 * np.sin(2 * np.pi * 1000 * n / 44100)] * 2).T, 44100, subtype="FLOAT")
    s = session_file(tmp_path, {"tracks": {"s": {"source": "s.wav"}},
                                "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"}}})
    r = render_session(s, node_meters=False)
    assert any("44100 Hz -> 48000 Hz" in note for note in r.notes)
    y = read(tmp_path / "out/mix.wav")[0, 4800:-4800]
    spec = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    assert np.fft.rfftfreq(y.size, 1 / SR)[np.argmax(spec)] == pytest.approx(1000, abs=2)
    assert 20 * np.log10(np.sqrt(2) * np.sqrt(np.mean(y**2))) == pytest.approx(20 * np.log10(0.5), abs=0.1)


def write_click(tmp_path):
    """stems/click.wav: 0.1 s of silence after a 0.5 click on both channels."""
    folder = tmp_path / "stems"
    folder.mkdir()
    x = np.zeros((SR // 10, 2))
    x[0] = 0.5
    sf.write(folder / "click.wav", x, SR, subtype="FLOAT")


def test_delay_tail_is_rendered(tmp_path):
    write_click(tmp_path)
    s = session_file(tmp_path, {"tail_s": "auto", "tracks": {"c": {"source": "click.wav", "chain": [
        {"type": "delay", "time_ms": 250, "feedback": 0.5, "mix": 1.0, "highcut_hz": None}]}},
        "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"}}})
    render_session(s, node_meters=False)
    y = read(tmp_path / "out/mix.wav")[0]
    assert y.size > SR  # rang on well past the 0.1 s source
    for k in range(1, 4):  # echoes every 250 ms, halving
        assert y[k * SR // 4] == pytest.approx(0.5 * 0.5 ** (k - 1), rel=1e-6)


def test_auto_tail_waits_for_a_tapped_stem_that_the_mix_does_not_hear(tmp_path):
    write_click(tmp_path)
    # the click and its echo return feed a muted bus (the mix is silent), but the return is printed
    # as a stem: its echoes set the length
    s = session_file(tmp_path, {"tail_s": "auto", "tracks": {"c": {"source": "click.wav", "out": "hidden",
                                                                   "sends": [{"to": "echo", "level_db": 0}]}},
        "returns": {"echo": {"out": "hidden", "chain": [{"type": "delay", "time_ms": 250, "feedback": 0.5,
                                                         "mix": 1.0, "highcut_hz": None}]}},
        "buses": {"hidden": {"mute": True}},
        "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"},
                    "echo": {"path": "out/echo.wav", "tap": "return:echo", "bit_depth": "32f"}}})
    render_session(s, node_meters=False)
    y = read(tmp_path / "out/echo.wav")[0]
    # echoes of 0.5 halve every 250 ms: the k-th is above -120 dBFS while 0.5^k > 1e-6, k <= 18
    assert y.size > 18 * SR // 4
    assert y[18 * SR // 4] == pytest.approx(0.5 * 0.5 ** 17, rel=1e-6)


def test_clipped_samples_are_counted_before_integer_pcm(tmp_path):
    folder = tmp_path / "stems"
    folder.mkdir()
    x = np.zeros((SR, 2))
    x[100:110] = 0.9
    sf.write(folder / "hot.wav", x, SR, subtype="FLOAT")
    s = session_file(tmp_path, {"tracks": {"h": {"source": "hot.wav", "gain_db": 6}},
                                "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": 16,
                                                    "dither": "none"}}})
    r = render_session(s, node_meters=False)
    assert r.outputs[0].written.clipped_samples == 20  # 10 frames x 2 channels over full scale
    assert any("clipped" in w for w in r.warnings)


@pytest.mark.parametrize("jobs", [1, 2])  # 2: the writer runs in a pool thread, the error comes back
def test_interrupted_render_keeps_the_previous_file(tmp_path, monkeypatch, jobs):
    write_stems(tmp_path / "stems", names=("a",))
    s = session_file(tmp_path, {"tracks": {"a": {"source": "a.wav"}},
                                "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"}}})
    render_session(s, node_meters=False)
    before = (tmp_path / "out/mix.wav").read_bytes()
    sidecar = (tmp_path / "out/mix.wav.json").read_bytes()
    listing = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert listing == ["mix.wav", "mix.wav.json", "t.report.html", "t.report.json", "t.report.md"]
    from mixgraph.audio import writer

    def boom(self, block, last=False):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer.OutputWriter, "write", boom)
    with pytest.raises(KeyboardInterrupt):
        render_session(s, node_meters=False, jobs=jobs)
    assert (tmp_path / "out/mix.wav").read_bytes() == before
    assert (tmp_path / "out/mix.wav.json").read_bytes() == sidecar
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == listing  # no temporaries left


def test_refuses_to_write_over_a_source(tmp_path):
    write_stems(tmp_path / "stems", names=("a",))
    s = session_file(tmp_path, {"tracks": {"a": {"source": "a.wav"}},
                                "outputs": {"mix": {"path": "stems/a.wav", "tap": "premaster"}}})
    before = (tmp_path / "stems/a.wav").read_bytes()
    with pytest.raises(MediaError):
        render_session(s)
    assert (tmp_path / "stems/a.wav").read_bytes() == before


@pytest.mark.parametrize("content,needle", [
    (b"not audio at all", "cannot read"),
    (b"", "cannot read"),
])
def test_unreadable_sources_are_media_errors(tmp_path, content, needle):
    folder = tmp_path / "stems"
    folder.mkdir()
    (folder / "bad.wav").write_bytes(content)
    s = session_file(tmp_path, {"tracks": {"a": {"source": "bad.wav"}}})
    with pytest.raises(MixgraphError) as exc:
        render_session(s)
    assert exc.value.exit_code == 1 and "bad.wav" in exc.value.message and needle in exc.value.message


def test_nan_and_multichannel_sources_are_refused(tmp_path):
    folder = tmp_path / "stems"
    folder.mkdir()
    x = np.zeros((1000, 2))
    x[500, 0] = np.nan
    sf.write(folder / "nan.wav", x, SR, subtype="FLOAT")
    sf.write(folder / "six.wav", np.zeros((1000, 3)), SR, subtype="FLOAT")
    sf.write(folder / "empty.wav", np.zeros((0, 2)), SR, subtype="FLOAT")
    for name, needle in (("nan.wav", "NaN"), ("six.wav", "3 channels"), ("empty.wav", "no audio")):
        s = session_file(tmp_path, {"tracks": {"a": {"source": name}}})
        with pytest.raises(MediaError) as exc:
            render_session(s)
        assert needle in exc.value.message and name in exc.value.message
    assert os.listdir(folder)  # nothing was written or removed there


def test_truncated_source_is_a_media_error(tmp_path):
    folder = tmp_path / "stems"
    folder.mkdir()
    sf.write(folder / "cut.wav", 0.1 * np.ones((SR, 2)), SR, subtype="PCM_16")
    raw = (folder / "cut.wav").read_bytes()
    (folder / "cut.wav").write_bytes(raw[: len(raw) // 2])  # the header still promises 1 s
    s = session_file(tmp_path, {"tracks": {"a": {"source": "cut.wav"}},
                                "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster"}}})
    with pytest.raises(MediaError) as exc:
        render_session(s, node_meters=False)
    assert "truncated" in exc.value.message and "cut.wav" in exc.value.message
    assert not (tmp_path / "out" / "mix.wav").exists()


def test_solver_passes_keep_at_most_one_set_of_candidate_files(tmp_path, monkeypatch):
    s = full_session(tmp_path)
    text = open(s).read()
    assert "target_lufs: -16" in text
    open(s, "w").write(text.replace("target_lufs: -16", "target_lufs: -8"))  # hard into the limiter
    from mixgraph.audio import writer

    live: set[int] = set()
    most = [0]
    orig_init, orig_finish, orig_abort = writer.OutputWriter.__init__, writer.OutputWriter.finish, \
        writer.OutputWriter.abort

    def init(self, *a, **k):
        orig_init(self, *a, **k)
        if self.out.name == "master":
            live.add(id(self))
            most[0] = max(most[0], len(live))

    def finish(self):
        live.discard(id(self))
        return orig_finish(self)

    def abort(self):
        live.discard(id(self))
        return orig_abort(self)

    monkeypatch.setattr(writer.OutputWriter, "__init__", init)
    monkeypatch.setattr(writer.OutputWriter, "finish", finish)
    monkeypatch.setattr(writer.OutputWriter, "abort", abort)
    r = render_session(s, node_meters=False)
    assert r.loudness.iterations >= 3, r.loudness  # the limiter bends L(g): several passes
    assert most[0] <= 2 and not live
    assert not [p for p in (tmp_path / "out").iterdir() if "partial" in p.name]
    master = next(o for o in r.outputs if o.written.name == "master")
    assert master.meter.integrated_lufs == pytest.approx(r.loudness.achieved_lufs, abs=0.02)


def test_node_peaks_and_clips_are_the_same_with_and_without_node_meters(tmp_path):
    from mixgraph.report import build_report

    folder = tmp_path / "stems"
    folder.mkdir()
    x = np.zeros((SR, 2))
    x[100:110] = 0.9
    sf.write(folder / "hot.wav", x, SR, subtype="FLOAT")
    s = session_file(tmp_path, {"tracks": {"h": {"source": "hot.wav", "gain_db": 6}},
                                "outputs": {"mix": {"path": "out/mix.wav", "tap": "premaster", "bit_depth": "32f"}}})
    rows = {}
    for meters in (True, False):
        report = build_report(render_session(s, node_meters=meters, out_dir=tmp_path / f"o{meters}"))
        rows[meters] = next(n for n in report.to_dict()["nodes"] if n["node"] == "track:h")
    # 10 frames x 2 channels at 0.9 * 10^(6/20) = 1.796: over full scale, counted once either way
    assert rows[True]["clipped_samples"] == rows[False]["clipped_samples"] == 20
    assert rows[True]["sample_peak_dbfs"] == pytest.approx(rows[False]["sample_peak_dbfs"], abs=1e-9)
    assert rows[True]["sample_peak_dbfs"] == pytest.approx(20 * np.log10(0.9) + 6, abs=0.01)  # report: 0.01 dB


def test_gain_reduction_stats_equal_numpy_over_the_whole_stream_for_any_block_cut():
    from mixgraph.dsp.base import GRStats

    rng = np.random.default_rng(9)
    gr = np.abs(rng.standard_normal(SR * 3 + 1234)) * np.repeat([1.0, 6.0, 0.5, 2.0], SR)[: SR * 3 + 1234]
    cuts = np.sort(rng.choice(np.arange(1, gr.size), 40, replace=False))
    s = GRStats(SR)
    for part in np.split(gr, cuts):
        s.add(part)
    assert s.max == gr.max()
    assert s.mean == pytest.approx(gr.mean(), rel=1e-12)
    # the maxima of the three whole seconds; the partial fourth is not reported
    assert s.per_second == [float(gr[i * SR : (i + 1) * SR].max()) for i in range(3)]


def test_a_nan_in_the_master_is_refused_and_leaves_no_file(tmp_path, monkeypatch):
    from mixgraph.dsp.eq import EQ
    from mixgraph.errors import RenderError

    write_stems(tmp_path / "stems", names=("a",))
    s = session_file(tmp_path, {"tracks": {"a": {"source": "a.wav"}},
                                "master": {"chain": [{"type": "eq", "bands": [
                                    {"type": "bell", "freq_hz": 1000.0, "gain_db": 2.0}]}]},
                                "outputs": {"m": {"path": "out/m.wav", "bit_depth": 24}}})
    original = EQ._process

    def broken(self, x, key, params):  # a processor gone wrong: one NaN half a second in
        y = original(self, x, key, params)
        if self.frames_seen <= SR // 2 < self.frames_seen + y.shape[1]:
            y = y.copy()
            y[1, SR // 2 - self.frames_seen] = np.nan
        self.frames_seen += y.shape[1]
        return y

    monkeypatch.setattr(EQ, "frames_seen", 0, raising=False)
    monkeypatch.setattr(EQ, "_process", broken)
    with pytest.raises(RenderError, match=r"NaN sample near 0\.\d+ s"):
        render_session(s, node_meters=False, block_size=4096)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []

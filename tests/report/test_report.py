"""Report model, JSON and renderings from fixed hand-made inputs (golden files, HTML, terminal, files)."""

from __future__ import annotations

import base64
import io
import json
import math
import re
from dataclasses import dataclass, field

import pytest
from report_inputs import fixed_inputs, fixed_report, reading

from mixgraph.report import (
    build_report,
    render_html,
    render_markdown,
    render_terminal,
    to_json,
    write_report,
)
from mixgraph.report import render as report_render
from mixgraph.report.model import SCHEMA_VERSION, GainReduction, Series, SessionInfo
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "report" / "golden"


def without_run(text: str) -> dict:
    data = json.loads(text)
    assert "run" in data
    del data["run"]
    return data


def test_golden_json(golden):
    data = without_run(to_json(fixed_report()))
    golden(GOLDEN / "report.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def test_golden_markdown(golden):
    golden(GOLDEN / "report.md", render_markdown(fixed_report()))  # no run section in the Markdown


def test_json_is_deterministic_and_rounded():
    a, b = to_json(fixed_report()), to_json(fixed_report())
    assert without_run(a) == without_run(b)
    data = json.loads(a)
    assert list(data)[:4] == ["schema_version", "session", "plan_hash", "mastered"]
    assert list(data)[-1] == "run"
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["master"]["integrated_lufs"] == -14.02  # -14.0234 to 0.01 LU
    assert data["master"]["correlation"] == 0.705  # correlation to 0.001
    assert data["loudness"]["gain_db"] == 5.49
    assert data["session"]["session_hash"] == "ab" * 32
    run = data["run"]
    assert run["realtime_factor"] == 24.0 and run["render_seconds"] == 0.5 and run["audio_seconds"] == 12.0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", run["started_at"])
    # every MeterResult figure is in mix and master; the plot series live in "series"
    for key in ("integrated_lufs", "momentary_max_lufs", "short_term_max_lufs", "lra_lu", "true_peak_dbtp",
                "sample_peak_dbfs", "rms_dbfs", "crest_db", "plr_db", "correlation", "mono_loudness_diff_lu",
                "clipped_samples", "spectral_balance_db", "sample_rate", "channels", "duration_s"):
        assert key in data["mix"] and key in data["master"]
    assert "short_term_series" not in data["mix"]
    assert data["series"]["mix_short_term_lufs"][:3] == [None, None, -20.5]
    kick = next(n for n in data["nodes"] if n["node"] == "track:kick")
    assert kick["kind"] == "track"
    assert kick["gain_reduction"] == [
        {"kind": "compressor", "index": 1, "processor_id": "kick-comp", "max_db": 6.5, "mean_db": 2.25, "acted": True},
        {"kind": "gate", "index": 2, "processor_id": None, "max_db": 0.04, "mean_db": 0.0, "acted": False}]


def test_non_finite_numbers_are_null_not_invalid_json():
    inputs = fixed_inputs()
    inputs["premaster"] = reading(None, float("-inf"), lra=None, corr=None, mono=None, rms_dbfs=float("-inf"),
                                  sample_peak_dbfs=float("-inf"), crest_db=float("nan"))
    text = to_json(build_report(**inputs))
    data = json.loads(text)  # allow_nan=False in to_json: would raise on NaN/inf
    assert data["mix"]["sample_peak_dbfs"] is None and data["mix"]["integrated_lufs"] is None
    assert "Infinity" not in text and "NaN" not in text


def test_renderers_read_the_json_form_back():
    report = fixed_report()
    loaded = json.loads(to_json(report))
    assert render_markdown(loaded) == render_markdown(report)


def test_markdown_content():
    md = render_markdown(fixed_report())
    assert "# mixgraph report: song (radio)" in md
    assert "| Integrated | -19.50 LUFS | -14.02 LUFS |" in md
    assert "| YouTube | -14.00 LUFS | +0.0 dB | -14.02 LUFS | -1.05 dBTP | none | at the reference |" in md
    assert "| EBU R128 broadcast | -23.00 LUFS | -9.0 dB | -23.00 LUFS | -10.03 dBTP | none |" in md
    assert "bus:drums" in md and "critical" in md


@dataclass
class FakeWritten:
    name: str
    path: str
    tap: str
    format: str = "wav"
    sample_rate: int = 48000
    bit_depth: int | str = 24
    frames: int = 576000
    clipped_samples: int = 0
    sha256: str = "0" * 64
    bitrate_kbps: int | None = None


@dataclass
class FakeOutput:
    written: FakeWritten
    meter: object


@dataclass
class FakeSolve:
    target_lufs: float = -14.0
    ceiling_dbtp: float = -1.0
    tolerance_lu: float = 0.1
    achieved_lufs: float = -14.02
    true_peak_dbtp: float = -1.05
    gain_db: float = 5.5
    iterations: int = 3
    limiter_gr_max_db: float = 4.2
    limiter_gr_mean_db: float = 0.8


@dataclass
class FakeResult:
    """The attributes of mixgraph.api.render.RenderResult that the adapter reads."""

    plan: object
    premaster: object
    master: object
    session_file: str = "song.yaml"
    outputs: list = field(default_factory=list)
    node_levels: dict = field(default_factory=dict)
    node_stats: dict = field(default_factory=dict)
    master_stats: dict = field(default_factory=dict)
    loudness: object = None
    render_seconds: float = 2.0
    duration_s: float = 12.0
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def test_report_from_a_render_result():
    from mixgraph.graph.compile import compile_session
    from mixgraph.render.engine import GainReductionStat
    from mixgraph.session.models import Session

    s = Session.model_validate({"mixgraph": 1, "name": "song", "tracks": {"kick": {"source": "k.wav", "out": "drums"}},
                                "buses": {"drums": {}}, "master": {"chain": [{"type": "limiter"}],
                                                                   "loudness": {"target_lufs": -14}}})
    plan = compile_session(s)
    res = FakeResult(
        plan=plan, premaster=reading(-19.5, -3.2), master=reading(-14.02, -1.05),
        outputs=[FakeOutput(FakeWritten("master", "renders/song-master.wav", "master"), reading(-14.02, -1.05))],
        node_levels={"bus:drums": reading(-22.0, 0.4, sample_peak_dbfs=0.2), "track:kick": reading(-24.0, -6.0)},
        node_stats={"bus:drums": {"peak": 1.02, "clipped": 12, "gain_reduction": []},
                    "track:kick": {"peak": 0.5, "clipped": 0,
                                   "gain_reduction": [GainReductionStat("compressor", "comp", 0, 6.5, 2.25, (6.5,))]}},
        master_stats={"gain_reduction": [GainReductionStat("limiter", None, 0, 4.2, 0.8, (1.0, 4.2, 0.5))]},
        loudness=FakeSolve())
    data = json.loads(to_json(build_report(res)))  # the CLI's call: a RenderResult as the only argument
    assert data["session"] == {"name": "song", "file": "song.yaml", "variant": None, "session_hash": None}
    assert data["plan_hash"] == plan.plan_hash()
    assert data["mastered"] is True
    assert data["series"]["limiter_gr_db"] == [1.0, 4.2, 0.5]
    drums = next(n for n in data["nodes"] if n["node"] == "bus:drums")
    assert drums["clipped_samples"] == 12  # the engine's count, not the meter's
    assert any(f["code"] == "bus-clipping" and f["subject"] == "bus:drums" for f in data["findings"])
    assert data["run"]["realtime_factor"] == 6.0
    # node meters switched off: peak and clips from the engine stats only
    res.node_levels = {}
    data = json.loads(to_json(build_report(res)))
    drums = next(n for n in data["nodes"] if n["node"] == "bus:drums")
    assert drums["sample_peak_dbfs"] == round(20 * math.log10(1.02), 2) and drums["integrated_lufs"] is None


def test_html_is_self_contained_with_the_three_plots():
    html = render_html(fixed_report())
    uris = re.findall(r'src="(data:image/png;base64,[^"]+)"', html)
    assert len(uris) == 3
    for alt in ("short-term loudness", "spectral balance", "limiter gain reduction"):
        assert f'alt="{alt}' in html or alt in html
    pngs = [base64.b64decode(u.split(",", 1)[1]) for u in uris]
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") and len(p) > 2000 for p in pngs)
    assert len(set(pngs)) == 3
    # no external resources: every src/href is a data: URI, no CSS url()/@import, no scripts
    assert not re.search(r'(src|href)\s*=\s*"(?!data:)', html)
    stripped = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert "http:" not in stripped and "https:" not in stripped and "//" not in stripped.replace("<!--", "")
    assert "url(" not in stripped and "@import" not in stripped and "<script" not in stripped
    assert "bus:drums" in html and "Spotify" in html


def test_html_is_deterministic_and_leaves_pyplot_alone():
    import matplotlib

    backend = matplotlib.get_backend()
    report = fixed_report()
    report.timing = None  # the run section (render time, timestamp) is the only part allowed to change
    assert render_html(report) == render_html(report)
    assert matplotlib.get_backend() == backend


def test_html_without_plots_and_without_master():
    inputs = fixed_inputs()
    inputs.update(master=None, loudness=None, mastered=False, series=None)
    html = render_html(build_report(**inputs), with_plots=False)
    assert "data:image" not in html and "no (the mix print is the result)" in html


def test_terminal_has_mix_and_master_panels_side_by_side(capsys):
    from rich.console import Console

    console = Console(record=True, width=120, file=io.StringIO())
    render_terminal(fixed_report(), console)
    text = console.export_text()
    assert capsys.readouterr().out == ""  # writes only to the console it is given
    top = next(line for line in text.splitlines() if "Mix" in line)
    assert "Master" in top  # the two panel titles on one line: side by side
    assert "-19.50 LUFS" in text and "-14.02 LUFS" in text
    assert "Spotify" in text and "ATSC A/85" in text
    assert "bus-clipping" in text and "Findings" in text


def test_terminal_without_master_stage():
    from rich.console import Console

    inputs = fixed_inputs()
    inputs.update(master=None, loudness=None, series=None)
    console = Console(record=True, width=120, file=io.StringIO())
    render_terminal(build_report(**inputs), console)
    text = console.export_text()
    assert "Master" in text and "no master stage" in text and "not-a-master" in text


def test_write_report_writes_three_files_atomically(tmp_path):
    report = fixed_report()
    paths = write_report(report, tmp_path / "out")
    assert [p.name for p in paths] == ["song-radio.report.json", "song-radio.report.md", "song-radio.report.html"]
    assert json.loads(paths[0].read_text())["session"]["name"] == "song"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)
    assert write_report(report, tmp_path / "lean", html=False) == [tmp_path / "lean" / "song-radio.report.json",
                                                                   tmp_path / "lean" / "song-radio.report.md"]


def test_write_report_failure_leaves_previous_files_intact(tmp_path, monkeypatch):
    first = write_report(fixed_report(), tmp_path, plots=False)
    before = {p: p.read_bytes() for p in first}

    def boom(*a, **k):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(report_render, "render_html", boom)
    changed = fixed_report()
    changed.session = SessionInfo(name="song", file="other.yaml", variant="radio")
    with pytest.raises(RuntimeError):
        write_report(changed, tmp_path)
    assert {p: p.read_bytes() for p in first} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in first)  # no temp files left


def test_html_escapes_user_text():
    inputs = fixed_inputs()
    inputs["session"] = SessionInfo(name="<script>alert(1)</script>", file="a&b.yaml")
    html = render_html(build_report(**inputs), with_plots=False)
    assert "<script>" not in html and "&lt;script&gt;" in html and "a&amp;b.yaml" in html


def test_importing_the_report_loads_no_plotting_or_terminal_library():
    import subprocess
    import sys

    code = ("import sys, mixgraph.report; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'rich')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_json_master_chain_budget_short_figures_and_muted_nodes():
    data = json.loads(to_json(fixed_report()))
    assert data["schema_version"] == 3
    glue, mb, lim = data["master_chain"]
    assert glue == {"kind": "compressor", "index": 0, "processor_id": "glue", "max_db": 0.03, "mean_db": 0.0,
                    "acted": False, "hard_db": 4.0, "share_over_hard": 0.0}
    assert mb["crossovers_hz"] == [120.0, 2500.0] and [b["acted"] for b in mb["bands"]] == [True, True, False]
    assert mb["share_over_hard"] == 0.333  # 2 of the 6 seconds over 4 dB
    assert lim["share_over_hard"] == 0.167 and lim["hard_db"] == 3.0  # 1 of 6 over 3 dB
    assert data["loudness"]["max_gain_reduction_db"] == 12.0
    assert data["loudness"]["budget_counts"].startswith("the largest gain reduction of the master limiter(s) only")
    # a 12 s programme: its LRA is not a number but a reason
    for reading_ in (data["mix"], data["master"]):
        assert reading_["lra_lu"] is None
        assert reading_["not_measured"] == {"lra_lu": "too short to measure (12.0 s; needs 30 s)"}
    nodes = {n["node"]: n for n in data["nodes"]}
    assert nodes["track:shaker"]["muted"] is True and nodes["track:kick"]["muted"] is False


def test_renderings_say_never_acted_muted_and_too_short_in_words():
    from rich.console import Console

    report = fixed_report()
    md = render_markdown(report)
    assert "| Loudness range | too short to measure (12.0 s; needs 30 s) |" in md
    assert "gate #2: never acted" in md and "| track:shaker | muted |" in md
    assert "| compressor #0 'glue' | never acted |  |" in md
    assert "max 4.20 dB of a 12 dB budget (max_gain_reduction_db counts the largest gain reduction" in md
    html = render_html(report, with_plots=False)
    assert "too short to measure (12.0 s; needs 30 s)" in html and "never acted" in html
    assert '<td class="l" colspan="5">muted</td>' in html
    console = Console(record=True, width=120, file=io.StringIO())
    render_terminal(report, console)
    text = console.export_text()
    assert "too short to measure" in text and "never acted" in text and "muted" in text
    assert "Master chain gain reduction" in text and "(the budget counts the limiter only)" in text


def test_a_limiter_that_never_acted_and_a_too_short_programme_are_words_not_charts():
    inputs = fixed_inputs()
    idle = GainReduction("limiter", 2, 0.04, 0.001, per_second=(0.04, 0.0, 0.02))
    inputs["master_chain"] = (idle,)
    inputs["series"] = Series(limiter_gr_db=idle.per_second, mix_short_term_lufs=(None, None),
                              master_short_term_lufs=(None, None))
    report = build_report(**inputs)
    notes = report_render.plot_notes(report)
    assert notes == {"loudness": "Too short to measure: short-term loudness needs a 3 s window.",
                     "limiter": "The master limiter never acted (gain reduction under 0.05 dB)."}
    html = render_html(report)
    assert set(report_render.plots(report)) == {"spectrum"}
    assert html.count("data:image/png") == 1
    assert "<p>The master limiter never acted (gain reduction under 0.05 dB).</p>" in html
    assert "<p>Too short to measure: short-term loudness needs a 3 s window.</p>" in html
    # a limiter that acted but over no whole second: too short as well; no limiter at all: said so
    inputs["master_chain"] = (GainReduction("limiter", 2, 2.0, 0.5),)
    inputs["series"] = Series()
    assert report_render.plot_notes(build_report(**inputs))["limiter"].startswith("Too short to measure")
    inputs["master_chain"] = ()
    assert report_render.plot_notes(build_report(**inputs))["limiter"] == "No limiter on the master."

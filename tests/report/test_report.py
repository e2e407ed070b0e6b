"""Report model and renderings from fixed inputs (hand-made meter readings): golden files, platforms, findings."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest

from mixgraph.graph.compile import compile_session
from mixgraph.meter.result import MeterResult
from mixgraph.report import build_report, render_html, render_markdown, render_terminal, to_json
from mixgraph.report.findings import findings
from mixgraph.report.platforms import platform_table
from mixgraph.session.models import Session
from tests.conftest import REPO


def reading(i, tp, lra=6.0, **kw) -> MeterResult:
    base = dict(sample_rate=48000, channels=2, duration_s=180.0, integrated_lufs=i, momentary_max_lufs=i + 4,
                short_term_max_lufs=i + 2, lra_lu=lra, true_peak_dbtp=tp, sample_peak_dbfs=tp - 0.3,
                rms_dbfs=i - 1, crest_db=tp - i + 0.7, plr_db=tp - i, correlation=0.8, mono_loudness_diff_lu=-0.5,
                clipped_samples=0, spectral_balance_db={"sub": -12.0, "low": -6.0, "low_mid": -3.0,
                                                        "high_mid": -9.0, "high": -15.0},
                short_term_series=(None, None, i - 1, i, i + 1), series_step_s=1.0)
    base.update(kw)
    return MeterResult(**base)


@dataclass
class FakeWritten:
    name: str
    path: str
    tap: str
    format: str = "wav"
    sample_rate: int = 48000
    bit_depth: int | str = 24
    frames: int = 8640000
    clipped_samples: int = 0
    sha256: str = "0" * 64


@dataclass
class FakeOutput:
    written: FakeWritten
    meter: MeterResult


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
    plan: object
    session_file: str = "song.yaml"
    variant: str | None = None
    outputs: list = field(default_factory=list)
    premaster: MeterResult = None
    master: MeterResult = None
    node_levels: dict = field(default_factory=dict)
    node_stats: dict = field(default_factory=dict)
    master_stats: dict = field(default_factory=dict)
    loudness: object = None
    render_seconds: float = 2.0
    duration_s: float = 180.0
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def realtime_factor(self):
        return 90.0


def fixed_result() -> FakeResult:
    s = Session.model_validate({"mixgraph": 1, "name": "song", "tracks": {"kick": {"source": "k.wav", "out": "drums"}},
                                "buses": {"drums": {}}, "master": {"chain": [{"type": "limiter"}],
                                                                   "loudness": {"target_lufs": -14}}})
    plan = compile_session(s)
    return FakeResult(
        plan=plan, premaster=reading(-19.5, -3.2), master=reading(-14.02, -1.05, lra=5.1),
        outputs=[FakeOutput(FakeWritten("master", "renders/song-master.wav", "master"), reading(-14.02, -1.05))],
        node_levels={"bus:drums": reading(-22.0, 0.4, sample_peak_dbfs=0.2, clipped_samples=12),
                     "track:kick": reading(-24.0, -6.0)},
        node_stats={"bus:drums": {"clipped": 12, "gain_reduction": []},
                    "track:kick": {"clipped": 0, "gain_reduction": [("compressor", "comp", 0, 6.5, 2.25, [6.5])]}},
        master_stats={"gain_reduction": [("limiter", None, 0, 4.2, 0.8, [1.0, 4.2, 0.5])]},
        loudness=FakeSolve())


def test_golden_markdown_and_json(golden):
    report = build_report(fixed_result())
    golden(REPO / "tests/report/golden/report.md", render_markdown(report))
    data = json.loads(to_json(report))
    del data["run"]
    golden(REPO / "tests/report/golden/report.json", json.dumps(data, indent=2) + "\n")


def test_platform_table_for_a_loud_master():
    rows = {r.platform: r for r in platform_table(-9.0, -0.5)}
    assert rows["Spotify"].gain_db == -5.0 and rows["Spotify"].result_lufs == -14.0
    assert rows["Apple Music"].gain_db == -7.0
    assert rows["EBU R128 broadcast"].gain_db == -14.0
    assert rows["ATSC A/85"].gain_db == -15.0
    assert not rows["Spotify"].true_peak_risk


def test_platform_table_for_a_quiet_master():
    rows = {r.platform: r for r in platform_table(-20.0, -6.0)}
    assert rows["YouTube"].gain_db == 0.0  # turns down only
    assert rows["Spotify"].gain_db == 5.0  # up to the -1 dBTP peak limit, not the full 6 dB


@pytest.mark.parametrize("case,expect", [
    (dict(i=-20.0), "unmastered"), (dict(i=-15.0), None),
    (dict(lra=3.0), "squashed"), (dict(lra=5.0), None),
    (dict(tp=-0.5), "true-peak"), (dict(tp=-1.2), None),
    (dict(mono=-4.0), "mono"), (dict(mono=-1.0), None),
])
def test_findings_thresholds(case, expect):
    m = reading(case.get("i", -14.0), case.get("tp", -1.2), lra=case.get("lra", 6.0),
                mono_loudness_diff_lu=case.get("mono", -0.5))
    from dataclasses import asdict

    codes = {f.code for f in findings(asdict(m), asdict(m), {}, -1.0, True)}
    if expect:
        assert expect in codes
    else:
        assert not codes & {"unmastered", "squashed", "true-peak", "mono"}


def test_bus_clipping_is_found():
    report = build_report(fixed_result())
    assert any(f["code"] == "bus-clipping" and "bus:drums" in f["text"] for f in report["findings"])


def test_html_is_self_contained_with_three_plots():
    html = render_html(build_report(fixed_result()))
    assert html.count('src="data:image/png;base64,') == 3
    assert not re.search(r'(src|href)="(?!data:)', html)


def test_terminal_has_mix_and_master_side_by_side():
    from rich.console import Console

    console = Console(record=True, width=120)
    render_terminal(build_report(fixed_result()), console)
    text = console.export_text()
    assert "Mix" in text and "Master" in text and "Spotify" in text

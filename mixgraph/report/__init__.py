"""The mix-and-master report (layer 4): model, platform table, findings, renderings."""

from mixgraph.report.model import (
    GainReduction,
    LoudnessInfo,
    NodeLevels,
    OutputInfo,
    Report,
    Series,
    SessionInfo,
    Timing,
    build_report,
    report_from_render,
    to_json,
)
from mixgraph.report.render import (
    render_html,
    render_markdown,
    render_terminal,
    report_texts,
    write_report,
)

__all__ = [
    "GainReduction", "LoudnessInfo", "NodeLevels", "OutputInfo", "Report", "Series", "SessionInfo", "Timing",
    "build_report", "render_html", "render_markdown", "render_terminal", "report_from_render", "report_texts",
    "to_json", "write_report",
]

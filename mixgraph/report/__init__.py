"""The mix-and-master report (layer 4): model, platform table, findings, renderings."""

from mixgraph.report.model import build_report, to_json
from mixgraph.report.render import render_html, render_markdown, render_terminal, write_report

__all__ = ["build_report", "render_html", "render_markdown", "render_terminal", "to_json", "write_report"]

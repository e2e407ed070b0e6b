"""Renderings of the report: terminal (rich), Markdown and self-contained HTML (jinja2), files.

Every renderer reads the JSON form of the report (``Report.to_dict()``), so a
``report.json`` loaded back renders exactly like the report it came from. Nothing
here prints: ``render_terminal`` writes to the console the CLI hands it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from pathlib import Path

import jinja2

from mixgraph.atomic import write_text
from mixgraph.report.findings import NEVER_ACTED_DB
from mixgraph.report.model import Report, as_dict, to_json

#: the figures of a reading shown side by side for mix and master: label, key, unit
ROWS = (
    ("Integrated", "integrated_lufs", "LUFS", 2),
    ("Momentary max", "momentary_max_lufs", "LUFS", 2),
    ("Short-term max", "short_term_max_lufs", "LUFS", 2),
    ("Loudness range", "lra_lu", "LU", 2),
    ("True peak", "true_peak_dbtp", "dBTP", 2),
    ("Sample peak", "sample_peak_dbfs", "dBFS", 2),
    ("RMS", "rms_dbfs", "dBFS", 2),
    ("Crest factor", "crest_db", "dB", 2),
    ("PLR", "plr_db", "dB", 2),
    ("Correlation", "correlation", "", 3),
    ("Mono fold-down", "mono_loudness_diff_lu", "LU", 2),
    ("Clipped samples", "clipped_samples", "", 0),
)

#: tick labels of the meter's spectral bands (mixgraph.meter.meter.BANDS)
BAND_LABELS = {"sub": "sub\n< 60 Hz", "low": "low\n60-250 Hz", "low_mid": "low mid\n250 Hz-2 kHz",
               "high_mid": "high mid\n2-6 kHz", "high": "high\n> 6 kHz"}

SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def fmt(v, unit: str = "", digits: int = 2) -> str:
    """A figure for people: ``digits`` decimals, unit appended, 'n/a' for unmeasurable."""
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}" + (f" {unit}" if unit else "")
    return str(v) + (f" {unit}" if unit else "")


def signed(v, unit: str = "dB") -> str:
    return "n/a" if v is None else f"{v:+.1f} {unit}"


def figure(reading: Mapping | None, key: str, unit: str = "", digits: int = 2, brief: bool = False) -> str:
    """One figure of a reading, or why it was not measured ("too short to measure (...)"; with
    ``brief`` without the parenthesis, for the narrow terminal panels)."""
    if not reading:
        return "n/a"
    why = (reading.get("not_measured") or {}).get(key)
    if why:
        return why.split(" (")[0] if brief else why
    return fmt(reading.get(key), unit, digits)


def gr_text(g: Mapping) -> str:
    """'never acted', or 'max X dB / mean Y dB', with a multiband's bands after it."""
    if not g["acted"]:
        text = "never acted"
    else:
        text = f"max {fmt(g['max_db'], 'dB')} / mean {fmt(g['mean_db'], 'dB')}"
    bands = g.get("bands") or ()
    if bands:
        text += " (bands max/mean: " + ", ".join(
            f"{b['index'] + 1}: " + (f"{fmt(b['max_db'])}/{fmt(b['mean_db'], 'dB')}" if b["acted"] else "never acted")
            for b in bands) + ")"
    return text


def processor_name(g: Mapping) -> str:
    return f"{g['kind']} #{g['index']}" + (f" '{g['processor_id']}'" if g.get("processor_id") else "")


def share_text(g: Mapping) -> str:
    """Share of the seconds over the working-hard threshold, for the master chain's table."""
    if "hard_db" not in g or not g["acted"]:
        return ""
    share = g.get("share_over_hard")
    return "n/a" if share is None else f"{share * 100:.0f} % of seconds over {g['hard_db']:g} dB"


def budget_text(lo: Mapping) -> str:
    """The limiter's figures against the solver's budget, saying what the budget counts."""
    text = f"limiter gain reduction max {fmt(lo['limiter_gr_max_db'], 'dB')}"
    if lo.get("max_gain_reduction_db") is not None:
        text += (f" of a {lo['max_gain_reduction_db']:g} dB budget (max_gain_reduction_db counts "
                 f"{lo['budget_counts']})")
    return text + f", mean {fmt(lo['limiter_gr_mean_db'], 'dB')}"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=jinja2.select_autoescape(["html", "html.j2"]), keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["fmt"] = fmt
    env.filters["signed"] = signed
    env.filters["gr"] = gr_text
    env.filters["processor"] = processor_name
    env.filters["share"] = share_text
    env.filters["budget"] = budget_text
    env.globals["figure"] = figure
    return env


def _title(r: Mapping) -> str:
    s = r["session"]
    return f"{s['name']}" + (f" ({s['variant']})" if s.get("variant") else "")


# ----------------------------------------------------------------------------- terminal


def _reading_table(reading: Mapping | None):
    from rich.table import Table

    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column("figure")
    t.add_column("value", justify="right")
    for label, key, unit, digits in ROWS:
        t.add_row(label, figure(reading, key, unit, digits, brief=True))
    return t


def _panels(r: Mapping):
    from rich.columns import Columns
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    mix_panel = Panel(_reading_table(r["mix"]), title="Mix", subtitle="premaster", expand=False)
    if r["master"] is None:
        return Columns([mix_panel, Panel(Text("no master stage:\nthe mix print is the result"), title="Master",
                                         expand=False)])
    body = _reading_table(r["master"])
    lo = r["loudness"]
    if lo:
        line = Text(f"target {fmt(lo['target_lufs'], 'LUFS')} / {fmt(lo['ceiling_dbtp'], 'dBTP')}: "
                    f"{fmt(lo['achieved_lufs'], 'LUFS')} in {lo['iterations']} passes\n"
                    f"gain {signed(lo['gain_db'])}, limiter GR max {fmt(lo['limiter_gr_max_db'], 'dB')}"
                    + (f" of {lo['max_gain_reduction_db']:g} dB\n(the budget counts the limiter only)"
                       if lo.get("max_gain_reduction_db") is not None else "")
                    + f", mean {fmt(lo['limiter_gr_mean_db'], 'dB')}")
        body = Group(body, Text(""), line)
    return Columns([mix_panel, Panel(body, title="Master", expand=False)])


def _master_chain_table(r: Mapping):
    from rich.table import Table

    c = Table(title="Master chain gain reduction")
    c.add_column("Processor", no_wrap=True)
    c.add_column("Gain reduction")
    c.add_column("Working hard")
    for g in r["master_chain"]:
        c.add_row(processor_name(g), gr_text(g), share_text(g))
    return c


def _nodes_table(r: Mapping):
    from rich.table import Table

    n = Table(title="Tracks, buses and returns",
              caption="peak dBFS, true peak dBTP, integrated LUFS, crest dB, gain reduction max/mean dB")
    n.add_column("Node", no_wrap=True)
    for c in ("Peak", "TP", "LUFS", "Crest", "Clip"):
        n.add_column(c, justify="right", no_wrap=True)
    n.add_column("GR max/mean")
    for row in r["nodes"]:
        gr = "; ".join(f"{g['processor_id'] or g['kind']} {gr_text(g)}" for g in row["gain_reduction"])
        if row["muted"]:
            n.add_row(row["node"], "muted", "", "", "", "", gr)
            continue
        n.add_row(row["node"], fmt(row["sample_peak_dbfs"]), fmt(row["true_peak_dbtp"]),
                  fmt(row["integrated_lufs"]), fmt(row["crest_db"]), str(row["clipped_samples"]), gr)
    return n


def _platforms_table(r: Mapping):
    from rich.table import Table
    from rich.text import Text

    p = Table(title=f"What the platforms do to the {'master' if r['mastered'] else 'mix print'}")
    p.caption = "reference and result in LUFS, gain in dB, true peak after the gain in dBTP"
    p.add_column("Platform", no_wrap=True)
    for c in ("Ref", "Gain", "Plays at", "TP"):
        p.add_column(c, justify="right", no_wrap=True)
    p.add_column("Risk")
    p.add_column("Action")
    for row in r["platforms"]:
        risk = Text(row["risk"], style="red" if row["true_peak_risk"] else "green")
        p.add_row(row["platform"], f"{row['reference_lufs']:g}", f"{row['gain_db']:+.1f}",
                  fmt(row["result_lufs"], digits=1), fmt(row["result_true_peak_dbtp"], digits=1), risk,
                  row["action"])
    return p


def _outputs_table(r: Mapping):
    from rich.table import Table

    o = Table(title="Outputs")
    o.add_column("Output", no_wrap=True)
    o.add_column("File", overflow="fold")
    o.add_column("Format")
    for c in ("LUFS", "TP dBTP", "Clipped"):
        o.add_column(c, justify="right", no_wrap=True)
    for row in r["outputs"]:
        o.add_row(row["name"], row["path"], f"{row['format']} {row['sample_rate']} {row['bit_depth']}",
                  fmt(row["integrated_lufs"]), fmt(row["true_peak_dbtp"]), str(row["clipped_samples"]))
    return o


def _findings_lines(r: Mapping):
    from rich.text import Text

    yield Text("Findings", style="bold")
    if not r["findings"]:
        yield Text("  nothing to act on")
    for f in r["findings"]:
        line = Text("  ")
        line.append(f"{f['severity']}", style=SEVERITY_STYLE.get(f["severity"], ""))
        line.append(f" [{f['code']}] {f['text']}")
        yield line
    for w in r["warnings"]:
        yield Text(f"warning: {w}", style="yellow")
    for note in r["notes"]:
        yield Text(f"note: {note}")
    run = r.get("run")
    if run:
        rtf = run.get("realtime_factor")
        yield Text(f"rendered {run['audio_seconds']:.1f} s of audio in {run['render_seconds']:.2f} s"
                   + (f" ({rtf:g}x realtime)" if rtf is not None else ""))
        if run.get("cache"):
            yield Text(cache_line(run["cache"]))


def cache_line(c: Mapping) -> str:
    """'cache: 18 nodes reused, 3 rendered; mix rendered, master reused; 4.2 s saved'."""
    return (f"cache: {c['nodes_reused']} nodes reused, {c['nodes_rendered']} rendered; mix {c['mix']}, "
            f"master {c['master']}; {c['saved_s']:.1f} s saved" + (" (a corrupt entry was recomputed)"
                                                                  if c.get("retried") else ""))


def render_terminal(report: Report | Mapping, console) -> None:
    """Write the summary to ``console`` (a rich Console owned by the caller): the "Mix" and
    "Master" panels side by side, the master chain, the nodes, the platform table, the outputs,
    the findings."""
    from rich.text import Text

    r = as_dict(report)
    console.print(Text(f"mixgraph report: {_title(r)}", style="bold"))
    console.print(_panels(r))
    for key, table in (("master_chain", _master_chain_table), ("nodes", _nodes_table),
                       ("platforms", _platforms_table), ("outputs", _outputs_table)):
        if r[key]:
            console.print(table(r))
    for line in _findings_lines(r):
        console.print(line)


# ----------------------------------------------------------------------------- markdown / html


def render_markdown(report: Report | Mapping) -> str:
    r = as_dict(report)
    return _env().get_template("report.md.j2").render(r=r, rows=ROWS, title=_title(r))


def _png(fig) -> str:
    buf = io.BytesIO()
    # no software/time metadata in the PNG: the same report gives the same bytes
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _nan(ys) -> list[float]:
    return [float("nan") if y is None else float(y) for y in ys or ()]


def plot_notes(report: Report | Mapping) -> dict[str, str]:
    """Plot name -> the words said instead of a plot that would be empty or only show noise."""
    r = as_dict(report)
    s = r["series"]
    notes = {}
    if not any(v is not None for key in ("mix_short_term_lufs", "master_short_term_lufs") for v in s.get(key) or ()):
        notes["loudness"] = "Too short to measure: short-term loudness needs a 3 s window."
    gr = [g for g in s.get("limiter_gr_db") or () if g is not None]
    lims = [g for g in r.get("master_chain") or () if g["kind"] == "limiter"]
    if (lims and not lims[0]["acted"]) or (not lims and gr and max(gr) < NEVER_ACTED_DB):
        notes["limiter"] = f"The master limiter never acted (gain reduction under {NEVER_ACTED_DB:g} dB)."
    elif lims and not gr:
        notes["limiter"] = "Too short to measure: the limiter's gain reduction is plotted per whole second."
    elif not gr:
        notes["limiter"] = "No limiter on the master."
    return notes


def plots(report: Report | Mapping) -> dict[str, str]:
    """The plots as ``data:`` PNG URIs: 'loudness', 'spectrum', 'limiter' (except those
    ``plot_notes`` puts in words).

    Uses ``matplotlib.figure.Figure`` with the Agg canvas directly (no pyplot): no global
    backend switch and no figure registry, so it is safe inside a notebook or a thread."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def subplots():
        fig = Figure(figsize=(8, 3))
        FigureCanvasAgg(fig)
        return fig, fig.subplots()

    r = as_dict(report)
    s = r["series"]
    out = {}
    notes = plot_notes(r)

    fig, ax = subplots()
    step = s.get("step_s") or 1.0
    for key, label in (("mix_short_term_lufs", "mix"), ("master_short_term_lufs", "master")):
        ys = _nan(s.get(key))
        if ys:
            ax.plot([k * step for k in range(len(ys))], ys, label=label)
    lo = r.get("loudness")
    if lo:
        ax.axhline(lo["target_lufs"], color="grey", linestyle="--", linewidth=1, label="target")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("short-term loudness (LUFS)")
    ax.set_title("Short-term loudness (3 s window)")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right")
    if "loudness" not in notes:
        out["loudness"] = _png(fig)

    fig, ax = subplots()
    mix_sp = s.get("mix_spectrum_db") or {}
    master_sp = s.get("master_spectrum_db") or {}
    names = list(mix_sp) or list(master_sp)
    xs = range(len(names))
    if mix_sp:
        ax.bar([k - 0.2 for k in xs], [mix_sp[n] for n in names], width=0.4, label="mix")
    if master_sp:
        ax.bar([k + 0.2 for k in xs], [master_sp.get(n, float("nan")) for n in names], width=0.4, label="master")
    ax.set_xticks(list(xs), [BAND_LABELS.get(n, n) for n in names])
    ax.set_ylabel("share of total power (dB)")
    ax.set_title("Spectral balance, mix vs master")
    ax.grid(alpha=0.3, axis="y")
    if names:
        ax.legend(loc="lower left")
    out["spectrum"] = _png(fig)

    if "limiter" not in notes:
        fig, ax = subplots()
        gr = _nan(s.get("limiter_gr_db"))
        gstep = s.get("limiter_gr_step_s") or 1.0
        # one step per value: repeat the last value at the end so the last step is drawn too
        ax.fill_between([k * gstep for k in range(len(gr) + 1)], [-g for g in gr + gr[-1:]], 0.0, step="post",
                        alpha=0.6)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("gain (dB)")
        ax.set_title(f"Master limiter gain reduction (max per {gstep:g} s)")
        ax.grid(alpha=0.3)
        out["limiter"] = _png(fig)
    return out


def render_html(report: Report | Mapping, with_plots: bool = True) -> str:
    """One self-contained HTML page: inline CSS, plots as inline base64 PNG, no external URLs."""
    r = as_dict(report)
    return _env().get_template("report.html.j2").render(r=r, rows=ROWS, title=_title(r),
                                                        plots=plots(r) if with_plots else {}, notes=plot_notes(r))


# ----------------------------------------------------------------------------- files


def report_stem(report: Report | Mapping) -> str:
    """File stem shared by the report files: '<session>[-<variant>]' (variants rendered
    into one folder keep their own reports)."""
    s = as_dict(report)["session"]
    return s["name"] + (f"-{s['variant']}" if s.get("variant") else "")


def report_texts(report: Report | Mapping, *, html: bool = True, plots: bool = True) -> dict[str, str]:
    """Suffix ("report.json", "report.md", "report.html") -> the text of that report file."""
    texts = {"report.json": to_json(report), "report.md": render_markdown(report)}
    if html:
        texts["report.html"] = render_html(report, with_plots=plots)
    return texts


def write_report(report: Report | Mapping, out_dir: str | Path, *, html: bool = True,
                 plots: bool = True) -> list[Path]:
    """Write ``<stem>.report.json``, ``<stem>.report.md`` and (``html``) ``<stem>.report.html``.

    Everything is rendered before the first file is touched, and each file is replaced
    atomically, so a failure leaves the previous reports intact. (A render commits its reports
    together with its audio instead: see ``mixgraph.api.render``.)
    """
    out_dir = Path(out_dir)
    stem = report_stem(report)
    texts = report_texts(report, html=html, plots=plots)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, text in texts.items():
        p = out_dir / f"{stem}.{suffix}"
        write_text(p, text)
        written.append(p)
    return written

"""Renderings of the report: terminal (rich), Markdown and self-contained HTML (jinja2)."""

from __future__ import annotations

import base64
import io
import os
import tempfile
from pathlib import Path

import jinja2

from mixgraph.report.model import to_json

ROWS = (
    ("Integrated", "integrated_lufs", "LUFS"),
    ("Momentary max", "momentary_max_lufs", "LUFS"),
    ("Short-term max", "short_term_max_lufs", "LUFS"),
    ("Loudness range", "lra_lu", "LU"),
    ("True peak", "true_peak_dbtp", "dBTP"),
    ("Sample peak", "sample_peak_dbfs", "dBFS"),
    ("RMS", "rms_dbfs", "dBFS"),
    ("Crest factor", "crest_db", "dB"),
    ("PLR", "plr_db", "dB"),
    ("Correlation", "correlation", ""),
    ("Mono fold-down", "mono_loudness_diff_lu", "LU"),
    ("Clipped samples", "clipped_samples", ""),
)


def fmt(v, unit: str = "") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.2f}" + (f" {unit}" if unit else "")
    return str(v) + (f" {unit}" if unit else "")


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = fmt
    return env


def render_terminal(report: dict, console) -> None:
    """Write the summary to a rich Console the CLI owns: Mix and Master side by side."""
    from rich.table import Table

    t = Table(title=f"mixgraph report: {report['session']['name']}"
              + (f" ({report['session']['variant']})" if report["session"]["variant"] else ""))
    t.add_column("")
    t.add_column("Mix", justify="right")
    t.add_column("Master", justify="right")
    for label, key, unit in ROWS:
        t.add_row(label, fmt(report["mix"].get(key), unit),
                  fmt(report["master"].get(key), unit) if report["master"] else "n/a")
    console.print(t)
    if report["loudness"]:
        lo = report["loudness"]
        console.print(f"Loudness target {lo['target_lufs']} LUFS: achieved {lo['achieved_lufs']} LUFS in "
                      f"{lo['iterations']} passes, input gain {lo['gain_db']:+.2f} dB, limiter reduction "
                      f"max {lo['limiter_gr_max_db']} dB / mean {lo['limiter_gr_mean_db']} dB")
    if report["platforms"]:
        p = Table(title="What the platforms will do")
        for c in ("Platform", "Reference", "Gain", "Plays at", "True peak", "Note"):
            p.add_column(c)
        for r in report["platforms"]:
            p.add_row(r["platform"], f"{r['reference_lufs']:g} LUFS", f"{r['gain_db']:+.1f} dB",
                      f"{r['result_lufs']:.1f} LUFS", f"{r['result_true_peak_dbtp']:.1f} dBTP"
                      + (" (risk)" if r["true_peak_risk"] else ""), r["note"])
        console.print(p)
    o = Table(title="Outputs")
    for c in ("Output", "File", "Format", "Loudness", "True peak", "Clipped"):
        o.add_column(c)
    for r in report["outputs"]:
        o.add_row(r["name"], r["path"], f"{r['format']} {r['sample_rate']} Hz {r['bit_depth']}",
                  fmt(r["integrated_lufs"], "LUFS"), fmt(r["true_peak_dbtp"], "dBTP"), str(r["clipped_samples"]))
    console.print(o)
    for f in report["findings"]:
        console.print(f"[bold]{f['severity']}[/bold]: {f['text']}")
    for w in report["warnings"]:
        console.print(f"warning: {w}")
    for n in report["notes"]:
        console.print(f"note: {n}")
    run = report["run"]
    console.print(f"rendered {run['duration_s']:.1f} s of audio in {run['render_seconds']:.2f} s "
                  f"({run['realtime_factor']}x realtime)")


def render_markdown(report: dict) -> str:
    return _env().get_template("report.md.j2").render(r=report, rows=ROWS)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def plots(report: dict) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = report["series"]
    out = {}
    fig, ax = plt.subplots(figsize=(8, 3))
    for key, label in (("mix_short_term_lufs", "mix"), ("master_short_term_lufs", "master")):
        ys = [v if v is not None else float("nan") for v in s.get(key) or []]
        ax.plot([i * s["step_s"] for i in range(len(ys))], ys, label=label)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("short-term loudness (LUFS)")
    ax.legend()
    out["loudness"] = _png(fig)
    fig, ax = plt.subplots(figsize=(8, 3))
    names = list((s.get("mix_spectrum_db") or {}).keys())
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], [s["mix_spectrum_db"][n] for n in names], width=0.4, label="mix")
    if s.get("master_spectrum_db"):
        ax.bar([i + 0.2 for i in x], [s["master_spectrum_db"][n] for n in names], width=0.4, label="master")
    ax.set_xticks(list(x), names)
    ax.set_ylabel("share of power (dB)")
    ax.legend()
    out["spectrum"] = _png(fig)
    fig, ax = plt.subplots(figsize=(8, 3))
    gr = s.get("limiter_gr_db_per_s") or []
    ax.plot(range(len(gr)), [-g for g in gr])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("limiter gain (dB)")
    out["limiter"] = _png(fig)
    return out


def render_html(report: dict, with_plots: bool = True) -> str:
    return _env().get_template("report.html.j2").render(r=report, rows=ROWS, plots=plots(report) if with_plots else {})


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.partial-", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_report(report: dict, out_dir: str | Path, *, html: bool = True, plots: bool = True) -> list[Path]:
    out_dir = Path(out_dir)
    stem = report["session"]["name"] + (f"-{report['session']['variant']}" if report["session"]["variant"] else "")
    written = []
    for suffix, text in (("report.json", to_json(report)), ("report.md", render_markdown(report))):
        p = out_dir / f"{stem}.{suffix}"
        _atomic_write(p, text)
        written.append(p)
    if html:
        p = out_dir / f"{stem}.report.html"
        _atomic_write(p, render_html(report, with_plots=plots))
        written.append(p)
    return written

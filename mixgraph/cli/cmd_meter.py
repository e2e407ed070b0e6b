"""mixgraph meter FILE... [--json]"""

from __future__ import annotations

HELP = "measure loudness (BS.1770-4), loudness range and true peak of audio files"

FIELDS = ("integrated_lufs", "momentary_max_lufs", "short_term_max_lufs", "lra_lu", "true_peak_dbtp",
          "sample_peak_dbfs", "duration_s", "sample_rate", "channels")


def add_arguments(p) -> None:
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per file")


def run(args) -> int:
    import json
    from dataclasses import asdict

    from mixgraph.api.meter import meter_file

    results = []
    for f in args.files:
        r = asdict(meter_file(f))
        r.pop("short_term_series", None)
        ordered = {"file": f, **{k: r.pop(k) for k in FIELDS}, **r}
        results.append(ordered)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    from mixgraph.report.render import fmt

    t = Table(title="mixgraph meter")
    units = {"integrated_lufs": "LUFS", "momentary_max_lufs": "LUFS", "short_term_max_lufs": "LUFS", "lra_lu": "LU",
             "true_peak_dbtp": "dBTP", "sample_peak_dbfs": "dBFS", "duration_s": "s"}
    t.add_column("file")
    for k in FIELDS:
        t.add_column(k, justify="right")
    for r in results:
        t.add_row(r["file"], *[fmt(round(r[k], 2) if isinstance(r[k], float) else r[k], units.get(k, ""))
                               for k in FIELDS])
    Console().print(t)
    return 0

"""mixgraph meter FILE... [--layout LAYOUT] [--json]"""

from __future__ import annotations

HELP = "measure loudness (BS.1770-4), loudness range and true peak of audio files"

FIELDS = ("integrated_lufs", "momentary_max_lufs", "short_term_max_lufs", "lra_lu", "true_peak_dbtp",
          "sample_peak_dbfs", "duration_s", "sample_rate", "channels")
#: what a weighted (multichannel) reading adds, after FIELDS
LAYOUT_FIELDS = ("layout", "layout_source", "layout_note", "channel_labels", "channel_weights",
                 "channel_true_peak_dbtp", "channel_sample_peak_dbfs")


def add_arguments(p) -> None:
    # no import of mixgraph.meter here (it loads numpy): the parser is built for every command
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--layout", metavar="LAYOUT",
                   help="channel layout of every FILE (1 to 24 channels): mono, stereo, 2.1, 3.0, 3.1, "
                        "quad, 4.0, 5.0, 5.1, 6.1, 7.0, 7.1, 5.1.2, 5.1.4, 7.1.2, 7.1.4, or labels such as "
                        "L,R,C,LFE,Ls,Rs; default: a WAV file's channel mask, else the usual order for "
                        "the channel count")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per file")


def run(args) -> int:
    import json
    from dataclasses import asdict

    from mixgraph.api.meter import meter_file

    results = []
    for f in args.files:
        r = asdict(meter_file(f, layout=args.layout))
        r.pop("short_term_series", None)
        lead = {k: r.pop(k) for k in FIELDS}
        lay = {k: r.pop(k) for k in LAYOUT_FIELDS if k in r}
        if not lay:  # mono or stereo: the plain path, weights 1.0
            lay = {"layout": "mono" if lead["channels"] == 1 else "stereo"}
        results.append({"file": f, **lead, **lay, **r})
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
    t.add_column("layout")
    notes = []
    for r in results:
        labels = r.get("channel_labels")
        layout = r["layout"] or (" ".join(labels) if labels and r.get("layout_source") != "none" else "none")
        t.add_row(r["file"], *[fmt(round(r[k], 2) if isinstance(r[k], float) else r[k], units.get(k, ""))
                               for k in FIELDS], layout)
        if r.get("layout_note"):
            notes.append(f"{r['file']}: {r['layout_note']}")
    console = Console()
    console.print(t)
    for n in notes:
        console.print(n, markup=False, highlight=False)
    return 0

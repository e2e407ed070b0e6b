"""The report of a render: one JSON-able model, several renderings (json, terminal, md, html).

``build_report`` takes the render result (duck-typed: anything with the
attributes of ``mixgraph.api.render.RenderResult``) so this layer does not
import the API. Timings live only in the ``run`` section, which golden tests
leave out.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from mixgraph.report.findings import findings
from mixgraph.report.platforms import platform_table

SCHEMA_VERSION = 1


def _r(v, nd=2):
    if isinstance(v, float):
        return round(v, nd)
    if isinstance(v, dict):
        return {k: _r(x, nd) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_r(x, nd) for x in v]
    return v


def meter_dict(m) -> dict:
    d = asdict(m)
    d.pop("short_term_series", None)
    return _r(d)


def build_report(result) -> dict:
    plan = result.plan
    nodes = {}
    for nid, lv in sorted(result.node_levels.items()):
        st = result.node_stats.get(nid, {})
        nodes[nid] = {
            "sample_peak_dbfs": _r(lv.sample_peak_dbfs), "true_peak_dbtp": _r(lv.true_peak_dbtp),
            "integrated_lufs": _r(lv.integrated_lufs), "crest_db": _r(lv.crest_db),
            "clipped_samples": st.get("clipped", lv.clipped_samples),
            "gain_reduction": [{"kind": k, "id": pid, "index": i, "max_db": _r(mx), "mean_db": _r(mean)}
                               for k, pid, i, mx, mean, _ps in st.get("gain_reduction", [])],
        }
    mix = meter_dict(result.premaster)
    master = meter_dict(result.master) if result.master is not None else None
    lp = plan.master.loudness
    loud = None
    if result.loudness is not None:
        s = result.loudness
        loud = _r({"target_lufs": s.target_lufs, "ceiling_dbtp": s.ceiling_dbtp, "tolerance_lu": s.tolerance_lu,
                   "achieved_lufs": s.achieved_lufs, "true_peak_dbtp": s.true_peak_dbtp, "gain_db": s.gain_db,
                   "iterations": s.iterations, "limiter_gr_max_db": s.limiter_gr_max_db,
                   "limiter_gr_mean_db": s.limiter_gr_mean_db})
    outputs = []
    for o in result.outputs:
        w, m = o.written, o.meter
        outputs.append({"name": w.name, "path": w.path, "tap": w.tap, "format": w.format,
                        "sample_rate": w.sample_rate, "bit_depth": w.bit_depth, "frames": w.frames,
                        "clipped_samples": w.clipped_samples, "true_peak_dbtp": _r(m.true_peak_dbtp),
                        "integrated_lufs": _r(m.integrated_lufs), "sha256": w.sha256})
    mastered = bool(plan.master.chain) or lp is not None
    final = master if mastered and master is not None else mix
    plat = []
    if final.get("integrated_lufs") is not None:
        plat = [asdict(r) for r in platform_table(final["integrated_lufs"], final["true_peak_dbtp"])]
    bus_levels = {k: v for k, v in nodes.items() if not k.startswith("track:")}
    finds = findings(mix, master if mastered else None, bus_levels, lp.ceiling_dbtp if lp else None, mastered)
    lim = [g for g in result.master_stats.get("gain_reduction", []) if g[0] == "limiter"]
    return {
        "schema_version": SCHEMA_VERSION,
        "session": {"name": plan.session_name, "file": result.session_file, "variant": plan.variant},
        "plan_hash": plan.plan_hash(),
        "mix": mix,
        "master": master,
        "loudness": loud,
        "nodes": nodes,
        "outputs": outputs,
        "platforms": plat,
        "findings": [asdict(f) for f in finds],
        "warnings": list(result.warnings),
        "notes": list(result.notes),
        "series": {
            "step_s": result.premaster.series_step_s,
            "mix_short_term_lufs": _r(list(result.premaster.short_term_series)),
            "master_short_term_lufs": _r(list(result.master.short_term_series)) if result.master else [],
            "limiter_gr_db_per_s": _r(list(lim[0][5])) if lim else [],
            "mix_spectrum_db": mix.get("spectral_balance_db"),
            "master_spectrum_db": master.get("spectral_balance_db") if master else None,
        },
        "run": {"render_seconds": round(result.render_seconds, 3), "realtime_factor": round(result.realtime_factor, 1),
                "duration_s": round(result.duration_s, 3)},
    }


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False) + "\n"

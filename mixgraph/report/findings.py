"""Plain-language findings an engineer acts on, each with its numbers and a severity."""

from __future__ import annotations

from dataclasses import dataclass

UNMASTERED_BELOW_LUFS = -16.0
SQUASHED_LRA_LU = 4.0
MONO_LOSS_LU = -3.0
LOW_END_RANGE_DB = (-9.0, -1.5)  # sub + low share of the total power, dB
OVER_LIMITED_PLR_DB = 6.0


@dataclass(frozen=True)
class Finding:
    severity: str  # "warning" | "info"
    code: str
    text: str


def _low_end(bands: dict[str, float]) -> float | None:
    if "sub" not in bands or "low" not in bands:
        return None
    import math

    p = 10 ** (bands["sub"] / 10) + 10 ** (bands["low"] / 10)
    return 10 * math.log10(p) if p > 0 else None


def findings(mix: dict, master: dict | None, nodes: dict[str, dict], ceiling_dbtp: float | None,
             mastered: bool) -> list[Finding]:
    out: list[Finding] = []
    final = master if master is not None else mix
    i = final.get("integrated_lufs")
    if i is not None and i < UNMASTERED_BELOW_LUFS:
        what = "master" if mastered else "mix print"
        out.append(Finding("warning", "unmastered",
                           f"The {what} sits at {i:.1f} LUFS integrated: that is a mix level, not a master "
                           f"(release masters are usually -14 to -7 LUFS). Add a loudness target to the master."))
    for nid, lv in sorted(nodes.items()):
        if lv.get("clipped_samples", 0) > 0 or (lv.get("sample_peak_dbfs") or -200) > 0:
            out.append(Finding("warning", "bus-clipping",
                               f"{nid} goes over full scale before the master (peak {lv['sample_peak_dbfs']:+.1f} dBFS, "
                               f"{lv.get('clipped_samples', 0)} samples): pull its fader or input down."))
    if ceiling_dbtp is not None and final.get("true_peak_dbtp", -200) > ceiling_dbtp + 1e-9:
        out.append(Finding("warning", "true-peak", f"True peak {final['true_peak_dbtp']:.2f} dBTP is above the "
                                                   f"ceiling {ceiling_dbtp:g} dBTP."))
    lra = final.get("lra_lu")
    if lra is not None and lra < SQUASHED_LRA_LU:
        out.append(Finding("warning", "squashed", f"Loudness range {lra:.1f} LU is under {SQUASHED_LRA_LU:g} LU: "
                                                  "the dynamics are squashed."))
    plr = final.get("plr_db")
    if plr is not None and plr < OVER_LIMITED_PLR_DB:
        out.append(Finding("warning", "over-limited", f"Peak-to-loudness ratio {plr:.1f} dB is under "
                                                      f"{OVER_LIMITED_PLR_DB:g} dB: heavily limited."))
    mono = final.get("mono_loudness_diff_lu")
    corr = final.get("correlation")
    if (mono is not None and mono < MONO_LOSS_LU) or (corr is not None and corr < 0):
        out.append(Finding("warning", "mono", f"Poor mono compatibility: the mono fold-down changes loudness by "
                                              f"{mono:.1f} LU (correlation {corr if corr is not None else float('nan'):.2f})."))
    low = _low_end(final.get("spectral_balance_db") or {})
    if low is not None:
        lo, hi = LOW_END_RANGE_DB
        if low > hi:
            out.append(Finding("info", "low-end", f"Much low end: below 250 Hz holds {low:.1f} dB of the total power."))
        elif low < lo:
            out.append(Finding("info", "low-end", f"Thin low end: below 250 Hz holds only {low:.1f} dB of the total power."))
    return out

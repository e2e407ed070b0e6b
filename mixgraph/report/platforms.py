"""What each playback platform does to a master: normalisation gain and true-peak risk.

Reference levels as published by the platforms and standards (as of 2025):
Spotify -14 LUFS (normal mode; quieter masters are raised only as far as a -1 dBTP
peak allows), Apple Music Sound Check -16 LUFS, YouTube -14 LUFS (turn down only),
Tidal -14 LUFS (down only), Amazon Music -14 LUFS (down only), EBU R 128 broadcast
-23 LUFS with max -1 dBTP, ATSC A/85 -24 LKFS with max -2 dBTP.
"""

from __future__ import annotations

from dataclasses import dataclass

# name, reference LUFS, turns quiet masters up?, peak limit dBTP for turning up / delivery
PLATFORMS: tuple[tuple[str, float, bool, float], ...] = (
    ("Spotify", -14.0, True, -1.0),
    ("Apple Music", -16.0, True, -1.0),
    ("YouTube", -14.0, False, -1.0),
    ("Tidal", -14.0, False, -1.0),
    ("Amazon Music", -14.0, False, -1.0),
    ("EBU R128 broadcast", -23.0, True, -1.0),
    ("ATSC A/85", -24.0, True, -2.0),
)


@dataclass(frozen=True)
class PlatformRow:
    platform: str
    reference_lufs: float
    gain_db: float
    result_lufs: float
    result_true_peak_dbtp: float
    true_peak_risk: bool
    note: str


def platform_table(integrated_lufs: float, true_peak_dbtp: float) -> list[PlatformRow]:
    rows = []
    for name, ref, up, peak_limit in PLATFORMS:
        gain = ref - integrated_lufs
        note = "turned down" if gain < 0 else "unchanged"
        if gain > 0:
            if up:
                gain = min(gain, max(0.0, peak_limit - true_peak_dbtp))
                note = "turned up" if gain > 0 else "left quieter (no peak headroom)"
            else:
                gain = 0.0
                note = "left quieter (this platform only turns down)"
        tp = true_peak_dbtp + gain
        rows.append(PlatformRow(name, ref, round(gain, 2), round(integrated_lufs + gain, 2), round(tp, 2),
                                tp > peak_limit, note))
    return rows

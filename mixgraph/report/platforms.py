"""What each playback platform / delivery standard would do to a master.

For each one: the normalisation gain in dB, the loudness it then plays at, the
true peak after that gain, and whether that true peak is a risk.

Reference levels: published reference levels as of 2025 (platform help pages for
artists and the standards themselves):

* Spotify: -14 LUFS integrated in the default "normal" mode. Louder masters are
  turned down; quieter ones are turned up, but only as far as the true peak stays at
  -1 dBTP (Spotify leaves 1 dB for lossy encoding and does not limit in normal mode;
  its "loud" mode at -11 LUFS with a limiter is not modelled).
* Apple Music: Sound Check, -16 LUFS. Simplification: treated like Spotify (down
  always, up only as far as -1 dBTP true peak allows).
* YouTube: -14 LUFS, turns loud uploads down only, never up.
* Tidal: -14 LUFS, down only (its default normalisation).
* Amazon Music: -14 LUFS, down only.
* EBU R 128 (broadcast delivery): -23 LUFS programme loudness, max true peak -1 dBTP.
* ATSC A/85 (US broadcast): -24 LKFS, max true peak -2 dBTP.

Broadcast rows are deliveries, not players: the programme is brought to the target
in both directions and the true peak must then stay under the maximum (raising a
quiet master would need a limiter - flagged as a risk, never limited here).

Simplifications: one integrated loudness for the whole master (track mode; album
mode keeps the relative levels of an album), no user volume settings, and the
codec's overshoot is modelled only as "true peak above -1 dBTP is at risk".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

#: above this true peak a lossy encode (AAC/Ogg/Opus) may clip after decoding
CODEC_HEADROOM_DBTP = -1.0
#: a master this close to a reference is described as "at the reference" (the gain is still exact)
AT_REFERENCE_LU = 0.05


class Platform(NamedTuple):
    name: str
    reference_lufs: float
    turns_up: bool  # does it raise masters quieter than the reference?
    up_peak_limit_dbtp: float | None  # raising stops where the true peak would pass this (None: no stop)
    #: a hard true-peak maximum of the standard (broadcast delivery); None for streaming players, whose
    #: "-1 dBTP" is advice against lossy-codec overshoot (CODEC_HEADROOM_DBTP), not a rejection limit
    max_true_peak_dbtp: float | None


# published reference levels as of 2025 (see the module docstring for each policy)
PLATFORMS: tuple[Platform, ...] = (
    Platform("Spotify", -14.0, True, -1.0, None),
    Platform("Apple Music", -16.0, True, -1.0, None),
    Platform("YouTube", -14.0, False, None, None),
    Platform("Tidal", -14.0, False, None, None),
    Platform("Amazon Music", -14.0, False, None, None),
    Platform("EBU R128 broadcast", -23.0, True, None, -1.0),
    Platform("ATSC A/85", -24.0, True, None, -2.0),
)


@dataclass(frozen=True)
class PlatformRow:
    platform: str
    reference_lufs: float
    gain_db: float  # what the platform applies (negative = turned down)
    result_lufs: float  # integrated loudness it plays at
    result_true_peak_dbtp: float  # true peak after the gain
    max_true_peak_dbtp: float | None
    true_peak_risk: bool
    risk: str  # "none" | "codec headroom" (above -1 dBTP) | "over ceiling" (above the standard's maximum)
    action: str  # plain words: "turned down 5.0 dB", "left as is (only turns down)", ...


def apply_platform(p: Platform, integrated_lufs: float, true_peak_dbtp: float) -> PlatformRow:
    wanted = p.reference_lufs - integrated_lufs
    gain = wanted
    if abs(wanted) < AT_REFERENCE_LU:
        if wanted > 0 and not p.turns_up:
            gain = 0.0
        action = "at the reference"
    elif wanted < 0:
        action = f"turned down {-wanted:.1f} dB"
    elif not p.turns_up:
        gain = 0.0
        action = f"left {wanted:.1f} dB quieter (only turns down)"
    elif p.up_peak_limit_dbtp is not None and true_peak_dbtp + wanted > p.up_peak_limit_dbtp:
        gain = max(0.0, p.up_peak_limit_dbtp - true_peak_dbtp)
        action = (f"turned up {gain:.1f} of {wanted:.1f} dB (stops at {p.up_peak_limit_dbtp:g} dBTP peak); "
                  f"plays {wanted - gain:.1f} dB quieter")
    else:
        action = f"turned up {wanted:.1f} dB"
    tp = true_peak_dbtp + gain
    if p.max_true_peak_dbtp is not None and tp > p.max_true_peak_dbtp:
        risk = "over ceiling"
    elif tp > CODEC_HEADROOM_DBTP:
        risk = "codec headroom"
    else:
        risk = "none"
    return PlatformRow(platform=p.name, reference_lufs=p.reference_lufs, gain_db=gain,
                       result_lufs=integrated_lufs + gain, result_true_peak_dbtp=tp,
                       max_true_peak_dbtp=p.max_true_peak_dbtp, true_peak_risk=risk != "none", risk=risk,
                       action=action)


def platform_table(integrated_lufs: float, true_peak_dbtp: float,
                   platforms: tuple[Platform, ...] = PLATFORMS) -> list[PlatformRow]:
    """One row per platform for a master of this integrated loudness and true peak."""
    return [apply_platform(p, integrated_lufs, true_peak_dbtp) for p in platforms]

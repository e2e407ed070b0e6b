"""Loudness presets: the one table the session format, the schema, the CLI's ``--preset`` choices
and the master stage read. Plain data and the standard library only, so the session layer (which
must load without numpy) may import it: the one module of ``mastering`` any layer may use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Preset:
    target_lufs: float
    ceiling_dbtp: float
    description: str


PRESETS: dict[str, Preset] = {
    "streaming": Preset(-14.0, -1.0, "Spotify, YouTube, Tidal, Amazon: -14 LUFS, -1 dBTP"),
    "apple": Preset(-16.0, -1.0, "Apple Music / Sound Check: -16 LUFS, -1 dBTP"),
    "club": Preset(-9.0, -0.3, "loud masters for DJs and clubs: -9 LUFS, -0.3 dBTP"),
    "broadcast": Preset(-23.0, -1.0, "EBU R128 broadcast: -23 LUFS, -1 dBTP"),
}
PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)
#: the ceiling when a loudness section names neither a preset nor a ceiling
DEFAULT_CEILING_DBTP = -1.0


class LoudnessSpec(Protocol):
    preset: str | None
    target_lufs: float | None
    ceiling_dbtp: float | None


def resolved_loudness(loud: LoudnessSpec) -> tuple[float, float]:
    """(target_lufs, ceiling_dbtp) of a loudness section: explicit fields over the preset's."""
    preset = PRESETS.get(loud.preset or "")
    target = loud.target_lufs if loud.target_lufs is not None else (preset.target_lufs if preset else None)
    if loud.ceiling_dbtp is not None:
        ceiling = loud.ceiling_dbtp
    else:
        ceiling = preset.ceiling_dbtp if preset else DEFAULT_CEILING_DBTP
    if target is None:
        raise ValueError("a loudness section needs a 'target_lufs' or a 'preset'")
    return float(target), float(ceiling)


def describe() -> str:
    """One line per preset, for help texts and the schema."""
    return "; ".join(f"{name}: {p.description}" for name, p in PRESETS.items())

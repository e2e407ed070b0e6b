"""Channel layouts and their BS.1770-4 loudness weights (layer 3, plain data).

BS.1770-4 weights each channel by its position: 1.41 (+1.5 dB) for a loudspeaker at elevation
under 30 deg and azimuth 60..120 deg (the surrounds of 5.1, the side surrounds of 7.1), 1.0 for
every other position (front, centre, rear surrounds at 135..150 deg, back centre, height
channels), and the LFE is left out of the loudness. Sample and true peak still cover every
channel, the LFE included (as ffmpeg's ``ebur128`` filter does).

Where the layout comes from, first match:

1. ``--layout`` (:func:`parse_layout`): a name (``5.1``, ``7.1.4``...) or labels ``L,R,C,LFE,Ls,Rs``;
2. a WAV file's ``WAVE_FORMAT_EXTENSIBLE`` channel mask (:func:`from_mask`);
3. the conventional order for the channel count in that container (:func:`conventional`);
4. none: every channel weighted 1.0, and the reading says so.

ffmpeg's ``ebur128`` weights every back, side and top-back channel 1.41. It agrees with
BS.1770-4 on 5.1 (back or side surrounds) and differs on the rear pair of 7.1 (``BL``/``BR``
when ``SL``/``SR`` are present: 1.0 here, at 135..150 deg) and on top-back channels (1.0 here).
"""

from __future__ import annotations

from dataclasses import dataclass

#: the most channels ``mixgraph meter`` takes (7.1.4 is 12, a 22.2 programme 24)
MAX_CHANNELS = 24

SURROUND = 1.41  # BS.1770-4: +1.5 dB for 60..120 deg azimuth
#: label -> BS.1770-4 weight. L/R/C front; Lc/Rc front inner; Ls/Rs surround (60..120 deg);
#: Lb/Rb rear surround (135..150 deg); Cs back centre; T* height (elevation >= 30 deg)
WEIGHTS = {"L": 1.0, "R": 1.0, "C": 1.0, "LFE": 0.0, "LFE2": 0.0, "Lc": 1.0, "Rc": 1.0,
           "Ls": SURROUND, "Rs": SURROUND, "Lb": 1.0, "Rb": 1.0, "Cs": 1.0,
           "Tc": 1.0, "Tfl": 1.0, "Tfc": 1.0, "Tfr": 1.0, "Tbl": 1.0, "Tbc": 1.0, "Tbr": 1.0}

#: the named layouts, in the channel order ``--layout NAME`` means (SMPTE/Microsoft order:
#: fronts, centre, LFE, surrounds, rears, heights)
LAYOUTS: dict[str, tuple[str, ...]] = {
    "mono": ("C",),
    "stereo": ("L", "R"),
    "2.1": ("L", "R", "LFE"),
    "3.0": ("L", "R", "C"),
    "3.1": ("L", "R", "C", "LFE"),
    "quad": ("L", "R", "Ls", "Rs"),
    "4.0": ("L", "R", "C", "Cs"),
    "5.0": ("L", "R", "C", "Ls", "Rs"),
    "5.1": ("L", "R", "C", "LFE", "Ls", "Rs"),
    "6.1": ("L", "R", "C", "LFE", "Cs", "Ls", "Rs"),
    "7.0": ("L", "R", "C", "Ls", "Rs", "Lb", "Rb"),
    "7.1": ("L", "R", "C", "LFE", "Ls", "Rs", "Lb", "Rb"),
    "5.1.2": ("L", "R", "C", "LFE", "Ls", "Rs", "Tfl", "Tfr"),
    "5.1.4": ("L", "R", "C", "LFE", "Ls", "Rs", "Tfl", "Tfr", "Tbl", "Tbr"),
    "7.1.2": ("L", "R", "C", "LFE", "Ls", "Rs", "Lb", "Rb", "Tfl", "Tfr"),
    "7.1.4": ("L", "R", "C", "LFE", "Ls", "Rs", "Lb", "Rb", "Tfl", "Tfr", "Tbl", "Tbr"),
}

#: the layout a file without a channel mask is taken to have, by channel count. WAV and most
#: containers: Microsoft/SMPTE order (4 channels: quad, as KSAUDIO_SPEAKER_QUAD; 8: the film
#: delivery order L R C LFE Ls Rs Lb Rb). 7 channels and 9 or more: no convention (weights 1.0)
_CONVENTIONAL = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 8: "7.1"}
#: FLAC's own channel assignment (FLAC format spec, "Channel assignment"): 7 and 8 channels put
#: the back pair before the side pair
_FLAC = {1: ("C",), 2: ("L", "R"), 3: ("L", "R", "C"), 4: ("L", "R", "Ls", "Rs"),
         5: ("L", "R", "C", "Ls", "Rs"), 6: ("L", "R", "C", "LFE", "Ls", "Rs"),
         7: ("L", "R", "C", "LFE", "Cs", "Ls", "Rs"), 8: ("L", "R", "C", "LFE", "Lb", "Rb", "Ls", "Rs")}
#: Ogg Vorbis and Opus (Vorbis I spec, section 4.3.9): centre second, LFE last
_VORBIS = {1: ("C",), 2: ("L", "R"), 3: ("L", "C", "R"), 4: ("L", "R", "Ls", "Rs"),
           5: ("L", "C", "R", "Ls", "Rs"), 6: ("L", "C", "R", "Ls", "Rs", "LFE"),
           7: ("L", "C", "R", "Ls", "Rs", "Cs", "LFE"), 8: ("L", "C", "R", "Ls", "Rs", "Lb", "Rb", "LFE")}

#: dwChannelMask bits in channel order (ksmedia.h SPEAKER_*), as labels here; BL/BR are the
#: surrounds of a layout without SL/SR (5.1 "back"), the rears of one with them (7.1)
_MASK_BITS = ("L", "R", "C", "LFE", "BL", "BR", "Lc", "Rc", "Cs", "Ls", "Rs",
              "Tc", "Tfl", "Tfc", "Tfr", "Tbl", "Tbc", "Tbr")
_SIDES = (1 << 9) | (1 << 10)


@dataclass(frozen=True)
class ChannelLayout:
    """Labels and BS.1770-4 weights of a file's channels, in file order, and where they came
    from (``source``: "option", "mask", "convention" or "none"). ``name`` is the named layout
    the labels make (in any order), None when they make none."""

    labels: tuple[str, ...]
    weights: tuple[float, ...]
    source: str
    name: str | None = None
    note: str | None = None

    @property
    def plain(self) -> bool:
        """Mono or stereo at weight 1.0: the meter's own one- and two-channel paths."""
        return len(self.weights) <= 2 and all(w == 1.0 for w in self.weights)


def _named(labels: tuple[str, ...]) -> str | None:
    for name, lab in LAYOUTS.items():
        if sorted(lab) == sorted(labels):
            return name
    return None


def _make(labels: tuple[str, ...], source: str, note: str | None = None) -> ChannelLayout:
    weights = tuple(WEIGHTS.get(lab, 1.0) for lab in labels)
    return ChannelLayout(labels, weights, source, _named(labels), note)


def unknown(channels: int, note: str | None = None) -> ChannelLayout:
    labels = tuple(f"ch{i + 1}" for i in range(channels))
    return ChannelLayout(labels, (1.0,) * channels, "none", None, note or (
        f"no known layout for {channels} channels: every channel weighted 1.0 (give --layout)"))


def conventional(channels: int, container: str = "WAV") -> ChannelLayout:
    """The layout a file of this many channels is taken to have when it carries no mask."""
    fmt = container.upper()
    table = _FLAC if fmt == "FLAC" else _VORBIS if fmt == "OGG" else None
    if table is not None:
        labels = table.get(channels)
    else:
        name = _CONVENTIONAL.get(channels)
        labels = LAYOUTS[name] if name else None
    if labels is None:
        return unknown(channels)
    return _make(labels, "convention")


def from_mask(mask: int, channels: int) -> ChannelLayout | None:
    """The layout a WAVE_FORMAT_EXTENSIBLE dwChannelMask gives ``channels`` channels: the set
    bits, lowest first, name the channels in order. None for mask 0 (no positions: the count's
    convention applies). Channels past the mask's bits (or bits past the 18 defined) have no
    position: weight 1.0, with a note."""
    if mask <= 0:
        return None
    surround = "Ls" if not mask & _SIDES else "Lb"
    labels: list[str] = []
    for bit, lab in enumerate(_MASK_BITS):
        if mask >> bit & 1 and len(labels) < channels:
            labels.append(surround if lab == "BL" else
                          ("Rs" if surround == "Ls" else "Rb") if lab == "BR" else lab)
    note = None
    if len(labels) < channels:
        note = (f"the channel mask 0x{mask:X} places {len(labels)} of {channels} channels; "
                "the others are weighted 1.0")
        labels += [f"ch{i + 1}" for i in range(len(labels), channels)]
    return _make(tuple(labels), "mask", note)


def parse_layout(text: str, channels: int) -> ChannelLayout:
    """``--layout``: a name of :data:`LAYOUTS` or labels separated by commas. ValueError (with
    the reason, for the user) when unknown or when its count is not the file's."""
    t = text.strip()
    if t in LAYOUTS:
        labels = LAYOUTS[t]
    elif "," in t or t in WEIGHTS:
        labels = tuple(s.strip() for s in t.split(","))
        bad = [s for s in labels if s not in WEIGHTS]
        if bad:
            raise ValueError(f"unknown channel label {bad[0]!r} in --layout (labels: {', '.join(WEIGHTS)})")
    else:
        raise ValueError(f"unknown layout {t!r} (layouts: {', '.join(LAYOUTS)}; or labels such as "
                         "L,R,C,LFE,Ls,Rs)")
    if len(labels) != channels:
        raise ValueError(f"--layout {t} has {len(labels)} channels; the file has {channels}")
    return _make(tuple(labels), "option")


def resolve(channels: int, *, option: str | None = None, mask: int | None = None,
            container: str = "WAV") -> ChannelLayout:
    """The layout to meter a file with: ``--layout``, else its channel mask, else the convention."""
    if option is not None:
        return parse_layout(option, channels)
    if mask is not None:
        got = from_mask(mask, channels)
        if got is not None:
            return got
    return conventional(channels, container)

"""The session vocabulary as pydantic v2 models (layer 1).

Strict (unknown keys are errors, no string-to-number coercion) and frozen.
Parameter names carry their unit and are the same names the plan JSON and the
DSP constructors use.  Every field has a description: they become the JSON
Schema an editor shows (``schemas/session.schema.json``).

Cross-field rules that need the whole session (references between tracks and
buses, frequencies below Nyquist of ``sample_rate``) are checked by
``mixgraph.session.validate`` and the graph compiler, with positions.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from mixgraph.mastering.presets import PRESET_NAMES
from mixgraph.mastering.presets import describe as describe_presets
from mixgraph.units import note_to_ms

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"

Name = Annotated[
    str,
    StringConstraints(pattern=NAME_PATTERN, max_length=64),
    Field(description="A name: lower-case letters, digits, '-' and '_', starting with a letter or digit."),
]

#: the longest timeline a session may declare, s: track placements, source trims, fades and
#: automation times are bounded by it at load time; the media probe checks real file durations
#: against it. A day of audio is far beyond any song or live set, yet small enough that every
#: frame count fits comfortably in memory-sized integers at 384 kHz.
MAX_TIMELINE_S = 24 * 3600
#: the longest explicit ``tail_s``, s: ten minutes is longer than any reverb or echo a mix lets
#: ring ('auto' renders until silent instead).
MAX_TAIL_S = 600.0
#: the longest delay a note value may give at its tempo, s (the longest 'time_ms' is 5 s)
MAX_NOTE_DELAY_S = 10.0
#: the smallest Q of a filter: Q -> 0 sends the RBJ bandwidth term sin(w0)/(2Q) to infinity;
#: 0.1 is a bell more than six octaves wide, wider than any EQ move
MIN_Q = 0.1
#: the lowest filter frequency, Hz: a pole pair at 0 Hz sits on the unit circle; nothing a mix
#: filters is below 1 Hz
MIN_FREQ_HZ = 1.0
#: the slowest tempo, BPM: below it a whole note lasts longer than 12 s
MIN_TEMPO_BPM = 20.0

#: marks a field whose value may be automated (the DSP reads it per frame); the schema shows it
AUTOMATABLE: dict[str, Any] = {"automatable": True}

#: a breakpoint of an automation lane: [time_s, value]
Breakpoint = Annotated[
    list[float],
    Field(min_length=2, max_length=2, description="[time_s, value]; linear between breakpoints; "
          f"0 <= time_s <= {MAX_TIMELINE_S}, ascending."),
]

FORMAT_VERSION = 1


class Model(BaseModel):
    # allow_inf_nan=False: YAML's .nan, .inf and -.inf are refused in every float field,
    # breakpoints included (a NaN compares false with every bound and would pass them)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True,
                              allow_inf_nan=False)


# --------------------------------------------------------------------------- processors


class ProcessorBase(Model):
    id: Name | None = Field(
        None, description="Optional id, used to automate this processor ('comp.threshold_db')."
    )
    bypass: bool = Field(False, description="Skip this processor (kept in the session for recall).")


class SidechainSpec(Model):
    from_: Name = Field(alias="from", description="Track, bus or return whose output keys this processor.")
    highpass_hz: float | None = Field(
        None, ge=MIN_FREQ_HZ,
        description="High-pass on the key signal (keeps a kick's sub from over-triggering), Hz; null: none.",
    )


class GainProc(ProcessorBase):
    """Trim: a fixed gain change."""

    type: Literal["gain"]
    gain_db: float = Field(0.0, ge=-120, le=48, description="Gain in dB.", json_schema_extra=AUTOMATABLE)


class PanProc(ProcessorBase):
    """Constant-power (-3 dB centre) pan or balance."""

    type: Literal["pan"]
    pan: float = Field(0.0, ge=-1, le=1, description="-1 hard left .. 0 centre .. +1 hard right.",
                       json_schema_extra=AUTOMATABLE)


class PolarityProc(ProcessorBase):
    """Polarity (phase) inversion."""

    type: Literal["polarity"]
    channels: Literal["both", "left", "right"] = Field("both", description="Which channels to invert.")


class WidthProc(ProcessorBase):
    """Mid/side stereo width (stereo in, stereo out)."""

    type: Literal["width"]
    width: float = Field(1.0, ge=0, le=2, description="0 mono .. 1 unchanged .. 2 twice as wide (side +6 dB).",
                         json_schema_extra=AUTOMATABLE)


#: the highest q of a matched shelf: above, a resonant shelf near Nyquist (q 3 at 21 kHz) has no
#: biquad the matched design finds within 0.5 dB of its analog shape
MATCHED_SHELF_MAX_Q = 2.0

#: the bell's and shelves' ``design`` field
DESIGN_DESCRIPTION = (
    "matched: follows the analog prototype up to 20 kHz (within 0.5 dB at 44.1 kHz over the whole range "
    f"of freq_hz, gain_db and q; shelves up to q {MATCHED_SHELF_MAX_Q:g}), no cramping near Nyquist. "
    "cookbook: the RBJ cookbook's bilinear design, exact at freq_hz but squeezed towards Nyquist (a 16 "
    "kHz bell is narrower than its q says)."
)


class BellBand(Model):
    type: Literal["bell"]
    freq_hz: float = Field(ge=MIN_FREQ_HZ, description="Centre frequency in Hz (below Nyquist).",
                           json_schema_extra=AUTOMATABLE)
    gain_db: float = Field(ge=-30, le=30, description="Boost or cut at the centre, dB.",
                           json_schema_extra=AUTOMATABLE)
    q: float = Field(1.0, ge=MIN_Q, le=40, description="Quality factor (RBJ cookbook Q), 0.1 .. 40.",
                     json_schema_extra=AUTOMATABLE)
    design: Literal["matched", "cookbook"] = Field("matched", description=DESIGN_DESCRIPTION)


class ShelfBand(Model):
    type: Literal["lowshelf", "highshelf"]
    freq_hz: float = Field(ge=MIN_FREQ_HZ, description="Shelf midpoint frequency in Hz (below Nyquist).",
                           json_schema_extra=AUTOMATABLE)
    gain_db: float = Field(ge=-30, le=30, description="Shelf gain, dB.", json_schema_extra=AUTOMATABLE)
    q: float = Field(0.7071, ge=MIN_Q, le=10, description="Shelf Q (0.7071 = slope 1, no overshoot), 0.1 .. 10; "
                     f"up to {MATCHED_SHELF_MAX_Q:g} with design: matched.", json_schema_extra=AUTOMATABLE)
    design: Literal["matched", "cookbook"] = Field("matched", description=DESIGN_DESCRIPTION)

    @model_validator(mode="after")
    def _matched_shelf_q(self) -> ShelfBand:
        if self.design == "matched" and self.q > MATCHED_SHELF_MAX_Q:
            raise ValueError(
                f"A matched shelf takes q up to {MATCHED_SHELF_MAX_Q:g}: above, its resonance near Nyquist has "
                "no biquad within 0.5 dB of the analog shape. Lower q, or set design: cookbook (the "
                "bilinear shelf, exact at freq_hz, cramped towards Nyquist).")
        return self


class PassBand(Model):
    type: Literal["highpass", "lowpass"]
    freq_hz: float = Field(ge=MIN_FREQ_HZ, description="Cut-off frequency in Hz (below Nyquist).",
                           json_schema_extra=AUTOMATABLE)
    slope_db_oct: Literal[6, 12, 18, 24, 30, 36, 48, 72, 96] = Field(
        12, description="Slope: a Butterworth filter of order slope/6 (18 dB/oct: -18.1 dB an octave past "
                        "the corner)."
    )
    q: float = Field(0.7071, ge=MIN_Q, le=10,
                     description="Resonance, 0.1 .. 10: 0.7071 is Butterworth at every slope; otherwise the "
                                 "section nearest the corner gets its Q times q/0.7071 (at 12 dB/oct, q is the "
                                 "filter's Q). A 6 dB/oct filter has none: leave q out.",
                     json_schema_extra=AUTOMATABLE)

    @model_validator(mode="after")
    def _first_order_has_no_q(self) -> PassBand:
        if self.slope_db_oct == 6 and abs(self.q - 0.7071) >= 1e-4:
            raise ValueError("A 6 dB/oct filter is first order: it has no resonance. Remove 'q' or use "
                             "12 dB/oct or steeper.")
        return self


class NotchBand(Model):
    type: Literal["notch", "bandpass"]
    freq_hz: float = Field(ge=MIN_FREQ_HZ, description="Centre frequency in Hz (below Nyquist).",
                           json_schema_extra=AUTOMATABLE)
    q: float = Field(1.0, ge=MIN_Q, le=100, description="Quality factor, 0.1 .. 100.",
                     json_schema_extra=AUTOMATABLE)


class TiltBand(Model):
    type: Literal["tilt"]
    freq_hz: float = Field(ge=MIN_FREQ_HZ, description="Pivot frequency in Hz (below Nyquist): 0 dB there.",
                           json_schema_extra=AUTOMATABLE)
    gain_db: float = Field(ge=-24, le=24, description="Tilt, dB: +gain/2 at the top, -gain/2 at the bottom "
                           "(one first-order shelf, matched to its analog shape up to 20 kHz).",
                           json_schema_extra=AUTOMATABLE)


class DynamicBand(Model):
    type: Literal["dynamic"]
    freq_hz: float = Field(ge=MIN_FREQ_HZ, description="Centre of the bell and of its detector band, Hz (below "
                           "Nyquist).")
    gain_db: float = Field(ge=-30, le=30, description="The most cut (negative) or boost (positive) at the centre, "
                           "dB, reached when the band is loud enough.")
    threshold_db: float = Field(-30.0, ge=-80, le=0, description="Band level (RMS of the band-passed signal, dBFS) "
                                "above which the bell moves from 0 dB towards gain_db.",
                                json_schema_extra=AUTOMATABLE)
    ratio: float = Field(4.0, ge=1, le=100, description="The bell's gain is (level - threshold_db) * (1 - 1/ratio) "
                         "dB, up to |gain_db|.", json_schema_extra=AUTOMATABLE)
    q: float = Field(1.0, ge=MIN_Q, le=40, description="Quality factor of the bell and its detector band, 0.1 .. 40.")
    attack_ms: float = Field(10.0, ge=0.01, le=500, description="Time constant of the gain moving away from 0 dB, ms.")
    release_ms: float = Field(100.0, ge=1, le=5000, description="Time constant of the gain returning to 0 dB, ms.")
    design: Literal["matched", "cookbook"] = Field("matched", description=DESIGN_DESCRIPTION)


EqBand = Annotated[BellBand | ShelfBand | PassBand | NotchBand | TiltBand | DynamicBand, Field(discriminator="type")]


class EqProc(ProcessorBase):
    """Parametric EQ: biquad bands in series (bells and shelves matched to their analog shapes)."""

    type: Literal["eq"]
    bands: list[EqBand] = Field(default_factory=list, description="Bands, applied in order.")
    mode: Literal["stereo", "mid", "side"] = Field(
        "stereo", description="stereo: both channels. mid / side: only the mid (L+R)/2 or the side (L-R)/2 "
                              "of a stereo signal (refused on a mono one)."
    )


class CompressorProc(ProcessorBase):
    """Feed-forward compressor with peak or RMS detection and optional external sidechain."""

    type: Literal["compressor"]
    threshold_db: float = Field(-18.0, ge=-80, le=0, description="Level above which gain is reduced, dBFS.",
                                json_schema_extra=AUTOMATABLE)
    ratio: float = Field(4.0, ge=1, le=100, description="Input dB over threshold per output dB (>= 1).",
                         json_schema_extra=AUTOMATABLE)
    attack_ms: float = Field(10.0, ge=0.01, le=500, description="Attack time constant, ms.",
                             json_schema_extra=AUTOMATABLE)
    release_ms: float = Field(100.0, ge=1, le=5000, description="Release time constant, ms.",
                              json_schema_extra=AUTOMATABLE)
    knee_db: float = Field(0.0, ge=0, le=24, description="Soft-knee width, dB (0: hard knee).",
                           json_schema_extra=AUTOMATABLE)
    makeup_db: float = Field(0.0, ge=-24, le=48, description="Gain after compression, dB.",
                             json_schema_extra=AUTOMATABLE)
    detector: Literal["peak", "rms"] = Field(
        "peak", description="Level detector: 'peak' (|x|) or 'rms' (mean square over rms_ms). Stereo is "
        "linked by the louder channel: each channel's level gives its own gain reduction and the larger "
        "applies to both, so wide, one-sided and mono signals at the same channel level compress alike.")
    rms_ms: float = Field(10.0, ge=0.1, le=1000, description="RMS window for the rms detector, ms.")
    mix: float = Field(1.0, ge=0, le=1, description="Dry/wet: 0 dry .. 1 fully compressed (parallel compression).",
                       json_schema_extra=AUTOMATABLE)
    lookahead_ms: float = Field(
        0.0, ge=0, le=20, description="Lookahead, ms: the audio is delayed this much behind the detector, "
        "so the gain moves before a transient arrives (reported as latency and compensated by the graph).")
    key_highpass_hz: float | None = Field(
        None, ge=MIN_FREQ_HZ, description="High-pass (2nd-order Butterworth) on the detector's input, the "
        "track's own signal or the external key, Hz; with key_lowpass_hz a band-pass; null: none.")
    key_lowpass_hz: float | None = Field(
        None, ge=MIN_FREQ_HZ, description="Low-pass (2nd-order Butterworth) on the detector's input, Hz (below "
        "Nyquist): e.g. a kick's band keys the bus, the hats do not; null: none.")
    mode: Literal["stereo", "mid", "side"] = Field(
        "stereo", description="stereo: both channels, linked; mid: compress only M = (L+R)/2, keyed by it "
        "(or the sidechain), the side untouched; side: only S = (L-R)/2. On a mono signal 'mid' is the whole "
        "signal and 'side' leaves it as it is.")
    sidechain: SidechainSpec | None = Field(None, description="External key (ducking).")


class GateProc(ProcessorBase):
    """Gate / downward expander."""

    type: Literal["gate"]
    threshold_db: float = Field(-50.0, ge=-120, le=0, description="Level below which the gate closes, dBFS.",
                                json_schema_extra=AUTOMATABLE)
    range_db: float = Field(80.0, ge=0, le=120, description="Most attenuation when closed, dB.",
                            json_schema_extra=AUTOMATABLE)
    ratio: float = Field(10.0, ge=1, le=100, description="Expansion ratio below threshold (large: gate).",
                         json_schema_extra=AUTOMATABLE)
    hysteresis_db: float = Field(
        3.0, ge=0, le=24, description="Once open, the gate closes only this far below threshold_db, dB "
        "(a level hovering at the threshold does not flutter).")
    attack_ms: float = Field(1.0, ge=0.01, le=500, description="Opening time, ms.", json_schema_extra=AUTOMATABLE)
    hold_ms: float = Field(
        50.0, ge=0, le=5000, description="Time held open after the level drops, ms. Longer than half a "
        "period of the lowest note (25 ms at 20 Hz), or the gate closes between a bass note's peaks and "
        "chatters.", json_schema_extra=AUTOMATABLE)
    release_ms: float = Field(100.0, ge=1, le=5000, description="Closing time, ms.", json_schema_extra=AUTOMATABLE)
    sidechain: SidechainSpec | None = Field(None, description="External key.")


class DeesserProc(ProcessorBase):
    """Band-limited compression of sibilance."""

    type: Literal["deesser"]
    freq_hz: float = Field(6000.0, ge=MIN_FREQ_HZ, description="Centre of the sibilance band, Hz (below Nyquist).",
                           json_schema_extra=AUTOMATABLE)
    q: float = Field(1.0, ge=MIN_Q, le=20, description="Width of the detection and reduction band (Q, 0.1 .. 20).",
                     json_schema_extra=AUTOMATABLE)
    threshold_db: float = Field(-30.0, ge=-80, le=0, description="Band level above which it reduces, dBFS.",
                                json_schema_extra=AUTOMATABLE)
    ratio: float = Field(4.0, ge=1, le=100, description="Compression ratio of the band.",
                         json_schema_extra=AUTOMATABLE)
    range_db: float = Field(12.0, ge=0, le=40, description="Most reduction of the band, dB.",
                            json_schema_extra=AUTOMATABLE)
    attack_ms: float = Field(1.0, ge=0.01, le=100, description="Attack time constant, ms.")
    release_ms: float = Field(60.0, ge=1, le=2000, description="Release time constant, ms.")


class TransientProc(ProcessorBase):
    """Transient shaper: boost or cut the attack and the sustain of hits, whatever their level."""

    type: Literal["transient"]
    attack_db: float = Field(
        0.0, ge=-24, le=24, description="Gain of the attack, dB (+ sharper hits, - softer): reached where "
        "the fast envelope is 7 dB or more above the slow one, none within 1 dB.", json_schema_extra=AUTOMATABLE)
    sustain_db: float = Field(
        0.0, ge=-24, le=24, description="Gain of the sustain (the decay after a hit), dB (+ longer ring, "
        "- drier): reached where the fast envelope is 7 dB or more below the slow one.",
        json_schema_extra=AUTOMATABLE)
    fast_ms: float = Field(1.0, ge=0.05, le=50, description="Time constant of the fast power envelope, ms.")
    slow_ms: float = Field(30.0, ge=1, le=1000,
                           description="Time constant of the slow power envelope, ms (longer than fast_ms).")
    mix: float = Field(1.0, ge=0, le=1, description="Dry/wet.", json_schema_extra=AUTOMATABLE)

    @model_validator(mode="after")
    def _slow_after_fast(self):
        if self.slow_ms <= self.fast_ms:
            raise ValueError(f"slow_ms ({self.slow_ms:g}) must be longer than fast_ms ({self.fast_ms:g})")
        return self


class SaturationProc(ProcessorBase):
    """Tanh-style soft clipping, oversampled to keep aliasing down."""

    type: Literal["saturation"]
    drive_db: float = Field(6.0, ge=0, le=48, description="Gain into the curve, dB.",
                            json_schema_extra=AUTOMATABLE)
    output_db: float = Field(0.0, ge=-48, le=24, description="Gain after the curve, dB.",
                             json_schema_extra=AUTOMATABLE)
    mix: float = Field(1.0, ge=0, le=1, description="Dry/wet.", json_schema_extra=AUTOMATABLE)
    oversample: Literal[1, 2, 4, 8] = Field(
        8, description="Oversampling factor for the non-linearity (half-band stages, flat to 20 kHz at 44.1 kHz). "
        "8: with second-order antiderivative anti-aliasing of the curve, alias lines below -80 dBc on a "
        "-6 dBFS tone (3-15 kHz) at any drive up to 48 dB (about -75 dBc for an 18-20 kHz tone at 36-48 dB); "
        "4 and 2 run the plain curve, cost less CPU and alias more at high drive (4: about -48 dBc at 24 dB); "
        "1: none, for a nearly linear drive. Latency 80, 76, 69, 0 samples for 8, 4, 2, 1.")


NOTE_PATTERN = r"^1/(1|2|4|8|16|32)[dt]?$"


class DelayProc(ProcessorBase):
    """Feedback echo with a high-cut in the loop; time in ms or a note value at a tempo; mono,
    stereo (own right-side time) or ping-pong."""

    type: Literal["delay"]
    time_ms: float | None = Field(
        None, gt=0, le=5000, json_schema_extra=AUTOMATABLE,
        description="Delay time, ms (the left side's in stereo and ping-pong). Automatable: the read "
        "position follows the lane smoothly (a tape-like pitch bend while it moves, a glide of at most "
        "50 % pitch on a jump), never a click.",
    )
    note: Annotated[str, StringConstraints(pattern=NOTE_PATTERN)] | None = Field(
        None, description="Tempo-synced time: '1/4', '1/8d' (dotted), '1/8t' (triplet)."
    )
    tempo_bpm: float | None = Field(
        None, ge=MIN_TEMPO_BPM, le=999,
        description="Tempo for 'note', 20 .. 999 BPM (null: the session's tempo_bpm); the note must "
        f"last at most {MAX_NOTE_DELAY_S:g} s.",
    )
    feedback: float = Field(0.3, ge=0, le=0.98, description="Share of the output fed back (< 1).",
                            json_schema_extra=AUTOMATABLE)
    mix: float = Field(0.25, ge=0, le=1, description="Dry/wet.", json_schema_extra=AUTOMATABLE)
    highcut_hz: float | None = Field(
        8000.0, ge=MIN_FREQ_HZ, json_schema_extra=AUTOMATABLE,
        description="Low-pass in the feedback loop, Hz (null: none). Automatable: the one-pole's "
        "coefficient follows the lane every frame (a lane turns the filter on even when null).",
    )
    mode: Literal["mono", "stereo", "pingpong"] = Field(
        "mono", description="mono: each channel echoes on its own; stereo: a left and a right line "
        "(output stereo); pingpong: the input's sum goes into the left line and the repeats alternate "
        "left, right, left (output stereo).",
    )
    right_time_ms: float | None = Field(
        None, gt=0, le=5000, description="Right-side time, ms, in stereo or pingpong (null: as the left). "
        "A time_ms lane moves both sides and keeps their ratio.",
    )
    right_note: Annotated[str, StringConstraints(pattern=NOTE_PATTERN)] | None = Field(
        None, description="Right-side tempo-synced time in stereo or pingpong, as 'note'."
    )

    @model_validator(mode="after")
    def _one_time(self) -> DelayProc:
        if (self.time_ms is None) == (self.note is None):
            raise ValueError("Give exactly one of 'time_ms' or 'note'.")
        if self.right_time_ms is not None and self.right_note is not None:
            raise ValueError("Give at most one of 'right_time_ms' or 'right_note'.")
        if self.mode == "mono" and (self.right_time_ms is not None or self.right_note is not None):
            raise ValueError("A right-side time needs mode 'stereo' or 'pingpong'.")
        if self.tempo_bpm is not None:
            for note in (self.note, self.right_note):
                if note is not None:
                    check_note_delay(note, self.tempo_bpm)
        return self


def check_note_delay(note: str, tempo_bpm: float) -> None:
    """ValueError when ``note`` at ``tempo_bpm`` lasts longer than MAX_NOTE_DELAY_S."""
    seconds = note_to_ms(note, tempo_bpm) / 1000.0
    if seconds > MAX_NOTE_DELAY_S:
        raise ValueError(f"The note '{note}' at {tempo_bpm:g} BPM lasts {seconds:.3g} s, longer than "
                         f"the {MAX_NOTE_DELAY_S:g} s a delay may be.")


class ChorusProc(ProcessorBase):
    """Chorus: 1 to 4 voices behind sinusoidally modulated delays, spread across left and right."""

    type: Literal["chorus"]
    voices: int = Field(2, ge=1, le=4, description="Number of voices (delayed copies), 1 .. 4; their LFOs "
                        "sit evenly around the cycle.")
    rate_hz: float = Field(0.8, ge=0.01, le=10, description="LFO rate, Hz. Automatable: the LFO phase stays "
                           "continuous when the rate moves.", json_schema_extra=AUTOMATABLE)
    depth_ms: float = Field(2.0, ge=0, le=10, description="LFO depth, ms: each voice's delay swings this far "
                            "either side of delay_ms (0: a static delay); less than delay_ms. A lane deeper "
                            "than delay_ms holds the shortest delay at 2 samples.", json_schema_extra=AUTOMATABLE)
    delay_ms: float = Field(12.0, ge=1, le=50, description="Centre delay of the voices, ms.")
    spread: float = Field(1.0, ge=0, le=1, description="Stereo spread: the right side's LFOs sit this "
                          "fraction of the way between the left side's (1: evenly interleaved, one voice "
                          "inverted; 0: the same on both sides). With spread > 0 a mono input comes out stereo.")
    mix: float = Field(0.5, ge=0, le=1, description="Dry/wet; the wet signal is the mean of the voices.",
                       json_schema_extra=AUTOMATABLE)

    @model_validator(mode="after")
    def _depth_within_delay(self) -> ChorusProc:
        if self.depth_ms >= self.delay_ms:
            raise ValueError(f"depth_ms ({self.depth_ms:g}) must be less than delay_ms ({self.delay_ms:g}): "
                             "the delay swings from delay_ms - depth_ms to delay_ms + depth_ms.")
        return self


class ReverbProc(ProcessorBase):
    """Convolution reverb from an impulse-response file, or an algorithmic reverb."""

    type: Literal["reverb"]
    ir: str | None = Field(None, description="Impulse-response file, relative to the session (convolution).")
    decay_s: float = Field(2.0, gt=0.05, le=30, description="Mid-band (500 Hz - 1 kHz) RT60 of the algorithmic "
                           "reverb, s (ignored with 'ir'); lows decay a little longer. Automatable: the "
                           "decay filters follow the lane every 32 frames, a ringing tail included.",
                           json_schema_extra=AUTOMATABLE)
    predelay_ms: float = Field(0.0, ge=0, le=500, json_schema_extra=AUTOMATABLE,
                               description="Pre-delay, ms. Automatable: the read position follows the lane "
                               "at most 0.25 ms per ms (a brief pitch bend of the reverb's input on a jump), "
                               "never a click.")
    damping: float = Field(0.5, ge=0, le=1, json_schema_extra=AUTOMATABLE,
                           description="High-frequency damping of the algorithmic reverb: "
                           "the RT60 at 8 kHz is decay_s * 2^(-2 * damping) (0: as long as the mids, "
                           "0.5: half, 1: a quarter; at 4 kHz about 0.78 and 0.5 of decay_s). Automatable.")
    mix: float = Field(0.25, ge=0, le=1, description="Dry/wet (1.0 on an aux return).",
                       json_schema_extra=AUTOMATABLE)


class MultibandBand(Model):
    threshold_db: float = Field(-18.0, ge=-80, le=0, description="Threshold of this band, dBFS.")
    ratio: float = Field(2.0, ge=1, le=100, description="Ratio of this band.")
    attack_ms: float = Field(10.0, ge=0.01, le=500, description="Attack, ms.")
    release_ms: float = Field(100.0, ge=1, le=5000, description="Release, ms.")
    knee_db: float = Field(0.0, ge=0, le=24, description="Soft knee, dB.")
    makeup_db: float = Field(0.0, ge=-24, le=24, description="Gain after compression, dB.")


class MultibandProc(ProcessorBase):
    """Linkwitz-Riley (24 dB/oct) band split with a compressor per band; sums flat when idle."""

    type: Literal["multiband"]
    crossovers_hz: list[Annotated[float, Field(ge=MIN_FREQ_HZ)]] = Field(
        min_length=1, max_length=4, description="Ascending crossover frequencies, Hz (at least 1 Hz)."
    )
    bands: list[MultibandBand] = Field(description="One compressor per band: len(crossovers_hz) + 1.")

    @model_validator(mode="after")
    def _shape(self) -> MultibandProc:
        xs = self.crossovers_hz
        if any(b <= a for a, b in zip(xs, xs[1:], strict=False)) or any(x <= 0 for x in xs):
            raise ValueError("Crossover frequencies must be positive and strictly ascending.")
        if len(self.bands) != len(xs) + 1:
            raise ValueError(
                f"{len(xs)} crossovers make {len(xs) + 1} bands, but {len(self.bands)} bands are given."
            )
        return self


class ClipperProc(ProcessorBase):
    """Oversampled soft-knee clipper: takes the fastest peaks off before a limiter."""

    type: Literal["clipper"]
    ceiling_db: float = Field(-1.0, ge=-40, le=0, description="Clip level, dBFS (the curve's ceiling).")
    knee_db: float = Field(2.0, ge=0, le=12,
                           description="Soft knee below the ceiling, dB: the identity up to ceiling - knee, "
                           "a smooth bend into the ceiling (0: hard clip).")
    drive_db: float = Field(0.0, ge=0, le=24, description="Gain into the curve, dB.",
                            json_schema_extra=AUTOMATABLE)
    oversample: Literal[1, 2, 4, 8, 16] = Field(
        16, description="Oversampling factor (linear-phase half-band stages, flat to 20 kHz at 44.1 kHz).")


class LimiterProc(ProcessorBase):
    """Lookahead true-peak brickwall limiter."""

    type: Literal["limiter"]
    ceiling_dbtp: float = Field(-1.0, ge=-20, le=0, description="Highest true peak of the output, dBTP.")
    lookahead_ms: float = Field(5.0, ge=0.5, le=20, description="Lookahead (reported as latency), ms.")
    release_ms: float = Field(60.0, ge=1, le=2000, description="Release time, ms.")
    adaptive_release: bool = Field(
        False, description="Programme-dependent release: short peaks recover at release_ms, reduction "
        "held for about 300 ms or longer recovers at slow_release_ms (less distortion on sustained material).")
    slow_release_ms: float = Field(1000.0, ge=50, le=5000,
                                   description="The adaptive release's slow time constant, ms.")


Processor = Annotated[
    GainProc | PanProc | PolarityProc | WidthProc | EqProc | CompressorProc | GateProc | DeesserProc | TransientProc | SaturationProc | DelayProc | ChorusProc | ReverbProc | MultibandProc | ClipperProc | LimiterProc,
    Field(discriminator="type"),
]

#: type -> model class, the session side of the closed set of processors
PROCESSOR_MODELS: dict[str, type[ProcessorBase]] = {
    "gain": GainProc,
    "pan": PanProc,
    "polarity": PolarityProc,
    "width": WidthProc,
    "eq": EqProc,
    "compressor": CompressorProc,
    "gate": GateProc,
    "deesser": DeesserProc,
    "transient": TransientProc,
    "saturation": SaturationProc,
    "delay": DelayProc,
    "chorus": ChorusProc,
    "reverb": ReverbProc,
    "multiband": MultibandProc,
    "clipper": ClipperProc,
    "limiter": LimiterProc,
}

#: session-side fields of a processor that are not DSP parameters
NON_DSP_FIELDS = frozenset({"type", "id", "bypass", "sidechain"})

# --------------------------------------------------------------------------- tracks and buses


class Trim(Model):
    start_s: float = Field(0.0, ge=0, le=MAX_TIMELINE_S, description="Skip this much of the file's start, s.")
    end_s: float | None = Field(
        None, gt=0, le=MAX_TIMELINE_S, description="Stop reading the file here, s (null: its end)."
    )

    @model_validator(mode="after")
    def _order(self) -> Trim:
        if self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError("'end_s' must be after 'start_s'.")
        return self


class Fade(Model):
    in_ms: float = Field(0.0, ge=0, le=MAX_TIMELINE_S * 1000,
                         description="Fade-in length at the (trimmed) start, ms.")
    out_ms: float = Field(0.0, ge=0, le=MAX_TIMELINE_S * 1000,
                          description="Fade-out length at the (trimmed) end, ms.")


class Send(Model):
    to: Name = Field(description="Return or bus that receives the send.")
    level_db: float = Field(0.0, ge=-120, le=12, description="Send level, dB.")
    pre_fader: bool = Field(False, description="Take the send before the fader (gain, pan, mute).")


Automation = dict[
    str,
    Annotated[list[Breakpoint], Field(min_length=1)],
]

AUTOMATION_DESCRIPTION = (
    "Parameter -> breakpoints [[time_s, value], ...], linear between them. Keys: 'gain_db', "
    "'pan' ('width' on buses and returns; only 'gain_db' on the master), or "
    "'<processor id>.<parameter>' ('comp.threshold_db', 'eq1.bands.0.gain_db') for a parameter "
    "marked automatable; values stay within the parameter's range."
)


class ChannelStrip(Model):
    gain_db: float = Field(0.0, ge=-120, le=24, description="Fader, dB.", json_schema_extra=AUTOMATABLE)
    mute: bool = Field(False, description="Mute (a muted node still runs; its output is silent).")
    solo: bool = Field(False, description="Solo: when any node is soloed, only soloed paths are heard.")
    chain: list[Processor] = Field(default_factory=list, description="Insert processors, in order.")
    sends: list[Send] = Field(default_factory=list, description="Sends to returns or buses.")
    out: Name = Field("master", description="Bus that receives the output ('master' by default).")
    automation: Automation = Field(default_factory=dict, description=AUTOMATION_DESCRIPTION)


#: the most channels a source file may have for ``channels`` to pick from (a 64-track polywav
#: is beyond any field recorder)
MAX_SOURCE_CHANNELS = 64

SourceChannel = Annotated[int, Field(ge=1, le=MAX_SOURCE_CHANNELS)]


class Track(ChannelStrip):
    source: str = Field(description="Audio file (WAV/FLAC/AIFF/OGG/MP3), relative to sources_dir.")
    channels: list[SourceChannel] | None = Field(
        None, min_length=1, max_length=2,
        description="Which channels of the source file this track plays, counted from 1 as a recorder "
        "or DAW numbers them: [3] is the file's third channel (mono), [3, 4] a stereo pair (left, "
        "right). Needed for a file of more than two channels; null: all of a mono or stereo file.",
    )
    input: Literal["as-is", "left", "right", "sum"] = Field(
        "as-is",
        description="What the track takes of its (picked) channels: 'as-is' (mono stays mono, stereo stays "
        "stereo), 'left' or 'right' (one side of a stereo source, mono), or 'sum' (mono: the mean of the "
        "channels, i.e. their sum at -6 dB, so two identical channels keep the level of one).",
    )
    start_s: float = Field(0.0, ge=0, le=MAX_TIMELINE_S, description="Where the file starts on the timeline, s.")
    trim: Trim = Field(default_factory=Trim, description="Part of the file to use.")
    fade: Fade = Field(default_factory=Fade, description="Fades at the edges of the used part.")
    pan: float = Field(0.0, ge=-1, le=1, description="-1 left .. +1 right, constant-power law (-3 dB centre).",
                       json_schema_extra=AUTOMATABLE)
    invert_polarity: bool = Field(False, description="Invert polarity of the source.")

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("The same channel twice: give one channel for mono, or two different ones "
                             "for a stereo pair.")
        return value


class Bus(ChannelStrip):
    pan: float = Field(0.0, ge=-1, le=1, description="Balance, constant-power law.", json_schema_extra=AUTOMATABLE)
    width: float = Field(1.0, ge=0, le=2, description="Mid/side width of the bus output.",
                         json_schema_extra=AUTOMATABLE)


class Vca(Model):
    """A VCA group: one fader that moves the faders of its members without summing them."""

    gain_db: float = Field(0.0, ge=-120, le=24, description="The group's fader, dB: added to each member's "
                           "own fader (and to those of the groups it is a member of).",
                           json_schema_extra=AUTOMATABLE)
    members: list[Name] = Field(
        description="Tracks, buses, returns or other VCA groups this fader moves (at least one). Routing "
        "and pre-fader sends are unchanged; post-fader sends, taps and keys follow the member's fader.",
    )
    automation: Automation = Field(
        default_factory=dict,
        description="'gain_db' -> breakpoints [[time_s, value], ...], linear between them (the lane "
        "replaces the group's gain_db); added in dB, sample by sample, to each member's own fader (or its "
        "lane).",
    )


# --------------------------------------------------------------------------- master and outputs

class Loudness(Model):
    preset: Literal[PRESET_NAMES] | None = Field(  # type: ignore[valid-type]
        None, description=f"{describe_presets()}; explicit fields override it.")
    target_lufs: float | None = Field(
        None, ge=-40, le=-3, description="Integrated loudness target, LUFS (null: the preset's target)."
    )
    ceiling_dbtp: float | None = Field(
        None, ge=-20, le=0,
        description="Highest true peak of every output, dBTP (null: the preset's ceiling, or -1 dBTP "
        "without a preset).",
    )
    tolerance_lu: float = Field(0.1, gt=0, le=2, description="How close to the target is close enough, LU.")
    max_gain_reduction_db: float = Field(
        12.0, gt=0, le=40, description="Fail rather than limit harder than this (peak limiter reduction), dB."
    )

    @model_validator(mode="after")
    def _target(self) -> Loudness:
        if self.preset is None and self.target_lufs is None:
            raise ValueError("Give a 'target_lufs' or a 'preset'.")
        return self


class Master(Model):
    source: str | None = Field(
        None, description="A finished mixdown to master instead of mixing tracks (master-only job)."
    )
    gain_db: float = Field(0.0, ge=-60, le=48, description="Gain into the master chain, dB.",
                           json_schema_extra=AUTOMATABLE)
    chain: list[Processor] = Field(default_factory=list, description="Mastering chain, in order.")
    loudness: Loudness | None = Field(None, description="Loudness target solved by input gain.")
    automation: Automation = Field(default_factory=dict, description=AUTOMATION_DESCRIPTION)


#: the bitrate range of lossy outputs, kbps (MPEG-2.5's 8 kbps .. Vorbis quality 10's nominal 500)
MIN_BITRATE_KBPS = 8
MAX_BITRATE_KBPS = 500
#: how far under its ceiling a lossy master's decoded true peak must be, dB: covers the codec's
#: variation between encodes and players' decoders that round differently
DEFAULT_CEILING_MARGIN_DB = 0.1

#: ISRC (ISO 3901): country (2 letters), registrant (3 letters or digits), year (2 digits),
#: designation (5 digits), written without dashes
ISRC_PATTERN = r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$"

#: a release string: printable, one line, short enough for every tag format
ReleaseText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Release(Model):
    """Release metadata written into every output file (WAV INFO, FLAC/Ogg Vorbis comments, MP3 ID3v2.4)."""

    title: ReleaseText | None = Field(None, description="Track title (null: the session's name).")
    artist: ReleaseText | None = Field(None, description="Artist.")
    album: ReleaseText | None = Field(None, description="Album or release title.")
    year: int | None = Field(None, ge=1000, le=9999, description="Release year.")
    isrc: str | None = Field(
        None, description="ISRC: 12 characters, country (2 letters), registrant (3 letters or digits), year "
        "(2 digits), designation (5 digits), without dashes, e.g. 'GBABC2400001'.")
    genre: ReleaseText | None = Field(None, description="Genre.")
    track_number: int | None = Field(None, ge=1, le=999, description="Track number on the release.")
    copyright: ReleaseText | None = Field(None, description="Copyright line, e.g. '2024 Label Ltd'.")

    @field_validator("isrc")
    @classmethod
    def _isrc(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(ISRC_PATTERN, value):
            hint = " without the dashes" if "-" in value else ""
            raise ValueError(f"'{value}' is not an ISRC: 12 characters CCXXXYYNNNNN (country, registrant, year, "
                             f"designation){hint}, e.g. 'GBABC2400001'.")
        return value


TAP_PATTERN = r"^(premaster|master|(track|bus|return):[a-z0-9][a-z0-9_-]*)$"


class Output(Model):
    path: str = Field(
        description="File to write, relative to the session folder and inside it (no absolute path, no "
        "'..'), ending in .wav, .flac, .aiff, .aif, .ogg, .oga or .mp3; may use {name}, {variant} and {output}."
    )
    tap: Annotated[str, StringConstraints(pattern=TAP_PATTERN)] = Field(
        "master", description="What to write: 'master', 'premaster' (the mix print), 'track:NAME', 'bus:NAME', 'return:NAME'."
    )
    sample_rate: int | None = Field(
        None, ge=8000, le=384000, description="Resample (soxr) to this rate (null: the session's sample_rate)."
    )
    bit_depth: Literal[16, 24, "32f"] = Field(24, description="16 or 24-bit PCM, or '32f' float.")
    dither: Literal["auto", "none", "tpdf", "tpdf-shaped"] = Field(
        "auto", description="auto: TPDF for 16-bit, none otherwise. Applied once, last."
    )
    format: Literal["wav", "flac", "aiff", "ogg", "mp3"] | None = Field(
        None, description="File format (default: from the path's extension)."
    )
    loudness: Loudness | None = Field(
        None, description="This master's own loudness target and ceiling, over master.loudness (a "
        "'master' tap only): one mix, many masters, all from the one premaster.")
    bitrate_kbps: int | None = Field(
        None, ge=MIN_BITRATE_KBPS, le=MAX_BITRATE_KBPS,
        description="mp3: constant bitrate, kbps (32 .. 320 in MPEG-1 steps at 32 kHz and above; 8 .. 160 "
        "at 16 .. 24 kHz; 8 .. 64 below). ogg: nominal Vorbis bitrate, 64 .. 500 kbps, set as the Vorbis "
        "quality whose nominal rate it is (approximate: Vorbis is variable). Null: 128. Lossy outputs only.")
    ceiling_margin_db: float | None = Field(
        None, ge=0, le=3,
        description="How far under its ceiling a lossy master's decoded true peak must be, dB; a file the codec "
        f"pushes over is encoded again, lower (null: {DEFAULT_CEILING_MARGIN_DB:g}; a lossy 'master' output only).")

    @model_validator(mode="after")
    def _lossy_has_no_bit_depth(self) -> Output:
        fmt = self.format or self.path.rsplit(".", 1)[-1].lower()
        if fmt in ("mp3", "ogg", "oga") and self.bit_depth != 24:
            raise ValueError(f"A {fmt} file has no bit depth (it is decoded to float); leave 'bit_depth' out.")
        return self

    @model_validator(mode="after")
    def _lossy_fields(self) -> Output:
        fmt = self.format or self.path.rsplit(".", 1)[-1].lower()
        lossy = fmt in ("mp3", "ogg", "oga")
        if self.bitrate_kbps is not None and not lossy:
            raise ValueError(f"A {fmt} file is lossless and has no bitrate; 'bitrate_kbps' is for mp3 and ogg "
                             "outputs.")
        if self.ceiling_margin_db is not None and not (lossy and self.tap == "master"):
            raise ValueError("'ceiling_margin_db' is for lossy (mp3, ogg) outputs of the 'master' tap: only "
                             "they are encoded again under their ceiling.")
        return self

    @model_validator(mode="after")
    def _loudness_on_master(self) -> Output:
        if self.loudness is not None and self.tap != "master":
            raise ValueError("'loudness' is for outputs of the 'master' tap (a stem or the mix print is "
                             "not mastered).")
        return self


class Variant(Model):
    description: str | None = Field(None, description="What this variant is for.")
    mute: list[Name] = Field(default_factory=list, description="Tracks, buses or returns to mute.")
    solo: list[Name] = Field(default_factory=list, description="Tracks, buses or returns to solo.")
    set: dict[str, Any] = Field(
        default_factory=dict, description="Dotted path -> value, e.g. 'buses.vocals.gain_db: 1.0'."
    )
    outputs: dict[Name, Output] | None = Field(None, description="Outputs of this variant (default: the session's).")
    master_gain: Literal["base", "own"] = Field(
        "base", description="base: mastered with the input gain solved for the session's own master and "
        "written at its length, so an instrumental or TV mix lines up with (and nulls against) the main "
        "master; own: this variant's own loudness solve and length.")


def _default_outputs() -> dict[str, Output]:
    return {"master": Output(path="renders/{name}{variant}-master.wav")}


class Session(Model):
    mixgraph: Literal[1] = Field(description="Session format version (1).")
    name: Name = Field(description="Song name, used in output paths as {name}.")
    sample_rate: int = Field(48000, ge=8000, le=384000, description="Render sample rate, Hz.")
    sources_dir: str = Field(".", description="Folder of the sources, relative to this file.")
    tail_s: Annotated[float, Field(ge=0, le=MAX_TAIL_S)] | Literal["auto"] = Field(
        "auto", description=f"Render this long after the last source ends, 0 .. {MAX_TAIL_S:g} s, or 'auto' "
        "(until silent)."
    )
    tempo_bpm: float | None = Field(
        None, ge=MIN_TEMPO_BPM, le=999, description="Song tempo for tempo-synced delays, 20 .. 999 BPM."
    )
    tracks: dict[Name, Track] = Field(default_factory=dict, description="Tracks: one source each.")
    buses: dict[Name, Bus] = Field(default_factory=dict, description="Buses: sums of tracks and buses.")
    returns: dict[Name, Bus] = Field(default_factory=dict, description="Aux returns: fed by sends.")
    vcas: dict[Name, Vca] = Field(
        default_factory=dict, description="VCA groups: faders that move the faders of tracks, buses and "
        "returns (and of other groups) without summing them. Names share the namespace of tracks, "
        "buses and returns.")
    master: Master = Field(default_factory=Master, description="Master bus and mastering chain.")
    outputs: dict[Name, Output] = Field(default_factory=_default_outputs, description="Files every render writes.")
    variants: dict[Name, Variant] = Field(default_factory=dict, description="Named patches over this session.")
    release: Release | None = Field(None, description="Release metadata written into every output file.")

    @field_validator("tail_s", mode="wrap")
    @classmethod
    def _tail(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # one sentence instead of one error per member of the union
        try:
            return handler(value)
        except ValidationError:
            raise ValueError(f"'tail_s' must be 'auto' or a number of seconds from 0 to {MAX_TAIL_S:g}.") from None


def automatable_fields(model: type[BaseModel]) -> list[str]:
    """Names of the fields of ``model`` marked automatable (the DSP reads them per frame)."""
    return [name for name, f in model.model_fields.items()
            if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("automatable")]

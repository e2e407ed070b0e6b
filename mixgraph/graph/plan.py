"""The render plan: what the engine executes (layer 2 output, JSON-serialisable).

The plan is plain data.  The graph compiler (``mixgraph.graph.compile``)
produces it from a validated session; the engine (``mixgraph.render``) runs it
block by block; recall hashes it.  Nothing in here knows YAML.

Signal flow of one node, in this order (the engine follows it exactly)::

    inputs: sum over NodeInput of  delay(input_delay) ( gain(level_db) * upstream[point] )
      (a track's input is its source instead: placed, trimmed, faded, polarity)
    -> chain: ProcStep after ProcStep (each may read a sidechain key)
    -> "pre" point       (pre-fader sends read here)
    -> fader: gain_db (+ automation) plus the gain_db (+ automation) of every VCA group in
       ``NodePlan.vcas``, added in dB sample by sample, then pan/balance (constant-power),
       width for buses; mute multiplies by 0 here
    -> "post" point      (main outputs, post-fader sends, sidechain keys, taps read here)

Latency: ``NodePlan.latency_samples`` is the delay of the node's "post" point
relative to the timeline, once the compiler's compensation delays are in.
Every NodeInput and SidechainPlan carries ``delay_samples`` so all inputs of a
sum, and a key with the signal it keys, arrive aligned.  A tap is trimmed by ``trim_samples`` (its node's latency) so
every output starts at time zero.

Names are the session's (``type``, ``tail_s``, a nested ``sidechain``); the one
place the DSP spells a parameter differently is ``dsp_kwargs``.

The master node is special: its inputs sum to the "premaster" point (the mix
print); then ``master_gain_db`` + the loudness solver's gain, then the master
chain, then the "master" point.  The engine renders the mix (everything up to
premaster) first and the master chain afterwards, over the spilled mix print,
so the loudness solver can run the master chain several times.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

#: 2: ProcStep.kind -> type, ProcStep.key -> sidechain (with highpass_hz, out of params),
#: RenderPlan.tail -> tail_s; NodePlan.channels, NodePlan.parallel_group and
#: RenderPlan.timeline_samples removed (nothing read them)
#: 3: SourcePlan.channels and SourcePlan.sum (a track's channel pick or mono sum),
#: NodePlan.vcas and RenderPlan.vcas (VCA groups)
PLAN_FORMAT_VERSION = 3

NodeKind = Literal["track", "bus", "return", "master"]
EdgeKind = Literal["main", "send", "sidechain"]


@dataclass(frozen=True)
class SourcePlan:
    """Where a track's audio comes from and how it sits on the timeline."""

    path: str  # absolute path of the file at compile time
    rel_path: str  # as written in the session (relative to sources_dir); used in the hash
    start_s: float = 0.0
    trim_start_s: float = 0.0
    trim_end_s: float | None = None
    fade_in_ms: float = 0.0
    fade_out_ms: float = 0.0
    invert_polarity: bool = False
    #: the file's channels the track plays, counted from 1 as the session counts them, in order
    #: (left, right); None: every channel of a mono or stereo file
    channels: tuple[int, ...] | None = None
    #: play the mean of those channels (their sum at -6 dB), mono
    sum: bool = False


@dataclass(frozen=True)
class NodeInput:
    """An edge into a node's input sum."""

    source: str  # node id, e.g. "track:kick"
    kind: EdgeKind  # "main" or "send"
    point: Literal["pre", "post"] = "post"  # pre-fader sends read "pre"
    level_db: float = 0.0  # send level (0 for main edges)
    delay_samples: int = 0  # latency compensation inserted by the compiler


@dataclass(frozen=True)
class SidechainPlan:
    """A processor's external key: the session's ``sidechain`` with ``from`` resolved."""

    source: str  # node id whose "post" point is the key (the session's ``from``: "kick" -> "track:kick")
    highpass_hz: float | None = None  # high-pass on the key signal (the DSP's sidechain_highpass_hz)
    delay_samples: int = 0  # compensation so key and signal are aligned at the processor


@dataclass(frozen=True)
class ProcStep:
    """One processor of a chain: its ``type`` and parameters, as the session names them."""

    type: str
    params: dict[str, Any]  # the session's parameters; 'ir' is a path, the engine loads it
    id: str | None = None
    latency_samples: int = 0
    sidechain: SidechainPlan | None = None
    #: parameter -> [[time_s, value], ...]; names as the DSP 'params' mapping
    automation: dict[str, list[list[float]]] = field(default_factory=dict)
    channels_in: int = 2
    channels_out: int = 2


@dataclass(frozen=True)
class NodePlan:
    id: str  # "track:kick", "bus:drums", "return:plate", "master"
    kind: NodeKind
    level: int  # schedule level: all inputs come from lower levels
    inputs: tuple[NodeInput, ...] = ()
    source: SourcePlan | None = None  # tracks only
    input_delay_samples: int = 0  # extra delay on the whole input (sidechain alignment)
    chain: tuple[ProcStep, ...] = ()
    channels_in: int = 2  # channels entering the chain (a mono source stays mono); "post" is stereo
    gain_db: float = 0.0
    pan: float = 0.0
    width: float = 1.0
    mute: bool = False  # includes solo semantics resolved by the compiler
    #: fader automation: "gain_db" / "pan" -> breakpoints
    automation: dict[str, list[list[float]]] = field(default_factory=dict)
    latency_samples: int = 0  # latency of the "post" point
    #: the VCA groups whose gain adds to this fader (nested groups resolved), sorted, each once
    vcas: tuple[str, ...] = ()


@dataclass(frozen=True)
class VcaPlan:
    """A VCA group: a gain added to its members' faders (no signal of its own)."""

    name: str
    gain_db: float = 0.0
    #: "gain_db" -> breakpoints
    automation: dict[str, list[list[float]]] = field(default_factory=dict)


@dataclass(frozen=True)
class LoudnessPlan:
    target_lufs: float
    ceiling_dbtp: float
    tolerance_lu: float = 0.1
    max_gain_reduction_db: float = 12.0


@dataclass(frozen=True)
class MasterPlan:
    """The mastering stage, run over the premaster (mix print)."""

    inputs: tuple[NodeInput, ...] = ()  # sum -> premaster (empty for a master-only job)
    source: SourcePlan | None = None  # master-only job: the mixdown file is the premaster
    gain_db: float = 0.0
    chain: tuple[ProcStep, ...] = ()
    automation: dict[str, list[list[float]]] = field(default_factory=dict)
    premaster_latency_samples: int = 0
    latency_samples: int = 0  # of the "master" point: premaster latency + chain latency
    loudness: LoudnessPlan | None = None


@dataclass(frozen=True)
class TapPlan:
    """A point whose audio an output or the report wants."""

    name: str  # "premaster", "master", "track:kick", "bus:drums", ...
    node: str  # node id ("master" for premaster and master)
    point: Literal["post", "premaster", "master"] = "post"
    trim_samples: int = 0  # drop this many samples at the start (the point's latency)


@dataclass(frozen=True)
class OutputPlan:
    name: str
    path: str  # absolute, template already filled in
    rel_path: str  # relative to the session folder (portable; used in the hash)
    tap: str  # a TapPlan name
    format: str  # "wav", "flac", "aiff", "ogg", "mp3"
    sample_rate: int
    bit_depth: int | str  # 16, 24 or "32f"
    dither: str  # "none", "tpdf", "tpdf-shaped" ("auto" resolved by the compiler)
    #: this master's own loudness (None: the master's); presets resolved
    loudness: LoudnessPlan | None = None
    #: lossy formats: the bitrate (mp3 constant, ogg nominal), kbps; None for lossless formats
    bitrate_kbps: int | None = None
    #: a lossy master: the margin under the ceiling it is encoded again with after an overshoot, dB
    ceiling_margin_db: float | None = None


@dataclass(frozen=True)
class ReleasePlan:
    """Release metadata written into every output file (the session's ``release``)."""

    title: str | None = None
    artist: str | None = None
    album: str | None = None
    year: int | None = None
    isrc: str | None = None
    genre: str | None = None
    track_number: int | None = None
    copyright: str | None = None


@dataclass(frozen=True)
class RenderPlan:
    format_version: int
    session_name: str
    variant: str | None
    sample_rate: int
    session_dir: str
    nodes: tuple[NodePlan, ...]  # in schedule order (level, then id)
    levels: tuple[tuple[str, ...], ...]  # node ids per level
    master: MasterPlan
    taps: tuple[TapPlan, ...]
    outputs: tuple[OutputPlan, ...]
    tail_s: float | Literal["auto"] = "auto"
    seed: int = 0  # dither seed, derived from the session hash
    warnings: tuple[str, ...] = ()
    release: ReleasePlan | None = None
    vcas: tuple[VcaPlan, ...] = ()  # sorted by name

    def vca(self, name: str) -> VcaPlan:
        for v in self.vcas:
            if v.name == name:
                return v
        raise KeyError(name)

    def node(self, node_id: str) -> NodePlan:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, *, portable: bool = True) -> str:
        """Canonical JSON: sorted keys, 2-space indent.

        ``portable`` drops absolute paths (source/output ``path`` and ``session_dir``) so the
        golden files and the hash do not depend on where the checkout lives.
        """
        data = self.to_dict()
        if portable:
            data = _strip_absolute(data)
        return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    def plan_hash(self) -> str:
        """Stable sha256 of the portable plan JSON (used by recall)."""
        canon = json.dumps(
            _strip_absolute(self.to_dict()), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def dsp_kwargs(step: ProcStep) -> dict[str, Any]:
    """The DSP constructor's keyword arguments of a step: its parameters, plus the sidechain's
    ``highpass_hz`` as ``sidechain_highpass_hz``. The one mapping between the plan's names (the
    session's) and the DSP's: the DSP keeps one flat argument list, the key's routing is the
    graph's business."""
    kwargs = dict(step.params)
    if step.sidechain is not None and step.sidechain.highpass_hz is not None:
        kwargs["sidechain_highpass_hz"] = step.sidechain.highpass_hz
    return kwargs


def _strip_absolute(data: Any) -> Any:
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if k == "session_dir":
                continue
            if k == "path" and "rel_path" in data:
                continue
            out[k] = _strip_absolute(v)
        return out
    if isinstance(data, list | tuple):  # asdict keeps tuples as tuples
        return [_strip_absolute(v) for v in data]
    return data

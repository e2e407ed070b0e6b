"""The graph compiler: validated, expanded Session -> RenderPlan (layer 2).

An ordered tuple of small passes over a shared context. Each pass collects all
its problems; compilation stops after the first pass that found errors and
raises them together, each with the file:line:col of the YAML that declared
the offending node, edge or value: ``SessionInvalid`` (exit 2) for the session,
``MediaError`` (exit 1) for what the probed media headers make impossible.

Every refusal of the render that needs no samples lives here (routing, channels,
frequencies at every rate a chain runs at, media durations and channels, output
formats), so a session ``validate`` accepts is one the render can run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mixgraph.errors import Diagnostic, MediaError, SessionInvalid, did_you_mean
from mixgraph.graph.ir import Edge, Graph, Node, node_id
from mixgraph.graph.plan import (
    PLAN_FORMAT_VERSION,
    LoudnessPlan,
    MasterPlan,
    NodeInput,
    NodePlan,
    OutputPlan,
    ProcStep,
    ReleasePlan,
    RenderPlan,
    SidechainPlan,
    SourcePlan,
    TapPlan,
    VcaPlan,
    dsp_kwargs,
)
from mixgraph.mastering.presets import resolved_loudness
from mixgraph.session.models import (
    DEFAULT_CEILING_MARGIN_DB,
    MAX_TIMELINE_S,
    NON_DSP_FIELDS,
    Session,
)
from mixgraph.session.validate import fill_output_path, source_paths, vca_cycle

Positions = Callable[[tuple], "tuple[str, int, int] | None"]


def _fmt(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out


@dataclass
class Context:
    session: Session
    session_file: str | None
    session_dir: Path
    variant: str | None
    positions: Positions | None
    source_channels: Mapping[str, int]
    #: header of every file the session reads (``audio.probe.MediaInfo``), keyed by path; empty
    #: when compiled without media (a session object, tests)
    media: Mapping[str, Any] = field(default_factory=dict)
    graph: Graph | None = None
    diags: list[Diagnostic] = field(default_factory=list)
    #: problems of the media (exit 1), raised after a pass without session problems
    media_diags: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)
    latency: dict[str, int] = field(default_factory=dict)
    proc_latency: dict[str, list[int]] = field(default_factory=dict)
    input_delay: dict[str, int] = field(default_factory=dict)
    input_delays: dict[str, dict[tuple, int]] = field(default_factory=dict)
    key_delays: dict[str, dict[int, int]] = field(default_factory=dict)
    proc_channels: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    #: node id -> the VCA groups acting on its fader (nested groups resolved), sorted
    vcas: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def error(self, path: tuple, message: str, hint: str | None = None, code: str = "graph",
              severity: str = "error", media: bool = False) -> None:
        pos = self.positions(path) if self.positions else None
        file, line, col = pos if pos else (self.session_file, None, None)
        d = Diagnostic(message, file, line, col, _fmt(path), hint, severity=severity, code=code)
        if severity != "error":
            self.warnings.append(d)
        else:
            (self.media_diags if media else self.diags).append(d)


# --------------------------------------------------------------------------- passes


def build_graph(ctx: Context) -> None:  # noqa: C901 (one branch per kind of edge a session can declare (out, sends, sidechains, taps), in the order a reader meets them)
    """Resolve names: nodes for every strip, main edges (implicit routing to master), sends, keys."""
    s = ctx.session
    nodes: dict[str, Node] = {}
    by_name: dict[str, str] = {}
    for kind, section in (("track", s.tracks), ("bus", s.buses), ("return", s.returns)):
        plural = {"track": "tracks", "bus": "buses", "return": "returns"}[kind]
        for name, strip in section.items():
            nid = node_id(kind, name)
            active = [(i, p) for i, p in enumerate(strip.chain) if not p.bypass]
            nodes[nid] = Node(nid, kind, name, (plural, name), strip, [p for _, p in active],
                              [(plural, name, "chain", i) for i, _ in active], mute=strip.mute)
            by_name[name] = nid
    m = s.master
    active = [(i, p) for i, p in enumerate(m.chain) if not p.bypass]
    nodes["master"] = Node("master", "master", "master", ("master",), m, [p for _, p in active],
                           [("master", "chain", i) for i, _ in active])
    edges: list[Edge] = []
    buses = {n for n, nid in by_name.items() if nid.startswith("bus:")}
    for nid, node in nodes.items():
        if node.kind == "master":
            continue
        out = node.strip.out
        if out == "master":
            edges.append(Edge(nid, "master", "main", node.yaml_path + ("out",)))
        elif out in buses:
            edges.append(Edge(nid, f"bus:{out}", "main", node.yaml_path + ("out",)))
        else:
            ctx.error(node.yaml_path + ("out",), f"'{out}' is not a bus.",
                      did_you_mean(out, buses | {"master"}), code="graph.unknown-target")
        for i, send in enumerate(node.strip.sends):
            target = by_name.get(send.to)
            path = node.yaml_path + ("sends", i, "to")
            if target is None or target.startswith("track:"):
                ctx.error(path, f"Unknown return or bus '{send.to}'.",
                          did_you_mean(send.to, [n for n, t in by_name.items() if not t.startswith("track:")]),
                          code="graph.unknown-target")
            elif target == nid:
                ctx.error(path, f"'{node.name}' sends to itself.", "Remove the send.", code="graph.self-send")
            else:
                edges.append(Edge(nid, target, "send", path, send.level_db, send.pre_fader))
    for nid, node in nodes.items():
        for k, proc in enumerate(node.chain):
            sc = getattr(proc, "sidechain", None)
            if sc is None:
                continue
            src = by_name.get(sc.from_)
            path = node.chain_paths[k] + ("sidechain", "from")
            if src is None:
                ctx.error(path, f"Unknown sidechain source '{sc.from_}'.", did_you_mean(sc.from_, by_name),
                          code="graph.unknown-target")
            elif src == nid:
                ctx.error(path, "A node cannot key its own processor from its own output.",
                          "Remove 'sidechain' to use the node's own signal.", code="graph.self-key")
            elif nid == "master":
                # the master chain runs after the mix, over the premaster print alone (and once
                # per deliverable rate): no other node's signal exists there
                ctx.error(path, "The master chain cannot take a sidechain key: it runs over the "
                          "finished mix print, after every track and bus.",
                          "Remove 'sidechain', or key the processor on a bus that feeds the master.",
                          code="graph.master-key")
            else:
                edges.append(Edge(src, nid, "sidechain", path, proc_index=k))
    taps: dict[str, tuple] = {}
    for name, out in s.outputs.items():
        taps.setdefault(out.tap, ("outputs", name, "tap"))
    if m.source is not None and (s.tracks or s.buses or s.returns):
        # the engine would master the file and silently drop the whole mix
        ctx.error(("master", "source"), "A master with a 'source' masters that file; it cannot also mix "
                  "tracks, buses or returns.", "Remove 'source', or the tracks, buses and returns.",
                  code="graph.master-source")
    elif m.source is None and not s.tracks:
        # the render would refuse it, so validate does
        ctx.error(("tracks",), "The session has nothing to render: no tracks and no 'master.source'.",
                  "Add a track with a source, or give the master a mixdown to master.", code="graph.empty")
    ctx.graph = Graph(nodes, edges, taps)


def resolve_vcas(ctx: Context) -> None:
    """Each node's VCA groups: those that name it, and every group that holds one of those
    (nesting), each once: a group moves a member's fader by its gain however many paths lead
    from it to the member, as one fader moving another on a console."""
    s = ctx.session
    if not s.vcas:
        return
    by_name = {n.name: nid for nid, n in ctx.graph.nodes.items() if n.kind != "master"}
    for name, vca in s.vcas.items():
        for i, m in enumerate(vca.members):
            if m not in by_name and m not in s.vcas:
                ctx.error(("vcas", name, "members", i), f"Unknown track, bus, return or VCA '{m}'.",
                          did_you_mean(m, set(by_name) | set(s.vcas)), code="graph.vca")
    cycle = vca_cycle({n: list(v.members) for n, v in s.vcas.items()})
    if cycle:
        a, b = cycle[-2], cycle[-1]
        ctx.error(("vcas", a, "members", s.vcas[a].members.index(b)), f"VCA loop: {' -> '.join(cycle)}.",
                  "A VCA group cannot hold (directly or through others) a group that holds it.",
                  code="graph.vca")
    if ctx.diags:
        return
    holders: dict[str, set[str]] = {}  # member name -> the groups that name it directly
    for name, vca in s.vcas.items():
        for m in vca.members:
            holders.setdefault(m, set()).add(name)
    for member, nid in by_name.items():
        found: set[str] = set()
        todo = list(holders.get(member, ()))
        while todo:
            v = todo.pop()
            if v not in found:
                found.add(v)
                todo.extend(holders.get(v, ()))
        if found:
            ctx.vcas[nid] = tuple(sorted(found))


def find_cycle(graph: Graph) -> list[str] | None:
    """A dependency cycle as a path [a, b, ..., a], deterministic (sorted DFS), or None."""
    succ: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for e in graph.edges:
        succ[e.src].append(e.dst)
    for v in succ.values():
        v.sort()
    color: dict[str, int] = {n: 0 for n in graph.nodes}
    for start in sorted(graph.nodes):
        if color[start]:
            continue
        stack = [(start, iter(succ[start]))]
        path = [start]
        color[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                color[node] = 2
                stack.pop()
                path.pop()
                continue
            if color[nxt] == 1:
                i = path.index(nxt)
                return path[i:] + [nxt]
            if color[nxt] == 0:
                color[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(succ[nxt])))
    return None


def check_routing(ctx: Context) -> None:
    g = ctx.graph
    cycle = find_cycle(g)
    if cycle:
        # the edge that closes the cycle declares it
        closing = next(e for e in g.edges if e.src == cycle[-2] and e.dst == cycle[-1])
        kinds = {e.kind for e in g.edges
                 if any(e.src == a and e.dst == b for a, b in zip(cycle, cycle[1:], strict=False))}
        what = "A sidechain key depends on the node it keys" if "sidechain" in kinds else "Routing loop"
        ctx.error(closing.yaml_path, f"{what}: {' -> '.join(cycle)}.",
                  "Break the loop: a node cannot feed (or key) anything it is fed by.", code="graph.cycle")
    valid_taps = {"premaster", "master"} | {n for n in g.nodes if n != "master"}
    for tap, path in sorted(g.taps.items()):
        if tap not in valid_taps:
            ctx.error(path, f"The tap '{tap}' names no node.", did_you_mean(tap, valid_taps), code="graph.tap")
    if ctx.diags:
        return
    # nodes that reach no output: not on a path to the master and not tapped (warning)
    reach: set[str] = {"master"} | set(g.taps)
    changed = True
    while changed:
        changed = False
        for e in g.edges:
            if e.kind != "sidechain" and e.dst in reach and e.src not in reach:
                reach.add(e.src)
                changed = True
    for nid, node in sorted(g.nodes.items()):
        if nid not in reach:
            ctx.error(node.yaml_path, f"{nid} reaches no output.", code="graph.unreachable", severity="warning")
        fed = any(e.dst == nid and e.kind != "sidechain" for e in g.edges)
        if node.kind in ("bus", "return") and not fed:
            ctx.error(node.yaml_path, f"{nid} has no inputs: nothing is routed or sent to it.",
                      code="graph.unfed", severity="warning")
    _apply_solo(ctx)


def _apply_solo(ctx: Context) -> None:
    """DAW-style solo: soloed nodes, what feeds them and what they feed stay; the rest is muted.
    Returns fed by an audible node stay audible (solo-safe effect returns)."""
    g = ctx.graph
    soloed = {nid for nid, n in g.nodes.items() if n.kind != "master" and n.strip.solo}
    if not soloed:
        return
    main = [e for e in g.edges if e.kind == "main"]
    audible = set(soloed)
    frontier = list(soloed)
    while frontier:  # upstream feeders
        cur = frontier.pop()
        for e in main:
            if e.dst == cur and e.src not in audible:
                audible.add(e.src)
                frontier.append(e.src)
    down = set(soloed)
    frontier = list(soloed)
    while frontier:  # downstream path, and returns fed by audible nodes
        cur = frontier.pop()
        for e in g.edges:
            if e.src == cur and e.kind != "sidechain" and e.dst not in down:
                if e.kind == "send" and not e.dst.startswith("return:"):
                    continue
                down.add(e.dst)
                frontier.append(e.dst)
    audible |= down
    for nid, node in g.nodes.items():
        if node.kind != "master" and nid not in audible:
            node.mute = True


def propagate_channels(ctx: Context) -> None:
    from mixgraph.dsp.registry import processor_class

    g = ctx.graph
    for nid, node in g.nodes.items():
        if node.kind == "track":
            ch = source_pick(node.strip, ctx.source_channels.get(node.name))[2]
        else:
            ch = 2
        node.channels_in = ch
        chans = []
        for k, proc in enumerate(node.chain):
            cls = processor_class(proc.type)
            if ch not in cls.accepts_channels:
                ctx.error(node.chain_paths[k] + ("type",),
                          f"{proc.type} needs {' or '.join(map(str, cls.accepts_channels))} channel(s), but "
                          f"the signal here has {ch}.",
                          "Move it to a bus, or after a processor that makes the signal stereo.",
                          code="graph.channels")
                chans.append((ch, ch))
                continue
            if getattr(proc, "mode", "stereo") in ("mid", "side") and ch != 2:
                ctx.error(node.chain_paths[k] + ("mode",), f"mode: {proc.mode} needs a stereo signal, but "
                          f"the signal here has {ch} channel(s).",
                          "Use mode: stereo, or move it after a processor that makes the signal stereo.",
                          code="graph.channels")
                chans.append((ch, ch))
                continue
            if proc.type == "polarity" and proc.channels != "both" and ch == 1:
                ctx.error(node.chain_paths[k] + ("channels",), f"The signal here is mono: polarity "
                          f"'{proc.channels}' inverts all of it.", "Use channels: both, or pan it first.",
                          code="graph.channels", severity="warning")
            out = _instance(proc, ctx.session.sample_rate, ch).output_channels(ch)
            chans.append((ch, out))
            ch = out
        ctx.proc_channels[nid] = chans


def source_pick(track, file_channels: int | None) -> tuple[tuple[int, ...] | None, bool, int]:
    """(channels, sum, channels the track plays) of a track's ``channels`` and ``input`` on a
    file of ``file_channels`` (None: unknown, taken as stereo): ``channels`` as the plan carries
    it (counted from 1; None: the whole file), ``sum`` for a mono mean of them."""
    picked = tuple(track.channels) if track.channels else None
    count = len(picked) if picked else int(file_channels or 2)
    if track.input == "sum":
        return picked, count > 1, 1
    if track.input in ("left", "right"):
        side = 0 if track.input == "left" else 1
        if picked is None:
            return (side + 1,), False, 1
        return (picked[min(side, len(picked) - 1)],), False, 1  # one picked channel: refused at validate
    return picked, False, count


#: channel counts of an impulse response the reverb takes (mono: one IR for both sides)
IR_CHANNELS = (1, 2)
#: sample rates libsndfile's MPEG layer III encoder takes (it refuses to open the file at any other)
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
#: the constant bitrates of MPEG layer III, kbps: MPEG-1 (32 kHz and above), MPEG-2 (16 .. 24 kHz) and
#: MPEG-2.5 (below 16 kHz; libsndfile asks LAME for at most 64 kbps there)
MP3_BITRATES = {32000: (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
                16000: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
                0: (8, 16, 24, 32, 40, 48, 56, 64)}
#: the nominal bitrates Vorbis quality 0 .. 10 stand for, kbps (44.1 kHz stereo)
OGG_BITRATES = (64, 500)
#: a lossy output's bitrate when the session gives none, kbps (libsndfile's own default for both codecs)
DEFAULT_BITRATE_KBPS = 128
#: the highest rate libvorbis has an encoder setup for; above it libsndfile 1.2 crashes the process
#: (SIGSEGV) on opening the file instead of failing
OGG_MAX_RATE = 200000


def check_media(ctx: Context) -> None:
    """What the media headers make impossible: channel counts, a trim past a file's end, a
    timeline longer than MAX_TIMELINE_S. Without media (a session compiled in code) it is skipped."""
    if not ctx.media:
        return
    s = ctx.session
    sr = s.sample_rate
    for ypath, p in source_paths(s, ctx.session_dir):
        info = ctx.media.get(str(p))
        if info is None:
            continue
        if ypath[-1] == "ir":
            if info.channels not in IR_CHANNELS:
                ctx.error(ypath, f"The impulse response has {info.channels} channels; the reverb takes a mono "
                          "or stereo IR.", "Export the IR as mono or stereo.", code="media.channels", media=True)
            continue
        if ypath[0] == "master":
            if info.channels not in (1, 2):
                ctx.error(ypath, f"The file has {info.channels} channels; mixgraph masters a mono or stereo "
                          "mixdown.", "Export it as a stereo mix.", code="media.channels", media=True)
            if info.duration_s > MAX_TIMELINE_S:
                ctx.error(ypath, f"The mixdown lasts {info.duration_s:g} s, longer than the {MAX_TIMELINE_S} s "
                          "(24 h) a session may last.", code="media.timeline", media=True)
            continue
        name = ypath[1]
        t = s.tracks[name]
        _check_source_channels(ctx, name, t, info.channels)
        fsr = info.sample_rate
        # the frames the render reads, rounded as audio.sources.SourceStream rounds them
        first = int(round(t.trim.start_s * fsr))
        last = info.frames if t.trim.end_s is None else min(info.frames, int(round(t.trim.end_s * fsr)))
        if first >= last:
            ctx.error(("tracks", name, "trim", "start_s"),
                      f"The trim leaves no audio: it starts at {t.trim.start_s:g} s, and the file lasts "
                      f"{info.duration_s:g} s.", "Start the trim inside the file.", code="media.trim", media=True)
            continue
        length = last - first if fsr == sr else int(round((last - first) * sr / fsr))
        if length == 0:
            ctx.error(ypath, f"The used part of the file is shorter than one sample at the session's {sr} Hz.",
                      code="media.trim", media=True)
            continue
        end_s = t.start_s + length / sr
        if end_s > MAX_TIMELINE_S:
            ctx.error(("tracks", name, "start_s"), f"This track would end at {end_s:g} s (start_s plus the "
                      f"{length / sr:g} s it plays of its file), after the {MAX_TIMELINE_S} s (24 h) a session "
                      "may last.", "Trim the source or place it earlier.", code="media.timeline", media=True)


def _check_source_channels(ctx: Context, name: str, t, have: int) -> None:
    """A track's ``channels`` exist in its file, a file of more than two channels has some picked,
    and ``left``/``right`` have a stereo source to take a side of."""
    path = ("tracks", name)
    if t.channels is None and have > 2:
        ctx.error(path + ("source",), f"{t.source} has {have} channels; a track plays one or two of them.",
                  "Pick them with 'channels': [1] for the first (mono), [3, 4] for a stereo pair.",
                  code="media.channels", media=True)
        return
    for i, c in enumerate(t.channels or ()):
        if c > have:
            ctx.error(path + ("channels", i), f"There is no channel {c}: {t.source} has {have} "
                      f"channel{'s' if have != 1 else ''} (counted from 1).",
                      f"Pick channels 1 to {have}.", code="media.channels", media=True)
    if t.channels is None and have == 1 and t.input in ("left", "right"):
        ctx.error(path + ("input",), f"{t.source} is mono: it has no {t.input} side.",
                  "Leave 'input' out (as-is).", code="media.channels", media=True)


def _output_format(out, rel: str) -> str:
    ext = os.path.splitext(rel)[1].lstrip(".").lower()
    return out.format or {"aif": "aiff", "oga": "ogg"}.get(ext, ext) or "wav"


def check_outputs(ctx: Context) -> None:
    """Formats the writer cannot open at their bit depth or sample rate."""
    s = ctx.session
    for name, out in s.outputs.items():
        fmt = _output_format(out, fill_output_path(out.path, s, name, ctx.variant))
        rate = out.sample_rate or s.sample_rate
        rate_path = ("outputs", name, "sample_rate") if out.sample_rate else ("outputs", name, "path")
        whose = "" if out.sample_rate else " (the session's sample_rate)"
        if fmt == "flac" and out.bit_depth == "32f":
            ctx.error(("outputs", name, "bit_depth"), "FLAC has no 32-bit float format.",
                      "Use bit_depth 16 or 24, or write a .wav.", code="graph.format")
        if fmt == "mp3" and rate not in MP3_RATES:
            ctx.error(rate_path, f"MP3 cannot be written at {rate} Hz{whose}.",
                      f"Give the output a sample_rate of {', '.join(map(str, MP3_RATES))}.", code="graph.format")
        if fmt == "ogg" and rate > OGG_MAX_RATE:
            ctx.error(rate_path, f"Ogg Vorbis cannot be written at {rate} Hz{whose}; at most {OGG_MAX_RATE} Hz.",
                      "Give the output a lower sample_rate.", code="graph.format")
        _check_bitrate(ctx, name, out, fmt, rate)


def _check_bitrate(ctx: Context, name: str, out, fmt: str, rate: int) -> None:
    """A bitrate the codec has at the output's rate: LAME would round any other to its nearest step."""
    kbps = out.bitrate_kbps
    if kbps is None:
        return
    if fmt == "mp3":
        steps = next(v for lo, v in MP3_BITRATES.items() if rate >= lo)
        if kbps not in steps:
            ctx.error(("outputs", name, "bitrate_kbps"), f"MP3 at {rate} Hz has no {kbps} kbps bitrate.",
                      f"Use one of {', '.join(map(str, steps))}.", code="graph.format")
    elif fmt == "ogg" and not OGG_BITRATES[0] <= kbps <= OGG_BITRATES[1]:
        ctx.error(("outputs", name, "bitrate_kbps"), f"Ogg Vorbis has no {kbps} kbps setting.",
                  f"Use {OGG_BITRATES[0]} .. {OGG_BITRATES[1]} kbps (Vorbis quality 0 .. 10).", code="graph.format")


def _frequencies(proc) -> list[tuple[tuple, float]]:
    """(path in the processor, Hz) of every frequency that designs a filter of ``proc``."""
    out: list[tuple[tuple, float]] = []
    for i, band in enumerate(getattr(proc, "bands", None) or ()):
        f = getattr(band, "freq_hz", None)  # an EQ's bands (a multiband's bands have none)
        if f is not None:
            out.append((("bands", i, "freq_hz"), f))
    for i, f in enumerate(getattr(proc, "crossovers_hz", None) or ()):
        out.append((("crossovers_hz", i), f))
    if proc.type != "eq":
        for name in ("freq_hz", "highcut_hz", "key_highpass_hz", "key_lowpass_hz"):
            f = getattr(proc, name, None)
            if f is not None:
                out.append(((name,), f))
    sc = getattr(proc, "sidechain", None)
    if sc is not None and sc.highpass_hz is not None:
        out.append((("sidechain", "highpass_hz"), sc.highpass_hz))
    return out


def master_rates(session: Session) -> dict[int, list[str]]:
    """Every rate the master chain runs at -> the outputs mastered at it: the session's rate (the
    report's master) and each master-tapped output's rate (each is mastered at its own rate)."""
    rates: dict[int, list[str]] = {session.sample_rate: []}
    for name, out in session.outputs.items():
        if out.tap == "master":
            rates.setdefault(out.sample_rate or session.sample_rate, []).append(name)
    return rates


def check_frequencies(ctx: Context) -> None:
    """Every filter frequency, and every automated one, below Nyquist at each rate its chain runs
    at: a biquad designed above Nyquist is unstable (the render's output turns to NaN)."""
    s = ctx.session
    mrates = master_rates(s)

    def where(rate: int, master: bool) -> str:
        names = mrates.get(rate, []) if master else []
        if not names:
            return f"the session's sample_rate {rate} Hz"
        if len(names) == 1:
            return f"{rate} Hz, the rate output '{names[0]}' is mastered at"
        return f"{rate} Hz, the rate outputs {', '.join(repr(n) for n in names)} are mastered at"

    def check(path: tuple, f: float, master: bool) -> None:
        rates = sorted(mrates) if master else [s.sample_rate]
        low = next((r for r in rates if f >= r / 2.0), None)
        if low is None:
            return
        hint = ("Each deliverable rate is mastered at its own rate: lower the frequency below "
                f"{low / 2:g} Hz, or raise that output's sample_rate." if master and mrates.get(low)
                else "Lower the frequency or raise the session's sample_rate.")
        ctx.error(path, f"{f:g} Hz is not below Nyquist ({low / 2:g} Hz) at {where(low, master)}.", hint,
                  code="graph.nyquist")

    for node in ctx.graph.nodes.values():
        master = node.kind == "master"
        ids = {}
        for proc, ppath in zip(node.chain, node.chain_paths, strict=True):
            for sub, f in _frequencies(proc):
                check(ppath + sub, f, master)
            if proc.id:
                ids[proc.id] = proc
        for key, points in node.strip.automation.items():
            pid, _, param = key.partition(".")
            if pid not in ids or not param.endswith("freq_hz"):
                continue
            for j, (_t, v) in enumerate(points):
                check(node.yaml_path + ("automation", key, j), float(v), master)


_INSTANCE_CACHE: dict[str, object] = {}


def _sidechain_highpass(proc) -> float | None:
    sc = getattr(proc, "sidechain", None)
    return None if sc is None else sc.highpass_hz


def session_params(proc) -> dict:
    """A processor's parameters as the plan carries them: the session's, less the fields that are
    not DSP parameters (``NON_DSP_FIELDS``: type, id, bypass, the sidechain's routing)."""
    return proc.model_dump(mode="json", exclude=set(NON_DSP_FIELDS))


def step_params(proc) -> dict:
    """The DSP constructor's arguments of a session processor (through ``plan.dsp_kwargs``)."""
    hp = _sidechain_highpass(proc)
    sc = SidechainPlan("", hp) if hp is not None else None
    return dsp_kwargs(ProcStep(proc.type, session_params(proc), sidechain=sc))


def _instance(proc, sample_rate: int, channels: int):
    from mixgraph.dsp.registry import processor_class

    params = step_params(proc)
    if proc.type == "reverb":
        params["ir"] = None  # latency and channels do not depend on the IR
    cls = processor_class(proc.type)  # keyed by class too: tests may register a replacement kind
    key = json.dumps([proc.type, cls.__module__, cls.__qualname__, params, sample_rate, channels], sort_keys=True)
    inst = _INSTANCE_CACHE.get(key)
    if inst is None:
        inst = cls(**params)
        inst.prepare(sample_rate, channels, 4096)
        _INSTANCE_CACHE[key] = inst
    return inst


def compute_latency(ctx: Context) -> None:
    """Plugin delay compensation: align every sum, send return and sidechain key."""
    g = ctx.graph
    order = _topo(ctx)
    sr = ctx.session.sample_rate
    for nid in order:
        node = g.nodes[nid]
        ins = g.inputs(nid)
        arrive = max((ctx.latency[e.src] for e in ins), default=0)
        ctx.input_delays[nid] = {(e.src, e.kind, e.level_db, e.pre_fader): arrive - ctx.latency[e.src] for e in ins}
        extra = 0
        keys = {e.proc_index: e for e in g.keys(nid)}
        lat_list = []
        chans = ctx.proc_channels.get(nid, [])
        # first pass: how much extra input delay a late key forces
        cum = arrive
        for k, proc in enumerate(node.chain):
            if k in keys:
                need = ctx.latency[keys[k].src] - (cum + extra)
                if need > 0:
                    extra += need
            cum += _instance(proc, sr, chans[k][0] if k < len(chans) else 2).latency_samples
        cum = arrive + extra
        kd: dict[int, int] = {}
        for k, proc in enumerate(node.chain):
            if k in keys:
                kd[k] = cum - ctx.latency[keys[k].src]
            lat = _instance(proc, sr, chans[k][0] if k < len(chans) else 2).latency_samples
            lat_list.append(lat)
            cum += lat
        ctx.input_delay[nid] = extra
        ctx.key_delays[nid] = kd
        ctx.proc_latency[nid] = lat_list
        ctx.latency[nid] = cum
        if nid == "master":
            ctx.latency["premaster"] = arrive + extra


def _topo(ctx: Context) -> list[str]:
    if ctx.order:
        return ctx.order
    g = ctx.graph
    level: dict[str, int] = {}

    def lvl(n: str) -> int:
        if n not in level:
            level[n] = 1 + max((lvl(d) for d in g.deps(n)), default=-1)
        return level[n]

    for n in g.nodes:
        lvl(n)
    ctx.levels = level
    ctx.order = sorted(g.nodes, key=lambda n: (level[n], n))
    return ctx.order


def schedule(ctx: Context) -> None:
    _topo(ctx)


PASSES: tuple[Callable[[Context], None], ...] = (
    build_graph,
    resolve_vcas,
    check_routing,
    check_outputs,
    check_frequencies,
    propagate_channels,
    check_media,
    schedule,
    compute_latency,
)


# --------------------------------------------------------------------------- plan


def _automation(strip, ids: dict[str, int]) -> tuple[dict, dict[int, dict]]:
    fader: dict = {}
    procs: dict[int, dict] = {}
    for key, points in sorted(strip.automation.items()):
        pts = [[float(t), float(v)] for t, v in points]
        if "." in key:
            pid, _, param = key.partition(".")
            if pid in ids:
                procs.setdefault(ids[pid], {})[param] = pts
        else:
            fader[key] = pts
    return fader, procs


def _steps(ctx: Context, node: Node) -> tuple[ProcStep, ...]:
    ids = {p.id: k for k, p in enumerate(node.chain) if p.id}
    _fader, proc_auto = _automation(node.strip, ids)
    keys = {e.proc_index: e for e in ctx.graph.keys(node.id)}
    chans = ctx.proc_channels.get(node.id, [])
    steps = []
    for k, proc in enumerate(node.chain):
        sc = None
        if k in keys:
            sc = SidechainPlan(keys[k].src, _sidechain_highpass(proc), ctx.key_delays[node.id].get(k, 0))
        cin, cout = chans[k] if k < len(chans) else (2, 2)
        steps.append(ProcStep(proc.type, session_params(proc), proc.id, ctx.proc_latency[node.id][k], sc,
                              proc_auto.get(k, {}), cin, cout))
    return tuple(steps)


def _inputs(ctx: Context, nid: str) -> tuple[NodeInput, ...]:
    out = []
    for e in ctx.graph.inputs(nid):
        delay = ctx.input_delays[nid][(e.src, e.kind, e.level_db, e.pre_fader)]
        out.append(NodeInput(e.src, e.kind, "pre" if e.pre_fader else "post",
                             e.level_db if e.kind == "send" else 0.0, delay))
    return tuple(out)


def session_seed(session: Session) -> int:
    """Dither seed from the song's name: the same on every run and every edit of the session, so
    two versions of a song (vocal up 1 dB, a variant) null to their musical difference only."""
    return int(hashlib.sha256(f"mixgraph-dither:{session.name}".encode()).hexdigest()[:8], 16)


def _margin(out) -> float:
    return DEFAULT_CEILING_MARGIN_DB if out.ceiling_margin_db is None else out.ceiling_margin_db


def make_plan(ctx: Context) -> RenderPlan:
    s = ctx.session
    g = ctx.graph
    nodes = []
    for nid in ctx.order:
        if nid == "master":
            continue
        node = g.nodes[nid]
        fader, _ = _automation(node.strip, {p.id: k for k, p in enumerate(node.chain) if p.id})
        src = None
        if node.kind == "track":
            t = node.strip
            rel = t.source
            picked, mean, _ch = source_pick(t, ctx.source_channels.get(node.name))
            src = SourcePlan(
                str((ctx.session_dir / s.sources_dir / rel).resolve()), rel, t.start_s, t.trim.start_s,
                t.trim.end_s, t.fade.in_ms, t.fade.out_ms, t.invert_polarity, picked, mean)
        nodes.append(NodePlan(
            id=nid, kind=node.kind, level=ctx.levels[nid], inputs=_inputs(ctx, nid), source=src,
            input_delay_samples=ctx.input_delay[nid], chain=_steps(ctx, node), channels_in=node.channels_in,
            gain_db=node.strip.gain_db, pan=node.strip.pan,
            width=getattr(node.strip, "width", 1.0), mute=node.mute, automation=fader,
            latency_samples=ctx.latency[nid], vcas=ctx.vcas.get(nid, ())))
    m = s.master
    mnode = g.nodes["master"]
    mfader, _ = _automation(m, {})
    loud = None
    if m.loudness is not None:
        target, ceiling = resolved_loudness(m.loudness)
        loud = LoudnessPlan(target, ceiling, m.loudness.tolerance_lu, m.loudness.max_gain_reduction_db)
    msrc = None
    if m.source:
        msrc = SourcePlan(str((ctx.session_dir / m.source).resolve()), m.source)
    master = MasterPlan(inputs=_inputs(ctx, "master"), source=msrc, gain_db=m.gain_db,
                        chain=_steps(ctx, mnode), automation=mfader,
                        premaster_latency_samples=ctx.latency["premaster"],
                        latency_samples=ctx.latency["master"], loudness=loud)
    taps = []
    for tap in sorted(g.taps):
        if tap == "premaster":
            taps.append(TapPlan("premaster", "master", "premaster", ctx.latency["premaster"]))
        elif tap == "master":
            taps.append(TapPlan("master", "master", "master", ctx.latency["master"]))
        else:
            taps.append(TapPlan(tap, tap, "post", ctx.latency[tap]))
    outputs = []
    for name, out in s.outputs.items():
        rel = fill_output_path(out.path, s, name, ctx.variant)
        fmt = _output_format(out, rel)
        dither = out.dither
        if dither == "auto":
            dither = "tpdf" if out.bit_depth == 16 else "none"
        oloud = None
        if out.loudness is not None:
            target, ceiling = resolved_loudness(out.loudness)
            oloud = LoudnessPlan(target, ceiling, out.loudness.tolerance_lu, out.loudness.max_gain_reduction_db)
        lossy = fmt in ("mp3", "ogg")
        outputs.append(OutputPlan(name, str((ctx.session_dir / rel).resolve()), rel, out.tap, fmt,
                                  out.sample_rate or s.sample_rate, out.bit_depth, dither, oloud,
                                  bitrate_kbps=(out.bitrate_kbps or DEFAULT_BITRATE_KBPS) if lossy else None,
                                  ceiling_margin_db=_margin(out) if lossy and out.tap == "master" else None))
    levels: dict[int, list[str]] = {}
    for nid in ctx.order:
        levels.setdefault(ctx.levels[nid], []).append(nid)
    return RenderPlan(
        format_version=PLAN_FORMAT_VERSION, session_name=s.name, variant=ctx.variant, sample_rate=s.sample_rate,
        session_dir=str(ctx.session_dir.resolve()), nodes=tuple(nodes),
        levels=tuple(tuple(v) for _, v in sorted(levels.items())), master=master, taps=tuple(taps),
        outputs=tuple(outputs), tail_s=s.tail_s, seed=session_seed(s),
        warnings=tuple(d.format() for d in ctx.warnings),
        release=ReleasePlan(**s.release.model_dump()) if s.release is not None else None,
        vcas=tuple(VcaPlan(name, v.gain_db, _automation(v, {})[0]) for name, v in sorted(s.vcas.items())))


def compile_session(session: Session, *, session_file: str | None = None, session_dir: str | Path = ".",
                    variant: str | None = None, positions: Positions | None = None,
                    source_channels: Mapping[str, int] | None = None,
                    media: Mapping[str, Any] | None = None) -> RenderPlan:
    """The render plan of a validated, expanded session; SessionInvalid (exit 2) or MediaError
    (exit 1, media problems only) with every problem of the first pass that found any.

    ``media``: the header (``audio.probe.MediaInfo``) of every file the session reads, keyed by
    ``str(path)`` as ``session.validate.source_paths`` yields it; without it the media checks
    are skipped."""
    ctx = Context(session, session_file, Path(session_dir), variant, positions, source_channels or {}, media or {})
    for p in PASSES:
        p(ctx)
        if ctx.diags:
            raise SessionInvalid(session_file, ctx.diags)
        if ctx.media_diags:
            d = ctx.media_diags
            head = d[0].message if len(d) == 1 else f"{session_file}: {len(d)} file problems"
            raise MediaError(head, d)
    return make_plan(ctx)

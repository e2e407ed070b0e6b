"""Per-node reuse in the mix: which nodes run, which read their cached stream, which are skipped.

Every node rendered leaves a small meta entry under its key (its stats and level reading, the frames
it ran for); nodes of the kinds in ``streams`` also leave their output stream (post, and pre when a
pre-fader send takes it). In the next render a node is

* *reused* when something that runs needs its stream and the stream is cached: it is read, not run;
* *skipped* when nothing that runs needs it and its meta is cached: the report takes its stats;
* *rendered* otherwise, and then what feeds it is needed too.

Stats cover every frame a node ran for, which depends on the render's length (and the block size),
so a reused or skipped entry is good only for a render of the same number of frames; a render that
finds otherwise (or a checksum that does not match) raises CacheMiss and is run again without reuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mixgraph.graph.plan import NodePlan, RenderPlan
from mixgraph.render.cache import Cache, CacheMiss, EntryWriter, StreamReader, decode, encode
from mixgraph.render.engine import GainReductionStat

#: node kinds whose output stream is stored (see benchmarks/README.md: disk against time)
DEFAULT_STREAMS = ("bus", "return")


def _classes() -> dict[str, type]:
    from mixgraph.meter import MeterResult
    from mixgraph.meter.result import MultichannelResult

    return {c.__name__: c for c in (GainReductionStat, MeterResult, MultichannelResult)}


@dataclass
class _Src:
    """What the engine asks of a track's source: where it ends, its note."""

    end: int
    note: str | None

    def close(self) -> None:
        pass


class _Fixed:
    """A node meter whose reading came from the cache."""

    def __init__(self, result):
        self._result = result

    def result(self):
        return self._result


class StoredRunner:
    """A node the engine does not run: its stream read from the cache (``reader``), or nothing
    (skipped: no node that runs reads it); its stats are the stored ones."""

    def __init__(self, node: NodePlan, meta: dict, reader: StreamReader | None):
        self.node = node
        self.meta = meta
        self.reader = reader
        self.count_levels = True
        self.source = _Src(meta["source_end"], meta.get("source_note")) if meta.get("source_end") is not None \
            else None
        self.channels = int(meta.get("channels", 2))
        self._stats = decode(meta["stats"], _classes())
        self._zeros: np.ndarray | None = None

    def run(self, pos: int, n: int, bufs) -> tuple:
        if self.reader is None:
            if self._zeros is None or self._zeros.shape[1] != n:
                self._zeros = np.zeros((2, n))
            return None, self._zeros
        x = self.reader.frames(n, self.channels)
        return (x[2:4] if self.channels == 4 else None), x[0:2]

    def stats(self) -> dict:
        return self._stats

    def close(self) -> None:
        pass  # the reader stays open for NodeCache.finish to check; NodeCache.close closes it


@dataclass
class NodeCache:
    """One mix's use of the cache (see the module's doc); ``reuse=False``: run every node, record."""

    cache: Cache
    plan: RenderPlan
    keys: dict[str, str]
    node_meters: bool
    block: int
    reuse: bool = True
    streams: tuple[str, ...] = DEFAULT_STREAMS
    stored: dict[str, StoredRunner] = field(default_factory=dict)
    writers: dict[str, EntryWriter] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    keep_pre: set[str] = field(default_factory=set)
    sources: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        plan = self.plan
        consumers: dict[str, set[str]] = {n.id: set() for n in plan.nodes}
        for n in plan.nodes:
            for i in n.inputs:
                consumers[i.source].add(n.id)
            for st in n.chain:
                if st.sidechain is not None:
                    consumers[st.sidechain.source].add(n.id)
        # the engine keeps a node's pre-fader signal for these (NodeRunner.keep_pre)
        self.keep_pre = {i.source for n in (*plan.nodes, plan.master) for i in n.inputs if i.point == "pre"}
        needed = {i.source for i in plan.master.inputs if plan.master.source is None}
        stems = {o.tap for o in plan.outputs if o.tap not in ("master", "premaster")}
        needed |= {t.node for t in plan.taps if t.name in stems}
        rendered: set[str] = set()
        for n in reversed(plan.nodes):
            demanded = n.id in needed or bool(consumers[n.id] & rendered)
            if self.reuse and self._take(n, demanded):
                continue
            rendered.add(n.id)
            if n.kind in self.streams:
                self.writers[n.id] = self.cache.writer(self.keys[n.id])
            self.seconds[n.id] = 0.0

    def _take(self, n: NodePlan, demanded: bool) -> bool:
        """Reuse or skip ``n`` if its entries allow: its record (stats, meters) for this block size,
        and its stream (any block size: the samples are the same) when demanded."""
        try:
            meta = self.cache.meta(self._meta_key(n.id))
            if meta.get("metered") != self.node_meters:
                return False
            reader = None
            if demanded:
                reader = self.cache.open_stream(self.keys[n.id])
                channels = reader.meta.get("channels")
                short = reader.meta.get("frames", 0) < meta.get("frames", 0)
                if channels is None or short or (n.id in self.keep_pre and channels != 4):
                    reader.close()
                    return False
                meta = {**meta, "channels": channels}
            self.stored[n.id] = StoredRunner(n, meta, reader)
        except (CacheMiss, KeyError, TypeError):
            return False
        return True

    def _meta_key(self, nid: str) -> str:
        # a node's stats cover whole blocks: one record per block size
        return f"{self.keys[nid]}-meta-{self.block}"

    # -- the engine's hooks ------------------------------------------------------------------

    def runner(self, node: NodePlan) -> StoredRunner | None:
        return self.stored.get(node.id)

    def record(self, nid: str, res: tuple, seconds: float) -> None:
        if nid in self.seconds:
            self.seconds[nid] += seconds
        w = self.writers.get(nid)
        if w is not None:
            pre, post = res
            w.write_frames(np.vstack((post, pre)) if nid in self.keep_pre else post)

    # -- after the mix -----------------------------------------------------------------------

    @property
    def reused(self) -> list[str]:
        return [k for k, r in self.stored.items() if r.reader is not None]

    @property
    def skipped(self) -> list[str]:
        return [k for k, r in self.stored.items() if r.reader is None]

    def saved_seconds(self) -> float:
        return sum(float(r.meta.get("seconds", 0.0)) for r in self.stored.values())

    def levels(self) -> dict[str, _Fixed]:
        return {k: _Fixed(decode(r.meta["level"], _classes())) for k, r in self.stored.items()
                if r.meta.get("level") is not None}

    def ran(self, runners: dict) -> None:
        """The engine's runners, at the mix's end (the tracks' sources: where each ends)."""
        self.sources = {k: r.source for k, r in runners.items()}

    def finish(self, frames: int, stats: dict, levels: dict) -> None:
        """Check what was read (every frame, checksums) and store what was rendered."""
        for nid, r in self.stored.items():
            if r.meta.get("frames") != frames:
                raise CacheMiss(nid)
            if r.reader is not None:
                r.reader.verify()
        for nid in self.seconds:
            src = self.sources.get(nid)
            meta = {"frames": frames, "stats": encode(stats[nid]), "metered": self.node_meters,
                    "level": encode(levels[nid]) if nid in levels else None, "seconds": self.seconds[nid],
                    "source_end": src.end if src is not None else None,
                    "source_note": src.note if src is not None else None}
            w = self.writers.pop(nid, None)
            if w is not None:
                # a stream is the same samples at any block size: keep the longest one stored
                try:
                    old = self.cache.meta(self.keys[nid])
                    longer = old.get("frames", 0) >= frames and old.get("channels") == (4 if nid in self.keep_pre else 2)
                except CacheMiss:
                    longer = False
                if longer:
                    w.discard()
                else:
                    w.meta.update(meta, channels=4 if nid in self.keep_pre else 2)
                    w.commit()
            self.cache.put_bytes(self._meta_key(nid), b"", meta)

    def close(self) -> None:
        for w in self.writers.values():
            w.discard()
        self.writers.clear()
        for r in self.stored.values():
            if r.reader is not None:
                r.reader.close()

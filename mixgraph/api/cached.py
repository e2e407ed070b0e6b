"""A render's use of the render cache (``mixgraph.render.cache``): the mix and the master stage
reused whole when their keys are unchanged, single nodes otherwise (``mixgraph.render.nodecache``).

Reuse never bypasses the render's trust rules: a reused master file is copied into the render's
transaction like any file it writes, and goes through the same checks (ceiling, sidecars, report);
a cached entry that turns out truncated or corrupt raises CacheMiss, and the render runs again with
no reuse (nothing was committed).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mixgraph.audio.writer import WrittenOutput
from mixgraph.graph.plan import LoudnessPlan, OutputPlan, RenderPlan
from mixgraph.mastering.solver import LoudnessSolve
from mixgraph.mastering.stage import GroupKey, MasterContext, MasterStage
from mixgraph.meter import MeterResult
from mixgraph.meter.result import MultichannelResult
from mixgraph.render.cache import Cache, CacheMiss, decode, encode
from mixgraph.render.cachekeys import SourceHashes, master_key, mix_key, node_keys
from mixgraph.render.engine import GainReductionStat, MixResult, longest_gap_s
from mixgraph.render.nodecache import NodeCache, _Fixed

CLASSES = {c.__name__: c for c in (WrittenOutput, MeterResult, MultichannelResult, LoudnessSolve, GroupKey,
                                   LoudnessPlan, GainReductionStat)}


@dataclass
class CacheUse:
    """What a render took from the cache, for the report."""

    nodes_reused: list[str] = field(default_factory=list)  # read from a cached stream
    nodes_skipped: list[str] = field(default_factory=list)  # not needed: stats from the cache
    nodes_rendered: list[str] = field(default_factory=list)
    mix: str = "rendered"  # or "reused"
    master: str = "rendered"  # or "reused"
    #: what the reused parts took when they were computed, seconds
    saved_s: float = 0.0
    #: a cached entry was found corrupt or too short: the render ran again without reuse
    retried: bool = False

    def to_dict(self) -> dict:
        return {"nodes_reused": len(self.nodes_reused) + len(self.nodes_skipped),
                "nodes_rendered": len(self.nodes_rendered), "mix": self.mix, "master": self.master,
                "saved_s": round(self.saved_s, 3), "retried": self.retried}


class _CopiedOutput:
    """A master file copied from the cache into the render's temporary: the writer's face."""

    def __init__(self, out: OutputPlan, tmp: Path, written: WrittenOutput):
        self.out, self.tmp, self.written = out, tmp, written
        self.meter = None

    def finish(self) -> WrittenOutput:
        return self.written

    def abort(self) -> None:
        pass


class RenderCache:
    """One render's use of the cache (built inside the render's transaction)."""

    def __init__(self, cache: Cache, plan: RenderPlan, *, reuse: bool, node_meters: bool, length: int | None,
                 targets: dict[str, Path], metadata: dict[str, str], fixed_gains, block: int, stream_kinds=None):
        self.cache = cache
        self.plan = plan
        self.block = block
        self.reuse = reuse
        self.node_meters = node_meters
        self.use = CacheUse()
        self.hashes = SourceHashes(cache.root / "sources.json")
        self.keys = node_keys(plan, self.hashes)
        self.mix_key = mix_key(plan, self.keys, self.hashes, length=length, node_meters=node_meters,
                               gap_s=longest_gap_s(plan), block=block)
        self.master_key = master_key(plan, self.mix_key, self.hashes, targets=targets, metadata=metadata,
                                     fixed_gains=fixed_gains)
        self.hashes.save()
        # MIXGRAPH_CACHE_STREAMS=track,bus,return: which node kinds store their stream (measured
        # both ways in benchmarks/README.md; the default is buses and returns)
        env = os.environ.get("MIXGRAPH_CACHE_STREAMS")
        self.stream_kinds = stream_kinds if stream_kinds is not None or env is None else \
            tuple(k.strip() for k in env.split(",") if k.strip())
        #: stems come from the mix's taps: a render with stems always runs the mix (per-node reuse)
        self.stems = any(o.tap != "master" for o in plan.outputs)
        self._mix_saved = 0.0

    # -- the mix -----------------------------------------------------------------------------

    def mix(self, run: Callable[[NodeCache | None], object], make: Callable[..., object]):
        """The mix: ``run(node_cache)`` renders it; ``make(result, premaster, node_meters)`` builds
        the mix from cached parts."""
        if self.reuse and not self.stems:
            try:
                meta = self.cache.meta(self.mix_key)
                return self._mix_hit(meta, make)
            except (CacheMiss, KeyError, TypeError):
                pass
        kw = {} if self.stream_kinds is None else {"streams": self.stream_kinds}
        nc = NodeCache(self.cache, self.plan, self.keys, self.node_meters, self.block, reuse=self.reuse, **kw)
        t0 = time.perf_counter()
        try:
            mix = run(nc)
            r: MixResult = mix.result
            levels = {k: m.result() for k, m in mix.node_meters.items()}
            nc.finish(r.frames, r.node_stats, levels)
        finally:
            nc.close()
        mix.node_meters = {**{k: _Fixed(v) for k, v in levels.items()}, **nc.levels()}
        u = self.use
        u.nodes_reused, u.nodes_skipped = nc.reused, nc.skipped
        u.nodes_rendered = [n.id for n in self.plan.nodes if n.id not in nc.stored]
        u.saved_s += nc.saved_seconds()
        seconds = time.perf_counter() - t0 + nc.saved_seconds()  # what the mix costs without reuse
        if not self.stems:
            self.cache.put_file(self.mix_key, r.spill_path, {
                "length": r.length, "timeline": r.timeline, "frames": r.frames, "notes": r.notes,
                "stats": encode(r.node_stats), "premaster": encode(mix.premaster),
                "levels": encode({k: m.result() for k, m in mix.node_meters.items()}), "seconds": seconds},
                link=True)
        return mix

    def _mix_hit(self, meta: dict, make):
        # the spill is needed only when the master stage runs: linked (and checked) on demand
        # the stats cover every frame the nodes ran for: the length and the premaster's latency,
        # rounded up to whole blocks (so another block size makes other stats)
        frames = -(-(meta["length"] + self.plan.master.premaster_latency_samples) // self.block) * self.block
        if meta["frames"] != frames:
            raise CacheMiss(self.mix_key)
        result = MixResult(meta["length"], meta["timeline"], "", decode(meta["stats"], CLASSES),
                           list(meta["notes"]), meta["frames"])
        levels = {k: _Fixed(v) for k, v in decode(meta["levels"], CLASSES).items()}
        self.use.mix = "reused"
        self.use.nodes_skipped = [n.id for n in self.plan.nodes]
        self._mix_saved = float(meta.get("seconds", 0.0))
        self.use.saved_s += self._mix_saved
        return make(result, decode(meta["premaster"], CLASSES), levels)

    # -- the master stage --------------------------------------------------------------------

    def master(self, ctx: MasterContext, run: Callable[[MasterContext], MasterStage]) -> MasterStage:
        if self.reuse:
            try:
                return self._master_hit(ctx, self.cache.meta(self.master_key))
            except (CacheMiss, KeyError, TypeError):
                pass
        if not ctx.spill_path:  # the mix was reused: its premaster from the cache
            ctx.spill_path, _ = self.cache.link_checked(self.mix_key)
        t0 = time.perf_counter()
        stage = run(ctx)
        self._master_seconds = time.perf_counter() - t0
        return stage

    def _master_hit(self, ctx: MasterContext, meta: dict) -> MasterStage:
        st = decode(meta["stage"], CLASSES)
        outs = {o.name: o for o in ctx.plan.outputs}
        stage = MasterStage(as_written=st["as_written"], solve=st["solve"], master=st["master"], stats=st["stats"],
                            gains=st["gains"], solves=st["solves"], output_stats=st["output_stats"])
        for name, written in st["written"].items():
            tmp = ctx.tx.new_temp(ctx.targets[name])
            stage.writers[name] = _CopiedOutput(outs[name], tmp, written)
            self.cache.copy_to(f"{self.master_key}-out-{name}", tmp)
        self.use.master = "reused"
        self.use.saved_s += float(meta.get("seconds", 0.0))
        return stage

    def store_master(self, stage: MasterStage, outputs: list) -> None:
        """After the outputs are written and metered: the master files and the stage's results."""
        if self.use.master == "reused":
            return
        written = {o.written.name: o.written for o in outputs if o.written.tap == "master"}
        meters = {o.written.name: o.meter for o in outputs if o.written.tap == "master"}
        for name in written:
            self.cache.put_file(f"{self.master_key}-out-{name}", stage.writers[name].tmp)
        st = {"as_written": meters, "solve": stage.solve, "master": stage.master, "stats": stage.stats,
              "gains": stage.gains, "solves": stage.solves, "output_stats": stage.output_stats, "written": written}
        self.cache.put_bytes(self.master_key, b"", {"stage": encode(st),
                                                   "seconds": getattr(self, "_master_seconds", 0.0)})

    def close(self) -> None:
        self.cache.release()
        self.cache.prune()

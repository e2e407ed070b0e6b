"""Cache keys: a sha256 of everything a stream depends on, and nothing it does not.

A node's key covers its plan (chain parameters and automation, fader, pan, width, mute, VCA groups
with their gains and lanes, input delays), the sample hash of its source or the keys of the nodes
feeding it (main edges, sends with their level and point, sidechain keys), the contents of any
impulse response it loads, the sample rate, ``DSP_VERSION`` and the package version. Node names
are left out (renaming a track reuses its stream); the block size and thread count are left out
(the output does not depend on them).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mixgraph.atomic import write_text
from mixgraph.audio.compare import file_sha256
from mixgraph.graph.plan import NodePlan, ProcStep, RenderPlan
from mixgraph.version import __version__

#: bump when any kernel's output changes (a cached stream of the old kernel is then never used)
DSP_VERSION = 1


def digest(obj: Any) -> str:
    canon = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True,
                       default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


class SourceHashes:
    """sha256 of source files, remembered by (real path, size, mtime, inode) in ``memo`` (a JSON
    file in the cache), as a build tool remembers file hashes: a file whose size, time and inode
    are unchanged is not read again."""

    def __init__(self, memo: Path | None):
        self.memo = memo
        self.known: dict[str, list] = {}
        self.dirty = False
        if memo is not None:
            try:
                data = json.loads(memo.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    self.known = data
            except (OSError, ValueError):
                pass

    def __call__(self, path: str | Path) -> str:
        real = os.path.realpath(path)
        st = os.stat(real)
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        got = self.known.get(real)
        if isinstance(got, list) and len(got) == 4 and got[:3] == stamp:
            return str(got[3])
        h = file_sha256(real)
        self.known[real] = [*stamp, h]
        self.dirty = True
        return h

    def save(self) -> None:
        if self.memo is not None and self.dirty:
            try:
                write_text(self.memo, json.dumps(self.known), record=False)
            except OSError:
                pass  # a memo that cannot be saved is only slower next time


def _step(st: ProcStep, session_dir: str, keys: dict[str, str], hashes: SourceHashes) -> dict:
    d = asdict(st)
    if st.sidechain is not None:
        d["sidechain"]["source"] = keys[st.sidechain.source]
    ir = st.params.get("ir")
    if isinstance(ir, str) and ir:
        d["ir_sha256"] = hashes(Path(session_dir) / ir)
    return d


def _base(plan: RenderPlan) -> dict:
    return {"dsp": DSP_VERSION, "version": __version__, "rate": plan.sample_rate}


def node_key(plan: RenderPlan, node: NodePlan, keys: dict[str, str], hashes: SourceHashes) -> str:
    d = asdict(node)
    d.pop("id")
    d.pop("level")  # the schedule's, not the stream's
    d["inputs"] = [{**asdict(i), "source": keys[i.source]} for i in node.inputs]
    d["chain"] = [_step(st, plan.session_dir, keys, hashes) for st in node.chain]
    if node.source is not None:
        src = dict(d["source"])
        src.pop("path")
        src.pop("rel_path")
        src["sha256"] = hashes(node.source.path)
        d["source"] = src
    d["vcas"] = [asdict(plan.vca(v)) for v in node.vcas]
    return digest({**_base(plan), "node": d})


def node_keys(plan: RenderPlan, hashes: SourceHashes) -> dict[str, str]:
    """Every node's key, in schedule order (a node's inputs come before it)."""
    keys: dict[str, str] = {}
    for node in plan.nodes:
        keys[node.id] = node_key(plan, node, keys, hashes)
    return keys


def mix_key(plan: RenderPlan, keys: dict[str, str], hashes: SourceHashes, *, length: int | None,
            node_meters: bool, gap_s: float, block: int) -> str:
    """The mix stage's key: the premaster and the mix's report (node stats and levels, which cover
    whole blocks: the block size is in this key, not in the samples')."""
    m = plan.master
    return digest({
        **_base(plan), "nodes": sorted(keys.items()),
        "inputs": [{**asdict(i), "source": keys[i.source]} for i in m.inputs],
        "source": None if m.source is None else {**{k: v for k, v in asdict(m.source).items()
                                                    if k not in ("path", "rel_path")},
                                                 "sha256": hashes(m.source.path)},
        "premaster_latency": m.premaster_latency_samples, "taps": [asdict(t) for t in plan.taps],
        "tail_s": plan.tail_s, "gap_s": gap_s if plan.tail_s == "auto" else None, "length": length,
        "node_meters": node_meters, "block": block})


def master_key(plan: RenderPlan, mix: str, hashes: SourceHashes, *, targets: dict[str, Any],
               metadata: dict[str, str], fixed_gains: Any) -> str:
    """The master stage's key: its files (named by their final paths, their metadata written in)
    and its report, from the mix with key ``mix``."""
    m = asdict(plan.master)
    m.pop("inputs")
    m.pop("source")
    m["chain"] = [_step(st, plan.session_dir, {}, hashes) for st in plan.master.chain]
    outs = [{**{k: v for k, v in asdict(o).items() if k != "rel_path"}, "target": str(targets[o.name])}
            for o in plan.outputs if o.tap == "master"]
    fixed = None if fixed_gains is None else sorted((repr(k), v) for k, v in fixed_gains.items())
    return digest({**_base(plan), "mix": mix, "master": m, "outputs": outs, "seed": plan.seed,
                   "metadata": metadata, "fixed": fixed})

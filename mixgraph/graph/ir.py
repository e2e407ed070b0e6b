"""Graph IR: nodes whose ids carry their kind, and typed edges (layer 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EdgeKind = Literal["main", "send", "sidechain"]


def node_id(kind: str, name: str) -> str:
    return "master" if kind == "master" else f"{kind}:{name}"


@dataclass
class Edge:
    src: str
    dst: str
    kind: EdgeKind
    yaml_path: tuple  # where the edge was declared, for diagnostics
    level_db: float = 0.0
    pre_fader: bool = False
    proc_index: int | None = None  # sidechain: index of the keyed processor in dst's chain


@dataclass
class Node:
    id: str
    kind: str  # track | bus | return | master
    name: str
    yaml_path: tuple
    strip: Any  # the session model (Track, Bus, Master)
    chain: list = field(default_factory=list)  # active (non-bypassed) processor models
    chain_paths: list = field(default_factory=list)  # yaml path of each active processor
    mute: bool = False
    channels_in: int = 2


@dataclass
class Graph:
    nodes: dict[str, Node]
    edges: list[Edge]
    taps: dict[str, tuple]  # tap name -> yaml path of the first output that wants it

    def inputs(self, nid: str) -> list[Edge]:
        """Main and send edges into ``nid``, in a deterministic order (kind, source id)."""
        es = [e for e in self.edges if e.dst == nid and e.kind != "sidechain"]
        return sorted(es, key=lambda e: (e.kind != "main", e.src, e.level_db, e.pre_fader))

    def keys(self, nid: str) -> list[Edge]:
        return sorted((e for e in self.edges if e.dst == nid and e.kind == "sidechain"),
                      key=lambda e: (e.proc_index, e.src))

    def deps(self, nid: str) -> list[str]:
        return sorted({e.src for e in self.edges if e.dst == nid})

"""The closed set of processor kinds on the DSP side (layer 1).

A plain mapping from the ``type`` a user writes to the class that implements
it.  Modules are imported lazily so that looking up one kind does not compile
every kernel.  ``tests/dsp/test_vocabulary.py`` checks that this registry and the
session's discriminated union hold the same kinds with the same parameters and
defaults (and lists the session fields that are not DSP parameters).
"""

from __future__ import annotations

import importlib

from mixgraph.dsp.base import Processor

_REGISTRY: dict[str, str] = {
    "gain": "mixgraph.dsp.basic:Gain",
    "pan": "mixgraph.dsp.basic:Pan",
    "polarity": "mixgraph.dsp.basic:Polarity",
    "width": "mixgraph.dsp.basic:Width",
    "eq": "mixgraph.dsp.eq:EQ",
    "compressor": "mixgraph.dsp.dynamics:Compressor",
    "gate": "mixgraph.dsp.dynamics:Gate",
    "deesser": "mixgraph.dsp.dynamics:DeEsser",
    "transient": "mixgraph.dsp.transient:TransientShaper",
    "clipper": "mixgraph.dsp.clipper:Clipper",
    "limiter": "mixgraph.dsp.limiter:Limiter",
    "multiband": "mixgraph.dsp.multiband:Multiband",
    "saturation": "mixgraph.dsp.saturation:Saturation",
    "delay": "mixgraph.dsp.delay:Delay",
    "chorus": "mixgraph.dsp.chorus:Chorus",
    "reverb": "mixgraph.dsp.reverb:Reverb",
}

#: extra kinds registered at run time (tests register a pure-latency processor)
_EXTRA: dict[str, type[Processor]] = {}


def kinds() -> tuple[str, ...]:
    return tuple(sorted(set(_REGISTRY) | set(_EXTRA)))


def processor_class(kind: str) -> type[Processor]:
    if kind in _EXTRA:
        return _EXTRA[kind]
    try:
        target = _REGISTRY[kind]
    except KeyError:
        raise KeyError(f"unknown processor kind {kind!r}") from None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def create(kind: str, **params) -> Processor:
    """Build a processor from its kind and constructor parameters (plan JSON names)."""
    return processor_class(kind)(**params)


def register(kind: str, cls: type[Processor]) -> None:
    """Register an extra kind (for tests and experiments; not part of the session vocabulary)."""
    _EXTRA[kind] = cls


def unregister(kind: str) -> None:
    _EXTRA.pop(kind, None)

"""The Python API (layer 5): load -> compile -> render -> report. Returns values, never prints.

Each function lives in the module of its stage and is resolved lazily, so
``mixgraph.load_session`` does not import scipy, soundfile or numba.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "load_session": "mixgraph.api.session",
    "expand_session": "mixgraph.api.session",
    "validate_files": "mixgraph.api.plan",
    "resolve_plan": "mixgraph.api.plan",
    "compile_session": "mixgraph.api.compile",
    "render_session": "mixgraph.api.render",
    "meter_file": "mixgraph.api.meter",
    "master_file": "mixgraph.api.master",
    "init_song": "mixgraph.api.init",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'mixgraph.api' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

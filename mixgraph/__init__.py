"""mixgraph: render a whole music mix and master from a YAML session file.

The public Python API mirrors the command line; names resolve lazily so that
``import mixgraph`` stays cheap::

    import mixgraph
    session = mixgraph.load_session("song.yaml")
    plan = mixgraph.compile_session(session)
    result = mixgraph.render_session("song.yaml")
    reading = mixgraph.meter_file("master.wav")
"""

from __future__ import annotations

from mixgraph.version import __version__

__all__ = [
    "__version__",
    "resolve_plan",
    "validate_files",
    "load_session",
    "expand_session",
    "compile_session",
    "render_session",
    "meter_file",
    "master_file",
]


def __getattr__(name: str):
    if name in __all__:
        from mixgraph import api

        return getattr(api, name)
    raise AttributeError(f"module 'mixgraph' has no attribute {name!r}")

"""The mixgraph version (layer 0): recorded in provenance, sidecars and locks."""

__version__ = "0.1.0"

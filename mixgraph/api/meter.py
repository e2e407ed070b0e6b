"""Meter stage of the API: measure audio files."""

from __future__ import annotations

from pathlib import Path

from mixgraph.meter import Meter, MeterResult
from mixgraph.render.reader import open_audio


def meter_file(path: str | Path, block_size: int = 65536, sos_filter=None) -> MeterResult:
    """Meter a file in blocks; ``sos_filter``: see :class:`~mixgraph.meter.Meter`."""
    with open_audio(path) as r:
        m = Meter(r.sample_rate, r.channels, sos_filter=sos_filter)
        for block in r.blocks(block_size):
            m.process(block)
        return m.result()

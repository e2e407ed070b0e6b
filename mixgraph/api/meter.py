"""Meter stage of the API: measure audio files."""

from __future__ import annotations

from pathlib import Path

from mixgraph.meter import Meter, MeterResult
from mixgraph.render.reader import open_audio


def meter_file(path: str | Path, block_size: int = 65536, sos_filter=None, true_peak_kernel=None) -> MeterResult:
    """Meter a file in blocks; ``sos_filter``, ``true_peak_kernel``: see :class:`~mixgraph.meter.Meter`."""
    with open_audio(path) as r:
        m = Meter(r.sample_rate, r.channels, sos_filter=sos_filter, true_peak_kernel=true_peak_kernel)
        for block in r.blocks(block_size):
            m.process(block)
        return m.result()

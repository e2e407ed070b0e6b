"""Meter stage of the API: measure audio files."""

from __future__ import annotations

from pathlib import Path

from mixgraph.audio.reader import open_audio
from mixgraph.meter import Meter, MeterResult


def meter_file(path: str | Path, block_size: int = 65536, **kernels) -> MeterResult:
    """Meter a file in blocks; ``kernels`` (``sos_filter``, ``true_peak_kernel``,
    ``stereo_kernel``): see :class:`~mixgraph.meter.Meter`."""
    with open_audio(path) as r:
        m = Meter(r.sample_rate, r.channels, **kernels)
        for block in r.blocks(block_size):
            m.process(block)
        return m.result()

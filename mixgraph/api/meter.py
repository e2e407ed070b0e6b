"""Meter stage of the API: measure audio files."""

from __future__ import annotations

from pathlib import Path

from mixgraph.audio.reader import open_audio
from mixgraph.meter import LoudnessMeter, MeterResult


def meter_file(path: str | Path, block_size: int = 65536, compiled: bool = False) -> MeterResult:
    """Meter a file in blocks; ``compiled``: the render's numba kernels (see
    :class:`~mixgraph.meter.LoudnessMeter`), else numpy only."""
    with open_audio(path) as r:
        m = LoudnessMeter(r.sample_rate, r.channels, compiled=compiled)
        for block in r.blocks(block_size):
            m.process(block)
        return m.result()

"""Meter stage of the API: measure audio files."""

from __future__ import annotations

from pathlib import Path

from mixgraph.audio.reader import open_audio
from mixgraph.errors import UserError
from mixgraph.meter import MAX_CHANNELS, LoudnessMeter, MeterResult


def meter_file(path: str | Path, block_size: int = 65536, compiled: bool = False,
               layout: str | None = None) -> MeterResult:
    """Meter a file in blocks; ``compiled``: the render's numba kernels (see
    :class:`~mixgraph.meter.LoudnessMeter`), else numpy only.

    Files of 1 to ``MAX_CHANNELS`` channels. ``layout`` (a name such as ``"5.1"`` or labels
    ``"L,R,C,LFE,Ls,Rs"``) overrides the WAV channel mask and the conventional order for the
    channel count (see :mod:`mixgraph.meter.layout`). A mono or stereo file at weight 1.0 gives
    a :class:`~mixgraph.meter.MeterResult` as it always has; a weighted reading (3 or more
    channels, or weights other than 1.0) a :class:`~mixgraph.meter.MultichannelResult`."""
    from mixgraph.meter.layout import resolve

    with open_audio(path, max_channels=MAX_CHANNELS) as r:
        mask = None
        if layout is None and str(r.format) in ("WAV", "WAVEX", "RF64"):
            from mixgraph.audio.channelmask import wav_channel_mask

            mask = wav_channel_mask(path)
        try:
            lay = resolve(r.channels, option=layout, mask=mask, container=str(r.format))
        except ValueError as exc:
            raise UserError(f"{path}: {exc}") from None
        m = LoudnessMeter(r.sample_rate, r.channels, compiled=compiled, layout=lay)
        for block in r.blocks(block_size):
            m.process(block)
        return m.result()

"""Loudness and level metering (layer 3): BS.1770-4, EBU Tech 3341/3342, true peak, stats."""

from mixgraph.meter.layout import MAX_CHANNELS, ChannelLayout
from mixgraph.meter.meter import LevelMeter, LoudnessMeter, TruePeak, measure_array
from mixgraph.meter.result import MeterResult, MultichannelResult

__all__ = ["MAX_CHANNELS", "ChannelLayout", "LevelMeter", "LoudnessMeter", "MeterResult", "MultichannelResult",
           "TruePeak", "measure_array"]

"""The processor contract every DSP block follows (layer 1: numpy/scipy/numba only).

Lifecycle::

    p = Compressor(threshold_db=-18, ratio=4, attack_ms=10, release_ms=100)
    p.prepare(sample_rate=48000, channels=2, max_block=4096)
    y = p.process(x)                 # x: (channels, frames) float64, any frames >= 0
    y = p.process(x, key=k)          # external sidechain key, (key_channels, frames)
    y = p.process(x, params={"threshold_db": arr})   # automation, one value per frame
    p.reset()                        # back to the state right after prepare()

Rules:

* Audio is always ``(channels, frames)`` float64 and ``process`` returns exactly as
  many frames as it got, for any block length including 0 and 1.
* All state carries across calls, so the output never depends on how a signal
  is cut into blocks (tests compare block sizes 1, 7, 64, 4096 to 1e-12).
* Constructor keyword arguments carry the same names as the YAML keys and the
  plan JSON (unit in the name: ``gain_db``, ``attack_ms``, ``freq_hz``).
* Per-sample recursions are numba kernels (``njit(cache=True, nogil=True)``) or
  scipy filters with carried state; never a Python loop over samples.
* ``latency_samples`` is the delay the processor adds (the limiter's lookahead,
  a linear-phase oversampler); the graph compiler compensates it.
* ``tail_samples`` is how long the output can ring after the input falls silent
  (None: unknown/infinite, rendered until silent).
* Automation: ``params`` maps a parameter name (as in the constructor; EQ band
  parameters as ``"bands.<index>.<name>"``) to a float64 array with one value
  per frame.  Processors whose parameters feed filter coefficients update them
  on a fixed control grid aligned to absolute sample positions (every
  ``CONTROL_PERIOD`` frames since ``prepare``/``reset``), so automation stays
  block-size independent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

#: frames between coefficient updates for automated filter parameters
CONTROL_PERIOD = 32


class Processor:
    """Base class. Subclasses set ``kind`` and implement ``_prepare``/``_process``/``_reset``."""

    kind: ClassVar[str] = ""
    #: names of parameters that may be automated (numeric constructor arguments)
    automatable: ClassVar[tuple[str, ...]] = ()
    #: True when the processor reads an external sidechain key
    uses_key: ClassVar[bool] = False
    #: channel counts the processor accepts (width needs stereo)
    accepts_channels: ClassVar[tuple[int, ...]] = (1, 2)

    def __init__(self) -> None:
        self.sample_rate: float = 0.0
        self.channels: int = 0
        self.max_block: int = 0
        self._prepared = False
        #: set by the caller to collect this processor's gain reduction (dynamics); a processor
        #: that folds it in its own kernel sets ``_gr_folded`` for the call that did
        self.gr_stats: GRStats | None = None
        self._gr_folded = False

    # -- lifecycle ---------------------------------------------------------
    def prepare(self, sample_rate: float, channels: int, max_block: int) -> None:
        if channels not in self.accepts_channels:
            raise ValueError(
                f"{self.kind} accepts {self.accepts_channels} channels, got {channels}"
            )
        self.sample_rate = float(sample_rate)
        self.channels = int(channels)
        self.max_block = int(max_block)
        self._prepare()
        self._prepared = True

    def process(
        self,
        x: np.ndarray,
        key: np.ndarray | None = None,
        params: Mapping[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        if not self._prepared:
            raise RuntimeError(f"{self.kind}: process() before prepare()")
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(f"{self.kind}: expected ({self.channels}, frames), got {x.shape}")
        if x.shape[1] == 0:
            return np.zeros((self.output_channels(self.channels), 0))
        y = self._process(x, key, params or {})
        stats = self.gr_stats
        if stats is not None:
            if self._gr_folded:
                self._gr_folded = False
            else:
                gr = self.gain_reduction_db()
                if gr is not None:
                    stats.add(gr)
        return y

    def reset(self) -> None:
        self._reset()

    # -- declarations ------------------------------------------------------
    @property
    def latency_samples(self) -> int:
        return 0

    @property
    def tail_samples(self) -> int | None:
        return 0

    def output_channels(self, input_channels: int) -> int:
        return input_channels

    def gain_reduction_db(self) -> np.ndarray | None:
        """Per-frame gain reduction (dB, >= 0) of the last ``process`` call, for dynamics."""
        return None

    # -- to implement --------------------------------------------------------
    def _prepare(self) -> None:
        pass

    def _process(self, x: np.ndarray, key: np.ndarray | None, params: Mapping[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def _reset(self) -> None:
        pass


class GRStats:
    """Max and mean gain reduction (dB) of one dynamics processor over a whole render, plus the
    maximum of each whole second, folded block by block by one compiled pass
    (``kernels.fold_gain_reduction``; the compressor folds inside its own kernel). The sum runs
    sample by sample, so the figures do not depend on the block cut."""

    def __init__(self, sample_rate: float):
        # numba: loaded by renders only
        from mixgraph.dsp.kernels.dynamics import fold_gain_reduction

        self._fold = fold_gain_reduction
        self.sr = int(sample_rate)
        self.count = 0
        self.per_second: list[float] = []
        #: the kernels' fold state: max, sum, samples into the current second, its max
        self.state = np.zeros(4)
        #: a multiband's per-band figures, low band first (the processor's own are their maximum)
        self.bands: list[GRStats] = []

    def maxima_buffer(self, frames: int) -> np.ndarray:
        """Room for the per-second maxima that ``frames`` more frames can complete."""
        return np.empty(frames // self.sr + 1)

    def folded(self, frames: int, maxima: np.ndarray, k: int) -> None:
        """Account for ``frames`` folded into ``state`` by a kernel that completed ``k`` seconds."""
        self.count += frames
        if k:
            self.per_second.extend(maxima[:k].tolist())

    def add(self, gr: np.ndarray) -> None:
        if gr is None or gr.size == 0:
            return
        gr = np.ascontiguousarray(gr, dtype=np.float64)
        maxima = self.maxima_buffer(gr.size)
        self.folded(gr.size, maxima, self._fold(gr, self.sr, self.state, maxima))

    @property
    def max(self) -> float:
        return float(self.state[0])

    @property
    def sum(self) -> float:
        return float(self.state[1])

    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else 0.0

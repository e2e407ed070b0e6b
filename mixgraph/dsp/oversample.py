"""Streaming 2x, 4x and 8x up- and down-sampling by cascaded linear-phase half-band stages.

Each stage doubles (or halves) the rate with a Kaiser-window half-band FIR: symmetric about
the base Nyquist frequency, flat within 0.001 dB to 0.907 of it (20 kHz at 44.1 kHz) and at
least 95 dB down from 1.093 of it, so everything that folds back into 0 .. 20 kHz when
decimating is rejected. The first stage carries the sharp transition; the later ones, at
higher rates, only have to reject images far away and are short. Half of every half-band's
taps are zero and its centre tap is 1/2: one polyphase branch is a pure delay (computed as
one), and the upsampler passes the original samples unchanged.

The stage lengths are chosen so that an up- and downsampler pair of the same factor delays
by a whole number of base-rate samples (``round_trip_latency``), which the processor using
them reports and aligns its dry path with.
"""

from __future__ import annotations

import numpy as np

#: (taps, Kaiser beta) of the stages base -> 2x, 2x -> 4x, 4x -> 8x; taps are 3 mod 4,
#: 1 mod 4 and 1 mod 8 so each stage's round trip is whole base-rate samples (69, 7, 3)
STAGES = ((139, 10.0), (29, 10.0), (25, 10.0))
FACTORS = (1, 2, 4, 8)


def halfband(numtaps: int, beta: float) -> np.ndarray:
    """Kaiser-window half-band low-pass (cut-off at half the Nyquist of its rate), unity DC gain:
    taps at even distances from the centre exactly zero, the centre exactly 1/2."""
    m = np.arange(numtaps) - (numtaps - 1) / 2.0
    h = 0.5 * np.sinc(0.5 * m) * np.kaiser(numtaps, beta)
    odd = (np.abs(m) % 2) == 1
    h[~odd] = 0.0
    h[m == 0] = 0.5
    h[odd] *= 0.5 / h[odd].sum()
    return h


def kaiser_lowpass(numtaps: int, cutoff: float, beta: float) -> np.ndarray:
    """Windowed-sinc low-pass, unity gain at DC; ``cutoff`` relative to Nyquist. The design of
    ``scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta))`` (equal to ~1e-18; the
    numpy Kaiser window), without importing scipy.signal on the render path."""
    m = np.arange(numtaps) - (numtaps - 1) / 2.0
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(numtaps, beta)
    return h / h.sum()


def stage_count(factor: int) -> int:
    if factor not in FACTORS:
        raise ValueError(f"oversampling factor must be one of {FACTORS}, got {factor}")
    return factor.bit_length() - 1


def round_trip_latency(factor: int) -> int:
    """Base-rate samples of delay of an Upsampler and a Downsampler of ``factor`` in series."""
    total = 0.0
    for s in range(stage_count(factor)):
        taps = STAGES[s][0]
        total += 2 * ((taps - 1) / 2) / 2 ** (s + 1)  # each filter's centre, at its rate 2^(s+1)
    assert total == int(total)
    return int(total)


class FIR:
    """Streaming FIR for (channels, n) blocks: a numba kernel with a fixed summation order."""

    def __init__(self, b: np.ndarray, channels: int):
        self.b = np.ascontiguousarray(b, dtype=np.float64)
        self.channels = channels
        self.reset()

    def reset(self) -> None:
        self.hist = np.zeros((self.channels, max(1, self.b.size - 1)))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from mixgraph.dsp.kernels.fir import fir_stream

        return fir_stream(self.b, np.ascontiguousarray(x), self.hist)


class _Tap:
    """A branch with one non-zero tap: ``coef * x[n - delay]`` with carried history."""

    def __init__(self, delay: int, coef: float, channels: int):
        self.delay = delay
        self.coef = coef
        self.channels = channels
        self.reset()

    def reset(self) -> None:
        self.hist = np.zeros((self.channels, self.delay))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[1]
        ext = np.concatenate((self.hist, x), axis=1)
        self.hist = ext[:, n:].copy()
        out = ext[:, :n]
        return out.copy() if self.coef == 1.0 else self.coef * out


def _branch(b: np.ndarray, channels: int):
    nz = np.flatnonzero(b)
    if nz.size == 1:
        return _Tap(int(nz[0]), float(b[nz[0]]), channels)
    return FIR(b, channels)


class _HalfbandUp:
    """(channels, n) -> (channels, 2n): y[2n + k] = sum_j 2 h[k + 2j] x[n - j]."""

    def __init__(self, h: np.ndarray, channels: int):
        self.branches = [_branch(2.0 * h[k::2], channels) for k in range(2)]

    def reset(self) -> None:
        for b in self.branches:
            b.reset()

    def process(self, x: np.ndarray) -> np.ndarray:
        y = np.empty((x.shape[0], 2 * x.shape[1]))
        y[:, 0::2] = self.branches[0](x)
        y[:, 1::2] = self.branches[1](x)
        return y


class _HalfbandDown:
    """(channels, 2n) -> (channels, n): y[n] = sum_j h[j] x[2n - j] (polyphase)."""

    def __init__(self, h: np.ndarray, channels: int):
        self.channels = channels
        self.branches = [_branch(h[k::2], channels) for k in range(2)]
        self.reset()

    def reset(self) -> None:
        for b in self.branches:
            b.reset()
        self.prev = np.zeros((self.channels, 1))  # the last odd input, for branch 1

    def process(self, x: np.ndarray) -> np.ndarray:
        even = x[:, 0::2]
        odd = np.concatenate((self.prev, x[:, 1::2]), axis=1)  # x[2n - 1]
        self.prev = odd[:, -1:].copy()
        return self.branches[0](np.ascontiguousarray(even)) + self.branches[1](np.ascontiguousarray(odd[:, :-1]))


class Upsampler:
    """(channels, n) at fs -> (channels, n*factor) at factor*fs, by half-band stages."""

    def __init__(self, factor: int, channels: int):
        self.factor = factor
        self.stages = [_HalfbandUp(halfband(*STAGES[s]), channels) for s in range(stage_count(factor))]

    def reset(self) -> None:
        for s in self.stages:
            s.reset()

    def process(self, x: np.ndarray) -> np.ndarray:
        for s in self.stages:
            x = s.process(x)
        return x


class Downsampler:
    """(channels, n*factor) -> (channels, n): the stages of ``Upsampler`` in reverse."""

    def __init__(self, factor: int, channels: int):
        self.factor = factor
        self.stages = [_HalfbandDown(halfband(*STAGES[s]), channels) for s in range(stage_count(factor))]

    def reset(self) -> None:
        for s in self.stages:
            s.reset()

    def process(self, x: np.ndarray) -> np.ndarray:
        for s in reversed(self.stages):
            x = s.process(x)
        return x

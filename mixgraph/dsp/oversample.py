"""Streaming polyphase up- and down-sampling with linear-phase FIR filters.

Design: a Kaiser-window low-pass (windowed sinc, beta 8) of
``2*F*D + 1`` taps at the high rate, so each filter delays by exactly ``D``
base-rate samples (its group delay is ``F*D`` high-rate samples).  Cut-off at
0.45 of the base sample rate (21.6 kHz at 48 kHz) by default; true-peak
detection uses a Nyquist filter (cut-off 0.5 fs) so the original samples pass.
"""

from __future__ import annotations

import numpy as np

#: base-rate samples of delay per filter
DELAY = 8


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


def design(factor: int, delay: int = DELAY, cutoff: float = 0.9) -> np.ndarray:
    """``cutoff`` is relative to the base Nyquist; 1.0 gives a Nyquist filter whose phase-0
    branch is a pure delay (the original samples pass unchanged: true-peak detection)."""
    taps = 2 * factor * delay + 1
    return kaiser_lowpass(taps, cutoff / factor, 8.0)


def kaiser_lowpass(numtaps: int, cutoff: float, beta: float) -> np.ndarray:
    """Windowed-sinc low-pass, unity gain at DC; ``cutoff`` relative to Nyquist. The design of
    ``scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta))`` (equal to ~1e-18; the
    numpy Kaiser window), without importing scipy.signal on the render path."""
    m = np.arange(numtaps) - (numtaps - 1) / 2.0
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(numtaps, beta)
    return h / h.sum()


class _Polyphase:
    """The polyphase branches of one linear-phase design: branch k holds taps k, k+F, k+2F, ..."""

    def __init__(self, factor: int, channels: int, h: np.ndarray, delay: int):
        self.factor = factor
        self.channels = channels
        self.branches = [FIR(h[k::factor], channels) for k in range(factor)]
        self.latency_samples = delay
        self.reset()

    def reset(self) -> None:
        for b in self.branches:
            b.reset()


class Upsampler(_Polyphase):
    """(channels, n) at fs -> (channels, n*factor) at factor*fs, delayed by DELAY base samples.

    Branch k produces the outputs m = factor*n + k."""

    def __init__(self, factor: int, channels: int, delay: int = DELAY, cutoff: float = 0.9):
        super().__init__(factor, channels, design(factor, delay, cutoff) * factor, delay)

    def process(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[1]
        y = np.empty((x.shape[0], n * self.factor))
        for k, b in enumerate(self.branches):
            y[:, k :: self.factor] = b(x)
        return y


class Downsampler(_Polyphase):
    """(channels, n*factor) -> (channels, n): low-pass at the high rate, keep every factor-th.

    Polyphase decimation: y[n] = sum_k sum_j h[k + F*j] * x[F*n - k - F*j]."""

    def __init__(self, factor: int, channels: int, delay: int = DELAY):
        super().__init__(factor, channels, design(factor, delay), delay)

    def reset(self) -> None:
        super().reset()
        self.prev = np.zeros((self.channels, self.factor))  # last high-rate frame, for phases k>0

    def process(self, x: np.ndarray) -> np.ndarray:
        f = self.factor
        n = x.shape[1] // f
        frames = x.reshape(x.shape[0], n, f)  # frames[:, n, r] = x[F*n + r]
        y = np.zeros((x.shape[0], n))
        # phase k uses samples x[F*n - k]: r = 0 for k = 0, else r = F - k of the previous frame
        for k, b in enumerate(self.branches):
            if k == 0:
                seq = frames[:, :, 0]
            else:
                seq = np.concatenate((self.prev[:, f - k : f - k + 1], frames[:, :-1, f - k]), axis=1) if n else frames[:, :0, 0]
            out = b(seq)
            y += out
        if n:
            self.prev = frames[:, -1, :].copy()
        return y

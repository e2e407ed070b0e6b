"""Partitioned convolution (dsp/convolution.py) and the convolution reverb: equal to scipy's
fftconvolve within -250 dB for IRs of any length (shorter than the head FIR, on every partition
boundary, 10 s), the same bits for any block cut, and reset() back to the initial state."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import fftconvolve

from mixgraph.dsp.convolution import SIZES, Convolver
from mixgraph.dsp.reverb import Reverb

SR = 48000
BLOCKS = (1, 7, 64, 4096, 65536)


def decaying_ir(rng, channels, length):
    return rng.standard_normal((channels, length)) * np.exp(-np.arange(length) / max(1.0, length / 6))


def in_blocks(proc, x, block):
    return np.concatenate([proc.process(x[:, i : i + block]) for i in range(0, x.shape[1], block)], axis=1)


def reference(x, ir, predelay=0):
    """The reverb's wet output by scipy: each output channel is the input channel (a mono input
    to both) convolved with the IR channel (a mono IR for both), delayed by ``predelay``."""
    xs = x if x.shape[0] == 2 else np.vstack((x[0], x[0]))
    irs = ir if ir.shape[0] == 2 else np.vstack((ir[0], ir[0]))
    irs = np.concatenate((np.zeros((2, predelay)), irs), axis=1)
    return fftconvolve(xs, irs, axes=-1)[:, : x.shape[1]]


def residual_db(y, ref):
    """Peak error relative to the peak of the reference, dB (-400 for no error at all)."""
    err = np.max(np.abs(y - ref))
    return 20 * np.log10(err / np.max(np.abs(ref))) if err else -400.0


# lengths around every boundary of the default layout: head FIR only, the first taps of each
# level, a level that ends exactly on the next one's start
BOUNDARY_LENGTHS = sorted({1, 100} | {s + d for s in SIZES for d in (-1, 0, 1)} | {2 * SIZES[-1] + 1})


@pytest.mark.parametrize("length", BOUNDARY_LENGTHS)
def test_equals_fftconvolve_at_partition_boundaries(length):
    rng = np.random.default_rng(length)
    ir = decaying_ir(rng, 2, length)
    x = rng.standard_normal((2, length + 2 * SIZES[-1] + 300)) * 0.3
    r = Reverb(ir=ir, mix=1.0)
    r.prepare(SR, 2, 4096)
    assert residual_db(in_blocks(r, x, 4096), reference(x, ir)) < -250


@pytest.mark.parametrize("ir_channels,in_channels", [(1, 1), (1, 2), (2, 1), (2, 2)])
def test_ten_second_ir_equals_fftconvolve(ir_channels, in_channels):
    # long enough that every partition of the last level reaches the output
    rng = np.random.default_rng(10)
    ir = decaying_ir(rng, ir_channels, 10 * SR)
    x = rng.standard_normal((in_channels, 11 * SR)) * 0.3
    r = Reverb(ir=ir, mix=1.0)
    r.prepare(SR, in_channels, 65536)
    y = in_blocks(r, x, 65536)
    assert y.shape == (2, x.shape[1])
    assert residual_db(y, reference(x, ir)) < -250


@pytest.mark.parametrize("ir_channels,in_channels", [(1, 1), (1, 2), (2, 1), (2, 2)])
def test_short_ir_with_predelay_and_mix(ir_channels, in_channels):
    rng = np.random.default_rng(3)
    ir = decaying_ir(rng, ir_channels, 3000)
    x = rng.standard_normal((in_channels, 20000)) * 0.3
    r = Reverb(ir=ir, mix=0.3, predelay_ms=12.5)
    r.prepare(SR, in_channels, 1000)
    dry = x if in_channels == 2 else np.vstack((x[0], x[0]))
    want = 0.7 * dry + 0.3 * reference(x, ir, predelay=600)
    assert residual_db(in_blocks(r, x, 1000), want) < -250


def test_same_bits_for_any_block_size_default_layout():
    # the IR reaches the last level, and the input runs into the output of its first chunk
    rng = np.random.default_rng(7)
    ir = decaying_ir(rng, 2, SIZES[-1] + 5000)
    x = rng.standard_normal((2, SIZES[-1] + 7000)) * 0.3
    outs = []
    for block in BLOCKS:
        r = Reverb(ir=ir, mix=1.0)
        r.prepare(SR, 2, block)
        outs.append(in_blocks(r, x, block))
    for y in outs[1:]:
        assert np.array_equal(y, outs[0])
    assert residual_db(outs[0], reference(x, ir)) < -250


@pytest.mark.parametrize("ir_channels,in_channels", [(1, 2), (2, 1), (2, 2)])
def test_same_bits_for_any_block_size_many_chunks(ir_channels, in_channels):
    # a small layout: many chunks of every level, each delay line wrapping around many times
    rng = np.random.default_rng(8)
    sizes = (4, 16, 64)
    ir = decaying_ir(rng, ir_channels, 1000)
    x = rng.standard_normal((in_channels, 9000))
    outs = [in_blocks(Convolver(ir, in_channels, sizes), x, block) for block in BLOCKS]
    for y in outs[1:]:
        assert np.array_equal(y, outs[0])
    ref = reference(x, ir)[: max(ir_channels, in_channels)]
    assert residual_db(outs[0], ref) < -250


def test_uneven_block_cuts_give_the_same_bits():
    rng = np.random.default_rng(9)
    ir = decaying_ir(rng, 2, 20000)
    x = rng.standard_normal((2, 50000))
    whole = Convolver(ir, 2).process(x)
    c = Convolver(ir, 2)
    cuts = np.concatenate(([0], np.sort(rng.choice(np.arange(1, 50000), 40, replace=False)), [50000]))
    pieces = np.concatenate([c.process(x[:, a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)], axis=1)
    assert np.array_equal(pieces, whole)


def test_reset_restores_the_initial_state():
    rng = np.random.default_rng(11)
    ir = decaying_ir(rng, 2, SIZES[-1] + 3000)
    first = rng.standard_normal((2, SIZES[-1] + 4000))
    second = rng.standard_normal((2, 2 * SIZES[-1] + 500))
    r = Reverb(ir=ir, mix=0.5, predelay_ms=3.0)
    r.prepare(SR, 2, 4096)
    in_blocks(r, first, 4096)  # every level holds state now, mid-chunk
    r.reset()
    fresh = Reverb(ir=ir, mix=0.5, predelay_ms=3.0)
    fresh.prepare(SR, 2, 4096)
    assert np.array_equal(in_blocks(r, second, 4096), in_blocks(fresh, second, 4096))


def test_a_unit_impulse_returns_the_ir_and_nothing_before_it():
    # zero latency: the impulse response is the IR itself from sample 0, to the last tap
    rng = np.random.default_rng(12)
    ir = decaying_ir(rng, 2, 5000)
    x = np.zeros((1, 7000))
    x[0, 0] = 1.0
    y = in_blocks(Convolver(ir, 1), x, 333)
    assert np.max(np.abs(y[:, :5000] - ir)) < 1e-15
    assert np.max(np.abs(y[:, 5000:])) < 1e-15


def test_empty_ir_gives_silence_and_sizes_are_checked():
    y = Convolver(np.zeros((1, 0)), 2).process(np.ones((2, 10)))
    assert y.shape == (2, 10) and not y.any()
    for sizes in ((4, 6), (4, 4), (0, 4), ()):
        with pytest.raises(ValueError, match="multiple"):
            Convolver(np.ones((1, 10)), 1, sizes=sizes)

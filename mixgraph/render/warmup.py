"""The first render after install compiles every kernel it uses (numba, cached afterwards), one
after another: numba compiles under one lock, so a second thread of the render cannot help, and
the second core mostly waits. While the render compiles the kernels of its first nodes, a helper
*process* compiles, into the same cache, the ones it reaches last: the meters' true peak and
gating blocks (after each node's own processing), then the master stage's (once the whole mix has
run). The render loads each one the helper has finished by the time it needs it, and compiles
any other itself.

Only when their cache is cold (a warm render starts no process), only from the command line (the
process that owns the run), and harmless whatever happens: a helper that fails, is slow or is
stopped leaves the render to compile a kernel itself, and numba writes its cache files whole
(a temporary file renamed into place), so two processes compiling one kernel is only wasted work.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

#: how long a finished render waits for a helper still compiling before stopping it, seconds (by
#: then the render has compiled and cached every kernel it used itself)
WAIT_S = 0.5


def _late_calls():
    """(kernel, arguments) for each kernel the helper compiles, in the order the render reaches
    them, with arguments of the types a render passes (C-contiguous float64 arrays, Python ints
    and floats; the writer's codes as int32 for 24-bit and int16 for 16-bit output): a kernel is
    cached per signature, so these must be the render's own (the tests check that a render then
    compiles none of them)."""
    from mixgraph.dsp.dither import _encode
    from mixgraph.dsp.kernels import (
        fold_gain_reduction,
        limiter_gain,
        oversampled_peak,
        true_peak_hot,
        window_means,
    )

    x = np.zeros((2, 64))
    return [
        (true_peak_hot, (np.zeros((17, 4)), np.zeros((2, 80)), 0.5)),
        (window_means, (np.zeros(100), 0, 10, 40, np.empty(20))),
        (oversampled_peak, (np.zeros((8, 17)), x, np.zeros((2, 16)), 0.5, np.empty(80), np.zeros(64))),
        (limiter_gain, (np.ones(70), 7, 0.99, np.ones(1), np.ones(6), np.array([6.0, 0.0]), np.empty(64))),
        (fold_gain_reduction, (np.zeros(64), 48000, np.zeros(4), np.empty(64))),
        (_encode, (x, 2.0 ** 23, np.zeros((64, 2, 2)), 1, 24, 8, np.empty((64, 2), dtype=np.int32),
                   np.empty((2, 64)))),
        (_encode, (x, 2.0 ** 15, np.zeros((64, 2, 2)), 1, 16, 0, np.empty((64, 2), dtype=np.int16),
                   np.empty((2, 64)))),
    ]


def compile_late() -> None:
    """Compile (or load) the helper's kernels: what the helper process runs."""
    for kernel, args in _late_calls():
        kernel(*args)


def late_kernels_cold() -> bool:
    """Whether any of the helper's kernels has no cache entry yet (numba's own index of the cache file,
    which it ignores when the source has changed since). False when that cannot be told."""
    try:
        for kernel, _ in _late_calls():
            if not kernel._cache._cache_file._load_index():  # numba's FunctionCache internals
                return True
        return False
    except Exception:
        return False


def start() -> subprocess.Popen | None:
    """Start the helper when its kernels are not cached; None otherwise."""
    if not late_kernels_cold():
        return None
    try:
        return subprocess.Popen([sys.executable, "-c", "from mixgraph.render.warmup import compile_late; "
                                 "compile_late()"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    except OSError:
        return None


def finish(helper: subprocess.Popen | None) -> None:
    """Wait a little for a helper still compiling, then stop it."""
    if helper is None:
        return
    try:
        helper.wait(WAIT_S)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()

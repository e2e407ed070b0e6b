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
    from mixgraph.dsp.dither import _encode16, _encode32
    from mixgraph.dsp.kernels.dynamics import fold_gain_reduction
    from mixgraph.dsp.kernels.limiter import limiter_gain
    from mixgraph.dsp.kernels.truepeak import scan
    from mixgraph.meter.kernels import window_means

    x = np.zeros((2, 64))
    return [
        (scan, (np.zeros(64), np.zeros((3, 8)), np.zeros((2, 67)), x, 0.5, np.empty(131), np.empty(68),
                np.zeros(64))),
        (window_means, (np.zeros(100), 0, 10, 40, np.empty(20))),
        (limiter_gain, (np.ones(70), 7, 0.99, np.ones(1), np.ones(6), np.array([6.0, 0.0]), np.empty(64))),
        (fold_gain_reduction, (np.zeros(64), 48000, np.zeros(4), np.empty(64))),
        (_encode32, (x, 2.0 ** 23, np.zeros((64, 2, 2)), 1, 24, 8, np.empty((64, 2), dtype=np.int32),
                   np.empty((2, 64)))),
        (_encode16, (x, 2.0 ** 15, np.zeros((64, 2, 2)), 1, 16, 0, np.empty((64, 2), dtype=np.int16),
                   np.empty((2, 64)))),
    ]


def compile_late(stop=None) -> None:
    """Compile (or load) the helper's kernels: what the helper process runs. ``stop`` (an Event):
    leave off between two kernels once it is set."""
    for kernel, args in _late_calls():
        if stop is not None and stop.is_set():
            return
        kernel(*args)


def late_kernels_cold() -> bool:
    """Whether any of the helper's kernels has no cache entry yet (numba's own index of the cache
    file, which it ignores when the source has changed since). False when that cannot be told."""
    try:
        for kernel, _ in _late_calls():
            if not kernel._cache._cache_file._load_index():  # numba's FunctionCache internals
                return True
        return False
    except Exception:
        return False


def _package_init() -> str:
    """This mixgraph's ``__init__.py`` (this module's package, without importing the package root)."""
    import os

    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "__init__.py")


def helper_main(expected_package: str) -> int:
    """The helper process: compile into the cache of the same mixgraph the render imported (not
    another copy the child's own import path might find first), and stop between two kernels as
    soon as its stdin closes: the render closed it, or ended without closing it."""
    import os
    import threading

    if os.path.realpath(_package_init()) != os.path.realpath(expected_package):
        return 3
    stop = threading.Event()

    def watch() -> None:
        try:
            sys.stdin.buffer.read()
        except Exception:
            pass
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    compile_late(stop)
    return 0


#: set by the command line, which owns its process (the library starts no process)
_enabled = False
_helper: subprocess.Popen | None = None


def enable() -> None:
    """Let this process's render start a helper (the command line calls it)."""
    global _enabled
    _enabled = True


def maybe_start() -> None:
    """At the start of a render's mix stage (the session has loaded and compiled): start the
    helper if enabled, not started yet, and its kernels are not cached. Never raises."""
    global _helper
    if not _enabled or _helper is not None:
        return
    try:
        _helper = start()
    except Exception:
        _helper = None


def start() -> subprocess.Popen | None:
    """Start the helper when its kernels are not cached; None otherwise (also in a frozen
    application, where sys.executable is the application itself, or without an interpreter)."""
    import os

    if getattr(sys, "frozen", False) or not sys.executable or not late_kernels_cold():
        return None
    env = dict(os.environ)
    # the render's own import path, and the folder holding its package as the working directory
    # (first on a "-c" child's path): the child imports the same mixgraph, so the same cache
    env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) if p else os.getcwd() for p in sys.path)
    if env.get("NUMBA_CACHE_DIR"):
        env["NUMBA_CACHE_DIR"] = os.path.abspath(env["NUMBA_CACHE_DIR"])
    package = os.path.dirname(_package_init())
    code = "import sys; from mixgraph.render.warmup import helper_main; sys.exit(helper_main(sys.argv[1]))"
    try:
        return subprocess.Popen([sys.executable, "-c", code, _package_init()], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                cwd=os.path.dirname(package),
                                start_new_session=True)  # the terminal's Ctrl-C goes to the render only
    except (OSError, ValueError):
        return None


def finish(helper: subprocess.Popen | None = None) -> None:
    """Tell the helper to stop (its stdin closes), give it a moment to finish the kernel it is
    compiling, then kill it. ``helper`` None: the one maybe_start started, if any, and no other
    is started until enable() again. Never raises, not even on Ctrl-C while it waits (the
    render's outputs are written by then)."""
    global _helper, _enabled
    if helper is None:
        helper, _helper, _enabled = _helper, None, False
    if helper is None:
        return
    try:
        try:
            if helper.stdin is not None:
                helper.stdin.close()
        except OSError:
            pass
        helper.wait(WAIT_S)
    except BaseException:  # TimeoutExpired, or an interrupt while waiting
        try:
            helper.kill()
            helper.wait()
        except BaseException:
            pass

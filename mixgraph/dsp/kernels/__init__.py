"""Per-sample recursions of the processors, compiled with numba, one module per domain (fma, iir,
fir, dynamics, limiter, delay; the meter's are in mixgraph.meter.kernels, PCM decoding in
mixgraph.audio.pcm). Importers name the domain module: this package re-exports nothing.

Every kernel takes its state as a small array and updates it in place, so the recursion carries
across blocks exactly (block-size invariant). numba keys a kernel's cache on its own source file
only: after editing fma.py, clear the cache (``__pycache__`` or NUMBA_CACHE_DIR) so the kernels
that inline it in the other modules compile again.
"""

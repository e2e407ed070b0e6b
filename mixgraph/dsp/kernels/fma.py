"""The fused multiply-add the recursions use: the host check (FUSED), LLVM's llvm.fma as a numba
intrinsic, a plain multiply-add where the CPU has no FMA, and a Python one for NUMBA_DISABLE_JIT.
"""

from __future__ import annotations

from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic


def _host_fuses() -> bool:
    """Whether this CPU has a fused multiply-add instruction: x86 since Haswell/Piledriver (not
    every Pentium/Celeron/Atom, not Rosetta 2), and the base instruction set of 64-bit ARM, POWER,
    z and RISC-V with doubles. Elsewhere, or when it cannot be told, no."""
    import platform

    machine = platform.machine().lower()
    if machine in ("aarch64", "arm64", "ppc64le", "ppc64", "s390x", "riscv64"):
        return True
    if machine not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return False
    try:
        from llvmlite import binding

        return bool(binding.get_host_cpu_features().get("fma"))
    except Exception:
        return False


#: whether the recursions fuse their multiply-adds (``fma``): on every CPU that has the
#: instruction, so the bits are the same on all of them; a CPU without it multiplies and adds
#: (glibc's exact software fma would make a render about 16x slower there), and its last bits
#: differ from those of the others
FUSED = _host_fuses()


def _fma_python(a: float, b: float, c: float) -> float:
    """fma for NUMBA_DISABLE_JIT (debugging): exact, as the compiled one."""
    import math

    if not FUSED:
        return a * b + c
    if hasattr(math, "fma"):  # Python 3.13+
        return math.fma(a, b, c)
    from fractions import Fraction

    return float(Fraction(a) * Fraction(b) + Fraction(c))


@intrinsic
def _fma_llvm(typingctx, a, b, c):
    """a * b + c rounded once (IEEE 754 fusedMultiplyAdd, LLVM's llvm.fma): one instruction on a
    CPU with FMA. Scalars only (an array would otherwise be taken as its first element)."""
    scalars = (types.Float, types.Integer, types.Boolean)
    if not all(isinstance(t, scalars) for t in (a, b, c)):
        return None
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(d, [d, d, d]), "llvm.fma.f64")
        return builder.call(fn, args)

    return sig, codegen


@njit(cache=True, nogil=True, inline="always")
def _mul_add(a: float, b: float, c: float) -> float:
    return a * b + c


if config.DISABLE_JIT:
    fma = _fma_python
elif FUSED:
    fma = _fma_llvm
else:
    fma = _mul_add
fma.__doc__ = """a * b + c, for the recursions where each sample waits on a multiply and an add (the
smoothers, the biquads' state, the limiter's release): rounded once where the CPU has FMA
(FUSED), a shorter chain per sample. Explicit, not numba's ``fastmath`` contraction, which fuses
only where the compiled-for CPU has FMA, and then wherever the compiler likes: with it the same
render gave other bits for numba's generic target than for the host."""

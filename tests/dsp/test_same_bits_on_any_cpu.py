"""The compiled recursions give the same bits whatever CPU numba compiles them for: they fuse
their multiply-adds explicitly (IEEE fma, one rounding) on every host with the instruction, never
by the compiler's choice for the target. Checked by compiling the kernels for numba's generic
target (no FMA instruction: the fused operation is then glibc's fma, here forced to its software
path) in a second process. (numpy's own SIMD log/exp, which the compressor's gain uses, can still
differ in the last bit between AVX-512 and AVX2 machines: a recall is bit for bit on the same
kind of machine.)"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from mixgraph.dsp.kernels.fma import FUSED

CODE = r"""
import hashlib, numpy as np
from mixgraph.dsp.kernels.dynamics import channel_levels, curve_smooth, smooth_branching
from mixgraph.dsp.kernels.iir import sos_stream
from mixgraph.dsp.kernels.limiter import limiter_gain
from mixgraph.meter.kernels import kweighted_stereo
from mixgraph.dsp.biquad import highpass, peaking, highshelf
from mixgraph.meter.meter import k_weighting_sos
rng = np.random.default_rng(11)
x = rng.standard_normal((2, 20000)) * np.linspace(0.01, 1.0, 20000)
h = hashlib.sha256()
sos = np.stack([highpass(80.0, 0.7071, 48000), peaking(2500.0, 3.0, 1.0, 48000), highshelf(8000.0, 2.0, 0.7071, 48000)])
h.update(sos_stream(sos, x, np.zeros((3, 2, 2))).tobytes())
h.update(sos_stream(sos, x[:1].copy(), np.zeros((3, 1, 2))).tobytes())
out, mono, sums = np.zeros(50), np.zeros(50), np.zeros(5)
kweighted_stereo(x, k_weighting_sos(48000), np.zeros((2, 2, 2)), np.zeros(3), 480, out, mono, sums)
h.update(out.tobytes() + mono.tobytes() + sums.tobytes())
lev = np.empty((2, 20000))
channel_levels(x, True, 0.99, np.zeros(2), lev)
h.update(lev.tobytes())
channel_levels(x, False, 0.99, np.zeros(2), lev)
lev = np.log10(lev)
gr, gl, fold, maxima = np.empty(20000), np.empty(20000), np.zeros(4), np.empty(20000)
curve_smooth(lev, 20.0, -18.0, 4.0, 6.0, 0.998, 0.9998, 1.5, np.zeros(2), gr, gl, 4800, fold, maxima)
h.update(gl.tobytes() + gr.tobytes() + fold.tobytes())
h.update(smooth_branching(np.abs(x[0]) * 20.0, 0.99, 0.999, np.zeros(1)).tobytes())
t = np.minimum(1.0, 0.3 / np.maximum(np.abs(x[0]), 1e-12))
g = np.empty(20000 - 241)
limiter_gain(t, 242, 0.9995, np.ones(1), np.ones(241), np.array([241.0, 0.0]), g)
h.update(g.tobytes())
print(h.hexdigest())
"""


def digest(env_extra, tmp):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp), **env_extra}
    p = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout.strip()


@pytest.mark.skipif(not FUSED, reason="this CPU has no FMA instruction: its recursions multiply and add")
def test_recursions_give_the_same_bits_for_the_host_cpu_and_a_generic_one(tmp_path):
    host = digest({}, tmp_path / "host")
    generic = digest({"NUMBA_CPU_NAME": "generic", "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-FMA,-FMA4,-AVX2"},
                     tmp_path / "generic")
    assert len(host) == len(hashlib.sha256().hexdigest())
    assert host == generic

"""The render commands load numba's numpy support without its scipy.linalg BLAS probe."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import numpy as np
from mixgraph.cli import skip_numba_blas_probe
assert skip_numba_blas_probe()
assert not skip_numba_blas_probe()  # once is enough
from mixgraph.dsp.kernels import sos_stream
y = sos_stream(np.array([[0.5, 0.0, 0.0, 1.0, 0.0, 0.0]]), np.ones((2, 3)), np.zeros((1, 2, 2)))
assert (y == 0.5).all()
print("scipy.linalg" in sys.modules)
import scipy.linalg  # still importable afterwards
print(float(scipy.linalg.det(np.eye(2))))
"""


def test_a_kernel_runs_without_scipy_linalg_and_scipy_linalg_still_imports():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "1.0"]

"""What the command line does for its own process: numba's numpy support without its scipy.linalg
BLAS probe (render, master), a garbage collector tuned for a short process (every command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart" / "session.yaml"

PROBE = """
import sys
import numpy as np
from mixgraph.cli import skip_numba_blas_probe
assert skip_numba_blas_probe()
assert not skip_numba_blas_probe()  # once is enough
from mixgraph.dsp.kernels.iir import sos_stream
y = sos_stream(np.array([[0.5, 0.0, 0.0, 1.0, 0.0, 0.0]]), np.ones((2, 3)), np.zeros((1, 2, 2)))
assert (y == 0.5).all()
print("scipy.linalg" in sys.modules)
import scipy.linalg  # still importable afterwards
print(float(scipy.linalg.det(np.eye(2))))
"""


def test_a_kernel_runs_without_scipy_linalg_and_scipy_linalg_still_imports():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "1.0"]


def test_the_entry_point_returns_mains_code_and_freezes_what_is_left(tmp_path):
    code = ("import gc, sys\nfrom mixgraph.cli import entry\n"
            "sys.argv = ['mixgraph', 'validate', sys.argv[1]]\n"
            "rc = entry()\nprint(rc, gc.get_freeze_count() > 0, gc.get_threshold()[0])\n")
    good = subprocess.run([sys.executable, "-c", code, str(QUICKSTART)],
                          capture_output=True, text=True, check=True)
    assert good.stdout.split()[-3:] == ["0", "True", "100000"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("mixgraph: 1\ntracks: [\n")
    broken = subprocess.run([sys.executable, "-c", code, str(bad)], capture_output=True, text=True, check=True)
    assert broken.stdout.split()[-3:] == ["2", "True", "100000"]  # an invalid session: main's code 2

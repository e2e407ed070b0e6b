"""The render commands keep block-sized buffers in malloc's heap (glibc): fewer page faults."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import numpy as np
if sys.argv[1] == "tuned":
    from mixgraph.cli import keep_block_buffers
    assert keep_block_buffers()
x = np.ones((2, 32768))
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(300):
    ys = [x * 2.0 for _ in range(4)]  # a node's block-sized temporaries, freed together
    del ys
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_block_temporaries_stop_faulting_once_the_allocator_keeps_them():
    def faults(mode):
        out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
        return int(out.stdout)

    plain, tuned = faults("plain"), faults("tuned")
    # glibc gives the freed 2 MiB back to the system (its trim threshold follows its mmap
    # threshold, 1 MiB after a 512 KiB block) and faults it in again on the next round:
    # 300 rounds x 512 pages
    if plain < 300 * 100:
        pytest.skip(f"this allocator already keeps freed blocks untuned ({plain} faults): nothing to show")
    assert tuned < 2000

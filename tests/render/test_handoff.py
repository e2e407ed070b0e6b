"""The engine's ordered hand-off to a background thread."""

from __future__ import annotations

import threading
import time

import pytest

from mixgraph.render.engine import Handoff


@pytest.mark.parametrize("threaded", [True, False])
def test_calls_run_in_order_with_a_bounded_queue(threaded):
    seen, depths = [], []

    def slow(i):
        time.sleep(0.002 if i % 3 == 0 else 0.0)
        seen.append((i, threading.current_thread() is threading.main_thread()))

    with Handoff(slow, "t", threaded=threaded, depth=2) as h:
        for i in range(20):
            h.submit(i)
            depths.append(len(h.pending))
    assert [i for i, _ in seen] == list(range(20))
    assert all(main is (not threaded) for _, main in seen)  # the caller's thread only without a pool
    assert max(depths) <= 2
    assert not h.pending


def test_an_error_in_the_thread_reaches_the_caller():
    def fail(i):
        if i == 3:
            raise OSError("disk full")

    h = Handoff(fail, "t", depth=2)
    with pytest.raises(OSError, match="disk full"):
        for i in range(10):
            h.submit(i)
        h.close()
    h.abort()

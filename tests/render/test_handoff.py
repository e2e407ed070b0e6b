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


def test_run_parallel_runs_every_task_once_in_two_threads_and_keeps_the_order():
    from concurrent.futures import ThreadPoolExecutor

    from mixgraph.render.engine import run_parallel

    ran, threads = [], set()

    def task(i):
        def f():
            time.sleep(0.001 * (i % 4))
            ran.append(i)
            threads.add(threading.current_thread() is threading.main_thread())
            return i * i
        return f

    with ThreadPoolExecutor(1) as pool:
        assert run_parallel(pool, 1, [task(i) for i in range(30)]) == [i * i for i in range(30)]
        assert sorted(ran) == list(range(30))
        assert threads == {True, False}  # the caller worked too
        assert run_parallel(pool, 1, [task(7)]) == [49]  # one task: no helper needed


@pytest.mark.parametrize("bad", [0, 5])  # the caller's first task, or one a helper may take
def test_run_parallel_raises_the_first_error_after_every_thread_stopped(bad):
    from concurrent.futures import ThreadPoolExecutor

    from mixgraph.render.engine import run_parallel

    running, started, failed_at = [], [], []

    def task(i):
        def f():
            started.append((i, time.perf_counter()))
            running.append(i)
            time.sleep(0.003)
            if i == bad:
                failed_at.append(time.perf_counter())
                raise ValueError(f"task {i}")
            running.remove(i)
        return f

    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(ValueError, match=f"task {bad}"):
            run_parallel(pool, 1, [task(i) for i in range(40)])
        assert running == [bad]  # nothing still running when the error arrived
        # after the error no thread takes another task (the other thread may have taken one
        # just before it learnt of the error): most of the 40 never ran
        later = [i for i, t in started if t > failed_at[0]]
        assert len(later) <= 1
        assert len(started) <= bad + 4


def test_run_parallel_stops_the_helpers_when_the_caller_is_interrupted_between_tasks():
    from concurrent.futures import ThreadPoolExecutor

    from mixgraph.render.engine import run_parallel

    started = []
    main_calls = [0]

    class Tasks(list):
        # Ctrl-C lands in the calling thread outside any task: at its fifth look at the length
        # (two before draining, then one per task taken)
        def __len__(self):
            if threading.current_thread() is threading.main_thread():
                main_calls[0] += 1
                if main_calls[0] == 5:
                    raise KeyboardInterrupt
            return super().__len__()

    def task(i):
        def f():
            started.append(i)
            time.sleep(0.003)
        return f

    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(KeyboardInterrupt):
            run_parallel(pool, 1, Tasks(task(i) for i in range(60)))
        n = len(started)
        time.sleep(0.02)
        assert len(started) == n <= 8  # the helper stopped too (it would run all 60), nothing runs on

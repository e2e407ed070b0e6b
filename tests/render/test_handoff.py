"""The engine's ordered hand-off to a background thread.

Every interleaving these tests need is made with events and a barrier, not sleeps: a task waits
until the other thread has reached the point the test is about."""

from __future__ import annotations

import threading

import pytest

from mixgraph.render.engine import Handoff

#: a safety net only: a wait that takes this long means a deadlock (the test then fails)
NEVER = 60


@pytest.mark.parametrize("threaded", [True, False])
def test_calls_run_in_order_with_a_bounded_queue(threaded):
    seen, depths = [], []
    gates = [threading.Event() for _ in range(20)]
    if not threaded:  # the calls run at once, in the caller's thread
        for g in gates:
            g.set()

    def work(i):
        assert gates[i].wait(NEVER)
        seen.append((i, threading.current_thread() is threading.main_thread()))

    h = Handoff(work, "t", threaded=threaded, depth=2)

    class Watched(list):
        # a call may run only once the queue is full: the background thread is always the
        # slower one, so the caller meets the bound at every submit from the third on
        submitted = 0

        def append(self, fut):
            super().append(fut)
            Watched.submitted += 1
            depths.append(len(self))
            if len(self) == h.depth:
                gates[Watched.submitted - len(self)].set()  # the oldest, which the caller waits for next

    h.pending = Watched()
    with h:
        for i in range(20):
            h.submit(i)
            depths.append(len(h.pending))
        for g in gates:
            g.set()
    assert [i for i, _ in seen] == list(range(20))
    assert all(main is (not threaded) for _, main in seen)  # the caller's thread only without a pool
    assert max(depths) == (2 if threaded else 0)  # reached, never exceeded
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
    both = threading.Barrier(2)

    def task(i):
        def f():
            me = threading.current_thread() is threading.main_thread()
            if me not in threads:  # each thread's first task waits for the other's: both work
                threads.add(me)
                both.wait(NEVER)
            ran.append(i)
            return i * i
        return f

    with ThreadPoolExecutor(1) as pool:
        assert run_parallel(pool, 1, [task(i) for i in range(30)]) == [i * i for i in range(30)]
        assert sorted(ran) == list(range(30))
        assert threads == {True, False}  # the caller worked too
        assert run_parallel(pool, 1, [lambda: 49]) == [49]  # one task: no helper needed


@pytest.mark.parametrize("bad", [0, 5])  # the caller's first task, or one a helper may take
def test_run_parallel_raises_the_first_error_after_every_thread_stopped(bad):
    from concurrent.futures import ThreadPoolExecutor

    from mixgraph.render.engine import run_parallel

    lock = threading.Lock()
    events, running = [], []
    bad_started, other_holds, failed = threading.Event(), threading.Event(), threading.Event()

    def task(i):
        def f():
            with lock:
                events.append(("start", i))
                running.append(i)
            if i == bad:
                bad_started.set()
                assert other_holds.wait(NEVER)  # the other thread is inside a task now
                with lock:
                    events.append(("fail", i))
                failed.set()
                raise ValueError(f"task {i}")
            if bad_started.is_set() and not failed.is_set():
                other_holds.set()  # hold this task until the error is on its way
                assert failed.wait(NEVER)
            with lock:
                running.remove(i)
        return f

    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(ValueError, match=f"task {bad}"):
            run_parallel(pool, 1, [task(i) for i in range(40)])
        assert running == [bad]  # the task the other thread held was finished first
        # after the error no thread takes another task (the other thread may have taken one
        # just before it learnt of the error): most of the 40 never ran
        later = events[events.index(("fail", bad)) + 1:]
        assert len(later) <= 1
        assert len([e for e in events if e[0] == "start"]) <= bad + 4


def test_run_parallel_stops_the_helpers_when_the_caller_is_interrupted_between_tasks():
    from concurrent.futures import ThreadPoolExecutor

    from mixgraph.render.engine import run_parallel

    started = []
    main_calls = [0]
    interrupted = threading.Event()

    class Tasks(list):
        # Ctrl-C lands in the calling thread outside any task: at its fifth look at the length
        # (two before draining, then one per task taken)
        def __len__(self):
            if threading.current_thread() is threading.main_thread():
                main_calls[0] += 1
                if main_calls[0] == 5:
                    interrupted.set()
                    raise KeyboardInterrupt
            return super().__len__()

    def task(i):
        def f():
            started.append(i)
            if threading.current_thread() is not threading.main_thread():
                assert interrupted.wait(NEVER)  # the helper is never ahead of the interrupt
        return f

    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(KeyboardInterrupt):
            run_parallel(pool, 1, Tasks(task(i) for i in range(60)))
        n = len(started)
        pool.submit(lambda: None).result()  # the pool's one thread is free: the helper has returned
        assert len(started) == n <= 8  # the helper stopped too (it would run all 60), nothing runs on

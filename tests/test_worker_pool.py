"""Stopping a pool of worker processes never hangs (engine/runtime.py ``stop_pool``)."""

from __future__ import annotations

import threading
import time

from launchtier.engine import runtime


class Process:
    def __init__(self):
        self.exitcode = None
        self.killed = False

    def kill(self):
        self.killed, self.exitcode = True, -9


class StuckPool:
    """A pool whose terminate waits for good, as ``Pool.terminate`` does when a killed worker
    held the results queue's lock."""

    def __init__(self):
        self._pool = [Process(), Process()]
        self.forever = threading.Event()

    def terminate(self):
        self.forever.wait()


def test_a_pool_whose_terminate_hangs_is_killed_and_left_behind(monkeypatch):
    monkeypatch.setattr(runtime, "STOP_SECONDS", 0.2)
    pool = StuckPool()
    started = time.monotonic()
    runtime.stop_pool(pool)
    assert time.monotonic() - started < 5
    assert [p.killed for p in pool._pool] == [True, True]
    pool.forever.set()  # let the stopper thread end


def _square(x: int) -> int:
    return x * x


def _nothing() -> None:
    pass


def test_a_real_pool_stops_with_its_workers():
    with runtime.pool_of(2, _nothing, ()) as pool:
        assert pool.map(_square, range(5)) == [0, 1, 4, 9, 16]
        workers = list(pool._pool)
    for p in workers:
        p.join(5)
    assert [p.is_alive() for p in workers] == [False, False]

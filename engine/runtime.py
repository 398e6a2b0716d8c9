"""How launchtier runs: Python's cyclic garbage collector, and worker processes.

Every change to the collector's settings, and every process pool, is made here.

Large batches of acyclic objects: validating a batch of items builds two models per item that
all stay alive; the collector, triggered by the allocations, walks the growing heap again and
again for garbage that is not there (benchmarks/bench.py measures the cost). Items, decisions
and ledger records hold no reference cycles, so while such a batch is built the collector is
paused, and it runs again, as usual, afterwards. Worker processes build nothing else, so they
run without it.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Any, Callable, Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (nested uses are fine)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def freeze_for_exit() -> None:
    """What is still alive goes with the process: the interpreter's last cyclic collections at
    exit would walk all of it (pydantic's schemas, the rulebook's models) looking for garbage;
    frozen objects are skipped."""
    gc.freeze()


def worker_context() -> Any:
    """The multiprocessing context of launchtier's workers: fork where there is one (the
    parent's loaded modules and rulebook come for free), else spawn."""
    import multiprocessing

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _start_worker(initializer: Callable[..., None], args: tuple) -> None:
    gc.disable()  # for the worker's life: it builds acyclic batches only
    initializer(*args)


def worker_pool(jobs: int, initializer: Callable[..., None], initargs: tuple, context: Any = None) -> Any:
    """A pool of ``jobs`` worker processes, each set up by ``initializer(*initargs)``; end it
    with :func:`stop_pool` (or use :func:`pool_of`)."""
    context = context or worker_context()
    return context.Pool(jobs, initializer=_start_worker, initargs=(initializer, initargs))


@contextmanager
def pool_of(jobs: int, initializer: Callable[..., None], initargs: tuple, context: Any = None) -> Iterator[Any]:
    """:func:`worker_pool` for the block, stopped by :func:`stop_pool` when it is left."""
    pool = worker_pool(jobs, initializer, initargs, context)
    try:
        yield pool
    finally:
        stop_pool(pool)


# How long stopping a pool may take before its workers are killed and it is left behind.
STOP_SECONDS = 10.0


def stop_pool(pool: Any) -> None:
    """Terminate a pool's workers, within :data:`STOP_SECONDS`.

    ``Pool.terminate`` can hang for good: it kills the workers, then joins the thread that hands
    out tasks, and that thread may be waiting for the lock of the results queue, which a worker
    killed in the middle of sending a result held and never released (seen when a batch stopped
    at a bad item while the workers were busy). So the pool is terminated in a thread of its own;
    if that does not end in time, the workers are killed and the pool is left to the process's
    exit (its threads are daemons, and multiprocessing reaps the workers then)."""
    import threading

    stopper = threading.Thread(target=pool.terminate, name="launchtier-stop-pool", daemon=True)
    stopper.start()
    stopper.join(STOP_SECONDS)
    if stopper.is_alive():
        for process in list(getattr(pool, "_pool", ())):
            if process.exitcode is None:
                process.kill()

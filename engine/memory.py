"""Large batches of acyclic objects and Python's cyclic garbage collector.

Validating 20,000 items builds 40,000 models that all stay alive; the collector, triggered by
the allocations, walks the growing heap again and again for garbage that is not there: with it
running, validating a batch took 1.5 to 2 times as long (benchmarks/bench.py). Items, decisions
and ledger records hold no reference cycles, so while such a batch is built the collector is
paused; it runs again, as usual, afterwards.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


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

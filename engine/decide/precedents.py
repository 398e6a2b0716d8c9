"""Precedents: the earlier decisions most like an item's, for the meeting to compare with.

The store gives the candidates (the latest decision of each other item, the most recent ones
first, a bounded number of them: :meth:`~engine.ledger.store.LedgerStore.precedent_candidates`);
the ranking is here: the same final tier first, then the nearest signals, then the most recent.
Only the ``limit`` best are kept as the candidates stream past, so a ledger of any size is ranked
in little memory.
"""

from __future__ import annotations

import heapq
from typing import Any, Iterable, Mapping

from ..rulebook import conditions as cond
from ..rulebook.model import IntSignal, Rulebook
from .decision import Precedent

# Candidates read per explain: the latest decision of this many other items, the most recent
# first. It bounds the time an explain spends on a large ledger (each candidate's decision is
# read and parsed); older items than these are not compared.
CANDIDATES = 2000
PRECEDENTS = 3


class SignalDistance:
    """The distance between two items' signals under one rulebook: the sum, over the rulebook's
    signals, of how far apart each signal's values are, from 0 (the same) to 1.

    An enum or a yes/no counts 1 when the values differ. An int counts the share of its cut
    points (where a rule's or tier's comparison of it changes its answer) that lie between the
    two values, so 30 and 40 are as near as the rules see them when no threshold lies between;
    an int that no rule or tier compares counts its difference scaled by its range (1 when it
    has no range and the values differ). A value one item does not have (a signal the rulebook
    added since it was recorded) takes the signal's default; without one it counts 1."""

    def __init__(self, book: Rulebook):
        self.book = book
        conditions = [*(r.condition for r in book.rules), *(t.condition for t in book.tiers)]
        self.cuts = {name: cond.cut_points(conditions, name)
                     for name, sig in book.signals.items() if isinstance(sig, IntSignal)}

    def __call__(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
        total = 0.0
        for name, sig in self.book.signals.items():
            x, y = a.get(name, sig.default), b.get(name, sig.default)
            if x is None or y is None:
                total += 0.0 if x is y else 1.0
            elif x == y:
                continue
            elif isinstance(sig, IntSignal) and _is_int(x) and _is_int(y):
                total += self._int(name, sig, x, y)
            else:
                total += 1.0
        return total

    def _int(self, name: str, sig: IntSignal, x: int, y: int) -> float:
        low, high = min(x, y), max(x, y)
        cuts = self.cuts[name]
        if cuts:
            return sum(low < c <= high for c in cuts) / len(cuts)
        if sig.min is not None and sig.max is not None and sig.max > sig.min:
            return min(1.0, (high - low) / (sig.max - sig.min))
        return 1.0


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def rank_precedents(book: Rulebook, tier: str, signals: Mapping[str, Any],
                    candidates: Iterable[tuple[Any, Mapping[str, Any]]], limit: int = PRECEDENTS) -> list[Precedent]:
    """The ``limit`` earlier decisions most like an item of final tier ``tier`` with
    ``signals``: those of the same final tier first, then by :class:`SignalDistance`, then the
    most recent. ``candidates``: (decision record, its item's signals as recorded) pairs."""
    distance = SignalDistance(book)
    best: list[tuple[tuple[int, float, int], Any, float]] = []
    for rec, recorded in candidates:
        d = round(distance(signals, recorded), 4)
        # heapq keeps the smallest first: the worst kept is the largest key, so keys are negated
        key = (rec.final_tier != tier, d, -rec.seq)
        entry = ((-key[0], -key[1], -key[2]), rec, d)
        if len(best) < limit:
            heapq.heappush(best, entry)
        elif entry[0] > best[0][0]:
            heapq.heapreplace(best, entry)
    ranked = sorted(best, key=lambda e: e[0], reverse=True)
    return [_precedent(rec, d) for _, rec, d in ranked]


def _precedent(rec: Any, distance: float) -> Precedent:
    reason = rec.overrides[-1].reason if rec.overrides else (
        rec.decision.override.reason if rec.decision.override is not None else None)
    return Precedent(item=rec.item, title=rec.title, tier=rec.final_tier, quarter=rec.quarter,
                     recorded_at=rec.recorded_at, computed_tier=rec.computed_tier if reason is not None else None,
                     override_reason=reason, distance=distance)

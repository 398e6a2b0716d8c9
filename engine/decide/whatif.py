"""The what-if search: the smallest single-signal changes that move an item to another tier.

It tries, for each signal, the values worth trying (:meth:`WhatIf.candidates`) and asks the
pipeline for the tier of each; it keeps no cache of its own (the pipeline's tier per line key
answers most of its questions).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

from ..rulebook import conditions as cond
from ..rulebook.model import EnumSignal, IntSignal, Rulebook
from .decision import SignalChange


class WhatIf:
    """The what-if search for one rulebook."""

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook

    def candidates(self, signal: str, current: Any) -> list[Any]:
        """Values worth trying for one signal: every other enum or bool value; for an int, the
        values on either side of each threshold that a rule, tier or artifact compares it with."""
        sig = self.rulebook.signals[signal]
        if isinstance(sig, EnumSignal):
            return [v for v in sig.values if v != current]
        if not isinstance(sig, IntSignal):
            return [not current]
        found: set[int] = set()
        for c in self.comparisons_of(signal):
            for v in c.value if isinstance(c.value, tuple) else (c.value,):
                for x in (v - 1, v, v + 1):
                    if sig.allows(x) and x != current:
                        found.add(x)
        return sorted(found)

    def comparisons_of(self, signal: str) -> Iterator[cond.Compare]:
        """Every comparison of ``signal`` in a rule, tier or artifact condition."""
        book = self.rulebook
        for owner in (*book.rules, *book.tiers, *book.artifacts):
            for c in cond.comparisons(owner.condition):
                if c.name == signal:
                    yield c

    def what_would_change(self, signals: Mapping[str, Any], tier_index: Callable[[Mapping[str, Any]], int]) -> list[SignalChange]:
        """The smallest single-signal changes that move the item to another tier, each with the
        tier it gives (``tier_index`` gives the tier of some signals): higher tiers first, then
        signals in rulebook order."""
        book = self.rulebook
        base = tier_index(signals)
        changes: list[tuple[int, int, int, SignalChange]] = []
        for order, name in enumerate(book.signals):
            current = signals[name]
            best: dict[tuple[int, int], tuple[int, Any]] = {}
            for value in self.candidates(name, current):
                tier = tier_index({**signals, name: value})
                if tier == base:
                    continue
                if isinstance(value, bool) or not isinstance(value, int):
                    best[(tier, len(best))] = (0, value)
                    continue
                # keep, per direction and resulting tier, the change closest to the current value
                direction = 1 if value > current else -1
                distance = abs(value - current)
                slot = (tier, direction)
                if slot not in best or distance < best[slot][0]:
                    best[slot] = (distance, value)
            for (tier, _), (distance, value) in best.items():
                t = book.tiers[tier]
                changes.append((tier, order, distance, SignalChange(signal=name, **{"from": current}, to=value, tier=t.id, label=t.label, kind=t.kind)))
        changes.sort(key=lambda c: (c[0], c[1], c[2]))
        return [c[3] for c in changes]

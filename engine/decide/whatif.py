"""The what-if search: the smallest single-signal changes that move an item to another tier.

It tries, for each signal, the values worth trying (:meth:`WhatIf.candidates`) and asks the
pipeline for the tier of each; it keeps no cache of its own (the pipeline's tier per line key
answers most of its questions). With ``moves_only``, only the changes the team can decide are
tried: the rulebook says per signal whether it is a decision, a decision only forward, or a fact
(``moves``); each change says itself in the rulebook's words (``phrases``), with the scores it
moves as context.
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

    def what_would_change(self, signals: Mapping[str, Any], tier_index: Callable[[Mapping[str, Any]], int],
                          scores_of: Callable[[Mapping[str, Any]], Mapping[str, int]], *,
                          moves_only: bool = False) -> list[SignalChange]:
        """The smallest single-signal changes that move the item to another tier, each with the
        tier it gives (``tier_index`` gives the tier of some signals) and the scores it moves
        (``scores_of`` gives them): higher tiers first, then signals in rulebook order. With
        ``moves_only``, only the changes the rulebook's ``moves`` lets the team decide."""
        book = self.rulebook
        base = tier_index(signals)
        before = dict(scores_of(signals))  # (a copy: the scores may be shared, and the next call may return others)
        changes: list[tuple[int, int, int, SignalChange]] = []
        for order, (name, sig) in enumerate(book.signals.items()):
            current = signals[name]
            if moves_only and sig.moves == "fact":
                continue
            best: dict[tuple[int, int], tuple[int, Any]] = {}
            for value in self.candidates(name, current):
                if moves_only and not sig.may_move(current, value):
                    continue
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
                changes.append((tier, order, distance, SignalChange(
                    signal=name, **{"from": current}, to=value, tier=t.id, label=t.label, kind=t.kind,
                    says=sig.phrase_of(name, value), scores=self.scores_moved(before, scores_of({**signals, name: value})))))
        changes.sort(key=lambda c: (c[0], c[1], c[2]))
        return [c[3] for c in changes]

    def scores_moved(self, before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, tuple[int, int]]:
        """``{score: (before, after)}`` for each score a change moves."""
        return {n: (before[n], after[n]) for n in self.rulebook.score_names if before[n] != after[n]}


def change_text(book: Rulebook, change: SignalChange) -> str:
    """A change in the rulebook's words, the scores it moves as context: "if it also changed
    pricing or packaging → tier-1 Marketing launch (Lead generation 1 → 2, launch 3 → 4)"."""
    moved = ", ".join(f"{score_label(book, n)} {a} → {b}" for n, (a, b) in change.scores.items())
    return f"if {change.says} → {change.tier} {change.label}" + (f" ({moved})" if moved else "")


def score_label(book: Rulebook, name: str) -> str:
    """A score's name for people: a dimension's label, a total's name."""
    dim = book.dimensions.get(name)
    return dim.label if dim is not None else name.replace("_", " ")


def facts(book: Rulebook) -> list[str]:
    """The signals the rulebook marks as facts: no change of theirs is a decision."""
    return [name for name, sig in book.signals.items() if sig.moves == "fact"]

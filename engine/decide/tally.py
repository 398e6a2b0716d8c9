"""Tallies of tiers: how many decisions (or items) of each tier, in the rulebook's order.
Reporters format them; the counting is done here, once."""

from __future__ import annotations

from typing import Iterable, Mapping

from ..rulebook.model import Rulebook


def tier_counts(book: Rulebook, tiers: Iterable[str]) -> dict[str, int]:
    """``{tier: count}`` of the tiers given (one per decision), in the order of ``book``'s
    tiers, then any tier the rulebook does not have (a ledger's older decisions), in the order
    first seen; a tier with none is left out."""
    counts: dict[str, int] = {}
    for tier in tiers:
        counts[tier] = counts.get(tier, 0) + 1
    return ordered_counts(book, counts)


def ordered_counts(book: Rulebook, counts: Mapping[str, int]) -> dict[str, int]:
    """Counts already made (``{tier: count}``, in the order first seen) in :func:`tier_counts`'
    order; a tier with none is left out."""
    counts = {t: n for t, n in counts.items() if n}
    ordered = {t.id: counts[t.id] for t in book.tiers if t.id in counts}
    ordered.update((t, n) for t, n in counts.items() if t not in ordered)
    return ordered

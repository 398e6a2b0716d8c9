"""What the commands do with recorded decisions beyond a ledger's own methods: an override
with the capacity it takes a quarter past, and the tiers a history can be filtered by."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..errors import InputError, Problem
from ..rulebook.model import Rulebook


class Overridden(NamedTuple):
    override: Any  # the ledger's OverrideRecord
    warnings: list[str]  # its quarter now past a capacity, if it is


def override_decision(ledger: Any, key: str, tier: str, *, reason: str, by: str, approved_by: list[str]) -> Overridden:
    """Override the latest recorded decision of ``key`` into ``tier`` ("disagree and commit"),
    and whether its quarter now holds more items of that tier than the capacity allows."""
    from .pipeline import overridden_past_capacity

    o = ledger.override(key, tier, reason=reason, by=by, approved_by=list(approved_by))
    return Overridden(o, overridden_past_capacity(ledger, key))


def check_recorded_tier(tier: str, book: Rulebook, ledger: Any) -> None:
    """Raise InputError unless ``tier`` is a tier of ``book`` or of a recorded decision: a
    filter on another would match nothing, silently."""
    known = list(book.tier_by_id) + [t for t in ledger.recorded_tiers() if t not in book.tier_by_id]
    if tier not in known:
        from ..rulebook.conditions import suggest

        raise InputError([Problem(f"unknown tier '{tier}'{suggest(tier, known)} (tiers of rulebook {book.name} "
                                  f"{book.version} and of the ledger: {', '.join(known)})")])

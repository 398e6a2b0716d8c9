"""Artifact checklists: the artifacts of a tier (with their conditions), or of one item's
decision (conditions applied), as data the reporters group by owner."""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

from ..errors import InputError, Problem
from ..items.model import ItemBase
from ..rulebook.model import Rulebook
from .decision import Decision


class Checklist(NamedTuple):
    """The artifacts of one tier, or of one item's decision."""

    tier: str
    rows: list[tuple[str, Any, str]]  # (tier, artifact, the text of its condition; "" once applied)
    decision: Decision | None = None  # the item's decision, for an item's checklist


def checklist_rows(book: Rulebook, tiers: Sequence[str]) -> list[tuple[str, Any, str]]:
    """(tier, artifact, condition text) for every artifact of the given tiers, in rulebook order."""
    rows = []
    for tier in tiers:
        for art in book.artifacts:
            if tier in art.tiers:
                rows.append((tier, art, art.condition.text() if art.when else ""))
    return rows


def tier_checklists(book: Rulebook, tier: str | None = None) -> list[Checklist]:
    """The checklist of ``tier``, or of every tier (None)."""
    if tier is not None and tier not in book.tier_by_id:
        from ..rulebook.conditions import suggest

        tiers = list(book.tier_by_id)
        raise InputError([Problem(f"unknown tier '{tier}'{suggest(tier, tiers)} (tiers: {', '.join(tiers)})")])
    return [Checklist(t, checklist_rows(book, [t])) for t in ([tier] if tier else list(book.tier_by_id))]


def item_checklist(book: Rulebook, items: list[ItemBase], item: ItemBase, *, engine: str = "durable",
                   ledger: Any = None) -> Checklist:
    """The checklist of ``item``'s final decision, decided with the rest of its roadmap
    ``items`` (and the ledger's overrides and items): the artifacts its conditions give."""
    from .pipeline import decide_item

    decision = decide_item(book, items, item, engine=engine, ledger=ledger)
    wanted = {a.id for a in decision.artifacts}
    rows = [(t, a, "") for t, a, _ in checklist_rows(book, [decision.tier]) if a.id in wanted]
    return Checklist(decision.tier, rows, decision)

"""Two rulebooks compared, and a roadmap through both: which items change tier, and which rule
changes (or capacity, or an override no longer standing) cause it."""

from __future__ import annotations

from typing import Sequence

from ..decide.pipeline import decide_roadmap, why_changed
from ..items.model import ItemReader
from ..rulebook.diff import RulebookDiff, TierChange, diff_rulebooks
from ..rulebook.model import Rulebook


def diff_roadmap(old: Rulebook, new: Rulebook, item_files: Sequence[str] = (), *, engine: str = "durable") -> RulebookDiff:
    """What changed between ``old`` and ``new``, in the domain's words; with ``item_files``, the
    roadmap they hold through each rulebook's whole pipeline (rules, then capacity), and the
    items whose tier changes. The ledger's overrides are the team's, not the rulebook's: they
    take no part."""
    changes = diff_rulebooks(old, new)
    changed, checked = [], 0
    if item_files:
        old_items = ItemReader(old).read_many(item_files)
        new_items = ItemReader(new).read_many(item_files)
        before, _ = decide_roadmap(old, old_items, engine=engine)
        after, _ = decide_roadmap(new, new_items, engine=engine)
        for item, a, b in zip(old_items, before, after):
            checked += 1
            if a.tier != b.tier:
                changed.append(TierChange(item=item.key, title=item.title, old_tier=a.tier, new_tier=b.tier,
                                          causes=why_changed(changes, a, b)))
    return RulebookDiff(old=old.summary(), new=new.summary(), changes=changes, items_checked=checked, items_changed=changed)

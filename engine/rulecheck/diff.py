"""Two rulebooks compared, and a roadmap through both: which items change tier, and which rule
changes (or capacity, or an override no longer standing) cause it."""

from __future__ import annotations

from typing import Sequence

from ..decide.pipeline import decide_roadmap, why_changed
from ..rulebook.diff import RulebookDiff, TierChange, diff_rulebooks
from ..roadmap.read import read_roadmap
from ..rulebook.model import Rulebook


def diff_roadmap(old: Rulebook, new: Rulebook, item_files: Sequence[str] = (), *, engine: str = "durable",
                 mapping: str | None = None) -> RulebookDiff:
    """What changed between ``old`` and ``new``, in the domain's words; with ``item_files`` (the
    ``.csv`` files read through ``mapping`` when there is one), the roadmap they hold through
    each rulebook's whole pipeline (rules, then capacity), and the items whose tier changes. The ledger's overrides are the team's, not the rulebook's: they
    take no part."""
    changes = diff_rulebooks(old, new)
    changed, checked = [], 0
    if item_files:
        # read for each rulebook: a signal's values and defaults are the rulebook's
        old_items = read_roadmap(old, item_files, mapping)
        new_items = read_roadmap(new, item_files, mapping)
        before, _ = decide_roadmap(old, old_items, engine=engine)
        after, _ = decide_roadmap(new, new_items, engine=engine)
        for item, new_item, a, b in zip(old_items, new_items, before, after):
            checked += 1
            if a.tier != b.tier:
                changed.append(TierChange(item=item.key, title=item.title, old_tier=a.tier, new_tier=b.tier,
                                          causes=why_changed(changes, a, b, (old, new),
                                                             (item.signal_values(), new_item.signal_values()))))
    return RulebookDiff(old=old.summary(), new=new.summary(), changes=changes, items_checked=checked, items_changed=changed)

"""What changed between two rulebooks, in the domain's words."""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict

from . import conditions as cond
from .model import Rulebook


class RuleChange(BaseModel):
    # built on first use, not on import: every classify imports this module (the pipeline explains
    # changed decisions with it), and only a diff or a ledger's changed decision makes one
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    part: str  # rule | tier | artifact | signal | dimension | total | capacity
    id: str
    change: str  # added | removed | re-weighted | re-pointed | condition changed | reworded | moved | changed
    detail: str


def _points(score: dict[str, int]) -> str:
    return ", ".join(f"{d} {p:+d}" for d, p in score.items())


def diff_rulebooks(old: Rulebook, new: Rulebook) -> list[RuleChange]:
    out: list[RuleChange] = []
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    for rid, rule in new_rules.items():
        if rid not in old_rules:
            out.append(RuleChange(part="rule", id=rid, change="added", detail=f"when {rule.condition.text()} → {_points(rule.score)}"))
            continue
        before = old_rules[rid]
        if before.when != rule.when:
            out.append(RuleChange(part="rule", id=rid, change="re-pointed",
                                  detail=f"when {before.condition.text()} → when {rule.condition.text()}"))
        if before.score != rule.score:
            out.append(RuleChange(part="rule", id=rid, change="re-weighted",
                                  detail=f"{_points(before.score)} → {_points(rule.score)}"))
        if before.because != rule.because and before.when == rule.when and before.score == rule.score:
            out.append(RuleChange(part="rule", id=rid, change="reworded", detail=rule.because))
    for rid, rule in old_rules.items():
        if rid not in new_rules:
            out.append(RuleChange(part="rule", id=rid, change="removed", detail=f"was when {rule.condition.text()} → {_points(rule.score)}"))

    old_tiers = {t.id: t for t in old.tiers}
    new_tiers = {t.id: t for t in new.tiers}
    for tid, tier in new_tiers.items():
        if tid not in old_tiers:
            out.append(RuleChange(part="tier", id=tid, change="added", detail=_tier_text(tier)))
            continue
        before = old_tiers[tid]
        if before.when != tier.when:
            out.append(RuleChange(part="tier", id=tid, change="condition changed",
                                  detail=f"{_tier_text(before)} → {_tier_text(tier)}"))
        if (before.label, before.kind) != (tier.label, tier.kind):
            out.append(RuleChange(part="tier", id=tid, change="renamed",
                                  detail=f"{before.label} ({before.kind}) → {tier.label} ({tier.kind})"))
    for tid, tier in old_tiers.items():
        if tid not in new_tiers:
            out.append(RuleChange(part="tier", id=tid, change="removed", detail=_tier_text(tier)))
    if [t for t in old.tier_by_id if t in new_tiers] != [t for t in new.tier_by_id if t in old_tiers]:
        out.append(RuleChange(part="tier", id="*", change="reordered",
                              detail=f"{', '.join(old.tier_by_id)} → {', '.join(new.tier_by_id)}"))

    old_arts = {a.id: a for a in old.artifacts}
    new_arts = {a.id: a for a in new.artifacts}
    for aid, art in new_arts.items():
        if aid not in old_arts:
            out.append(RuleChange(part="artifact", id=aid, change="added", detail=f"{art.name} ({art.owner}) in {', '.join(art.tiers)}"))
            continue
        before = old_arts[aid]
        if before.tiers != art.tiers:
            out.append(RuleChange(part="artifact", id=aid, change="moved",
                                  detail=f"{art.name}: {', '.join(before.tiers)} → {', '.join(art.tiers)}"))
        if before.when != art.when:
            out.append(RuleChange(part="artifact", id=aid, change="condition changed",
                                  detail=f"{_when(before)} → {_when(art)}"))
        if before.owner != art.owner:
            out.append(RuleChange(part="artifact", id=aid, change="owner changed", detail=f"{before.owner} → {art.owner}"))
    for aid, art in old_arts.items():
        if aid not in new_arts:
            out.append(RuleChange(part="artifact", id=aid, change="removed", detail=f"{art.name} ({art.owner})"))

    out += _mapping_changes("signal", old.signals, new.signals)
    out += _mapping_changes("dimension", old.dimensions, new.dimensions)
    out += _mapping_changes("total", old.totals, new.totals)
    out += _mapping_changes("capacity", old.capacity, new.capacity)
    return out


def _tier_text(tier) -> str:
    return f"when {tier.condition.text()}" if tier.when else "otherwise (default)"


def _when(art) -> str:
    return art.condition.text() if art.when else "always"


def _mapping_changes(part: str, old: dict[str, Any], new: dict[str, Any]) -> list[RuleChange]:
    out = []
    for name, value in new.items():
        if name not in old:
            out.append(RuleChange(part=part, id=name, change="added", detail=_show(value)))
        elif old[name] != value:
            out.append(RuleChange(part=part, id=name, change="changed", detail=f"{_show(old[name])} → {_show(value)}"))
    for name, value in old.items():
        if name not in new:
            out.append(RuleChange(part=part, id=name, change="removed", detail=_show(value)))
    return out


def _show(value: Any) -> str:
    if isinstance(value, BaseModel):
        data = value.model_dump(exclude_none=True)
        data.pop("question", None)
        data.pop("description", None)
        return ", ".join(f"{k} {v}" for k, v in data.items())
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:+d}" if isinstance(v, int) else f"{k} {v}" for k, v in value.items())
    return str(value)


def causes(changes: list[RuleChange], before: Any, after: Any, books: tuple[Rulebook, Rulebook],
           signals: tuple[Mapping[str, Any], Mapping[str, Any]]) -> list[RuleChange]:
    """The rule changes that matter to one item whose rules give different tiers under the two
    rulebooks. ``before`` and ``after`` are its decisions under ``books`` (old, new); ``signals``
    its signals as each rulebook reads them. An item's *facts* under a rulebook are its signals
    and its scores (dimensions and totals) under that rulebook. A change is listed when:

    - rule (any change but a rewording): the rule fired for the item under either rulebook, and
      whether it fires, or its points when it fires under both, differ between the two;
    - tier condition changed, tier added or removed: the tier is one the item reaches under either
      rulebook (at or above its tier there: first match wins, so a lower tier's condition is never
      looked at), and on the item's old facts or on its new facts the tier's old condition and its
      new condition disagree (a tier a rulebook does not have holds for nothing). Both conditions
      are judged on the same facts, so a condition is named for what its own change does, not
      for a score that moved under it; a condition naming what one side's facts lack is not
      judged on them;
    - tiers reordered: with either rulebook's tier conditions on that rulebook's facts, the first
      tier to hold among the tiers both rulebooks have is another in the old order than in the new;
    - dimension or total: the item's value of it differs between the two decisions;
    - signal: the item's value of it differs as the two rulebooks read it (a new default, say).

    A renamed tier never moves an item. When nothing is listed, every rule, tier and signal
    change is, so that no changed item goes without a cause."""
    old_book, new_book = books
    old_facts = {**signals[0], **before.scores}
    new_facts = {**signals[1], **after.scores}
    old_fired = {f.rule: f.score for f in before.fired}
    new_fired = {f.rule: f.score for f in after.fired}
    old_tiers, new_tiers = old_book.tier_by_id, new_book.tier_by_id
    # (a tier a rulebook lacks, as in a recorded decision read back, leaves every tier reachable)
    old_reach = old_book.tier_index.get(before.rules_tier, len(old_book.tiers))
    new_reach = new_book.tier_index.get(after.rules_tier, len(new_book.tiers))

    def reached(tid: str) -> bool:
        return (tid in old_tiers and old_book.tier_index[tid] <= old_reach) or (
            tid in new_tiers and new_book.tier_index[tid] <= new_reach)

    def flips(tid: str) -> bool:
        for facts in (old_facts, new_facts):
            was = _holds(old_tiers[tid].condition, facts) if tid in old_tiers else False
            now = _holds(new_tiers[tid].condition, facts) if tid in new_tiers else False
            if was is not None and now is not None and was != now:
                return True
        return False

    def reorder_matters() -> bool:
        old_order = [t for t in old_book.tier_by_id if t in new_tiers]
        new_order = [t for t in new_book.tier_by_id if t in old_tiers]
        for by_id, facts in ((old_tiers, old_facts), (new_tiers, new_facts)):
            def first(order: list[str]) -> str | None:
                return next((t for t in order if _holds(by_id[t].condition, facts)), None)
            if first(old_order) != first(new_order):
                return True
        return False

    def matters(c: RuleChange) -> bool:
        if c.part == "rule":
            if c.change == "reworded" or (c.id not in old_fired and c.id not in new_fired):
                return False
            return old_fired.get(c.id) != new_fired.get(c.id)
        if c.part == "tier":
            if c.id == "*":
                return reorder_matters()
            return c.change in ("condition changed", "added", "removed") and reached(c.id) and flips(c.id)
        if c.part in ("dimension", "total"):
            return before.scores.get(c.id) != after.scores.get(c.id)
        if c.part == "signal":
            return signals[0].get(c.id) != signals[1].get(c.id)
        return False

    picked = [c for c in changes if matters(c)]
    return picked or [c for c in changes if c.part in ("rule", "tier", "signal")]


def _holds(condition: cond.Condition, facts: Mapping[str, Any]) -> bool | None:
    """Whether a condition holds on an item's facts; None when it names something they lack (a
    signal or dimension one of the two rulebooks does not have) or compares a value the other
    rulebook types differently (a number with a word)."""
    if any(name not in facts for name in cond.names(condition)):
        return None
    try:
        return condition.holds(facts)
    except TypeError:
        return None


class TierChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    item: str
    title: str
    old_tier: str
    new_tier: str
    causes: list[RuleChange]


class RulebookDiff(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    old: dict[str, str]
    new: dict[str, str]
    changes: list[RuleChange]
    items_checked: int = 0
    items_changed: list[TierChange] = []

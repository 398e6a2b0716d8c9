"""What changed between two rulebooks, in the domain's words."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

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


def causes(changes: list[RuleChange], before: Any, after: Any) -> list[RuleChange]:
    """The rule changes that touch one item's two decisions, whose rules give different tiers:
    rules that fired in either, the tiers involved, and dimension or total changes; all rule
    and tier changes if none match."""
    fired = {f.rule for f in before.fired} | {f.rule for f in after.fired}
    tiers = {before.rules_tier, after.rules_tier} | {h.tier for h in before.higher_tiers} | {h.tier for h in after.higher_tiers}
    picked = [
        c for c in changes
        if (c.part == "rule" and c.id in fired and c.change != "reworded")
        or (c.part == "tier" and (c.id in tiers or c.id == "*"))
        or c.part in ("dimension", "total")
    ]
    return picked or [c for c in changes if c.part in ("rule", "tier", "signal")]


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

"""From an item to a decision: scores, tier, the reasons, the artifacts, and what would change it.

Matching the scoring rules is the matcher's job (durable-rules, or the reference evaluator);
everything after it (summing, clamping, totals, explanation, artifacts) is this module's,
shared by both matchers so that a property test comparing them checks the matching itself.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from . import conditions as cond
from .decision import (
    ArtifactRef,
    CapacityNote,
    ConditionCheck,
    Decision,
    Explanation,
    FiredRule,
    HigherTier,
    RulebookRef,
    SignalChange,
    TierReason,
    ValueChange,
)
from .errors import EngineUnavailable
from .items import ItemBase
from .rulebook import EnumSignal, IntSignal, Rulebook

ENGINES = ("durable", "reference")


def make_matcher(rulebook: Rulebook, engine: str = "durable"):
    if engine == "durable":
        from .durable_adapter import DurableMatcher

        return DurableMatcher(rulebook)
    if engine == "reference":
        from .reference import ReferenceMatcher

        return ReferenceMatcher(rulebook)
    raise EngineUnavailable(f"unknown engine '{engine}' (engines: {', '.join(ENGINES)})")


def check(c: cond.Condition, values: Mapping[str, Any]) -> ConditionCheck:
    """A condition checked against the values, with the actual value beside the expected one."""
    if isinstance(c, cond.Compare):
        expected = list(c.value) if isinstance(c.value, tuple) else c.value
        return ConditionCheck(name=c.name, op=c.op, expected=expected, actual=values[c.name], holds=c.holds(values))
    parts = (c.part,) if isinstance(c, cond.Not) else c.parts
    op = "not" if isinstance(c, cond.Not) else "all" if isinstance(c, cond.All) else "any"
    return ConditionCheck(name=c.text(), op=op, holds=c.holds(values), of=[check(p, values) for p in parts])


class Classifier:
    """Classifies items under one rulebook. Build one per rulebook and reuse it."""

    def __init__(self, rulebook: Rulebook, engine: str = "durable"):
        self.rulebook = rulebook
        self.matcher = make_matcher(rulebook, engine)
        self.engine = engine
        self._ref = RulebookRef(name=rulebook.name, version=rulebook.version, hash=rulebook.hash)
        self._dims = [(name, d.min, d.max) for name, d in rulebook.dimensions.items()]
        self._totals = [(name, list(w.items())) for name, w in rulebook.totals.items()]
        self._rule_scores = [list(r.score.items()) for r in rulebook.rules]
        self._fired_models = [FiredRule(rule=r.id, because=r.because, score=dict(r.score)) for r in rulebook.rules]
        self._artifacts = [
            (a, ArtifactRef(id=a.id, name=a.name, owner=a.owner, category=a.category, effort=a.effort))
            for a in rulebook.artifacts
        ]

    # ---- the steps ----------------------------------------------------------------------
    def scores(self, fired: list[int]) -> dict[str, int]:
        sums = dict.fromkeys(self.rulebook.dimensions, 0)
        for i in fired:
            for dim, points in self._rule_scores[i]:
                sums[dim] += points
        scores = {name: min(hi, max(lo, sums[name])) for name, lo, hi in self._dims}
        for name, weights in self._totals:
            scores[name] = sum(scores[d] * w for d, w in weights)
        return scores

    def tier_index(self, signals: Mapping[str, Any]) -> int:
        """Only the tier (no explanation): the inner loop of the what-if search."""
        scores = self.scores(self.matcher.fired(signals))
        return self.matcher.tier({**signals, **scores})

    def decide(self, item: ItemBase) -> Decision:
        return self.decide_signals(item.key, item.title, item.signal_values())

    def decide_signals(self, key: str, title: str, signals: Mapping[str, Any]) -> Decision:
        fired = self.matcher.fired(signals)
        scores = self.scores(fired)
        values = {**signals, **scores}
        return self._decision(key, title, fired, scores, values, self.matcher.tier(values))

    def _decision(self, key: str, title: str, fired: list[int], scores: dict[str, int], values: dict[str, Any],
                  chosen: int, capacity: CapacityNote | None = None) -> Decision:
        book = self.rulebook
        tier = book.tiers[chosen]
        higher = []
        for above in book.tiers[:chosen]:
            checks = [check(c, values) for c in cond.conjuncts(above.condition)]
            higher.append(HigherTier(tier=above.id, failed=[c for c in checks if not c.holds]))
        reason = TierReason(
            tier=tier.id,
            conditions=[check(c, values) for c in cond.conjuncts(tier.condition)] if tier.when else [],
        )
        artifacts = [ref for art, ref in self._artifacts if tier.id in art.tiers and art.condition.holds(values)]
        return Decision(
            item=key,
            title=title,
            tier=tier.id,
            label=tier.label,
            kind=tier.kind,
            scores=scores,
            fired=[self._fired_models[i] for i in fired],
            tier_reason=reason,
            higher_tiers=higher,
            artifacts=artifacts,
            rulebook=self._ref,
            capacity=capacity,
        )

    def moved(self, item: ItemBase, decision: Decision, tier_id: str, reason: str) -> Decision:
        """The decision moved to another tier by a roadmap-level rule (capacity), saying why;
        the artifacts are those of the tier it lands in."""
        signals = item.signal_values()
        fired = [i for i, r in enumerate(self.rulebook.rules) if r.id in {f.rule for f in decision.fired}]
        note = CapacityNote(computed_tier=decision.capacity.computed_tier if decision.capacity else decision.tier,
                            reason=reason)
        return self._decision(decision.item, decision.title, fired, decision.scores, {**signals, **decision.scores},
                              self.rulebook.tier_index[tier_id], note)

    def classify(self, items: Iterable[ItemBase]) -> Iterator[Decision]:
        """Decisions for a stream of items, in order; nothing is held beyond the current item."""
        for item in items:
            yield self.decide(item)

    # ---- what would change the tier -----------------------------------------------------
    def candidates(self, signal: str, current: Any) -> list[Any]:
        """Values worth trying for one signal: every other enum or bool value; for an int, the
        values on either side of each threshold that a rule, tier or artifact compares it with."""
        sig = self.rulebook.signals[signal]
        if isinstance(sig, EnumSignal):
            return [v for v in sig.values if v != current]
        if not isinstance(sig, IntSignal):
            return [not current]
        found: set[int] = set()
        for c in self._comparisons_of(signal):
            for v in c.value if isinstance(c.value, tuple) else (c.value,):
                for x in (v - 1, v, v + 1):
                    if sig.allows(x) and x != current:
                        found.add(x)
        return sorted(found)

    def _comparisons_of(self, signal: str) -> Iterator[cond.Compare]:
        book = self.rulebook
        for owner in (*book.rules, *book.tiers, *book.artifacts):
            for c in cond.comparisons(owner.condition):
                if c.name == signal:
                    yield c

    def what_would_change(self, signals: Mapping[str, Any]) -> list[SignalChange]:
        """The smallest single-signal changes that move the item to another tier, each with the
        tier it gives: higher tiers first, then signals in rulebook order."""
        book = self.rulebook
        base = self.tier_index(signals)
        changes: list[tuple[int, int, int, SignalChange]] = []
        for order, name in enumerate(book.signals):
            current = signals[name]
            best: dict[tuple[int, int], tuple[int, Any]] = {}
            for value in self.candidates(name, current):
                tier = self.tier_index({**signals, name: value})
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

    def explain(self, item: ItemBase, original: ItemBase | None = None) -> Explanation:
        """The item in full; ``original`` is the item as filed when ``item`` is a what-if of it."""
        signals = item.signal_values()
        changed = []
        if original is not None:
            before = original.signal_values()
            changed = [
                ValueChange(signal=name, **{"from": before[name]}, to=value)
                for name, value in signals.items()
                if before[name] != value
            ]
        return Explanation(
            decision=self.decide(item), changed=changed, what_would_change=self.what_would_change(signals)
        )

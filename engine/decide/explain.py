"""Explanations: why an item got its tier, why not each higher one, and which artifacts it needs.

Each condition is checked with the actual value beside the expected one (:func:`check`). The
:class:`Explainer` gives the tier with its reasons and the artifacts of a decision, remembering
both per key when memoisation is on; the pipeline (``classify.py``) asks it once per item.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..match import Matcher
from ..match.memo import keyer, remember
from ..rulebook import conditions as cond
from ..rulebook.model import Rulebook
from .decision import ArtifactRef, ConditionCheck, HigherTier, TierReason

# the tier (index), why it holds, and why each higher one does not
Explained = tuple[int, TierReason, list[HigherTier]]


def check(c: cond.Condition, values: Mapping[str, Any]) -> ConditionCheck:
    """A condition checked against the values, with the actual value beside the expected one."""
    if isinstance(c, cond.Compare):
        expected = list(c.value) if isinstance(c.value, tuple) else c.value
        return ConditionCheck(name=c.name, op=c.op, expected=expected, actual=values[c.name], holds=c.holds(values))
    parts = (c.part,) if isinstance(c, cond.Not) else c.parts
    op = "not" if isinstance(c, cond.Not) else "all" if isinstance(c, cond.All) else "any"
    return ConditionCheck(name=c.text(), op=op, holds=c.holds(values), of=[check(p, values) for p in parts])


class Explainer:
    """The tier of an item with its reasons, and its artifacts, for one rulebook.

    What it returns is shared between decisions (decisions are frozen models) and must not be
    changed by the caller."""

    def __init__(self, rulebook: Rulebook, matcher: Matcher, *, memo: bool = True):
        self.rulebook = rulebook
        self._matcher = matcher
        # (reading a pydantic private attribute is slow: the conditions are looked up once)
        self._artifact_checks = [
            (set(a.tiers), a.condition, ArtifactRef(id=a.id, name=a.name, owner=a.owner, category=a.category, effort=a.effort))
            for a in rulebook.artifacts
        ]
        # the signals that tier conditions read (the rest of what they read are scores)
        self.tier_signals = [n for n in dict.fromkeys(
            name for t in rulebook.tiers for name in cond.names(t.condition)) if n in rulebook.signals]
        # the scores that artifact conditions read (often none: then the artifacts of a tier
        # depend on a few signals only), and the interval classes of the signals they read
        read_by_artifacts = dict.fromkeys(n for a in rulebook.artifacts for n in cond.names(a.condition))
        self._artifact_scores = [n for n in (*rulebook.dimensions, *rulebook.totals) if n in read_by_artifacts]
        self._artifact_key = keyer(rulebook, [a.condition for a in rulebook.artifacts])
        # The explanation, keyed on (the scores in rulebook order, the values of the signals
        # that tier conditions read). Sound: the tier and every check of the tier conditions
        # read only scores and those signals, and the checks show the actual values, so the
        # signals are keyed by value, not by interval class.
        self._explained: dict[tuple, Explained] | None = {} if memo else None
        # The artifacts, keyed on (the tier, the scores artifact conditions read, the interval
        # classes of the signals they read). Sound: an artifact is chosen by its tiers and its
        # condition, and the condition reads only those scores and signals (see keyer).
        self._artifacts: dict[tuple, list[ArtifactRef]] | None = {} if memo else None

    def tier_and_artifacts(self, signals: Mapping[str, Any], scores: Mapping[str, int],
                           score_key: tuple) -> tuple[Explained, list[ArtifactRef]]:
        """The tier of an item with its reasons, and its artifacts; ``score_key`` is
        ``tuple(scores.values())``. (One call for both: it runs for every item.)"""
        explained_cache, artifacts_cache = self._explained, self._artifacts
        if explained_cache is None or artifacts_cache is None:
            values = {**signals, **scores}
            explained = self.explain(values, self._matcher.tier(values))
            return explained, self.artifacts_of(explained[0], values)
        tier_key = (score_key, *[signals[n] for n in self.tier_signals])
        explained = explained_cache.get(tier_key)
        if explained is None:
            values = {**signals, **scores}
            explained = self.explain(values, self._matcher.tier(values))
            remember(explained_cache, tier_key, explained)
        chosen = explained[0]
        art_key = (chosen, *[scores[n] for n in self._artifact_scores], self._artifact_key(signals))
        artifacts = artifacts_cache.get(art_key)
        if artifacts is None:
            artifacts = self.artifacts_of(chosen, {**signals, **scores})
            remember(artifacts_cache, art_key, artifacts)
        return explained, artifacts

    def explain(self, values: Mapping[str, Any], chosen: int) -> Explained:
        """Why tier ``chosen`` (its conditions, checked) and why not each tier above it (the
        conditions that fail), for the signals and scores in ``values``; never cached."""
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
        return chosen, reason, higher

    def artifacts_of(self, chosen: int, values: Mapping[str, Any]) -> list[ArtifactRef]:
        """The artifacts of tier ``chosen`` whose conditions hold for ``values``; never cached."""
        tier_id = self.rulebook.tiers[chosen].id
        return [ref for tiers, condition, ref in self._artifact_checks if tier_id in tiers and condition.holds(values)]

"""Explanations: why an item got its tier, why not each higher one, and which artifacts it needs.

Each condition is checked with the actual value beside the expected one (:func:`check`). The
:class:`Explainer` gives the tier with its reasons and the artifacts of a decision, remembering
both per key when memoisation is on; the pipeline (``classify.py``) asks it once per item.
"""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Any, Callable, Mapping

from ..match import Matcher
from ..match.memo import ByteCache, keyer
from ..rulebook import conditions as cond
from ..rulebook.model import Rulebook
from .decision import ArtifactRef, ConditionCheck, HigherTier, TierReason

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

# the tier (index), why it holds, and why each higher one does not
Explained = tuple[int, TierReason, list[HigherTier]]
# the memory of an explanation per condition check it holds (the frozen models with their dicts,
# values and lists; about 1,100 bytes on the default rulebook): what its cache counts, checked
# against tracemalloc by tests/test_memo.py
CHECK_BYTES = 1100


def check(c: cond.Condition, values: Mapping[str, Any], shown: Mapping[str, Any] | None = None) -> ConditionCheck:
    """A condition checked against the values, with the actual value beside the expected one
    (the value in ``shown`` where given: the encoder's templates put a placeholder there)."""
    if isinstance(c, cond.Compare):
        expected = list(c.value) if isinstance(c.value, tuple) else c.value
        actual = (shown or values)[c.name]
        return ConditionCheck(name=c.name, op=c.op, expected=expected, actual=actual, holds=c.holds(values))
    parts = (c.part,) if isinstance(c, cond.Not) else c.parts
    op = "not" if isinstance(c, cond.Not) else "all" if isinstance(c, cond.All) else "any"
    return ConditionCheck(name=c.text(), op=op, holds=c.holds(values), of=[check(p, values, shown) for p in parts])


def check_json(c: cond.Condition, values: Mapping[str, Any], shown: Mapping[str, Any],
               known: ByteCache | None = None) -> tuple[str, bool]:
    """``check(c, values, shown).model_dump_json()`` written directly, and whether it holds
    (what the encoder builds a case's template from: the models are not needed there). A
    comparison's text is kept in ``known`` per (comparison, value shown): it holds or not by
    that value alone, which is a placeholder only for an int that a template fills."""
    if isinstance(c, cond.Compare):
        actual = shown[c.name]
        key = (id(c), actual, values[c.name])  # (the rulebook holds c as long as the cache lives)
        found = known.data.get(key) if known is not None else None
        if found is None:
            holds = c.holds(values)
            expected = list(c.value) if isinstance(c.value, tuple) else c.value
            found = ('{"name":' + _encode(c.name) + ',"op":' + _encode(c.op) + ',"expected":' + _encode(expected)
                     + ',"actual":' + _encode(actual) + (',"holds":true}' if holds else ',"holds":false}')), holds
            if known is not None:
                known.put(key, found, len(found[0]))
        return found
    holds = c.holds(values)
    parts = (c.part,) if isinstance(c, cond.Not) else c.parts
    op = "not" if isinstance(c, cond.Not) else "all" if isinstance(c, cond.All) else "any"
    of = ',"of":[' + ",".join([check_json(p, values, shown, known)[0] for p in parts]) + "]" if parts else ""  # (excluded when empty)
    return (_combined_head(c, op) + ("true" if holds else "false") + of + "}"), holds


_HEADS: dict[tuple[str, str], str] = {}


def _combined_head(c: cond.Condition, op: str) -> str:
    """The start of a combined condition's JSON, up to its ``holds``: encoded once per text and
    operator (an ``any`` of one ``all`` reads as that ``all`` does)."""
    text = c.text()
    head = _HEADS.get((text, op))
    if head is None:
        head = _HEADS[text, op] = '{"name":' + _encode(text) + ',"op":"' + op + '","expected":null,"actual":null,"holds":'
    return head


def checks_in(explained: Explained) -> int:
    """How many condition checks an explanation holds (what its memory grows with)."""
    def count(c: ConditionCheck) -> int:
        return 1 + sum(count(p) for p in c.of)
    _, reason, higher = explained
    return sum(count(c) for c in reason.conditions) + sum(count(c) for h in higher for c in h.failed) + len(higher)


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
        self.artifact_refs = [ref for _, _, ref in self._artifact_checks]
        # per tier: its id as JSON, its conjuncts (what an explanation lists), whether it has no
        # condition (read once: a pydantic private attribute is slow to read)
        self._tier_conditions = [t.condition for t in rulebook.tiers]
        self._tiers = [(_encode(t.id), cond.conjuncts(c), not t.when) for t, c in zip(rulebook.tiers, self._tier_conditions)]
        # the signals that tier conditions read (the rest of what they read are scores)
        self.tier_signals = [n for n in dict.fromkeys(
            name for t in rulebook.tiers for name in cond.names(t.condition)) if n in rulebook.signals]
        # the scores that artifact conditions read (often none: then the artifacts of a tier
        # depend on a few signals only), and the interval classes of the signals they read
        read_by_artifacts = dict.fromkeys(n for a in rulebook.artifacts for n in cond.names(a.condition))
        self._artifact_scores = [n for n in (*rulebook.dimensions, *rulebook.totals) if n in read_by_artifacts]
        self._artifact_key = by_signals = keyer(rulebook, [a.condition for a in rulebook.artifacts])
        # What an item's artifacts depend on beside its tier: the scores that artifact conditions
        # read, and the interval classes of the signals they read (runs per item: no scores read,
        # the common case, costs one call)
        self.artifact_key: Callable[[Mapping[str, Any], Mapping[str, int]], Any]
        if self._artifact_scores:
            read = itemgetter(*self._artifact_scores)
            self.artifact_key = lambda signals, scores: (read(scores), by_signals(signals))
        else:
            self.artifact_key = lambda signals, scores: by_signals(signals)
        # The explanation, keyed on (the scores in rulebook order, the values of the signals
        # that tier conditions read). Sound: the tier and every check of the tier conditions
        # read only scores and those signals, and the checks show the actual values, so the
        # signals are keyed by value, not by interval class.
        self._explained: ByteCache | None = ByteCache() if memo else None
        # The artifacts, keyed on (the tier, the scores artifact conditions read, the interval
        # classes of the signals they read). Sound: an artifact is chosen by its tiers and its
        # condition, and the condition reads only those scores and signals (see keyer).
        self._artifacts: ByteCache | None = ByteCache() if memo else None
        # The JSON of a comparison checked, keyed on (the comparison, the value shown, the
        # value): see check_json.
        self._check_texts: ByteCache | None = ByteCache() if memo else None

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
        explained = explained_cache.data.get(tier_key)
        if explained is None:
            values = {**signals, **scores}
            explained = self.explain(values, self.tier_of(values))
            explained_cache.put(tier_key, explained, CHECK_BYTES * checks_in(explained))
        chosen = explained[0]
        art_key = (chosen, self.artifact_key(signals, scores))
        artifacts = artifacts_cache.data.get(art_key)
        if artifacts is None:
            artifacts = self.artifacts_of(chosen, {**signals, **scores})
            artifacts_cache.put(art_key, artifacts, 8 * len(artifacts))
        return explained, artifacts

    def explain(self, values: Mapping[str, Any], chosen: int, shown: Mapping[str, Any] | None = None) -> Explained:
        """Why tier ``chosen`` (its conditions, checked) and why not each tier above it (the
        conditions that fail), for the signals and scores in ``values`` (each check showing its
        value in ``shown`` where given); never cached."""
        book = self.rulebook
        higher = []
        for above, (_, conjuncts, _) in zip(book.tiers[:chosen], self._tiers):
            checks = [check(c, values, shown) for c in conjuncts]
            higher.append(HigherTier(tier=above.id, failed=[c for c in checks if not c.holds]))
        _, conjuncts, always = self._tiers[chosen]
        reason = TierReason(tier=book.tiers[chosen].id,
                            conditions=[] if always else [check(c, values, shown) for c in conjuncts])
        return chosen, reason, higher

    def explained_json(self, values: Mapping[str, Any], chosen: int, shown: Mapping[str, Any]) -> str:
        """The JSON of :meth:`explain`'s tier reason and higher tiers, as a decision holds them
        (``,"tier_reason":{...},"higher_tiers":[...]``), written directly."""
        known, tiers = self._check_texts, self._tiers
        higher = []
        for tier_json, conjuncts, _ in tiers[:chosen]:
            failed = [text for text, holds in (check_json(c, values, shown, known) for c in conjuncts) if not holds]
            higher.append('{"tier":' + tier_json + ',"failed":[' + ",".join(failed) + "]}")
        tier_json, conjuncts, always = tiers[chosen]
        conditions = [] if always else [check_json(c, values, shown, known)[0] for c in conjuncts]
        return (',"tier_reason":{"tier":' + tier_json + ',"conditions":[' + ",".join(conditions)
                + ']},"higher_tiers":[' + ",".join(higher) + "]")

    def tier_of(self, values: Mapping[str, Any]) -> int:
        """The first tier whose condition holds for the signals and scores in ``values`` (the
        parsed conditions, as the durable adapter evaluates tiers)."""
        return cond.first_holding(self._tier_conditions, values)

    def artifacts_of(self, chosen: int, values: Mapping[str, Any]) -> list[ArtifactRef]:
        """The artifacts of tier ``chosen`` whose conditions hold for ``values``; never cached."""
        tier_id = self.rulebook.tiers[chosen].id
        return [ref for tiers, condition, ref in self._artifact_checks if tier_id in tiers and condition.holds(values)]

"""The decision pipeline for one item: the rules that fire, the scores, the tier, the decision.

Matching the scoring rules is the matcher's job (``engine/match``: durable-rules or the
reference evaluator, wrapped in the memo layer); everything after it (summing, clamping,
totals) is this module's, shared by both matchers so that a property test comparing them
checks the matching itself. The explanation and artifacts are :mod:`.explain`'s, the what-if
search :mod:`.whatif`'s, the byte-level JSON :mod:`.encode`'s; :class:`Classifier` puts them
together and is what the rest of the engine calls.

One switch, ``Classifier(..., memo=False)``, turns every cache off: the matcher is not wrapped
in the memo layer and every cache of the pipeline, the explainer and the encoder is bypassed,
so the property tests can compare the memoised path with the plain one.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from ..items.model import ItemBase
from ..match import ENGINES, Matcher, make_matcher
from ..match.memo import MemoMatcher, independent_groups, keyer, remember
from ..rulebook.model import Rulebook
from .decision import (
    CapacityNote,
    Decision,
    Explanation,
    FiredRule,
    OverrideNote,
    RulebookRef,
    SignalChange,
    ValueChange,
    construct,
)
from .encode import Encoder
from .explain import Explained, Explainer, check
from .whatif import WhatIf

# ENGINES, make_matcher, independent_groups and check lived here before matching and
# explaining had modules of their own: re-exported for the modules that import them from here
__all__ = ["ENGINES", "Classifier", "check", "independent_groups", "make_matcher"]


class Classifier:
    """Classifies items under one rulebook. Build one per rulebook and reuse it.

    ``memo=False`` turns every cache off (the plain path: the matcher runs for every item and
    every part of a decision is built afresh). ``match_cache=False`` only makes the matcher
    run for every item: the memo layer and the caches keyed on the line key (which skip the
    matcher) are off, the caches after the matcher stay."""

    def __init__(self, rulebook: Rulebook, engine: str = "durable", *, memo: bool = True, match_cache: bool = True):
        match_cache = match_cache and memo
        self.rulebook = rulebook
        self.engine = engine
        self.memo = memo
        # the engine's own matcher, unwrapped (its callers ask it for tiers, tests for its handle)
        self.matcher: Matcher = make_matcher(rulebook, engine)
        # what the pipeline asks which rules fire: the memo layer around the matcher, or the
        # matcher itself
        self.matching: Matcher = MemoMatcher(self.matcher) if match_cache else self.matcher
        self.ref = RulebookRef(name=rulebook.name, version=rulebook.version, hash=rulebook.hash)
        self._dims = [(name, d.min, d.max) for name, d in rulebook.dimensions.items()]
        self._totals = [(name, list(w.items())) for name, w in rulebook.totals.items()]
        self._rule_scores = [list(r.score.items()) for r in rulebook.rules]
        self.fired_models = [FiredRule(rule=r.id, because=r.because, score=dict(r.score)) for r in rulebook.rules]
        self.explainer = Explainer(rulebook, self.matcher, memo=memo)
        # The line key of an item: the interval classes of the signals that rules, tiers and
        # artifacts read, and the exact values of those tier conditions read (see
        # encode.Encoder for why a decision after its item and title is a function of it).
        self.line_key = keyer(rulebook, [o.condition for o in (*rulebook.rules, *rulebook.tiers, *rulebook.artifacts)],
                              exact=self.explainer.tier_signals)
        # The tier, keyed on the line key. Sound: the fired rules (so the scores) are a
        # function of the interval classes of the signals rules read, and the tier of the
        # scores and the signals tier conditions read. Off with the match cache: a hit skips
        # the matcher.
        self._tiers: dict[Any, int] | None = {} if match_cache else None
        # Fired rules, scores and the scores as a key, keyed on the fired rules (a tuple of
        # indices). Sound: the scores are a function of the fired set alone. One shared object
        # per set, so that the parts built from it downstream are shared too (and the
        # encoder's id()-keyed pieces find them).
        self._by_fired: dict[tuple[int, ...], tuple[list[int], dict[str, int], tuple]] | None = {} if memo else None
        self.encoder = Encoder(self, self._tiers, memo=memo, by_line=match_cache)
        # a batch's inner loop: the method below, bound straight to the encoder's (a kept
        # decision costs a few microseconds, and a call in between is a measurable part of it)
        self.decide_json = self.encoder.decide_json
        self.whatif = WhatIf(rulebook)

    # ---- the steps ----------------------------------------------------------------------
    def scores(self, fired: Iterable[int]) -> dict[str, int]:
        sums = dict.fromkeys(self.rulebook.dimensions, 0)
        for i in fired:
            for dim, points in self._rule_scores[i]:
                sums[dim] += points
        scores = {name: min(hi, max(lo, sums[name])) for name, lo, hi in self._dims}
        for name, weights in self._totals:
            scores[name] = sum(scores[d] * w for d, w in weights)
        return scores

    def fired(self, signals: Mapping[str, Any]) -> list[int]:
        """The indices of the scoring rules that fire, in rulebook order."""
        return self._match(signals)[0]

    def _match(self, signals: Mapping[str, Any]) -> tuple[list[int], dict[str, int], tuple]:
        """Fired rules, scores and the scores as a key (``tuple(scores.values())``)."""
        fired = tuple(self.matching.fired(signals))
        cache = self._by_fired
        if cache is None:
            scores = self.scores(fired)
            return list(fired), scores, tuple(scores.values())
        found = cache.get(fired)
        if found is None:
            scores = self.scores(fired)
            found = (list(fired), scores, tuple(scores.values()))
            remember(cache, fired, found)
        return found

    def tier_index(self, signals: Mapping[str, Any]) -> int:
        """Only the tier (no explanation): the inner loop of the what-if search and the audit."""
        tiers = self._tiers
        if tiers is None:
            return self.matcher.tier({**signals, **self._match(signals)[1]})
        line_key = self.line_key(signals)
        tier = tiers.get(line_key)
        if tier is None:
            tier = self.matcher.tier({**signals, **self._match(signals)[1]})
            remember(tiers, line_key, tier)
        return tier

    def parts(self, signals: Mapping[str, Any]) -> tuple[list[int], dict[str, int], Explained, list]:
        """The parts of an item's decision: fired rules, scores, the tier with its reasons,
        the artifacts; shared with other decisions when memoised, so never to be changed."""
        fired, scores, score_key = self._match(signals)
        explained, artifacts = self.explainer.tier_and_artifacts(signals, scores, score_key)
        return fired, scores, explained, artifacts

    def decide(self, item: ItemBase) -> Decision:
        return self.decide_signals(item.key, item.title, item.signal_values())

    def decide_signals(self, key: str, title: str, signals: Mapping[str, Any]) -> Decision:
        fired, scores, score_key = self._match(signals)  # parts(), inline: it runs per item
        (chosen, reason, higher), artifacts = self.explainer.tier_and_artifacts(signals, scores, score_key)
        tier = self.rulebook.tiers[chosen]
        fired_models = self.fired_models
        # every part is already a validated model: skip validating them again
        return construct(Decision, {
            "item": key, "title": title, "tier": tier.id, "label": tier.label, "kind": tier.kind,
            "scores": dict(scores),  # each decision owns its scores
            "fired": [fired_models[i] for i in fired], "tier_reason": reason, "higher_tiers": higher,
            "artifacts": artifacts, "rulebook": self.ref, "capacity": None, "override": None,
        })

    def decide_json(self, key: str, title: str, signals: Mapping[str, Any]) -> bytes:
        """``decide_signals(...).model_dump_json()`` as UTF-8 bytes, without building the decision
        (each instance binds this name to its encoder's method, which does the work)."""
        return self.encoder.decide_json(key, title, signals)

    def classify(self, items: Iterable[ItemBase]) -> Iterator[Decision]:
        """Decisions for a stream of items, in order; nothing is held beyond the current item."""
        for item in items:
            yield self.decide(item)

    def _decision(self, key: str, title: str, fired: list[int], scores: dict[str, int], values: dict[str, Any],
                  chosen: int, capacity: CapacityNote | None = None) -> Decision:
        """A decision built and validated from scratch, with no cache: the plain construction."""
        tier = self.rulebook.tiers[chosen]
        _, reason, higher = self.explainer.explain(values, chosen)
        artifacts = self.explainer.artifacts_of(chosen, values)
        return Decision(
            item=key,
            title=title,
            tier=tier.id,
            label=tier.label,
            kind=tier.kind,
            scores=scores,
            fired=[self.fired_models[i] for i in fired],
            tier_reason=reason,
            higher_tiers=higher,
            artifacts=artifacts,
            rulebook=self.ref,
            capacity=capacity,
            override=None,
        )

    # ---- after the rules: capacity and overrides ------------------------------------------
    def moved(self, item: ItemBase, decision: Decision, tier_id: str, reason: str) -> Decision:
        """The decision moved to another tier by a roadmap-level rule (capacity), saying why;
        the artifacts are those of the tier it lands in."""
        return self.moved_signals(item.signal_values(), decision, tier_id, reason)

    def moved_signals(self, signals: Mapping[str, Any], decision: Decision, tier_id: str, reason: str) -> Decision:
        """:meth:`moved`, from the item's signals."""
        fired = [i for i, r in enumerate(self.rulebook.rules) if r.id in {f.rule for f in decision.fired}]
        note = CapacityNote(computed_tier=decision.capacity.computed_tier if decision.capacity else decision.tier,
                            reason=reason)
        return self._decision(decision.item, decision.title, fired, decision.scores, {**signals, **decision.scores},
                              self.rulebook.tier_index[tier_id], note)

    def moved_json(self, key: str, title: str, signals: Mapping[str, Any], tier_id: str, reason: str) -> bytes:
        """``moved_signals(...).model_dump_json()`` as UTF-8 bytes."""
        return self.encoder.moved_json(key, title, signals, tier_id, reason)

    def overridden(self, signals: Mapping[str, Any], decision: Decision, note: OverrideNote) -> Decision:
        """The decision with the team's override applied: the tier it commits to and that tier's
        artifacts; the rules' reasoning (why this tier, why not the higher ones) stays as the
        rules gave it, beside the override's reason."""
        tier = self.rulebook.tier_by_id[note.tier]
        values = {**signals, **decision.scores}
        return decision.model_copy(update={
            "tier": tier.id, "label": tier.label, "kind": tier.kind, "override": note,
            "artifacts": self.explainer.artifacts_of(self.rulebook.tier_index[tier.id], values)})

    # ---- what would change the tier -----------------------------------------------------
    def candidates(self, signal: str, current: Any) -> list[Any]:
        """Values worth trying for one signal (see :meth:`.whatif.WhatIf.candidates`)."""
        return self.whatif.candidates(signal, current)

    def what_would_change(self, signals: Mapping[str, Any]) -> list[SignalChange]:
        """The smallest single-signal changes that move the item to another tier, each with the
        tier it gives: higher tiers first, then signals in rulebook order."""
        return self.whatif.what_would_change(signals, self.tier_index)

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

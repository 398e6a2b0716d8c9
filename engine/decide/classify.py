"""The decision pipeline for one item: the rules that fire, the scores, the tier, the decision.

Matching the scoring rules is the matcher's job (``engine/match``): on the fast path the alpha
tables (``match/tables.py``: one lookup per signal for the rules that test one signal at a
time) with the engine's matcher (durable-rules or the reference evaluator) behind the memo
layer for the others; on the plain path the engine's matcher alone. Everything after it
(summing, clamping, totals: :class:`Scorer`) is this module's, shared by every matcher so that
a property test comparing them checks the matching itself. The explanation and artifacts are
:mod:`.explain`'s, the what-if search :mod:`.whatif`'s, the byte-level JSON :mod:`.encode`'s;
:class:`Classifier` puts them together and is what the rest of the engine calls.

One switch, ``Classifier(..., memo=False)``, turns every cache off: no alpha tables, no memo
layer, and every cache of the pipeline, the explainer and the encoder is bypassed, so the
property tests can compare the fast path with the plain one.
"""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Any, Iterable, Iterator, Mapping

from ..items.model import ItemBase
from ..match import ENGINES, Matcher, make_matcher
from ..match.memo import ByteCache, independent_groups, keyer
from ..match.tables import AlphaTables, indices, mask_of
from ..rulebook import conditions as cond
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


# an item's matched rules: the fired rules (indices), the scores, the scores as a key
# (``tuple(scores.values())``), the JSON of the scores and fired rules, and the scores that
# tier conditions read (a key: a tier and its explanation depend on no other score)
Matched = tuple[list[int], dict[str, int], tuple, bytes, tuple]


class Scorer:
    """The fired rules and scores of an item, from the fired rules as bits (the alpha tables'
    mask), and kept per set of fired rules in a bounded cache (the scores are a function of
    that set alone; one shared tuple per set, so that what is built from it is shared too).

    A set not seen before is read a byte at a time: per byte of the mask, a table gives the
    rules of its bits, their points on every dimension packed into one int (each dimension a
    field wide enough for any sum, offset to stay positive), and their JSON; so a set of 30
    rules costs a few additions, not 30 dictionary updates."""

    def __init__(self, rulebook: Rulebook, mask: Any, fired_json: list[str], *, memo: bool = True):
        self._mask = mask  # signals -> the fired rules as bits
        dims = list(rulebook.dimensions)
        self._dims = [(name, d.min, d.max) for name, d in rulebook.dimensions.items()]
        self._totals = [(name, list(w.items())) for name, w in rulebook.totals.items()]
        self._rule_scores = [list(r.score.items()) for r in rulebook.rules]
        biggest = max([sum(abs(r.score.get(d, 0)) for r in rulebook.rules) for d in dims], default=0)
        width = biggest.bit_length() + 2
        self._fields = [(name, k * width) for k, name in enumerate(dims)]
        self._field, self._half = (1 << width) - 1, 1 << (width - 1)
        self._offset = sum(1 << (width - 1) << (k * width) for k in range(len(dims)))
        self._packed = [sum(points << (dims.index(d) * width) for d, points in r.score.items()) for r in rulebook.rules]
        self._fired_json = fired_json
        # per byte of the mask, its 256 values, each filled when first met (see _byte)
        self._bytes: list[list[tuple | None]] = [[None] * 256 for _ in range(0, len(rulebook.rules), 8)]
        # the scores' JSON: {"name":value,...} with the names encoded once
        self._scores_json = "{{" + ",".join(json.dumps(n, ensure_ascii=False).replace("{", "{{").replace("}", "}}") + ":{}"
                                            for n in (*dims, *rulebook.totals)) + "}}"
        read = {n for t in rulebook.tiers for n in cond.names(t.condition)}
        tier_scores = [n for n in (*dims, *rulebook.totals) if n in read]
        self._tier_scores = (lambda scores: ()) if not tier_scores else (  # a tuple, whatever their number
            itemgetter(*tier_scores) if len(tier_scores) > 1 else lambda scores: (scores[tier_scores[0]],))
        self._by_mask: ByteCache | None = ByteCache() if memo else None
        # The scores, keyed on the packed points of the fired rules. Sound: the scores are a
        # function of the points summed per dimension (clamped, then totalled), and many sets of
        # rules sum alike.
        self._by_sums: ByteCache | None = ByteCache() if memo else None

    def scores(self, fired: Iterable[int]) -> dict[str, int]:
        """The scores of a set of fired rules, added rule by rule (the plain construction)."""
        sums = {name: 0 for name, _, _ in self._dims}
        for i in fired:
            for dim, points in self._rule_scores[i]:
                sums[dim] += points
        return self._clamped(sums)

    def _clamped(self, sums: dict[str, int]) -> dict[str, int]:
        scores = {name: min(hi, max(lo, sums[name])) for name, lo, hi in self._dims}
        for name, weights in self._totals:
            scores[name] = sum(scores[d] * w for d, w in weights)
        return scores

    def matched(self, signals: Mapping[str, Any]) -> Matched:
        mask = self._mask(signals)
        cache = self._by_mask
        if cache is None:
            return self.of_mask(mask)
        found = cache.data.get(mask)
        if found is None:
            found = self.of_mask(mask)
            cache.put(mask, found, len(found[3]) + 16 * len(found[0]))
        return found

    def _byte(self, at: int, value: int) -> tuple:
        """The rules of one byte of a mask (byte ``at``), their packed points and their JSON."""
        rules = tuple(8 * at + bit for bit in range(8) if value >> bit & 1)
        entry = (rules, sum(self._packed[i] for i in rules), ",".join([self._fired_json[i] for i in rules]))
        self._bytes[at][value] = entry
        return entry

    def review(self, lookups: int) -> None:
        if self._by_mask is not None:
            self._by_sums.review(self._by_mask.misses)  # looked up once per miss of the masks
            self._by_mask.review(lookups)

    def of_mask(self, mask: int) -> Matched:
        """The matched rules of a mask, a byte at a time."""
        fired: list[int] = []
        parts = []
        packed = self._offset
        tables, at = self._bytes, 0
        while mask:
            value = mask & 255
            if value:
                rules, points, text = tables[at][value] or self._byte(at, value)
                fired += rules
                packed += points
                parts.append(text)
            mask >>= 8
            at += 1
        sums = self._by_sums
        found = sums.data.get(packed) if sums is not None else None
        if found is None:
            found = self._scores_of(packed)
            if sums is not None:
                sums.put(packed, found, 2 * len(found[2]))
        scores, score_key, scores_json, tier_scores = found
        return fired, scores, score_key, (scores_json + ",".join(parts) + "]").encode(), tier_scores

    def _scores_of(self, packed: int) -> tuple[dict[str, int], tuple, str, tuple]:
        """The scores of packed points: clamped, with the totals; as a key, as JSON (up to the
        fired rules' list), and the scores tier conditions read."""
        field, half = self._field, self._half
        scores = self._clamped({name: ((packed >> shift) & field) - half for name, shift in self._fields})
        score_key = tuple(scores.values())
        return scores, score_key, ',"scores":' + self._scores_json.format(*score_key) + ',"fired":[', self._tier_scores(scores)


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
        self.match_cache = match_cache
        # the engine's own matcher, unwrapped (its callers ask it for tiers, tests for its handle)
        self.matcher: Matcher = make_matcher(rulebook, engine)
        # what the pipeline asks which rules fire: the alpha tables (separable rules by table
        # lookups, the others through the memo layer around the matcher), or the matcher itself
        self.matching: Matcher = AlphaTables(self.matcher) if match_cache else self.matcher
        self.ref = RulebookRef(name=rulebook.name, version=rulebook.version, hash=rulebook.hash)
        self.fired_models = [FiredRule(rule=r.id, because=r.because, score=dict(r.score)) for r in rulebook.rules]
        self.fired_json = [m.model_dump_json() for m in self.fired_models]
        if isinstance(self.matching, AlphaTables):
            mask = self.matching.mask
        else:
            matcher = self.matcher  # (a closure over the matcher, not over self: no cycle)
            mask = lambda signals: mask_of(matcher.fired(signals))  # noqa: E731
        self.scorer = Scorer(rulebook, mask, self.fired_json, memo=memo)
        self.explainer = Explainer(rulebook, self.matcher, memo=memo)
        # The interval classes of the signals that tier conditions read (see encode.Encoder).
        self.tier_key = keyer(rulebook, [t.condition for t in rulebook.tiers])
        # The tier, keyed on (the scores, the tier key). Sound: the tier is a function of the
        # scores and the interval classes of the signals tier conditions read.
        self._tiers: ByteCache | None = ByteCache() if memo else None
        self.encoder = Encoder(self, memo=memo)
        # a batch's inner loop: the method below, bound straight to the encoder's (a kept
        # decision costs a few microseconds, and a call in between is a measurable part of it)
        self.decide_json = self.encoder.decide_json
        self.whatif = WhatIf(rulebook)

    # ---- the steps ----------------------------------------------------------------------
    def scores(self, fired: Iterable[int]) -> dict[str, int]:
        return self.scorer.scores(fired)

    def scores_of(self, signals: Mapping[str, Any]) -> Mapping[str, int]:
        """An item's scores (dimensions and totals): shared with every item of the same fired
        rules when memoised, so never to be changed."""
        return self.scorer.matched(signals)[1]

    def fired(self, signals: Mapping[str, Any]) -> list[int]:
        """The indices of the scoring rules that fire, in rulebook order."""
        return self.scorer.matched(signals)[0]

    def tier_index(self, signals: Mapping[str, Any]) -> int:
        """Only the tier (no explanation): the inner loop of the what-if search and the audit."""
        matched = self.scorer.matched(signals)
        tiers = self._tiers
        if tiers is None:
            return self.matcher.tier({**signals, **matched[1]})
        key = (matched[4], self.tier_key(signals))
        tier = tiers.data.get(key)
        if tier is None:
            tier = self.explainer.tier_of({**signals, **matched[1]})
            tiers.put(key, tier)
        return tier

    def review(self, lookups: int) -> None:
        """Whether the caches looked up once per item pay (the encoder asks, see ByteCache)."""
        self.scorer.review(lookups)

    def parts(self, signals: Mapping[str, Any]) -> tuple[list[int], dict[str, int], Explained, list]:
        """The parts of an item's decision: fired rules, scores, the tier with its reasons,
        the artifacts; shared with other decisions when memoised, so never to be changed."""
        fired, scores, score_key, _, _ = self.scorer.matched(signals)
        explained, artifacts = self.explainer.tier_and_artifacts(signals, scores, score_key)
        return fired, scores, explained, artifacts

    def decide(self, item: ItemBase) -> Decision:
        return self.decide_signals(item.key, item.title, item.signal_values())

    def decide_signals(self, key: str, title: str, signals: Mapping[str, Any]) -> Decision:
        fired, scores, score_key, _, _ = self.scorer.matched(signals)  # parts(), inline: it runs per item
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

    def what_would_change(self, signals: Mapping[str, Any], *, moves_only: bool = False) -> list[SignalChange]:
        """The smallest single-signal changes that move the item to another tier, each with the
        tier it gives: higher tiers first, then signals in rulebook order. With ``moves_only``,
        only those the team can decide (the rulebook's ``moves`` per signal)."""
        return self.whatif.what_would_change(signals, self.tier_index, self.scores_of, moves_only=moves_only)

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
            decision=self.decide(item), changed=changed,
            what_would_change=self.what_would_change(signals, moves_only=True)
        )

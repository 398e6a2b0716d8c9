"""From an item to a decision: scores, tier, the reasons, the artifacts, and what would change it.

Matching the scoring rules is the matcher's job (durable-rules, or the reference evaluator);
everything after it (summing, clamping, totals, explanation, artifacts) is this module's,
shared by both matchers so that a property test comparing them checks the matching itself.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, Mapping

from ..rulebook import conditions as cond
from .decision import (
    ArtifactRef,
    CapacityNote,
    ConditionCheck,
    Decision,
    Explanation,
    FiredRule,
    HigherTier,
    OverrideNote,
    RulebookRef,
    SignalChange,
    TierReason,
    ValueChange,
    construct,
)
from ..errors import EngineUnavailable
from ..items.model import ItemBase
from ..rulebook.model import EnumSignal, IntSignal, Rulebook

ENGINES = ("durable", "reference")
CACHE_LIMIT = 100_000  # entries per memo; the spaces are small, this only bounds pathological rulebooks


def _remember(cache: dict, key: Any, value: Any) -> None:
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def _keyer(rulebook: Rulebook, conditions: list[cond.Condition], exact: Iterable[str] = ()) -> Callable[[Mapping[str, Any]], Any]:
    """A function giving, for an item's signals, a key that two items share exactly when every
    one of these conditions answers them alike: the values of the signals the conditions read,
    an int reduced to the interval between the cut points the conditions compare it with.
    Signals named in ``exact`` keep their value (an explanation shows it). The key is built by
    an ``itemgetter`` and a ``bisect`` per int: it is computed for every item."""
    read = dict.fromkeys(n for c in conditions for n in cond.names(c) if n in rulebook.signals)
    read.update(dict.fromkeys(exact))
    ints = [(n, cond.cut_points(conditions, n)) for n in read
            if isinstance(rulebook.signals[n], IntSignal) and n not in exact]
    classed = {n for n, _ in ints}
    plain = [n for n in read if n not in classed]
    if not plain:
        get: Callable[[Mapping[str, Any]], Any] = lambda signals: ()  # noqa: E731
    else:
        get = itemgetter(*plain)  # one name gives the value itself: still a key
    if not ints:
        return get
    if len(ints) == 1:
        (name, cuts), = ints
        return lambda signals: (get(signals), bisect_right(cuts, signals[name]))
    if len(ints) == 2:
        (n1, c1), (n2, c2) = ints
        return lambda signals: (get(signals), bisect_right(c1, signals[n1]), bisect_right(c2, signals[n2]))
    return lambda signals: (get(signals), *[bisect_right(cuts, signals[n]) for n, cuts in ints])


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_string = json.encoder.encode_basestring  # what _encode does with a str, without its checks


def independent_groups(rulebook: Rulebook) -> list[list[int]]:
    """The scoring rules (indices) in groups such that no two groups read a common signal,
    each group as small as that allows, in rulebook order."""
    owner: dict[str, int] = {}  # signal -> the first rule read it (union-find over rules)
    parent = list(range(len(rulebook.rules)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, rule in enumerate(rulebook.rules):
        for name in cond.names(rule.condition):
            if name in owner:
                parent[root(i)] = root(owner[name])
            else:
                owner[name] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(rulebook.rules)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def make_matcher(rulebook: Rulebook, engine: str = "durable"):
    if engine == "durable":
        from ..match.durable import DurableMatcher

        return DurableMatcher(rulebook)
    if engine == "reference":
        from ..match.reference import ReferenceMatcher

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

    def __init__(self, rulebook: Rulebook, engine: str = "durable", *, match_cache: bool = True):
        self.rulebook = rulebook
        self.matcher = make_matcher(rulebook, engine)
        self.engine = engine
        # Whether a rule fires depends only on the signals it reads, and for an int signal only
        # on the interval between the thresholds that rules compare it with. Rules that share no
        # signal are independent: the rules fall into groups (most default rules read one signal
        # each), and which rules of a group fire is memoised on that group's exact key. The
        # matcher runs on an item only when one of its groups meets a case not seen before, so
        # it runs a few dozen times for a batch of thousands (and the what-if search, lint and
        # the audit repeat cases all the time).
        self._groups: list[tuple[list[int], Callable[[Mapping[str, Any]], Any], dict]] | None = [
            (members, _keyer(rulebook, [rulebook.rules[i].condition for i in members]), {})
            for members in independent_groups(rulebook)
        ] if match_cache else None
        self._ref = RulebookRef(name=rulebook.name, version=rulebook.version, hash=rulebook.hash)
        self._dims = [(name, d.min, d.max) for name, d in rulebook.dimensions.items()]
        self._totals = [(name, list(w.items())) for name, w in rulebook.totals.items()]
        self._rule_scores = [list(r.score.items()) for r in rulebook.rules]
        self._fired_models = [FiredRule(rule=r.id, because=r.because, score=dict(r.score)) for r in rulebook.rules]
        # (reading a pydantic private attribute is slow: the conditions are looked up once)
        self._artifact_checks = [
            (set(a.tiers), a.condition, ArtifactRef(id=a.id, name=a.name, owner=a.owner, category=a.category, effort=a.effort))
            for a in rulebook.artifacts
        ]
        # The tier and its explanation depend only on the scores and the few signals that tier
        # conditions read; the artifacts only on the tier and what their conditions read. Both
        # spaces are small, so they are computed once per distinct key and shared (decisions are
        # frozen), which keeps the per-item work to matching and summing.
        # (explanations show the actual values, so the tier key keeps them; artifacts only need
        # the interval class of an int)
        self._tier_signals = [n for n in dict.fromkeys(
            name for t in rulebook.tiers for name in cond.names(t.condition)) if n in rulebook.signals]
        self._artifact_key = _keyer(rulebook, [a.condition for a in rulebook.artifacts])
        # the scores that artifact conditions read (often none: then the artifacts of a tier
        # depend on a few signals only)
        read_by_artifacts = dict.fromkeys(n for a in rulebook.artifacts for n in cond.names(a.condition))
        self._artifact_scores = [n for n in (*rulebook.dimensions, *rulebook.totals) if n in read_by_artifacts]
        # A decision's JSON after its item and title, and its tier, depend on nothing but what
        # rules, tiers and artifacts read: that tail (as encoded pieces shared between
        # decisions) and the tier are kept per line key, with the match cache only (without
        # it, every item must go through the matcher).
        self._line_key = _keyer(rulebook, [o.condition for o in (*rulebook.rules, *rulebook.tiers, *rulebook.artifacts)],
                                exact=self._tier_signals)
        self._tails: dict[Any, tuple[bytes, ...]] | None = {} if match_cache else None
        self._tiers: dict[Any, int] | None = {} if match_cache else None
        # a decision that capacity moved: its JSON after the item and title depends on the line
        # key, the tier it lands in and the reason, and nothing else (moved_json)
        self._moved_tails: dict[Any, bytes] | None = {} if match_cache else None
        self._by_fired: dict[tuple[int, ...], tuple[list[int], dict[str, int], tuple]] = {}
        self._explained: dict[tuple, tuple[int, TierReason, list[HigherTier]]] = {}
        self._chosen_artifacts: dict[tuple, list[ArtifactRef]] = {}
        self._fragments: dict[int, tuple[Any, str]] = {}
        self._pieces: dict[int, tuple[Any, Any]] = {}
        self._rulebook_tail = (',"rulebook":' + self._ref.model_dump_json() + "}").encode()

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
        """Only the tier (no explanation): the inner loop of the what-if search and the audit."""
        tiers = self._tiers
        if tiers is None:
            return self.matcher.tier({**signals, **self._match(signals)[1]})
        line_key = self._line_key(signals)  # the tier is a function of it
        tier = tiers.get(line_key)
        if tier is None:
            tier = self.matcher.tier({**signals, **self._match(signals)[1]})
            _remember(tiers, line_key, tier)
        return tier

    def decide(self, item: ItemBase) -> Decision:
        return self.decide_signals(item.key, item.title, item.signal_values())

    def fired(self, signals: Mapping[str, Any]) -> list[int]:
        """The indices of the scoring rules that fire, in rulebook order."""
        return self._match(signals)[0]

    def _match(self, signals: Mapping[str, Any]) -> tuple[list[int], dict[str, int], tuple]:
        """Fired rules, scores and the scores as a key: one shared object per set of fired
        rules (the scores are a function of that set alone), so that the parts built from it
        downstream are shared too."""
        fired = tuple(self._fired(signals))
        found = self._by_fired.get(fired)
        if found is None:
            scores = self.scores(fired)
            found = (list(fired), scores, tuple(scores.values()))
            _remember(self._by_fired, fired, found)
        return found

    def _fired(self, signals: Mapping[str, Any]) -> Iterable[int]:
        groups = self._groups
        if groups is None:
            return self.matcher.fired(signals)
        keys = [key(signals) for _, key, _ in groups]
        known = [memo.get(k) for (_, _, memo), k in zip(groups, keys)]
        if None not in known:
            return sorted(i for part in known for i in part) if len(known) > 1 else known[0]
        fired = self.matcher.fired(signals)
        did = set(fired)
        for (members, _, memo), k, part in zip(groups, keys, known):
            if part is None:
                _remember(memo, k, tuple(i for i in members if i in did))
        return fired

    def decide_signals(self, key: str, title: str, signals: Mapping[str, Any]) -> Decision:
        fired, scores, explained, artifacts = self._parts(signals)
        chosen, reason, higher = explained
        tier = self.rulebook.tiers[chosen]
        fired_models = self._fired_models
        # every part is already a validated model: skip validating them again
        return construct(Decision, {
            "item": key, "title": title, "tier": tier.id, "label": tier.label, "kind": tier.kind,
            "scores": dict(scores),  # each decision owns its scores
            "fired": [fired_models[i] for i in fired], "tier_reason": reason, "higher_tiers": higher,
            "artifacts": artifacts, "rulebook": self._ref, "capacity": None, "override": None,
        })

    def decide_json(self, key: str, title: str, signals: Mapping[str, Any]) -> bytes:
        """``decide_signals(...).model_dump_json()`` as UTF-8 bytes, without building the
        decision. Everything after the item and title is the same for every item with the same
        line key, and is kept encoded; on a new key the text is put together from pieces encoded
        once per shared part (the explanation, the fired rules with their scores, the artifacts)."""
        head = ('{"item":' + _string(key) + ',"title":' + _string(title)).encode()
        tails = self._tails
        if tails is None:
            return b"".join((head, *self._tail(signals)[0]))
        line_key = self._line_key(signals)
        tail = tails.get(line_key)
        if tail is None:
            tail, chosen = self._tail(signals)
            _remember(tails, line_key, tail)
            _remember(self._tiers, line_key, chosen)  # the tier comes with it (the audit asks next)
        return b"".join((head, *tail))

    def _tail(self, signals: Mapping[str, Any]) -> tuple[tuple[bytes, ...], int]:
        """The rest of a decision's JSON as encoded pieces, each shared by every decision with
        the same part (a tail costs a tuple, not the 2.5 KB of text: a stream of a million
        varied items meets tens of thousands of line keys); and the index of the tier."""
        fired, scores, explained, artifacts = self._parts(signals)
        head, reasons = self._piece(explained, self._explained_json)
        return (
            head,
            self._piece(fired, lambda f: (',"scores":' + _encode(scores) + ',"fired":['
                                          + ",".join(self._fragment(self._fired_models[i]) for i in f) + "]").encode()),
            reasons,
            self._piece(artifacts, lambda a: (',"artifacts":[' + ",".join(self._fragment(x) for x in a) + "]").encode()),
            self._rulebook_tail,
        ), explained[0]

    def _piece(self, part: Any, build: Any) -> Any:
        known = self._pieces.get(id(part))
        if known is None or known[0] is not part:  # holding the part keeps its id unique
            known = (part, build(part))
            _remember(self._pieces, id(part), known)
        return known[1]

    def _explained_json(self, explained: tuple[int, TierReason, list[HigherTier]]) -> tuple[str, str]:
        chosen, reason, higher = explained
        tier = self.rulebook.tiers[chosen]
        head = f',"tier":{_encode(tier.id)},"label":{_encode(tier.label)},"kind":{_encode(tier.kind)}'
        reasons = (f',"tier_reason":{self._fragment(reason)},"higher_tiers":['
                   + ",".join(self._fragment(h) for h in higher) + "]")
        return head.encode(), reasons.encode()

    def _parts(self, signals: Mapping[str, Any]) -> tuple[list[int], dict[str, int], tuple, list[ArtifactRef]]:
        fired, scores, score_key = self._match(signals)
        tier_key = (score_key, *[signals[n] for n in self._tier_signals])
        explained = self._explained.get(tier_key)
        if explained is None:
            values = {**signals, **scores}
            explained = self._explain(values, self.matcher.tier(values))
            _remember(self._explained, tier_key, explained)
        chosen = explained[0]
        art_key = (chosen, *[scores[n] for n in self._artifact_scores], self._artifact_key(signals))
        artifacts = self._chosen_artifacts.get(art_key)
        if artifacts is None:
            artifacts = self._artifacts_of(chosen, {**signals, **scores})
            _remember(self._chosen_artifacts, art_key, artifacts)
        return fired, scores, explained, artifacts

    def _explain(self, values: Mapping[str, Any], chosen: int) -> tuple[int, TierReason, list[HigherTier]]:
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

    def _artifacts_of(self, chosen: int, values: Mapping[str, Any]) -> list[ArtifactRef]:
        tier_id = self.rulebook.tiers[chosen].id
        return [ref for tiers, condition, ref in self._artifact_checks if tier_id in tiers and condition.holds(values)]

    def _decision(self, key: str, title: str, fired: list[int], scores: dict[str, int], values: dict[str, Any],
                  chosen: int, capacity: CapacityNote | None = None) -> Decision:
        tier = self.rulebook.tiers[chosen]
        _, reason, higher = self._explain(values, chosen)
        artifacts = self._artifacts_of(chosen, values)
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
            override=None,
        )

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

    def overridden(self, signals: Mapping[str, Any], decision: Decision, note: OverrideNote) -> Decision:
        """The decision with the team's override applied: the tier it commits to and that tier's
        artifacts; the rules' reasoning (why this tier, why not the higher ones) stays as the
        rules gave it, beside the override's reason."""
        tier = self.rulebook.tier_by_id[note.tier]
        values = {**signals, **decision.scores}
        return decision.model_copy(update={
            "tier": tier.id, "label": tier.label, "kind": tier.kind, "override": note,
            "artifacts": self._artifacts_of(self.rulebook.tier_index[tier.id], values)})

    def moved_json(self, key: str, title: str, signals: Mapping[str, Any], tier_id: str, reason: str) -> bytes:
        """``moved_signals(...).model_dump_json()`` as UTF-8 bytes, its tail kept per line key,
        tier and reason (a quarter's overflow shares one reason)."""
        head = ('{"item":' + _string(key) + ',"title":' + _string(title)).encode()
        cache = self._moved_tails
        line = (self._line_key(signals), tier_id, reason) if cache is not None else None
        tail = cache.get(line) if cache is not None else None
        if tail is None:
            decision = self.moved_signals(signals, self.decide_signals(key, title, signals), tier_id, reason)
            whole = decision.model_dump_json().encode()
            tail = whole[len(head):]
            if cache is not None:
                _remember(cache, line, tail)
        return head + tail

    def _fragment(self, model: Any) -> str:
        known = self._fragments.get(id(model))
        if known is None or known[0] is not model:
            known = (model, model.model_dump_json())  # holding the model keeps its id unique
            _remember(self._fragments, id(model), known)
        return known[1]

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

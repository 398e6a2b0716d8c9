"""The decision pipeline, the one way every command comes to an item's tier:

    rules → capacity → override

The rules give each item a tier (:class:`~.classify.Classifier`). The roadmap's capacity (the
rulebook's ``capacity``, per quarter) keeps the best-ranked candidates of a tier and moves the
others one tier down, where they compete again. An override recorded in the ledger sets the tier
the team committed to, for as long as the rules and capacity still give the tier it overrode.
Each stage is kept in the decision as data (``Decision.capacity``, ``Decision.override``), and
``Decision.set_by`` names the stage that set the final tier. Artifacts follow the final tier.

**The roadmap, for capacity**, is the items decided together (the files of one command), and,
with a ledger, the latest recorded decision of every other item planned for one of the same
quarters. So a quarter recorded in two batches ends as it would in one: the second batch ranks
its items against those recorded before, and ``record`` records again, as the same batch, the
earlier items whose decision that changes (:attr:`Plan.context`). Those earlier items are
decided again from their recorded item under the current rulebook; one that no longer fits it
cannot be ranked and keeps its recorded decision.

A :class:`Plan` is computed in one pass over the items, keeping only the capacity candidates
(an item with a quarter whose rules give a tier with a capacity) and the items with a standing
override: streamed batches of any size are planned in little memory, and every other item's
decision is its rules' decision unchanged.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, NamedTuple, Sequence

from .classify import Classifier
from .decision import Decision, Explanation, OverrideNote
from ..errors import InputError, ItemError, Problem
from ..items.model import ItemBase, ItemReader
from ..rulebook.model import Rulebook
from ..rulebook.diff import RuleChange, causes

if TYPE_CHECKING:
    from ..ledger.store import LedgerStore

def rank_keys(book: Rulebook, tier: str) -> list[str]:
    """The scores that rank the candidates of a capacity tier, highest first (then the key)."""
    cap = book.capacity[tier]
    return list(cap.rank) if cap.rank else list(book.totals) + list(book.dimensions)


def ranking_text(book: Rulebook, tier: str) -> str:
    return "by " + ", then ".join(rank_keys(book, tier)) + " (highest first), then key"


class Candidate(NamedTuple):
    """An item competing for a place of a capacity tier in its quarter."""

    key: str
    quarter: str
    tier: str  # the tier its rules give
    scores: Mapping[str, int]


class Move(NamedTuple):
    """Where capacity moves an item, and why (plain text: a plan travels to worker processes)."""

    tier: str
    reason: str


def capacity_moves(book: Rulebook, candidates: Iterable[Candidate]) -> dict[str, Move]:
    """Per quarter and capacity tier, from the highest tier down: the best-ranked candidates keep
    their places, the others move one tier down (and compete there if it has a capacity too)."""
    tier_of: dict[str, str] = {}
    by_quarter: dict[str, list[Candidate]] = {}
    for c in candidates:
        tier_of[c.key] = c.tier
        by_quarter.setdefault(c.quarter, []).append(c)
    moves: dict[str, Move] = {}
    for quarter, members in by_quarter.items():
        for index, tier in enumerate(book.tiers[:-1]):
            cap = book.capacity.get(tier.id)
            if cap is None:
                continue
            competing = [c for c in members if tier_of[c.key] == tier.id]
            if len(competing) <= cap.max:
                continue
            keys = rank_keys(book, tier.id)
            ranked = sorted(competing, key=lambda c: ([-c.scores[k] for k in keys], c.key))
            kept = [c.key for c in ranked[: cap.max]]
            taken = ", ".join(kept) if kept else "no item (capacity 0)"
            below = book.tiers[index + 1].id
            # one Move for the quarter's whole overflow: a streamed roadmap may move many items
            move = Move(below, f"{tier.id} capacity of {cap.max} for {quarter} taken by {taken}; moved to {below}")
            for c in ranked[cap.max:]:
                tier_of[c.key] = below
                moves[c.key] = move
    return moves


class Standing(NamedTuple):
    """An override recorded in the ledger, and the tier it overrode (after rules and capacity):
    it applies while the pipeline still gives that tier."""

    basis: str
    note: OverrideNote
    quarter: str | None


def standing_overrides(records: Iterable[Any]) -> dict[str, Standing]:
    """The override of each item's latest recorded decision (a ``DecisionRecord``): the last
    override entry that followed it, or the override its decision was recorded with."""
    standing = {}
    for rec in records:
        carried = rec.decision.override
        basis = carried.from_tier if carried is not None else rec.decision.tier
        if rec.overrides:
            o = rec.overrides[-1]
            note = OverrideNote(tier=o.tier, from_tier=basis, reason=o.reason, by=o.by,
                                approved_by=list(o.approved_by), seq=o.seq, at=o.at)
        elif carried is not None:
            note = carried
        else:
            continue
        standing[rec.item] = Standing(basis, note, rec.quarter)
    return standing


class Plan(NamedTuple):
    """What capacity and overrides change in a roadmap's decisions."""

    moves: dict[str, Move]  # by item key: the items capacity moves down
    overrides: dict[str, Standing]  # by item key: the overrides recorded in the ledger
    context: list[tuple[ItemBase, Decision]]  # earlier recorded items whose decision this roadmap changes
    warnings: list[str]  # quarters that overrides take over a capacity

    def finish(self, classifier: Classifier, item: ItemBase, decision: Decision) -> Decision:
        """The item's final decision, from the decision its rules give."""
        return self.finish_signals(classifier, item.signal_values(), decision)

    def finish_signals(self, classifier: Classifier, signals: Mapping[str, Any], decision: Decision) -> Decision:
        """:meth:`finish`, from the item's signals (the decision names the item)."""
        move = self.moves.get(decision.item)
        if move is not None:
            decision = classifier.moved_signals(signals, decision, move.tier, move.reason)
        return apply_override(classifier, signals, decision, self.overrides.get(decision.item))

    def changes(self, key: str) -> bool:
        """Whether the item's final decision may differ from its rules' decision."""
        return key in self.moves or key in self.overrides

    def to_json(self) -> bytes:
        """The moves and overrides (what deciding an item needs) as JSON, for worker processes."""
        return json.dumps({
            "moves": self.moves,
            "overrides": {k: [s.basis, s.note.model_dump(mode="json"), s.quarter] for k, s in self.overrides.items()},
        }, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "Plan":
        raw = json.loads(data)
        moves = {k: Move(*m) for k, m in raw["moves"].items()}
        overrides = {k: Standing(b, OverrideNote.model_validate(n), q) for k, (b, n, q) in raw["overrides"].items()}
        return cls(moves, overrides, [], [])


def apply_override(classifier: Classifier, signals: Mapping[str, Any], decision: Decision,
                   standing: Standing | None) -> Decision:
    if standing is None or standing.basis != decision.tier or standing.note.tier == decision.tier:
        return decision
    if standing.note.tier not in classifier.rulebook.tier_by_id:
        return decision  # the tier it committed to is gone from the rulebook: the audit says so
    return classifier.overridden(signals, decision, standing.note)


class Part(NamedTuple):
    """What a plan needs of some of a roadmap's items (a worker's share of a large batch): the
    capacity candidates, the tier of each item whose key the ledger knows, and the quarters."""

    candidates: list[Candidate]
    known: dict[str, str]  # key -> the tier its rules give, for the keys the ledger knows
    quarters: set[str]


class PartBuilder:
    """Takes items one at a time (``(key, quarter, signals)``) and gives their :class:`Part`."""

    def __init__(self, book: Rulebook, classifier: Classifier, known_keys: frozenset[str]):
        self.book, self.classifier, self.known_keys = book, classifier, known_keys
        self.candidates: list[Candidate] = []
        self.known: dict[str, str] = {}
        self.quarters: set[str] = set()

    def take(self, key: str, quarter: str | None, signals: Mapping[str, Any]) -> None:
        if quarter:
            self.quarters.add(quarter)
        candidate = _candidate(self.book, self.classifier, key, quarter, signals)
        if candidate is not None:
            self.candidates.append(candidate)
        if key in self.known_keys:
            if key in self.known:
                raise _twice(key)
            self.known[key] = candidate.tier if candidate is not None else _tier(self.book, self.classifier, signals)

    def part(self) -> Part:
        return Part(self.candidates, self.known, self.quarters)


def _twice(key: str) -> ItemError:
    return ItemError([Problem("appears twice in the roadmap: an item's key is unique across the files decided together",
                              item=key, field="key")])


class Planner:
    """Builds the :class:`Plan` of a roadmap from its items, in one pass or from parts."""

    def __init__(self, book: Rulebook, classifier: Classifier, ledger: LedgerStore | None = None):
        self.book, self.classifier, self.ledger = book, classifier, ledger
        # only what the plan needs of the ledger, never its whole history: the overridden items'
        # latest decisions now, the latest decisions of the roadmap's quarters when planning
        self.standing = standing_overrides(ledger.maybe_overridden()) if ledger is not None else {}
        # the keys whose tier the plan needs: the ledger's (its items of the same quarters take
        # part unless the roadmap holds them) and the overridden ones
        self.known_keys = (ledger.latest_keys() if ledger is not None else frozenset()) | frozenset(self.standing)
        self.parts: list[Part] = []

    def builder(self) -> PartBuilder:
        return PartBuilder(self.book, self.classifier, self.known_keys)

    def add(self, items: Iterable[ItemBase]) -> None:
        builder = self.builder()
        for i in items:
            builder.take(i.key, i.quarter, i.signal_values())
        self.parts.append(builder.part())

    def plan(self) -> Plan:
        book, classifier = self.book, self.classifier
        candidates: list[Candidate] = []
        given: dict[str, str] = {}  # key -> the tier its rules give, for the override tallies
        quarters: set[str] = set()
        for part in self.parts:
            candidates += part.candidates
            quarters |= part.quarters
            for key, tier in part.known.items():
                if key in given:
                    raise _twice(key)
                given[key] = tier
        seen = set(given)
        keys = [c.key for c in candidates]
        if len(set(keys)) != len(keys):
            counts = Counter(keys)  # counted once: ``keys.count`` per key would be quadratic
            raise _twice(next(k for k in keys if counts[k] > 1))
        given.update((c.key, c.tier) for c in candidates)
        # the ledger's other items of the same quarters take part in the ranking: read twice
        # (to rank, then to see whose decision the ranking changes), one item at a time
        with self.ledger.reading() if self.ledger is not None else nullcontext():
            for item, _, _ in self._others(seen, quarters):
                signals = item.signal_values()
                candidate = _candidate(book, classifier, item.key, item.quarter, signals)
                if item.key in self.standing:  # the override tallies need only these
                    given[item.key] = candidate.tier if candidate is not None else _tier(book, classifier, signals)
                if candidate is not None:
                    candidates.append(candidate)
            moves = capacity_moves(book, candidates)
            result = Plan(moves, self.standing, [], [])
            context = []
            for item, e, final_tier in self._others(seen, quarters):
                final = result.finish(classifier, item, classifier.decide(item))
                if final.tier != final_tier or final.capacity != self.ledger.decision(e).capacity:
                    context.append((item, final))
        warnings = _overridden_past_capacity(book, candidates, moves, self.standing, given)
        self.parts = []  # planned: the candidates are not needed any more
        return Plan(moves, self.standing, context, warnings)

    def _others(self, seen: set[str], quarters: set[str]) -> Iterator[tuple[ItemBase, Any, str]]:
        """The ledger's latest decisions of ``quarters`` whose items the roadmap does not hold:
        each item as recorded (validated under the rulebook), its entry and its final tier."""
        if self.ledger is None or not quarters:
            return
        reader = ItemReader(self.book)
        for e, final_tier in self.ledger.latest_entries(sorted(quarters)):
            if e.item_key in seen or e.item_key not in self.known_keys:  # (known_keys: recorded by then)
                continue
            try:
                item = reader.validate(json.loads(e.item_json), file=f"ledger entry {e.seq}")
            except (InputError, ValueError, RecursionError):
                continue  # no longer fits the rulebook: it cannot be ranked, its recorded decision stands
            yield item, e, final_tier


def plan(book: Rulebook, classifier: Classifier, items: Iterable[ItemBase], ledger: LedgerStore | None = None) -> Plan:
    """The plan of a roadmap: ``items`` (read once; any iterable) decided together, with the
    ledger's overrides and its other items of the same quarters when a ledger is given."""
    planner = Planner(book, classifier, ledger)
    planner.add(items)
    return planner.plan()


def _tier(book: Rulebook, classifier: Classifier, signals: Mapping[str, Any]) -> str:
    return book.tiers[classifier.tier_index(signals)].id


def _candidate(book: Rulebook, classifier: Classifier, key: str, quarter: str | None,
               signals: Mapping[str, Any]) -> Candidate | None:
    if not quarter or not book.capacity:
        return None
    tier = _tier(book, classifier, signals)
    if tier not in book.capacity:
        return None
    # the scores are the classifier's shared dict (never changed), the quarter one string per
    # quarter: a streamed roadmap may hold many candidates
    return Candidate(key, sys.intern(quarter), tier, classifier.scores_of(signals))


def _overridden_past_capacity(book: Rulebook, candidates: list[Candidate], moves: dict[str, Move],
                              standing: dict[str, Standing], given: dict[str, str]) -> list[str]:
    """The quarters where overrides put more items in a capacity tier than it allows."""
    quarter_of = {c.key: c.quarter for c in candidates}
    final = {c.key: moves[c.key].tier if c.key in moves else c.tier for c in candidates}
    overridden = set()
    for key, s in standing.items():
        if key not in given:
            continue
        before = moves[key].tier if key in moves else given[key]
        if s.basis == before and s.note.tier != before and s.note.tier in book.tier_by_id:
            final[key] = s.note.tier
            quarter_of[key] = quarter_of.get(key) or s.quarter
            overridden.add(key)
    warnings = []
    for tier, cap in book.capacity.items():
        by_quarter: dict[str, list[str]] = {}
        for key, t in final.items():
            if t == tier and quarter_of.get(key):
                by_quarter.setdefault(quarter_of[key], []).append(key)
        for quarter in sorted(by_quarter):
            keys = sorted(by_quarter[quarter])
            if len(keys) > cap.max and overridden & set(keys):
                warnings.append(_past_capacity(quarter, tier, cap.max, keys, overridden))
    return warnings


def _past_capacity(quarter: str, tier: str, most: int, keys: list[str], overridden: set[str]) -> str:
    named = ", ".join(f"{k} (override)" if k in overridden else k for k in keys)
    return f"{quarter} has {len(keys)} {tier} item{'' if len(keys) == 1 else 's'}, over its capacity of {most}: {named}"


def overridden_past_capacity(ledger: LedgerStore, key: str) -> list[str]:
    """After an override of ``key``: whether its quarter now holds more items of the tier it
    went to than the capacity (of the rulebook its decision was made under) allows."""
    rec = next((r for r, _ in ledger.latest_of_items([key])), None)
    if rec is None or not rec.quarter:
        return []
    cap = ledger.rulebook(rec.rulebook["hash"]).capacity.get(rec.final_tier)
    if cap is None:
        return []
    keys, overridden = [], set()  # of the quarter's latest decisions, read one at a time
    for r in ledger.iter_latest([rec.quarter]):
        if r.final_tier == rec.final_tier:
            keys.append(r.item)
            if r.final_tier != r.computed_tier:
                overridden.add(r.item)
    keys.sort()
    if len(keys) <= cap.max:
        return []
    return [_past_capacity(rec.quarter, rec.final_tier, cap.max, keys, overridden)]


def decide_roadmap(book: Rulebook, items: list[ItemBase], *, classifier: Classifier | None = None,
                   engine: str = "durable", ledger: LedgerStore | None = None) -> tuple[list[Decision], Plan]:
    """Every item's final decision, in order, and the plan that made them."""
    classifier = classifier or Classifier(book, engine)
    made = plan(book, classifier, items, ledger)
    return [made.finish(classifier, item, classifier.decide(item)) for item in items], made


def record_decisions(ledger: LedgerStore, book: Rulebook, pairs: list[tuple[ItemBase, Decision]], made: Plan, *,
                     by: str, note: str | None = None) -> Sequence[int]:
    """Record a roadmap's final decisions and, in the same batch, the earlier items whose
    decision it changes (:attr:`Plan.context`): all or nothing. Returns their entries' numbers.
    (``record``'s large batches take the streaming path: :mod:`engine.roadmap.record`.)"""
    from ..ledger.records import encode_pairs

    return ledger.record(book, encode_pairs([*pairs, *made.context]), by=by, note=note)


class Recorded(NamedTuple):
    seqs: Sequence[int]
    decisions: list[Decision]  # of the items given, in order
    plan: Plan


def record_roadmap(ledger: LedgerStore, book: Rulebook, items: list[ItemBase], *, engine: str = "durable", by: str,
                   note: str | None = None) -> Recorded:
    """Decide a roadmap through the pipeline, with the ledger's overrides and items, and record
    it, in one transaction: another writer's batch comes before or after, never in between."""
    with ledger.writing():
        decisions, made = decide_roadmap(book, items, engine=engine, ledger=ledger)
        seqs = record_decisions(ledger, book, list(zip(items, decisions)), made, by=by, note=note)
    return Recorded(seqs, decisions, made)


def explain_item(book: Rulebook, items: list[ItemBase], item: ItemBase, *, original: ItemBase | None = None,
                 engine: str = "durable", ledger: LedgerStore | None = None) -> Explanation:
    """One item of a roadmap in full, through the pipeline: its final decision (the roadmap's
    capacity and the ledger's overrides applied), what single change would move the tier its
    rules give, and, with a ledger, its precedents. ``item`` may be a what-if of ``original``:
    it takes the original's place in the roadmap."""
    classifier = Classifier(book, engine)
    roadmap = [item if i.key == item.key else i for i in items]
    made = plan(book, classifier, roadmap, ledger)
    ex = classifier.explain(item, original)
    decision = made.finish(classifier, item, ex.decision)
    found = []
    if ledger is not None:
        from .precedents import CANDIDATES, rank_precedents

        found = rank_precedents(book, decision.tier, item.signal_values(),
                                ledger.precedent_candidates(exclude=item.key, limit=CANDIDATES))
    return ex.model_copy(update={"decision": decision, "precedents": found})


def decide_item(book: Rulebook, items: list[ItemBase], item: ItemBase, *, engine: str = "durable",
                ledger: LedgerStore | None = None) -> Decision:
    """One item's final decision, decided with the rest of its roadmap (and the ledger)."""
    classifier = Classifier(book, engine)
    return plan(book, classifier, items, ledger).finish(classifier, item, classifier.decide(item))


def why_changed(changes: list[RuleChange], before: Decision, after: Decision, books: tuple[Rulebook, Rulebook],
                signals: tuple[Mapping[str, Any], Mapping[str, Any]]) -> list[RuleChange]:
    """Why an item's final tier differs between two decisions (under ``books``, old and new, with
    the item's ``signals`` as each reads them), by the stage that differs: the rule changes that
    matter to the item when its rules give another tier (see :func:`.rulebook.diff.causes`); else
    the capacity (the rulebook's, or the ranking in its quarter); and an override that stood
    before and no longer does."""
    out = []
    if before.rules_tier != after.rules_tier:
        out += causes(changes, before, after, books, signals)
    elif _computed(before) != _computed(after):
        cap = [c for c in changes if c.part == "capacity"]
        detail = (f"now {after.capacity.reason}" if after.capacity is not None
                  else f"no longer moved by capacity (was: {before.capacity.reason})" if before.capacity is not None
                  else "moved by capacity")
        out += cap or [RuleChange(part="capacity", id=after.rules_tier, change="ranking", detail=detail)]
    if before.override is not None and (after.override is None or after.override.tier != before.override.tier):
        o = before.override
        out.append(RuleChange(part="override", id=f"#{o.seq}", change="no longer matches",
                              detail=f"it overrode {o.from_tier} into {o.tier}; the rules and capacity now give {_computed(after)}"))
    return out


def _computed(d: Decision) -> str:
    """The tier before any override: what the rules and the capacity give."""
    return d.override.from_tier if d.override is not None else d.tier

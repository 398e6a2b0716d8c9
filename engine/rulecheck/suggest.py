"""Rule changes the team's overrides argue for: ``launchtier rules suggest``.

Every override says "the rules got this one wrong". The search looks for small edits of the
rulebook under which the rules give the committed tier of overridden items while every other
recorded decision keeps the tier the current rulebook gives it:

- a rule's points on a dimension (``differentiation-first``: +1 → +2 market impact);
- a threshold of a rule's or a tier's condition (``customer_reach ≥ 50`` → ``≥ 40``,
  tier-1's ``market_impact ≥ 3`` → ``≥ 2``);
- a condition widened or narrowed by one value (``differentiation: first`` → ``in [first,
  better]``), or one part of a condition dropped;
- a new rule of one signal value worth one point on one dimension.

The search is exact, not a heuristic: an edit's effect on every recorded item is computed by
replaying the rulebook as written (the reference evaluator's semantics), on the distinct signal
combinations of the ledger. An int signal only matters between thresholds, so a threshold is only
tried at the values recorded items hold (and the ones either side); scores are bounded by their
dimensions, so points are tried over a dimension's span. Edits are ranked by the overrides they
explain against the other decisions they change, then by their size; combinations of up to
``max_changes`` edits are searched among the best single edits, greedily when there are too many.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from bisect import bisect_right
from math import comb
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, NamedTuple

from ..match.reference import holds
from ..rulebook.conditions import Compare, cuts_of
from ..rulebook.model import BoolSignal, EnumSignal, IntSignal, Rulebook

# Reasons that say an override is about circumstances, not the rules, when the rulebook does not
# name its own (``suggest: {circumstances: [...]}``): such overrides are left out of the search.
DEFAULT_CIRCUMSTANCES = ("capacity", "budget")
MAX_CHANGES = 4
COMBINATION_BUDGET = 4_000  # exact evaluations of combinations before the search turns greedy
BEST_SINGLES = 30  # the single edits combinations are built from


# ---- what the ledger says ------------------------------------------------------------------
class Recorded(NamedTuple):
    """The latest decision of one item, as the search reads it."""

    key: str
    title: str
    signals: Mapping[str, Any]  # valid under the rulebook searched
    committed: str | None  # the tier of the override that stands; None: not overridden
    reason: str | None = None
    by: str | None = None


# ---- edits ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Edit:
    """One small change of the rulebook's data (``Rulebook.model_dump(mode="json")``)."""

    kind: str  # points | threshold | widen | narrow | drop | new-rule
    section: str  # rules | tiers
    index: int  # the rule's or tier's position (a new rule: appended)
    path: tuple  # from the rule or tier down to the value changed
    before: Any
    after: Any  # None with kind drop: the entry is removed
    size: int
    words: str

    def clashes(self, other: "Edit") -> bool:
        """Whether the two edits change the same thing (one's place holds the other's): such
        edits are never combined."""
        if self.kind == "new-rule" or other.kind == "new-rule":
            return self.kind == other.kind and self.after["id"] == other.after["id"]
        if (self.section, self.index) != (other.section, other.index):
            return False
        n = min(len(self.path), len(other.path))
        return self.path[:n] == other.path[:n]

    def apply(self, data: Any, value: Any = copy.deepcopy) -> None:
        """Make the edit in ``data`` (the rulebook's data, or its YAML document), the value set
        made by ``value`` from the edit's."""
        if self.kind == "new-rule":
            data["rules"].append(value(self.after))
            return
        node = data[self.section][self.index]
        for step in self.path[:-1]:
            node = node[step]
        if self.after is None:
            del node[self.path[-1]]
        else:
            node[self.path[-1]] = value(self.after)

    def field(self, book: Rulebook) -> str:
        """Where the edit is in the rulebook, as a field path: rules[3].when.customer_reach.gte."""
        if self.kind == "new-rule":
            return f"rules[{len(book.rules)}]"
        return f"{self.section}[{self.index}]." + ".".join(str(s) if not isinstance(s, int) else f"[{s}]" for s in self.path).replace(".[", "[")


def _leaves(when: Any, path: tuple = ()) -> Iterator[tuple[tuple, str, Any]]:
    """Each comparison of a condition as written: (path to its value, the name, the value)."""
    if not isinstance(when, dict):
        return
    for key, value in when.items():
        if key in ("all", "any"):
            for i, part in enumerate(value):
                yield from _leaves(part, path + (key, i))
        elif key == "not":
            yield from _leaves(value, path + ("not",))
        else:
            yield path + (key,), key, value


def _names(when: Any) -> set[str]:
    return {name for _, name, _ in _leaves(when)}


def _dict_at(when: dict, path: tuple) -> dict:
    node: Any = when
    for step in path:
        node = node[step]
    return node


def _comparison(name: str, op: str, value: Any) -> str:
    return Compare(name, op, value).text()


class _Space:
    """The values worth trying: what recorded items hold, and the rulebook's bounds."""

    def __init__(self, book: Rulebook, cases: list[Mapping[str, Any]]):
        self.book = book
        self.seen: dict[str, list[int]] = {}
        for name, signal in book.signals.items():
            if isinstance(signal, IntSignal):
                self.seen[name] = sorted({c[name] for c in cases})

    def bounds(self, name: str) -> tuple[int, int]:
        info = self.book.namespace[name]
        lo = info.min if info.min is not None else min(self.seen.get(name, [0]) or [0])
        hi = info.max if info.max is not None else max(self.seen.get(name, [0]) or [0]) + 1
        return lo, hi

    def thresholds(self, name: str, current: int) -> list[int]:
        """Thresholds to try for an int name: every value between its bounds for a score (they
        are few), the recorded values and their neighbours for a signal."""
        lo, hi = self.bounds(name)
        if name in self.seen:
            values = {v + d for v in self.seen[name] for d in (-1, 0, 1)} | {lo, hi}
        else:
            values = set(range(lo, hi + 1))
        return sorted(v for v in values if lo <= v <= hi and v != current)


def candidate_edits(book: Rulebook, data: dict, cases: list[Mapping[str, Any]], *, new_rules: bool = True) -> list[Edit]:
    """Every single small edit of the rulebook the search tries."""
    space = _Space(book, cases)
    edits: list[Edit] = []
    dims = book.dimensions
    for i, rule in enumerate(data["rules"]):
        rid = rule["id"]
        for dim, d in dims.items():
            span = d.max - d.min
            now = rule["score"].get(dim, 0)
            for points in range(-span, span + 1):
                if points == now or (points == 0 and len(rule["score"]) == 1 and dim in rule["score"]):
                    continue
                label = d.label.lower()
                if now == 0:
                    words = f"giving rule `{rid}` {points:+d} {label}"
                elif points == 0:
                    words = f"taking {label} off rule `{rid}` (was {now:+d})"
                else:
                    words = f"{'raising' if points > now else 'lowering'} rule `{rid}` from {now:+d} to {points:+d} {label}"
                edits.append(Edit("points", "rules", i, ("score", dim), now or None, points or None, abs(points - now), words))
        edits += _condition_edits(book, space, "rules", i, f"rule `{rid}`", rule["when"])
    for i, tier in enumerate(data["tiers"]):
        if tier.get("when"):
            edits += _condition_edits(book, space, "tiers", i, f"{tier['id']} {tier['label']}", tier["when"])
    if new_rules:
        edits += _new_rule_edits(book, space, data)
    return edits


def _condition_edits(book: Rulebook, space: _Space, section: str, index: int, who: str, when: dict) -> list[Edit]:
    edits: list[Edit] = []
    base = ("when",)
    for path, name, value in _leaves(when):
        info = book.namespace[name]
        where = base + path
        ops = value if isinstance(value, dict) else {"eq": value}
        written_as_literal = not isinstance(value, dict)
        # a part of a condition dropped (when its conjunction has another part)
        parent = _dict_at(when, path[:-1])
        if len(parent) > 1:
            shown = " and ".join(_comparison(name, op, v) for op, v in ops.items())
            edits.append(Edit("drop", section, index, where, value, None, 2,
                              f"dropping `{shown}` from {who}'s condition"))
        for op, operand in ops.items():
            at = where if written_as_literal else where + (op,)
            if op in ("gte", "gt", "lte", "lt") and info.type == "int":
                for t in space.thresholds(name, operand):
                    direction = "lowering" if t < operand else "raising"
                    edits.append(Edit("threshold", section, index, at, operand, t,
                                      1 + abs(_rank(space, name, t) - _rank(space, name, operand)),
                                      f"{direction} {who}'s threshold: {_comparison(name, op, operand)} → "
                                      f"{_comparison(name, op, t)}"))
            elif info.type == "enum" and op in ("eq", "in", "ne", "not_in"):
                current = list(operand) if op in ("in", "not_in") else [operand]
                positive = op in ("eq", "in")
                new_op = "in" if positive else "not_in"
                for v in info.values:
                    if v in current:
                        continue
                    grown = {new_op: current + [v]}
                    kind = "widen" if positive else "narrow"
                    verb = f"also for {name} {v}" if positive else f"no longer for {name} {v}"
                    edits.append(Edit(kind, section, index, where, value, grown, 1,
                                      f"{'widening' if positive else 'narrowing'} {who}: {verb} "
                                      f"({_comparison(name, new_op, current + [v])})"))
                if len(current) > 1:
                    for v in current:
                        rest = [x for x in current if x != v]
                        kind = "narrow" if positive else "widen"
                        verb = f"no longer for {name} {v}" if positive else f"also for {name} {v}"
                        edits.append(Edit(kind, section, index, at, operand, rest, 1,
                                          f"{'narrowing' if positive else 'widening'} {who}: {verb} "
                                          f"({_comparison(name, op, rest)})"))
    return edits


def _rank(space: _Space, name: str, value: int) -> int:
    """How many recorded values lie below ``value``: a threshold's size, in the items it crosses."""
    seen = space.seen.get(name)
    if not seen:
        return value
    return sum(1 for v in seen if v < value)


_ID = re.compile(r"[^a-z0-9]+")


def _new_rule_edits(book: Rulebook, space: _Space, data: dict) -> list[Edit]:
    edits: list[Edit] = []
    taken = {r["id"] for r in data["rules"]}
    for name, signal in book.signals.items():
        conditions: list[tuple[dict, str]] = []
        if isinstance(signal, EnumSignal):
            conditions = [({name: v}, f"{name} {v}") for v in signal.values]
        elif isinstance(signal, BoolSignal):
            conditions = [({name: True}, name), ({name: False}, f"not {name}")]
        elif isinstance(signal, IntSignal):
            lo, _ = space.bounds(name)
            conditions = [({name: {"gte": v}}, f"{name} ≥ {v}") for v in space.seen.get(name, []) if v > lo]
        for when, text in conditions:
            rid = "suggested-" + _ID.sub("-", text.lower().replace("≥", "from")).strip("-")
            if rid in taken:
                continue
            for dim, d in book.dimensions.items():
                for points in (1, -1):
                    rule = {"id": rid, "because": f"suggested by the team's overrides: {text}", "when": when,
                            "score": {dim: points}}
                    edits.append(Edit("new-rule", "rules", len(data["rules"]), (), None, rule, 3,
                                      f"a new rule `{rid}`: when {text}, {points:+d} {d.label.lower()}"))
    return edits


# ---- replaying the ledger's items under an edited rulebook ------------------------------------
class Replay:
    """The rules' tier of each distinct signal combination (a case) under the rulebook, and
    under the rulebook with edits, computed only where the edits can reach.

    Cases with the same points per dimension (before clamping) and the same values of the
    signals tier conditions read are one class: an edit that adds the same points to them gives
    them the same tier, so the tier is computed once per class and change of points."""

    def __init__(self, book: Rulebook, cases: list[Mapping[str, Any]]):
        self.book = book
        self.data = book.model_dump(mode="json")
        self.cases = cases
        self.dims = [(name, d.min, d.max) for name, d in book.dimensions.items()]
        self.totals = [(name, list(w.items())) for name, w in book.totals.items()]
        signals = set(book.signals)
        self.tier_signals = tuple(sorted(signals & set().union(*(_names(t.get("when")) for t in self.data["tiers"]))))
        self._groupings: dict[tuple, dict[tuple, dict[int, list[int]]]] = {}
        self._value_groupings: dict[tuple[str, ...], dict[tuple, dict[int, list[int]]]] = {}
        self._int = {name: isinstance(sig, IntSignal) for name, sig in book.signals.items()}
        classes: dict[tuple, int] = {}
        self.classes: list[tuple[dict[str, int], tuple]] = []  # (points per dimension, tier signals' values)
        self.case_class: list[int] = []
        for case in cases:
            sums = {name: 0 for name, _, _ in self.dims}
            for rule in self.data["rules"]:
                if holds(rule["when"], case):
                    for dim, points in rule["score"].items():
                        sums[dim] += points
            key = (tuple(sums.values()), tuple((s, case[s]) for s in self.tier_signals))
            if key not in classes:
                classes[key] = len(self.classes)
                self.classes.append((sums, key[1]))
            self.case_class.append(classes[key])
        self.members: dict[int, list[int]] = {}
        for i, c in enumerate(self.case_class):
            self.members.setdefault(c, []).append(i)
        self._tier_memo: dict[tuple, str] = {}
        self._class_memo: dict[tuple, str] = {}
        self.class_tiers = [self._class_tier(c, (), self.data["tiers"], self._class_memo, self._tier_memo)
                            for c in range(len(self.classes))]
        self.base_tiers = [self.class_tiers[c] for c in self.case_class]

    def _class_tier(self, c: int, diff: tuple, tiers: list[dict], memo: dict, tier_memo: dict) -> str:
        """The tier of class ``c`` with ``diff`` ((dimension, points), ...) added to its points."""
        tier = memo.get((c, diff))
        if tier is None:
            key = tuple(self.class_scores(c, diff).items()) + self.classes[c][1]
            tier = tier_memo.get(key)
            if tier is None:
                values = dict(key)
                tier = next(t["id"] for t in tiers if holds(t.get("when"), values))
                tier_memo[key] = tier
            memo[(c, diff)] = tier
        return tier

    def _grouping(self, when: Iterable[Any]) -> dict[tuple, dict[int, list[list[int]]]]:
        """The cases by what the conditions ``when`` can tell apart (the values of the names they
        read, an int's as the interval between their thresholds it falls in), and within those
        by class, as lists of cases."""
        cuts: dict[str, set[int]] = {}
        for w in when:
            for _, name, value in _leaves(w):
                ops = value if isinstance(value, dict) else {"eq": value}
                points = cuts.setdefault(name, set())
                if self._int.get(name):
                    for op, operand in ops.items():
                        points.update(cuts_of(op, operand))
        names = tuple(sorted(cuts))
        spec = tuple(tuple(sorted(cuts[n])) if self._int.get(n) else None for n in names)
        groups = self._groupings.get((names, spec))
        if groups is None:
            groups = {}
            for values, by_class in self._by_values(names).items():
                key = tuple(bisect_right(points, v) if points is not None else v for v, points in zip(values, spec))
                into = groups.setdefault(key, {})
                for c, idxs in by_class.items():
                    into.setdefault(c, []).append(idxs)
            if len(self._groupings) < 4096:
                self._groupings[(names, spec)] = groups
        return groups

    def _by_values(self, names: tuple[str, ...]) -> dict[tuple, dict[int, list[int]]]:
        """The cases by their values of ``names``, and within those by class."""
        groups = self._value_groupings.get(names)
        if groups is None:
            groups = {}
            for i, case in enumerate(self.cases):
                groups.setdefault(tuple(case[n] for n in names), {}).setdefault(self.case_class[i], []).append(i)
            self._value_groupings[names] = groups
        return groups

    def edited(self, edits: Iterable[Edit]) -> dict:
        data = {"rules": list(self.data["rules"]), "tiers": list(self.data["tiers"])}
        copied: set[tuple[str, int]] = set()
        for edit in edits:
            if edit.kind != "new-rule" and (edit.section, edit.index) not in copied:
                data[edit.section][edit.index] = copy.deepcopy(data[edit.section][edit.index])
                copied.add((edit.section, edit.index))
            edit.apply(data)
        return data

    def _diffs(self, touched: list[tuple[dict | None, dict]]) -> Iterator[tuple[tuple, dict[int, list[list[int]]]]]:
        """What the rules ``touched`` ((before, after) each; before None: a new rule) add to each
        case's points: (the points added, the cases by class) for each group of cases they add
        the same points to."""
        if not touched:
            return
        conditions = [w for old, new in touched for w in ((new["when"], old["when"]) if old else (new["when"],))]
        for by_class in self._grouping(conditions).values():
            case = self.cases[next(iter(by_class.values()))[0][0]]
            acc: dict[str, int] = {}
            for old, new in touched:
                before = old["score"] if old is not None and holds(old["when"], case) else {}
                after = new["score"] if holds(new["when"], case) else {}
                if before != after:
                    for d in set(before) | set(after):
                        acc[d] = acc.get(d, 0) + after.get(d, 0) - before.get(d, 0)
            diff = tuple(sorted((d, v) for d, v in acc.items() if v))
            if diff:
                yield diff, by_class

    def _touched(self, data: dict) -> list[tuple[dict | None, dict]]:
        """The rules the edited ``data`` changes or adds: (before, after) each, before None for a
        new rule (an edited rule is a copy, an untouched one the same object)."""
        old_rules = self.data["rules"]
        return [(old_rules[i] if i < len(old_rules) else None, new) for i, new in enumerate(data["rules"])
                if i >= len(old_rules) or new is not old_rules[i]]

    def scores_with(self, edits: Iterable[Edit]) -> dict[int, dict[str, int]]:
        """The scores of the cases whose points the edits change, under the edits."""
        out: dict[int, dict[str, int]] = {}
        for diff, by_class in self._diffs(self._touched(self.edited(edits))):
            for c, chunks in by_class.items():
                scores = self.class_scores(c, diff)
                for chunk in chunks:
                    out.update(dict.fromkeys(chunk, scores))
        return out

    def class_scores(self, c: int, diff: tuple = ()) -> dict[str, int]:
        """The scores of class ``c`` with ``diff`` ((dimension, points), ...) added to its points."""
        sums = self.classes[c][0]
        if diff:
            sums = dict(sums)
            for d, v in diff:
                sums[d] += v
        return self.scores(sums)

    def scores(self, sums: Mapping[str, int]) -> dict[str, int]:
        """Points per dimension as scores: each clamped to its dimension's range, and the totals."""
        scores = {name: min(hi, max(lo, sums[name])) for name, lo, hi in self.dims}
        for name, weights in self.totals:
            scores[name] = sum(scores[d] * w for d, w in weights)
        return scores

    def changed(self, edits: Iterable[Edit]) -> dict[int, str]:
        """The cases whose rules' tier the edits change, with their new tier."""
        edits = list(edits)
        data = self.edited(edits)
        touched = self._touched(data)
        tiers_edited = any(e.section == "tiers" for e in edits)
        memo, tier_memo = ({}, {}) if tiers_edited else (self._class_memo, self._tier_memo)
        tiers = data["tiers"]
        result: dict[int, str] = {}
        moved: set[int] = set()  # the cases whose points change
        for diff, by_class in self._diffs(touched):
            for c, chunks in by_class.items():
                if tiers_edited:
                    for idxs in chunks:
                        moved.update(idxs)
                tier = self._class_tier(c, diff, tiers, memo, tier_memo)
                if tier != self.class_tiers[c]:
                    for idxs in chunks:
                        result.update(dict.fromkeys(idxs, tier))
        if tiers_edited:  # the cases whose points stay: their class's tier under the edited tiers
            for c, idxs in self.members.items():
                tier = self._class_tier(c, (), tiers, memo, tier_memo)
                if tier != self.class_tiers[c]:
                    for idx in idxs:
                        if idx not in moved:
                            result[idx] = tier
        return result


# ---- the search ---------------------------------------------------------------------------------
class Moved(NamedTuple):
    item: str
    title: str
    before: str  # the rules' tier under the current rulebook
    after: str  # under the suggestion


class Overridden(NamedTuple):
    item: str
    title: str
    rules: str  # the rules' tier under the current rulebook
    committed: str  # the override's
    reason: str
    by: str
    signals: Mapping[str, Any] = {}


@dataclass
class Suggestion:
    edits: list[Edit]
    n_explains: int  # overrides the edited rules now agree with
    n_changes: int  # decisions nobody overrode whose tier the edits change
    n_breaks: int  # overrides the rules agreed with that they no longer do
    effect: tuple = ()  # what the edits do, to keep one suggestion per effect
    # filled in for the suggestions reported
    explains: list[Overridden] = field(default_factory=list)
    elsewhere: list[Moved] = field(default_factory=list)  # overrides moved, but not to the committed tier
    changes: list[Moved] = field(default_factory=list)
    breaks: list[Moved] = field(default_factory=list)
    unexplained: list[Overridden] = field(default_factory=list)

    @property
    def rank(self) -> tuple:
        others = self.n_changes + self.n_breaks
        return (others - self.n_explains, others, len(self.edits), sum(e.size for e in self.edits))


@dataclass
class Search:
    """What was searched, for the report."""

    singles: int = 0
    pool: int = 0  # the single edits combinations were built from
    combinations: int = 0
    max_changes: int = 1
    greedy: bool = False
    note: str | None = None


@dataclass
class SuggestResult:
    decisions: int  # latest decisions read
    open_overrides: list[Overridden]  # overrides the rules still disagree with: the search's targets
    agreeing_overrides: list[Overridden]  # overrides the current rules already agree with
    circumstantial: list[Overridden]  # overrides whose reason names a circumstance: left out
    suggestions: list[Suggestion]
    search: Search


def circumstances_of(book: Rulebook) -> tuple[str, ...]:
    policy = book.suggest
    if policy is not None and policy.circumstances is not None:
        return tuple(policy.circumstances)
    return DEFAULT_CIRCUMSTANCES


def is_circumstantial(reason: str | None, words: Iterable[str]) -> bool:
    return reason is not None and any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", reason, re.IGNORECASE) for w in words)


def search(book: Rulebook, recorded: list[Recorded], *, max_changes: int = 2, top: int = 5,
           new_rules: bool = True) -> SuggestResult:
    """The best small rulebook edits for the overrides among ``recorded``."""
    circumstances = circumstances_of(book)
    cases: list[Mapping[str, Any]] = []
    case_of: dict[tuple, int] = {}
    index: list[int] = []
    for r in recorded:
        frozen = tuple(sorted(r.signals.items()))
        if frozen not in case_of:
            case_of[frozen] = len(cases)
            cases.append(r.signals)
        index.append(case_of[frozen])
    replay = Replay(book, cases)

    def overridden(r: Recorded, rules_tier: str) -> Overridden:
        return Overridden(r.key, r.title, rules_tier, r.committed or "", r.reason or "", r.by or "", r.signals)

    targets: list[tuple[int, Recorded]] = []  # open overrides: (case, record)
    agreeing, circumstantial = [], []
    kept_by_case: dict[int, list[Recorded]] = {}  # decisions the team did not override, and agreeing overrides
    for r, c in zip(recorded, index):
        base = replay.base_tiers[c]
        if r.committed is not None and is_circumstantial(r.reason, circumstances):
            circumstantial.append(overridden(r, base))
        elif r.committed is not None and r.committed != base:
            targets.append((c, r))
        else:
            if r.committed is not None:
                agreeing.append(overridden(r, base))
            kept_by_case.setdefault(c, []).append(r)
    open_overrides = [overridden(r, replay.base_tiers[c]) for c, r in targets]
    result = SuggestResult(len(recorded), open_overrides, agreeing, circumstantial, [], Search(max_changes=max_changes))
    if not targets:
        return result
    target_cases = {c for c, _ in targets}

    kept_count: dict[int, tuple[int, int]] = {  # per case: decisions not overridden, overrides agreed with
        c: (sum(r.committed is None for r in rs), sum(r.committed is not None for r in rs)) for c, rs in kept_by_case.items()}

    targets_of: dict[int, list[int]] = {}  # per case, the open overrides of its items (their place in targets)
    for t, (c, _) in enumerate(targets):
        targets_of.setdefault(c, []).append(t)

    # the overridden items' own replay: whether an edit explains any of them is asked of every
    # edit, and they are few beside the ledger
    target_list = sorted(target_cases)
    treplay = Replay(book, [cases[c] for c in target_list])

    def judged(edits: list[Edit], detail: bool = False, tmoved: dict[int, str] | None = None) -> Suggestion | None:
        """The edits' effect, when they explain an open override (None otherwise); ``tmoved``:
        what they do to the overridden items' replay, when already known."""
        explained: list[int] = []
        for j, tier in (treplay.changed(edits) if tmoved is None else tmoved).items():
            for t in targets_of[target_list[j]]:
                if targets[t][1].committed == tier:
                    explained.append(t)
        if not explained:
            return None
        moved = replay.changed(edits)
        n_changes = n_breaks = 0
        for c in moved:
            counts = kept_count.get(c)
            if counts is not None:
                n_changes += counts[0]
                n_breaks += counts[1]
        s = Suggestion(edits, len(explained), n_changes, n_breaks, (frozenset(explained), frozenset(moved.items())))
        if detail:
            chosen = set(explained)
            for t, (c, r) in enumerate(targets):
                base = replay.base_tiers[c]
                if t in chosen:
                    s.explains.append(overridden(r, base))
                elif c in moved:
                    s.elsewhere.append(Moved(r.key, r.title, base, moved[c]))
                else:
                    s.unexplained.append(overridden(r, base))
            for c, tier in moved.items():
                for r in kept_by_case.get(c, ()):
                    (s.breaks if r.committed is not None else s.changes).append(Moved(r.key, r.title, replay.base_tiers[c], tier))
            s.changes.sort()
            s.breaks.sort()
        return s

    order = replay.book.tier_index

    # per open override, the score comparisons of its committed tier's condition: how far its
    # scores fall short of them orders the edits worth combining (the search itself stays exact)
    scored = set(book.dimensions) | set(book.totals)
    wanted = {t: [(name, op, v) for _, name, value in _leaves(replay.data["tiers"][order[r.committed]].get("when"))
                  if name in scored for op, v in (value.items() if isinstance(value, dict) else [("eq", value)])]
              for t, (_, r) in enumerate(targets)}
    base_scores = [treplay.class_scores(c) for c in treplay.case_class]
    shortfalls: dict[tuple, int] = {}

    def shortfall(t: int, scores: Mapping[str, int]) -> int:
        key = (targets[t][1].committed, tuple(scores.values()))
        short = shortfalls.get(key)
        if short is None:
            short = 0
            for name, op, v in wanted[t]:
                x = scores[name]
                short += max(0, v - x) if op in ("gte", "gt") else max(0, x - v) if op in ("lte", "lt") else abs(x - v)
            shortfalls[key] = short
        return short

    def progress(edits: list[Edit]) -> tuple[int, frozenset, dict[int, str]]:
        """How much nearer the edits bring the open overrides to their committed tiers: in tiers
        (weighted) and in the points their scores fall short of its condition; what they do to
        the overridden items (edits that do the same to them are alternatives); and the tiers
        they move the overridden items' cases to."""
        moved = treplay.changed(edits)
        gain = 0
        for j, tier in moved.items():
            for t in targets_of[target_list[j]]:
                goal = order[targets[t][1].committed]
                gain += 10 * (abs(order[treplay.base_tiers[j]] - goal) - abs(order[tier] - goal))
        rescored = treplay.scores_with(edits)
        for j, scores in rescored.items():
            for t in targets_of[target_list[j]]:
                gain += shortfall(t, base_scores[j]) - shortfall(t, scores)
        return gain, frozenset(moved.items()) | frozenset((j, tuple(v.items())) for j, v in rescored.items()), moved

    found: list[Suggestion] = []
    promising: list[tuple[int, int, Edit, frozenset]] = []  # (gain, size, edit, effect) of the edits that bring some override nearer
    edits = candidate_edits(book, replay.data, cases, new_rules=new_rules)
    result.search.singles = len(edits)
    for edit in edits:
        gain, effect, tmoved = progress([edit])
        if not effect:
            continue  # changes nothing of an overridden item: explains nothing, alone or combined
        s = judged([edit], tmoved=tmoved)
        if s is not None:
            found.append(s)
        if gain > 0:
            promising.append((gain, edit.size, edit, effect))
    # combinations: of the edits that bring overrides nearest, the explaining ones first, at
    # most two that do the same to the overridden items (the rest are alternatives)
    explaining = {id(s.edits[0]) for s in found}
    promising.sort(key=lambda g: (id(g[2]) not in explaining, -g[0], g[1]))
    pool, alike = [], {}
    for _, _, edit, effect in promising:
        if alike.get(effect, 0) < 2 and len(pool) < BEST_SINGLES:
            alike[effect] = alike.get(effect, 0) + 1
            pool.append(edit)
    result.search.pool = len(pool) if max_changes > 1 else 0
    if max_changes > 1 and len(pool) > 1:
        total = sum(comb(len(pool), k) for k in range(2, max_changes + 1))
        if total <= COMBINATION_BUDGET:
            for k in range(2, max_changes + 1):
                for combo in itertools.combinations(pool, k):
                    if not any(a.clashes(b) for a, b in itertools.combinations(combo, 2)):
                        result.search.combinations += 1
                        s = judged(list(combo))
                        if s is not None:
                            found.append(s)
        else:
            result.search.greedy = True
            result.search.note = (f"{total:,} combinations of the {len(pool)} most promising single edits is past "
                                  f"the {COMBINATION_BUDGET:,} the search tries exactly: each combination was grown "
                                  "greedily from one of them, adding the best edit at each step")

            def standing(edits: list[Edit]) -> tuple:
                s = judged(edits)
                return (0, s.rank) if s is not None else (1, -progress(edits)[0])

            for start_edit in pool:
                current, now = [start_edit], standing([start_edit])
                for _ in range(max_changes - 1):
                    best_step = None
                    for e in pool:
                        if any(e.clashes(x) for x in current):
                            continue
                        result.search.combinations += 1
                        step = standing(current + [e])
                        if step < now and (best_step is None or step < best_step[0]):
                            best_step = (step, e)
                    if best_step is None:
                        break
                    now = best_step[0]
                    current = current + [best_step[1]]
                    s = judged(current)
                    if s is not None:
                        found.append(s)
    ranked = sorted(_distinct(found), key=lambda s: s.rank)
    result.suggestions = [judged(s.edits, detail=True) for s in ranked[:top]]
    return result


def _distinct(suggestions: list[Suggestion]) -> list[Suggestion]:
    """One suggestion per effect (the same overrides explained, the same decisions moved): the
    smallest."""
    best: dict[tuple, Suggestion] = {}
    for s in suggestions:
        kept = best.get(s.effect)
        if kept is None or s.rank < kept.rank:
            best[s.effect] = s
    return list(best.values())


# ---- from the ledger, and the report --------------------------------------------------------
def recorded_decisions(book: Rulebook, ledger: Any, since: str | None = None) -> tuple[list[Recorded], list[str]]:
    """The latest decision of each item in ``ledger`` (a LedgerStore), the team's committed
    tier beside it; ``since``: only those recorded, or overridden, on or after that date. Also
    what could not be read under ``book`` (an item recorded with signals it no longer has)."""

    from ..errors import InputError
    from ..items.model import ItemReader

    reader = ItemReader(book)
    recorded: list[Recorded] = []
    unreadable: list[str] = []
    for rec, item_json in ledger.latest_of_items(sorted(ledger.latest_keys())):
        standing = rec.overrides[-1] if rec.overrides else rec.decision.override
        last = max([rec.recorded_at] + [o.at for o in rec.overrides])
        if since is not None and last[:10] < since:
            continue
        try:
            item = reader.validate(json.loads(item_json), file=f"entry #{rec.seq}")
        except (InputError, ValueError) as e:
            problems = getattr(e, "problems", None)
            unreadable.append(f"{rec.item} (entry #{rec.seq}): {problems[0].message if problems else e}")
            continue
        recorded.append(Recorded(rec.item, rec.title, item.signal_values(), standing.tier if standing else None,
                                 standing.reason if standing else None, standing.by if standing else None))
    return recorded, unreadable


def _report_models():
    """The report's pydantic models, built when a report is made (the search needs none)."""
    from pydantic import BaseModel, ConfigDict

    class _Out(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

    class SuggestedEdit(_Out):
        kind: str  # points | threshold | widen | narrow | drop | new-rule
        field: str  # where in the rulebook: rules[4].score.market_impact
        of: str  # the rule's or tier's id
        before: Any
        after: Any
        change: str  # in the domain's words

    class OverrideSeen(_Out):
        item: str
        title: str
        rules_tier: str  # under the current rulebook
        committed_tier: str
        reason: str
        by: str

    class TierMove(_Out):
        item: str
        title: str
        from_tier: str
        to_tier: str

    class SuggestionOut(_Out):
        edits: list[SuggestedEdit]
        explains: list[OverrideSeen]
        changes: list[TierMove]  # decisions nobody overrode that the edits move
        breaks: list[TierMove]  # overrides the current rules agree with that the edits move
        elsewhere: list[TierMove]  # overrides moved, but not to the committed tier
        unexplained: list[OverrideSeen]

    class SearchOut(_Out):
        single_edits: int
        combined_from: int  # the single edits that bring the overrides nearest, which combinations are built from
        combinations: int
        max_changes: int
        greedy: bool
        note: str | None

    class SuggestReport(_Out):
        rulebook: dict[str, str]
        ledger: str
        since: str | None
        decisions: int  # the latest decisions read
        unreadable: list[str]  # latest decisions whose item the rulebook cannot read (signals since changed)
        overrides: list[OverrideSeen]  # the overrides the search tries to explain
        agreeing: list[OverrideSeen]  # overrides the current rules already agree with
        circumstantial: list[OverrideSeen]  # left out: their reason names a circumstance
        circumstances: list[str]
        search: SearchOut
        suggestions: list[SuggestionOut]

    return SuggestedEdit, OverrideSeen, TierMove, SuggestionOut, SearchOut, SuggestReport


def suggest_rules(book: Rulebook, ledger_location: str | None, *, since: str | None = None,
                  max_changes: int = 2, top: int = 5, new_rules: bool = True,
                  write_to: str | None = None) -> tuple[Any, "Written | None"]:
    """``rules suggest``: the ledger's latest decisions and overrides read, the search run, and
    the report (a pydantic model); with ``write_to``, the best suggestion written there
    (:func:`write_suggestion`, None when there is none), the place checked before any work."""
    from ..ledger import open_ledger

    targets = _write_targets(book, write_to) if write_to is not None else None
    with open_ledger(ledger_location, readonly=True) as ledger:
        recorded, unreadable = recorded_decisions(book, ledger, since)
        location = ledger.location
    result = search(book, recorded, max_changes=max_changes, top=top, new_rules=new_rules)
    SuggestedEdit, OverrideSeen, TierMove, SuggestionOut, SearchOut, SuggestReport = _report_models()

    def seen(o: Overridden) -> Any:
        return OverrideSeen(item=o.item, title=o.title, rules_tier=o.rules, committed_tier=o.committed, reason=o.reason,
                            by=o.by)

    def moves(ms: list[Moved]) -> list[Any]:
        return [TierMove(item=m.item, title=m.title, from_tier=m.before, to_tier=m.after) for m in ms]

    def of(e: Edit) -> str:
        if e.kind == "new-rule":
            return e.after["id"]
        return book.rules[e.index].id if e.section == "rules" else book.tiers[e.index].id

    report = SuggestReport(
        rulebook=book.summary(), ledger=location, since=since, decisions=result.decisions + len(unreadable),
        unreadable=unreadable, overrides=[seen(o) for o in result.open_overrides],
        agreeing=[seen(o) for o in result.agreeing_overrides], circumstantial=[seen(o) for o in result.circumstantial],
        circumstances=list(circumstances_of(book)),
        search=SearchOut(single_edits=result.search.singles, combined_from=result.search.pool,
                         combinations=result.search.combinations,
                         max_changes=result.search.max_changes, greedy=result.search.greedy, note=result.search.note),
        suggestions=[SuggestionOut(
            edits=[SuggestedEdit(kind=e.kind, field=e.field(book), of=of(e), before=e.before, after=e.after, change=e.words)
                   for e in s.edits],
            explains=[seen(o) for o in s.explains], changes=moves(s.changes), breaks=moves(s.breaks),
            elsewhere=moves(s.elsewhere), unexplained=[seen(o) for o in s.unexplained]) for s in result.suggestions])
    written = None
    if targets is not None and result.suggestions:
        written = write_suggestion(book, result.suggestions[0], *targets)
    return report, written


# ---- --write: the edited rulebook and its rule-test cases ------------------------------------
class Written(NamedTuple):
    """What ``--write`` wrote: the edited rulebook, its rule-test cases, how many."""

    rulebook: str
    cases: str
    count: int


def _write_targets(book: Rulebook, path: str) -> tuple[Any, Any]:
    """Where ``--write path`` writes the rulebook and its cases (``NAME.cases.yaml`` beside it),
    checked: the rulebook is one file, never the target, and the target's folder exists."""
    from pathlib import Path

    from ..errors import ItemError, Problem

    source = Path(book.source) if book.source else None
    target = Path(path)
    if source is None or not source.is_file():
        raise ItemError([Problem("--write edits a rulebook written in one file; this one is "
                                 f"{'a directory' if source is not None and source.is_dir() else 'not a file'}: "
                                 "apply the suggestion by hand", file=str(source) if source else None)])
    if target.resolve() == source.resolve():
        raise ItemError([Problem("--write never edits the rulebook in place; give it a new file", file=str(target))])
    if not target.parent.is_dir():
        raise ItemError([Problem(f"the folder {target.parent} does not exist", file=str(target))])
    return target, target.with_name(target.name.removesuffix(".yaml").removesuffix(".yml") + ".cases.yaml")


def write_suggestion(book: Rulebook, suggestion: Suggestion, target: Any, cases_path: Any) -> Written:
    """Write the rulebook with ``suggestion``'s edits to ``target``, keeping the file's comments
    and layout (ruamel.yaml's round trip), its version marked ``-suggested``; and to
    ``cases_path`` a rule-test case for each override it now agrees with."""
    from pathlib import Path

    from ..files.yamlio import dump_yaml

    text = Path(book.source).read_text(encoding="utf-8")
    target.write_text(_edited_text(text, suggestion.edits, f"{book.version}-suggested"), encoding="utf-8")
    cases = [{"name": f"{o.item} {o.title}: {o.committed}, as the team committed ({o.by}: {o.reason})",
              "item": {"key": o.item, "title": o.title, "signals": dict(o.signals)},
              "expect": {"tier": o.committed}}
             for o in suggestion.explains]
    cases_path.write_text(dump_yaml(cases), encoding="utf-8")
    return Written(str(target), str(cases_path), len(cases))


def _edited_text(text: str, edits: list[Edit], version: str) -> str:
    """The rulebook ``text`` with ``edits`` made and its version set, as a person would: the
    entries edited are written again (by ruamel.yaml, which keeps their comments and flow
    style) and put in place of their lines; every other line stays as it was. Where that does not
    give the edited data back (a layout the splice cannot follow), the whole file is written
    by ruamel.yaml, comments kept."""
    from io import StringIO

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    # ruamel.yaml's round trip builds only its mappings, lists and scalars (an unknown tag is
    # kept as text, never constructed): safe for a rulebook as for any file
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # a flow mapping written on one line stays on one line
    lines = text.splitlines(keepends=True)
    indent = re.search(r"^( *)- ", text, re.M)
    offset = len(indent.group(1)) if indent else 0
    rt.indent(mapping=2, sequence=offset + 2, offset=offset)
    doc = rt.load(text)
    original = rt.load(text)

    def flow(value: Any) -> Any:
        if isinstance(value, dict):
            m = CommentedMap((k, flow(v)) for k, v in value.items())
            m.fa.set_flow_style()
            return m
        if isinstance(value, list):
            seq = CommentedSeq(flow(v) for v in value)
            seq.fa.set_flow_style()
            return seq
        return value

    def rule(value: dict) -> Any:  # a new rule: a block mapping, its condition and score in flow style
        return CommentedMap((k, flow(v) if isinstance(v, dict) else v) for k, v in value.items())

    for edit in edits:
        edit.apply(doc, rule if edit.kind == "new-rule" else flow)
    doc["version"] = version
    out = StringIO()
    rt.dump(doc, out)
    whole = out.getvalue()
    dumped = rt.load(whole)
    dumped_lines = whole.splitlines(keepends=True)

    def span(d: Any, all_lines: list[str], section: str, index: int) -> tuple[int, int]:
        """The lines of entry ``index`` of ``section``: from its dash to its last line of YAML."""
        seq = d[section]
        start = seq.lc.item(index)[0]
        if index + 1 < len(seq):
            end = seq.lc.item(index + 1)[0]
        else:
            keys = list(d.keys())
            after = keys[keys.index(section) + 1:]
            end = d.lc.key(after[0])[0] if after else len(all_lines)
        while end > start + 1 and (not all_lines[end - 1].strip() or all_lines[end - 1].lstrip().startswith("#")):
            end -= 1
        return start, end

    # each splice (the original's lines start:end, and what goes there), made from the last up,
    # so that none moves the lines of another
    splices = [(*span(original, lines, section, index), dumped_lines[slice(*span(dumped, dumped_lines, section, index))])
               for section, index in {(e.section, e.index) for e in edits if e.kind != "new-rule"}]
    added = range(len(original["rules"]), len(dumped["rules"]))
    if added:  # after the last rule's own lines
        _, end = span(original, lines, "rules", len(original["rules"]) - 1)
        splices.append((end, end, [line for i in added for line in dumped_lines[slice(*span(dumped, dumped_lines, "rules", i))]]))
    spliced = list(lines)
    for start, end, new_lines in sorted(splices, key=lambda s: (-s[0], -s[1])):
        spliced[start:end] = new_lines
    result = "".join(spliced)
    result, versions = re.subn(r"^version:.*$", f"version: {json.dumps(version)}", result, count=1, flags=re.M)
    from ..files.yamlio import FileProblem, parse_yaml

    try:
        same = versions == 1 and parse_yaml(result, "<edited>") == parse_yaml(whole, "<edited>")
    except FileProblem:
        same = False
    return result if same else whole

"""Rulebook lint: conditions that can never hold, unreachable tiers, gaps, dead artifacts,
unused signals and dimensions, rules whose points never matter.

The score space is small (dimensions are bounded) and int signals only matter at the
thresholds that conditions compare them with, so most answers here are exact: each int is
reduced to one value per interval between its thresholds, and the whole item space is then
enumerated. When that space is too large, the exact checks say they gave up.
"""

from __future__ import annotations

from itertools import product
from typing import Any, Iterable, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from ..rulebook import conditions as cond
from ..match import durable
from ..rulebook.model import BoolSignal, EnumSignal, IntSignal, Rulebook

MAX_ITEM_SPACE = 2_000_000
MAX_CONDITION_SPACE = 200_000
# Bounds on the total work, whatever the rulebook's shape, so that lint answers within seconds
# (the default rulebook's whole item space times its rules is well inside them): the
# contradiction checks of all conditions together, the truth tables of all rules (held in
# memory), and the item space times the rules.
MAX_CONDITION_WORK = 2_000_000
MAX_TABLE_ENTRIES = 500_000
MAX_WORK = 4_000_000


class Check(NamedTuple):
    level: Literal["error", "warning", "note"]
    summary: str


# Every check lint makes, by the code of its findings: their level, and what the check looks for
# (SARIF lists the checks as the tool's rules).
CHECKS: dict[str, Check] = {
    "never-holds": Check("error", "A condition, or a comparison in it, can never hold"),
    "always-holds": Check("warning", "A comparison always holds, or a rule's condition holds for every item"),
    "shadowed-tier": Check("error", "A tier no item can reach: a tier above it takes every item its condition holds for"),
    "unreachable-tier": Check("error", "A tier no item can reach: the rules never produce the scores its condition asks for"),
    "unreachable-default": Check("warning", "The default tier is never used: every item gets a tier above it"),
    "tier-gap": Check("warning", "A score value between two that reach higher tiers falls to the default tier"),
    "dead-artifact": Check("warning", "An artifact no item ever gets"),
    "unused-signal": Check("warning", "A signal no rule, tier or artifact reads"),
    "unscored-dimension": Check("warning", "A dimension no rule scores"),
    "idle-rule": Check("warning", "A rule whose points no tier condition reads"),
    "durable-limit": Check("warning", "A rulebook beyond the limits of durable-rules, the matching engine"),
    "no-tier-effect": Check("note", "A rule whose points never decide an item's tier on their own"),
    "no-moves": Check("note", "No signal says who can change it (moves)"),
    "gave-up": Check("note", "An exact check was skipped: the rulebook is too large to check it within seconds"),
}


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    level: Literal["error", "warning", "note"]
    code: str
    where: str
    message: str
    fix: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}: " if self.file and self.line else f"{self.file}: " if self.file else ""
        return f"{at}{self.level}: {self.where}: {self.message}; {self.fix}"


class LintReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rulebook: dict[str, str]
    findings: list[Finding]
    item_space: int = Field(description="items enumerated for the exact checks (0 when it gave up)")

    @property
    def ok(self) -> bool:
        return not any(f.level in ("error", "warning") for f in self.findings)


class _Linter:
    def __init__(self, book: Rulebook):
        self.book = book
        self.findings: list[Finding] = []
        self.ns = book.namespace
        self.never: set[tuple[str, Any]] = set()  # conditions that can never hold
        self.idle: set[tuple[str, Any]] = set()  # rules whose dimensions no tier reads
        self.domains: dict[str, list[Any]] = {}
        self.cuts: dict[str, list[int]] | None = None

    def add(self, code: str, section: str, key: Any, where: str, message: str, fix: str) -> None:
        file, line = self.book.location(section, key)
        self.findings.append(Finding(level=CHECKS[code].level, code=code, where=where, message=message, fix=fix,
                                     file=file, line=line))

    # ---- the owners of conditions -------------------------------------------------------
    def owners(self) -> Iterable[tuple[str, Any, str, cond.Condition]]:
        for i, r in enumerate(self.book.rules):
            yield "rules", i, f"rule {r.id}", r.condition
        for i, t in enumerate(self.book.tiers):
            if t.when:
                yield "tiers", i, f"tier {t.id}", t.condition
        for i, a in enumerate(self.book.artifacts):
            if a.when:
                yield "artifacts", i, f"artifact {a.id}", a.condition

    # ---- 1. comparisons against the definitions -----------------------------------------
    def comparisons(self) -> set[tuple[str, Any]]:
        flagged = set()
        for section, key, where, condition in self.owners():
            for c in cond.comparisons(condition):
                info = self.ns[c.name]
                if info.type != "int" or info.min is None or info.max is None:
                    continue
                verdict = _range_verdict(c, info.min, info.max)
                what = f"{info.kind} {c.name} is {info.min}..{info.max}"
                if verdict == "never":
                    flagged.add((section, key))
                    self.add("never-holds", section, key, where,
                             f"'{c.text()}' can never hold ({what})", f"use a value within {info.min}..{info.max}")
                elif verdict == "always":
                    self.add("always-holds", section, key, where,
                             f"'{c.text()}' always holds ({what})", "remove it, or use a value within the range")
        return flagged

    # ---- 2. whole conditions: contradictions --------------------------------------------
    def contradictions(self, flagged: set) -> None:
        work = 0
        owners = list(self.owners())
        for n, (section, key, where, condition) in enumerate(owners):
            if (section, key) in flagged:
                continue
            size = self.condition_space(condition)
            if size <= MAX_CONDITION_SPACE:
                work += size
            if work > MAX_CONDITION_WORK:
                left = len(owners) - n
                self.add("gave-up", "rulebook", None, f"rulebook {self.book.name}",
                         f"checking every condition for contradictions takes more than {MAX_CONDITION_WORK:,} cases, "
                         f"so {left:,} of its {len(owners):,} conditions were not checked", "nothing to fix")
                return
            verdict = self.satisfiable(condition)
            if verdict == "never":
                flagged.add((section, key))
            if verdict is None:
                self.add("gave-up", section, key, where,
                         "condition too large to check exhaustively for contradictions", "nothing to fix")
            elif verdict == "never":
                self.add("never-holds", section, key, where,
                         f"its condition can never hold: {condition.text()} (contradictory bounds or values)",
                         "fix the bounds so that some item can satisfy them")
            elif verdict == "always" and section == "rules":
                self.add("always-holds", section, key, where,
                         f"its condition always holds ({condition.text()}), so every item gets its points",
                         "make it depend on a signal, or fold the points into the tier thresholds")

    def base_names(self, condition: cond.Condition) -> list[str]:
        """The signals and dimensions a condition depends on (a total stands for its dimensions)."""
        base: list[str] = []
        for n in dict.fromkeys(cond.names(condition)):
            if n in self.book.totals:
                base += [d for d in self.book.totals[n] if d not in base]
            elif n not in base:
                base.append(n)
        return base

    def condition_space(self, condition: cond.Condition) -> int:
        size = 1
        for n in self.base_names(condition):
            size *= len(self.domain(n))
        return size

    def satisfiable(self, condition: cond.Condition) -> str | None:
        """'never', 'always' or 'sometimes' over every value the names can take; None if too large."""
        names = list(dict.fromkeys(cond.names(condition)))
        book = self.book
        base = self.base_names(condition)
        domains = [self.domain(n) for n in base]
        size = 1
        for d in domains:
            size *= len(d)
        if size > MAX_CONDITION_SPACE:
            return None
        seen = set()
        for combo in product(*domains):
            values = dict(zip(base, combo))
            for total, weights in book.totals.items():
                if total in names:
                    values[total] = sum(values[d] * w for d, w in weights.items())
            seen.add(condition.holds(values))
            if len(seen) == 2:
                return "sometimes"
        return "always" if seen == {True} else "never"

    def domain(self, name: str) -> list[Any]:
        """Every value worth trying for a name: one per interval between its thresholds."""
        values = self.domains.get(name)
        if values is None:
            values = self.domains[name] = self._domain(name)
        return values

    def _domain(self, name: str) -> list[Any]:
        book = self.book
        if name in book.dimensions:
            d = book.dimensions[name]
            return list(range(d.min, d.max + 1))
        sig = book.signals[name]
        if isinstance(sig, BoolSignal):
            return [False, True]
        if isinstance(sig, EnumSignal):
            return list(sig.values)
        return self.int_representatives(name, sig)

    def int_representatives(self, name: str, sig: IntSignal) -> list[int]:
        if self.cuts is None:  # one pass over all conditions, not one per signal
            by_name: dict[str, list[cond.Condition]] = {}
            for _, _, _, condition in self.owners():
                for c in cond.comparisons(condition):
                    if isinstance(self.book.signals.get(c.name), IntSignal):
                        by_name.setdefault(c.name, []).append(c)
            self.cuts = {n: cond.cut_points(cs, n) for n, cs in by_name.items()}
        cuts = self.cuts.get(name, [])
        lo = sig.min if sig.min is not None else (min(cuts) - 1 if cuts else 0)
        hi = sig.max if sig.max is not None else (max(cuts) if cuts else lo)
        return [lo] + [c for c in cuts if lo < c <= hi]

    # ---- 3. structure -------------------------------------------------------------------
    def structure(self) -> None:
        book = self.book
        beyond = durable.limits(book)
        if beyond:
            self.add("durable-limit", "rulebook", None, f"rulebook {book.name}",
                     f"durable-rules cannot match it: {beyond}",
                     "classify it with --engine reference, or use fewer rules or fewer alternatives")
        scored = {d for r in book.rules for d in r.score}
        for name in book.dimensions:
            if name not in scored:
                self.add("unscored-dimension", "dimensions", name, f"dimension {name}",
                         "no rule scores it, so it is always its minimum", "add a rule that scores it, or remove it")
        read = set()
        for _, _, _, condition in self.owners():
            read.update(cond.names(condition))
        for name in book.signals:
            if name not in read:
                self.add("unused-signal", "signals", name, f"signal {name}",
                         "no rule, tier or artifact reads it, so answering it changes nothing",
                         "read it in a rule or remove it from the rulebook")
        if not any("moves" in sig.model_fields_set for sig in book.signals.values()):
            self.add("no-moves", "signals", None, f"rulebook {book.name}",
                     "no signal says who can change it (moves), so a review offers a change of any signal as a "
                     "close call, a new market or less differentiation included",
                     "mark facts with moves: fact, and decisions made only one way with moves: forward")
        tier_names = set()
        for t in book.tiers:
            tier_names.update(cond.names(t.condition))
        used_dims = {n for n in tier_names if n in book.dimensions}
        for total, weights in book.totals.items():
            if total in tier_names:
                used_dims.update(d for d, w in weights.items() if w)
        for i, r in enumerate(book.rules):
            idle = [d for d in r.score if d not in used_dims]
            if idle and len(idle) == len(r.score):
                self.idle.add(("rules", i))
                self.add("idle-rule", "rules", i, f"rule {r.id}",
                         f"its points ({', '.join(idle)}) can never change a tier: no tier condition reads "
                         f"{'that dimension' if len(idle) == 1 else 'those dimensions'}, directly or through a total",
                         "use the dimension in a tier condition or a total that a tier reads, or remove the rule")

    # ---- 4. the item space: reachable tiers, gaps, artifacts, rules that matter ---------
    def item_space(self) -> int:
        book = self.book
        signals = list(book.signals)
        domains = [self.domain(n) for n in signals]
        size = 1
        for d in domains:
            size *= len(d)
        if size > MAX_ITEM_SPACE:
            self.add("gave-up", "rulebook", None, f"rulebook {book.name}",
                     f"the item space has {size:,} distinct cases (more than {MAX_ITEM_SPACE:,}), so tier "
                     "reachability, gaps, artifacts and rule effects were not checked", "nothing to fix")
            return 0
        entries = 0
        for r in book.rules:
            used = dict.fromkeys(cond.names(r.condition))
            n = 1
            for u in used:
                n *= len(self.domain(u))
            entries += n
        work = size * (len(book.rules) + 1)
        if entries > MAX_TABLE_ENTRIES or work > MAX_WORK:
            what = (f"the truth tables of its rules have {entries:,} entries (more than {MAX_TABLE_ENTRIES:,})"
                    if entries > MAX_TABLE_ENTRIES else
                    f"the item space has {size:,} distinct cases and {len(book.rules):,} rules, {work:,} steps "
                    f"(more than {MAX_WORK:,})")
            self.add("gave-up", "rulebook", None, f"rulebook {book.name}",
                     f"{what}, so tier reachability, gaps, artifacts and rule effects were not checked", "nothing to fix")
            return 0
        index = {n: i for i, n in enumerate(signals)}
        tables = []
        for r in book.rules:
            used = list(dict.fromkeys(cond.names(r.condition)))
            idx = [index[u] for u in used]
            table = {vals: r.condition.holds(dict(zip(used, vals))) for vals in product(*(self.domain(u) for u in used))}
            tables.append((idx, table, list(r.score.items())))
        tier_signals = [index[n] for n in dict.fromkeys(n for t in book.tiers for n in cond.names(t.condition)) if n in index]
        art_signals = [index[n] for n in dict.fromkeys(n for a in book.artifacts for n in cond.names(a.condition)) if n in index]
        dims = [(n, d.min, d.max) for n, d in book.dimensions.items()]
        totals = list(book.totals.items())
        tier_memo: dict[tuple, int] = {}
        art_memo: dict[tuple, frozenset] = {}

        def scores_of(sums: dict[str, int]) -> dict[str, int]:
            s = {n: min(hi, max(lo, sums[n])) for n, lo, hi in dims}
            for name, weights in totals:
                s[name] = sum(s[d] * w for d, w in weights.items())
            return s

        def tier_of(combo: tuple, sums: dict[str, int]) -> tuple[int, dict]:
            s = scores_of(sums)
            key = (tuple(s.values()), tuple(combo[i] for i in tier_signals))
            t = tier_memo.get(key)
            if t is None:
                values = {**{signals[i]: combo[i] for i in tier_signals}, **s}
                holding = [i for i, tier in enumerate(book.tiers) if tier.condition.holds(values)]
                held.update(holding)
                t = tier_memo[key] = holding[0]
            return t, s

        reached: set[int] = set()
        held: set[int] = set()  # tiers whose condition holds for some item, first or not
        produced: set[str] = set()
        effective: set[int] = set()
        fired_ever: set[int] = set()
        by_score: dict[str, dict[int, set[int]]] = {n: {} for n in book.score_names}
        default = len(book.tiers) - 1
        for combo in product(*domains):
            fired = [r for r, (idx, table, _) in enumerate(tables) if table[tuple(combo[i] for i in idx)]]
            sums = {n: 0 for n, _, _ in dims}
            for r in fired:
                for d, p in tables[r][2]:
                    sums[d] += p
            t, s = tier_of(combo, sums)
            reached.add(t)
            fired_ever.update(fired)
            for n, v in s.items():
                by_score[n].setdefault(v, set()).add(t)
            akey = (t, tuple(s.values()), tuple(combo[i] for i in art_signals))
            arts = art_memo.get(akey)
            if arts is None:
                values = {**{signals[i]: combo[i] for i in art_signals}, **s}
                tid = book.tiers[t].id
                arts = frozenset(a.id for a in book.artifacts if tid in a.tiers and a.condition.holds(values))
                art_memo[akey] = arts
            produced.update(arts)
            for r in fired:
                if r in effective:
                    continue
                without = dict(sums)
                for d, p in tables[r][2]:
                    without[d] -= p
                if tier_of(combo, without)[0] != t:
                    effective.add(r)

        for i, tier in enumerate(book.tiers):
            if i in reached or ("tiers", i) in self.never:
                continue  # a condition that can never hold is reported once, as such
            if i < default and i in held:
                above = ", ".join(t.id for t in book.tiers[:i])
                self.add("shadowed-tier", "tiers", i, f"tier {tier.id}",
                         f"no item can reach it: whenever its condition holds, a tier above it ({above}) takes the item first",
                         "loosen its condition, tighten the tiers above it, or remove it")
            elif i < default:
                self.add("unreachable-tier", "tiers", i, f"tier {tier.id}",
                         "no item can reach it: the rules can never produce scores that satisfy its condition",
                         "lower its thresholds, or add rules that score what it asks for")
            else:
                self.add("unreachable-default", "tiers", i, f"tier {tier.id}",
                         "every item gets a tier above the default, so it is never used", "that may be intended; otherwise tighten the tiers above")
        for i, a in enumerate(book.artifacts):
            if a.id not in produced:
                live = [t for t in a.tiers if book.tier_index[t] in reached]
                why = (f"its condition ({a.condition.text()}) never holds for an item of {', '.join(live)}" if live
                       else f"none of its tiers ({', '.join(a.tiers)}) can be reached")
                self.add("dead-artifact", "artifacts", i, f"artifact {a.id}",
                         f"no item ever gets it: {why}", "attach it to a reachable tier or fix its condition")
        for i, r in enumerate(book.rules):
            if i not in fired_ever:
                continue  # a rule that never fires is reported by the contradiction check
            if i not in effective and ("rules", i) not in self.idle:
                self.add("no-tier-effect", "rules", i, f"rule {r.id}",
                         "its points never decide an item's tier on their own (other rules or conditions always settle it)",
                         "fine if the score matters elsewhere (capacity ranking, reports); otherwise re-weight it")
        self.gaps(by_score, default)
        return size

    def gaps(self, by_score: dict[str, dict[int, set[int]]], default: int) -> None:
        """A score value that only ever gives the default tier, between values that give others."""
        book = self.book
        read = set()
        for t in book.tiers[:-1]:
            read.update(cond.names(t.condition))
        for name in book.score_names:
            if name not in read:
                continue
            seen = by_score[name]
            values = sorted(seen)
            other = [v for v in values if seen[v] - {default}]
            for v in values:
                if seen[v] == {default} and other and min(other) < v < max(other):
                    below = max(u for u in other if u < v)
                    above = min(u for u in other if u > v)
                    section, key = ("dimensions", name) if name in book.dimensions else ("totals", name)
                    self.add("tier-gap", section, key, f"{'dimension' if name in book.dimensions else 'total'} {name}",
                             f"items with {name} = {v} always fall to the default tier {book.tiers[default].id}, although "
                             f"{name} = {below} and {name} = {above} reach higher tiers (a gap between the tier conditions)",
                             "make the neighbouring tier conditions meet, e.g. with gte/lte bounds that touch")


def _range_verdict(c: cond.Compare, lo: int, hi: int) -> str:
    values = c.value if isinstance(c.value, tuple) else (c.value,)
    v = values[0]
    op = c.op
    if op == "eq":
        return "never" if not lo <= v <= hi else ("always" if lo == hi == v else "ok")
    if op == "ne":
        return "always" if not lo <= v <= hi else "ok"
    if op == "in":
        inside = [x for x in values if lo <= x <= hi]
        return "never" if not inside else ("always" if set(range(lo, hi + 1)) <= set(values) else "ok")
    if op == "not_in":
        inside = [x for x in values if lo <= x <= hi]
        return "always" if not inside else ("never" if set(range(lo, hi + 1)) <= set(values) else "ok")
    if op == "gte":
        return "never" if v > hi else "always" if v <= lo else "ok"
    if op == "gt":
        return "never" if v >= hi else "always" if v < lo else "ok"
    if op == "lte":
        return "never" if v < lo else "always" if v >= hi else "ok"
    if op == "lt":
        return "never" if v <= lo else "always" if v > hi else "ok"
    return "ok"


def lint(book: Rulebook) -> LintReport:
    linter = _Linter(book)
    linter.never = linter.comparisons()
    linter.contradictions(linter.never)
    linter.structure()
    size = linter.item_space()
    order = {"error": 0, "warning": 1, "note": 2}
    findings = sorted(linter.findings, key=lambda f: (order[f.level], f.file or "", f.line or 0))
    return LintReport(rulebook=book.summary(), findings=findings, item_space=size)

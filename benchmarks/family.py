"""The benchmark's family of rulebooks: each built in code from a fixed seed, with its items.

    default     rules/default.yaml, items from ``generate`` (the variety of a real backlog)
    wide        48 rules over 16 signals, about half of them firing on every item
    rare-wide   the memo's worst case: 12 int signals read in pairs by 40 rarely-firing rules
                with many distinct thresholds, and a tier that reads an int signal directly, so
                interval classes rarely repeat and nearly every explanation is new
    large       200 rules over 40 signals: past the durable adapter's load-time limits (more
                than 63 branches), so only the reference path can run it

Each rulebook is a dict as ``rulebook_from_data`` takes it (no files in the repository); each
member's ``items(n, seed=..., first=...)`` gives n raw items (key, title, quarter, signals).
Rule conditions are conjunctions of comparisons, one per signal, so that every peer of the
benchmark (durable's Host API, a zen-engine decision table, the plain-Python floor) expresses
exactly the same rules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

import yaml

SEED = 2026
QUARTERS = ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]


def generate(n: int, seed: int = 2026, first: int = 0) -> list[dict]:
    """n items for the default rulebook, from a fixed seed, with the variety of a real backlog."""
    rng = random.Random(seed)
    items = []
    for i in range(first, first + n):
        items.append({
            "key": f"BENCH-{i}",
            "title": f"Roadmap item {i}",
            "quarter": rng.choice(QUARTERS),
            "signals": {
                "new_market": rng.random() < 0.08,
                "positioning": rng.choice(["none", "none", "strengthens", "changes"]),
                "revenue_motion": rng.choice(["none", "retention", "deal_acceleration", "expansion", "new_logo"]),
                "differentiation": rng.choice(["none", "parity", "better", "first"]),
                "customer_reach": rng.randint(0, 100),
                "demand_votes": rng.choice([0, 0, rng.randint(0, 200)]),
                "user_action_required": rng.random() < 0.2,
                "pricing_change": rng.random() < 0.15,
                "audience": rng.choice(["admin", "end_user", "buyer"]),
                "stage": rng.choice(["beta", "ga", "ga"]),
                "exec_priority": rng.random() < 0.1,
            },
        })
    return items


@dataclass(frozen=True)
class Member:
    name: str
    data: dict  # the rulebook, as rulebook_from_data takes it
    items: Callable[..., list[dict]]  # items(n, seed=..., first=...) -> raw items
    note: str


# ---- building blocks ---------------------------------------------------------------------------
ENUM_VALUES = ["a", "b", "c", "d", "e"]


def _signals(ints: list[str], enums: list[str], bools: list[str], top: int) -> dict:
    out: dict = {}
    for n in ints:
        out[n] = {"type": "int", "min": 0, "max": top, "question": f"How much {n}?"}
    for n in enums:
        out[n] = {"type": "enum", "values": ENUM_VALUES, "question": f"Which {n}?"}
    for n in bools:
        out[n] = {"type": "bool", "question": f"Is it {n}?"}
    return out


def _dimensions(names: list[str], top: int) -> dict:
    return {n: {"label": n.replace("_", " ").title(), "min": 0, "max": top} for n in names}


def _artifacts(tier_ids: list[str], reads: dict | None = None) -> list[dict]:
    """A checklist like the default's: some artifacts per tier, one of them conditional."""
    arts = [
        {"id": "launch-plan", "name": "Launch plan", "owner": "PMM", "category": "Programs", "tiers": tier_ids[:1], "effort": 3},
        {"id": "blog-post", "name": "Blog post", "owner": "PMM", "category": "Awareness", "tiers": tier_ids[:2], "effort": 1},
        {"id": "docs", "name": "Docs", "owner": "PM", "category": "Support", "tiers": tier_ids[:-1], "effort": 2},
        {"id": "changelog", "name": "Changelog entry", "owner": "PM", "category": "Support", "tiers": tier_ids, "effort": 0.25},
    ]
    if reads:
        arts.append({"id": "special", "name": "Special briefing", "owner": "PM", "category": "Support",
                     "tiers": tier_ids[:-1], "when": reads, "effort": 1})
    return arts


def _book(name: str, signals: dict, dims: dict, totals: dict, rules: list[dict], tiers: list[dict],
          artifacts: list[dict]) -> dict:
    return {"rulebook": name, "version": "bench", "description": f"benchmark rulebook {name}, built from seed {SEED}",
            "signals": signals, "dimensions": dims, "totals": totals, "rules": rules, "tiers": tiers,
            "artifacts": artifacts}


def _rule(i: int, when: dict, score: dict) -> dict:
    return {"id": f"rule-{i}", "because": f"Benchmark rule {i}.", "when": when, "score": score}


def _tiers(conditions: list[dict]) -> list[dict]:
    out = [{"id": f"tier-{i + 1}", "label": f"Tier {i + 1}", "kind": "launch" if i < 2 else "release", "when": c}
           for i, c in enumerate(conditions)]
    out.append({"id": f"tier-{len(conditions) + 1}", "label": "Quiet", "kind": "release"})
    return out


def _uniform(ints: list[str], enums: list[str], bools: list[str]) -> Callable[[random.Random], dict]:
    """Signals drawn uniformly: ints 0..100, any enum value, bools even."""
    def sample(r: random.Random) -> dict:
        s: dict = {n: r.randint(0, 100) for n in ints}
        s.update({n: r.choice(ENUM_VALUES) for n in enums})
        s.update({n: r.random() < 0.5 for n in bools})
        return s
    return sample


def _item_maker(prefix: str, sample: Callable[[random.Random], dict]) -> Callable[..., list[dict]]:
    def items(n: int, seed: int = SEED, first: int = 0) -> list[dict]:
        rng = random.Random(f"{prefix}-{seed}")
        return [{"key": f"{prefix.upper()}-{i}", "title": f"{prefix} item {i}", "quarter": rng.choice(QUARTERS),
                 "signals": sample(rng)} for i in range(first, first + n)]
    return items


# ---- the members -------------------------------------------------------------------------------
def default() -> Member:
    from launchtier.engine import default_rulebook_path

    data = yaml.safe_load(default_rulebook_path().read_text(encoding="utf-8"))
    return Member("default", data, generate, "rules/default.yaml: 18 rules, about 4 firing per item")


def wide() -> Member:
    """48 rules over 8 ints, 4 enums and 4 bools, each likely to hold: about half fire per item.
    48 single-branch rules stay under durable's 63."""
    rng = random.Random(f"wide-{SEED}")
    ints, enums, bools = [f"w{k}" for k in range(8)], [f"e{k}" for k in range(4)], [f"b{k}" for k in range(4)]
    dims = [f"d{k}" for k in range(5)]

    def likely(name: str) -> object:
        if name in ints:
            return {"gte": rng.randint(0, 60)}  # holds for 40-100 % of 0..100
        if name in enums:
            return {"ne": rng.choice(ENUM_VALUES)}  # 80 %
        return True  # bools hold half the time

    rules = []
    for i in range(48):
        names = rng.sample(ints + enums + bools, rng.choice([1, 1, 2]))
        rules.append(_rule(i, {n: likely(n) for n in names}, {rng.choice(dims): rng.randint(1, 2)}))
    tiers = _tiers([
        {"d0": {"gte": 5}, "d1": {"gte": 5}, "b0": True},
        {"reach": {"gte": 10}},
        {"any": [{"d2": {"gte": 4}}, {"b1": True}]},
    ])
    book = _book("wide", _signals(ints, enums, bools, 100), _dimensions(dims, 6), {"reach": {"d0": 1, "d1": 1, "d3": 1, "d4": -1}},
                 rules, tiers, _artifacts([t["id"] for t in tiers], {"e0": {"in": ["a", "b"]}}))
    return Member("wide", book, _item_maker("wide", _uniform(ints, enums, bools)), "48 rules, about half firing per item")


def rare_wide() -> Member:
    """12 int signals (0..1000) read in pairs by 40 rules with high, mostly distinct thresholds
    (each rule holds for a few percent of items); one tier reads r0 directly."""
    rng = random.Random(f"rare-wide-{SEED}")
    ints = [f"r{k}" for k in range(12)]
    dims = [f"x{k}" for k in range(4)]
    rules = []
    for i in range(40):
        a, b = rng.sample(ints, 2)
        rules.append(_rule(i, {a: {"gte": rng.randint(650, 990)}, b: {"gte": rng.randint(650, 990)}},
                           {rng.choice(dims): rng.randint(1, 2)}))
    tiers = _tiers([
        {"total": {"gte": 4}},
        {"total": {"gte": 2}, "r0": {"gte": 500}},
        {"total": {"gte": 1}},
    ])
    book = _book("rare-wide", _signals(ints, [], [], 1000), _dimensions(dims, 3), {"total": dict.fromkeys(dims, 1)},
                 rules, tiers, _artifacts([t["id"] for t in tiers], {"r1": {"gte": 900}}))

    def sample(r: random.Random) -> dict:
        return {n: r.randint(0, 1000) for n in ints}
    return Member("rare-wide", book, _item_maker("rare", sample), "40 rules on int pairs, about 1 firing per item")


def large() -> Member:
    """200 rules over 40 signals (16 int, 12 enum, 12 bool), one to three comparisons each."""
    rng = random.Random(f"large-{SEED}")
    ints, enums, bools = [f"i{k}" for k in range(16)], [f"n{k}" for k in range(12)], [f"f{k}" for k in range(12)]
    dims = [f"g{k}" for k in range(6)]

    def comparison(name: str) -> object:
        if name in ints:
            return rng.choice([{"gte": rng.randint(10, 90)}, {"lt": rng.randint(10, 90)},
                               {"gte": (lo := rng.randint(0, 60)), "lt": lo + rng.randint(10, 40)}])
        if name in enums:
            return rng.choice([rng.choice(ENUM_VALUES), {"ne": rng.choice(ENUM_VALUES)}])
        return rng.random() < 0.5

    rules = []
    for i in range(200):
        names = rng.sample(ints + enums + bools, rng.choice([1, 2, 2, 3]))
        rules.append(_rule(i, {n: comparison(n) for n in names}, {rng.choice(dims): rng.randint(1, 3)}))
    tiers = _tiers([
        {"g0": {"gte": 6}, "g1": {"gte": 6}, "f0": True},
        {"lift": {"gte": 12}},
        {"any": [{"g2": {"gte": 4}}, {"i0": {"gte": 80}}]},
        {"g3": {"gte": 3}},
    ])
    book = _book("large", _signals(ints, enums, bools, 100), _dimensions(dims, 8),
                 {"lift": {"g0": 1, "g1": 1, "g4": 1, "g5": -1}, "care": {"g2": 1, "g3": 1}},
                 rules, tiers, _artifacts([t["id"] for t in tiers], {"n0": {"in": ["a", "c"]}}))
    return Member("large", book, _item_maker("large", _uniform(ints, enums, bools)), "200 rules over 40 signals")


def family() -> list[Member]:
    return [default(), wide(), rare_wide(), large()]

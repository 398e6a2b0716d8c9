"""The peers launchtier is measured against, each as a function that runs a list of items.

- durable-rules' documented Host API with Python action callbacks (matching only);
- zen-engine: the same scoring rules as one decision table (collect hit policy, matching only),
  evaluated through ``ZenEngine.evaluate(key, context)`` with the table given to the engine's
  static loader. Measured on this machine (default rulebook, zen-engine 2.1.3): the static
  loader gives about 60,000 items/s; a loader callback returning the table's JSON text, about
  3,900 (zen calls it, and parses the JSON again, on every evaluate); a callback returning a
  ``ZenDecisionContent``, about 21,600; ``ZenDecision.evaluate``, about 3,300. The fastest is
  the fair comparison, so the static loader is the one measured;
- the floor: the same rules and tiers evaluated by hand in plain Python, each condition compiled
  once to a closure over the signals dict; points summed per dimension, clamped, totals, the
  first tier that holds. No explanation, no artifacts, no JSON: the least work a decision takes.

Each peer is checked against launchtier's reference evaluator on a sample before it is timed.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from launchtier.engine import Classifier
from launchtier.engine.match.durable import compile_rulebook
from launchtier.engine.rulebook import conditions as cond

SAMPLE = 200  # items checked against the reference evaluator before a peer is timed


def _reference(book) -> Classifier:
    return Classifier(book, "reference", memo=False)


# ---- durable-rules' Host API ---------------------------------------------------------------------
_host = None  # one Host for the process: several Host objects crash durable-rules
_rulesets: dict[str, tuple[str, list[str]]] = {}  # rulebook hash -> (ruleset name, fired names)


def host_api_loop(book, signals: list[dict]) -> Callable[[], None]:
    """The documented durable-rules API: a Host, the same compiled rules, Python action callbacks;
    a function that runs ``signals`` through it. The caller checks the durable adapter's limits
    first (``limits(book)``): past them durable-rules fails or never returns."""
    global _host
    from durable.engine import Host

    if _host is None:
        _host = Host()
    host = _host
    entry = _rulesets.get(book.hash)
    if entry is None:
        fired: list[str] = []
        definition = compile_rulebook(book)
        for name, rule in definition.items():
            rule["run"] = (lambda rule_name: lambda c: fired.append(rule_name))(name)
        entry = ("bench_host_" + book.hash[7:23], fired)
        host.register_rulesets({entry[0]: definition})
        _rulesets[book.hash] = entry
    ruleset, fired = entry

    reference = _reference(book)
    for s in signals[:SAMPLE]:
        fired.clear()
        host.assert_fact(ruleset, dict(s, _item=1, id="item", sid="1"))
        host.delete_state(ruleset, "1")
        got = sorted({int(n[1:]) for n in fired if n.startswith("r")})
        assert got == reference.fired(s), (s, got, reference.fired(s))

    def run():
        fired.clear()
        for s in signals:
            host.assert_fact(ruleset, dict(s, _item=1, id="item", sid="1"))
            host.delete_state(ruleset, "1")
    return run


# ---- zen-engine ----------------------------------------------------------------------------------
def decision_table(book) -> dict:
    """The scoring rules as one JDM decision table with the collect hit policy: a column per
    signal, a row per rule (its comparisons on that signal, joined by "and")."""
    names = list(book.signals)
    inputs = [{"id": f"i{k}", "name": n, "field": n} for k, n in enumerate(names)]
    rows = []
    for r, rule in enumerate(book.rules):
        parts = cond.conjuncts(rule.condition)
        if not all(isinstance(p, cond.Compare) for p in parts):
            raise ValueError(f"rule {rule.id} is not a conjunction of comparisons: one table row cannot hold it")
        row = {"_id": f"r{r}", "o0": json.dumps(rule.id)}
        for k, n in enumerate(names):
            row[f"i{k}"] = " and ".join(_zen_test(c) for c in parts if c.name == n)
        rows.append(row)
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
            {"id": "table", "type": "decisionTableNode", "name": "scoring", "position": {"x": 1, "y": 0},
             "content": {"hitPolicy": "collect", "inputs": inputs,
                         "outputs": [{"id": "o0", "name": "rule", "field": "rule"}], "rules": rows}},
            {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 2, "y": 0}},
        ],
        "edges": [{"id": "e0", "sourceId": "in", "targetId": "table", "type": "edge"},
                  {"id": "e1", "sourceId": "table", "targetId": "out", "type": "edge"}],
    }


def _zen_test(c) -> str:
    v = c.value
    lit = (lambda x: json.dumps(x) if isinstance(x, str) else ("true" if x is True else "false" if x is False else str(x)))
    if c.op == "eq":
        return lit(v)
    if c.op == "ne":
        return f"$ != {lit(v)}"
    if c.op in ("in", "not_in"):
        joined = ", ".join(lit(x) for x in v)
        return joined if c.op == "in" else f"not({joined})"
    return f"$ {dict(lt='<', lte='<=', gt='>', gte='>=')[c.op]} {lit(v)}"


def zen_loop(book, signals: list[dict]) -> Callable[[], None] | None:
    """zen-engine's ``ZenEngine.evaluate(key, context)`` over ``signals`` (None without zen-engine)."""
    try:
        import zen
    except ImportError:
        return None
    key = "scoring.json"
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {key: decision_table(book)}}})
    evaluate = engine.evaluate
    ids = {rule.id: i for i, rule in enumerate(book.rules)}
    reference = _reference(book)
    for s in signals[:SAMPLE]:
        got = sorted(ids[r["rule"]] for r in evaluate(key, s)["result"])
        assert got == reference.fired(s), (s, got, reference.fired(s))

    def run():
        for s in signals:
            evaluate(key, s)
    return run


# ---- the plain-Python floor ----------------------------------------------------------------------
_OPS: dict[str, Callable[[str, Any], Callable[[Mapping[str, Any]], bool]]] = {
    "eq": lambda n, x: lambda v: v[n] == x,
    "ne": lambda n, x: lambda v: v[n] != x,
    "lt": lambda n, x: lambda v: v[n] < x,
    "lte": lambda n, x: lambda v: v[n] <= x,
    "gt": lambda n, x: lambda v: v[n] > x,
    "gte": lambda n, x: lambda v: v[n] >= x,
    "in": lambda n, x: (lambda s: lambda v: v[n] in s)(frozenset(x)),
    "not_in": lambda n, x: (lambda s: lambda v: v[n] not in s)(frozenset(x)),
}


def closure(c: cond.Condition) -> Callable[[Mapping[str, Any]], bool]:
    """A condition compiled once to a Python closure over a dict of values."""
    if isinstance(c, cond.Compare):
        return _OPS[c.op](c.name, c.value)
    if isinstance(c, cond.Not):
        inner = closure(c.part)
        return lambda v: not inner(v)
    parts = [closure(p) for p in c.parts]
    both = isinstance(c, cond.All)  # all of the parts, or any of them
    if not parts:  # an empty all always holds, an empty any never
        return lambda v: both
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:  # unrolled: the floor is the fastest plain Python
        a, b = parts
        return (lambda v: a(v) and b(v)) if both else (lambda v: a(v) or b(v))
    return (lambda v: all(p(v) for p in parts)) if both else (lambda v: any(p(v) for p in parts))


def floor_decider(book) -> Callable[[Mapping[str, Any]], tuple[list[int], dict[str, Any], str]]:
    """A function from an item's signals to (fired rule indices, values with the scores, tier id)."""
    rules = [(closure(r.condition), list(r.score.items())) for r in book.rules]
    dims = [(n, d.min, d.max) for n, d in book.dimensions.items()]
    totals = [(n, list(w.items())) for n, w in book.totals.items()]
    tiers = [(t.id, closure(t.condition)) for t in book.tiers]
    zero = dict.fromkeys(book.dimensions, 0)

    def decide(signals):
        sums = zero.copy()
        fired = []
        for i, (holds, score) in enumerate(rules):
            if holds(signals):
                fired.append(i)
                for d, p in score:
                    sums[d] += p
        values = dict(signals)
        for n, lo, hi in dims:
            s = sums[n]
            values[n] = lo if s < lo else hi if s > hi else s
        for n, weights in totals:
            values[n] = sum(values[d] * w for d, w in weights)
        for tier, holds in tiers:
            if holds(values):
                return fired, values, tier
        raise AssertionError("unreachable: the last tier always holds")
    return decide


def floor_loop(book, signals: list[dict]) -> Callable[[], None]:
    decide = floor_decider(book)
    reference = _reference(book)
    for s in signals[:SAMPLE]:
        fired, values, tier = decide(s)
        want = reference.decide_signals("k", "t", s)
        assert ([book.rules[i].id for i in fired], {k: values[k] for k in book.score_names}, tier) == \
            ([f.rule for f in want.fired], want.scores, want.tier), s

    def run():
        for s in signals:
            decide(s)
    return run

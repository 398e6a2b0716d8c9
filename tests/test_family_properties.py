"""The fast path on rulebooks shaped like the benchmark's family (benchmarks/family.py): many
rules over many int signals, wide ranges (a direct table up to DIRECT_RANGE values, bisect past
it), rules that rarely fire, tiers that read an int directly, and more rules than durable-rules
takes. Every decision of the memoised path equals the plain construction of the reference
evaluator, byte for byte, whatever the caches do (tiny budgets, reviews that switch them off)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launchtier.engine import Classifier
from launchtier.engine.decide import encode
from launchtier.engine.match import memo as memo_layer
from launchtier.engine.rulebook.model import rulebook_from_data

ENUM = ["a", "b", "c"]


@st.composite
def family_books(draw):
    ints = [f"i{k}" for k in range(draw(st.integers(2, 12)))]
    enums = [f"e{k}" for k in range(draw(st.integers(0, 3)))]
    top = draw(st.sampled_from([10, 1000, 5000]))  # 5000: past DIRECT_RANGE, looked up by bisect
    signals = {n: {"type": "int", "min": 0, "max": top, "question": "How much?"} for n in ints}
    signals.update({n: {"type": "enum", "values": ENUM, "question": "Which?"} for n in enums})
    dims = ["x", "y", "z"]

    def test(name):
        if name in enums:
            return draw(st.sampled_from([draw(st.sampled_from(ENUM)), {"ne": draw(st.sampled_from(ENUM))},
                                         {"in": draw(st.lists(st.sampled_from(ENUM), min_size=1, unique=True))}]))
        cut = draw(st.integers(0, top))
        return draw(st.sampled_from([{"gte": cut}, {"lt": cut}, {"eq": cut}, {"gte": cut, "lte": min(top, cut + top // 10)}]))

    rules = []
    for i in range(draw(st.integers(1, 90))):
        names = draw(st.lists(st.sampled_from(ints + enums), min_size=1, max_size=3, unique=True))
        when = {n: test(n) for n in names}
        if draw(st.integers(0, 9)) == 0 and len(names) > 1:  # now and then a rule the tables cannot separate
            when = {"any": [{n: c} for n, c in when.items()]}
        rules.append({"id": f"r{i}", "because": f"rule {i}", "when": when,
                      "score": {draw(st.sampled_from(dims)): draw(st.integers(-2, 3))}})
    reads = draw(st.sampled_from(ints))
    tiers = [
        {"id": "t1", "label": "One", "kind": "launch", "when": {"total": {"gte": draw(st.integers(1, 6))}}},
        {"id": "t2", "label": "Two", "kind": "launch",
         "when": {"total": {"gte": draw(st.integers(0, 3))}, reads: {"gte": draw(st.integers(0, top))}}},
        {"id": "t3", "label": "Three", "kind": "release", "when": {"any": [{"x": {"gte": 1}}, {reads: {"lt": top // 3}}]}},
        {"id": "t4", "label": "Four", "kind": "release"},
    ]
    artifacts = [{"id": "notes", "name": "Notes", "owner": "PM", "category": "Support", "tiers": ["t1", "t2", "t3", "t4"]},
                 {"id": "brief", "name": "Brief", "owner": "PMM", "category": "Programs", "tiers": ["t1", "t2"],
                  "when": {ints[0]: {"gte": top // 2}}}]
    book = rulebook_from_data({
        "rulebook": "family-shaped", "version": "1", "signals": signals,
        "dimensions": {d: {"label": d.upper(), "min": 0, "max": 4} for d in dims},
        "totals": {"total": {"x": 1, "y": 1, "z": -1}}, "rules": rules, "tiers": tiers, "artifacts": artifacts})
    values = {n: st.integers(0, top) for n in ints} | {n: st.sampled_from(ENUM) for n in enums}
    items = draw(st.lists(st.fixed_dictionaries(values), min_size=1, max_size=30))
    return book, items


@pytest.mark.slow  # many hypothesis examples
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(family_books(), st.sampled_from([None, 1, 2_000]), st.sampled_from([None, 3]))
def test_the_fast_path_equals_the_reference_evaluators_plain_decisions(monkeypatch_case, budget, review):
    book, items = monkeypatch_case
    with pytest.MonkeyPatch.context() as mp:
        if budget is not None:  # caches that hold one entry, or a few
            mp.setattr(memo_layer, "CACHE_BYTES", budget)
        if review is not None:  # caches reviewed all the time: some switched off
            mp.setattr(encode, "REVIEW", review)
        fast, plain = Classifier(book, "reference"), Classifier(book, "reference", memo=False)
        for i, signals in enumerate([*items, *items]):
            expected = plain.decide_signals(f"F-{i}", "title", signals)
            assert fast.decide_json(f"F-{i}", "title", signals) == expected.model_dump_json().encode(), signals
            assert fast.fired(signals) == plain.matcher.fired(signals)
            assert fast.tier_index(signals) == plain.tier_index(signals)
            assert fast.decide_signals(f"F-{i}", "title", signals).model_dump() == expected.model_dump()

"""The fast decision path (memoised explanations, shared parts, JSON fragments) gives exactly
what the plain construction gives."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launchtier.engine import Classifier, load_rulebook

BOOK = load_rulebook()
CLASSIFIERS = {e: Classifier(BOOK, e) for e in ("durable", "reference")}
UNCACHED = Classifier(BOOK, "durable", match_cache=False)

signals = st.fixed_dictionaries({
    "new_market": st.booleans(),
    "positioning": st.sampled_from(["none", "strengthens", "changes"]),
    "revenue_motion": st.sampled_from(["none", "retention", "deal_acceleration", "expansion", "new_logo"]),
    "differentiation": st.sampled_from(["none", "parity", "better", "first"]),
    "customer_reach": st.sampled_from([0, 9, 10, 11, 24, 25, 26, 49, 50, 51, 100]) | st.integers(0, 100),
    "demand_votes": st.sampled_from([0, 49, 50, 51]) | st.integers(0, 1_000_000),
    "user_action_required": st.booleans(),
    "pricing_change": st.booleans(),
    "audience": st.sampled_from(["admin", "end_user", "buyer"]),
    "stage": st.sampled_from(["beta", "ga"]),
    "exec_priority": st.booleans(),
})
texts = st.text(min_size=1, max_size=40)  # any unicode: quotes, backslashes, control characters


@pytest.mark.slow  # many hypothesis examples
@settings(max_examples=600, deadline=None)
@given(signals=signals, key=texts, title=texts, engine=st.sampled_from(["durable", "reference"]))
def test_memoised_decision_equals_the_plain_one_and_its_json_equals_pydantics(signals, key, title, engine):
    c = CLASSIFIERS[engine]
    fast = c.decide_signals(key, title, signals)
    assert c.fired(signals) == UNCACHED.fired(signals)  # the match cache is exact
    fired = c.matcher.fired(signals)
    scores = c.scores(fired)
    values = {**signals, **scores}
    plain = c._decision(key, title, fired, scores, values, c.matcher.tier(values))
    assert fast.model_dump() == plain.model_dump()
    assert fast.model_dump_json() == plain.model_dump_json()
    assert c.decide_json(key, title, signals) == plain.model_dump_json().encode()
    assert UNCACHED.decide_json(key, title, signals) == plain.model_dump_json().encode()
    assert json.loads(c.decide_json(key, title, signals))["item"] == key


def test_construct_builds_what_validation_builds_from_the_slots_pydantic_keeps(monkeypatch):
    from pydantic import BaseModel

    from launchtier.engine.decide import decision
    from launchtier.engine.decide.decision import Decision, construct

    assert decision.FILLS_SLOTS, (
        f"pydantic's BaseModel.__slots__ changed (now {BaseModel.__slots__}): decision.construct() falls back "
        "to model_construct, which is correct but slower; see engine/decide/decision.py")
    c = CLASSIFIERS["durable"]
    signals = {"revenue_motion": "new_logo", "differentiation": "first", "customer_reach": 60, "audience": "buyer",
               "new_market": True, "positioning": "changes", "demand_votes": 10, "user_action_required": False,
               "pricing_change": True, "stage": "ga", "exec_priority": False}
    fired = c.matcher.fired(signals)
    scores = c.scores(fired)
    values = {**signals, **scores}
    validated = c._decision("K-1", "Title", fired, scores, values, c.matcher.tier(values))  # Decision(...): validated
    fields = {name: getattr(validated, name) for name in Decision.model_fields}
    made = {"filled in": construct(Decision, dict(fields))}
    monkeypatch.setattr(decision, "FILLS_SLOTS", False)
    made["model_construct"] = construct(Decision, dict(fields))
    for how, model in made.items():
        state = (model, model.model_fields_set, model.__pydantic_extra__, model.__pydantic_private__, model.model_dump_json())
        assert state == (validated, validated.model_fields_set, validated.__pydantic_extra__,
                         validated.__pydantic_private__, validated.model_dump_json()), (
            f"a decision made by construct() ({how}) differs from the validated one: pydantic's model state changed")


def test_a_moved_decision_says_in_its_json_that_capacity_moved_it():
    c = CLASSIFIERS["durable"]
    from launchtier.engine import ItemReader

    item = ItemReader(BOOK).validate({"key": "A", "title": "t", "signals": {
        "revenue_motion": "new_logo", "differentiation": "first", "customer_reach": 5, "audience": "buyer", "new_market": True}})
    moved = c.moved(item, c.decide(item), "tier-2", "capacity")
    assert json.loads(moved.model_dump_json())["capacity"] == {"computed_tier": "tier-1", "reason": "capacity"}


def counting(classifier):
    calls = []
    fired = classifier.matcher.fired
    classifier.matcher.fired = lambda signals: calls.append(dict(signals)) or fired(signals)
    return calls


def test_rules_that_share_no_signal_fall_into_separate_groups():
    from launchtier.engine.match.memo import independent_groups
    from launchtier.engine.rulebook.model import rulebook_from_data

    data = BOOK.model_dump(mode="json")
    data["rules"] = [
        {"id": "a", "because": "a", "when": {"new_market": True}, "score": {"market_impact": 1}},
        {"id": "b", "because": "b", "when": {"audience": "admin"}, "score": {"parity": 1}},
        {"id": "c", "because": "c", "when": {"all": [{"new_market": True}, {"stage": "ga"}]}, "score": {"market_impact": 1}},
        {"id": "d", "because": "d", "when": {"stage": "beta"}, "score": {"parity": 1}},
        {"id": "e", "because": "e", "when": {"customer_reach": {"gte": 50}}, "score": {"customer_impact": 1}},
    ]
    book = rulebook_from_data(data)
    assert independent_groups(book) == [[0, 2, 3], [1], [4]]


def test_the_matcher_runs_only_for_a_case_of_a_rule_group_not_seen_before():
    c = Classifier(BOOK, "durable")
    calls = counting(c)
    base = {"new_market": False, "positioning": "none", "revenue_motion": "none", "differentiation": "none",
            "customer_reach": 10, "demand_votes": 0, "user_action_required": False, "pricing_change": False,
            "audience": "buyer", "stage": "ga", "exec_priority": False}
    c.decide_json("A", "t", base)
    assert len(calls) == 1
    # another value in the same interval of every threshold, a signal no rule reads: no new case
    c.decide_json("B", "t", {**base, "customer_reach": 11, "demand_votes": 3, "stage": "beta"})
    assert len(calls) == 1
    # one group's new case: the matcher runs once, and that case is then known
    c.decide_json("C", "t", {**base, "new_market": True})
    c.decide_json("D", "t", {**base, "new_market": True, "customer_reach": 12})
    assert len(calls) == 2
    d = c.decide_signals("E", "t", {**base, "new_market": True, "audience": "admin"})
    assert len(calls) == 3  # audience=admin is new
    # every group's case already seen, in different items: nothing new to match
    again = c.decide_signals("F", "t", {**base, "audience": "admin", "new_market": True, "customer_reach": 13})
    assert len(calls) == 3
    assert [f.rule for f in d.fired] == [f.rule for f in again.fired] == [f.rule for f in UNCACHED.decide_signals(
        "E", "t", {**base, "new_market": True, "audience": "admin"}).fired]


def test_kept_decisions_share_their_encoded_pieces():
    """A kept decision is a tuple of pieces shared with every decision that has the same part,
    so memory grows with the distinct parts, not with the distinct items (line keys)."""
    import random

    rng = random.Random(3)
    c = Classifier(BOOK, "durable")
    for i in range(3000):
        signals = {"new_market": rng.random() < 0.1, "positioning": rng.choice(["none", "strengthens", "changes"]),
                   "revenue_motion": rng.choice(["none", "retention", "deal_acceleration", "expansion", "new_logo"]),
                   "differentiation": rng.choice(["none", "parity", "better", "first"]), "customer_reach": rng.randint(0, 100),
                   "demand_votes": rng.randint(0, 100), "user_action_required": rng.random() < 0.2,
                   "pricing_change": rng.random() < 0.2, "audience": rng.choice(["admin", "end_user", "buyer"]),
                   "stage": rng.choice(["beta", "ga"]), "exec_priority": rng.random() < 0.1}
        if i % 100 == 0:
            assert c.decide_json("K", "t", signals) == UNCACHED.decide_signals("K", "t", signals).model_dump_json().encode()
        else:
            c.decide_json("K", "t", signals)
    cached = [c.encoder._rulebook_tail]
    for _, piece in c.encoder._pieces.values():
        cached.extend(piece if isinstance(piece, tuple) else (piece,))
    shared = {id(p) for p in cached}
    assert len(c.encoder._tails) > 1000
    assert all(id(p) in shared for tail in c.encoder._tails.values() for p in tail)  # no tail holds a copy

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
    assert independent_groups(book, [1, 3, 4]) == [[1], [3], [4]]


def mixed_book():
    """The default rulebook with two rules that are not a test per signal: an ``any`` across two
    signals, and a ``not`` of a conjunction."""
    from launchtier.engine.rulebook.model import rulebook_from_data

    data = BOOK.model_dump(mode="json")
    data["rules"] += [
        {"id": "either", "because": "either", "when": {"any": [{"new_market": True}, {"exec_priority": True}]},
         "score": {"market_impact": 1}},
        {"id": "not-both", "because": "not both", "when": {"not": {"stage": "beta", "audience": "admin"}},
         "score": {"parity": 1}},
    ]
    return rulebook_from_data(data)


def test_the_engine_is_asked_only_about_the_rules_the_tables_cannot_separate_once_per_case():
    book = mixed_book()
    c = Classifier(book, "durable")
    assert c.matching.others == [len(book.rules) - 2, len(book.rules) - 1]
    calls = counting(c)
    base = {"new_market": False, "positioning": "none", "revenue_motion": "none", "differentiation": "none",
            "customer_reach": 10, "demand_votes": 0, "user_action_required": False, "pricing_change": False,
            "audience": "buyer", "stage": "ga", "exec_priority": False}
    plain = Classifier(book, "reference", memo=False)
    changes = [{}, {"customer_reach": 90, "demand_votes": 500, "positioning": "changes"},  # only separable rules read these
               {"new_market": True}, {"new_market": True, "customer_reach": 12},  # a new case of "either", then the same
               {"audience": "admin"}, {"audience": "admin", "stage": "beta"}, {"stage": "beta"}]
    for i, change in enumerate(changes):
        signals = {**base, **change}
        assert c.decide_json(f"K{i}", "t", signals) == plain.decide_json(f"K{i}", "t", signals)
    # the cases of the two rules' groups (either: 2, not-both: 4), each asked about once
    assert [{k: s[k] for k in ("new_market", "exec_priority", "stage", "audience")} for s in calls] == [
        {"new_market": False, "exec_priority": False, "stage": "ga", "audience": "buyer"},
        {"new_market": True, "exec_priority": False, "stage": "ga", "audience": "buyer"},
        {"new_market": False, "exec_priority": False, "stage": "ga", "audience": "admin"},
        {"new_market": False, "exec_priority": False, "stage": "beta", "audience": "admin"},
        {"new_market": False, "exec_priority": False, "stage": "beta", "audience": "buyer"},
    ]


def test_a_case_is_explained_once_and_its_template_filled_per_item():
    """A tier that reads an int directly: every item shows its own value, yet items of the same
    interval and scores share one template; the decisions equal the plain ones."""
    from launchtier.engine.rulebook.model import rulebook_from_data

    data = BOOK.model_dump(mode="json")
    data["tiers"][1]["when"] = {"all": [data["tiers"][1]["when"], {"customer_reach": {"gte": 40}}]}
    book = rulebook_from_data(data)
    c, plain = Classifier(book, "durable"), Classifier(book, "reference", memo=False)
    base = {"new_market": False, "positioning": "none", "revenue_motion": "none", "differentiation": "parity",
            "customer_reach": 0, "demand_votes": 0, "user_action_required": False, "pricing_change": False,
            "audience": "buyer", "stage": "ga", "exec_priority": False}
    for reach in range(0, 10):  # one interval of every threshold: one case, below tier 2's reach
        signals = {**base, "customer_reach": reach}
        assert c.decide_json("K", "t", signals) == plain.decide_json("K", "t", signals)
    rests = c.encoder._rests.data
    assert len(rests) == 1
    (_, _, template), = rests.values()
    # the int each tier reads directly: customer_reach (tier-2 here), demand_votes (tier-3)
    assert [name for name, _ in template.holes] == ["customer_reach", "demand_votes"]


def test_a_combination_with_no_parts_is_written_without_its_empty_list():
    """``all: [{}]`` (a tier that always holds, written as a combination): pydantic leaves out
    the empty ``of``, and the directly written JSON must too."""
    from launchtier.engine.rulebook.model import rulebook_from_data

    data = BOOK.model_dump(mode="json")
    data["tiers"][0]["when"] = {"all": [{}]}
    book = rulebook_from_data(data)
    signals = {"new_market": False, "positioning": "none", "revenue_motion": "none", "differentiation": "none",
               "customer_reach": 0, "demand_votes": 0, "user_action_required": False, "pricing_change": False,
               "audience": "buyer", "stage": "ga", "exec_priority": False}
    expected = Classifier(book, "reference", memo=False).decide_signals("K", "t", signals)
    assert expected.tier_reason.model_dump(mode="json") == {"tier": "tier-1", "conditions": [
        {"name": "always", "op": "all", "expected": None, "actual": None, "holds": True}]}
    assert Classifier(book, "reference").decide_json("K", "t", signals) == expected.model_dump_json().encode()

"""Compile and evaluate, on small rulebooks written here, for both engines.

Every expected value below is worked out by hand from the rulebook in this file (its comments
show the arithmetic), never copied from the engine's output.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import json

import pytest

from launchtier.engine import ENGINES, Classifier, RulebookError, item_model, rulebook_from_data
from launchtier.engine.match import durable as durable_adapter
from launchtier.engine.decide.decision import ConditionCheck

# stage(0) audience(1) paid(2) reach(3) votes(4): what_would_change lists signals in this order.
BOOK = {
    "rulebook": "engine-test",
    "version": "1",
    "signals": {
        "stage": {"type": "enum", "values": ["beta", "ga"], "default": "ga", "question": "Stage?"},
        "audience": {"type": "enum", "values": ["admin", "end_user", "buyer"], "question": "Who?"},
        "paid": {"type": "bool", "default": False, "question": "Paid?"},
        "reach": {"type": "int", "min": 0, "max": 100, "default": 0, "question": "Percent?"},
        "votes": {"type": "int", "min": 0, "default": 0, "question": "Votes?"},
    },
    "dimensions": {
        "market": {"label": "Market", "min": 0, "max": 3},
        "risk": {"label": "Risk", "min": -2, "max": 2},
    },
    "totals": {"score": {"market": 2, "risk": -1}},
    "rules": [
        {"id": "big-reach", "because": "b", "when": {"reach": {"gte": 50}}, "score": {"market": 2}},
        {"id": "some-reach", "because": "b", "when": {"reach": {"gte": 10}}, "score": {"market": 1}},
        {"id": "paid", "because": "b", "when": {"paid": True}, "score": {"market": 2}},
        {"id": "beta-risk", "because": "b", "when": {"stage": "beta"}, "score": {"risk": 3}},
        {"id": "admin-safe", "because": "b", "when": {"audience": "admin"}, "score": {"risk": -1}},
        {"id": "votes-safe", "because": "b", "when": {"votes": {"gte": 100}}, "score": {"risk": -2}},
    ],
    "tiers": [
        {"id": "top", "label": "Top", "kind": "launch",
         "when": {"market": {"gte": 3}, "risk": {"lte": 0}, "stage": "ga"}},
        {"id": "mid", "label": "Mid", "kind": "launch", "when": {"score": {"gte": 2}}},
        {"id": "low", "label": "Low", "kind": "release",
         "when": {"any": [{"market": {"gte": 1}}, {"paid": True}]}},
        {"id": "quiet", "label": "Quiet", "kind": "release"},
    ],
    "artifacts": [
        {"id": "plan", "name": "Plan", "owner": "PMM", "category": "c", "tiers": ["top"]},
        {"id": "blog", "name": "Blog", "owner": "PMM", "category": "c", "tiers": ["top", "mid"], "effort": 1},
        {"id": "pricing", "name": "Pricing", "owner": "PM", "category": "c",
         "tiers": ["top", "mid", "low"], "when": {"paid": True}},
        {"id": "demo", "name": "Demo", "owner": "PM", "category": "c",
         "tiers": ["top", "mid"], "when": {"audience": {"ne": "admin"}}},
        {"id": "changelog", "name": "Changelog", "owner": "PM", "category": "c",
         "tiers": ["top", "mid", "low", "quiet"]},
    ],
}


@pytest.fixture(scope="module")
def book():
    return rulebook_from_data(copy.deepcopy(BOOK))


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


@pytest.fixture(params=[True, False], ids=["memo", "plain"])
def classifier(book, engine, request):
    """Each engine, memoised and plain (memo=False: no cache at all)."""
    return Classifier(book, engine, memo=request.param)


def make_item(book, key="A-1", **signals):
    return item_model(book).model_validate({"key": key, "title": f"Item {key}", "signals": signals})


def ids(decision):
    return [f.rule for f in decision.fired]


# ---- scores ------------------------------------------------------------------------------


def test_points_are_summed_and_clamped_to_the_dimension_max(book, classifier):
    # big-reach 2 + some-reach 1 + paid 2 = 5, clamped to market's max 3
    d = classifier.decide(make_item(book, reach=60, paid=True, audience="buyer"))
    assert ids(d) == ["big-reach", "some-reach", "paid"]
    assert d.scores["market"] == 3
    # some-reach alone: 1, under the max
    d = classifier.decide(make_item(book, reach=10, audience="buyer"))
    assert ids(d) == ["some-reach"]
    assert d.scores["market"] == 1


def test_negative_points_are_summed_and_clamped_to_the_dimension_min(book, classifier):
    # admin-safe -1 + votes-safe -2 = -3, clamped to risk's min -2
    d = classifier.decide(make_item(book, audience="admin", votes=100))
    assert ids(d) == ["admin-safe", "votes-safe"]
    assert d.scores["risk"] == -2
    # beta-risk 3 + admin-safe -1 = 2 (positive and negative points meet before clamping)
    d = classifier.decide(make_item(book, audience="admin", stage="beta"))
    assert d.scores["risk"] == 2
    # beta-risk 3 + admin-safe -1 + votes-safe -2 = 0
    d = classifier.decide(make_item(book, audience="admin", stage="beta", votes=500))
    assert d.scores["risk"] == 0


def test_clamping_happens_before_the_sum_is_used_elsewhere(book, classifier):
    # beta-risk alone is 3 points but risk is clamped to 2 before the total reads it
    d = classifier.decide(make_item(book, audience="buyer", stage="beta"))
    assert d.scores == {"market": 0, "risk": 2, "score": 2 * 0 - 1 * 2}


def test_totals_are_weighted_sums_of_the_clamped_dimensions(book, classifier):
    cases = [
        # (signals, market, risk)
        ({"reach": 60, "paid": True, "audience": "buyer"}, 3, 0),
        ({"audience": "admin", "votes": 100}, 0, -2),
        ({"reach": 10, "audience": "admin", "stage": "beta"}, 1, 2),
    ]
    for signals, market, risk in cases:
        d = classifier.decide(make_item(book, **signals))
        assert d.scores == {"market": market, "risk": risk, "score": 2 * market - risk}


def test_scores_list_every_dimension_and_total_even_when_nothing_fires(book, classifier):
    d = classifier.decide(make_item(book, audience="end_user"))
    assert d.fired == []
    assert d.scores == {"market": 0, "risk": 0, "score": 0}


# ---- tiers and their explanation ---------------------------------------------------------


def test_first_matching_tier_wins(book, classifier):
    # market 3, risk 0, ga: top holds; mid (score 6) and low hold too, but top comes first
    d = classifier.decide(make_item(book, reach=60, paid=True, audience="buyer"))
    assert (d.tier, d.label, d.kind) == ("top", "Top", "launch")
    # market 3, risk 2 (beta 3, admin -1), beta: top fails; score 6 - 2 = 4 takes mid
    d = classifier.decide(make_item(book, reach=60, audience="admin", stage="beta"))
    assert (d.tier, d.label, d.kind) == ("mid", "Mid", "launch")
    # market 1, score 2: mid before low although low holds as well
    d = classifier.decide(make_item(book, reach=10, audience="buyer"))
    assert d.tier == "mid"
    # negative risk raises the total: 0 - (-2) = 2 takes mid with no market at all
    d = classifier.decide(make_item(book, audience="admin", votes=100))
    assert d.tier == "mid"
    # market 1, risk 2 (beta 3, clamped), score 0: low takes it on market alone
    d = classifier.decide(make_item(book, reach=10, audience="buyer", stage="beta"))
    assert (d.scores["score"], d.tier) == (0, "low")


def test_the_last_tier_is_the_default(book, classifier):
    d = classifier.decide(make_item(book, audience="end_user"))
    assert (d.tier, d.label, d.kind) == ("quiet", "Quiet", "release")
    assert d.tier_reason.tier == "quiet"
    assert d.tier_reason.conditions == []


def test_tier_reason_lists_each_condition_with_expected_and_actual(book, classifier):
    d = classifier.decide(make_item(book, reach=60, paid=True, audience="buyer"))
    assert d.tier_reason.tier == "top"
    assert d.tier_reason.conditions == [
        ConditionCheck(name="market", op="gte", expected=3, actual=3, holds=True),
        ConditionCheck(name="risk", op="lte", expected=0, actual=0, holds=True),
        ConditionCheck(name="stage", op="eq", expected="ga", actual="ga", holds=True),
    ]


def test_tier_reason_of_an_any_condition_checks_each_part(book, classifier):
    # market 1, risk 2, score 0: low, on the first part of its "any"
    d = classifier.decide(make_item(book, reach=10, audience="buyer", stage="beta"))
    assert d.tier == "low"
    [any_check] = d.tier_reason.conditions
    assert (any_check.op, any_check.holds) == ("any", True)
    assert any_check.of == [
        ConditionCheck(name="market", op="gte", expected=1, actual=1, holds=True),
        ConditionCheck(name="paid", op="eq", expected=True, actual=False, holds=False),
    ]


def test_higher_tiers_list_only_the_failed_conditions(book, classifier):
    # market 3 and risk 2 in beta: top fails on risk and stage, not on market
    d = classifier.decide(make_item(book, reach=60, audience="admin", stage="beta"))
    assert d.tier == "mid"
    [top] = d.higher_tiers
    assert top.tier == "top"
    assert top.failed == [
        ConditionCheck(name="risk", op="lte", expected=0, actual=2, holds=False),
        ConditionCheck(name="stage", op="eq", expected="ga", actual="beta", holds=False),
    ]


def test_higher_tiers_cover_every_tier_above_the_chosen_one(book, classifier):
    d = classifier.decide(make_item(book, audience="end_user"))
    assert [h.tier for h in d.higher_tiers] == ["top", "mid", "low"]
    top, mid, low = d.higher_tiers
    assert top.failed == [ConditionCheck(name="market", op="gte", expected=3, actual=0, holds=False)]
    assert mid.failed == [ConditionCheck(name="score", op="gte", expected=2, actual=0, holds=False)]
    assert [(c.op, c.holds, len(c.of)) for c in low.failed] == [("any", False, 2)]
    # the tier that won has no entry, and a top-tier item has none at all
    d = classifier.decide(make_item(book, reach=60, paid=True, audience="buyer"))
    assert d.higher_tiers == []


# ---- artifacts ---------------------------------------------------------------------------


def test_artifacts_are_filtered_by_tier_and_by_when(book, classifier):
    d = classifier.decide(make_item(book, reach=60, paid=True, audience="buyer"))
    assert [a.id for a in d.artifacts] == ["plan", "blog", "pricing", "demo", "changelog"]
    # mid, not paid, admin: plan is top only, pricing needs paid, demo needs a non-admin
    d = classifier.decide(make_item(book, reach=60, audience="admin", stage="beta"))
    assert d.tier == "mid"
    assert [a.id for a in d.artifacts] == ["blog", "changelog"]
    # mid, paid, end user in beta: market 2, risk 2, score 2
    d = classifier.decide(make_item(book, paid=True, audience="end_user", stage="beta"))
    assert d.tier == "mid"
    assert [a.id for a in d.artifacts] == ["blog", "pricing", "demo", "changelog"]
    d = classifier.decide(make_item(book, audience="end_user"))
    assert [a.id for a in d.artifacts] == ["changelog"]


def test_artifact_refs_carry_the_artifact_fields(book, classifier):
    d = classifier.decide(make_item(book, reach=60, audience="admin", stage="beta"))
    blog = d.artifacts[0]
    assert (blog.id, blog.name, blog.owner, blog.category, blog.effort) == ("blog", "Blog", "PMM", "c", 1)
    assert "effort" not in d.artifacts[1].model_dump()  # changelog has no effort


# ---- fired rules -------------------------------------------------------------------------


def test_fired_rules_come_in_rulebook_order_with_their_reason_and_points(engine):
    data = copy.deepcopy(BOOK)
    data["rulebook"] = "engine-test-order"
    # the rulebook order is deliberately not alphabetical
    data["rules"] = [
        {"id": "zeta", "because": "z", "when": {"reach": {"gte": 1}}, "score": {"market": 1}},
        {"id": "alpha", "because": "a", "when": {"paid": True}, "score": {"risk": -1}},
        {"id": "mu", "because": "m", "when": {"votes": {"lt": 5}}, "score": {"market": 1, "risk": 1}},
        {"id": "beta", "because": "b", "when": {"stage": "beta"}, "score": {"risk": 1}},
    ]
    book = rulebook_from_data(data)
    c = Classifier(book, engine)
    d = c.decide(make_item(book, reach=5, paid=True, votes=0, stage="beta", audience="buyer"))
    assert ids(d) == ["zeta", "alpha", "mu", "beta"]
    assert [(f.because, f.score) for f in d.fired] == [
        ("z", {"market": 1}), ("a", {"risk": -1}), ("m", {"market": 1, "risk": 1}), ("b", {"risk": 1})]
    d = c.decide(make_item(book, reach=0, paid=True, votes=9, audience="buyer"))
    assert ids(d) == ["alpha"]


# ---- operators and combinators -----------------------------------------------------------

OPS_BOOK = {
    "rulebook": "engine-test-ops",
    "version": "1",
    "signals": {
        "e": {"type": "enum", "values": ["a", "b", "c"], "question": "e?"},
        "f": {"type": "bool", "question": "f?"},
        "n": {"type": "int", "min": -3, "max": 3, "question": "n?"},
    },
    "dimensions": {"d": {"label": "D", "min": -100, "max": 100}},
    "tiers": [{"id": "only", "label": "Only", "kind": "release"}],
}

# (rule id, when, what it means in plain Python)
OP_CASES = [
    ("eq-enum", {"e": "b"}, lambda s: s["e"] == "b"),
    ("eq-enum-op", {"e": {"eq": "b"}}, lambda s: s["e"] == "b"),
    ("ne-enum", {"e": {"ne": "a"}}, lambda s: s["e"] != "a"),
    ("eq-bool", {"f": True}, lambda s: s["f"] is True),
    ("eq-bool-false", {"f": False}, lambda s: s["f"] is False),
    ("ne-bool", {"f": {"ne": True}}, lambda s: s["f"] is not True),
    ("eq-int", {"n": 0}, lambda s: s["n"] == 0),
    ("ne-int", {"n": {"ne": 0}}, lambda s: s["n"] != 0),
    ("ne-int-negative", {"n": {"ne": -2}}, lambda s: s["n"] != -2),
    ("lt", {"n": {"lt": 1}}, lambda s: s["n"] < 1),
    ("lte", {"n": {"lte": 1}}, lambda s: s["n"] <= 1),
    ("gt", {"n": {"gt": -1}}, lambda s: s["n"] > -1),
    ("gte", {"n": {"gte": -1}}, lambda s: s["n"] >= -1),
    ("range", {"n": {"gte": -1, "lt": 2}}, lambda s: -1 <= s["n"] < 2),
    ("outside-bounds", {"n": {"gt": 10}}, lambda s: False),
    ("in-enum", {"e": {"in": ["a", "c"]}}, lambda s: s["e"] in ("a", "c")),
    ("in-one", {"e": {"in": ["c"]}}, lambda s: s["e"] == "c"),
    ("in-int", {"n": {"in": [-3, 0, 2]}}, lambda s: s["n"] in (-3, 0, 2)),
    ("in-bool", {"f": {"in": [True, False]}}, lambda s: True),
    ("not-in-enum", {"e": {"not_in": ["a", "c"]}}, lambda s: s["e"] not in ("a", "c")),
    ("not-in-int", {"n": {"not_in": [-3, 0, 2]}}, lambda s: s["n"] not in (-3, 0, 2)),
    ("not-in-bool", {"f": {"not_in": [False]}}, lambda s: s["f"] is True),
    ("two-keys", {"e": "a", "f": True}, lambda s: s["e"] == "a" and s["f"]),
    ("all", {"all": [{"e": {"ne": "c"}}, {"n": {"gt": 0}}]}, lambda s: s["e"] != "c" and s["n"] > 0),
    ("any", {"any": [{"e": "a"}, {"f": True}, {"n": {"lt": -2}}]},
     lambda s: s["e"] == "a" or s["f"] or s["n"] < -2),
    ("any-overlapping", {"any": [{"n": {"gte": 0}}, {"n": {"gte": 1}}, {"n": {"gte": 2}}]},
     lambda s: s["n"] >= 0),
    ("not-eq", {"not": {"e": "a"}}, lambda s: s["e"] != "a"),
    ("not-gte", {"not": {"n": {"gte": 1}}}, lambda s: s["n"] < 1),
    ("not-in", {"not": {"n": {"in": [1, 2]}}}, lambda s: s["n"] not in (1, 2)),
    ("not-not-in", {"not": {"e": {"not_in": ["b"]}}}, lambda s: s["e"] == "b"),
    ("not-all", {"not": {"all": [{"e": "a"}, {"f": True}]}}, lambda s: not (s["e"] == "a" and s["f"])),
    ("not-any", {"not": {"any": [{"e": "a"}, {"n": {"lt": 0}}]}}, lambda s: not (s["e"] == "a" or s["n"] < 0)),
    ("not-two-keys", {"not": {"e": "b", "n": {"gt": 0}}}, lambda s: not (s["e"] == "b" and s["n"] > 0)),
    ("not-not", {"not": {"not": {"f": True}}}, lambda s: s["f"] is True),
    ("nested", {"any": [{"all": [{"e": {"in": ["a", "b"]}}, {"not": {"f": True}}]},
                        {"all": [{"n": {"lte": -1}}, {"any": [{"e": "c"}, {"f": True}]}]}]},
     lambda s: (s["e"] in ("a", "b") and not s["f"]) or (s["n"] <= -1 and (s["e"] == "c" or s["f"]))),
    ("key-and-combinator", {"f": False, "any": [{"e": "c"}, {"n": 3}]},
     lambda s: not s["f"] and (s["e"] == "c" or s["n"] == 3)),
    # `{}` is an empty "all": it always holds, so its negation never does
    ("not-empty", {"not": {}}, lambda s: False),
    ("any-empty", {"any": [{}, {"f": True}]}, lambda s: True),
    ("not-all-empty", {"not": {"all": [{}, {"f": True}]}}, lambda s: not s["f"]),
]


@pytest.fixture(scope="module")
def ops_book():
    data = copy.deepcopy(OPS_BOOK)
    data["rules"] = [{"id": rid, "because": rid, "when": when, "score": {"d": 1}} for rid, when, _ in OP_CASES]
    return rulebook_from_data(data)


ALL_OPS_SIGNALS = [
    {"e": e, "f": f, "n": n} for e, f, n in itertools.product(("a", "b", "c"), (True, False), range(-3, 4))
]


@pytest.mark.parametrize("rid,when,meaning", OP_CASES, ids=[c[0] for c in OP_CASES])
def test_operator_fires_exactly_when_its_meaning_holds(ops_book, engine, rid, when, meaning):
    index = [r.id for r in ops_book.rules].index(rid)
    matcher = Classifier(ops_book, engine).matcher
    for signals in ALL_OPS_SIGNALS:
        assert (index in matcher.fired(signals)) == meaning(signals), (rid, signals)


def test_each_rule_fires_once_however_many_branches_hold(ops_book, engine):
    c = Classifier(ops_book, engine)
    for signals in ALL_OPS_SIGNALS:
        expected = [rid for rid, _, meaning in OP_CASES if meaning(signals)]
        d = c.decide_signals("K", "T", signals)
        assert ids(d) == expected, signals
        assert d.scores["d"] == len(expected)


# ---- what would change the tier ----------------------------------------------------------


def change_list(changes):
    return [(c.signal, c.from_, c.to, c.tier) for c in changes]


def test_what_would_change_gives_the_closest_int_value_per_tier_and_bool_flips(book, classifier):
    # quiet item. reach: thresholds 10 and 50 (rules) give 10 -> mid (market 1, score 2) and
    # 50 -> top (market 3, risk 0, ga); 11 and 51 give the same tiers but are further away.
    # votes: 100 gives risk -2, score 2 -> mid. paid: market 2, score 4 -> mid.
    # stage beta (risk 2) and audience admin (risk -1, score 1) leave it quiet.
    signals = make_item(book, audience="end_user").signal_values()
    assert change_list(classifier.what_would_change(signals)) == [
        ("reach", 0, 50, "top"),
        ("paid", False, True, "mid"),
        ("reach", 0, 10, "mid"),
        ("votes", 0, 100, "mid"),
    ]


def test_what_would_change_looks_both_ways_and_offers_enum_alternatives(book, classifier):
    # mid item: market 3, risk 2 (beta 3 - admin 1), score 4. stage ga -> risk -1 -> top.
    # reach down: 49 -> market 1, score 0, low; 9 -> market 0, score -2, quiet.
    # audience end_user/buyer -> risk 2 (3 clamped): still mid. votes 100 -> risk 0 but beta: mid.
    signals = make_item(book, reach=60, audience="admin", stage="beta").signal_values()
    changes = classifier.what_would_change(signals)
    assert change_list(changes) == [
        ("stage", "beta", "ga", "top"),
        ("reach", 60, 49, "low"),
        ("reach", 60, 9, "quiet"),
    ]
    assert [(c.label, c.kind) for c in changes] == [("Top", "launch"), ("Low", "release"), ("Quiet", "release")]
    assert changes[0].model_dump(by_alias=True)["from"] == "beta"


def test_what_would_change_is_empty_when_no_single_signal_moves_the_tier(engine):
    data = copy.deepcopy(OPS_BOOK)
    data["rulebook"] = "engine-test-stuck"
    data["rules"] = [{"id": "any-n", "because": "b", "when": {"n": {"gte": -3}}, "score": {"d": 1}}]
    data["tiers"] = [{"id": "one", "label": "One", "kind": "launch", "when": {"d": {"gte": 1}}},
                     {"id": "two", "label": "Two", "kind": "release"}]
    c = Classifier(rulebook_from_data(data), engine)
    assert c.what_would_change({"e": "a", "f": True, "n": 0}) == []


def test_what_would_change_agrees_between_engines(book):
    durable, reference = Classifier(book, "durable"), Classifier(book, "reference")
    for reach, votes, paid, stage, audience in itertools.product(
        (0, 9, 10, 49, 50, 100), (0, 99, 100), (False, True), ("beta", "ga"), ("admin", "buyer")
    ):
        signals = {"reach": reach, "votes": votes, "paid": paid, "stage": stage, "audience": audience}
        assert durable.what_would_change(signals) == reference.what_would_change(signals)


# ---- determinism and streaming ------------------------------------------------------------


def test_the_same_item_twice_gives_an_identical_decision(book, engine):
    item = make_item(book, reach=60, audience="admin", stage="beta", votes=3)
    first = Classifier(book, engine).decide(item)
    again = Classifier(book, engine).decide(item)
    once_more = Classifier(book, engine).decide(item)
    assert first == again == once_more
    assert first.to_json() == again.to_json()
    assert first.rulebook.hash == book.hash


def test_both_engines_give_identical_decisions_on_every_combination(book):
    durable, reference = Classifier(book, "durable"), Classifier(book, "reference")
    for i, (reach, votes, paid, stage, audience) in enumerate(itertools.product(
        (0, 9, 10, 11, 49, 50, 100), (0, 99, 100), (False, True), ("beta", "ga"), ("admin", "end_user", "buyer")
    )):
        item = make_item(book, key=f"K-{i}", reach=reach, votes=votes, paid=paid, stage=stage, audience=audience)
        assert durable.decide(item).model_dump() == reference.decide(item).model_dump()


def test_decision_round_trips_through_json(book, classifier):
    from launchtier.engine import Decision

    d = classifier.decide(make_item(book, reach=10, audience="buyer", stage="beta"))
    assert Decision.model_validate_json(d.to_json()) == d


def test_classify_streams_lazily(book, classifier):
    pulled = []

    def items():
        for i, reach in enumerate((60, 10, 0)):
            pulled.append(i)
            yield make_item(book, key=f"S-{i}", reach=reach, paid=reach == 60, audience="buyer")

    stream = classifier.classify(items())
    assert inspect.isgenerator(stream)
    assert pulled == []  # nothing is read before the first decision is asked for
    first = next(stream)
    assert (first.item, first.tier, pulled) == ("S-0", "top", [0])
    second = next(stream)
    assert (second.item, second.tier, pulled) == ("S-1", "mid", [0, 1])
    rest = list(stream)
    assert [(d.item, d.tier) for d in rest] == [("S-2", "quiet")]
    assert pulled == [0, 1, 2]


def test_classify_keeps_the_order_and_the_item_key_and_title(book, classifier):
    items = [make_item(book, key=f"K-{i}", reach=r, audience="buyer") for i, r in enumerate((0, 60, 10, 0))]
    decisions = list(classifier.classify(items))
    assert [(d.item, d.title) for d in decisions] == [(f"K-{i}", f"Item K-{i}") for i in range(4)]
    # reach 60: big-reach 2 + some-reach 1 = market 3, risk 0, ga -> top
    assert [d.tier for d in decisions] == ["quiet", "top", "mid", "quiet"]


def test_an_unknown_engine_is_refused(book):
    from launchtier.engine import EngineUnavailable

    with pytest.raises(EngineUnavailable, match="unknown engine 'zen'"):
        Classifier(book, "zen")


# ---- compiling to durable-rules ------------------------------------------------------------


def test_compile_gives_one_rule_per_scoring_rule_plus_the_sentinel(book):
    compiled = durable_adapter.compile_rulebook(book)
    assert list(compiled) == [f"r{i}" for i in range(len(book.rules))] + [durable_adapter.SENTINEL]
    assert compiled[durable_adapter.SENTINEL] == {"all": [{"m": {"$ex": {"_item": 1}}}]}
    for name, rule in compiled.items():
        assert list(rule) == ["all"] and len(rule["all"]) == 1 and list(rule["all"][0]) == ["m"], name
    assert compiled["r0"] == {"all": [{"m": {"$gte": {"reach": 50}}}]}
    assert compiled["r2"] == {"all": [{"m": {"paid": True}}]}
    assert compiled["r3"] == {"all": [{"m": {"stage": "beta"}}]}


def compiled_rule(when, signals=None):
    data = copy.deepcopy(OPS_BOOK)
    data["rulebook"] = "engine-test-compile"
    data["rules"] = [{"id": "only", "because": "b", "when": when, "score": {"d": 1}}]
    compiled = durable_adapter.compile_rulebook(rulebook_from_data(data))
    assert len(compiled) == 2
    [part] = compiled["r0"]["all"]
    return part["m"]


@pytest.mark.parametrize(
    "when,expected",
    [
        ({"e": {"in": ["a", "c"]}}, {"$or": [{"e": "a"}, {"e": "c"}]}),
        ({"e": {"in": ["a"]}}, {"e": "a"}),
        ({"any": [{"e": "a"}, {"f": True}]}, {"$or": [{"e": "a"}, {"f": True}]}),
        ({"e": {"not_in": ["a", "c"]}}, {"$and": [{"$neq": {"e": "a"}}, {"$neq": {"e": "c"}}]}),
        ({"e": "a", "n": {"lt": 2}}, {"$and": [{"e": "a"}, {"$lt": {"n": 2}}]}),
        ({"n": {"gte": 0, "lte": 2}}, {"$and": [{"$gte": {"n": 0}}, {"$lte": {"n": 2}}]}),
        ({"f": {"ne": False}}, {"$neq": {"f": False}}),
        # negation pushed down to the comparisons
        ({"not": {"n": {"gte": 3}}}, {"$lt": {"n": 3}}),
        ({"not": {"n": {"lt": 3}}}, {"$gte": {"n": 3}}),
        ({"not": {"n": {"gt": 3}}}, {"$lte": {"n": 3}}),
        ({"not": {"n": {"lte": 3}}}, {"$gt": {"n": 3}}),
        ({"not": {"e": "a"}}, {"$neq": {"e": "a"}}),
        ({"not": {"e": {"ne": "a"}}}, {"e": "a"}),
        ({"not": {"e": {"in": ["a", "b"]}}}, {"$and": [{"$neq": {"e": "a"}}, {"$neq": {"e": "b"}}]}),
        ({"not": {"e": {"not_in": ["a", "b"]}}}, {"$or": [{"e": "a"}, {"e": "b"}]}),
        ({"not": {"all": [{"e": "a"}, {"f": True}]}}, {"$or": [{"$neq": {"e": "a"}}, {"$neq": {"f": True}}]}),
        ({"not": {"any": [{"e": "a"}, {"n": {"gte": 1}}]}}, {"$and": [{"$neq": {"e": "a"}}, {"$lt": {"n": 1}}]}),
        ({"not": {"not": {"f": True}}}, {"f": True}),
        # `not: {}` negates the empty "all" (always): it must never hold
        ({"not": {}}, {"_item": 0}),
    ],
)
def test_compile_expressions(when, expected):
    assert compiled_rule(when) == expected


def test_compile_never_emits_a_negation_operator(ops_book):
    text = json.dumps(durable_adapter.compile_rulebook(ops_book))
    assert "$not" not in text
    assert "$nex" not in text  # broken in durable-rules 2.0.28
    assert '"not"' not in text and '"any"' not in text


def test_the_ruleset_name_comes_from_the_rulebook_hash(book, ops_book):
    assert durable_adapter.ruleset_name(book) == "launchtier_" + book.hash.removeprefix("sha256:")[:32]
    assert durable_adapter.ruleset_name(book) != durable_adapter.ruleset_name(ops_book)


def test_a_rule_too_nested_for_durable_is_a_clear_engine_error_not_a_crash():
    from launchtier.engine import EngineUnavailable

    data = copy.deepcopy(OPS_BOOK)
    data["rulebook"] = "engine-test-too-nested"
    # 1 "any" + 15 "all"s: durable-rules keeps at most 15 nested groups per rule (error 113)
    data["rules"] = [{"id": "deep", "because": "b", "score": {"d": 1},
                      "when": {"any": [{"all": [{"n": v}, {"f": True}]} for v in range(-3, 4)]
                               + [{"all": [{"e": e}, {"f": f}]} for e in "abc" for f in (True, False)]
                               + [{"all": [{"n": 0}, {"e": "a"}]}, {"all": [{"n": 1}, {"e": "b"}]}]}}]
    book = rulebook_from_data(data)
    with pytest.raises(EngineUnavailable, match="durable-rules cannot compile rulebook engine-test-too-nested"):
        Classifier(book, "durable")
    # the reference engine evaluates it
    c = Classifier(book, "reference")
    assert c.matcher.fired({"e": "c", "f": False, "n": 3}) == [0]
    assert c.matcher.fired({"e": "c", "f": False, "n": 2}) == [0]
    assert c.matcher.fired({"e": "a", "f": False, "n": 2}) == [0]


def test_a_rulebook_refused_at_load_never_reaches_an_engine():
    data = copy.deepcopy(OPS_BOOK)
    data["rulebook"] = "engine-test-bad"
    data["rules"] = [{"id": "bad", "because": "b", "when": {"e": {"gte": "a"}}, "score": {"d": 1}}]
    before = len(durable_adapter._rulesets)
    with pytest.raises(RulebookError, match="'gte' compares numbers"):
        rulebook_from_data(data)
    assert len(durable_adapter._rulesets) == before

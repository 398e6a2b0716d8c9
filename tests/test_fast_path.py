"""The fast decision path (memoised explanations, shared parts, JSON fragments) gives exactly
what the plain construction gives."""

from __future__ import annotations

import json

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
    assert c.to_json(fast) == fast.model_dump_json() == plain.model_dump_json()
    assert c.decide_json(key, title, signals) == plain.model_dump_json().encode()
    assert UNCACHED.decide_json(key, title, signals) == plain.model_dump_json().encode()
    assert json.loads(c.to_json(fast))["item"] == key


def test_a_moved_decision_still_encodes_like_pydantic():
    c = CLASSIFIERS["durable"]
    from launchtier.engine import ItemReader

    item = ItemReader(BOOK).validate({"key": "A", "title": "t", "signals": {
        "revenue_motion": "new_logo", "differentiation": "first", "customer_reach": 5, "audience": "buyer", "new_market": True}})
    moved = c.moved(item, c.decide(item), "tier-2", "capacity")
    assert c.to_json(moved) == moved.model_dump_json()
    assert json.loads(c.to_json(moved))["capacity"] == {"computed_tier": "tier-1", "reason": "capacity"}

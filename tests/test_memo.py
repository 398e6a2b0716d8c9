"""The memo layer and the one switch: memo=False turns every cache off, and the memoised path
gives exactly what the plain path gives (decisions, their JSON, explanations, what-if).

test_properties.py runs the same comparison on generated rulebooks; this file runs it on the
default rulebook with many items, and checks the caches' own invariants."""

from __future__ import annotations

import gc
import json.encoder
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launchtier.engine import Classifier, ItemReader, item_model, load_rulebook
from launchtier.engine.decide.decision import OverrideNote
from launchtier.engine.match import ENGINES, Matcher, make_matcher
from launchtier.engine.match import memo as memo_layer
from launchtier.engine.match.memo import ByteCache, MemoMatcher
from launchtier.engine.match.tables import AlphaTables
from launchtier.engine.rulebook.model import EnumSignal, IntSignal

BOOK = load_rulebook()
MODEL = item_model(BOOK)
PLAIN = {e: Classifier(BOOK, e, memo=False) for e in ENGINES}
MEMOISED = {e: Classifier(BOOK, e) for e in ENGINES}
MANY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def default_signals():
    """Signal values for the default rulebook, ints often right at a threshold."""
    fields = {}
    for name, sig in BOOK.signals.items():
        if isinstance(sig, EnumSignal):
            fields[name] = st.sampled_from(sig.values)
        elif isinstance(sig, IntSignal):
            near = sorted({x for c in PLAIN["reference"].whatif.comparisons_of(name)
                           for v in (c.value if isinstance(c.value, tuple) else (c.value,))
                           for x in (v - 1, v, v + 1) if sig.allows(x)} | {sig.min})
            fields[name] = st.one_of(st.sampled_from(near), st.integers(sig.min, sig.max if sig.max is not None else 10**6))
        else:
            fields[name] = st.booleans()
    return st.fixed_dictionaries(fields)


def caches(c: Classifier) -> dict[str, dict | None]:
    """Every cache of a classifier and of the parts it is made of, by where it lives: each
    attribute that holds a dict, or None where a cache is switched off. (The matcher's own
    tables, built once from the rulebook, are not caches, and the memo layer's are listed
    apart since memo=False drops the layer itself.)"""
    found = {}
    for where, obj in [("classifier", c), ("scorer", c.scorer), ("explainer", c.explainer), ("encoder", c.encoder),
                       ("whatif", c.whatif)]:
        for name, value in vars(obj).items():
            if name.startswith("_") and (value is None or isinstance(value, (dict, ByteCache))):
                found[f"{where}.{name}"] = value
    return found


def exercise(c: Classifier, items: list[dict]) -> None:
    for i, signals in enumerate(items):
        item = MODEL.model_validate({"key": f"K-{i}", "title": "t", "signals": signals})
        c.decide(item)
        c.decide_json(item.key, item.title, signals)
        c.encoder.decide_text(item.key, item.title, signals)
        c.moved_json(item.key, item.title, signals, BOOK.tiers[-1].id, "capacity")
        c.explain(item)


@pytest.fixture(scope="module")
def some_items():
    reader = ItemReader(BOOK)
    rng = random.Random(5)
    out = []
    for _ in range(40):
        s = {}
        for name, sig in BOOK.signals.items():
            if isinstance(sig, EnumSignal):
                s[name] = rng.choice(sig.values)
            elif isinstance(sig, IntSignal):
                s[name] = rng.randint(sig.min, sig.max if sig.max is not None else 200)
            else:
                s[name] = rng.random() < 0.3
        out.append(reader.validate({"key": "X", "title": "t", "signals": s}).signal_values())
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_memo_false_turns_every_cache_off_and_the_matcher_is_not_wrapped(engine, some_items):
    on, off = Classifier(BOOK, engine), Classifier(BOOK, engine, memo=False)
    exercise(on, some_items)
    exercise(off, some_items)
    assert isinstance(on.matching, AlphaTables) and on.matching.inner is on.matcher
    assert off.matching is off.matcher
    cached = caches(on)
    assert sorted(cached) == ["classifier._tiers", "encoder._artifact_lists", "encoder._rests",
                              "explainer._artifacts", "explainer._check_texts", "explainer._explained", "scorer._by_mask",
                              "scorer._by_sums"]
    assert all(isinstance(v, ByteCache) for v in cached.values())
    assert [name for name, v in cached.items() if not v] == []  # every cache serves these items
    # the same caches, all off: a cache added without honouring the switch fails here
    assert caches(off) == dict.fromkeys(cached)


def test_match_cache_false_makes_the_matcher_see_every_item(some_items):
    c = Classifier(BOOK, "durable", match_cache=False)
    assert c.matching is c.matcher
    calls = []
    fired = c.matcher.fired
    c.matcher.fired = lambda signals: calls.append(1) or fired(signals)
    for s in some_items * 2:
        c.decide_json("K", "t", s)
        c.tier_index(s)
    assert len(calls) == 4 * len(some_items)


@pytest.mark.slow
@MANY
@given(st.lists(default_signals(), min_size=1, max_size=12), st.sampled_from(ENGINES))
def test_memoised_and_plain_paths_agree_on_the_default_rulebook(items, engine):
    plain, memoised = PLAIN[engine], MEMOISED[engine]
    for i, signals in enumerate(items * 2):  # twice: the second time the caches answer
        item = MODEL.model_validate({"key": f"D-{i}", "title": "Default \"quoted\" ü", "signals": signals})
        expected = plain.decide(item)
        assert memoised.decide(item).model_dump() == expected.model_dump(), signals
        assert memoised.decide_json(item.key, item.title, signals) == plain.decide_json(item.key, item.title, signals)
        assert plain.decide_json(item.key, item.title, signals) == expected.model_dump_json().encode()
        text = expected.model_dump_json()
        assert memoised.encoder.decide_text(item.key, item.title, signals) == plain.encoder.decide_text(
            item.key, item.title, signals) == (text, json.encoder.encode_basestring(text)[1:-1], memoised.tier_index(signals))
        assert memoised.fired(signals) == plain.fired(signals)
        assert memoised.tier_index(signals) == plain.tier_index(signals)
        for tier in BOOK.tiers[::2]:
            assert (memoised.moved_json(item.key, item.title, signals, tier.id, "over capacity")
                    == plain.moved_json(item.key, item.title, signals, tier.id, "over capacity"))
        note = OverrideNote(tier=BOOK.tiers[0].id, from_tier=expected.tier, reason="exec call", by="vp",
                            approved_by=["cpo"], seq=1, at="2026-11-28T12:00:00Z")
        assert (memoised.overridden(signals, memoised.decide(item), note).model_dump()
                == plain.overridden(signals, expected, note).model_dump())
        if i < 3:
            assert memoised.explain(item).model_dump() == plain.explain(item).model_dump(), signals


def test_every_cache_stays_exact_when_it_holds_one_entry_at_a_time(monkeypatch, some_items):
    """With a budget of one byte every cache evicts all it holds before it stores an entry: the
    parts are built again and again, and the answers stay exact."""
    monkeypatch.setattr(memo_layer, "CACHE_BYTES", 1)
    c, plain = Classifier(BOOK, "durable"), PLAIN["durable"]
    for rounds in range(2):
        for i, s in enumerate(some_items):
            assert c.decide_json(f"K{i}", "t", s) == plain.decide_json(f"K{i}", "t", s)
            assert c.encoder.decide_text(f"K{i}", "t", s) == plain.encoder.decide_text(f"K{i}", "t", s)
            assert c.tier_index(s) == plain.tier_index(s)
    assert {name: len(cache) for name, cache in caches(c).items()} == {
        name: 1 for name in ["classifier._tiers", "encoder._artifact_lists", "encoder._rests", "explainer._check_texts",
                             "scorer._by_mask", "scorer._by_sums"]} | {"explainer._artifacts": 0, "explainer._explained": 0}


def test_a_byte_cache_evicts_its_oldest_entries_to_stay_within_its_budget(monkeypatch):
    monkeypatch.setattr(memo_layer, "CACHE_BYTES", 3 * memo_layer.ENTRY + 30)
    cache = ByteCache()
    for key, size in [("a", 10), ("b", 10), ("c", 10)]:
        cache.put(key, key.upper(), size)
    assert (cache.data, cache.used) == ({"a": "A", "b": "B", "c": "C"}, 3 * memo_layer.ENTRY + 30)
    cache.put("d", "D", 15)  # with "a" gone still 5 bytes over: the two oldest go
    assert (cache.data, cache.used) == ({"c": "C", "d": "D"}, 2 * memo_layer.ENTRY + 25)
    cache.put("e", "E", 2 * memo_layer.ENTRY + 20)  # needs the room of three
    assert (cache.data, cache.used) == ({"e": "E"}, 3 * memo_layer.ENTRY + 20)
    cache.put("e", "E2", 0)  # stored again: its old size is given back first
    assert (cache.data, cache.used) == ({"e": "E2"}, memo_layer.ENTRY)


def test_a_key_stored_again_while_the_cache_is_full_is_counted_once(monkeypatch):
    """The oldest key stored again with a larger entry: it leaves before anything is evicted, so
    its size is given back once, and the bytes counted are the bytes held."""
    monkeypatch.setattr(memo_layer, "CACHE_BYTES", 2 * memo_layer.ENTRY + 20)
    cache = ByteCache()
    cache.put("a", "A", 10)
    cache.put("b", "B", 10)
    cache.put("a", "A2", 15)  # a's old 170 bytes out; 340 - 170 + 175 > 340: b is evicted too
    assert (cache.data, cache.used) == ({"a": "A2"}, memo_layer.ENTRY + 15)


def test_a_cache_that_does_not_pay_stops_storing_and_tries_again_later():
    cache = ByteCache()
    for i in range(100):  # 100 lookups, 97 misses: under 5 % hits
        cache.put(i, i)
    cache.review(100)
    assert (cache.on, len(cache), cache.used) == (False, 0, 0)
    for review in range(memo_layer.PAUSE):
        cache.put("x", 1)
        assert len(cache) == 0  # off: nothing is stored
        cache.review(100)
    assert cache.on  # after PAUSE reviews it tries again
    cache.put("x", 1)
    assert cache.data == {"x": 1}
    for i in range(90):  # 10 % hits: it pays
        cache.put(i, i)
    cache.review(100)
    assert cache.on and len(cache) == 91


def test_the_encoder_stops_storing_the_cases_of_a_rulebook_whose_items_never_repeat(monkeypatch):
    """Every item a new set of fired rules: after a review the by-mask cache stores nothing,
    and the decisions stay exact."""
    from launchtier.engine.decide import encode

    monkeypatch.setattr(encode, "REVIEW", 50)
    c, plain = Classifier(BOOK, "durable"), PLAIN["durable"]
    by_mask = caches(c)["scorer._by_mask"]
    seen = set()
    rng = random.Random(11)
    items = []
    while len(items) < 120:  # items whose sets of fired rules are all different
        s = {n: (rng.choice(sig.values) if isinstance(sig, EnumSignal) else rng.randint(0, 100) if isinstance(sig, IntSignal)
                 else rng.random() < 0.5) for n, sig in BOOK.signals.items()}
        fired = tuple(plain.fired(s))
        if fired not in seen:
            seen.add(fired)
            items.append(s)
    for i, s in enumerate(items):
        assert c.decide_json(f"K{i}", "t", s) == plain.decide_json(f"K{i}", "t", s)
        if i == 49:
            assert (by_mask.on, len(by_mask)) == (False, 0)
    assert len(by_mask) == 0


def test_a_part_rebuilt_after_its_cache_was_emptied_is_encoded_afresh(some_items):
    c, plain = Classifier(BOOK, "durable"), PLAIN["durable"]
    for s in some_items:
        c.decide_json("K", "t", s)
    for cache in caches(c).values():
        cache.clear()
    for s in some_items:
        assert c.decide_json("K", "t", s) == plain.decide_json("K", "t", s)


@pytest.mark.parametrize("engine", ENGINES)
def test_each_matcher_and_the_memo_layer_are_matchers(engine, some_items):
    plain = make_matcher(BOOK, engine)
    wrapped = MemoMatcher(plain)
    assert isinstance(plain, Matcher) and isinstance(wrapped, Matcher)
    assert wrapped.name == plain.name == engine and wrapped.rulebook is BOOK
    for s in some_items * 2:
        assert list(wrapped.fired(s)) == list(plain.fired(s))
        scores = PLAIN[engine].scores(plain.fired(s))
        assert wrapped.tier({**s, **scores}) == plain.tier({**s, **scores})


def test_the_memo_layer_wraps_any_matcher():
    """A matcher that is neither engine (here: fires rule 0 for a new market): the memo layer
    asks it once per case of each rule group, and forgets on clear()."""

    class Fake:
        name = "fake"
        rulebook = BOOK

        def __init__(self):
            self.calls = 0

        def fired(self, signals):
            self.calls += 1
            return [0] if signals["new_market"] else []

        def tier(self, values):
            return len(BOOK.tiers) - 1

    fake = Fake()
    memo = MemoMatcher(fake)
    base = {name: (sig.values[0] if isinstance(sig, EnumSignal) else 0 if isinstance(sig, IntSignal) else False)
            for name, sig in BOOK.signals.items()}
    assert list(memo.fired(base)) == [] and fake.calls == 1
    assert list(memo.fired(base)) == [] and fake.calls == 1
    assert list(memo.fired({**base, "new_market": True})) == [0] and fake.calls == 2
    memo.clear()
    assert list(memo.fired(base)) == [] and fake.calls == 3


@pytest.mark.parametrize("memo", [True, False])
def test_a_dropped_classifier_goes_at_once_with_its_caches(memo, some_items):
    """No reference cycle through the classifier's parts: a classifier no longer referenced is
    freed at once, not when the cyclic collector next runs (its caches can be large)."""
    import weakref

    c = Classifier(BOOK, "durable", memo=memo)
    exercise(c, some_items[:5])
    gone = weakref.ref(c)
    gc.disable()
    try:
        del c
        assert gone() is None
    finally:
        gc.enable()


def test_the_size_counted_for_an_explanation_is_the_memory_it_holds(some_items):
    """The explanations' cache counts CHECK_BYTES per condition check: within a third of what
    tracemalloc sees the explanations of these items hold."""
    import tracemalloc

    from launchtier.engine.decide import explain

    c = PLAIN["reference"]
    values = [{**s, **c.scores(c.fired(s))} for s in some_items]
    chosen = [c.explainer.tier_of(v) for v in values]
    c.explainer.explain(values[0], chosen[0])  # the models' first use is not what is measured
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [c.explainer.explain(v, t) for v, t in zip(values, chosen)]
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    counted = explain.CHECK_BYTES * sum(explain.checks_in(e) for e in kept)
    assert 0.67 * held <= counted <= 1.5 * held, (counted, held)


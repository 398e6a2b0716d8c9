"""Property tests: durable-rules and the reference evaluator decide every item alike.

Random valid rulebooks (signals, dimensions, totals, nested conditions, tiers, artifacts) with
random valid items for each. The reference evaluator reads the conditions as written; the
durable engine runs the parsed, negation-pushed, compiled ones; so any difference is a mistake
in parsing, pushing ``not`` down, compiling, or a durable-rules quirk the adapter lets through.

durable-rules leaks every ruleset it creates (one per distinct rulebook, cached by hash), so
the rulebook-level tests stay at a few hundred examples and evaluate many items per rulebook.
"""

from __future__ import annotations

import json
import re
import warnings

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from launchtier.engine import Classifier, item_model, load_rulebook, rulebook_from_data
from launchtier.engine.match import durable as durable_adapter
from launchtier.engine.rulebook.model import NAME, RESERVED, RULE_ID, EnumSignal, IntSignal

# Hypothesis imports its patch writer (libcst, which warns on import) only once a test has failed;
# import it now, quietly, so a failure is reported as a failure, not as a pytest INTERNALERROR
# under filterwarnings = error.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import hypothesis.extra._patching  # noqa: F401
    except ImportError:  # pragma: no cover - libcst absent: nothing to import
        pass

BOOKS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# Names durable-rules gives a meaning to elsewhere in a ruleset, plus ordinary ones.
TRICKY_NAMES = ["m", "s", "pri", "count", "cap", "dist", "name", "label", "value", "type", "item",
                "fact", "state", "event", "events", "x1", "a_b", "true", "null", "sentinel"]
# Enum values that look like other JSON types, differ only by case, or prefix each other.
TRICKY_VALUES = ["a", "b", "c", "A", "ab", "a.b", "a_b", "x-y", "1", "01", "1.0", "1e3", "0",
                 "true", "false", "null", "None", "id", "sid", "all", "any", "not"]
BIG = 2**53

names = st.one_of(st.sampled_from(TRICKY_NAMES), st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True))
rule_ids = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,4}){0,2}", fullmatch=True)


@st.composite
def distinct(draw, strategy, n, joint):
    """n distinct values; a repeat (or a reserved name) gets its index appended."""
    out: list[str] = []
    for i in range(n):
        value = draw(strategy)
        while value in out or value in RESERVED:
            value = f"{value}{joint}{i}"
        out.append(value)
    return out


@st.composite
def int_signal(draw):
    kind = draw(st.sampled_from(["small", "small", "small", "open", "big", "negative-big"]))
    if kind == "small":
        lo = draw(st.integers(-5, 5))
        spec = {"min": lo, "max": lo + draw(st.integers(0, 8))}
    elif kind == "open":
        spec = draw(st.sampled_from([{}, {"min": 0}, {"max": 3}]))
    elif kind == "big":
        spec = {"min": BIG - 4, "max": BIG}
    else:
        spec = {"min": -BIG, "max": -BIG + 4}
    return {"type": "int", "question": "How many?", **spec}


@st.composite
def enum_signal(draw):
    values = draw(st.lists(st.sampled_from(TRICKY_VALUES), min_size=1, max_size=4, unique=True))
    return {"type": "enum", "question": "Which?", "values": values}


signal_specs = st.one_of(st.just({"type": "bool", "question": "Is it?"}), int_signal(), enum_signal())


def int_range(lo, hi):
    """A closed window over a possibly open int range, for the values items and conditions use."""
    lo = -6 if lo is None else lo
    hi = 9 if hi is None else hi
    return lo, hi


@st.composite
def literal(draw, info, outside=True):
    """A value to compare a name with: within the type, ints also a little outside the range."""
    if info["type"] == "bool":
        return draw(st.booleans())
    if info["type"] == "enum":
        return draw(st.sampled_from(info["values"]))
    lo, hi = int_range(info.get("min"), info.get("max"))
    if outside:
        lo, hi = max(lo - 2, -BIG), min(hi + 2, BIG)
    return draw(st.integers(lo, hi))


OPS_BY_TYPE = {
    "bool": ["eq", "ne", "in", "not_in"],
    "enum": ["eq", "ne", "in", "not_in"],
    "int": ["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in"],
}


@st.composite
def comparison(draw, info):
    """The right-hand side of `name: ...`: a literal, or a mapping of 1-2 operators."""
    if draw(st.integers(0, 3)) == 0:
        return draw(literal(info))
    ops = draw(st.lists(st.sampled_from(OPS_BY_TYPE[info["type"]]), min_size=1, max_size=2, unique=True))
    out = {}
    for op in ops:
        if op in ("in", "not_in"):
            out[op] = draw(st.lists(literal(info), min_size=1, max_size=3))
        else:
            out[op] = draw(literal(info))
    return out


@st.composite
def condition(draw, namespace, depth, allow_empty=False):
    """A `when` mapping: 1-3 keys, each a comparison or (depth permitting) all / any / not."""
    if allow_empty and draw(st.integers(0, 19)) == 0:
        return {}
    keys = ["name", "name", "name"] + (["all", "any", "not"] if depth > 1 else [])
    out = {}
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3)):
        if key == "name":
            name = draw(st.sampled_from(sorted(namespace)))
            if name not in out:
                out[name] = draw(comparison(namespace[name]))
        elif key not in out:
            if key == "not":
                out[key] = draw(condition(namespace, depth - 1, allow_empty=True))
            else:
                out[key] = draw(st.lists(condition(namespace, depth - 1, allow_empty=True), min_size=1, max_size=3))
    return out


def total_range(dims, weights):
    lo = sum(w * (dims[d]["min"] if w >= 0 else dims[d]["max"]) for d, w in weights.items())
    hi = sum(w * (dims[d]["max"] if w >= 0 else dims[d]["min"]) for d, w in weights.items())
    return lo, hi


@st.composite
def rulebooks(draw):
    n_signals = draw(st.integers(1, 6))
    n_dims = draw(st.integers(1, 4))
    has_total = draw(st.booleans())
    all_names = draw(distinct(names, n_signals + n_dims + 1, "_"))
    signals = {name: draw(signal_specs) for name in all_names[:n_signals]}
    dims = {}
    for name in all_names[n_signals:n_signals + n_dims]:
        lo = draw(st.integers(-3, 2))
        dims[name] = {"label": name.upper(), "min": lo, "max": lo + draw(st.integers(0, 5))}
    totals = {}
    if has_total:
        chosen = draw(st.lists(st.sampled_from(sorted(dims)), min_size=1, max_size=len(dims), unique=True))
        totals[all_names[-1]] = {d: draw(st.integers(-3, 3)) for d in chosen}

    signal_ns = {name: spec for name, spec in signals.items()}
    full_ns = dict(signal_ns)
    for name, d in dims.items():
        full_ns[name] = {"type": "int", "min": d["min"], "max": d["max"]}
    for name, weights in totals.items():
        lo, hi = total_range(dims, weights)
        full_ns[name] = {"type": "int", "min": lo, "max": hi}

    rules = []
    for rid in draw(distinct(rule_ids, draw(st.integers(1, 12)), "-")):
        scored = draw(st.lists(st.sampled_from(sorted(dims)), min_size=1, max_size=len(dims), unique=True))
        rules.append({
            "id": rid,
            "because": f"because {rid}",
            "when": draw(condition(signal_ns, depth=3)),
            "score": {d: draw(st.integers(-4, 4)) for d in scored},
        })

    n_tiers = draw(st.integers(1, 4))
    tiers = []
    for i in range(n_tiers):
        tier = {"id": f"tier-{i + 1}", "label": f"Tier {i + 1}", "kind": draw(st.sampled_from(["launch", "release"]))}
        if i < n_tiers - 1:
            tier["when"] = draw(condition(full_ns, depth=2))
        tiers.append(tier)

    artifacts = []
    for i in range(draw(st.integers(0, 3))):
        art = {
            "id": f"art-{i}",
            "name": f"Artifact {i}",
            "owner": "PM",
            "category": "c",
            "tiers": draw(st.lists(st.sampled_from([t["id"] for t in tiers]), min_size=1, unique=True)),
        }
        if draw(st.booleans()):
            art["when"] = draw(condition(full_ns, depth=2, allow_empty=True))
        artifacts.append(art)

    data = {
        "rulebook": "prop",
        "version": "1",
        "signals": signals,
        "dimensions": dims,
        "totals": totals,
        "rules": rules,
        "tiers": tiers,
        "artifacts": artifacts,
    }
    return data


def signal_values(book):
    """A strategy of valid signal values for a rulebook; int windows are small, so every
    threshold a condition draws (within two of the range) is met often."""
    fields = {}
    for name, sig in book.signals.items():
        if isinstance(sig, EnumSignal):
            fields[name] = st.sampled_from(sig.values)
        elif isinstance(sig, IntSignal):
            lo, hi = int_range(sig.min, sig.max)
            fields[name] = st.integers(lo, hi)
        else:
            fields[name] = st.booleans()
    return st.fixed_dictionaries(fields)


def groups(expr) -> int:
    """How many `$and` / `$or` groups a compiled expression holds (durable-rules allows 15)."""
    if isinstance(expr, dict):
        return sum((k in ("$and", "$or")) + groups(v) for k, v in expr.items())
    if isinstance(expr, list):
        return sum(groups(v) for v in expr)
    return 0


@st.composite
def books_with_items(draw):
    data = draw(rulebooks())
    book = rulebook_from_data(data)
    compiled = durable_adapter.compile_rulebook(book)
    # a rule past durable-rules' nesting limit is refused by the adapter (tested in test_engine)
    assume(all(groups(rule) <= 15 for rule in compiled.values()))
    # so is one past its limits on branches and comparisons (tested in test_durable_landmines)
    assume(durable_adapter.limits(book) is None)
    items = draw(st.lists(signal_values(book), min_size=20, max_size=40))
    return book, items


@pytest.mark.slow  # many hypothesis examples
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rulebooks())
def test_generated_rulebooks_are_valid_with_the_names_drawn(data):
    # the generator must only make rulebooks the loader takes, or the properties test less
    names_used = [*data["signals"], *data["dimensions"], *data["totals"]]
    assert all(re.match(NAME, n) and n not in RESERVED for n in names_used)
    assert len(set(names_used)) == len(names_used)
    assert all(re.match(RULE_ID, r["id"]) for r in data["rules"])
    book = rulebook_from_data(data)
    assert list(book.signals) == list(data["signals"])
    assert [r.id for r in book.rules] == [r["id"] for r in data["rules"]]


@pytest.mark.slow  # many hypothesis examples, each a durable ruleset
@BOOKS
@given(books_with_items())
def test_durable_and_reference_give_identical_decisions_and_what_would_change(case):
    book, items = case
    # the plain path (memo=False: no cache at all): every item goes through each matcher and
    # every part of each decision is built afresh
    durable = Classifier(book, "durable", memo=False)
    reference = Classifier(book, "reference", memo=False)
    # and the memoised path (the memo layer around the matcher, the pipeline's, explainer's and
    # encoder's caches), fed the same items twice, so that its caches answer most of them
    memoised = Classifier(book, "durable")
    model = item_model(book)
    for i, signals in enumerate([*items, *items]):
        item = model.model_validate({"key": f"P-{i}", "title": "Generated", "signals": signals})
        first = i < len(items)
        if first:
            assert durable.matcher.fired(signals) == reference.matcher.fired(signals), signals
        plain = reference.decide(item)
        expected = plain.model_dump()
        if first:
            d = durable.decide(item)
            assert d.model_dump() == expected, signals
            assert durable.decide_json(item.key, item.title, signals) == plain.model_dump_json().encode(), signals
            # the decision is a pure function of the item: asking again changes nothing
            assert durable.decide(item).model_dump() == expected
            check_invariants(book, d)
        assert memoised.decide(item).model_dump() == expected, signals
        assert memoised.decide_json(item.key, item.title, signals) == plain.model_dump_json().encode(), signals
        assert memoised.tier_index(signals) == reference.tier_index(signals)
        if i % len(items) < 10:
            changes = reference.what_would_change(signals)
            assert memoised.what_would_change(signals) == changes, signals
            if first:
                assert durable.what_would_change(signals) == changes, signals
                check_changes(book, reference, signals, changes)
                assert memoised.explain(item).model_dump() == reference.explain(item).model_dump(), signals


def check_changes(book, reference, signals, changes):
    """Every change listed really gives the tier it names, a different one from the item's."""
    base = reference.tier_index(signals)
    for change in changes:
        assert change.from_ == signals[change.signal] != change.to
        moved = reference.tier_index({**signals, change.signal: change.to})
        assert moved != base
        assert book.tiers[moved].id == change.tier


def check_invariants(book, d):
    """What any decision must satisfy, whichever engine made it."""
    for name, dim in book.dimensions.items():
        assert dim.min <= d.scores[name] <= dim.max
    for name, weights in book.totals.items():
        assert d.scores[name] == sum(d.scores[dim] * w for dim, w in weights.items())
    order = [r.id for r in book.rules]
    fired = [f.rule for f in d.fired]
    assert fired == sorted(set(fired), key=order.index)  # once each, in rulebook order
    assert d.tier == book.tiers[-1].id or d.tier_reason.conditions
    assert all(c.holds for c in d.tier_reason.conditions)
    assert [h.tier for h in d.higher_tiers] == [t.id for t in book.tiers[: book.tier_index[d.tier]]]
    assert all(h.failed and not any(c.holds for c in h.failed) for h in d.higher_tiers)
    allowed = {a.id for a in book.artifacts if d.tier in a.tiers}
    assert {a.id for a in d.artifacts} <= allowed


# ---- the default rulebook alone, with many items --------------------------------------------

DEFAULT = load_rulebook()
DEFAULT_DURABLE = Classifier(DEFAULT, "durable", memo=False)
DEFAULT_REFERENCE = Classifier(DEFAULT, "reference", memo=False)


def default_items():
    fields = {}
    for name, sig in DEFAULT.signals.items():
        if isinstance(sig, EnumSignal):
            fields[name] = st.sampled_from(sig.values)
        elif isinstance(sig, IntSignal):
            thresholds = sorted({v + d for c in DEFAULT_DURABLE.whatif.comparisons_of(name)
                                 for v in (c.value if isinstance(c.value, tuple) else (c.value,))
                                 for d in (-1, 0, 1) if sig.allows(v + d)} | {sig.min, sig.max})
            fields[name] = st.one_of(st.integers(sig.min, sig.max), st.sampled_from(thresholds))
        else:
            fields[name] = st.booleans()
    return st.fixed_dictionaries(fields)


@pytest.mark.slow  # many hypothesis examples through durable
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(default_items(), min_size=50, max_size=50))
def test_default_rulebook_durable_matches_reference(items):
    model = item_model(DEFAULT)
    for i, signals in enumerate(items):
        item = model.model_validate({"key": f"D-{i}", "title": "Default", "signals": signals})
        assert DEFAULT_DURABLE.decide(item).model_dump() == DEFAULT_REFERENCE.decide(item).model_dump(), signals


@pytest.mark.slow  # many hypothesis examples through durable
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(default_items(), min_size=5, max_size=5))
def test_default_rulebook_what_would_change_matches_reference(items):
    for signals in items:
        assert DEFAULT_DURABLE.what_would_change(signals) == DEFAULT_REFERENCE.what_would_change(signals), signals


def test_default_rulebook_compiles_to_one_ruleset_of_plain_expressions():
    compiled = durable_adapter.compile_rulebook(DEFAULT)
    assert len(compiled) == len(DEFAULT.rules) + 1
    assert all(groups(rule) <= 15 for rule in compiled.values())
    assert "$not" not in json.dumps(compiled)

"""One regression test per durable-rules landmine (shared/durable-rules.md), through the public API.

A regression of some of these does not fail, it kills the process (a segmentation fault) or
hangs it. Those tests run the risky part in a fresh interpreter with a time limit, so that a
regression fails the test and pytest goes on. The ``id``/``sid`` hang is never run against
durable-rules at all: the tests check that the loader refuses every way of reaching it.
"""

from __future__ import annotations

import copy
import itertools
import json
import subprocess
import sys
import textwrap

import pytest

from launchtier.engine import (
    Classifier,
    EngineUnavailable,
    ItemError,
    ItemReader,
    RulebookError,
    rulebook_from_data,
)
from launchtier.engine.match import durable as durable_adapter
from launchtier.engine.rulebook.model import RESERVED


def run_isolated(code: str, timeout: float = 60) -> dict:
    """Run ``code`` in a fresh interpreter; it prints its result as JSON on its last line."""
    try:
        proc = subprocess.run(
            [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child process hung for more than {timeout} s")
    killed = f" (killed by signal {-proc.returncode}; 11 is a segmentation fault)" if proc.returncode < 0 else ""
    assert proc.returncode == 0, f"the child process exited with {proc.returncode}{killed}\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


SMALL = {
    "rulebook": "landmine",
    "version": "1",
    "signals": {
        "e": {"type": "enum", "values": ["a", "b", "c", "d", "e"], "question": "e?"},
        "f": {"type": "bool", "question": "f?"},
        "n": {"type": "int", "min": 0, "max": 5, "question": "n?"},
    },
    "dimensions": {"d": {"label": "D", "min": 0, "max": 100}},
    "rules": [{"id": "n-high", "because": "b", "when": {"n": {"gte": 5}}, "score": {"d": 1}}],
    "tiers": [
        {"id": "up", "label": "Up", "kind": "launch", "when": {"d": {"gte": 1}}},
        {"id": "down", "label": "Down", "kind": "release"},
    ],
}


def small(name: str, **changes) -> dict:
    data = copy.deepcopy(SMALL)
    data["rulebook"] = name
    data.update(copy.deepcopy(changes))
    return data


@pytest.fixture
def no_durable(monkeypatch):
    """Fail the test if anything asks for the durable-rules engine."""

    def refuse():
        pytest.fail("a refused rulebook reached durable-rules")

    monkeypatch.setattr(durable_adapter, "_engine", refuse)
    return len(durable_adapter._rulesets)


# ---- a condition on `id` or `sid` hangs the process forever ----------------------------------


@pytest.mark.parametrize("name", ["id", "sid"])
def test_a_rule_reading_id_or_sid_is_refused_at_load_time(no_durable, name):
    # the exact condition that hangs durable-rules, written as a signal the rules read
    data = small(f"landmine-{name}")
    data["signals"][name] = {"type": "int", "question": "q"}
    data["rules"].append({"id": "hang", "because": "b", "when": {name: {"gt": -1}}, "score": {"d": 1}})
    with pytest.raises(RulebookError) as err:
        rulebook_from_data(data)
    assert f"signals.{name}: '{name}' is a reserved name (durable-rules" in str(err.value)
    assert len(durable_adapter._rulesets) == no_durable


@pytest.mark.parametrize("name", ["id", "sid"])
@pytest.mark.parametrize("where", ["rule", "tier", "artifact"])
def test_a_condition_naming_id_or_sid_without_a_signal_is_refused(no_durable, name, where):
    data = small(f"landmine-{name}-{where}")
    when = {name: {"gt": -1}}
    if where == "rule":
        data["rules"].append({"id": "hang", "because": "b", "when": when, "score": {"d": 1}})
    elif where == "tier":
        data["tiers"][0]["when"] = when
    else:
        data["artifacts"] = [{"id": "x", "name": "X", "owner": "o", "category": "c", "tiers": ["up"], "when": when}]
    with pytest.raises(RulebookError, match=f"unknown name '{name}'"):
        rulebook_from_data(data)
    assert len(durable_adapter._rulesets) == no_durable


@pytest.mark.parametrize("name", sorted(RESERVED) + ["_item", "_sentinel", "_anything"])
@pytest.mark.parametrize("section", ["signals", "dimensions", "totals"])
def test_every_reserved_name_is_refused_in_every_section(no_durable, name, section):
    data = small(f"landmine-reserved-{section}")
    if section == "signals":
        data["signals"][name] = {"type": "bool", "question": "q"}
    elif section == "dimensions":
        data["dimensions"][name] = {"label": "L"}
    else:
        data["totals"] = {name: {"d": 1}}
    with pytest.raises(RulebookError, match=f"{section}.{name}: '{name}' is a reserved name"):
        rulebook_from_data(data)
    assert len(durable_adapter._rulesets) == no_durable


def test_an_item_cannot_carry_an_id_or_sid_signal():
    book = rulebook_from_data(small("landmine-item-fields"))
    reader = ItemReader(book)
    for name in ("id", "sid", "_item"):
        with pytest.raises(ItemError, match=f"unknown signal '{name}'"):
            reader.validate({"key": "K", "title": "T", "signals": {"e": "a", "f": True, "n": 1, name: 1}})


@pytest.mark.slow  # a child process
def test_items_keyed_id_or_sid_classify_normally():
    result = run_isolated(
        """
        import json
        from launchtier.engine import Classifier, ItemReader, load_rulebook

        book = load_rulebook()
        durable, reference = Classifier(book, "durable"), Classifier(book, "reference")
        reader = ItemReader(book)
        signals = {"revenue_motion": "new_logo", "differentiation": "first", "customer_reach": 60,
                   "audience": "buyer", "new_market": True}
        out = []
        for key, title in (("id", "sid"), ("sid", "id"), ("_item", "id"), ("1", "sid")):
            item = reader.validate({"key": key, "title": title, "signals": signals})
            d = durable.decide(item)
            assert d.model_dump() == reference.decide(item).model_dump()
            out.append([d.item, d.title, d.tier, [f.rule for f in d.fired]])
        print(json.dumps(out))
        """,
        timeout=60,
    )
    assert [r[:2] for r in result] == [["id", "sid"], ["sid", "id"], ["_item", "id"], ["1", "sid"]]
    # new market 3 + first 1 = market impact 3, new logo = lead generation 3: tier 1
    assert {r[2] for r in result} == {"tier-1"}
    assert result[0][3] == ["new-market", "differentiation-first", "revenue-new-logo", "reach-majority"]
    assert all(r[3] == result[0][3] for r in result)


# ---- post() fires only the first matching rule ------------------------------------------------


def test_every_rule_that_matches_fires_not_just_the_first():
    rules = [{"id": f"all-{i}", "because": "b", "when": {"n": {"gte": 0}}, "score": {"d": 1}} for i in range(5)]
    rules.insert(2, {"id": "never", "because": "b", "when": {"n": {"gt": 5}}, "score": {"d": 1}})
    rules.append({"id": "e-a", "because": "b", "when": {"e": "a"}, "score": {"d": 10}})
    book = rulebook_from_data(small("landmine-all-fire", rules=rules))
    c = Classifier(book, "durable")
    d = c.decide_signals("K", "T", {"e": "a", "f": False, "n": 3})
    assert [f.rule for f in d.fired] == ["all-0", "all-1", "all-2", "all-3", "all-4", "e-a"]
    assert d.scores == {"d": 15}
    d = c.decide_signals("K", "T", {"e": "b", "f": False, "n": 0})
    assert [f.rule for f in d.fired] == ["all-0", "all-1", "all-2", "all-3", "all-4"]


# ---- a fact matching no rule raises; delete_state on its session segfaults ---------------------


def test_the_compiled_ruleset_always_has_the_sentinel_rule():
    book = rulebook_from_data(small("landmine-sentinel-shape"))
    compiled = durable_adapter.compile_rulebook(book)
    assert compiled[durable_adapter.SENTINEL] == {"all": [{"m": {"$ex": {"_item": 1}}}]}


@pytest.mark.slow  # a child process
def test_an_item_matching_no_rule_classifies_and_the_process_survives():
    result = run_isolated(
        """
        import json
        from launchtier.engine import Classifier, rulebook_from_data

        c = Classifier(rulebook_from_data(json.loads(%r)), "durable")
        out = []
        for i in range(3000):  # many unhandled-but-for-the-sentinel facts, each session deleted
            d = c.decide_signals(f"K-{i}", "T", {"e": "a", "f": False, "n": i %% 5})
            out.append((d.tier, len(d.fired), d.scores["d"]))
        last = c.decide_signals("K", "T", {"e": "a", "f": False, "n": 5})
        print(json.dumps({"quiet": sorted(set(map(tuple, out))), "last": [last.tier, [f.rule for f in last.fired]]}))
        """ % json.dumps(small("landmine-sentinel")),
        timeout=60,
    )
    assert result["quiet"] == [["down", 0, 0]]
    assert result["last"] == ["up", ["n-high"]]


class _RefusingEngine:
    """Answers assert_fact with 'not handled' (status 1), and records what is deleted."""

    def __init__(self):
        self.deleted = []

    def assert_fact(self, handle, text):
        return 1, 0

    def delete_state(self, handle, sid):  # pragma: no cover - must not be called
        self.deleted.append(sid)


def test_a_fact_durable_refuses_is_an_error_and_its_session_is_not_deleted():
    book = rulebook_from_data(small("landmine-refused-fact"))
    matcher = Classifier(book, "durable").matcher
    fake = _RefusingEngine()
    matcher._engine = fake  # deleting a session that does not exist would segfault
    with pytest.raises(durable_adapter.DurableError, match="status 1"):
        matcher.fired({"e": "a", "f": False, "n": 0})
    assert fake.deleted == []


# ---- more than 1,024 live sessions: MemoryError ------------------------------------------------


@pytest.mark.slow  # 100,000 items
def test_100000_items_through_one_classifier():
    result = run_isolated(
        """
        import json, random, time
        import yaml
        from launchtier.engine import Classifier
        from launchtier.engine.match import durable as durable_adapter
        from launchtier.engine.rulebook.model import EnumSignal, IntSignal, default_rulebook_path, rulebook_from_data

        # the default rulebook, less the rule that scores "no competitive angle": with it every
        # item fires a rule, and the sentinel's work (an item no rule matches) would go untested
        data = yaml.safe_load(default_rulebook_path().read_text(encoding="utf-8"))
        data["rules"] = [r for r in data["rules"] if r["id"] != "differentiation-none"]
        book = rulebook_from_data(data)
        durable, reference = Classifier(book, "durable"), Classifier(book, "reference")
        rng = random.Random(20261122)

        def signals():
            out = {}
            for name, s in book.signals.items():
                if isinstance(s, EnumSignal):
                    out[name] = rng.choice(s.values)
                elif isinstance(s, IntSignal):
                    out[name] = rng.randint(s.min, min(s.max, 200))
                else:
                    out[name] = rng.random() < 0.3
            return out

        start = time.perf_counter()
        mismatches = unmatched = fired_total = 0
        for i in range(100_000):
            s = signals()
            if i % 10 == 0:  # some items match no scoring rule at all: the sentinel's work
                s.update(new_market=False, positioning="none", differentiation="none", revenue_motion="none",
                         pricing_change=False, audience="end_user", customer_reach=0, demand_votes=0,
                         user_action_required=False, exec_priority=False)
            fired = durable.matcher.fired(s)
            fired_total += len(fired)
            unmatched += not fired
            if fired != reference.matcher.fired(s):
                mismatches += 1
            if i % 500 == 0 and durable.decide_signals("K", "T", s) != reference.decide_signals("K", "T", s):
                mismatches += 1
        print(json.dumps({"mismatches": mismatches, "unmatched": unmatched, "fired": fired_total,
                          "rulesets": len(durable_adapter._rulesets), "seconds": time.perf_counter() - start}))
        """,
        timeout=120,
    )
    assert result["mismatches"] == 0
    assert result["unmatched"] >= 10_000
    assert result["fired"] > 100_000
    assert result["rulesets"] == 1


# ---- many facts in one session collide on their content hash ----------------------------------


@pytest.mark.slow  # thousands of items through durable
def test_many_distinct_but_similar_items_all_fire_the_right_rules():
    data = {
        "rulebook": "landmine-collision",
        "version": "1",
        "signals": {"x": {"type": "int", "question": "x?"}, "k": {"type": "int", "question": "k?"}},
        "dimensions": {"d": {"label": "D", "min": 0, "max": 10}},
        "rules": [
            {"id": "x-any", "because": "b", "when": {"x": {"gte": 0}}, "score": {"d": 1}},
            {"id": "k-low", "because": "b", "when": {"k": {"lt": 35_000}}, "score": {"d": 1}},
            {"id": "x-odd-one", "because": "b", "when": {"any": [{"x": 12_345}, {"k": {"gt": 69_000}}]}, "score": {"d": 1}},
            {"id": "x-not-500", "because": "b", "when": {"x": {"ne": 500}}, "score": {"d": 1}},
        ],
        "tiers": [{"id": "only", "label": "Only", "kind": "release"}],
    }
    result = run_isolated(
        """
        import json
        from launchtier.engine import Classifier, rulebook_from_data

        matcher = Classifier(rulebook_from_data(json.loads(%r)), "durable").matcher
        wrong = []
        for i in range(70_000):  # past the 67,926 facts where durable's content hash collided
            expected = [0] + ([1] if i < 35_000 else []) + ([2] if i == 12_345 or i > 69_000 else []) + ([3] if i != 500 else [])
            fired = matcher.fired({"x": i, "k": i})
            if fired != expected:
                wrong.append([i, fired, expected])
        print(json.dumps({"wrong": wrong[:10], "count": len(wrong)}))
        """ % json.dumps(data),
        timeout=60,
    )
    assert result == {"wrong": [], "count": 0}


# ---- several Hosts or a reused ruleset name segfault; rulesets leak; timer threads ---------------


@pytest.mark.slow  # a child process
def test_one_ruleset_per_rulebook_content_with_distinct_names():
    other = small("landmine-other")
    result = run_isolated(
        """
        import json, sys, threading
        from launchtier.engine import Classifier, ItemReader, load_rulebook, rulebook_from_data
        from launchtier.engine.match import durable as durable_adapter
        durable_rules_engine = durable_adapter._engine()  # loaded as the adapter loads it (lazy binding)

        created = []
        real = durable_rules_engine.create_ruleset
        def counting(name, text):
            created.append(name)
            return real(name, text)
        durable_rules_engine.create_ruleset = counting

        sizes = []
        first, second = load_rulebook(), load_rulebook()  # two objects, one content
        handles = []
        for book in (first, second, first):
            c = Classifier(book, "durable")
            handles.append(c.matcher._handle)
            sizes.append(len(durable_adapter._rulesets))
        signals = ItemReader(first).validate({"key": "K", "title": "T", "signals": {
            "revenue_motion": "expansion", "differentiation": "better", "customer_reach": 30,
            "audience": "end_user", "positioning": "strengthens"}}).signal_values()
        same = Classifier(first, "durable").decide_signals("K", "T", signals) == Classifier(second, "durable").decide_signals("K", "T", signals)
        other = rulebook_from_data(json.loads(%r))
        handles.append(Classifier(other, "durable").matcher._handle)
        sizes.append(len(durable_adapter._rulesets))
        for _ in range(50):  # many classifiers of known rulebooks create nothing more
            Classifier(other, "durable").matcher.fired({"e": "a", "f": True, "n": 5})
            Classifier(first, "durable").matcher.fired(signals)
        print(json.dumps({
            "created": created,
            "names": [durable_adapter.ruleset_name(first), durable_adapter.ruleset_name(second), durable_adapter.ruleset_name(other)],
            "sizes": sizes + [len(durable_adapter._rulesets)],
            "handles": handles,
            "same_decision": same,
            "host_api_loaded": "durable.lang" in sys.modules,
            "threads": threading.active_count(),
        }))
        """ % json.dumps(other),
        timeout=60,
    )
    first_name, second_name, other_name = result["names"]
    assert first_name == second_name != other_name
    assert result["created"] == [first_name, other_name]  # one create_ruleset per content, ever
    assert result["sizes"] == [1, 1, 1, 2, 2]
    h = result["handles"]
    assert h[0] == h[1] == h[2] != h[3]
    assert result["same_decision"] is True
    # no Host: no Python actions to swallow exceptions, no timer threads calling into the engine
    assert result["host_api_loaded"] is False
    assert result["threads"] == 1


# ---- "any" across two aliases fired nothing ------------------------------------------------------


def test_any_over_several_values_and_signals_is_one_or_expression_and_fires():
    rules = [
        {"id": "e-in", "because": "b", "when": {"e": {"in": ["a", "c", "e"]}}, "score": {"d": 1}},
        {"id": "any-two", "because": "b", "when": {"any": [{"e": "b"}, {"f": True}]}, "score": {"d": 1}},
        {"id": "any-three", "because": "b", "when": {"any": [{"e": "d"}, {"n": {"gte": 3}}, {"f": False}]},
         "score": {"d": 1}},
    ]
    book = rulebook_from_data(small("landmine-any", rules=rules))
    compiled = durable_adapter.compile_rulebook(book)
    for name in ("r0", "r1", "r2"):
        [part] = compiled[name]["all"]  # one `m`: no second alias to join
        assert list(part) == ["m"] and list(part["m"]) == ["$or"]
    assert compiled["r0"]["all"][0]["m"]["$or"] == [{"e": "a"}, {"e": "c"}, {"e": "e"}]
    c = Classifier(book, "durable")
    for e, f, n in itertools.product("abcde", (True, False), range(6)):
        holds = {"e-in": e in "ace", "any-two": e == "b" or f, "any-three": e == "d" or n >= 3 or not f}
        expected = [rid for rid, ok in holds.items() if ok]
        d = c.decide_signals("K", "T", {"e": e, "f": f, "n": n})
        assert [x.rule for x in d.fired] == expected
        assert d.scores["d"] == len(expected)  # once each, however many branches hold


# ---- limits of durable-rules found while testing (not in the notes) ------------------------------


def test_a_rulebook_with_more_signals_than_a_durable_fact_holds_is_a_clear_error():
    limit = durable_adapter.MAX_SIGNALS
    assert limit == 251  # durable-rules holds 254 fields a fact, the adapter adds 3

    def book(n):
        data = small(f"landmine-signals-{n}")
        data["signals"] = {f"s{i}": {"type": "int", "question": "q"} for i in range(n)}
        data["rules"] = [{"id": "last", "because": "b", "when": {f"s{n - 1}": {"gte": 1}}, "score": {"d": 1}}]
        return rulebook_from_data(data)

    widest = Classifier(book(limit), "durable")
    assert widest.matcher.fired({f"s{i}": 1 for i in range(limit)}) == [0]
    assert widest.matcher.fired({f"s{i}": 0 for i in range(limit)}) == []
    too_wide = book(limit + 1)
    with pytest.raises(EngineUnavailable, match=f"at most {limit} signals"):
        Classifier(too_wide, "durable")
    assert Classifier(too_wide, "reference").matcher.fired({f"s{i}": 1 for i in range(limit + 1)}) == [0]


# ---- loading the C module on every supported Python --------------------------------------------


@pytest.mark.slow  # a child process
def test_the_c_module_loads_and_matches_on_this_python():
    """Python 3.13 removed PyEval_CallObject, which the module's message-store callbacks name:
    loaded with lazy binding, the functions the adapter calls work (run in a fresh interpreter,
    so that the module is loaded here and now, not found already imported)."""
    result = run_isolated(
        f"""
        import json
        from launchtier.engine import Classifier, ItemReader, rulebook_from_data
        book = rulebook_from_data({SMALL!r}, "landmine.yaml")
        item = ItemReader(book).validate({{"key": "A", "title": "A", "signals": {{"e": "a", "f": True, "n": 5}}}})
        decision = Classifier(book, "durable", match_cache=False).decide(item)
        print(json.dumps([decision.tier, [f.rule for f in decision.fired]]))
        """
    )
    assert result == ["up", ["n-high"]]


def test_a_module_that_cannot_be_loaded_is_one_line_naming_the_reference_engine():
    missing = ImportError(
        "/venv/site-packages/durable_rules_engine.so: undefined symbol: PyEval_CallObject",
        name="durable_rules_engine",
        path="/venv/site-packages/durable_rules_engine.so",
    )
    python = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    assert durable_adapter._unavailable(missing) == (
        f"durable-rules cannot be loaded on {python} (undefined symbol: PyEval_CallObject); "
        "use --engine reference (the same decisions, in pure Python)"
    )
    absent = ModuleNotFoundError("No module named 'durable_rules_engine'", name="durable_rules_engine")
    assert durable_adapter._unavailable(absent) == (
        "durable-rules is not installed; install it (pip install durable-rules==2.0.28, which "
        "builds from source with a C compiler) or use --engine reference"
    )


@pytest.mark.slow  # a child process
def test_the_cli_says_so_and_exits_2_when_durable_rules_cannot_be_loaded(roadmap):
    """A fresh interpreter in which the module cannot be imported: one line, exit 2, no traceback."""
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["durable_rules_engine"] = None  # its import now fails, as where it is not installed
        from launchtier.cli.main import main
        sys.argv = ["launchtier", "classify", {str(roadmap)!r}]
        main()
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        2,
        "",
        "error: durable-rules is not installed; install it (pip install durable-rules==2.0.28, which "
        "builds from source with a C compiler) or use --engine reference\n",
    )

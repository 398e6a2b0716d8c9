"""Hostile rulebooks: past durable-rules' limits, or too large for lint to enumerate.

Each one is generated here and run through the CLI in a process of its own with a time limit:
durable-rules refuses it at load with one line naming its limit (before the C engine could fail,
hang or take minutes), the reference evaluator classifies it, and `rules lint` answers within
seconds, giving up on what it cannot enumerate. No traceback, no hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from launchtier.engine.match import durable as durable_adapter

CLI = [sys.executable, "-c", "from launchtier.cli.main import main; main()"]
TIMEOUT = 60


def run(tmp: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHTIER_")}
    env["LAUNCHTIER_DB"] = str(tmp / "launchtier.db")
    env.pop("COLUMNS", None)  # piped: a finding a line
    try:
        proc = subprocess.run([*CLI, *args], cwd=tmp, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"launchtier {' '.join(args)} hung for more than {TIMEOUT} s")
    assert "Traceback" not in proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def book(name: str, signals: dict, rules: list[dict], need: int) -> dict:
    return {
        "rulebook": name,
        "version": "1",
        # the signals say who can change them, so lint has no note about that either
        "signals": {n: {**s, "moves": "fact"} for n, s in signals.items()},
        "dimensions": {"d": {"label": "D", "min": 0, "max": 100_000}},
        "rules": [{"id": f"r{i}", "because": "b", "when": when, "score": {"d": 1}} for i, when in enumerate(rules)],
        # every rule's point is needed for the top tier, so lint has nothing else to say
        "tiers": [{"id": "up", "label": "Up", "kind": "launch", "when": {"d": {"gte": need}}},
                  {"id": "down", "label": "Down", "kind": "release"}],
    }


VOTES = {"demand_votes": {"type": "int", "min": 0, "max": 1000, "question": "q"}}


def thresholds(n: int) -> dict:
    """n rules that all hold for an item with 1,000 votes."""
    return book(f"thresholds-{n}", VOTES, [{"demand_votes": {"gte": i}} for i in range(1, n + 1)], n)


def alternatives(n: int) -> dict:
    """n rules of two alternatives each, both holding for the item: 2n branches."""
    signals = {"a": VOTES["demand_votes"], "b": VOTES["demand_votes"]}
    return book(f"alternatives-{n}", signals, [{"any": [{"a": {"gte": i}}, {"b": {"gte": i}}]} for i in range(1, n + 1)], n)


def ordinary(n: int) -> dict:
    """n single-threshold rules spread over ten int signals."""
    signals = {f"s{j}": {"type": "int", "min": 0, "max": 1000, "question": "q"} for j in range(10)}
    return book(f"ordinary-{n}", signals, [{f"s{i % 10}": {"gte": i // 10 + 1}} for i in range(n)], n)


def write(tmp: Path, data: dict) -> tuple[str, str]:
    (tmp / f"{data['rulebook']}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    signals = {name: 1000 for name in data["signals"]}
    (tmp / "items.yaml").write_text(yaml.safe_dump({"items": [{"key": "A-1", "title": "T", "signals": signals}]}))
    return f"{data['rulebook']}.yaml", "items.yaml"


BRANCHES = ("its rules have {n:,} branches, and durable-rules fails when more than 63 hold at once for one item "
            "(a rule counts once per alternative of its any and in)")

REFUSED = [
    (thresholds(64), 64, BRANCHES.format(n=64)),
    (alternatives(32), 32, BRANCHES.format(n=64)),
    (thresholds(512), 512, BRANCHES.format(n=512)),
    (ordinary(5000), 5000, BRANCHES.format(n=5000)),
]


@pytest.mark.slow
@pytest.mark.parametrize("data, fired, why", REFUSED, ids=[d["rulebook"] for d, _, _ in REFUSED])
def test_a_rulebook_past_durable_rules_limits_is_refused_and_classified_by_the_reference(tmp_path, data, fired, why):
    rules, items = write(tmp_path, data)
    name = data["rulebook"]
    refused = f"error: durable-rules cannot match rulebook {name}: {why}; use --engine reference\n"
    assert run(tmp_path, "classify", items, "--rules", rules) == (2, "", refused)
    assert run(tmp_path, "record", items, "--by", "Ann", "--rules", rules) == (2, "", refused)
    code, out, err = run(tmp_path, "classify", items, "--rules", rules, "--engine", "reference", "--format", "json")
    assert (code, err) == (0, "")
    (decision,) = json.loads(out)["decisions"]
    assert (decision["item"], decision["tier"], decision["scores"]) == ("A-1", "up", {"d": fired})
    assert [f["rule"] for f in decision["fired"]] == [f"r{i}" for i in range(fired)]


@pytest.mark.slow
def test_a_rulebook_at_durable_rules_limit_gives_the_reference_decisions(tmp_path):
    rules, items = write(tmp_path, thresholds(63))
    durable = run(tmp_path, "classify", items, "--rules", rules)
    assert durable[0] == 0 and durable[2] == ""
    assert durable == run(tmp_path, "classify", items, "--rules", rules, "--engine", "reference")
    assert "fired: r0, r1, r2," in durable[1] and "r62\n" in durable[1]
    assert run(tmp_path, "rules", "lint", "--rules", rules) == (
        0, "0 errors, 0 warnings, 0 notes (exact checks over 64 distinct items); ok\n", "")


@pytest.mark.slow
@pytest.mark.parametrize("data, fired, why", REFUSED[:3], ids=[d["rulebook"] for d, _, _ in REFUSED[:3]])
def test_lint_warns_about_a_rulebook_durable_rules_cannot_match(tmp_path, data, fired, why):
    rules, _ = write(tmp_path, data)
    name = data["rulebook"]
    space = {"thresholds-64": 65, "alternatives-32": 33 * 33, "thresholds-512": 513}[name]
    assert run(tmp_path, "rules", "lint", "--rules", rules) == (1, (
        f"{rules}:1: warning: rulebook {name}: durable-rules cannot match it: {why}; "
        "fix: classify it with --engine reference, or use fewer rules or fewer alternatives\n"
        f"0 errors, 1 warning, 0 notes (exact checks over {space:,} distinct items); lint failed\n"), "")


@pytest.mark.slow
def test_lint_of_five_thousand_rules_gives_up_within_seconds(tmp_path):
    rules, _ = write(tmp_path, ordinary(5000))
    assert run(tmp_path, "rules", "lint", "--rules", rules) == (1, (
        f"{rules}:1: warning: rulebook ordinary-5000: durable-rules cannot match it: {BRANCHES.format(n=5000)}; "
        "fix: classify it with --engine reference, or use fewer rules or fewer alternatives\n"
        f"{rules}:1: note: rulebook ordinary-5000: checking every condition for contradictions takes more than "
        "2,000,000 cases, so 1,009 of its 5,001 conditions were not checked; fix: nothing to fix\n"
        f"{rules}:1: note: rulebook ordinary-5000: the item space has {501 ** 10:,} distinct cases (more than "
        "2,000,000), so tier reachability, gaps, artifacts and rule effects were not checked; fix: nothing to fix\n"
        "0 errors, 1 warning, 2 notes (exact item checks skipped (too large)); lint failed\n"), "")


@pytest.mark.slow
def test_lint_gives_up_on_rules_times_the_item_space(tmp_path):
    # 60 single-threshold rules over six int signals: 11**6 = 1,771,561 cases, under the cap
    # on the item space, but 61 times that in steps
    signals = {f"s{j}": {"type": "int", "min": 0, "max": 1000, "question": "q"} for j in range(6)}
    rules, _ = write(tmp_path, book("sixty", signals, [{f"s{i % 6}": {"gte": i // 6 + 1}} for i in range(60)], 60))
    assert run(tmp_path, "rules", "lint", "--rules", rules) == (0, (
        f"{rules}:1: note: rulebook sixty: the item space has 1,771,561 distinct cases and 60 rules, 108,065,221 "
        "steps (more than 4,000,000), so tier reachability, gaps, artifacts and rule effects were not checked; "
        "fix: nothing to fix\n"
        "0 errors, 0 warnings, 1 note (exact item checks skipped (too large)); ok\n"), "")


@pytest.mark.slow
def test_lint_gives_up_on_the_truth_tables_of_rules_over_many_signals(tmp_path):
    # four rules reading twenty yes/no signals each: 2**20 cases a rule, which took gigabytes
    signals = {f"b{j}": {"type": "bool", "question": "q"} for j in range(20)}
    conditions = [{"all" if i % 2 else "any": [{f"b{j}": True} for j in range(20)]} for i in range(4)]
    rules, _ = write(tmp_path, book("flags", signals, conditions, 4))
    too_large = "condition too large to check exhaustively for contradictions; fix: nothing to fix"
    lines = [f"{rules}:{line}: note: rule r{i}: {too_large}" for i, line in enumerate((90, 116, 142, 168))]
    assert run(tmp_path, "rules", "lint", "--rules", rules) == (0, "\n".join([
        f"{rules}:1: note: rulebook flags: the truth tables of its rules have 4,194,304 entries (more than 500,000), "
        "so tier reachability, gaps, artifacts and rule effects were not checked; fix: nothing to fix",
        *lines,
        "0 errors, 0 warnings, 5 notes (exact item checks skipped (too large)); ok\n"]), "")


def test_an_error_of_durable_rules_while_matching_is_one_line(runner, tmp_path, monkeypatch):
    # with the limit lifted, the C engine meets its stack limit (error 303) on the item; the
    # rules read two signals each, so the alpha tables leave them to the engine
    monkeypatch.setattr(durable_adapter, "MAX_BRANCHES", 10_000)
    rules, items = write(tmp_path, alternatives(64))
    result = runner("classify", tmp_path / items, "--rules", tmp_path / rules)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", (
        "Error: durable-rules failed on an item of rulebook alternatives-64 (Could not assert fact, error code: 303); "
        "use --engine reference\n"))


def test_a_rulebook_past_the_limits_never_reaches_the_c_engine(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(durable_adapter, "_engine", lambda: pytest.fail("the refused rulebook reached durable-rules"))
    rules, items = write(tmp_path, alternatives(32))
    result = runner("classify", tmp_path / items, "--rules", tmp_path / rules)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", (
        f"error: durable-rules cannot match rulebook alternatives-32: {BRANCHES.format(n=64)}; use --engine reference\n"))

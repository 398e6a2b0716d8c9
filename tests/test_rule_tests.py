"""Rule tests (``launchtier rules test``): the default rulebook's own cases pass at 100 % rule
coverage with both engines, and the runner reports failures, low coverage and bad case files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import document, pyyaml_words
from launchtier.engine import ItemError, default_rulebook_path, load_rulebook
from launchtier.engine.rulecheck.ruletests import TestReport, default_case_files, run_tests

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "rules" / "tests"
CASE_FILES = ["artifacts.yaml", "customer-impact.yaml", "domain-examples.yaml", "lead-generation.yaml",
              "market-impact.yaml", "parity.yaml", "tiers.yaml"]
ENGINES = ["durable", "reference"]
RULES = ["new-market", "positioning-changes", "positioning-strengthens", "differentiation-first",
         "differentiation-better", "exec-priority", "revenue-new-logo", "revenue-expansion", "revenue-deal-acceleration",
         "pricing-change", "differentiation-parity", "differentiation-none", "audience-admin", "reach-majority",
         "reach-some", "demand-high", "user-action-required", "revenue-retention"]

# A quiet item: an administrative parity feature that touches no one (tier-4, parity 3).
QUIET = "{revenue_motion: none, differentiation: parity, customer_reach: 0, audience: admin}"
PASSING_CASE = f"""\
- name: Admin parity feature is a quiet release
  item: {{signals: {QUIET}}}
  expect: {{tier: tier-4, fired: [differentiation-parity, audience-admin], scores: {{parity: 3}}}}
"""
FAILING_CASE = f"""\
- name: Admin parity feature mistaken for a marketing launch
  item: {{signals: {QUIET}}}
  expect:
    tier: tier-1
    kind: launch
    fired: [reach-some]
    not_fired: [audience-admin]
    artifacts: [press-release]
    not_artifacts: [changelog]
    scores: {{parity: 1, launch: -3}}
"""


def shipped_case_count() -> int:
    total = 0
    for path in sorted(CASES.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        entries = raw["cases"] if isinstance(raw, dict) and "cases" in raw else raw
        total += len(entries) if isinstance(entries, list) else 1
    return total


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problems(result) -> list[str]:
    return result.stderr.splitlines()


# ---- (a) the shipped cases pass at 100 % coverage -------------------------------------------
def test_the_default_rulebook_ships_one_case_file_per_topic():
    assert sorted(p.name for p in CASES.glob("*.yaml")) == CASE_FILES
    book = load_rulebook()
    assert [p.name for p in default_case_files(None, book)] == CASE_FILES
    assert [r.id for r in book.rules] == RULES


@pytest.mark.parametrize("engine", ENGINES)
def test_shipped_cases_pass_through_the_cli_at_full_coverage(runner, engine):
    result = runner("rules", "test", "--min-coverage", "100", "--engine", engine)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stderr == ""
    n = shipped_case_count()
    assert result.stdout == "".join(line + "\n" for line in [
        f"{n} passed, 0 failed (7 files, rulebook default 2026.11.2)",
        "rule coverage: 100% (18 of 18 rules fired in some case)",
        "tiers reached: tier-1, tier-2, tier-3, tier-4",
        "artifacts produced: 21 of 21",
    ])


@pytest.mark.parametrize("engine", ENGINES)
def test_shipped_cases_pass_through_the_engine_api(engine):
    book = load_rulebook(default_rulebook_path())
    report = run_tests(book, default_case_files(None, book), engine=engine, min_coverage=100)
    assert [r.name for r in report.results if not r.passed] == []
    assert report.ok
    assert report.cases == shipped_case_count() and report.failed == 0
    c = report.coverage
    assert (c.rules_total, c.rules_fired, c.percent) == (18, 18, 100.0)
    assert c.never_fired == [] and c.tiers_never_reached == [] and c.artifacts_never_produced == []
    assert c.tiers_reached == ["tier-1", "tier-2", "tier-3", "tier-4"]
    assert c.artifacts_produced == [a.id for a in book.artifacts]


def test_every_shipped_case_has_its_own_descriptive_name():
    book = load_rulebook()
    report = run_tests(book, default_case_files(None, book), engine="reference")
    names = [r.name for r in report.results]
    assert len(names) == len(set(names)), "case names must be unique"
    assert all(len(name.split()) >= 4 and not name.startswith("case #") for name in names), names


def test_every_tier_is_reached_by_a_case_that_expects_it():
    book = load_rulebook()
    report = run_tests(book, default_case_files(None, book), engine="reference")
    expected_tiers = set()
    for path in CASES.glob("*.yaml"):
        raw = yaml.safe_load(path.read_text())
        expected_tiers |= {c["expect"]["tier"] for c in raw["cases"] if "tier" in c.get("expect", {})}
    assert expected_tiers == set(book.tier_by_id) == {r.tier for r in report.results}


def test_the_domain_examples_pin_pay_12():
    raw = yaml.safe_load((CASES / "domain-examples.yaml").read_text())
    (pay12,) = [c for c in raw["cases"] if c["item"].get("key") == "PAY-12"]
    assert pay12["expect"]["tier"] == "tier-2"
    assert pay12["expect"]["scores"] == {"market_impact": 2, "lead_generation": 3, "parity": 0,
                                         "customer_impact": 3, "launch": 5}


def test_shipped_cases_are_package_data():
    from importlib.resources import files

    shipped = files("launchtier.rules") / "tests"
    assert sorted(p.name for p in shipped.iterdir() if p.name.endswith(".yaml")) == CASE_FILES


# ---- (b) a failing case -----------------------------------------------------------------------
def test_a_failing_case_prints_fail_with_each_difference_and_exits_1(runner, tmp_path):
    cases = write(tmp_path / "cases.yaml", PASSING_CASE + FAILING_CASE)
    result = runner("rules", "test", cases, env={"COLUMNS": None})  # piped: a line per difference
    assert result.exit_code == 1
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:9] == [
        f"FAIL Admin parity feature mistaken for a marketing launch  ({cases})",
        "  tier: expected tier-1, got tier-4 Quiet release",
        "  kind: expected launch, got release",
        "  fired: expected reach-some to fire; fired: differentiation-parity, audience-admin",
        "  not_fired: audience-admin fired",
        "  artifacts: expected press-release; produced: changelog",
        "  not_artifacts: changelog produced",
        "  scores.parity: expected 1, got 3",
        "1 passed, 1 failed (1 file, rulebook default 2026.11.2)",
    ]
    assert "FAIL Admin parity feature is a quiet release" not in result.stdout
    assert "launch: expected" not in result.stdout  # launch -3 was right


@pytest.mark.parametrize("engine", ENGINES)
def test_a_failing_case_fails_the_report_through_the_api(tmp_path, engine):
    book = load_rulebook()
    report = run_tests(book, [write(tmp_path / "cases.yaml", PASSING_CASE + FAILING_CASE)], engine=engine)
    assert not report.ok
    assert (report.cases, report.failed) == (2, 1)
    passing, failing = report.results
    assert passing.passed and passing.differences == [] and passing.tier == "tier-4"
    assert not failing.passed and len(failing.differences) == 7 and failing.tier == "tier-4"


def test_a_single_case_without_a_name_is_reported_by_its_position(runner, tmp_path):
    cases = write(tmp_path / "one.yaml", f"item: {{signals: {QUIET}}}\nexpect: {{tier: tier-3}}\n")
    result = runner("rules", "test", cases)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [f"FAIL case #1  ({cases})", "  tier: expected tier-3, got tier-4 Quiet release"]


# ---- (c) coverage below --min-coverage -----------------------------------------------------------
# the report of PASSING_CASE alone: two rules, one tier, one artifact (lists wrapped at 100 columns)
LOW_COVERAGE = """\
1 passed, 0 failed (1 file, rulebook default 2026.11.2)
rule coverage: 11.1% (2 of 18 rules fired in some case)
never fired: new-market, positioning-changes, positioning-strengthens, differentiation-first,
  differentiation-better, exec-priority, revenue-new-logo, revenue-expansion,
  revenue-deal-acceleration, pricing-change, differentiation-none, reach-majority, reach-some,
  demand-high, user-action-required, revenue-retention
tiers reached: tier-4; never: tier-1, tier-2, tier-3
artifacts produced: 1 of 21; never: launch-plan, positioning, requirements, pricing, landing-page, press-release, \
ads-social, blog-post, sales-deck, sales-training, battlecard, demo, customer-announcement, in-app-notification, faq, \
migration-guide, help-docs, support-briefing, metrics-dashboard, case-study
"""


def test_coverage_below_the_minimum_exits_1_and_lists_the_rules_never_fired(runner, tmp_path):
    cases = write(tmp_path / "cases.yaml", PASSING_CASE)
    result = runner("rules", "test", cases, "--min-coverage", "50", env={"COLUMNS": None})
    assert (result.exit_code, result.stderr) == (1, "")
    assert result.stdout == LOW_COVERAGE + "coverage 11.1% is below the minimum of 50%\n"
    never = [r for r in RULES if r not in ("differentiation-parity", "audience-admin")]
    listed = result.stdout[result.stdout.index("never fired: "):result.stdout.index("tiers reached")]
    assert " ".join(listed.split()) == "never fired: " + ", ".join(never)


def test_low_coverage_passes_without_a_minimum_and_at_a_minimum_it_meets(runner, tmp_path):
    cases = write(tmp_path / "cases.yaml", PASSING_CASE)
    for args in ((), ("--min-coverage", "11.1"), ("--min-coverage", "0")):
        result = runner("rules", "test", cases, *args, env={"COLUMNS": None})
        assert (result.exit_code, result.stdout, result.stderr) == (0, LOW_COVERAGE, ""), args


def test_coverage_below_the_minimum_fails_the_report_through_the_api(tmp_path):
    book = load_rulebook()
    report = run_tests(book, [write(tmp_path / "cases.yaml", PASSING_CASE)], min_coverage=11.2)
    assert report.failed == 0 and not report.ok
    assert report.coverage.percent == 11.1
    assert report.coverage.never_fired == [r for r in RULES if r not in ("differentiation-parity", "audience-admin")]


# ---- (d) JSON ------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_json_report_matches_the_model_and_the_engine_api(runner, engine):
    result = runner("rules", "test", "--format", "json", "--min-coverage", "100", "--engine", engine)
    assert result.exit_code == 0
    data = document(result.stdout)
    report = TestReport.model_validate(data)
    book = load_rulebook()
    assert report == run_tests(book, default_case_files(None, book), engine=engine, min_coverage=100)
    assert data["min_coverage"] == 100 and data["failed"] == 0 and data["coverage"]["percent"] == 100
    assert [Path(f).name for f in data["files"]] == CASE_FILES


def test_json_report_of_a_failing_run_still_parses(runner, tmp_path):
    cases = write(tmp_path / "cases.yaml", PASSING_CASE + FAILING_CASE)
    result = runner("rules", "test", cases, "--format", "json", "--min-coverage", "50")
    assert result.exit_code == 1
    report = TestReport.model_validate(document(result.stdout))
    assert (report.cases, report.failed, report.min_coverage) == (2, 1, 50)
    assert report.results[1].name == "Admin parity feature mistaken for a marketing launch"
    assert report.results[1].differences[0] == "tier: expected tier-1, got tier-4 Quiet release"
    assert report.coverage.rules_fired == 2 and not report.ok


# ---- (e) bad case files --------------------------------------------------------------------------
RULE_LIST = ", ".join(RULES)
ARTIFACT_LIST = ("launch-plan, positioning, requirements, pricing, landing-page, press-release, ads-social, blog-post, "
                 "sales-deck, sales-training, battlecard, demo, customer-announcement, in-app-notification, faq, "
                 "migration-guide, help-docs, support-briefing, metrics-dashboard, case-study, changelog")


BROKEN = "cases:\n  - name: Broken\n    item: {signals: [\n"


def bad_cases(tmp_path: Path) -> list[tuple[str, str, list[str]]]:
    """(file name, content, the messages after 'error: <path>')."""
    return [
        ("unknown-key.yaml",
         f"- name: Unknown key\n  item: {{signals: {QUIET}}}\n  expect: {{tier: tier-4, teir: tier-4}}\n",
         [":3: item Unknown key: expect.teir: unknown field 'teir'; did you mean 'tier'? "
          "(allowed: tier, kind, fired, not_fired, artifacts, not_artifacts, scores)"]),
        ("unknown-ids.yaml",
         f"cases:\n  - name: Unknown ids\n    item: {{signals: {QUIET}}}\n    expect:\n      tier: tier-5\n"
         "      fired: [reach-mayority]\n      not_fired: [exec]\n      artifacts: [press-releases]\n"
         "      not_artifacts: [blog]\n      scores: {impact: 1}\n",
         [":5: item Unknown ids: expect.tier: unknown tier 'tier-5'; did you mean 'tier-4'? "
          "(tiers of rulebook default: tier-1, tier-2, tier-3, tier-4)",
          f":6: item Unknown ids: expect.fired: unknown rule 'reach-mayority'; did you mean 'reach-majority'? "
          f"(rules of rulebook default: {RULE_LIST})",
          f":7: item Unknown ids: expect.not_fired: unknown rule 'exec' (rules of rulebook default: {RULE_LIST})",
          ":8: item Unknown ids: expect.artifacts: unknown artifact 'press-releases'; did you mean 'press-release'? "
          f"(artifacts of rulebook default: {ARTIFACT_LIST})",
          ":9: item Unknown ids: expect.not_artifacts: unknown artifact 'blog'; did you mean 'blog-post'? "
          f"(artifacts of rulebook default: {ARTIFACT_LIST})",
          ":10: item Unknown ids: expect.scores: unknown score 'impact'; did you mean 'market_impact'? "
          "(scores of rulebook default: market_impact, lead_generation, parity, customer_impact, launch)"]),
        ("bad-signal.yaml",
         "name: Bad signal\n"
         "item: {signals: {revenue_motion: upsell, differentiation: none, customer_reach: 120, audience: buyer}}\n"
         "expect: {tier: tier-4}\n",
         [":2: item Bad signal: item.signals.revenue_motion: 'upsell' is not allowed; "
          "expected one of none, retention, deal_acceleration, expansion, new_logo",
          ":2: item Bad signal: item.signals.customer_reach: 120 is not allowed; expected a whole number from 0 to 100"]),
        ("missing-signals.yaml",
         "- name: No signals\n  item: {title: Dark mode}\n",
         [":2: item No signals: item.signals: missing; this field is required"]),
        ("broken.yaml",
         BROKEN,
         [":4: invalid YAML: " + pyyaml_words(BROKEN)]),
    ]


@pytest.mark.parametrize("which", range(5), ids=["unknown-key", "unknown-ids", "bad-signal", "missing-signals", "yaml"])
def test_a_bad_case_file_exits_2_naming_file_case_and_field(runner, tmp_path, which):
    name, content, messages = bad_cases(tmp_path)[which]
    path = write(tmp_path / name, content)
    result = runner("rules", "test", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    expected = [f"error: {path}{m}" for m in messages]
    if len(messages) > 1:
        expected.append(f"{len(messages)} problems; nothing was done.")
    assert problems(result) == expected


def test_every_bad_case_file_is_reported_at_once_and_no_case_runs(runner, tmp_path):
    paths = [write(tmp_path / name, content) for name, content, _ in bad_cases(tmp_path)]
    good = write(tmp_path / "good.yaml", PASSING_CASE)
    result = runner("rules", "test", good, *paths)
    assert result.exit_code == 2
    assert result.stdout == ""
    total = sum(len(m) for _, _, m in bad_cases(tmp_path))
    assert problems(result)[-1] == f"{total} problems; nothing was done."
    assert len(problems(result)) == total + 1
    assert not any(str(good) in line for line in problems(result))


def test_bad_case_files_raise_item_error_through_the_api(tmp_path):
    name, content, _ = bad_cases(tmp_path)[0]
    with pytest.raises(ItemError) as err:
        run_tests(load_rulebook(), [write(tmp_path / name, content)])
    (problem,) = err.value.problems
    assert (problem.file, problem.line, problem.item, problem.field) == (str(tmp_path / name), 3, "Unknown key", "expect.teir")


def test_a_case_that_is_not_a_mapping_names_the_file_and_case(runner, tmp_path):
    path = write(tmp_path / "list.yaml", "- just a sentence\n")
    result = runner("rules", "test", path)
    assert result.exit_code == 2
    assert problems(result)[0].startswith(f"error: {path}: item case #1: ")


def test_an_empty_case_file_exits_2(runner, tmp_path):
    path = write(tmp_path / "empty.yaml", "")
    result = runner("rules", "test", path)
    assert result.exit_code == 2
    assert problems(result) == [f"error: {path}: is empty"]


# ---- (f) no case files ---------------------------------------------------------------------------
NO_CASES = "error: no rule-test case files found; give CASES or put *.yaml files in tests/ beside the rulebook"


def test_no_case_files_found_exits_2(runner, tmp_path):
    shutil.copy(default_rulebook_path(), tmp_path / "default.yaml")
    result = runner("rules", "test", "--rules", tmp_path / "default.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert problems(result) == [NO_CASES]
    (tmp_path / "tests").mkdir()
    write(tmp_path / "tests" / "notes.txt", PASSING_CASE)  # not a case file
    result = runner("rules", "test", "--rules", tmp_path / "default.yaml")
    assert result.exit_code == 2
    assert problems(result) == [NO_CASES]


def test_no_case_files_through_the_api_raises():
    with pytest.raises(ItemError, match="no rule-test case files found"):
        run_tests(load_rulebook(), [])


# ---- (g) the case folder beside a rulebook given with --rules --------------------------------------
def test_the_case_folder_beside_a_rulebook_given_with_rules_is_used(runner, tmp_path):
    shutil.copy(default_rulebook_path(), tmp_path / "default.yaml")
    (tmp_path / "tests").mkdir()
    shutil.copy(CASES / "domain-examples.yaml", tmp_path / "tests" / "domain-examples.yaml")
    write(tmp_path / "tests" / "extra.yml", PASSING_CASE)
    n = len(yaml.safe_load((CASES / "domain-examples.yaml").read_text())["cases"]) + 1
    for rules in (tmp_path / "default.yaml", tmp_path):  # the file, or the directory holding it
        result = runner("rules", "test", "--rules", rules)
        assert (result.exit_code, result.stderr) == (0, ""), result.stdout + result.stderr
        assert result.stdout == (  # not the shipped cases: coverage is partial
            f"{n} passed, 0 failed (2 files, rulebook default 2026.11.2)\n"
            "rule coverage: 66.7% (12 of 18 rules fired in some case)\n"
            "never fired: new-market, positioning-changes, exec-priority, revenue-deal-acceleration,\n"
            "  differentiation-none, demand-high\n"
            "tiers reached: tier-1, tier-2, tier-3, tier-4\n"
            "artifacts produced: 21 of 21\n")
    book = load_rulebook(tmp_path / "default.yaml")
    assert default_case_files(tmp_path / "default.yaml", book) == [
        tmp_path / "tests" / "domain-examples.yaml", tmp_path / "tests" / "extra.yml"]


def test_cases_given_on_the_command_line_replace_the_default_folder(runner, tmp_path):
    cases = write(tmp_path / "mine.yaml", PASSING_CASE)
    result = runner("rules", "test", cases)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "1 passed, 0 failed (1 file, rulebook default 2026.11.2)"

"""Every problem of a file in one run, and a "did you mean" for every closed vocabulary.

A user fixing a file should see all its mistakes at once (rule-test files, mapping files, item
files), each naming the file, the item and the field, with the closest allowed value when one is
close, whatever its case; exit code 2, no traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLES
from launchtier.engine.rulebook.conditions import suggest

TIERS = "tier-1, tier-2, tier-3, tier-4"
RULES = ("new-market, positioning-changes, positioning-strengthens, differentiation-first, differentiation-better, "
         "exec-priority, revenue-new-logo, revenue-expansion, revenue-deal-acceleration, pricing-change, "
         "differentiation-parity, differentiation-none, audience-admin, reach-majority, reach-some, demand-high, "
         "user-action-required, revenue-retention")
SIGNALS = ("new_market, positioning, revenue_motion, differentiation, customer_reach, demand_votes, "
           "user_action_required, pricing_change, audience, stage, exec_priority")
AIA_1 = ("- key: AIA-1\n  title: Audit log for admins\n"
         "  signals: {revenue_motion: retention, differentiation: better, customer_reach: 10, audience: admin}\n")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---- suggest ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, candidates, hint", [
    ("GA", ["beta", "ga"], "; did you mean 'ga'?"),
    ("Better", ["none", "parity", "better", "first"], "; did you mean 'better'?"),
    ("aia-1", ["AIA-1", "NOPE-1"], "; did you mean 'AIA-1'?"),
    ("Tier-1", ["tier-1", "tier-2"], "; did you mean 'tier-1'?"),
    ("NOPE-2", ["AIA-1", "NOPE-1"], "; did you mean 'NOPE-1'?"),
    ("audiance", ["audience", "stage"], "; did you mean 'audience'?"),
    ("gold", ["tier-1", "tier-2"], ""),
])
def test_suggest_ignores_case(name, candidates, hint):
    assert suggest(name, candidates) == hint


def test_suggest_puts_an_equal_but_for_case_candidate_first():
    # by case, 'Tier-2' differs from 'Tier-1' in one character and 'tier-1' in one too
    assert suggest("Tier-1", ["Tier-2", "tier-1"]) == "; did you mean 'tier-1'?"


# ---- rule-test files ----------------------------------------------------------------------------
def test_a_rule_test_file_with_three_mistakes_reports_all_three(runner, tmp_path):
    cases = write(tmp_path / "three.yaml", (
        "cases:\n"
        "  - name: Admin audit log\n"
        "    item:\n"
        "      signals: {revenue_motion: retention, differentiation: none, customer_reach: 10, audience: admin, stage: GA}\n"
        "    expect:\n"
        "      tier: Tier-3\n"
        "      fired: [audience-admn]\n"))
    result = runner("rules", "test", cases)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {cases}:3: item Admin audit log: item.signals.stage: 'GA' is not allowed; "
        "expected one of beta, ga; did you mean 'ga'?\n"
        f"error: {cases}:6: item Admin audit log: expect.tier: unknown tier 'Tier-3'; did you mean 'tier-3'? "
        f"(tiers of rulebook default: {TIERS})\n"
        f"error: {cases}:7: item Admin audit log: expect.fired: unknown rule 'audience-admn'; "
        f"did you mean 'audience-admin'? (rules of rulebook default: {RULES})\n"
        "3 problems; nothing was done.\n")


def test_a_misspelt_expectation_does_not_hide_the_item_or_an_unknown_rule(runner, tmp_path):
    cases = write(tmp_path / "hidden.yaml", (
        "- name: Hidden\n"
        "  item: {signals: {revenue_motion: retention, differentiation: Better, customer_reach: 10, audience: admin}}\n"
        "  expect: {tier: tier-3, not_fired: [Exec-Priority], artifact: [faq]}\n"))
    result = runner("rules", "test", cases)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {cases}:2: item Hidden: item.signals.differentiation: 'Better' is not allowed; "
        "expected one of none, parity, better, first; did you mean 'better'?\n"
        f"error: {cases}:3: item Hidden: expect.artifact: unknown field 'artifact'; did you mean 'artifacts'? "
        "(allowed: tier, kind, fired, not_fired, artifacts, not_artifacts, scores)\n"
        f"error: {cases}:3: item Hidden: expect.not_fired: unknown rule 'Exec-Priority'; "
        f"did you mean 'exec-priority'? (rules of rulebook default: {RULES})\n"
        "3 problems; nothing was done.\n")


def test_a_field_beside_cases_is_reported_with_the_cases_problems(runner, tmp_path):
    cases = write(tmp_path / "beside.yaml", "cases:\n  - item: {signals: {}}\n    expect: {tier: Tier-4}\ncsaes: []\n")
    result = runner("rules", "test", cases)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0] == (
        f"error: {cases}:4: unknown field 'csaes' beside 'cases'; a case file is one case, a list of cases, or {{cases: [...]}}")
    assert result.stderr.splitlines()[-2:] == [
        f"error: {cases}:3: item case #1: expect.tier: unknown tier 'Tier-4'; did you mean 'tier-4'? "
        f"(tiers of rulebook default: {TIERS})",
        "6 problems; nothing was done."]


# ---- mapping files ------------------------------------------------------------------------------
def test_a_mapping_with_two_mistakes_reports_both(runner, tmp_path):
    mapping = (EXAMPLES / "exports" / "jira-mapping.yaml").read_text(encoding="utf-8")
    mapping = mapping.replace("from: version}", "from: Version}").replace("  audience:\n", "  Audience:\n")
    bad = write(tmp_path / "mapping.yaml", mapping)
    result = runner("review", EXAMPLES / "exports" / "jira.csv", "--mapping", bad)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {bad}:11: quarter.from: 'Version' is not allowed; expected one of version, date; "
        "did you mean 'version'?\n"
        f"error: {bad}:15: signals: signal 'audience' has no default, so the mapping must say where it comes from "
        "(a column, or a constant {value: ...}); it is one of admin, end_user, buyer\n"
        f"error: {bad}:27: signals.Audience: unknown signal 'Audience'; did you mean 'audience'? (signals: {SIGNALS})\n"
        "3 problems; nothing was done.\n")


# ---- item files and closed vocabularies ---------------------------------------------------------
def test_an_item_file_reports_every_value_with_its_suggestion(runner, tmp_path):
    items = write(tmp_path / "items.yaml", AIA_1.replace("better", "Better").replace("admin}", "admin, stage: GA}")
                  + AIA_1.replace("better", "first"))
    result = runner("classify", items)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {items}:3: item AIA-1: signals.differentiation: 'Better' is not allowed; "
        "expected one of none, parity, better, first; did you mean 'better'?\n"
        f"error: {items}:3: item AIA-1: signals.stage: 'GA' is not allowed; expected one of beta, ga; did you mean 'ga'?\n"
        f"error: {items}:4: item AIA-1: key: duplicate key (also item #1 of this file); keys are unique in a file\n"
        "3 problems; nothing was done.\n")


def test_an_item_key_is_suggested_whatever_its_case(runner, tmp_path):
    items = write(tmp_path / "items.yaml", AIA_1 + AIA_1.replace("AIA-1", "NOPE-1"))
    result = runner("explain", items, "--item", "aia-1")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: {items}: no item with key 'aia-1'; did you mean 'AIA-1'? (keys: AIA-1, NOPE-1)\n"


def test_a_tier_is_suggested_whatever_its_case(runner):
    result = runner("artifacts", "--tier", "Tier-1")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: unknown tier 'Tier-1'; did you mean 'tier-1'? (tiers: {TIERS})\n"
    # the argument is a file; a name that is neither a file nor a tier says so
    result = runner("artifacts", "Tier-1")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"error: Tier-1: no such file, nor a tier of the rulebook; did you mean 'tier-1'? "
                             f"(tiers: {TIERS}; choose one with --tier TIER)\n")


def test_an_override_tier_is_suggested_whatever_its_case(runner, roadmap):
    runner("record", roadmap, "--by", "Priya")
    result = runner("override", "PAY-63", "--tier", "Tier-3", "--reason", "Support asked for notes", "--by", "Tom")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: unknown tier 'Tier-3'; did you mean 'tier-3'? (tiers of rulebook default 2026.11.2: {TIERS})\n")


def test_set_reports_an_unknown_signal_and_a_bad_value_together(runner, roadmap):
    result = runner("explain", roadmap, "--item", "PAY-12", "--set", "Stage=beta", "--set", "audience=Buyer")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: --set: item PAY-12: Stage: unknown signal 'Stage'; did you mean 'stage'? (signals: {SIGNALS})\n"
        "error: --set: item PAY-12: signals.audience: 'Buyer' is not allowed; expected one of admin, end_user, buyer; "
        "did you mean 'buyer'?\n"
        "2 problems; nothing was done.\n")


# ---- a roadmap tool's export without its mapping ------------------------------------------------
COLUMNS = f"key, title, description, pm, pmm, quarter, links, {SIGNALS}"


@pytest.mark.parametrize("export, like", [
    ("jira.csv", "'Summary', 'Issue key', 'Issue id', ..."),
    ("productboard.csv", "'Feature ID', 'Feature name', 'Description', ..."),
    ("jira-cloud.csv", "'Summary', 'Issue key', 'Issue id', ..."),
    ("linear.csv", "'ID', 'Team', 'Title', ..."),  # a Title, but no key
    ("aha.csv", "'Feature reference #', 'Feature name', 'Feature type', ..."),
])
def test_an_export_without_a_mapping_is_one_problem_that_names_the_mappings(runner, export, like):
    path = EXAMPLES / "exports" / export
    result = runner("classify", path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {path}:1: looks like an export of a roadmap tool: its header has columns like {like} but no key, "
        f"title or signal column of an item file (columns: {COLUMNS}); read it through a mapping file with "
        "--mapping FILE (examples/exports/ in launchtier's source has jira-mapping.yaml, jira-cloud-mapping.yaml, "
        "linear-mapping.yaml, aha-mapping.yaml and productboard-mapping.yaml to start from)\n")


def test_an_item_csv_with_misspelt_columns_lists_the_columns_once(runner, tmp_path):
    items = write(tmp_path / "items.csv", "key,title,Audience,custmer_reach\nA-1,One,admin,3\n")
    result = runner("classify", items)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {items}:1: Audience: unknown column 'Audience'; did you mean 'audience'?\n"
        f"error: {items}:1: custmer_reach: unknown column 'custmer_reach'; did you mean 'customer_reach'? "
        f"(columns: {COLUMNS})\n"
        "2 problems; nothing was done.\n")


# ---- $LAUNCHTIER_RULES --------------------------------------------------------------------------
def test_a_missing_rulebook_named_by_the_environment_says_so(runner, tmp_path, roadmap):
    missing = tmp_path / "team-rules.yaml"
    result = runner("classify", roadmap, env={"LAUNCHTIER_RULES": str(missing)})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: {missing}: no such file (from $LAUNCHTIER_RULES)\n"


def test_a_bad_rulebook_named_by_the_environment_says_so_on_each_line(runner, tmp_path, roadmap):
    bad = write(tmp_path / "rules.yaml", "rulebook: team\nversion: '1'\nsignals: {a: {type: Bool, question: A?}}\n"
                                         "dimensions: {}\nrules: []\ntiers: [{id: only, name: Only}]\n")
    result = runner("classify", roadmap, env={"LAUNCHTIER_RULES": str(bad)})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0] == (
        f"error: {bad}:3: signals.a: type 'Bool' is not allowed; expected one of bool, int, enum; "
        "did you mean 'bool'? (from $LAUNCHTIER_RULES)")
    assert all(line.endswith("(from $LAUNCHTIER_RULES)") for line in result.stderr.splitlines()
               if line.startswith("error: "))


def test_a_rulebook_named_by_rules_does_not_mention_the_environment(runner, tmp_path, roadmap):
    missing = tmp_path / "team-rules.yaml"
    result = runner("classify", roadmap, "--rules", missing, env={"LAUNCHTIER_RULES": str(missing)})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: {missing}: no such file\n"


def test_a_rule_test_run_under_a_bad_environment_rulebook_says_so(runner, tmp_path):
    missing = tmp_path / "nowhere"
    cases = write(tmp_path / "cases.yaml", "- item: {signals: {}}\n")
    result = runner("rules", "test", cases, env={"LAUNCHTIER_RULES": str(missing)})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: {missing}: no such file (from $LAUNCHTIER_RULES)\n"


def test_a_ledger_item_key_is_suggested_whatever_its_case(runner, roadmap):
    runner("record", roadmap, "--by", "Priya")
    result = runner("override", "pay-12", "--tier", "tier-1", "--reason", "Anchor of the campaign", "--by", "Tom",
                    "--approved-by", "Ana", "--approved-by", "Bo")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "error: no decision recorded for item pay-12; did you mean 'PAY-12'?\n")
    result = runner("decisions", "--item", "pay-12")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "no decisions recorded (that match)\n", "notice: no decision recorded for item pay-12; did you mean 'PAY-12'?\n")


def test_formats_and_engines_are_chosen_whatever_their_case(runner, roadmap):
    plain = runner("classify", roadmap, "--format", "json", "--engine", "reference")
    shouted = runner("classify", roadmap, "--format", "JSON", "--engine", "Reference")
    assert (shouted.exit_code, shouted.stdout, shouted.stderr) == (0, plain.stdout, "")

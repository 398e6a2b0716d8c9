"""``explain --set ... --save-case CASES``: the what-if kept as a rule-test case, appended as text
to a case file (its comments and other cases kept), and passing ``rules test``."""

from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES

ROADMAP = EXAMPLES / "roadmap.yaml"
NAME = "PAY-12 Usage-based pricing: what if positioning=changes (was strengthens)"
# what the rules decide for PAY-12 with positioning=changes
CASE = """\
- name: 'PAY-12 Usage-based pricing: what if positioning=changes (was strengthens)'
  item:
    key: PAY-12
    title: Usage-based pricing
    signals: {new_market: false, positioning: changes, revenue_motion: expansion, differentiation: better,
      customer_reach: 60, demand_votes: 34, user_action_required: true, pricing_change: true, audience: buyer,
      stage: ga, exec_priority: false}
  expect:
    tier: tier-1
    kind: launch
    fired: [positioning-changes, differentiation-better, revenue-expansion, pricing-change, reach-majority,
      user-action-required]
    scores: {market_impact: 3, lead_generation: 3, parity: 0, customer_impact: 3, launch: 6}
"""

NOTICE = "notice: no ledger at {} (from $LAUNCHTIER_DB); explaining without its overrides, recorded items or precedents\n"


def case(indent: str = "") -> str:
    return "".join(indent + line if line.strip() else line for line in CASE.splitlines(keepends=True))


def save(runner, cases, *sets: str):
    return runner("explain", ROADMAP, "--item", "PAY-12", *(a for s in sets for a in ("--set", s)),
                  "--save-case", cases, "--format", "json")


def passes(runner, cases, count: int) -> None:
    result = runner("rules", "test", cases, "--format", "json")
    report = json.loads(result.stdout)
    assert (result.exit_code, report["cases"], report["failed"]) == (0, count, 0), result.stdout


def test_a_what_if_is_saved_to_a_new_file_and_passes_rules_test(runner, tmp_path):
    cases = tmp_path / "what-ifs.yaml"
    result = save(runner, cases, "positioning=changes")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["decision"]["item"] == "PAY-12"  # the explanation, as without --save-case
    assert result.stderr == NOTICE.format(runner.ledger) + f"saved rule-test case '{NAME}' to {cases} (expects tier-1)\n"
    assert cases.read_text(encoding="utf-8") == case()
    passes(runner, cases, 1)


def test_a_case_is_appended_as_text_keeping_comments_and_cases(runner, tmp_path):
    cases = tmp_path / "what-ifs.yaml"
    before = ("# What-ifs of the Q1 review\n"
              "- name: PAY-12 as it is  # pinned\n"
              "  item: {signals: {revenue_motion: expansion, differentiation: better, customer_reach: 60, audience: buyer,\n"
              "                   positioning: strengthens, pricing_change: true, user_action_required: true}}\n"
              "  expect: {tier: tier-2}\n"
              "# end of the list")  # no line break at the end
    cases.write_text(before, encoding="utf-8")
    assert save(runner, cases, "positioning=changes").exit_code == 0
    assert cases.read_text(encoding="utf-8") == before + "\n" + case()
    passes(runner, cases, 2)


def test_under_cases_the_case_takes_the_indentation_of_the_others(runner, tmp_path):
    cases = tmp_path / "what-ifs.yaml"
    before = ("cases:\n"
              "    # indented by four\n"
              "    - name: A parity feature\n"
              "      item: {signals: {revenue_motion: retention, differentiation: parity, customer_reach: 10, audience: admin}}\n")
    cases.write_text(before, encoding="utf-8")
    assert save(runner, cases, "positioning=changes").exit_code == 0
    assert cases.read_text(encoding="utf-8") == before + case("    ")
    passes(runner, cases, 2)


@pytest.mark.parametrize("before", ["", "\n\n", "# what-ifs, one per line of the meeting's notes\n"])
def test_an_empty_file_or_one_of_comments_gets_a_list(runner, tmp_path, before):
    cases = tmp_path / "what-ifs.yaml"
    cases.write_text(before, encoding="utf-8")
    assert save(runner, cases, "positioning=changes").exit_code == 0
    assert cases.read_text(encoding="utf-8") == before + case()
    passes(runner, cases, 1)


def test_a_case_of_the_same_name_is_refused_and_the_file_left_alone(runner, tmp_path):
    cases = tmp_path / "what-ifs.yaml"
    assert save(runner, cases, "positioning=changes").exit_code == 0
    result = save(runner, cases, "positioning=changes")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"error: {cases}:1: a case named '{NAME}' is already there; rename or remove it to save "
                             "this one\n")
    assert cases.read_text(encoding="utf-8") == case()


@pytest.mark.parametrize("before, problem", [
    ("[{name: one, item: {signals: {}}}]\n",
     "cannot append a case to it as text: its cases must be a block list at the end of the file ('- name: ...' "
     "lines), not a flow list ([...])"),
    ("name: one\nitem: {signals: {}}\n",
     "holds one case; a case can be appended only to a list of cases (write it as '- name: ...')"),
    ("- name: one\n  item: {signals: {}\n",
     None),  # not YAML: the parser's problem
])
def test_a_file_a_case_cannot_be_appended_to_as_text_is_refused(runner, tmp_path, before, problem):
    cases = tmp_path / "what-ifs.yaml"
    cases.write_text(before, encoding="utf-8")
    result = save(runner, cases, "positioning=changes")
    assert (result.exit_code, result.stdout) == (2, "")
    if problem is not None:
        line = ":1" if before.startswith("name") else ""
        assert result.stderr == f"error: {cases}{line}: {problem}\n"
    else:
        assert result.stderr.startswith(f"error: {cases}:") and "invalid YAML" in result.stderr
    assert cases.read_text(encoding="utf-8") == before


def test_without_set_the_item_is_saved_as_given(runner, tmp_path):
    cases = tmp_path / "pinned.yaml"
    result = save(runner, cases)
    assert result.stderr == NOTICE.format(runner.ledger) + (f"saved rule-test case 'PAY-12 Usage-based pricing, as given' "
                                                            f"to {cases} (expects tier-2)\n")
    passes(runner, cases, 1)


def test_an_item_read_from_standard_input_is_saved(runner, tmp_path):
    cases = tmp_path / "what-ifs.yaml"
    result = runner("explain", "-", "--item", "PAY-12", "--set", "positioning=changes", "--save-case", cases,
                    input=ROADMAP.read_text(encoding="utf-8"))
    assert result.exit_code == 0, result.stderr
    assert cases.read_text(encoding="utf-8") == case()

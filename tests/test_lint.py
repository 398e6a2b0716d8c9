"""rules lint and rules diff: findings that point at the line to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from launchtier.engine import load_rulebook, rulebook_from_data
from launchtier.engine.rulecheck.lint import lint

DEFAULT = Path(__file__).resolve().parent.parent / "rules" / "default.yaml"


def default_data() -> dict:
    return yaml.safe_load(DEFAULT.read_text())


def findings(data: dict) -> list[tuple[str, str, str]]:
    return [(f.level, f.code, f.where) for f in lint(rulebook_from_data(data)).findings]


def test_the_default_rulebook_passes_lint(runner):
    result = runner("rules", "lint")
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output
    assert "exact checks over 46,080 distinct items" in result.output
    report = lint(load_rulebook())
    assert report.ok and report.item_space == 46_080
    # the one note: user_action_required already lifts an item into tier-3 on its own
    assert [(f.level, f.where) for f in report.findings] == [("note", "rule user-action-required")]


@pytest.mark.parametrize("edit,expected", [
    (lambda d: d["rules"][11].update(when={"customer_reach": {"gte": 101}}),
     ("error", "never-holds", "rule reach-majority")),
    (lambda d: d["rules"][12].update(when={"customer_reach": {"gte": 50, "lt": 10}}),
     ("error", "never-holds", "rule reach-some")),
    (lambda d: d["tiers"][0]["when"].update(market_impact={"gte": 5}),
     ("error", "never-holds", "tier tier-1")),
    (lambda d: d["tiers"][1].update(when={"launch": {"in": [7, 8]}}),
     ("error", "never-holds", "tier tier-2")),
    (lambda d: d["rules"][13].update(when={"demand_votes": {"gte": 0}}),
     ("warning", "always-holds", "rule demand-high")),
    (lambda d: d["tiers"].insert(2, {"id": "tier-2b", "label": "Mini launch", "kind": "launch", "when": {"launch": {"gte": 4}}}),
     ("error", "shadowed-tier", "tier tier-2b")),
    # lead generation only comes from revenue_motion and pricing_change, which this tier rules out
    (lambda d: d["tiers"][2].update(when={"lead_generation": {"gte": 1}, "revenue_motion": "none", "pricing_change": False}),
     ("error", "unreachable-tier", "tier tier-3")),
    (lambda d: (d["tiers"][0].update(when={"launch": {"gte": 6}}), d["tiers"][1].update(when={"launch": {"gte": 3, "lte": 4}}),
                d["tiers"][2].update(when={"customer_impact": {"gte": 1}, "launch": {"lte": 2}})),
     ("warning", "tier-gap", "total launch")),
    # tier-2 takes every item with launch >= 3, so no tier-3 item has it
    (lambda d: d["artifacts"][13].update(when={"launch": {"gte": 3}}),
     ("warning", "dead-artifact", "artifact in-app-notification")),
    (lambda d: d["signals"].update(colour={"type": "enum", "values": ["red", "blue"], "default": "red", "question": "Which colour?"}),
     ("warning", "unused-signal", "signal colour")),
    (lambda d: d["dimensions"].update(delight={"label": "Delight", "min": 0, "max": 3}),
     ("warning", "unscored-dimension", "dimension delight")),
    (lambda d: (d["dimensions"].update(delight={"label": "Delight", "min": 0, "max": 3}),
                d["rules"].append({"id": "dark-mode", "because": "Users love it.", "when": {"audience": "end_user"}, "score": {"delight": 2}})),
     ("warning", "idle-rule", "rule dark-mode")),
])
def test_lint_finds(edit, expected):
    data = default_data()
    edit(data)
    assert expected in findings(data)


def test_a_finding_points_at_the_file_and_line_and_exits_1(runner, tmp_path):
    text = DEFAULT.read_text().replace("when: {customer_reach: {gte: 50}}", "when: {customer_reach: {gte: 150}}")
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "id: reach-majority" in l)
    result = runner("rules", "lint", "--rules", path)
    assert result.exit_code == 1
    assert (f"{path}:{line}: error: rule reach-majority: 'customer_reach ≥ 150' can never hold "
            "(signal customer_reach is 0..100); fix: use a value within 0..100") in result.output
    data = json.loads(runner("rules", "lint", "--rules", path, "--format", "json").output)
    assert data["ok"] is False and data["findings"][0]["line"] == line


def test_lint_of_a_rulebook_that_does_not_load_is_exit_2(runner, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(DEFAULT.read_text().replace("- id: positioning-strengthens", "- id: positioning-changes"))
    result = runner("rules", "lint", "--rules", path)
    assert result.exit_code == 2
    assert "duplicate rule id 'positioning-changes'" in result.stderr


def test_lint_says_when_it_gives_up():
    data = default_data()
    for i in range(12):
        data["signals"][f"extra_{i}"] = {"type": "enum", "values": ["a", "b", "c", "d"], "default": "a", "question": "?"}
        data["rules"].append({"id": f"extra-{i}", "because": "x", "when": {f"extra_{i}": "b"}, "score": {"market_impact": 1}})
    report = lint(rulebook_from_data(data))
    assert report.item_space == 0
    assert any(f.code == "gave-up" and "were not checked" in f.message for f in report.findings)


def test_rules_diff_in_the_domains_words(runner, tmp_path, roadmap):
    text = DEFAULT.read_text()
    new = tmp_path / "new.yaml"
    new.write_text(
        text.replace("when: {launch: {gte: 3}}", "when: {launch: {gte: 5}}")
        .replace("score: {lead_generation: 2}", "score: {lead_generation: 1}")
        .replace("tiers: [tier-1], effort: 4}", "tiers: [tier-1, tier-2], effort: 4}")
        .replace("  - id: exec-priority\n", "  - id: exec-sponsor\n")
    )
    result = runner("rules", "diff", DEFAULT, new, "--items", roadmap)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "rule revenue-expansion re-weighted: lead_generation +2 → lead_generation +1" in out
    assert "rule exec-sponsor added: when exec_priority = true → market_impact +1" in out
    assert "rule exec-priority removed" in out
    assert "tier tier-2 condition changed: when launch ≥ 3 → when launch ≥ 5" in out
    assert "artifact press-release moved: Press release and analyst briefing: tier-1 → tier-1, tier-2" in out
    assert "3 of 12 items change tier" in out
    assert "PAY-47 Partner referral API: tier-2 → tier-4" in out
    data = json.loads(runner("rules", "diff", DEFAULT, new, "--items", roadmap, "--format", "json").output)
    assert {c["item"]: (c["old_tier"], c["new_tier"]) for c in data["items_changed"]} == {
        "PAY-12": ("tier-2", "tier-3"), "PAY-47": ("tier-2", "tier-4"), "PAY-70": ("tier-2", "tier-4")}


def test_rules_diff_of_identical_rulebooks(runner):
    result = runner("rules", "diff", DEFAULT, DEFAULT)
    assert result.exit_code == 0
    assert result.output.splitlines()[1] == "no changes"


def test_rules_diff_bad_input(runner, tmp_path):
    result = runner("rules", "diff", DEFAULT, tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "no such file" in result.stderr

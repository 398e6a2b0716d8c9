"""rules lint and rules diff: findings that point at the line to fix.

Linting the default rulebook enumerates its 46,080 distinct items (a second or more): the report of
the default rulebook is made once per session (``default_report``), each edited rulebook is linted
once, and every test that enumerates a rulebook of that size is marked slow. The quick loop lints a
small rulebook through the CLI instead, in each format, with and without a finding.
"""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import DEFAULT_RULEBOOK as DEFAULT, document
from launchtier.engine import load_rulebook, rulebook_from_data
from launchtier.engine.rulecheck.lint import lint

def default_data() -> dict:
    return yaml.safe_load(DEFAULT.read_text())


def findings(data: dict) -> list[tuple[str, str, str]]:
    return [(f.level, f.code, f.where) for f in lint(rulebook_from_data(data)).findings]


@pytest.fixture(scope="session")
def default_report():
    """The lint report of the default rulebook: one full enumeration for the whole session."""
    return lint(load_rulebook())


@pytest.mark.slow  # the session's one enumeration of the default rulebook's 46,080 items
def test_the_default_rulebook_passes_lint(default_report):
    assert default_report.ok and default_report.item_space == 46_080
    assert [(f.level, f.code, f.where) for f in default_report.findings] == []


@pytest.mark.slow  # enumerates the default rulebook's 46,080 items in the CLI
def test_rules_lint_of_the_default_rulebook(runner):
    result = runner("rules", "lint", env={"COLUMNS": None})  # piped: a line per finding
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "0 errors, 0 warnings, 0 notes (exact checks over 46,080 distinct items); ok\n"


def _slow(*args):  # a full enumeration of an edited default rulebook
    return pytest.param(*args, marks=pytest.mark.slow)


# each edit and the whole list of findings it gives, in order; each is a full enumeration, so the quick
# loop leaves them to CI and lints the default rulebook (default_report) and a small one instead
def rule(d: dict, rid: str) -> dict:
    return next(r for r in d["rules"] if r["id"] == rid)


def tier(d: dict, tid: str) -> dict:
    return next(t for t in d["tiers"] if t["id"] == tid)


def artifact(d: dict, aid: str) -> dict:
    return next(a for a in d["artifacts"] if a["id"] == aid)


@pytest.mark.parametrize("edit,expected", [
    _slow(lambda d: rule(d, "reach-majority").update(when={"customer_reach": {"gte": 101}}),
          [("error", "never-holds", "rule reach-majority")]),
    _slow(lambda d: rule(d, "reach-some").update(when={"customer_reach": {"gte": 50, "lt": 10}}),
          [("error", "never-holds", "rule reach-some")]),
    # no item reaches tier-1, so its own artifacts are dead, the stage is read nowhere, and two rules
    # only ever add customer impact to items that user action or demand already make tier-3
    _slow(lambda d: tier(d, "tier-1").update(when={"market_impact": {"gte": 5}}),
          [("error", "never-holds", "tier tier-1"), ("warning", "unused-signal", "signal stage"),
           *[("warning", "dead-artifact", f"artifact {a}")
             for a in ("launch-plan", "landing-page", "press-release", "ads-social", "sales-training", "case-study")],
           ("note", "no-tier-effect", "rule demand-high"), ("note", "no-tier-effect", "rule user-action-required")]),
    _slow(lambda d: tier(d, "tier-2").update(when={"launch": {"in": [7, 8]}}),
          [("error", "never-holds", "tier tier-2")]),
    # the condition always holds (a range finding) and so the rule scores every item (a rule finding)
    _slow(lambda d: rule(d, "demand-high").update(when={"demand_votes": {"gte": 0}}),
          [("warning", "always-holds", "rule demand-high"), ("warning", "always-holds", "rule demand-high")]),
    _slow(lambda d: d["tiers"].insert(2, {"id": "tier-2b", "label": "Mini launch", "kind": "launch", "when": {"launch": {"gte": 4}}}),
          [("error", "shadowed-tier", "tier tier-2b")]),
    # lead generation only comes from revenue_motion and pricing_change, which this tier rules out
    _slow(lambda d: tier(d, "tier-3").update(when={"lead_generation": {"gte": 1}, "revenue_motion": "none", "pricing_change": False}),
          [("error", "unreachable-tier", "tier tier-3"), ("warning", "dead-artifact", "artifact in-app-notification")]),
    _slow(lambda d: (tier(d, "tier-1").update(when={"launch": {"gte": 6}}), tier(d, "tier-2").update(when={"launch": {"gte": 3, "lte": 4}}),
                     tier(d, "tier-3").update(when={"customer_impact": {"gte": 1}, "launch": {"lte": 2}})),
          [("warning", "unused-signal", "signal stage"), ("warning", "tier-gap", "total launch")]),
    # tier-2 takes every item with launch >= 2, so no tier-3 item has it
    _slow(lambda d: artifact(d, "in-app-notification").update(when={"launch": {"gte": 2}}),
          [("warning", "dead-artifact", "artifact in-app-notification")]),
    _slow(lambda d: d["signals"].update(colour={"type": "enum", "values": ["red", "blue"], "default": "red", "question": "Which colour?"}),
          [("warning", "unused-signal", "signal colour")]),
    _slow(lambda d: d["dimensions"].update(delight={"label": "Delight", "min": 0, "max": 3}),
          [("warning", "unscored-dimension", "dimension delight")]),
    _slow(lambda d: (d["dimensions"].update(delight={"label": "Delight", "min": 0, "max": 3}),
                     d["rules"].append({"id": "dark-mode", "because": "Users love it.", "when": {"audience": "end_user"}, "score": {"delight": 2}})),
          [("warning", "idle-rule", "rule dark-mode")]),
])
def test_lint_finds(edit, expected):
    data = default_data()
    edit(data)
    assert findings(data) == expected


SMALL = """\
rulebook: small
version: "1"
signals:
  reach: {type: int, min: 0, max: 100, question: Reach?}
  motion: {type: enum, values: [none, new_logo], question: Motion?, moves: fact}
dimensions:
  impact: {label: Impact}
rules:
  - id: wide
    because: Wide.
    when: {reach: {gte: 50}}
    score: {impact: 2}
  - id: new-logo
    because: New customers.
    when: {motion: new_logo}
    score: {impact: 1}
tiers:
  - {id: up, label: Up, kind: launch, when: {impact: {gte: 1}}}
  - {id: down, label: Down, kind: release}
"""


def test_rules_lint_of_a_small_rulebook_in_each_format(runner, tmp_path):
    """The CLI's whole output, on a rulebook small enough for the quick loop."""
    good = tmp_path / "small.yaml"
    good.write_text(SMALL)
    result = runner("rules", "lint", "--rules", good)
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "0 errors, 0 warnings, 0 notes (exact checks over 4 distinct items); ok\n", "")

    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("{reach: {gte: 50}}", "{reach: {gte: 150}}"))
    result = runner("rules", "lint", "--rules", bad, env={"COLUMNS": None})  # piped: a line per finding
    assert (result.exit_code, result.stderr) == (1, "")
    assert result.stdout == (
        f"{bad}:9: error: rule wide: 'reach ≥ 150' can never hold (signal reach is 0..100); fix: use a value within 0..100\n"
        "1 error, 0 warnings, 0 notes (exact checks over 2 distinct items); lint failed\n")
    result = runner("rules", "lint", "--rules", bad, "--format", "json")
    assert (result.exit_code, result.stderr) == (1, "")
    assert document(result.stdout) == {
        "rulebook": {"name": "small", "version": "1", "hash": load_rulebook(bad).hash},
        "findings": [{"level": "error", "code": "never-holds", "where": "rule wide",
                      "message": "'reach ≥ 150' can never hold (signal reach is 0..100)",
                      "fix": "use a value within 0..100", "file": str(bad), "line": 9}],
        "item_space": 2,
        "ok": False,
    }


def test_a_rulebook_that_never_says_who_can_change_a_signal_gets_a_note(tmp_path):
    """Without ``moves``, every signal counts as a decision of the team in the close calls."""
    path = tmp_path / "small.yaml"
    path.write_text(SMALL.replace(", moves: fact}", "}"))
    assert [f.model_dump() for f in lint(load_rulebook(path)).findings] == [{
        "level": "note", "code": "no-moves", "where": "rulebook small",
        "message": "no signal says who can change it (moves), so a review offers a change of any signal as a close call, "
                   "a new market or less differentiation included",
        "fix": "mark facts with moves: fact, and decisions made only one way with moves: forward",
        "file": str(path), "line": None}]
    assert lint(load_rulebook(path)).ok  # a note does not fail the lint


@pytest.mark.slow  # enumerates an edited default rulebook in the CLI (JSON's file and line: the small rulebook's test)
def test_a_finding_points_at_the_file_and_line_and_exits_1(runner, edited_rulebook):
    path = edited_rulebook(("when: {customer_reach: {gte: 50}}", "when: {customer_reach: {gte: 150}}"))
    line = next(i for i, l in enumerate(path.read_text().splitlines(), 1) if "id: reach-majority" in l)
    result = runner("rules", "lint", "--rules", path, env={"COLUMNS": None})  # piped: a line per finding
    assert (result.exit_code, result.stderr) == (1, "")
    assert result.stdout == (
        f"{path}:{line}: error: rule reach-majority: 'customer_reach ≥ 150' can never hold "
        "(signal customer_reach is 0..100); fix: use a value within 0..100\n"
        "1 error, 0 warnings, 0 notes (exact checks over 46,080 distinct items); lint failed\n")


def test_lint_of_a_rulebook_that_does_not_load_is_exit_2(runner, edited_rulebook):
    path = edited_rulebook(("- id: positioning-strengthens", "- id: positioning-changes"))
    first, second = [i for i, l in enumerate(path.read_text().splitlines(), 1) if "id: positioning-changes" in l]
    result = runner("rules", "lint", "--rules", path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"error: {path}:{second}: rules[2] (positioning-changes).id: duplicate rule id "
                             "'positioning-changes' (also rules[1])\n")


def test_lint_says_when_it_gives_up():
    data = default_data()
    for i in range(12):
        data["signals"][f"extra_{i}"] = {"type": "enum", "values": ["a", "b", "c", "d"], "default": "a", "question": "?"}
        data["rules"].append({"id": f"extra-{i}", "because": "x", "when": {f"extra_{i}": "b"}, "score": {"market_impact": 1}})
    report = lint(rulebook_from_data(data))
    assert report.item_space == 0
    assert [(f.level, f.code, f.where, f.message) for f in report.findings] == [(
        "note", "gave-up", "rulebook default",
        "the item space has 773,094,113,280 distinct cases (more than 2,000,000), so tier reachability, gaps, "
        "artifacts and rule effects were not checked")]


def test_rules_diff_in_the_domains_words(runner, edited_rulebook, roadmap):
    new = edited_rulebook(
        ("when: {launch: {gte: 2}}", "when: {launch: {gte: 5}}"),
        ("score: {lead_generation: 2}", "score: {lead_generation: 1}"),
        ("tiers: [tier-1], effort: 4}", "tiers: [tier-1, tier-2], effort: 4}"),
        ("  - id: exec-priority\n", "  - id: exec-sponsor\n"),
        name="new.yaml")
    result = runner("rules", "diff", DEFAULT, new, roadmap)
    assert (result.exit_code, result.stderr) == (0, "")
    old_hash, new_hash = load_rulebook().hash[:19], load_rulebook(new).hash[:19]
    expanded = "rule revenue-expansion re-weighted: lead_generation +2 → lead_generation +1"
    added = "rule exec-sponsor added: when exec_priority = true → market_impact +1"
    removed = "rule exec-priority removed: was when exec_priority = true → market_impact +1"
    tier2 = "tier tier-2 condition changed: when launch ≥ 2 → when launch ≥ 5"
    assert result.stdout == "\n".join([
        f"default 2026.11.2 ({old_hash}…) → default 2026.11.2 ({new_hash}…)",
        f"  {added}",
        f"  {expanded}",
        f"  {removed}",
        f"  {tier2}",
        "  artifact press-release moved: Press release and analyst briefing: tier-1 → tier-1, tier-2",
        "",
        "3 of 12 items change tier",
        "  PAY-12 Usage-based pricing: tier-2 → tier-3",
        f"      because {expanded}",
        f"      because {tier2}",
        "  PAY-47 Partner referral API: tier-2 → tier-3",
        f"      because {added}",
        f"      because {removed}",
        f"      because {tier2}",
        "  PAY-52 Consolidated billing across legal entities: tier-2 → tier-3",
        f"      because {tier2}",
        ""])
    data = json.loads(runner("rules", "diff", DEFAULT, new, roadmap, "--format", "json").output)
    assert {c["item"]: (c["old_tier"], c["new_tier"]) for c in data["items_changed"]} == {
        "PAY-12": ("tier-2", "tier-3"), "PAY-47": ("tier-2", "tier-3"), "PAY-52": ("tier-2", "tier-3")}


TIER2_UP = ("when: {launch: {gte: 2}}", "when: {launch: {gte: 4}}")
TIER3_PARITY = ("        - {user_action_required: true}\n", "        - {user_action_required: true}\n        - {parity: {gte: 3}}\n")
TIER3_OLD = ("market_impact ≥ 2 or lead_generation ≥ 1 or user_action_required = true or demand_votes ≥ 50 or "
             "(customer_impact ≥ 2 and revenue_motion = retention)")
ADMIN_UP = ("when: {audience: admin}\n    score: {parity: 1}", "when: {audience: admin}\n    score: {parity: 2}")


WIDE = {"COLUMNS": "1000"}  # a change on one line, as the rulebooks' texts are compared


def _diff_head(new) -> str:
    return f"default 2026.11.2 ({load_rulebook().hash[:19]}…) → default 2026.11.2 ({load_rulebook(new).hash[:19]}…)"


def test_rules_diff_names_for_each_item_only_the_tier_condition_that_flips_it(runner, edited_rulebook, roadmap):
    # two tier conditions change, each moves one item; a rule re-weighted that fires for neither
    # item, and one re-pointed that fires for PAY-52 under both rulebooks with the same points,
    # are no cause of either
    new = edited_rulebook(
        TIER2_UP, TIER3_PARITY,
        ("score: {lead_generation: 1}\n  # ---- parity", "score: {lead_generation: 2}\n  # ---- parity"),
        ("when: {positioning: strengthens}", "when: {positioning: {in: [strengthens]}}"),
        name="new.yaml")
    result = runner("rules", "diff", DEFAULT, new, roadmap, env=WIDE)
    assert (result.exit_code, result.stderr) == (0, "")
    tier2 = "tier tier-2 condition changed: when launch ≥ 2 → when launch ≥ 4"
    tier3 = (f"tier tier-3 condition changed: when {TIER3_OLD} → when market_impact ≥ 2 or lead_generation ≥ 1 or "
             "user_action_required = true or parity ≥ 3 or demand_votes ≥ 50 or (customer_impact ≥ 2 and "
             "revenue_motion = retention)")
    assert result.stdout == "\n".join([
        _diff_head(new),
        "  rule positioning-strengthens re-pointed: when positioning = strengthens → when positioning in [strengthens]",
        "  rule pricing-change re-weighted: lead_generation +1 → lead_generation +2",
        f"  {tier2}",
        f"  {tier3}",
        "",
        "2 of 12 items change tier",
        "  PAY-52 Consolidated billing across legal entities: tier-2 → tier-3",
        f"      because {tier2}",
        "  PAY-57 Audit-log export to S3: tier-4 → tier-3",
        f"      because {tier3}",
        ""])


def test_rules_diff_names_an_added_tier_and_a_rule_whose_points_change_for_the_item(runner, edited_rulebook, roadmap):
    # audience-admin fires for PAY-60 under both rulebooks with other points: named; new-market
    # fires for it under neither (only for PAY-70, which it moves): not named; tier-4 is only
    # renamed, which moves no item
    new = edited_rulebook(
        ("  - id: tier-3\n", "  - id: tier-3a\n    label: Announced release\n    kind: release\n"
                            "    when: {customer_impact: {gte: 3}, user_action_required: true}\n  - id: tier-3\n"),
        ("    label: Quiet release\n", "    label: Changelog release\n"),
        ADMIN_UP,
        ("score: {market_impact: 3}", "score: {market_impact: 2}"),
        name="new.yaml")
    result = runner("rules", "diff", DEFAULT, new, roadmap, env=WIDE)
    assert (result.exit_code, result.stderr) == (0, "")
    admin = "rule audience-admin re-weighted: parity +1 → parity +2"
    added = "tier tier-3a added: when customer_impact ≥ 3 and user_action_required = true"
    market = "rule new-market re-weighted: market_impact +3 → market_impact +2"
    assert result.stdout == "\n".join([
        _diff_head(new),
        f"  {market}",
        f"  {admin}",
        f"  {added}",
        "  tier tier-4 renamed: Quiet release (release) → Changelog release (release)",
        "",
        "2 of 12 items change tier",
        "  PAY-60 Retire webhook signatures v1: tier-3 → tier-3a",
        f"      because {admin}",
        f"      because {added}",
        "  PAY-70 Localised invoicing for Japan: tier-1 → tier-2",
        f"      because {market}",
        ""])


def test_rules_diff_names_a_reordering_where_it_changes_the_first_tier_to_hold(runner, edited_rulebook, roadmap):
    text = DEFAULT.read_text()
    tier1 = text[text.index("  - id: tier-1\n"):text.index("  - id: tier-2\n")]
    tier2 = text[text.index("  - id: tier-2\n"):text.index("  - id: tier-3\n")]
    new = edited_rulebook((tier1 + tier2, tier2 + tier1), name="new.yaml")
    result = runner("rules", "diff", DEFAULT, new, roadmap, env=WIDE)
    assert (result.exit_code, result.stderr) == (0, "")
    reordered = "tier * reordered: tier-1, tier-2, tier-3, tier-4 → tier-2, tier-1, tier-3, tier-4"
    assert result.stdout == "\n".join([
        _diff_head(new),
        f"  {reordered}",
        "",
        "3 of 12 items change tier",
        "  PAY-38 Instant payouts over SEPA Instant: tier-1 → tier-2",
        f"      because {reordered}",
        "  PAY-41 AI revenue-recovery assistant: tier-1 → tier-2",
        f"      because {reordered}",
        "  PAY-70 Localised invoicing for Japan: tier-1 → tier-2",
        f"      because {reordered}",
        ""])


def test_rules_diff_names_a_signal_whose_new_default_moves_the_item(runner, edited_rulebook, roadmap):
    # a signal's default moves the items that leave it out, through a rule that did not change:
    # the signal is named; the tier-1 condition (stage) matters to none of them, and audience-admin
    # only to PAY-57, the one admin item moved; PAY-41 loses 2027-Q1's place to PAY-12
    new = edited_rulebook(
        ("  new_market:\n    type: bool\n    default: false", "  new_market:\n    type: bool\n    default: true"),
        ADMIN_UP,
        ("stage: ga}", "stage: {in: [beta, ga]}}"),
        name="new.yaml")
    result = runner("rules", "diff", DEFAULT, new, roadmap, env=WIDE)
    assert (result.exit_code, result.stderr) == (0, "")
    admin = "rule audience-admin re-weighted: parity +1 → parity +2"
    tier1_old = ("(market_impact ≥ 3 and lead_generation ≥ 2 and parity ≤ 1 and stage = ga) or (exec_priority = true and "
                 "market_impact ≥ 2 and ((lead_generation ≥ 2 and parity ≤ 1) or customer_impact ≥ 3))")
    tier1 = f"tier tier-1 condition changed: when {tier1_old} → when {tier1_old.replace('stage = ga', 'stage in [beta, ga]')}"
    phrases = "phrases {'true': 'it opened a new market, segment or SKU', 'false': 'it opened no new market'}"
    signal = (f"signal new_market changed: type bool, default False, moves fact, {phrases} → "
              f"type bool, default True, moves fact, {phrases}")
    assert result.stdout == "\n".join([
        _diff_head(new),
        f"  {admin}",
        f"  {tier1}",
        f"  {signal}",
        "",
        "6 of 12 items change tier",
        "  PAY-12 Usage-based pricing: tier-2 → tier-1",
        f"      because {signal}",
        "  PAY-41 AI revenue-recovery assistant: tier-1 → tier-2",
        "      because capacity tier-1 ranking: now tier-1 capacity of 1 for 2027-Q1 taken by PAY-12; moved to tier-2",
        "  PAY-44 Apple Pay and Google Pay in hosted checkout: tier-3 → tier-2",
        f"      because {signal}",
        "  PAY-57 Audit-log export to S3: tier-4 → tier-3",
        f"      because {admin}",
        f"      because {signal}",
        "  PAY-63 Faster invoice PDF rendering: tier-4 → tier-2",
        f"      because {signal}",
        "  PAY-74 Dark mode for the customer portal: tier-3 → tier-2",
        f"      because {signal}",
        ""])


def test_a_changed_item_with_no_change_that_matters_to_it_lists_every_rule_tier_and_signal_change():
    """The fallback: no changed item goes without a cause (here a rule that fires for neither
    decision and an artifact move, which never moves an item)."""
    from launchtier.engine.decide.classify import Classifier
    from launchtier.engine.items.model import ItemReader
    from launchtier.engine.rulebook.diff import RuleChange, causes

    book = load_rulebook()
    item = ItemReader(book).validate({"key": "X-1", "title": "x", "signals": {
        "revenue_motion": "none", "differentiation": "none", "customer_reach": 0, "audience": "buyer"}})
    d = Classifier(book, "reference").decide(item)
    rule = RuleChange(part="rule", id="new-market", change="re-weighted", detail="market_impact +3 → market_impact +2")
    moved = RuleChange(part="artifact", id="press-release", change="moved", detail="tier-1 → tier-1, tier-2")
    signals = item.signal_values()
    assert causes([rule, moved], d, d, (book, book), (signals, signals)) == [rule]


def test_rules_diff_of_identical_rulebooks(runner):
    result = runner("rules", "diff", DEFAULT, DEFAULT)
    short = load_rulebook().hash[:19]
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"default 2026.11.2 ({short}…) → default 2026.11.2 ({short}…)\nno changes\n", "")


def test_rules_diff_bad_input(runner, tmp_path):
    result = runner("rules", "diff", DEFAULT, tmp_path / "nope.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"error: {tmp_path / 'nope.yaml'}: no such file\n")

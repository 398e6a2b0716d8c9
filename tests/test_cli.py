"""The command line as a user meets it: exit codes, messages, and each format's content.

Each test checks a command's whole output: the exact text inline when it is short, a golden file
(conftest's ``golden``, rewritten by ``--update-golden``) when it is long; temporary paths are
replaced by ``normalise`` first.
"""

from __future__ import annotations

import csv
import io
import json
from importlib.metadata import version

import click
import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from conftest import ROOT, document, normalise, pyyaml_words
from launchtier.cli.main import cli
from launchtier.engine import Decision, load_rulebook
from launchtier.engine.decide.decision import Explanation


PAY_12 = """\
key: PAY-12
title: Usage-based pricing
quarter: 2027-Q1
signals:
  revenue_motion: expansion
  differentiation: better
  customer_reach: 60
  audience: buyer
  pricing_change: true
  positioning: strengthens
  user_action_required: true
"""


@pytest.fixture
def pay12(tmp_path):
    path = tmp_path / "pay12.yaml"
    path.write_text(PAY_12)
    return path


def all_commands(group: click.Group, prefix=()):
    # by click's lookup, as --help lists them: the group imports a command's module when asked for it
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path,command", list(all_commands(cli)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_has_help_with_an_example(runner, golden, path, command):
    result = runner(*path, "--help")
    assert (result.exit_code, result.stderr) == (0, "")
    # the policy every help text follows, whatever its wording
    assert command.help and len(command.help.split()) > 5
    assert "Example:" in result.output
    assert "launchtier " + path[0] in result.output
    golden(f"help/{'-'.join(path)}.txt", result.stdout)


def test_version(runner):
    result = runner("--version")
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"launchtier, version {version('launchtier')}\n", "")


# ---- rules show / schema / template -------------------------------------------------------
def test_rules_show_lists_the_default_rulebook(runner, golden):
    result = runner("rules", "show")
    assert (result.exit_code, result.stderr) == (0, "")
    golden("rules-show.txt", normalise(result.stdout, paths={"repo": ROOT}))  # the rulebook's source, in this checkout


def test_rules_show_json_is_the_rulebook(runner):
    result = runner("rules", "show", "--format", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    book = load_rulebook()
    # the rulebook model, its hash and the file it came from first, in the order of the file
    assert document(result.stdout) == {"hash": book.hash, "source": str(book.source), **book.model_dump(mode="json")}
    assert list(document(result.stdout)) == ["hash", "source", *book.model_dump(mode="json")]


SIGNAL_NAMES = ("audience, customer_reach, demand_votes, differentiation, exec_priority, new_market, positioning, "
                "pricing_change, revenue_motion, stage, user_action_required")
ITEM_SIGNALS = ("new_market, positioning, revenue_motion, differentiation, customer_reach, demand_votes, "
                "user_action_required, pricing_change, audience, stage, exec_priority")


def line_of(path, text: str, nth: int = 0) -> int:
    """The line number of the nth line of ``path`` that contains ``text``."""
    return [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line][nth]


def test_rules_show_fails_on_a_bad_rulebook(runner, edited_rulebook):
    bad = edited_rulebook(("when: {revenue_motion: new_logo}", "when: {revenue_moton: new_logo}"), name="bad.yaml")
    result = runner("rules", "show", "--rules", bad)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {bad}:{line_of(bad, 'revenue_moton')}: rules[6] (revenue-new-logo).when.revenue_moton: unknown name "
        f"'revenue_moton'; did you mean 'revenue_motion'? (allowed: {SIGNAL_NAMES}, or all / any / not)\n")


def test_rules_env_variable_picks_the_rulebook(runner, edited_rulebook):
    team = edited_rulebook(("rulebook: default", "rulebook: team-b"), name="team.yaml")
    result = runner("rules", "show", env={"LAUNCHTIER_RULES": str(team)})
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == runner("rules", "show", "--rules", team).stdout
    assert result.stdout.splitlines()[0] == "Rulebook team-b 2026.11.2"


def test_schema_item_validates_item_files(runner, golden, roadmap):
    result = runner("schema", "item")
    assert (result.exit_code, result.stderr) == (0, "")
    golden("schema-item.json", result.stdout)
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(yaml.safe_load(roadmap.read_text())))
    assert not list(validator.iter_errors(yaml.safe_load(PAY_12)))
    broken = yaml.safe_load(PAY_12.replace("customer_reach: 60", "customer_reach: 160"))
    assert list(validator.iter_errors(broken))
    misspelt = yaml.safe_load(PAY_12.replace("audience:", "audiense:"))
    assert list(validator.iter_errors(misspelt))


def test_schema_item_fails_on_a_missing_rulebook(runner, tmp_path):
    result = runner("schema", "item", "--rules", tmp_path / "nope.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"error: {tmp_path / 'nope.yaml'}: no such file\n")


def test_rules_schema_is_the_old_spelling_of_schema_item(runner):
    result = runner("rules", "schema")
    assert (result.exit_code, result.stdout) == (0, runner("schema", "item").stdout)
    assert result.stderr == "note: launchtier rules schema is deprecated; use launchtier schema item\n"
    assert "schema" not in runner("rules", "--help").stdout  # hidden, like every old spelling


def test_template_yaml_asks_every_question_and_loads_once_filled(runner, golden, tmp_path):
    result = runner("template")
    assert (result.exit_code, result.stderr) == (0, "")
    golden("template.yaml", result.stdout)
    filled = (
        result.output.replace('key: ""', "key: NEW-1")
        .replace('title: ""', "title: A new thing")
        .replace("  revenue_motion:\n", "  revenue_motion: new_logo\n")
        .replace("  differentiation:\n", "  differentiation: first\n")
        .replace("  customer_reach:\n", "  customer_reach: 40\n")
        .replace("  audience:\n", "  audience: buyer\n")
    )
    (tmp_path / "new.yaml").write_text(filled)
    classified = runner("classify", tmp_path / "new.yaml", "--format", "jsonl")
    assert (classified.exit_code, classified.stderr) == (0, ""), classified.output
    decision = Decision.model_validate(document(classified.stdout))
    assert (decision.item, decision.title, decision.tier) == ("NEW-1", "A new thing", "tier-2")


def test_template_blank_does_not_load_and_says_what_is_missing(runner, tmp_path):
    blank = tmp_path / "blank.yaml"
    blank.write_text(runner("template").output)
    result = runner("classify", blank)
    assert (result.exit_code, result.stdout) == (2, "")
    assert normalise(result.stderr, paths={"blank": blank}) == """\
error: <blank>:3: item #1: key: is empty; it is required
error: <blank>:4: item #1: title: is empty; it is required
error: <blank>:15: item #1: signals.revenue_motion: missing; answer "Which revenue does it drive?" (one of none, retention, deal_acceleration, expansion, new_logo)
error: <blank>:17: item #1: signals.differentiation: missing; answer "Against competitors, is it parity, better, or first in market?" (one of none, parity, better, first)
error: <blank>:19: item #1: signals.customer_reach: missing; answer "What percent of customers does it touch?" (a whole number from 0 to 100)
error: <blank>:27: item #1: signals.audience: missing; answer "Who notices it first?" (one of admin, end_user, buyer)
6 problems; nothing was done.
"""


def test_template_csv_header_has_every_signal(runner):
    result = runner("template", "--format", "csv")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "key,title,pm,pmm,quarter,new_market,positioning,revenue_motion,differentiation,customer_reach,demand_votes,"
        "user_action_required,pricing_change,audience,stage,exec_priority\n"
        ",,,,,false,none,,,,0,false,false,,ga,false\n")
    header = next(csv.reader(io.StringIO(result.output)))
    assert set(header[5:]) == set(load_rulebook().signals)


def test_template_rejects_an_unknown_format(runner):
    result = runner("template", "--format", "xml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("Usage: cli template [OPTIONS]\nTry 'cli template --help' for help.\n\n"
                             "Error: Invalid value for '--format': 'xml' is not one of 'yaml', 'csv'.\n")


# ---- classify ------------------------------------------------------------------------------
def test_classify_table(runner, golden, roadmap):
    result = runner("classify", roadmap)
    assert (result.exit_code, result.stderr) == (0, "")
    golden("classify.txt", result.stdout)
    assert all(len(line) <= 100 for line in result.stdout.splitlines())  # COLUMNS=100


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_classify_machine_formats_are_the_decision_model(runner, roadmap, fmt):
    result = runner("classify", roadmap, "--format", fmt)
    assert result.exit_code == 0
    rows = document(result.output)["decisions"] if fmt == "json" else [document(line) for line in result.output.splitlines()]
    decisions = [Decision.model_validate(row) for row in rows]
    assert len(decisions) == len(yaml.safe_load(roadmap.read_text())["items"])
    assert [d.model_dump(mode="json") for d in decisions] == rows
    pay12 = next(d for d in decisions if d.item == "PAY-12")
    assert (pay12.tier, pay12.kind) == ("tier-2", "launch")


PAY_12_FIRED = ["positioning-strengthens", "differentiation-better", "revenue-expansion", "pricing-change", "reach-majority",
                "user-action-required"]
PAY_12_ARTIFACTS = ["positioning", "requirements", "pricing", "blog-post", "sales-deck", "battlecard", "demo",
                    "customer-announcement", "faq", "migration-guide", "help-docs", "support-briefing",
                    "metrics-dashboard", "changelog"]


def test_classify_markdown_and_csv(runner, pay12):
    md = runner("classify", pay12, "--format", "markdown")
    assert (md.exit_code, md.stderr) == (0, "")
    assert md.stdout == (
        "| Key | Title | Tier | Set by | Kind | market impact | lead generation | parity | customer impact | launch | Rules fired |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"| PAY-12 | Usage-based pricing | tier-2 Launch | rules | launch | 2 | 3 | 0 | 3 | 5 | {', '.join(PAY_12_FIRED)} |\n")
    out = runner("classify", pay12, "--format", "csv")
    assert (out.exit_code, out.stderr) == (0, "")
    assert out.stdout == (
        "key,title,tier,label,set_by,rules_tier,kind,market_impact,lead_generation,parity,customer_impact,launch,fired,artifacts\n"
        f"PAY-12,Usage-based pricing,tier-2,Launch,rules,tier-2,launch,2,3,0,3,5,{';'.join(PAY_12_FIRED)},"
        f"{';'.join(PAY_12_ARTIFACTS)}\n")


def test_classify_reads_standard_input(runner, pay12):
    result = runner("classify", "-", "--format", "jsonl", input=PAY_12)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == runner("classify", pay12, "--format", "jsonl").stdout
    assert Decision.model_validate(document(result.stdout)).tier == "tier-2"


def test_classify_reference_engine_agrees(runner, roadmap):
    durable = runner("classify", roadmap, "--format", "json")
    reference = runner("classify", roadmap, "--format", "json", "--engine", "reference")
    assert durable.exit_code == reference.exit_code == 0
    assert durable.stdout == reference.stdout and json.loads(durable.stdout)


def test_classify_reports_every_problem_of_every_file_and_exits_2(runner, tmp_path, pay12):
    bad = tmp_path / "bad.yaml"
    bad.write_text(PAY_12.replace("customer_reach: 60", "customer_reach: 160").replace("audience: buyer", "audiance: buyer"))
    result = runner("classify", pay12, bad, tmp_path / "missing.yaml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {bad}:7: item PAY-12: signals.customer_reach: 160 is not allowed; expected a whole number from 0 to 100\n"
        f'error: {bad}:4: item PAY-12: signals.audience: missing; answer "Who notices it first?" (one of admin, end_user, buyer)\n'
        f"error: {bad}:8: item PAY-12: signals.audiance: unknown signal 'audiance'; did you mean 'audience'? (signals: {ITEM_SIGNALS})\n"
        f"error: {tmp_path / 'missing.yaml'}: no such file\n"
        "4 problems; nothing was done.\n")


# Every bad input of the rulebook issue, through the CLI: exit 2, one message naming file/line/item/field
# ({path} is the file's path; a line of its own, then the count when there are several).
BAD_ITEMS = {
    "unknown field": (PAY_12.replace("quarter:", "colour: red\nquarter:"),
                      "{path}:3: item PAY-12: colour: unknown field 'colour' (allowed: key, title, description, pm, pmm, quarter, links, signals)"),
    "misspelt signal": (PAY_12.replace("customer_reach", "custmer_reach"),
                        '{path}:4: item PAY-12: signals.customer_reach: missing; answer "What percent of customers does it touch?" (a whole number from 0 to 100)\n'
                        "error: {path}:7: item PAY-12: signals.custmer_reach: unknown signal 'custmer_reach'; did you mean 'customer_reach'? (signals: " + ITEM_SIGNALS + ")\n"
                        "2 problems; nothing was done."),
    "wrong type": (PAY_12.replace("customer_reach: 60", "customer_reach: lots"),
                   "{path}:7: item PAY-12: signals.customer_reach: 'lots' is not allowed; expected a whole number from 0 to 100"),
    "out of range": (PAY_12.replace("customer_reach: 60", "customer_reach: -1"),
                     "{path}:7: item PAY-12: signals.customer_reach: -1 is not allowed; expected a whole number from 0 to 100"),
    "not in enum": (PAY_12.replace("audience: buyer", "audience: buyers"),
                    "{path}:8: item PAY-12: signals.audience: 'buyers' is not allowed; expected one of admin, end_user, buyer; did you mean 'buyer'?"),
    "duplicate key": ("items:\n" + "\n".join("  - " + PAY_12.replace("\n", "\n    ").rstrip() for _ in range(2)),
                      "{path}:13: item PAY-12: key: duplicate key (also item #1 of this file); keys are unique in a file"),
    "yaml syntax": (PAY_12.replace("audience: buyer", "audience: [buyer"),
                    "{path}:9: invalid YAML: " + pyyaml_words(PAY_12.replace("audience: buyer", "audience: [buyer"))),
    "empty": ("", "{path}: is empty"),
    "python tag": ("!!python/object/apply:os.system ['echo hi']\n",
                   "{path}:1: invalid YAML: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'; only plain YAML is read (no tags)"),
    "duplicate yaml key": (PAY_12 + "  audience: admin\n", "{path}:12: invalid YAML: duplicate key 'audience' (first on line 8)"),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS))
def test_bad_item_files_exit_2_with_a_message(runner, tmp_path, case):
    text, expected = BAD_ITEMS[case]
    path = tmp_path / "items.yaml"
    path.write_text(text)
    result = runner("classify", path)
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr == "error: " + expected.format(path=path) + "\n"


def test_binary_item_file_exits_2(runner, tmp_path):
    path = tmp_path / "items.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = runner("classify", path)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"error: {path}: is a binary file, expected UTF-8 text (YAML, JSON or CSV)\n")


BAD_RULEBOOKS = {  # the edit, the line it lands on (its nth match of a text), the message
    "unknown signal in a rule": (
        ("when: {exec_priority: true}", "when: {exec_priorty: true}"), ("exec_priorty", 0),
        "rules[5] (exec-priority).when.exec_priorty: unknown name 'exec_priorty'; did you mean 'exec_priority'? "
        f"(allowed: {SIGNAL_NAMES}, or all / any / not)"),
    "unknown dimension in score": (
        ("score: {market_impact: 3}", "score: {market_impakt: 3}"), ("market_impakt", 0),
        "rules[0] (new-market).score.market_impakt: unknown dimension 'market_impakt'; did you mean 'market_impact'? "
        "(dimensions: market_impact, lead_generation, parity, customer_impact)"),
    "tier without default": (
        ("    description: A changelog entry.\n", "    description: A changelog entry.\n    when: {parity: {gte: 0}}\n"),
        ("when: {parity: {gte: 0}}", 0),
        "tiers[3] (tier-4).when: the last tier is the default and has no 'when': add a last tier without 'when' for "
        "the items no other tier takes"),
    "duplicate rule id": (
        ("- id: positioning-strengthens", "- id: positioning-changes"), ("- id: positioning-changes", 1),
        "rules[2] (positioning-changes).id: duplicate rule id 'positioning-changes' (also rules[1])"),
}


@pytest.mark.parametrize("case", list(BAD_RULEBOOKS))
def test_bad_rulebooks_exit_2_with_a_message(runner, edited_rulebook, pay12, case):
    edit, (text, nth), expected = BAD_RULEBOOKS[case]
    path = edited_rulebook(edit)
    result = runner("classify", pay12, "--rules", path)
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr == f"error: {path}:{line_of(path, text, nth)}: {expected}\n"


def test_a_reserved_signal_name_is_refused_with_each_problem_it_causes(runner, edited_rulebook, pay12):
    path = edited_rulebook(("  exec_priority:\n    type: bool", "  sid:\n    type: bool"))
    result = runner("classify", pay12, "--rules", path)
    assert (result.exit_code, result.stdout) == (2, "")
    names = SIGNAL_NAMES.replace("exec_priority, ", "").replace("revenue_motion, ", "revenue_motion, sid, ")
    # a tier condition reads the scores too
    tier_names = ("audience, customer_impact, customer_reach, demand_votes, differentiation, launch, lead_generation, "
                  "market_impact, new_market, parity, positioning, pricing_change, revenue_motion, sid, stage, "
                  "user_action_required")
    # the signal is named at the line where its definition starts (the line after "sid:"); the rule
    # that reads exec_priority now names a signal that does not exist
    assert result.stderr == (
        f"error: {path}:{line_of(path, '  sid:') + 1}: signals.sid: 'sid' is a reserved name (durable-rules uses 'sid' for "
        "its sessions and hangs on rules that read it); rename it\n"
        f"error: {path}:{line_of(path, 'when: {exec_priority: true}')}: rules[5] (exec-priority).when.exec_priority: "
        f"unknown name 'exec_priority' (allowed: {names}, or all / any / not)\n"
        f"error: {path}:{line_of(path, '- exec_priority: true')}: tiers[0] (tier-1).when.any[1].exec_priority: "
        f"unknown name 'exec_priority' (allowed: {tier_names}, or all / any / not)\n"
        "3 problems; nothing was done.\n")


# ---- explain -------------------------------------------------------------------------------
NO_LEDGER = "notice: no ledger at {ledger} (from $LAUNCHTIER_DB); explaining without its overrides, recorded items or precedents\n"


def test_explain_text(runner, golden, pay12):
    result = runner("explain", pay12)
    assert result.exit_code == 0
    # a file of its own explains like the same item in the example roadmap
    golden("explain-PAY-12.txt", result.stdout)
    assert result.stderr == NO_LEDGER.format(ledger=runner.ledger)


def test_explain_what_if_changes_the_tier_and_says_what_changed(runner, golden, pay12):
    result = runner("explain", pay12, "--set", "positioning=changes", "--format", "json")
    assert result.exit_code == 0
    ex = Explanation.model_validate(document(result.stdout))
    assert ex.decision.tier == "tier-1"
    assert [(c.signal, c.from_, c.to) for c in ex.changed] == [("positioning", "strengthens", "changes")]
    assert result.stderr == NO_LEDGER.format(ledger=runner.ledger)
    text = runner("explain", pay12, "--set", "pricing_change=no")
    assert (text.exit_code, text.stderr) == (0, NO_LEDGER.format(ledger=runner.ledger))
    # "What if: pricing_change true → false (changed with --set, not in the file)", and no pricing artifact
    golden("explain-PAY-12-pricing_change-no.txt", text.stdout)


def test_explain_markdown(runner, golden, pay12):
    result = runner("explain", pay12, "--format", "markdown")
    assert result.exit_code == 0
    golden("explain-PAY-12.md", result.stdout)
    assert result.stderr == NO_LEDGER.format(ledger=runner.ledger)


def test_explain_needs_an_item_when_the_file_has_several(runner, roadmap):
    keys = "PAY-12, PAY-31, PAY-38, PAY-41, PAY-44, PAY-47, PAY-52, PAY-57, PAY-60, PAY-63, PAY-70, PAY-74"
    result = runner("explain", roadmap)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"error: {roadmap}: holds 12 items; choose one with --item KEY (keys: {keys})\n")
    result = runner("explain", roadmap, "--item", "PAY-121")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"error: {roadmap}: no item with key 'PAY-121'; did you mean 'PAY-12'? (keys: {keys})\n")


@pytest.mark.parametrize("setting,expected", [
    ("customer_reach=140", "error: --set: item PAY-12: signals.customer_reach: '140' is not allowed; expected a whole number "
                           "from 0 to 100\n"),
    ("custmer_reach=4", "error: --set: item PAY-12: custmer_reach: unknown signal 'custmer_reach'; did you mean "
                        f"'customer_reach'? (signals: {ITEM_SIGNALS})\n"),
    ("stage", "Usage: cli explain [OPTIONS] FILE\nTry 'cli explain --help' for help.\n\n"
              "Error: Invalid value for --set: 'stage' is not SIGNAL=VALUE (for example customer_reach=40)\n"),
])
def test_explain_bad_what_if(runner, pay12, setting, expected):
    result = runner("explain", pay12, "--set", setting)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", expected)


# ---- artifacts -----------------------------------------------------------------------------
def test_artifacts_of_a_tier_grouped_by_owner(runner):
    result = runner("artifacts", "--tier", "tier-1", env={"COLUMNS": None})
    assert (result.exit_code, result.stderr) == (0, "")
    # each owner's artifacts under their name, a condition after the artifact it limits (piped)
    assert result.stdout == """\
tier-1 Marketing launch (launch)
  PMM (11 artifacts, about 26 days)
    [ ] Launch plan                            Programs / Launch
    [ ] Positioning and messaging              Planning / Positioning
    [ ] Landing page                           Programs / Awareness
    [ ] Press release and analyst briefing     Programs / Awareness
    [ ] Ads and social campaign                Programs / Revenue Growth
    [ ] Launch blog post                       Programs / Awareness
    [ ] Sales deck and talk track              Enablement / Sales Tools
    [ ] Sales training                         Enablement / Channel Training
    [ ] Competitive battlecard                 Enablement / Sales Tools  (only when differentiation in [better, first])
    [ ] Customer email or in-app announcement  Programs / Revenue Retention
    [ ] Case study (after launch)              Programs / Advocacy
  PM (9 artifacts, about 16.75 days)
    [ ] Requirements and use scenarios         Planning / Requirements
    [ ] Pricing and packaging                  Business / Pricing  (only when pricing_change = true)
    [ ] Demo environment                       Enablement / Sales Tools  (only when audience ≠ admin)
    [ ] FAQ and internal announcement          Planning / Stakeholder Communications
    [ ] Migration guide                        Support / Operations  (only when user_action_required = true)
    [ ] Help-center docs                       Support / Operations
    [ ] Support team briefing                  Support / Programs
    [ ] Success metrics dashboard              Programs / Measurement
    [ ] Changelog entry                        Support / Operations
"""


def test_artifacts_of_an_item_apply_the_conditions(runner, golden, pay12):
    result = runner("artifacts", pay12, "--format", "csv")
    assert result.exit_code == 0
    golden("artifacts-PAY-12.csv", result.stdout)
    rows = list(csv.DictReader(io.StringIO(result.output)))
    ids = {r["artifact"] for r in rows}
    assert ids == set(PAY_12_ARTIFACTS)  # pricing (pricing_change) and no tier-1 press release
    assert {r["tier"] for r in rows} == {"tier-2"}
    assert {r["owner"] for r in rows} == {"PM", "PMM"}


def test_artifacts_markdown(runner):
    result = runner("artifacts", "--tier", "tier-4", "--format", "markdown")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "### tier-4 Quiet release (release)\n\n**PM**\n\n- [ ] Changelog entry (Support / Operations)\n"


def test_artifacts_unknown_tier(runner):
    result = runner("artifacts", "--tier", "tier-one")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "error: unknown tier 'tier-one'; did you mean 'tier-4'? (tiers: tier-1, tier-2, tier-3, tier-4)\n")


# ---- terminal conventions ------------------------------------------------------------------
def test_no_colour_when_the_output_is_not_a_terminal(runner, roadmap):
    for args in (["classify", roadmap], ["explain", roadmap, "--item", "PAY-12"], ["rules", "show"]):
        result = runner(*args)
        assert result.exit_code == 0
        assert "\x1b[" not in result.output


def test_colour_when_asked_for_a_terminal(roadmap):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["classify", str(roadmap)], color=True)
    assert result.exit_code == 0
    assert "\x1b[" in result.output


def test_progress_bar_only_for_long_runs_on_a_terminal(monkeypatch):
    from launchtier.cli.commands import items as commands

    many = list(range(commands.PROGRESS_THRESHOLD))
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    with commands._progress(many, "x") as stream:
        assert stream is many
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    with commands._progress(many, "x") as stream:
        assert isinstance(stream, click._termui_impl.ProgressBar)
        assert list(stream) == many
    with commands._progress(many[:10], "x") as stream:
        assert stream == many[:10]


# ---- completion ----------------------------------------------------------------------------
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_clicks_script_for_launchtier(runner, shell):
    from click.shell_completion import get_completion_class

    result = runner("completion", shell)
    assert (result.exit_code, result.stderr) == (0, "")
    # what click itself writes for this command line, for the launchtier executable
    assert result.stdout == get_completion_class(shell)(cli, {}, "launchtier", "_LAUNCHTIER_COMPLETE").source() + "\n"
    assert "_LAUNCHTIER_COMPLETE" in result.stdout and "_launchtier_completion" in result.stdout


@pytest.mark.parametrize("words, completed", [
    ("launchtier sch", "plain,schema\n"),
    ("launchtier classify x.yaml --format j", "plain,json\nplain,jsonl\n"),
    ("launchtier schema r", "plain,rulebook\n"),
])
def test_the_script_completes_through_launchtiers_own_main(words, completed):
    """What the bash script asks (click's protocol): launchtier with _LAUNCHTIER_COMPLETE set."""
    env = {"_LAUNCHTIER_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    result = CliRunner().invoke(cli, [], env=env, prog_name="launchtier")
    assert (result.exit_code, result.output) == (0, completed)


def test_completion_refuses_another_shell(runner):
    result = runner("completion", "tcsh")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith("Error: Invalid value for '{bash|zsh|fish}': 'tcsh' is not one of 'bash', 'zsh', "
                                  "'fish'.\n")

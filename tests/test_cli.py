"""The command line as a user meets it: exit codes, messages, and each format's content."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import jsonschema
import pytest
import yaml

from launchtier.cli.main import cli
from launchtier.engine import Decision, load_rulebook
from launchtier.engine.decide.decision import Explanation

def default_text() -> str:
    return Path(load_rulebook().source).read_text()


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
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path,command", list(all_commands(cli)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_has_help_with_an_example(runner, path, command):
    result = runner(*path, "--help")
    assert result.exit_code == 0
    assert command.help and len(command.help.split()) > 5
    assert "Example:" in result.output
    assert "launchtier " + path[0] in result.output


def test_version(runner):
    result = runner("--version")
    assert result.exit_code == 0
    assert result.output.startswith("launchtier, version ")


# ---- rules show / schema / template -------------------------------------------------------
def test_rules_show_lists_the_default_rulebook(runner):
    result = runner("rules", "show")
    assert result.exit_code == 0
    book = load_rulebook()
    assert book.hash in result.output
    for name, signal in book.signals.items():
        assert name in result.output and signal.question in result.output
    for rule in book.rules:
        assert rule.id in result.output and rule.because in result.output
    for tier in book.tiers:
        assert f"{tier.id:<8} {tier.label} ({tier.kind})" in result.output
    assert "tier-1: at most 1 per quarter" in result.output


def test_rules_show_json_is_the_rulebook(runner):
    result = runner("rules", "show", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    book = load_rulebook()
    assert data["hash"] == book.hash
    assert [r["id"] for r in data["rules"]] == [r.id for r in book.rules]
    assert list(data["signals"]) == list(book.signals)


def test_rules_show_fails_on_a_bad_rulebook(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(default_text().replace("when: {revenue_motion: new_logo}", "when: {revenue_moton: new_logo}"))
    result = runner("rules", "show", "--rules", bad)
    assert result.exit_code == 2
    assert f"error: {bad}:" in result.stderr
    assert "rules[5] (revenue-new-logo).when.revenue_moton: unknown name 'revenue_moton'; did you mean 'revenue_motion'?" in result.stderr
    assert "Traceback" not in result.output


def test_rules_env_variable_picks_the_rulebook(runner, tmp_path):
    text = default_text().replace('rulebook: default', 'rulebook: team-b')
    (tmp_path / "team.yaml").write_text(text)
    result = runner("rules", "show", env={"LAUNCHTIER_RULES": str(tmp_path / "team.yaml")})
    assert result.exit_code == 0
    assert "Rulebook team-b 2026.11" in result.output


def test_rules_schema_validates_item_files(runner, roadmap):
    result = runner("rules", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(yaml.safe_load(roadmap.read_text())))
    assert not list(validator.iter_errors(yaml.safe_load(PAY_12)))
    broken = yaml.safe_load(PAY_12.replace("customer_reach: 60", "customer_reach: 160"))
    assert list(validator.iter_errors(broken))
    misspelt = yaml.safe_load(PAY_12.replace("audience:", "audiense:"))
    assert list(validator.iter_errors(misspelt))


def test_rules_schema_fails_on_a_missing_rulebook(runner, tmp_path):
    result = runner("rules", "schema", "--rules", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert f"error: {tmp_path / 'nope.yaml'}: no such file" in result.stderr


def test_template_yaml_asks_every_question_and_loads_once_filled(runner, tmp_path):
    result = runner("template")
    assert result.exit_code == 0
    book = load_rulebook()
    for signal in book.signals.values():
        assert signal.question in result.output
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
    assert classified.exit_code == 0, classified.output
    assert json.loads(classified.output)["item"] == "NEW-1"


def test_template_blank_does_not_load_and_says_what_is_missing(runner, tmp_path):
    (tmp_path / "blank.yaml").write_text(runner("template").output)
    result = runner("classify", tmp_path / "blank.yaml")
    assert result.exit_code == 2
    assert "signals.revenue_motion: missing; answer \"Which revenue does it drive?\"" in result.stderr


def test_template_csv_header_has_every_signal(runner):
    result = runner("template", "--format", "csv")
    assert result.exit_code == 0
    header = next(csv.reader(io.StringIO(result.output)))
    assert header[:2] == ["key", "title"]
    assert set(load_rulebook().signals) <= set(header)


def test_template_rejects_an_unknown_format(runner):
    result = runner("template", "--format", "xml")
    assert (result.exit_code, result.stdout) == (2, "")
    # click's usage error (its words are click's): it names the option, the value and the choices
    error = result.stderr.splitlines()[-1]
    assert error.startswith("Error: ") and all(part in error for part in ("'--format'", "'xml'", "'yaml'", "'csv'")), error


# ---- classify ------------------------------------------------------------------------------
def test_classify_table(runner, roadmap):
    result = runner("classify", roadmap)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["KEY", "TITLE", "TIER", "KIND"]
    assert all(len(line) <= 100 for line in lines)
    row = next(line for line in lines if line.startswith("PAY-12 "))
    assert "tier-2 Launch" in row and row.split()[-5:] == ["1", "3", "0", "3", "4"]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_classify_machine_formats_are_the_decision_model(runner, roadmap, fmt):
    result = runner("classify", roadmap, "--format", fmt)
    assert result.exit_code == 0
    rows = json.loads(result.output) if fmt == "json" else [json.loads(line) for line in result.output.splitlines()]
    decisions = [Decision.model_validate(row) for row in rows]
    assert len(decisions) == len(yaml.safe_load(roadmap.read_text())["items"])
    assert [d.model_dump(mode="json") for d in decisions] == rows
    pay12 = next(d for d in decisions if d.item == "PAY-12")
    assert (pay12.tier, pay12.kind) == ("tier-2", "launch")


def test_classify_markdown_and_csv(runner, pay12):
    md = runner("classify", pay12, "--format", "markdown")
    assert md.exit_code == 0
    assert md.output.splitlines()[0].startswith("| Key | Title | Tier | Set by | Kind |")
    assert "| PAY-12 | Usage-based pricing | tier-2 Launch | rules | launch | 1 | 3 | 0 | 3 | 4 |" in md.output
    out = runner("classify", pay12, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert (rows[0]["tier"], rows[0]["set_by"], rows[0]["rules_tier"], rows[0]["launch"]) == ("tier-2", "rules", "tier-2", "4")
    assert "revenue-expansion" in rows[0]["fired"].split(";")


def test_classify_reads_standard_input(runner):
    result = runner("classify", "-", "--format", "jsonl", input=PAY_12)
    assert result.exit_code == 0
    assert json.loads(result.output)["tier"] == "tier-2"


def test_classify_reference_engine_agrees(runner, roadmap):
    durable = runner("classify", roadmap, "--format", "json")
    reference = runner("classify", roadmap, "--format", "json", "--engine", "reference")
    assert durable.exit_code == reference.exit_code == 0
    assert json.loads(durable.output) == json.loads(reference.output)


def test_classify_reports_every_problem_of_every_file_and_exits_2(runner, tmp_path, pay12):
    bad = tmp_path / "bad.yaml"
    bad.write_text(PAY_12.replace("customer_reach: 60", "customer_reach: 160").replace("audience: buyer", "audiance: buyer"))
    result = runner("classify", pay12, bad, tmp_path / "missing.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    err = result.stderr
    assert f"error: {bad}:7: item PAY-12: signals.customer_reach: 160 is not allowed; expected a whole number from 0 to 100" in err
    assert "signals.audiance: unknown signal 'audiance'; did you mean 'audience'?" in err
    assert f"error: {tmp_path / 'missing.yaml'}: no such file" in err
    assert "4 problems; nothing was done." in err


# Every bad input of the rulebook issue, through the CLI: exit 2, one message naming file/item/field.
BAD_ITEMS = {
    "unknown field": (PAY_12.replace("quarter:", "colour: red\nquarter:"), "item PAY-12: colour: unknown field 'colour'"),
    "misspelt signal": (PAY_12.replace("customer_reach", "custmer_reach"), "item PAY-12: signals.custmer_reach: unknown signal 'custmer_reach'; did you mean 'customer_reach'?"),
    "wrong type": (PAY_12.replace("customer_reach: 60", "customer_reach: lots"), "item PAY-12: signals.customer_reach: 'lots' is not allowed; expected a whole number from 0 to 100"),
    "out of range": (PAY_12.replace("customer_reach: 60", "customer_reach: -1"), "item PAY-12: signals.customer_reach: -1 is not allowed; expected a whole number from 0 to 100"),
    "not in enum": (PAY_12.replace("audience: buyer", "audience: buyers"), "item PAY-12: signals.audience: 'buyers' is not allowed; expected one of admin, end_user, buyer; did you mean 'buyer'?"),
    "duplicate key": ("items:\n" + "\n".join("  - " + PAY_12.replace("\n", "\n    ").rstrip() for _ in range(2)), "item PAY-12: key: duplicate key"),
    "yaml syntax": (PAY_12.replace("audience: buyer", "audience: [buyer"), "invalid YAML"),
    "empty": ("", "is empty"),
    "python tag": ("!!python/object/apply:os.system ['echo hi']\n", "unsupported YAML tag"),
    "duplicate yaml key": (PAY_12 + "  audience: admin\n", "duplicate key 'audience'"),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS))
def test_bad_item_files_exit_2_with_a_message(runner, tmp_path, case):
    text, expected = BAD_ITEMS[case]
    path = tmp_path / "items.yaml"
    path.write_text(text)
    result = runner("classify", path)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert result.stderr.startswith(f"error: {path}")
    assert "Traceback" not in result.output


def test_binary_item_file_exits_2(runner, tmp_path):
    path = tmp_path / "items.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = runner("classify", path)
    assert result.exit_code == 2
    assert f"error: {path}: is a binary file, expected UTF-8 text" in result.stderr


def _rulebook_variant(tmp_path, old: str, new: str):
    text = default_text()
    assert old in text
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


BAD_RULEBOOKS = {
    "unknown signal in a rule": ("when: {exec_priority: true}", "when: {exec_priorty: true}", "rules[4] (exec-priority).when.exec_priorty: unknown name 'exec_priorty'; did you mean 'exec_priority'?"),
    "unknown dimension in score": ("score: {market_impact: 3}", "score: {market_impakt: 3}", "rules[0] (new-market).score.market_impakt: unknown dimension 'market_impakt'; did you mean 'market_impact'?"),
    "tier without default": ("    description: A changelog entry.\n", "    description: A changelog entry.\n    when: {parity: {gte: 0}}\n", "the last tier is the default and has no 'when'"),
    "duplicate rule id": ("- id: positioning-strengthens", "- id: positioning-changes", "duplicate rule id 'positioning-changes'"),
    "reserved name": ("  exec_priority:\n    type: bool", "  sid:\n    type: bool", "'sid' is a reserved name"),
}


@pytest.mark.parametrize("case", list(BAD_RULEBOOKS))
def test_bad_rulebooks_exit_2_with_a_message(runner, tmp_path, pay12, case):
    old, new, expected = BAD_RULEBOOKS[case]
    path = _rulebook_variant(tmp_path, old, new)
    result = runner("classify", pay12, "--rules", path)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert f"error: {path}:" in result.stderr


# ---- explain -------------------------------------------------------------------------------
def test_explain_text(runner, pay12):
    result = runner("explain", pay12)
    assert result.exit_code == 0
    out = result.output
    assert "Tier: tier-2 Launch (launch)" in out
    assert "revenue-expansion            lead_generation +2" in out
    assert "✓ launch ≥ 3: has 4" in out
    assert "Why not tier-1 Marketing launch:\n  ✗ market_impact ≥ 2: has 1 (1 short)" in out
    assert "positioning strengthens → changes: tier-1 Marketing launch" in out
    assert "  PM\n" in out and "  PMM\n" in out
    assert "[ ] Pricing and packaging                    Business / Pricing" in out


def test_explain_what_if_changes_the_tier_and_says_what_changed(runner, pay12):
    result = runner("explain", pay12, "--set", "positioning=changes", "--format", "json")
    assert result.exit_code == 0
    ex = Explanation.model_validate_json(result.stdout)
    assert ex.decision.tier == "tier-1"
    assert [(c.signal, c.from_, c.to) for c in ex.changed] == [("positioning", "strengthens", "changes")]
    text = runner("explain", pay12, "--set", "pricing_change=no").output
    assert "What if: pricing_change true → false (changed with --set, not in the file)" in text
    assert "Pricing and packaging" not in text


def test_explain_markdown(runner, pay12):
    result = runner("explain", pay12, "--format", "markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("## PAY-12: Usage-based pricing\n")
    assert "- ✗ market_impact ≥ 2: has 1 (1 short)" in result.output


def test_explain_needs_an_item_when_the_file_has_several(runner, roadmap):
    result = runner("explain", roadmap)
    assert result.exit_code == 2
    assert "choose one with --item KEY" in result.stderr
    result = runner("explain", roadmap, "--item", "PAY-121")
    assert result.exit_code == 2
    assert "no item with key 'PAY-121'; did you mean 'PAY-12'?" in result.stderr


@pytest.mark.parametrize("setting,expected", [
    ("customer_reach=140", "--set: item PAY-12: signals.customer_reach: '140' is not allowed; expected a whole number from 0 to 100"),
    ("custmer_reach=4", "--set: item PAY-12: custmer_reach: unknown signal 'custmer_reach'; did you mean 'customer_reach'?"),
    ("stage", "'stage' is not SIGNAL=VALUE"),
])
def test_explain_bad_what_if(runner, pay12, setting, expected):
    result = runner("explain", pay12, "--set", setting)
    assert result.exit_code == 2
    assert expected in result.stderr


# ---- artifacts -----------------------------------------------------------------------------
def test_artifacts_of_a_tier_grouped_by_owner(runner):
    result = runner("artifacts", "tier-1")
    assert result.exit_code == 0
    out = result.output
    assert out.startswith("tier-1 Marketing launch (launch)")
    pm, pmm = out.index("  PM ("), out.index("  PMM (")
    assert "Press release and analyst briefing" in out[pmm:] if pmm > pm else out[pmm:pm]
    assert "(only when pricing_change = true)" in out


def test_artifacts_of_an_item_apply_the_conditions(runner, pay12):
    result = runner("artifacts", "--item", pay12, "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    ids = {r["artifact"] for r in rows}
    assert "pricing" in ids and "press-release" not in ids
    assert {r["tier"] for r in rows} == {"tier-2"}
    assert {r["owner"] for r in rows} == {"PM", "PMM"}


def test_artifacts_markdown(runner):
    result = runner("artifacts", "tier-4", "--format", "markdown")
    assert result.exit_code == 0
    assert result.output.strip() == "### tier-4 Quiet release (release)\n\n**PM**\n\n- [ ] Changelog entry (Support / Operations)"


def test_artifacts_unknown_tier(runner):
    result = runner("artifacts", "tier-one")
    assert result.exit_code == 2
    assert "unknown tier 'tier-one'" in result.stderr


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

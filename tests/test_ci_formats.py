"""The formats CI tools read: ``rules test --format junit``, ``rules lint --format sarif|github``
and ``rules diff --format markdown``, each compared whole and checked against its schema.

The schemas are vendored under tests/schemas/ (see its README). SARIF is validated with jsonschema
against the official SARIF 2.1.0 schema, JUnit XML with xmlschema (an XSD 1.0/1.1 validator)
against Jenkins' junit-10.xsd.
"""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
import xmlschema

from conftest import DEFAULT_RULEBOOK as DEFAULT, EXAMPLES, ROOT
from launchtier.cli.render import ci
from launchtier.cli.render.safe import xml_text
from launchtier.engine import load_rulebook
from launchtier.engine.rulecheck.lint import CHECKS, Finding
from test_lint import SMALL as LINT_SMALL

SCHEMAS = Path(__file__).resolve().parent / "schemas"


# ---- rules test --format junit --------------------------------------------------------------
JUNIT = xmlschema.XMLSchema(SCHEMAS / "junit-10.xsd")


def junit_problems(xml: str) -> list[tuple[str, str]]:
    """Where and why ``xml`` breaks Jenkins' junit-10.xsd, by an XSD validator (xmlschema)."""
    return [(e.path, e.reason) for e in JUNIT.iter_errors(xml)]


def test_the_junit_schema_finds_what_breaks_it():
    bad = ('<testsuites><testsuite name="a" tests="1" failures="0" oops="1">text<testcase/><x/></testsuite>'
           '</testsuites>')
    assert [path for path, _ in junit_problems(bad)] == [
        "/testsuites/testsuite",             # no errors attribute
        "/testsuites/testsuite",             # oops is no attribute of a testsuite
        "/testsuites/testsuite",             # text between its elements
        "/testsuites/testsuite/testcase",    # a testcase without a name
        "/testsuites/testsuite",             # <x> is not an element of a testsuite
    ]


SIGNALS = ("{revenue_motion: expansion, differentiation: better, customer_reach: 60, audience: buyer, "
           "positioning: strengthens, pricing_change: true, user_action_required: true}")
PRICING = f"""\
- name: Usage-based pricing is a launch
  item:
    signals: {SIGNALS}
  expect: {{tier: tier-2, fired: [revenue-expansion]}}
- name: "A <hostile> & \\"quoted\\" name\\e[2J with a bell \\a, a line\\nbreak and \\uFFFE"
  item:
    key: HOSTILE-1  # a key holds no control character; the name does
    signals: {SIGNALS}
  expect: {{tier: tier-1, not_fired: [revenue-expansion]}}
"""
QUIET = f"""\
name: The same item, one case alone
item:
  signals: {SIGNALS}
expect: {{kind: launch}}
"""


@pytest.fixture
def cases(tmp_path, monkeypatch) -> Path:
    """Two case files under ./cases of the test's own current directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "pricing.yaml").write_text(PRICING, encoding="utf-8")
    (tmp_path / "cases" / "quiet.yaml").write_text(QUIET, encoding="utf-8")
    return tmp_path / "cases"


def test_rules_test_as_junit_a_testsuite_per_file_a_testcase_per_case_and_coverage(runner, golden, cases):
    result = runner("rules", "test", "cases/pricing.yaml", cases / "quiet.yaml", "--rules", DEFAULT,
                    "--min-coverage", "100", "--format", "junit")
    assert (result.exit_code, result.stderr) == (1, "")
    golden("rules-test-junit.xml", result.stdout)
    root = ET.fromstring(result.stdout.encode("utf-8"))
    assert junit_problems(result.stdout) == []
    # the hostile name, as the file holds it, escaped into a well-formed attribute
    name = root.find("testsuite/testcase[2]").get("name")
    assert name == 'A <hostile> & "quoted" name\\x1b[2J with a bell \\x07, a line\\nbreak and \\ufffe'


def test_rules_test_as_junit_without_a_minimum_has_no_coverage_testcase(runner, cases):
    result = runner("rules", "test", "cases/quiet.yaml", "--rules", DEFAULT, "--format", "JUNIT")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites name="launchtier rules test" tests="1" failures="0" errors="0">\n'
        '  <testsuite name="cases/quiet.yaml" tests="1" failures="0" errors="0">\n'
        '    <testcase name="The same item, one case alone" classname="quiet" />\n'
        '  </testsuite>\n'
        '</testsuites>\n')
    assert junit_problems(result.stdout) == []


def test_xml_text_escapes_every_code_point_xml_forbids():
    forbidden = "".join(map(chr, [*range(0x00, 0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0xd800, 0xdfff, 0xfffe, 0xffff]))
    escaped = xml_text(f"a{forbidden}\t\n\r\x7f\x85z")
    assert escaped == ("a\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x0b\\x0c\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15"
                       "\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f\\ud800\\udfff\\ufffe\\uffff\t\\n\\r\\u007f\\u0085z")
    element = ET.Element("testcase", name=escaped)
    assert ET.fromstring(ET.tostring(element, encoding="unicode")).get("name") == escaped


# ---- rules lint --format sarif|github -------------------------------------------------------
# test_lint's small rulebook with a condition that can never hold and no signal saying who can
# change it: an error and a note
SMALL = (LINT_SMALL.replace("{reach: {gte: 50}}", "{reach: {gte: 150}}")
         .replace("question: Motion?, moves: fact}", "question: Motion?}"))
NEVER = "rule wide: 'reach ≥ 150' can never hold (signal reach is 0..100); fix: use a value within 0..100"
NO_MOVES = ("rulebook small: no signal says who can change it (moves), so a review offers a change of any signal as a "
            "close call, a new market or less differentiation included; fix: mark facts with moves: fact, and decisions "
            "made only one way with moves: forward")
SUMMARY = "1 error, 0 warnings, 1 note (exact checks over 2 distinct items); lint failed"


@pytest.fixture
def small(tmp_path, monkeypatch) -> Path:
    """A rulebook with an error on line 9 and a note of no line, in "my rules/" of the current directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my rules").mkdir()
    path = tmp_path / "my rules" / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def sarif_log(uri: str, book: Path) -> dict:
    return {
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "launchtier", "version": version("launchtier"), "rules": [
                {"id": code, "shortDescription": {"text": check.summary}, "defaultConfiguration": {"level": check.level}}
                for code, check in CHECKS.items()]}},
            "results": [
                {"ruleId": "never-holds", "ruleIndex": 0, "level": "error", "message": {"text": NEVER},
                 "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 9}}}]},
                {"ruleId": "no-moves", "ruleIndex": 12, "level": "note", "message": {"text": NO_MOVES},
                 "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}]},
            ],
            "properties": {"rulebook": {"name": "small", "version": "1", "hash": load_rulebook(book).hash}, "itemSpace": 2},
        }],
    }


SARIF_SCHEMA = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def test_rules_lint_as_sarif_is_valid_sarif_2_1_0_with_the_file_relative_to_the_current_directory(runner, small):
    result = runner("rules", "lint", "--rules", "my rules/small.yaml", "--format", "sarif")
    assert (result.exit_code, result.stderr) == (1, "")
    log = json.loads(result.stdout)
    assert log == sarif_log("my%20rules/small.yaml", small)
    jsonschema.Draft4Validator.check_schema(SARIF_SCHEMA)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    assert list(CHECKS)[0] == "never-holds" and list(CHECKS)[12] == "no-moves"


def test_rules_lint_as_sarif_names_a_rulebook_outside_the_current_directory_by_its_file_uri(runner, small, monkeypatch):
    (small.parent.parent / "ci").mkdir()
    monkeypatch.chdir(small.parent.parent / "ci")
    result = runner("rules", "lint", "--rules", small, "--format", "sarif")
    assert (result.exit_code, result.stderr) == (1, "")
    assert json.loads(result.stdout) == sarif_log(small.as_uri(), small)
    assert small.as_uri().startswith("file:///") and "my%20rules/small.yaml" in small.as_uri()


def test_the_sarif_schema_catches_a_broken_log(small):
    log = sarif_log("small.yaml", small)
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)


def test_rules_lint_as_github_annotations(runner, small):
    result = runner("rules", "lint", "--rules", small, "--format", "github")
    assert (result.exit_code, result.stderr) == (1, "")
    assert result.stdout == (f"::error file=my rules/small.yaml,line=9,title=never-holds::{NEVER}\n"
                             f"::notice file=my rules/small.yaml,title=no-moves::{NO_MOVES}\n"
                             f"{SUMMARY}\n")


def test_a_github_annotation_escapes_what_would_end_it_or_forge_another(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    finding = Finding(level="warning", code="tier-gap", where="total a,b", message="100% sure\r\n::error::forged",
                      fix="none: really", file=str(tmp_path / "odd, name: 50%.yaml"), line=3)
    assert ci.github_command(finding) == (
        "::warning file=odd%2C name%3A 50%25.yaml,line=3,title=tier-gap::"
        "total a,b: 100%25 sure%0D%0A::error::forged; fix: none: really")


def test_every_lint_code_has_its_check():
    """A finding's level comes from its check (an unknown code fails where it is added)."""
    source = (ROOT / "engine" / "rulecheck" / "lint.py").read_text(encoding="utf-8")
    assert set(re.findall(r'self\.add\("([a-z-]+)"', source)) == set(CHECKS)
    assert {check.level for check in CHECKS.values()} == {"error", "warning", "note"}


@pytest.mark.parametrize("command, usage, formats", [
    (["rules", "lint"], "rules lint [OPTIONS]", "'text', 'json', 'sarif', 'github'"),
    (["rules", "test"], "rules test [OPTIONS] [CASES]...", "'text', 'json', 'junit'"),
    (["rules", "diff", DEFAULT, DEFAULT], "rules diff [OPTIONS] OLD NEW [FILES]...", "'text', 'json', 'markdown'"),
], ids=["lint", "test", "diff"])
def test_an_unknown_format_is_a_usage_error(runner, command, usage, formats):
    result = runner(*command, "--format", "xml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Usage: cli {usage}\nTry 'cli {' '.join(command[:2])} --help' for help.\n\n"
                             f"Error: Invalid value for '--format': 'xml' is not one of {formats}.\n")


# ---- rules diff --format markdown -----------------------------------------------------------
def test_rules_diff_as_a_pull_request_comment(runner, edited_rulebook, tmp_path):
    new = edited_rulebook(
        ("when: {launch: {gte: 2}}", "when: {launch: {gte: 5}}"),
        ("score: {lead_generation: 2}", "score: {lead_generation: 1}"),
        ("  - id: exec-priority\n", "  - id: exec-sponsor\n"),
        name="new.yaml")
    text = (EXAMPLES / "roadmap.yaml").read_text(encoding="utf-8")
    assert "title: Usage-based pricing\n" in text
    items = tmp_path / "roadmap.yaml"
    items.write_text(text.replace("title: Usage-based pricing\n",
                                  'title: "Usage-based | <img src=x onerror=alert(1)> & \\e[2J pricing"\n'), encoding="utf-8")
    result = runner("rules", "diff", DEFAULT, new, items, "--format", "markdown")
    assert (result.exit_code, result.stderr) == (0, "")
    old_hash, new_hash = load_rulebook().hash[:19], load_rulebook(new).hash[:19]
    expanded = "rule revenue-expansion re-weighted: lead_generation +2 → lead_generation +1"
    added = "rule exec-sponsor added: when exec_priority = true → market_impact +1"
    removed = "rule exec-priority removed: was when exec_priority = true → market_impact +1"
    tier2 = "tier tier-2 condition changed: when launch ≥ 2 → when launch ≥ 5"
    assert result.stdout == "\n".join([
        f"### Rulebook change: default 2026.11.2 (`{old_hash}`) → default 2026.11.2 (`{new_hash}`)",
        "",
        "4 changes:",
        "",
        f"- {added}",
        f"- {expanded}",
        f"- {removed}",
        f"- {tier2}",
        "",
        "**3 of 12 items change tier**",
        "",
        "| Item | Title | Tier | Because |",
        "|---|---|---|---|",
        "| PAY-12 | Usage-based \\| &lt;img src=x onerror=alert(1)&gt; &amp; \\x1b[2J pricing | tier-2 → tier-3 | "
        f"{expanded}<br>{tier2} |",
        f"| PAY-47 | Partner referral API | tier-2 → tier-3 | {added}<br>{removed}<br>{tier2} |",
        f"| PAY-52 | Consolidated billing across legal entities | tier-2 → tier-3 | {tier2} |",
        ""])


def test_rules_diff_as_markdown_of_identical_rulebooks_without_items(runner):
    result = runner("rules", "diff", DEFAULT, DEFAULT, "--format", "markdown")
    short = load_rulebook().hash[:19]
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"### Rulebook change: default 2026.11.2 (`{short}`) → default 2026.11.2 (`{short}`)\n\nNo changes.\n", "")

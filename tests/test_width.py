"""Output that fits the terminal: where the width comes from, no line wider than it, titles cut
with "…" only where a table needs it, nothing cut when piped, and counts with their plurals.

The whole outputs at 80 and 120 columns and piped are golden files (test_golden.py); these tests
hold every line of those outputs, and of the other text reports, to the width.
"""

from __future__ import annotations

import sys
import unicodedata
from types import SimpleNamespace

import click
import pytest

from conftest import DEFAULT_RULEBOOK, GOLDEN, ROOT, write_items
from test_golden import WIDE_CASES

from launchtier.cli import output
from launchtier.cli.render import text as render
from launchtier.cli.render.safe import terminal


def cells(line: str) -> int:
    """Columns a line takes on a terminal, counted apart from the code under test: colours
    none, a wide (CJK) character two, a combining mark none, anything else (→ ✓ ✗ …) one."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in click.unstyle(line))


def too_wide(text: str, width: int) -> list[str]:
    return [line for line in text.splitlines() if cells(line) > width]


# ---- where the width comes from -------------------------------------------------------------
class _Stdout:
    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("columns, tty, terminal, expected", [
    ("80", False, 200, 80),         # COLUMNS first, piped or not
    ("132", True, 200, 132),
    ("10", True, 200, output.MIN_WIDTH),  # narrower than a table can be
    (None, True, 97, 97),           # the terminal's own width
    ("wide", True, 97, 97),         # a COLUMNS that is no number is not there
    (None, False, 97, None),        # piped: to a file or a program
])
def test_width_comes_from_columns_then_the_terminal_else_it_is_piped(monkeypatch, columns, tty, terminal, expected):
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(sys, "stdout", _Stdout(tty))
    monkeypatch.setattr(output.shutil, "get_terminal_size", lambda fallback=(80, 24): SimpleNamespace(columns=terminal))
    assert output.width() == expected


# ---- no line wider than the width -----------------------------------------------------------
@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("case", list(WIDE_CASES))
def test_no_line_of_the_golden_outputs_is_wider_than_the_terminal(case, columns):
    """The golden files at a width (test_golden.py holds each to the command's whole output)."""
    text = (GOLDEN / f"{case}-{columns}.txt").read_text(encoding="utf-8")
    assert text.strip() and too_wide(text, columns) == []


def test_piped_golden_outputs_keep_lines_the_terminal_would_wrap():
    """Piped, a table is as wide as its data and a close call stays on its line."""
    assert max(cells(line) for line in (GOLDEN / "review-piped.txt").read_text(encoding="utf-8").splitlines()) > 100
    assert "Apple Pay and Google Pay in hosted checkout" in (GOLDEN / "classify-piped.txt").read_text(encoding="utf-8")


@pytest.fixture
def history(runner, roadmap):
    """A ledger with the example roadmap recorded, and an override with a long reason."""
    assert runner("record", roadmap, "--by", "Priya Natarajan-Whitfield", "--note", "quarterly planning " * 8).exit_code == 0
    assert runner("override", "PAY-12", "--tier", "tier-1", "--reason", "anchor of the spring campaign " * 5,
                  "--by", "Tom O.", "--approved-by", "Ana L.", "--approved-by", "Lee K.").exit_code == 0
    return runner


@pytest.mark.parametrize("args", [
    ["artifacts", "tier-1"],
    ["artifacts", "--item", "examples/roadmap.yaml", "--item-key", "PAY-38"],
    ["explain", "examples/roadmap.yaml", "--item", "PAY-38"],
    ["rules", "test"],
    ["decisions"],
    ["audit"],
], ids=["artifacts", "artifacts-item", "explain-capacity", "rules-test", "decisions", "audit"])
def test_the_other_text_reports_fit_too(history, args, monkeypatch):
    monkeypatch.chdir(ROOT)
    for columns in (80, 100, 120):
        result = history(*args, env={"COLUMNS": str(columns)})
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() and too_wide(result.stdout, columns) == [], columns


def test_rules_diff_fits(runner, edited_rulebook, roadmap):
    new = edited_rulebook(("when: {launch: {gte: 2}}", "when: {launch: {gte: 5}}"),
                          ("  - id: exec-priority\n", "  - id: exec-sponsor-of-the-quarterly-campaign\n"), name="new.yaml")
    for columns in (80, 120):
        result = runner("rules", "diff", DEFAULT_RULEBOOK, new, "--items", roadmap, env={"COLUMNS": str(columns)})
        assert result.exit_code == 0, result.output
        assert "change tier" in result.stdout and too_wide(result.stdout, columns) == []


# ---- titles: cut at a width, whole when piped -------------------------------------------------
LONG = "Consolidated multi-entity invoicing with per-country tax rules and a very long title indeed"
WIDE = "日本向けの請求書のローカライズと消費税の計算と適格請求書の発行、そして電子帳簿保存法への対応"  # two columns a character


@pytest.fixture
def long_titles(tmp_path):
    item = {"quarter": "2027-Q1", "signals": {"revenue_motion": "expansion", "differentiation": "better",
                                              "customer_reach": 60, "audience": "buyer"}}
    return write_items(tmp_path / "items.json", [{**item, "key": "LONG-1", "title": LONG},
                                                  {**item, "key": "WIDE-1", "title": WIDE}])


@pytest.mark.parametrize("command", ["classify", "review"])
def test_a_table_cuts_a_long_or_wide_title_with_an_ellipsis_at_80_columns(runner, long_titles, command):
    result = runner(command, long_titles, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert too_wide(result.stdout, 80) == []
    assert LONG not in result.stdout and WIDE not in result.stdout
    shown = [line for line in result.stdout.splitlines() if "Consolidated" in line or "日本" in line]
    assert len(shown) == 2 and all(line.rstrip().endswith("…") or "…  " in line for line in shown)


@pytest.mark.parametrize("command", ["classify", "review"])
def test_piped_nothing_is_cut(runner, long_titles, command):
    result = runner(command, long_titles, env={"COLUMNS": None})
    assert result.exit_code == 0, result.output
    assert LONG in result.stdout and WIDE in result.stdout and "…  " not in result.stdout


def test_explain_wraps_a_long_title_under_its_key(runner, long_titles):
    result = runner("explain", long_titles, "--item", "LONG-1", env={"COLUMNS": "80"})
    assert result.stdout.split("\n")[:2] == [
        "LONG-1  Consolidated multi-entity invoicing with per-country tax rules and a",
        "        very long title indeed"]


# ---- plurals --------------------------------------------------------------------------------
def _finding(level: str) -> SimpleNamespace:
    return SimpleNamespace(level=level, file="", line=None, where="rule r", message="m", fix="f")


@pytest.mark.parametrize("levels, summary", [
    (["error", "warning", "note"], "1 error, 1 warning, 1 note"),
    (["error", "error", "note", "note"], "2 errors, 0 warnings, 2 notes"),
])
def test_lint_counts_its_findings_in_the_singular_and_the_plural(levels, summary):
    report = SimpleNamespace(findings=[_finding(level) for level in levels], item_space=1, ok=False)
    assert click.unstyle(render.lint_text(report, 80)).splitlines()[-1] == \
        f"{summary} (exact checks over 1 distinct item); lint failed"


def test_a_checklist_of_one_artifact_of_one_day_says_so():
    art = SimpleNamespace(owner="PM", name="Changelog entry", category="Support / Operations", effort=1)
    assert click.unstyle(terminal(render.checklist_text("tier-4 Quiet release", [("tier-4", art, "")], width=80))) == (
        "tier-4 Quiet release\n"
        "  PM (1 artifact, about 1 day)\n"
        "    [ ] Changelog entry  Support / Operations")


def test_recording_one_item_says_one_decision(runner, tmp_path):
    item = tmp_path / "one.yaml"
    item.write_text("key: ONE-1\ntitle: One item\nquarter: 2027-Q1\n"
                    "signals: {revenue_motion: none, differentiation: none, customer_reach: 5, audience: admin}\n")
    result = runner("record", item, "--by", "Ann")
    assert (result.exit_code, result.stdout.splitlines()[0]) == (
        0, f"recorded 1 decision (#1) in {runner.ledger}: tier-4 1")
    result = runner("review", item, "--record", "--by", "Ann", "--format", "json")
    assert result.exit_code == 0 and result.stderr.splitlines()[0] == f"recorded 1 decision in {runner.ledger}"

"""Filters are checked: a --quarter, --tier or --since that could match nothing is refused with the
allowed form; a ledger that must exist is named when it does not, an optional one gets a notice;
a review report that cannot be written is refused before any work. End to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_items


def usage_error(usage: str, option: str, message: str) -> str:
    """click's report of a bad option value (exit code 2), as the runner shows it."""
    command = usage.split()[0]
    return (f"Usage: cli {usage}\nTry 'cli {command} --help' for help.\n\n"
            f"Error: Invalid value for '{option}': {message}\n")


QUARTER_WORDS = "is not a quarter; write it like 2027-Q1 (a year, then Q1 to Q4), or 'unscheduled'"


@pytest.mark.parametrize("quarter", ["Q2", "2027-Q5", "2027-q1", "2027Q1", "Unscheduled", ""])
@pytest.mark.parametrize("command", ["review", "decisions"])
def test_a_quarter_that_cannot_match_is_refused(runner, roadmap, command, quarter):
    runner("record", roadmap, "--by", "Priya")
    if command == "review":
        result = runner("review", roadmap, "--quarter", quarter)
        usage = "review [OPTIONS] ROADMAP..."
    else:
        result = runner("decisions", "--quarter", quarter)
        usage = "decisions [OPTIONS]"
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == usage_error(usage, "--quarter", f"'{quarter}' {QUARTER_WORDS}")


def test_the_allowed_quarters_pass(runner, roadmap):
    runner("record", roadmap, "--by", "Priya")
    unscheduled = runner("decisions", "--quarter", "unscheduled", "--format", "csv")
    assert unscheduled.exit_code == 0
    assert [line.split(",")[2] for line in unscheduled.stdout.splitlines()[1:]] == ["PAY-70", "PAY-74"]
    later = runner("decisions", "--quarter", "2031-Q4")  # well formed, nothing planned then
    assert (later.exit_code, later.stdout) == (0, "no decisions recorded (that match)\n")


def test_decisions_refuses_a_tier_neither_the_rulebook_nor_the_ledger_knows(backend_runner, roadmap, edited_rulebook):
    runner = backend_runner  # on SQLite and on PostgreSQL
    # the default rulebook with its last tier called 'quiet'
    team = edited_rulebook(("rulebook: default", "rulebook: team"), ("tier-4", "quiet"), name="team.yaml")
    assert runner("record", roadmap, "--by", "Priya", "--rules", team).exit_code == 0
    result = runner("decisions", "--tier", "tier-9")
    assert result.exit_code == 2
    assert result.stderr == usage_error(
        "decisions [OPTIONS]", "--tier",
        "unknown tier 'tier-9'; did you mean 'tier-4'? (tiers of rulebook default 2026.11.2 and of the ledger: "
        "tier-1, tier-2, tier-3, tier-4, quiet)")
    # a tier only the ledger knows, or only the rulebook
    quiet = runner("decisions", "--tier", "quiet", "--format", "csv")
    assert quiet.exit_code == 0
    assert [line.split(",")[2] for line in quiet.stdout.splitlines()[1:]] == ["PAY-57", "PAY-63"]
    none = runner("decisions", "--tier", "tier-4")
    assert (none.exit_code, none.stdout) == (0, "no decisions recorded (that match)\n")
    with_team = runner("decisions", "--tier", "tier-5", "--rules", team)
    assert with_team.exit_code == 2
    assert with_team.stderr == usage_error(
        "decisions [OPTIONS]", "--tier",
        "unknown tier 'tier-5'; did you mean 'tier-3'? (tiers of rulebook team 2026.11.2 and of the ledger: "
        "tier-1, tier-2, tier-3, quiet)")


@pytest.mark.parametrize("since", ["last week", "20270101", "2027-02-30", "2027-01-01T00:00:00Z", "2027-W05-7"])
def test_audit_refuses_a_since_that_is_not_a_date(runner, roadmap, since):
    runner("record", roadmap, "--by", "Priya")
    result = runner("audit", "--since", since)
    assert result.exit_code == 2
    assert result.stderr == usage_error("audit [OPTIONS]", "--since", f"'{since}' is not a date; write it like 2027-01-31")


@pytest.mark.parametrize("command", [
    ["decisions"], ["audit"], ["override", "PAY-12", "--tier", "tier-3", "--reason", "x", "--by", "Tom"]])
@pytest.mark.parametrize("given", ["--db", "LAUNCHTIER_DB"])
def test_a_ledger_that_must_exist_is_named_when_it_does_not(runner, tmp_path, command, given):
    missing = tmp_path / "elsewhere" / "team.db"
    if given == "--db":
        result = runner(*command, "--db", missing)
    else:
        result = runner(*command, env={"LAUNCHTIER_DB": str(missing)})
    assert result.exit_code == 2
    assert result.stdout == ""
    named = "" if given == "--db" else " (from $LAUNCHTIER_DB)"
    assert result.stderr == (
        f"error: {missing}{named}: no ledger here yet; record decisions first (launchtier record FILE --by NAME), or check "
        "the path (--db PATH, else $LAUNCHTIER_DB, else the project config's db, else launchtier.db in the current "
        "directory)\n")


NOTICES = {
    "explain": "explaining without its overrides, recorded items or precedents",
    "review": "reviewing without the changes since the last recorded decisions",
}


@pytest.mark.parametrize("command", ["explain", "review"])
def test_an_optional_ledger_named_but_absent_gets_a_notice(runner, roadmap, tmp_path, monkeypatch, command):
    args = [command, roadmap] + (["--item", "PAY-12"] if command == "explain" else [])
    missing = tmp_path / "nowhere.db"

    from_env = runner(*args)  # the runner's LAUNCHTIER_DB: no ledger recorded there yet
    assert from_env.exit_code == 0
    assert from_env.stderr == f"notice: no ledger at {runner.ledger} (from $LAUNCHTIER_DB); {NOTICES[command]}\n"
    from_option = runner(*args, "--db", missing)
    assert from_option.exit_code == 0
    assert from_option.stderr == f"notice: no ledger at {missing} (from --db); {NOTICES[command]}\n"
    assert from_env.stdout == from_option.stdout

    monkeypatch.chdir(tmp_path)  # neither given, and no launchtier.db here: nothing to say
    monkeypatch.delenv("LAUNCHTIER_DB")
    quiet = runner(*args)
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    assert quiet.stdout == from_env.stdout
    assert not (tmp_path / "launchtier.db").exists()


def test_review_record_creates_the_ledger_without_a_notice(runner, roadmap):
    result = runner("review", roadmap, "--record", "--by", "Priya", "--format", "json")
    assert result.exit_code == 0
    head = json.loads(result.stdout)["head"]
    assert result.stderr == f"recorded 12 decisions in {runner.ledger}\nchain head {head}\n"


@pytest.mark.parametrize("report,expected", [
    ("missing/folder/review.html", "{path}: the folder {parent} does not exist; create it, or give --report a file in an "
                                   "existing folder"),
    ("a-file/review.html", "{path}: {parent} is not a folder; give --report a file in an existing folder"),
    ("review.txt", "{path}: unknown report extension '.txt'; name the file with .md, .markdown, .html, .htm or .json, "
                   "or choose the format with --format table|json|markdown|html"),
    ("review", "{path}: no extension to tell the report's format; name the file with .md, .markdown, .html, .htm or "
               ".json, or choose the format with --format table|json|markdown|html"),
])
def test_a_report_that_cannot_be_written_is_refused_before_anything_is_recorded(runner, roadmap, tmp_path, report, expected):
    (tmp_path / "a-file").write_text("not a folder")
    path = tmp_path / report
    result = runner("review", roadmap, "--report", path, "--record", "--by", "Priya")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "error: " + expected.format(path=path, parent=path.parent) + "\n"
    assert not runner.ledger.exists()


def test_a_report_with_another_extension_takes_its_format_from_the_option(runner, roadmap, tmp_path):
    path = tmp_path / "review.txt"
    result = runner("review", roadmap, "--report", path, "--format", "json", "--db", tmp_path / "none.db")
    assert result.exit_code == 0
    assert result.stderr == (f"notice: no ledger at {tmp_path / 'none.db'} (from --db); {NOTICES['review']}\n"
                             f"wrote json report of 12 items (5 disputed) to {path}\n")
    assert len(json.loads(path.read_text())["items"]) == 12


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full, a file that is always full")
@pytest.mark.parametrize("record", [False, True])
def test_a_report_that_fails_to_write_is_an_error_not_a_traceback(runner, roadmap, record):
    result = runner("review", roadmap, "--report", "/dev/full", "--format", "markdown",
                    *(["--record", "--by", "Priya"] if record else []))
    assert result.exit_code == 2
    recorded = f" (the 12 decisions were recorded in {runner.ledger})" if record else ""
    notice = "" if record else f"notice: no ledger at {runner.ledger} (from $LAUNCHTIER_DB); {NOTICES['review']}\n"
    assert result.stderr == (f"{notice}error: /dev/full: the report cannot be written (No space left on device){recorded}; "
                             "give --report a file that can be written\n")


def _clock(monkeypatch, *times: str) -> None:
    """The ledger's clock gives these times, one per call."""
    ticks = iter(times)
    monkeypatch.setattr("launchtier.engine.ledger.records.now_utc", lambda: next(ticks))


def test_audit_since_limits_every_section_but_integrity_and_says_so(backend_runner, roadmap, tmp_path, monkeypatch):
    runner = backend_runner  # on SQLite and on PostgreSQL
    _clock(monkeypatch, "2027-01-05T09:00:00Z", "2027-02-01T09:00:00Z", "2027-02-02T09:00:00Z")
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    items = json.loads(json.dumps(__import__("yaml").safe_load(roadmap.read_text())))
    pay41 = next(i for i in items["items"] if i["key"] == "PAY-41")
    pay41["signals"]["stage"] = "ga"  # decided again: tier-1
    assert runner("record", write_items(tmp_path / "ga.json", [pay41]), "--by", "Priya").exit_code == 0
    # an override recorded in the window, of a decision recorded before it
    assert runner("override", "PAY-12", "--tier", "tier-1", "--reason", "Anchor of the campaign", "--by", "Tom O.",
                  "--approved-by", "Ana L.", "--approved-by", "Lee K.").exit_code == 0

    result = runner("audit", "--since", "2027-02-01", env={"COLUMNS": None})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"Audit of {runner.ledger} since 2027-02-01",
        "since 2027-02-01: replay, drift, overrides and tiers per quarter cover entries recorded on or after it; "
        "integrity covers the whole chain",
    ]
    assert lines[3:5] == ["1. Integrity: ok", lines[4]] and lines[4].startswith("  14 entries; chain head sha256:")
    assert lines[6:8] == ["2. Reproducibility: ok", "  1 decision replayed under its own rulebook; 0 differ"]
    start = lines.index("4. Overrides: ok")
    assert lines[start:] == [
        "4. Overrides: ok",
        "  1 override; 0 below the approval policy",
        "  #14 2027-02-02T09:00:00Z PAY-12: tier-2 → tier-1 by Tom O. (Ana L., Lee K.): Anchor of the campaign",
        "",
        "5. Tiers per quarter (final tiers, latest decisions): ok",
        "  2027-Q1: tier-1 1",
        "",
        "integrity: ok",
    ]
    data = json.loads(runner("audit", "--since", "2027-02-01", "--format", "json").stdout)
    assert data["window"] == {"since": "2027-02-01", "limited": ["reproducibility", "drift", "overrides", "distribution"],
                              "whole": ["integrity"]}
    assert data["integrity"]["entries"] == 14 and data["drift"]["items_checked"] == 1
    assert data["distribution"] == [{"quarter": "2027-Q1", "tiers": {"tier-1": 1}, "over_capacity": []}]
    markdown = runner("audit", "--since", "2027-02-01", "--format", "markdown").stdout.splitlines()
    assert markdown[:4] == [
        f"# Audit of {str(runner.ledger).replace('&', '&amp;')} since 2027-02-01", "",  # Markdown escapes a URL's &
        "since 2027-02-01: replay, drift, overrides and tiers per quarter cover entries recorded on or after it; "
        "integrity covers the whole chain", ""]

    # without --since: the whole history, and no window line
    whole = runner("audit", env={"COLUMNS": None}).stdout.splitlines()
    assert whole[:2] == [f"Audit of {runner.ledger}", ""]
    assert whole[whole.index("5. Tiers per quarter (final tiers, latest decisions): attention"):][:4] == [
        "5. Tiers per quarter (final tiers, latest decisions): attention",
        "  2027-Q1: tier-1 2, tier-2 1, tier-3 1, tier-4 1  OVER CAPACITY: tier-1: 2 of at most 1 (by override: PAY-12)",
        "  2027-Q2: tier-1 1, tier-2 2, tier-3 1, tier-4 1",  # record applied the capacity
        "  unscheduled: tier-1 1, tier-3 1",
    ]
    assert json.loads(runner("audit", "--format", "json").stdout)["window"] is None

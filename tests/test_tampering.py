"""Tampering anywhere in the ledger file is an integrity failure, never an input error.

The ledger is changed through sqlite3, as someone with the file would (and on PostgreSQL as a
superuser who turns the triggers off, through the same statements): a stored rulebook (its
content, its name and version columns, a row added or deleted), the meta table (a value
changed, a row added or deleted, the table dropped) and each column of an entry. The audit
names each change in its integrity section and exits with code 1, in every format; the other
commands refuse the ledger on one line that says to run the audit (exit code 1 too: the user
typed nothing wrong).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import backend_rows, backend_tamper

from launchtier.engine import load_rulebook
from launchtier.engine.rulebook.model import default_rulebook_path

DECISIONS = [(seq, key) for seq, key in enumerate(
    ["PAY-12", "PAY-31", "PAY-38", "PAY-41", "PAY-44", "PAY-47", "PAY-52", "PAY-57", "PAY-60", "PAY-63", "PAY-70", "PAY-74"],
    start=1)]
OVERRIDE = (13, "PAY-12")  # PAY-12 overridden from tier-2 to tier-1
DEFAULT = load_rulebook().hash
GENESIS = "sha256:" + "0" * 64


def short(hash_: str) -> str:
    return f"{hash_[:19]}…"


def content_hash(text: str) -> str:
    """The hash of a rulebook's JSON text, computed here as the README defines it."""
    canonical = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()



def query(db: Path | str, sql: str):
    return backend_rows(db, sql)


def stored_content(db: Path) -> str:
    return query(db, f"SELECT content FROM rulebooks WHERE hash = '{DEFAULT}'")


# what PostgreSQL's column types refuse to store, whoever asks: no forger can make these changes there
NOT_ON_POSTGRESQL = {"rulebook-content-not-text", "entry-not-text", "entry-not-a-number"}


def tamper(location, *statements) -> None:
    if "://" in str(location) and any(statements == tuple(TAMPERING[n][0]) for n in NOT_ON_POSTGRESQL):
        pytest.skip("PostgreSQL's column types refuse this change to everyone: it cannot be made there")
    backend_tamper(location, *statements)


@pytest.fixture
def recorded(backend_runner, roadmap):
    """A ledger with the 12 roadmap decisions under the default rulebook and one override (on
    SQLite and on PostgreSQL)."""
    runner = backend_runner
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    override = runner("override", "PAY-12", "--tier", "tier-1", "--reason", "Anchor of the campaign", "--by", "Tom",
                      "--approved-by", "Priya", "--approved-by", "Ana")
    assert override.exit_code == 0, override.output
    assert runner("audit").exit_code == 0
    return runner


def other_rulebook_row() -> tuple:
    """A valid rulebook that no entry was recorded under, as launchtier would store it."""
    text = default_rulebook_path().read_text(encoding="utf-8").replace("rulebook: default", "rulebook: other", 1)
    from launchtier.engine import rulebook_from_data
    from launchtier.engine.files.yamlio import parse_yaml

    book = rulebook_from_data(parse_yaml(text, "other.yaml"), file="other.yaml")
    return book.hash, book.name, book.version, book.model_dump_json(), "2026-11-28T09:00:00Z"


def under_changed_rulebook(why: str) -> list[tuple]:
    """Every entry, recorded under the default rulebook, then that rulebook: what is wrong."""
    return ([(s, k, f"its rulebook {short(DEFAULT)} was changed: it cannot be replayed") for s, k in DECISIONS]
            + [(*OVERRIDE, f"its rulebook {short(DEFAULT)} was changed: its approvals cannot be checked")]
            + [(0, "-", f"stored rulebook {short(DEFAULT)} was changed: {why}")])


def now_hashes(db: Path) -> str:
    return f"its content now hashes to {short(content_hash(stored_content(db)))}"


CONTENT = f"UPDATE rulebooks SET content = replace(content, ?, ?) WHERE hash = '{DEFAULT}'"
CHANGED_ENTRY = "its content does not match its hash: the entry was changed"
LINK = "its link to the previous entry does not match: an entry before it was changed, deleted, inserted or reordered"
OTHER = other_rulebook_row()

# name: (statements, the integrity breaks expected as (seq, item, problem); 0 and "-": no entry)
TAMPERING = {
    # the stored rulebook
    "rulebook-content-that-no-longer-loads": (  # one tier-2 made tier-1: a duplicate tier id
        [(CONTENT, ('"id":"tier-2"', '"id":"tier-1"'))], lambda db: under_changed_rulebook(now_hashes(db))),
    "rulebook-content-that-still-loads": (  # at most 5 tier-1 launches a quarter instead of 1
        [(CONTENT, ('"max":1,', '"max":5,'))], lambda db: under_changed_rulebook(now_hashes(db))),
    "rulebook-content-not-json": (
        ["UPDATE rulebooks SET content = substr(content, 1, 200)"], lambda db: under_changed_rulebook("its content is not JSON")),
    "rulebook-content-not-an-object": (
        ["UPDATE rulebooks SET content = '[\"default\"]'"],
        lambda db: under_changed_rulebook("its content is not a rulebook (a JSON object)")),
    "rulebook-content-not-text": (
        ["UPDATE rulebooks SET content = CAST(content AS BLOB)"], lambda db: under_changed_rulebook("its content is not text")),
    "rulebook-name-column": (
        ["UPDATE rulebooks SET name = 'default-forged'"],
        lambda db: under_changed_rulebook("its name column says 'default-forged' and its content 'default'")),
    "rulebook-version-column": (
        ["UPDATE rulebooks SET version = '2027.1'"],
        lambda db: under_changed_rulebook("its version column says '2027.1' and its content '2026.11.2'")),
    "rulebook-added": (
        [("INSERT INTO rulebooks (hash, name, version, content, stored_at) VALUES (?, ?, ?, ?, ?)", OTHER)],
        lambda db: [(0, "-", f"stored rulebook {short(OTHER[0])} is not used by any entry: it was added, "
                             "or the entries recorded under it were deleted")]),
    "rulebook-deleted": (
        ["DELETE FROM rulebooks"],
        lambda db: [(s, k, f"its rulebook {short(DEFAULT)} is not stored in the ledger") for s, k in DECISIONS + [OVERRIDE]]),
    # the meta table
    "meta-value": (["UPDATE meta SET value = 'one'"],
                   lambda db: [(0, "-", "the meta table's schema_version is 'one', not a version launchtier writes")]),
    "meta-value-zero": (["UPDATE meta SET value = '0'"],
                        lambda db: [(0, "-", "the meta table's schema_version is '0', not a version launchtier writes")]),
    "meta-row-added": (["INSERT INTO meta (name, value) VALUES ('owner', 'Mallory')"],
                       lambda db: [(0, "-", "the meta table holds 'owner' = 'Mallory', which launchtier never writes")]),
    "meta-row-deleted": (["DELETE FROM meta"], lambda db: [(0, "-", "the meta table has no schema_version")]),
    "meta-table-dropped": (["DROP TABLE meta"], lambda db: [(0, "-", "the meta table is missing")]),
    # each column of an entry (#5, a decision)
    "entry-seq": (["UPDATE entries SET seq = 105 WHERE seq = 5"],
                  lambda db: [(6, "PAY-47", "sequence jumps from 4 to 6: an entry was deleted or inserted"),
                              (105, "PAY-44", "sequence jumps from 13 to 105: an entry was deleted or inserted")]),
    "entry-kind": (["UPDATE entries SET kind = 'override' WHERE seq = 5"], lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-item_key": (["UPDATE entries SET item_key = 'PAY-99' WHERE seq = 5"], lambda db: [(5, "PAY-99", CHANGED_ENTRY)]),
    "entry-quarter": (["UPDATE entries SET quarter = '2027-Q4' WHERE seq = 5"], lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-computed_tier": (["UPDATE entries SET computed_tier = 'tier-1' WHERE seq = 5"],
                            lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-final_tier": (["UPDATE entries SET final_tier = 'tier-1' WHERE seq = 5"], lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-rulebook_hash": (
        [f"UPDATE entries SET rulebook_hash = 'sha256:{'f' * 64}' WHERE seq = 5"],
        lambda db: [(5, "PAY-44", CHANGED_ENTRY), (5, "PAY-44", "its rulebook sha256:ffffffffffff… is not stored in the ledger")]),
    "entry-item_json": (["UPDATE entries SET item_json = replace(item_json, '\"title\":\"', '\"title\":\"Forged ') WHERE seq = 5"],
                        lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-decision_json": (["UPDATE entries SET decision_json = decision_json || ' ' WHERE seq = 5"],
                            lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-recorded_by": (["UPDATE entries SET recorded_by = 'Mallory' WHERE seq = 5"], lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-recorded_at": (["UPDATE entries SET recorded_at = '2020-01-01T00:00:00Z' WHERE seq = 5"],
                          lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-note": (["UPDATE entries SET note = 'forged' WHERE seq = 5"], lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-reason": (["UPDATE entries SET reason = 'forged' WHERE seq = 5"], lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-approved_by": (["UPDATE entries SET approved_by = '[\"Mallory\"]' WHERE seq = 5"],
                          lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-overrides_seq": (["UPDATE entries SET overrides_seq = 1 WHERE seq = 5"], lambda db: [(5, "PAY-44", CHANGED_ENTRY)]),
    "entry-prev_hash": ([f"UPDATE entries SET prev_hash = '{GENESIS}' WHERE seq = 5"], lambda db: [(5, "PAY-44", LINK)]),
    "entry-entry_hash": ([f"UPDATE entries SET entry_hash = '{GENESIS}' WHERE seq = 5"],
                         lambda db: [(5, "PAY-44", CHANGED_ENTRY), (6, "PAY-47", LINK)]),
    "entry-not-text": (
        ["UPDATE entries SET item_json = x'00ff' WHERE seq = 5"],
        lambda db: [(5, "PAY-44", "it cannot be read (item_json: binary data is not allowed; expected UTF-8 text): "
                                  "the entry was changed")]),
    "entry-not-a-number": (
        ["UPDATE entries SET overrides_seq = 'one' WHERE seq = 5"],
        lambda db: [(5, "PAY-44", "it cannot be read (overrides_seq: 'one' is not allowed; expected a whole number): "
                                  "the entry was changed")]),
}


def expected_integrity(db: Path, breaks: list[tuple]) -> dict:
    return {"ok": False, "entries": query(db, "SELECT COUNT(*) FROM entries"),
            "head": query(db, "SELECT entry_hash FROM entries ORDER BY seq DESC LIMIT 1"),
            "breaks": [{"seq": s, "item": i, "problem": p} for s, i, p in breaks]}


def section_lines(integrity: dict) -> list[str]:
    """The integrity section's lines, as the text and Markdown reports both write them."""
    return [f"{integrity['entries']} entries; chain head {integrity['head']}"] + [
        f"BROKEN at #{b['seq']} (item {b['item']}): {b['problem']}" if b["seq"] else f"BROKEN: {b['problem']}"
        for b in integrity["breaks"]]


def section(output: str, title: str) -> list[str]:
    """The lines of the report from ``title`` to the next blank line (Markdown: the one after)."""
    lines = output.split("\n")
    start = lines.index(title)
    end = lines.index("", start + 2 if title.startswith("#") else start)
    return lines[start:end]


@pytest.mark.slow  # 33 ledgers recorded and audited
@pytest.mark.parametrize("name", TAMPERING)
def test_the_audit_names_each_tampering_and_fails(recorded, name):
    runner = recorded
    statements, breaks = TAMPERING[name]
    tamper(runner.ledger, *statements)
    integrity = expected_integrity(runner.ledger, breaks(runner.ledger))
    lines = section_lines(integrity)

    text = runner("audit", env={"COLUMNS": None})  # piped: a finding a line
    assert (text.exit_code, text.stderr) == (1, "")
    assert section(text.output, "1. Integrity: attention") == ["1. Integrity: attention"] + ["  " + line for line in lines]
    assert text.output.endswith("\n\nintegrity: FAILED\n")

    markdown = runner("audit", "--format", "markdown")
    assert (markdown.exit_code, markdown.stderr) == (1, "")
    assert section(markdown.output, "## 1. Integrity: attention") == ["## 1. Integrity: attention", ""] + [
        "- " + line for line in lines]
    assert markdown.output.endswith("\n**Integrity: FAILED**\n")

    report = runner("audit", "--format", "json")
    assert (report.exit_code, report.stderr) == (1, "")
    assert json.loads(report.output)["integrity"] == integrity


@pytest.mark.slow  # worker processes
@pytest.mark.parametrize("name", ["rulebook-content-that-no-longer-loads", "rulebook-added", "meta-value", "entry-not-text"])
def test_the_audit_over_several_processes_names_the_same_tampering(recorded, name):
    runner = recorded
    statements, breaks = TAMPERING[name]
    tamper(runner.ledger, *statements)
    one, two = runner("audit", "--format", "json"), runner("audit", "--format", "json", "--jobs", "2")
    assert (one.exit_code, two.exit_code, two.stderr) == (1, 1, "")
    assert two.output == one.output
    assert json.loads(two.output)["integrity"] == expected_integrity(runner.ledger, breaks(runner.ledger))


def test_entries_under_a_changed_rulebook_are_never_replayed_under_it(recorded):
    """The changed rulebook would replay PAY-12 and the others under forged rules: none is."""
    runner = recorded
    tamper(runner.ledger, (CONTENT, ('"id":"tier-2"', '"id":"tier-1"')))
    report = json.loads(runner("audit", "--format", "json").output)
    assert report["reproducibility"] == {"ok": True, "checked": 0, "mismatches": []}
    assert report["overrides"] == [] and report["drift"]["items_checked"] == 0


ROADMAP = str(Path(__file__).resolve().parent.parent / "examples" / "roadmap.yaml")
COMMANDS = {
    "decisions": ["decisions"],
    "review": ["review", ROADMAP],
    "explain": ["explain", ROADMAP, "--item", "PAY-31"],
    "override": ["override", "PAY-31", "--tier", "tier-1", "--reason", "Anchor", "--by", "Tom",
                 "--approved-by", "Priya", "--approved-by", "Ana"],
    "record": ["record", ROADMAP, "--by", "Priya"],
}
REFUSED = {  # tampering: what the refusal says is wrong (the first thing found)
    "rulebook-content-that-no-longer-loads": lambda db: f"stored rulebook {short(DEFAULT)} was changed: {now_hashes(db)}",
    "rulebook-content-that-still-loads": lambda db: f"stored rulebook {short(DEFAULT)} was changed: {now_hashes(db)}",
    "rulebook-content-not-json": lambda db: f"stored rulebook {short(DEFAULT)} was changed: its content is not JSON",
    "rulebook-name-column": lambda db: f"stored rulebook {short(DEFAULT)} was changed: its name column says "
                                       "'default-forged' and its content 'default'",
    "rulebook-deleted": lambda db: f"rulebook {short(DEFAULT)}, which entries were recorded under, is not stored",
    "meta-value": lambda db: "the meta table's schema_version is 'one', not a version launchtier writes",
    "meta-row-added": lambda db: "the meta table holds 'owner' = 'Mallory', which launchtier never writes",
    "meta-table-dropped": lambda db: "the meta table is missing",
}


@pytest.mark.slow  # 39 ledgers recorded and read
@pytest.mark.parametrize("command, name", [
    (command, name) for name in REFUSED for command in COMMANDS
    # record stores the rulebook it records under when it is not stored, and reads no other
    if (command, name) != ("record", "rulebook-deleted")])
def test_other_commands_refuse_a_tampered_ledger_on_one_line(recorded, command, name):
    runner = recorded
    tamper(runner.ledger, *TAMPERING[name][0])
    entries = query(runner.ledger, "SELECT COUNT(*) FROM entries")
    result = runner(*COMMANDS[command])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (f"error: {runner.ledger} was changed outside launchtier ({REFUSED[name](runner.ledger)}); "
                             "run launchtier audit to see every change\n")
    assert query(runner.ledger, "SELECT COUNT(*) FROM entries") == entries  # nothing recorded


def test_a_stored_rulebook_a_command_does_not_need_is_not_checked_by_it(recorded):
    """Only the audit checks every stored rulebook; a command checks the ones it uses."""
    runner = recorded
    tamper(runner.ledger, *TAMPERING["rulebook-added"][0],
           f"UPDATE rulebooks SET content = '{{}}' WHERE hash = '{OTHER[0]}'")
    assert runner("decisions", "--item", "PAY-12").exit_code == 0
    assert runner("audit").exit_code == 1

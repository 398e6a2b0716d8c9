"""The ledger as evidence: a damaged, wiped, replaced or re-chained ledger never crashes a
command, is never changed by one that only reads it, and fails the audit.

Each case changes a recorded ledger as someone with the file would, then runs the readers (the
audit, also over two processes, decisions, review, explain) through the CLI: the exit code, the
whole message, and the ledger's bytes after they ran.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from launchtier.engine import load_rulebook

from conftest import EXAMPLES, backend_rows, backend_tamper, tamper

ROADMAP = EXAMPLES / "roadmap.yaml"
DEFAULT = load_rulebook().hash
SHORT = f"{DEFAULT[:19]}…"
AUDIT_HINT = "; run launchtier audit to see every change"
READERS = {
    "audit": ["audit"],
    "audit --jobs 2": ["audit", "--jobs", "2"],
    "decisions": ["decisions"],
    "review": ["review", str(ROADMAP)],
    "explain": ["explain", str(ROADMAP), "--item", "PAY-12"],
}


def cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    """launchtier in a process of its own: a crash or a hang cannot pass for an answer."""
    return subprocess.run([sys.executable, "-c", "from launchtier.cli.main import main; main()", *args, "--db", str(db)],
                          capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})  # no COLUMNS: piped


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A ledger with the 12 roadmap decisions and one override (#13, of PAY-12)."""
    db = tmp_path_factory.mktemp("pristine") / "launchtier.db"
    assert cli("record", str(ROADMAP), "--by", "Priya", db=db).returncode == 0
    done = cli("override", "PAY-12", "--tier", "tier-1", "--reason", "Anchor", "--by", "Tom", "--approved-by", "Priya",
               "--approved-by", "Ana", db=db)
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def ledger(pristine, tmp_path) -> Path:
    db = tmp_path / "launchtier.db"
    shutil.copy(pristine, db)
    return db



def digest(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


def cut_last_1000_bytes(db: Path) -> None:
    db.write_bytes(db.read_bytes()[:-1000])


def wipe(db: Path) -> None:
    db.write_bytes(b"")


def not_sqlite(db: Path) -> None:
    db.write_text("these are notes, not a ledger\n" * 20)


def other_database(db: Path) -> None:
    db.unlink()
    tamper(db, "CREATE TABLE notes (text TEXT)")


def rulebook(content: str) -> str:
    return f"UPDATE rulebooks SET content = '{content}'"


ENTRY_DAMAGE = "entry #13 cannot be read: "
# name: (the change, what the commands other than the audit say in their parentheses, the
# integrity line of the audit, or None when the audit refuses the file on one line too)
CASES = {
    "rulebook-cut-off": ([rulebook('{"rulebook": "defa')], f"stored rulebook {SHORT} was changed: its content is not JSON",
                         f"BROKEN: stored rulebook {SHORT} was changed: its content is not JSON"),
    **{f"rulebook-{name}": ([rulebook(text)], f"stored rulebook {SHORT} was changed: its content is not a rulebook (a JSON object)",
                            f"BROKEN: stored rulebook {SHORT} was changed: its content is not a rulebook (a JSON object)")
       for name, text in [("null", "null"), ("list", "[]"), ("number", "42")]},
    "approvers-not-json": (["UPDATE entries SET approved_by = 'Priya, Ana' WHERE seq = 13"],
                           ENTRY_DAMAGE + "approved_by: not JSON; expected a JSON list of names (got 'Priya, Ana')",
                           "BROKEN at #13 (item PAY-12): it cannot be read (approved_by: not JSON; expected a JSON list of "
                           "names (got 'Priya, Ana')): the entry was changed"),
    "approvers-an-object": (["""UPDATE entries SET approved_by = '{"Priya": 1}' WHERE seq = 13"""],
                            ENTRY_DAMAGE + """approved_by: not a JSON list of names (got '{"Priya": 1}')""",
                            """BROKEN at #13 (item PAY-12): it cannot be read (approved_by: not a JSON list of names (got """
                            """'{"Priya": 1}')): the entry was changed"""),
    "kind-unknown": (["UPDATE entries SET kind = 'veto' WHERE seq = 13"],
                     ENTRY_DAMAGE + "kind: 'veto' is not allowed; expected one of decision, override",
                     "BROKEN at #13 (item PAY-12): it cannot be read (kind: 'veto' is not allowed; expected one of "
                     "decision, override): the entry was changed"),
    **{f"schema-version-{v}": ([f"UPDATE meta SET value = '{v}'"],
                               f"the meta table's schema_version is '{v}', not a version launchtier writes",
                               f"BROKEN: the meta table's schema_version is '{v}', not a version launchtier writes")
       for v in ["abc", "1.0", "-1"]},
    "meta-row-deleted": (["DELETE FROM meta"], "the meta table has no schema_version", "BROKEN: the meta table has no schema_version"),
    "entries-dropped": (["DROP TABLE entries"], "its entries table is missing", None),
    "rulebooks-dropped": (["DROP TABLE rulebooks"], "its rulebooks table is missing", None),
    "meta-and-entries-dropped": (["DROP TABLE meta", "DROP TABLE entries"], "its entries table is missing", None),
    "entries-made-again": (["DROP TABLE entries", "CREATE TABLE entries (seq INTEGER PRIMARY KEY, kind TEXT, item_key TEXT)"],
                           "its entries table lacks the columns quarter, computed_tier, final_tier, rulebook_hash, item_json, "
                           "decision_json, recorded_by, recorded_at, note, reason, approved_by, overrides_seq, prev_hash, "
                           "entry_hash", None),
    "rulebook-column-dropped": (["ALTER TABLE rulebooks DROP COLUMN stored_at"],
                                "its rulebooks table lacks the column stored_at", None),
}


@pytest.mark.slow  # a process per command: seconds each
@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("name", CASES)
def test_a_damaged_ledger_is_refused_or_audited_never_a_crash_and_never_changed(ledger, name, reader):
    statements, problem, broken = CASES[name]
    tamper(ledger, *statements)
    before = digest(ledger)
    result = cli(*READERS[reader], db=ledger)
    assert digest(ledger) == before
    if not reader.startswith("audit"):
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == f"error: {ledger} was changed outside launchtier ({problem}){AUDIT_HINT}\n"
    elif broken is None:
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == f"error: {ledger} was changed outside launchtier ({problem})\n"
    else:
        assert (result.returncode, result.stderr) == (1, "")
        lines = result.stdout.split("\n")
        assert "  " + broken in lines
        assert lines[-2:] == ["integrity: FAILED", ""]


@pytest.mark.slow  # a process per command: seconds each
@pytest.mark.parametrize("name", ["entries-dropped", "rulebooks-dropped", "entries-made-again"])
def test_a_writer_refuses_a_ledger_without_its_tables_or_columns(ledger, name):
    statements, problem, _ = CASES[name]
    tamper(ledger, *statements)
    before = digest(ledger)
    for command in (["record", str(ROADMAP), "--by", "Priya"],
                    ["override", "PAY-31", "--tier", "tier-1", "--reason", "r", "--by", "Tom", "--approved-by", "Ana",
                     "--approved-by", "Priya"]):
        result = cli(*command, db=ledger)
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == f"error: {ledger} was changed outside launchtier ({problem}){AUDIT_HINT}\n"
    assert digest(ledger) == before


@pytest.mark.slow  # a process per command: seconds each
@pytest.mark.parametrize("reader", READERS)
def test_a_ledger_cut_short_is_named_never_a_crash(ledger, reader):
    cut_last_1000_bytes(ledger)
    before = digest(ledger)
    result = cli(*READERS[reader], db=ledger)
    assert digest(ledger) == before
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    if reader.startswith("audit"):
        assert result.stderr == ""
        assert result.stdout.split("\n")[2:6] == [
            "1. Integrity: attention", "  13 entries; chain head (unreadable)",
            "  BROKEN at #13 (item PAY-12): it cannot be read (approved_by: not JSON; expected a JSON list of names "
            "(got '" + "\\x00" * 15 + "')): the entry was changed", ""]
        assert result.stdout.endswith("\n\nintegrity: FAILED\n")
    else:
        assert result.stdout == ""
        assert result.stderr == (f"error: {ledger} was changed outside launchtier ({ENTRY_DAMAGE}approved_by: not JSON; "
                                 "expected a JSON list of names (got '" + "\\x00" * 15 + "'))" + AUDIT_HINT + "\n")


NOT_A_LEDGER = {
    "wiped": (wipe, "is empty: not a ledger"),
    "not-sqlite": (not_sqlite, "is not a ledger: SQLite cannot read it (file is not a database)"),
    "another-database": (other_database, "is not a ledger: an SQLite database without launchtier's tables"),
}


@pytest.mark.slow  # a process per command: seconds each
@pytest.mark.parametrize("reader", [*READERS, "classify"])
@pytest.mark.parametrize("name", NOT_A_LEDGER)
def test_a_file_that_is_not_a_ledger_is_refused_on_one_line_and_left_as_it_is(ledger, name, reader):
    make, problem = NOT_A_LEDGER[name]
    make(ledger)
    before = digest(ledger)
    result = cli(*READERS.get(reader, ["classify", str(ROADMAP)]), db=ledger)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"error: {ledger} {problem}\n")
    assert digest(ledger) == before


def test_an_override_does_not_make_a_ledger_of_a_wiped_file(runner):
    runner.ledger.write_bytes(b"")
    result = runner("override", "PAY-12", "--tier", "tier-1", "--reason", "r", "--by", "Tom")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: {runner.ledger} is empty: not a ledger\n"
    assert runner.ledger.read_bytes() == b""


def test_readers_leave_a_sound_ledger_byte_for_byte(runner, roadmap):
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    before = runner.ledger.read_bytes()
    for args in READERS.values():
        assert runner(*args).exit_code == 0
    assert runner("classify", roadmap).exit_code == 0
    assert runner("artifacts", roadmap, "--item", "PAY-12").exit_code == 0
    assert runner.ledger.read_bytes() == before


def _head(output: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith("chain head ")]
    return line.removeprefix("chain head ")


def test_expect_head_passes_the_head_and_an_entry_that_later_ones_follow(backend_runner, roadmap):
    runner = backend_runner  # on SQLite and on PostgreSQL
    head = _head(runner("record", roadmap, "--by", "Priya").output)
    same = runner("audit", "--expect-head", head)
    assert (same.exit_code, same.stderr) == (0, "")
    assert same.stdout.split("\n")[2:6] == ["1. Integrity: ok", f"  12 entries; chain head {head}",
                                            "  chain head as expected (--expect-head)", ""]
    later = _head(runner("record", roadmap, "--by", "Priya").output)
    since = runner("audit", "--expect-head", head)
    assert (since.exit_code, since.stderr) == (0, "")
    assert since.stdout.split("\n")[2:6] == [
        "1. Integrity: ok", f"  24 entries; chain head {later}",
        f"  expected chain head {head[:19]}… is entry #12; the entries after it were recorded since", ""]


def test_expect_head_fails_when_the_newest_entries_were_deleted(backend_runner, roadmap):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    head = _head(runner("record", roadmap, "--by", "Priya").output)
    backend_tamper(runner.ledger, "DELETE FROM entries WHERE seq > 20")
    left = backend_rows(runner.ledger, "SELECT entry_hash FROM entries WHERE seq = 20")
    result = runner("audit", "--expect-head", head, env={"COLUMNS": None})
    assert (result.exit_code, result.stderr) == (1, "")
    assert result.stdout.split("\n")[2:6] == [
        "1. Integrity: attention", f"  20 entries; chain head {left}",
        f"  BROKEN: 20 entries where chain head {head} was expected: no entry has that hash: entries were deleted "
        "from the end, or the ledger was replaced", ""]
    assert result.stdout.endswith("\n\nintegrity: FAILED\n")


def test_expect_head_fails_on_an_emptied_ledger_and_says_0_entries(backend_runner, roadmap):
    runner = backend_runner  # on SQLite and on PostgreSQL
    head = _head(runner("record", roadmap, "--by", "Priya").output)
    backend_tamper(runner.ledger, "DELETE FROM entries", "DELETE FROM rulebooks")
    plain = runner("audit")
    assert (plain.exit_code, plain.stderr) == (0, "")
    assert plain.stdout.split("\n")[2:4] == ["1. Integrity: ok", "  0 entries: the ledger is empty; chain head (empty)"]
    assert plain.stdout.endswith("\n\nintegrity: ok (0 entries: the ledger is empty)\n")
    expected = runner("audit", "--expect-head", head, env={"COLUMNS": None})
    assert (expected.exit_code, expected.stderr) == (1, "")
    assert expected.stdout.split("\n")[2:6] == [
        "1. Integrity: attention", "  0 entries: the ledger is empty; chain head (empty)",
        f"  BROKEN: 0 entries where chain head {head} was expected: the ledger was wiped or replaced", ""]
    assert expected.stdout.endswith("\n\nintegrity: FAILED\n")
    markdown = runner("audit", "--expect-head", head, "--format", "markdown")
    assert markdown.exit_code == 1 and markdown.stdout.endswith("\n**Integrity: FAILED**\n")


def test_expect_head_takes_only_a_chain_head(runner):
    result = runner("audit", "--expect-head", "70e5c7ab")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == ("Error: Invalid value for '--expect-head': '70e5c7ab' is not a chain head; "
                                              "give the one record printed, like sha256: and 64 hexadecimal digits")


def test_a_rechained_forgery_fails_the_audit_and_says_what_it_means(backend_runner, roadmap):
    runner = backend_runner  # on SQLite and on PostgreSQL
    from test_ledger import _rechain

    runner("record", roadmap, "--by", "Priya")
    backend_tamper(runner.ledger, "UPDATE entries SET computed_tier = 'tier-1', final_tier = 'tier-1', "
                                  "decision_json = replace(decision_json, '\"tier\":\"tier-4\"', '\"tier\":\"tier-1\"') "
                                  "WHERE item_key = 'PAY-63'")
    _rechain(runner.ledger)
    for jobs in ("1", "2"):
        result = runner("audit", "--jobs", jobs, env={"COLUMNS": None})
        assert (result.exit_code, result.stderr) == (1, "")
        lines = result.stdout.split("\n")
        assert lines[2] == "1. Integrity: ok"
        start = lines.index("2. Reproducibility: attention")
        assert lines[start:start + 5] == [
            "2. Reproducibility: attention",
            "  12 decisions replayed under their own rulebooks; 1 differs",
            "  #10 PAY-63: recorded tier-1 (differentiation-none), replays as tier-4 (differentiation-none)",
            "  a decision that does not replay under its own rulebook means tampering (an entry rewritten and the "
            "chain recomputed) or a fault of the engine",
            ""]
        assert lines[-2:] == ["integrity: FAILED: 1 decision does not replay (tampering or an engine fault)", ""]
    markdown = runner("audit", "--format", "markdown")
    assert markdown.exit_code == 1
    assert markdown.stdout.endswith(
        "\n**Integrity: FAILED: 1 decision does not replay (tampering or an engine fault)**\n")

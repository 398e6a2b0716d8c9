"""Faults while recording: a killed process, a full disk, a read-only ledger, an old or new schema.

Whatever happens, a batch is all or nothing: the ledger holds the batch whole or is as it was,
the chain verifies, and the audit passes. Several writers at once are tested in test_ledger.py
(test_four_processes_recording_at_once_lose_nothing), a single kill in the middle of a 6,000-item
transaction there too; here the kills come at random points of a 10,000-item batch.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import document, make_items, write_items

from launchtier.engine.ledger import schema as schema_module
from launchtier.engine.ledger import sqlite as ledger_module
from launchtier.engine.errors import LedgerError
from launchtier.engine.ledger.chain import verify_chain
from launchtier.engine.ledger.sqlite import SCHEMA_VERSION, Ledger

CLI = [sys.executable, "-c", "from launchtier.cli.main import main; main()"]


def snapshot(db: Path) -> list[tuple]:
    """Every entry as stored, and the stored rulebooks: what must not change after a failure."""
    conn = sqlite3.connect(db)
    try:
        entries = conn.execute("SELECT seq, item_key, entry_hash FROM entries ORDER BY seq").fetchall()
        books = conn.execute("SELECT hash FROM rulebooks ORDER BY hash").fetchall()
        return entries + books
    finally:
        conn.close()


def count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    finally:
        conn.close()


def chain_ok(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    with Ledger(db) as ledger:
        entries = list(ledger.entries())
    assert verify_chain(entries) == []
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHTIER_")}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


# ---- SIGKILL in the middle of a 10,000-item batch ------------------------------------------


@pytest.mark.slow  # child processes killed in a 10,000-item batch; the disk faults below are simulated in process
def test_record_killed_at_random_points_of_a_10000_item_batch_is_all_or_nothing(tmp_path):
    db = tmp_path / "ledger.db"
    wal = Path(f"{db}-wal")
    setup = write_items(tmp_path / "setup.json", make_items(20, seed=1, prefix="A"))
    assert cli("record", setup, "--by", "setup", "--db", db).returncode == 0
    batch = write_items(tmp_path / "batch.json", make_items(10_000, seed=2, prefix="B"))
    rng = random.Random(20270101)
    expected = count(db)
    outcomes = []

    def record():
        return subprocess.Popen([*CLI, "record", str(batch), "--by", "victim", "--db", str(db)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def after(proc, how):
        nonlocal expected
        proc.wait(timeout=60)
        now = count(db)
        # all or nothing: unchanged, or the whole batch (when the kill came after the commit):
        # its 10,000 items and the setup's items whose place in a quarter's capacity it changed
        assert now == expected or expected + 10_000 <= now <= expected + 10_020, (
            f"{how}: {now} entries, expected {expected} or {expected + 10_000} to {expected + 10_020}")
        chain_ok(db)
        outcomes.append((how, now - expected))
        expected = now

    # several kills at random moments: starting up, reading, classifying, writing
    for delay in sorted(rng.uniform(0.05, 2.0) for _ in range(4)):
        proc = record()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        after(proc, f"SIGKILL after {delay:.2f} s")

    # and kills while the transaction is being written: once its pages reach the write-ahead log
    midway = 0
    for sig in (signal.SIGKILL, signal.SIGKILL, signal.SIGINT):  # SIGINT: Ctrl-C
        before = wal.stat().st_size if wal.exists() else 0
        proc = record()
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if wal.exists() and wal.stat().st_size > before + 256 * 1024:
                break
            time.sleep(0.002)
        writing = proc.poll() is None
        proc.send_signal(sig)
        after(proc, f"{signal.Signals(sig).name} while writing")
        if writing and outcomes[-1][1] == 0:
            midway += 1
    assert midway >= 2, f"no kill landed inside the write transaction: {outcomes}"

    audit = cli("audit", "--db", db, timeout=300)
    assert audit.returncode == 0, audit.stdout[-2000:] + audit.stderr[-2000:]
    assert (audit.stdout.splitlines()[-1], audit.stderr) == ("integrity: ok", "")


# ---- a full disk ---------------------------------------------------------------------------


def limit_pages(monkeypatch, extra_pages: int) -> None:
    """A real "database or disk is full" from SQLite: the ledger may grow by ``extra_pages`` only."""
    connect = ledger_module._connect

    def small_disk(path, readonly):
        conn = connect(path, readonly)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + extra_pages}").fetchone()
        return conn

    monkeypatch.setattr(ledger_module, "_connect", small_disk)


class FailingConnection:
    """A connection whose statements matching ``when`` raise ``error`` (SQLite's own text)."""

    def __init__(self, conn: sqlite3.Connection, when, error: str):
        self._conn, self._when, self._error = conn, when, error

    def execute(self, sql: str, *args):
        if self._when(sql):
            raise sqlite3.OperationalError(self._error)
        return self._conn.execute(sql, *args)

    def executemany(self, sql: str, rows):
        # row by row, so that a statement can fail part-way through a batch, as SQLite's does
        for row in rows:
            self.execute(sql, row)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def fail_when(monkeypatch, when, error: str) -> None:
    connect = ledger_module._connect
    monkeypatch.setattr(ledger_module, "_connect", lambda path, readonly: FailingConnection(connect(path, readonly), when, error))


def recorded(runner, roadmap) -> list[tuple]:
    result = runner("record", roadmap, "--by", "Priya")
    assert result.exit_code == 0, result.output
    return snapshot(runner.ledger)


def assert_nothing_half_written(runner, before: list[tuple]) -> None:
    assert snapshot(runner.ledger) == before
    chain_ok(runner.ledger)
    audit = runner("audit")
    assert audit.exit_code == 0, audit.output
    assert (audit.stdout.splitlines()[-1], audit.stderr) == ("integrity: ok", "")


def test_a_full_disk_in_the_middle_of_a_batch_records_nothing_and_says_what_to_do(runner, roadmap, tmp_path, monkeypatch):
    before = recorded(runner, roadmap)
    batch = write_items(tmp_path / "batch.json", make_items(500, seed=3, prefix="F"))
    with monkeypatch.context() as patch:
        limit_pages(patch, extra_pages=20)  # room for some of the 500 decisions, not all
        result = runner("record", batch, "--by", "Priya")
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line == (
        f"error: {runner.ledger}: nothing was recorded (database or disk is full): the disk holding "
        f"{runner.ledger} is full; free some space and run the command again (the ledger is unchanged)"
    )
    assert_nothing_half_written(runner, before)


def test_a_full_disk_at_commit_records_nothing(runner, roadmap, tmp_path, monkeypatch):
    before = recorded(runner, roadmap)
    batch = write_items(tmp_path / "batch.json", make_items(50, seed=4, prefix="C"))
    with monkeypatch.context() as patch:
        fail_when(patch, lambda sql: sql == "COMMIT", "database or disk is full")
        result = runner("record", batch, "--by", "Priya")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {runner.ledger}: nothing was recorded (database or disk is full): the disk holding "
        f"{runner.ledger} is full; free some space and run the command again (the ledger is unchanged)\n")
    assert_nothing_half_written(runner, before)


def test_a_disk_error_on_one_insert_records_nothing(runner, roadmap, tmp_path, monkeypatch):
    before = recorded(runner, roadmap)
    batch = write_items(tmp_path / "batch.json", make_items(50, seed=5, prefix="D"))
    inserts = iter(range(10_000))
    with monkeypatch.context() as patch:
        fail_when(patch, lambda sql: sql.startswith("INSERT INTO entries") and next(inserts) == 30, "disk I/O error")
        result = runner("record", batch, "--by", "Priya")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {runner.ledger}: nothing was recorded (disk I/O error): the disk failed while writing "
        f"{runner.ledger}; check the disk, then run the command again\n")
    assert_nothing_half_written(runner, before)


def test_a_full_disk_during_an_override_records_nothing(runner, roadmap, monkeypatch):
    before = recorded(runner, roadmap)
    with monkeypatch.context() as patch:
        limit_pages(patch, extra_pages=0)
        result = runner("override", "PAY-63", "--tier", "tier-3", "--reason", "Support asked for notes", "--by", "Tom")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {runner.ledger}: the override was not recorded (database or disk is full)")
    assert_nothing_half_written(runner, before)


# ---- a read-only ledger --------------------------------------------------------------------


def _immutable(path: Path, on: bool) -> bool:
    """chattr +i: a file even root cannot write (chmod does not stop root). False if unavailable."""
    if not shutil.which("chattr"):
        return False
    done = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True).returncode == 0
    if on and done:
        probe = path / ".probe" if path.is_dir() else path
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_APPEND | os.O_CREAT))
        except PermissionError:
            return True
        finally:
            if probe != path and probe.exists():
                probe.unlink()
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        return False
    return done


@contextlib.contextmanager
def read_only(target: Path, monkeypatch):
    """The ledger made read-only for real when the machine allows (chattr +i), else opened by
    SQLite in read-only mode (mode=ro): either way SQLite itself refuses the write."""
    if _immutable(target, True):
        try:
            yield "chattr +i"
        finally:
            _immutable(target, False)
    else:
        connect = ledger_module._connect
        with monkeypatch.context() as patch:
            patch.setattr(ledger_module, "_connect", lambda path, readonly: connect(path, True))
            yield "mode=ro"


def test_a_read_only_ledger_file_refuses_record_clearly_and_loses_nothing(runner, roadmap, monkeypatch):
    before = recorded(runner, roadmap)
    with read_only(runner.ledger, monkeypatch):
        result = runner("record", roadmap, "--by", "Priya")
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.strip() == (
            f"error: {runner.ledger}: nothing was recorded (attempt to write a readonly database): the ledger cannot be "
            "written; SQLite needs to write launchtier.db and, beside it, launchtier.db-wal and launchtier.db-shm: check "
            f"the permissions of the file and of {runner.ledger.parent}, or use another ledger with --db"
        )
        listed = runner("decisions", "--format", "json")  # what is there can still be read
        assert listed.exit_code == 0 and len(document(listed.output)["decisions"]) == 12
    assert_nothing_half_written(runner, before)


def test_a_ledger_in_a_read_only_directory_refuses_record_clearly_and_loses_nothing(runner, roadmap, monkeypatch):
    before = recorded(runner, roadmap)
    with read_only(runner.ledger.parent, monkeypatch) as how:
        result = runner("record", roadmap, "--by", "Priya")
        assert result.exit_code == 2
        assert result.stdout == ""
        message = result.stderr.strip()
        assert message.startswith(f"error: {runner.ledger}: ")
        if how == "chattr +i":
            # SQLite cannot create the -shm file a WAL ledger needs beside it
            assert "cannot be opened (unable to open database file)" in message
            assert f"check that {runner.ledger.parent} exists and can be written, or use another ledger with --db" in message
        else:
            assert "nothing was recorded (attempt to write a readonly database)" in message
    assert_nothing_half_written(runner, before)


# ---- schema versions -----------------------------------------------------------------------


def test_a_newer_ledger_is_refused_by_every_command_with_what_to_do_and_left_alone(runner, roadmap):
    before = recorded(runner, roadmap)
    conn = sqlite3.connect(runner.ledger)
    conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    for args in (["record", roadmap, "--by", "Priya"], ["decisions"], ["audit"]):
        result = runner(*args)
        assert result.exit_code == 2, args
        assert result.stderr.strip() == (
            f"error: {runner.ledger}: ledger schema version {SCHEMA_VERSION + 1} is newer than this launchtier "
            f"understands ({SCHEMA_VERSION}); upgrade launchtier to use this ledger"
        )
    assert snapshot(runner.ledger) == before


# The schema of version 1 as it shipped, typed out here rather than taken from MIGRATIONS: a
# ledger written by the first release must stay readable whatever later releases change.
SCHEMA_V1 = """
CREATE TABLE meta (name VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rulebooks (hash VARCHAR(80) PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL,
    content TEXT NOT NULL, stored_at VARCHAR(32) NOT NULL);
CREATE TABLE entries (seq INTEGER PRIMARY KEY, kind VARCHAR(16) NOT NULL, item_key TEXT NOT NULL,
    quarter VARCHAR(16), computed_tier TEXT NOT NULL, final_tier TEXT NOT NULL,
    rulebook_hash VARCHAR(80) NOT NULL REFERENCES rulebooks(hash), item_json TEXT NOT NULL,
    decision_json TEXT NOT NULL, recorded_by TEXT NOT NULL, recorded_at VARCHAR(32) NOT NULL, note TEXT,
    reason TEXT, approved_by TEXT, overrides_seq INTEGER, prev_hash VARCHAR(80) NOT NULL,
    entry_hash VARCHAR(80) NOT NULL UNIQUE);
CREATE INDEX entries_item ON entries (item_key, seq);
INSERT INTO meta (name, value) VALUES ('schema_version', '1');
"""


def test_a_version_0_database_is_migrated_and_its_other_tables_are_kept(runner, roadmap):
    conn = sqlite3.connect(runner.ledger)
    conn.executescript("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('kept');")
    conn.close()
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    with Ledger(runner.ledger) as ledger:
        assert ledger.schema_version() == SCHEMA_VERSION
    conn = sqlite3.connect(runner.ledger)
    assert conn.execute("SELECT text FROM notes").fetchall() == [("kept",)]
    conn.close()
    assert runner("audit").exit_code == 0


def test_a_version_1_ledger_made_by_hand_is_used_as_it_is(runner, roadmap):
    conn = sqlite3.connect(runner.ledger)
    conn.executescript(SCHEMA_V1)
    conn.close()
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    assert runner("override", "PAY-63", "--tier", "tier-3", "--reason", "Support asked", "--by", "Tom").exit_code == 0
    chain_ok(runner.ledger)
    audit = runner("audit", "--format", "json")
    assert audit.exit_code == 0
    assert json.loads(audit.output)["integrity"]["entries"] == 13


def test_an_older_ledger_migrates_in_one_transaction(runner, roadmap, monkeypatch):
    conn = sqlite3.connect(runner.ledger)
    conn.executescript(SCHEMA_V1)
    conn.close()
    monkeypatch.setattr(schema_module, "SCHEMA_VERSION", 1)  # recorded by the first release
    before = recorded(runner, roadmap)
    # a release with a schema version after this one's: its migrations, a new index, then a
    # statement that fails
    later = SCHEMA_VERSION + 1
    monkeypatch.setattr(schema_module, "SCHEMA_VERSION", later)
    monkeypatch.setitem(schema_module.MIGRATIONS, later, [
        "CREATE INDEX entries_quarter ON entries (quarter)",
        "CREATE TABLE entries (seq INTEGER)",
    ])
    with pytest.raises(LedgerError) as info:
        Ledger(runner.ledger)
    assert str(info.value) == (
        f"{runner.ledger}: cannot be upgraded from schema version 1 to {later} (table entries already exists); it is "
        "unchanged: run the command again; if it fails again, check the ledger file and its disk"
    )
    conn = sqlite3.connect(runner.ledger)
    assert conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == ("1",)
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('entries_quarter', 'entries_kind_item')"
                        ).fetchone() == (0,)
    conn.close()
    assert snapshot(runner.ledger) == before
    # the fixed release migrates, keeps every entry, and the chain still verifies
    monkeypatch.setitem(schema_module.MIGRATIONS, later, ["CREATE INDEX entries_quarter ON entries (quarter)"])
    with Ledger(runner.ledger) as ledger:
        assert ledger.schema_version() == later
    assert snapshot(runner.ledger) == before
    chain_ok(runner.ledger)
    assert runner("audit").exit_code == 0

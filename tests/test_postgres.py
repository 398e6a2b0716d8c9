"""The PostgreSQL ledger (issue 23) on a real, throw-away server (conftest's ``pg_server``): many
writers at once, a writer killed mid-batch, the append-only role and triggers, chains per team,
the chain head noted elsewhere, and ledger copy between SQLite and PostgreSQL. The ledger and
audit tests that run on both stores are in test_ledger.py (``backend_runner``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Runner, backend_rows, backend_tamper, document, make_items, write_items

from launchtier.engine.errors import LedgerError

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from launchtier.cli.main import main; main()"]


@pytest.fixture
def pg(pg_server, monkeypatch):
    """A runner on chain main of a new database; ``pg.url(chain)`` another chain of it."""
    database = pg_server.new_database()
    runner = Runner(monkeypatch, pg_server.url(database))
    runner.server, runner.database = pg_server, database
    runner.url = lambda chain="main", user="postgres": pg_server.url(database, chain=chain, user=user)
    return runner


# ---- the location ------------------------------------------------------------------------------

def test_a_location_shows_no_password_and_names_its_chain():
    from launchtier.engine.ledger.postgres import Location

    where = Location("postgresql://alice:s3cret@db.example:5433/launches?sslmode=require&password=x&chain=payments")
    assert (where.chain, where.schema) == ("payments", "launchtier_payments")
    assert where.shown == "postgresql://alice@db.example:5433/launches?sslmode=require&chain=payments"
    assert where.conninfo == "postgresql://alice:s3cret@db.example:5433/launches?sslmode=require&password=x"
    assert where.spec == where.conninfo + "&chain=payments"  # what the audit's workers open: with the password
    assert Location("postgres://db/launches").shown == "postgres://db/launches?chain=main"


@pytest.mark.parametrize("chain", ["Payments", "1st", "a-b", "x" * 41, ""])
def test_a_chain_name_that_is_not_one_is_refused(runner, chain):
    result = runner("decisions", "--db", f"postgresql://db.example/launches?chain={chain}")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"error: postgresql://db.example/launches?chain={chain}: chain {chain!r} is not a chain "
                             "name; use lower-case letters, digits and _, starting with a letter (at most 40)\n")


def test_a_server_that_cannot_be_reached_is_an_error_that_says_what_to_check(runner, tmp_path):
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install 'launchtier[postgres]'")
    url = f"postgresql://nobody@/launches?host={tmp_path}"  # no server listens there
    result = runner("decisions", "--db", url)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"error: {url}&chain=main: cannot connect to the database (")
    assert result.stderr.endswith("); check the URL (postgresql://USER@HOST/DBNAME), that the server runs, and the "
                                  "role's password (PGPASSWORD or ~/.pgpass)\n")


# ---- commands on PostgreSQL ------------------------------------------------------------------------

def test_every_reader_refuses_a_chain_that_does_not_exist_and_creates_nothing(pg, roadmap):
    for args in (["decisions"], ["audit"], ["ledger", "head"], ["override", "PAY-12", "--tier", "tier-1", "--reason",
                                                                "x", "--by", "Tom"]):
        result = pg(*args)
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr == (f"error: {pg.ledger} (from $LAUNCHTIER_DB): no ledger here yet (no chain main); "
                                 "record decisions first "
                                 "(launchtier record FILE --by NAME), or check the URL and its ?chain= (launchtier "
                                 "ledger chains lists them)\n")
    assert pg.server.execute(pg.database, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'launchtier%'") == []
    # a classify that merely may use a ledger goes on without one
    assert pg("classify", roadmap).exit_code == 0


def test_a_newer_schema_is_refused(pg, roadmap):
    assert pg("record", roadmap, "--by", "Priya").exit_code == 0
    pg.server.execute(pg.database, "UPDATE launchtier_main.meta SET value = '3' WHERE name = 'schema_version'")
    result = pg("decisions")
    assert (result.exit_code, result.stderr) == (
        2, f"error: {pg.ledger}: ledger schema version 3 is newer than this launchtier understands (2); "
           "upgrade launchtier to use this ledger\n")


def test_the_schema_is_the_shared_definition_with_the_triggers(pg):
    assert pg("ledger", "init").stdout == f"ledger ready at {pg.ledger} (schema version 2)\n"
    tables = pg.server.execute(pg.database, "SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'launchtier_main' ORDER BY 1")
    indexes = pg.server.execute(pg.database, "SELECT indexname FROM pg_indexes WHERE schemaname = 'launchtier_main' "
                                             "ORDER BY 1")
    triggers = pg.server.execute(pg.database, "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                              "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                              "WHERE n.nspname = 'launchtier_main' AND NOT tgisinternal ORDER BY 1")
    assert [t for (t,) in tables] == ["entries", "meta", "rulebooks"]
    assert [i for (i,) in indexes] == ["entries_entry_hash_key", "entries_item", "entries_kind_item",
                                       "entries_overrides", "entries_pkey", "meta_pkey", "rulebooks_pkey"]
    assert [t for (t,) in triggers] == ["entries_append_only", "entries_no_truncate", "rulebooks_append_only",
                                        "rulebooks_no_truncate"]
    assert pg("ledger", "init").exit_code == 0  # again: nothing to do
    assert pg.server.execute(pg.database, "SELECT name, value FROM launchtier_main.meta") == [("schema_version", "2")]


# ---- append-only, by the database ----------------------------------------------------------------

def _as(pg, user: str, *statements: str):
    import psycopg

    with pytest.raises(psycopg.Error) as info:
        pg.server.execute(pg.database, *statements, user=user)
    return info.value


def test_the_triggers_refuse_updates_and_deletes_even_to_the_owner(pg, roadmap):
    assert pg("record", roadmap, "--by", "Priya").exit_code == 0
    for statement, op, table in [("UPDATE launchtier_main.entries SET final_tier = 'tier-1' WHERE seq = 5", "UPDATE", "entries"),
                                 ("DELETE FROM launchtier_main.entries WHERE seq = 12", "DELETE", "entries"),
                                 ("TRUNCATE launchtier_main.entries CASCADE", "TRUNCATE", "entries"),
                                 ("UPDATE launchtier_main.rulebooks SET name = 'x'", "UPDATE", "rulebooks"),
                                 ("DELETE FROM launchtier_main.rulebooks", "DELETE", "rulebooks")]:
        error = _as(pg, "postgres", statement)
        assert (error.sqlstate, str(error).splitlines()[0]) == (
            "42501", f"the launchtier ledger is append-only: {op} on {table} is refused"), statement
    assert backend_rows(pg.ledger) == 12
    assert pg("audit").exit_code == 0


def test_a_writer_role_records_and_reads_but_cannot_update_or_delete(pg, roadmap):
    assert pg("ledger", "init").exit_code == 0
    grants = pg("ledger", "grants")
    assert grants.exit_code == 0
    pg.server.execute(pg.database, grants.stdout, "CREATE ROLE alice LOGIN IN ROLE launchtier_writer")
    alice = pg.url(user="alice")
    recorded = pg("record", roadmap, "--by", "Alice", "--db", alice)
    assert recorded.exit_code == 0, recorded.stderr
    overridden = pg("override", "PAY-63", "--tier", "tier-3", "--reason", "Support asked", "--by", "Alice", "--db", alice)
    assert overridden.exit_code == 0, overridden.stderr
    assert pg("audit", "--db", alice).exit_code == 0
    assert pg("ledger", "head", "--db", alice).stdout == pg("ledger", "head").stdout
    for statement in ["UPDATE launchtier_main.entries SET final_tier = 'tier-1' WHERE seq = 5",
                      "DELETE FROM launchtier_main.entries WHERE seq = 13",
                      "TRUNCATE launchtier_main.entries",
                      "DELETE FROM launchtier_main.rulebooks",
                      "UPDATE launchtier_main.meta SET value = '1'"]:
        error = _as(pg, "alice", statement)
        assert (error.sqlstate, str(error).splitlines()[0].split(" for ")[0]) == ("42501", "permission denied"), statement
    assert backend_rows(pg.ledger) == 13


def test_a_role_without_grants_is_told_what_it_needs(pg, roadmap):
    assert pg("record", roadmap, "--by", "Priya").exit_code == 0
    pg.server.execute(pg.database, "CREATE ROLE bob LOGIN")
    result = pg("record", roadmap, "--by", "Bob", "--db", pg.url(user="bob"))
    assert (result.exit_code, result.stdout) == (2, "")
    bob = pg.url(user="bob")
    assert result.stderr == (f"error: {bob}: cannot be opened (permission denied for schema launchtier_main): this "
                             "database role "
                             "may not use the chain as asked: a reader needs SELECT on its tables, a writer INSERT too "
                             "(launchtier ledger grants prints the SQL); no role may change or remove what is recorded\n")


def test_grants_on_an_sqlite_ledger_say_it_has_no_roles(runner):
    result = runner("ledger", "grants")
    assert (result.exit_code, result.stderr) == (
        2, f"error: {runner.ledger}: an SQLite ledger has no database roles; who may write it is who may write the file "
           "(and its directory); a PostgreSQL ledger has roles\n")


# ---- the chain head, noted elsewhere ---------------------------------------------------------------

def test_the_head_noted_elsewhere_catches_the_newest_entries_deleted(backend_runner, roadmap):
    runner = backend_runner
    empty = runner("ledger", "init")
    assert empty.exit_code == 0
    none = runner("ledger", "head")
    assert (none.exit_code, none.stdout, none.stderr) == (0, "", f"notice: {runner.ledger} has no entries yet: no chain head\n")
    recorded = runner("record", roadmap, "--by", "Priya")
    head = runner("ledger", "head").stdout
    assert recorded.stdout.endswith(f"chain head {head}")
    assert runner("audit", "--expect-head", head.strip()).exit_code == 0
    backend_tamper(runner.ledger, "DELETE FROM entries WHERE seq >= 11")  # the newest two, by a forger
    plain = runner("audit", "--format", "json")
    assert plain.exit_code == 0  # the chain that is left verifies: the chain's known limit
    anchored = runner("audit", "--expect-head", head.strip(), "--format", "json")
    assert anchored.exit_code == 1
    data = json.loads(anchored.stdout)
    assert (data["integrity"]["ok"], data["integrity"]["entries"], data["expected_head"], data["expected_at"]) == (
        False, 10, head.strip(), None)


# ---- chains per team, and the company-wide view ---------------------------------------------------

def test_chains_are_separate_and_the_company_wide_view_names_each(pg, roadmap, tmp_path):
    payments, ops = pg.url("payments"), pg.url("ops")
    assert pg("record", roadmap, "--by", "Priya", "--db", payments).exit_code == 0
    assert pg("record", write_items(tmp_path / "ops.json", make_items(3, prefix="OPS")), "--by", "Omar",
              "--db", ops).exit_code == 0
    assert pg("ledger", "chains").stdout == "ops\npayments\n"
    # each chain its own sequence, head and audit
    assert document(pg("decisions", "--db", ops, "--format", "json").stdout)["decisions"][0]["seq"] == 1
    assert pg("ledger", "head", "--db", ops).stdout != pg("ledger", "head", "--db", payments).stdout
    every = document(pg("decisions", "--all-chains", "--format", "json").stdout)["decisions"]
    assert [(d["chain"], d["item"]) for d in every][:4] == [("ops", "OPS-0"), ("ops", "OPS-1"), ("ops", "OPS-2"),
                                                            ("payments", "PAY-12")]
    assert len(every) == 15
    csv = pg("decisions", "--all-chains", "--format", "csv", "--item", "OPS-1").stdout.splitlines()
    assert csv[0].startswith("chain,seq,recorded_at,item,") and len(csv) == 2 and csv[1].startswith("ops,2,")
    table = pg("decisions", "--all-chains", "--item", "PAY-12").stdout
    assert table.startswith(f"chain ops ({ops}):\n") and f"\n\nchain payments ({payments}):\n" in table
    audits = pg("audit", "--all-chains", "--format", "json")
    assert audits.exit_code == 0
    reports = document(audits.stdout)["audits"]
    assert [(r["ledger"], r["integrity"]["entries"], r["integrity"]["ok"]) for r in reports] == [
        (ops, 3, True), (payments, 12, True)]
    backend_tamper(ops, "UPDATE entries SET recorded_by = 'Mallory' WHERE seq = 2")
    failed = pg("audit", "--all-chains")
    assert failed.exit_code == 1
    assert "BROKEN at #2 (item OPS-1)" in failed.stdout and failed.stdout.count("integrity: ok") == 1
    assert pg("audit", "--db", payments).exit_code == 0  # the other team's chain is untouched
    refused = pg("audit", "--all-chains", "--expect-head", "sha256:" + "0" * 64)
    assert (refused.exit_code, refused.stderr.splitlines()[-1]) == (
        2, "Error: --expect-head is one chain's head: give it without --all-chains")


def test_an_sqlite_file_holds_one_chain(runner, roadmap):
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    assert runner("ledger", "chains").stdout == "main\n"
    assert document(runner("audit", "--all-chains", "--format", "json").stdout)["audits"][0]["ledger"] == str(runner.ledger)


# ---- ledger copy -------------------------------------------------------------------------------

def test_ledger_copy_round_trips_sqlite_postgres_sqlite_with_a_clean_audit(pg, runner, roadmap, tmp_path):
    sqlite_db = str(runner.ledger)
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    assert runner("override", "PAY-63", "--tier", "tier-3", "--reason", "Support asked", "--by", "Tom").exit_code == 0
    head = runner("ledger", "head").stdout
    there = pg.url("payments")
    copied = runner("ledger", "copy", sqlite_db, there)
    assert (copied.exit_code, copied.stderr) == (0, "")
    assert copied.stdout == (f"copied 13 entries from {sqlite_db} to {there}\n"
                             "audit of the source: 13 entries, integrity ok, 12 decisions replayed\n"
                             "audit of the destination: 13 entries, integrity ok, 12 decisions replayed\n"
                             f"chain head {head}")
    back = str(tmp_path / "back.db")
    assert runner("ledger", "copy", there, back).exit_code == 0
    assert runner("audit", "--db", there).exit_code == runner("audit", "--db", back).exit_code == 0
    histories = [runner("decisions", "--format", "json", "--db", db).stdout for db in (sqlite_db, there, back)]
    assert histories[0] == histories[1] == histories[2]
    assert {runner("ledger", "head", "--db", db).stdout for db in (sqlite_db, there, back)} == {head}
    # a later copy appends only what is new; a chain that is another's is refused
    assert runner("record", write_items(tmp_path / "more.json", make_items(2)), "--by", "Priya").exit_code == 0
    again = runner("ledger", "copy", sqlite_db, there)
    assert again.stdout.startswith(f"copied 2 entries from {sqlite_db} to {there} (after the 13 it held)\n")
    other = pg.url("ops")
    assert runner("record", write_items(tmp_path / "ops.json", make_items(1, prefix="OPS")), "--by", "Omar",
                  "--db", other).exit_code == 0
    refused = runner("ledger", "copy", sqlite_db, other)
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.startswith(f"error: {other} holds another chain (1 entries, head sha256:")
    assert backend_rows(other) == 1


def test_ledger_copy_refuses_a_damaged_source_and_copies_nothing(pg, runner, roadmap):
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    backend_tamper(runner.ledger, "UPDATE entries SET recorded_by = 'Mallory' WHERE seq = 3")
    there = pg.url("payments")
    result = runner("ledger", "copy", str(runner.ledger), there)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", f"error: {runner.ledger} fails its audit (run launchtier audit on it); a damaged ledger is not copied: "
               "nothing was copied\n")
    assert runner("ledger", "chains", "--db", pg.ledger).stdout == ""


# ---- many writers at once, and a writer killed mid-batch ---------------------------------------------

WRITER = """
import sys
from launchtier.engine import Classifier, ItemReader, load_rulebook
from launchtier.engine.ledger import open_ledger
from launchtier.engine.ledger.records import encode_pairs
import json
url, items_file, by, per_batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
book = load_rulebook()
reader, classifier = ItemReader(book), Classifier(book)
items = [reader.validate(raw) for raw in json.load(open(items_file))["items"]]
with open_ledger(url, create=True) as ledger:
    for start in range(0, len(items), per_batch):
        batch = items[start:start + per_batch]
        ledger.record(book, encode_pairs((i, classifier.decide(i)) for i in batch), by=by)
"""


@pytest.mark.slow  # eight writer processes, 4,000 entries
def test_eight_writers_appending_at_once_give_one_chain_of_every_entry(pg, tmp_path):
    from launchtier.engine.ledger import open_ledger
    from launchtier.engine.ledger.chain import verify_chain

    # no chain yet: the first writers create it (schema and tables) at once, too
    files = [write_items(tmp_path / f"w{i}.json", make_items(500, seed=i, prefix=f"W{i}")) for i in range(8)]
    # 50 batches of 10 each: 400 transactions contend for the chain's lock
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, pg.ledger, str(f), f"writer-{i}", "10"],
                              stderr=subprocess.PIPE) for i, f in enumerate(files)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()
    with open_ledger(pg.ledger, readonly=True) as ledger:
        entries = list(ledger.entries())
    assert [e.seq for e in entries] == list(range(1, 4001))
    assert verify_chain(entries) == []
    assert len({e.item_key for e in entries}) == 4000
    by_writer: dict[str, list[int]] = {}
    for e in entries:
        by_writer.setdefault(e.recorded_by, []).append(e.seq)
    assert sorted(by_writer) == [f"writer-{i}" for i in range(8)]
    # each batch of 10 is contiguous: a batch is one transaction under the chain's lock
    interleaved = 0
    for seqs in by_writer.values():
        assert len(seqs) == 500
        runs, start = [], seqs[0]
        for a, b in zip(seqs, seqs[1:] + [None]):
            if b != a + 1:
                runs.append(a - start + 1)
                start = b
        assert all(n % 10 == 0 for n in runs), runs
        interleaved += len(runs) > 1
    assert interleaved >= 2  # the writers did take turns: they wrote at the same time
    audit = subprocess.run([*CLI, "audit", "--db", pg.ledger, "--jobs", "2"], capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout[-2000:] + audit.stderr
    assert audit.stdout.endswith("integrity: ok\n")


@pytest.mark.slow  # a child process killed mid-record
def test_a_writer_killed_mid_batch_leaves_nothing(pg, tmp_path):
    first = write_items(tmp_path / "first.json", make_items(20, seed=1, prefix="A"))
    assert subprocess.run([*CLI, "record", str(first), "--by", "setup", "--db", pg.ledger], capture_output=True).returncode == 0
    big = write_items(tmp_path / "big.json", make_items(6000, seed=2, prefix="B"))
    proc = subprocess.Popen([*CLI, "record", str(big), "--by", "victim", "--db", pg.ledger],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watch = "SELECT pid FROM pg_stat_activity WHERE application_name = 'launchtier' AND query LIKE 'INSERT INTO entries%'"
    deadline, backend = time.monotonic() + 120, []
    # kill it once it is inserting its batch's entries (its transaction open, the lock held), not before
    while time.monotonic() < deadline and proc.poll() is None and not backend:
        backend = pg.server.execute(pg.database, watch)
        time.sleep(0.01)
    assert backend and proc.poll() is None, "the writer never got to insert its batch"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    while time.monotonic() < deadline and pg.server.execute(pg.database, f"SELECT 1 FROM pg_stat_activity WHERE pid = {backend[0][0]}"):
        time.sleep(0.05)  # the server notices the connection gone and rolls its transaction back
    assert backend_rows(pg.ledger) == 20
    after = subprocess.run([*CLI, "record", str(write_items(tmp_path / "after.json", make_items(3, prefix="C"))),
                            "--by", "next", "--db", pg.ledger], capture_output=True, text=True)
    assert after.returncode == 0 and "(#21-#23)" in after.stdout  # the chain's lock went with the dead writer
    audit = subprocess.run([*CLI, "audit", "--db", pg.ledger], capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert audit.stdout.endswith("integrity: ok\n")


def test_a_store_error_outside_a_write_is_a_ledger_error(pg, roadmap):
    from launchtier.engine.ledger import open_ledger

    assert pg("record", roadmap, "--by", "Priya").exit_code == 0
    with open_ledger(pg.ledger, readonly=True) as ledger:
        with pytest.raises(LedgerError, match=r": no entry 99$"):
            ledger.entry(99)


# ---- every command, the same on both stores ---------------------------------------------------------

@pytest.mark.slow  # every ledger command twice, the audit's workers among them
def test_every_command_gives_on_postgresql_what_it_gives_on_sqlite(pg, runner, roadmap, tmp_path, monkeypatch):
    from test_ledger_store import _session

    monkeypatch.setattr("launchtier.engine.ledger.records.now_utc", lambda: "2027-01-05T09:00:00Z")
    (tmp_path / "plain").mkdir()
    on_sqlite = _session(runner, roadmap, tmp_path / "plain" / "launchtier.db")
    on_postgresql = _session(runner, roadmap, pg.ledger)
    markdown = pg.ledger.replace("&", "&amp;")  # the review's and the audit's Markdown escape it
    on_postgresql = [(code, out.replace(markdown, "DB"), err.replace(markdown, "DB")) for code, out, err in on_postgresql]
    # where there is no ledger yet, each store says what to check: a path, or a URL and its chain
    assert on_sqlite[1][2].startswith("error: DB (from $LAUNCHTIER_DB): no ledger here yet; record decisions first")
    assert on_postgresql[1][2].startswith("error: DB (from $LAUNCHTIER_DB): no ledger here yet (no chain main); "
                                          "record decisions first")
    assert on_postgresql[:1] + on_postgresql[2:] == on_sqlite[:1] + on_sqlite[2:]
    assert [code for code, _, _ in on_postgresql] == [0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]


def test_a_postgresql_read_holds_one_batch_in_the_client(pg, tmp_path):
    """Reads go through a server-side cursor: the client fetches a batch at a time."""
    from launchtier.engine.ledger import open_ledger

    items = write_items(tmp_path / "many.json", make_items(2500))
    assert pg("record", items, "--by", "Priya").exit_code == 0
    with open_ledger(pg.ledger, readonly=True) as ledger:
        entries = ledger.entries()
        first = next(entries)
        cursors = ledger._conn.execute("SELECT name FROM pg_cursors").fetchall()  # the store's own session
        rest = list(entries)
        after = ledger._conn.execute("SELECT name FROM pg_cursors").fetchall()
    assert (first.seq, len(rest), len(cursors), after) == (1, 2499, 1, [])


def test_config_shows_a_database_url_without_its_password(runner, monkeypatch):
    monkeypatch.setenv("LAUNCHTIER_DB", "postgresql://alice:s3cret@db.example/launches?chain=payments")
    result = runner("config")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[2] == ("db       postgresql://alice@db.example/launches?chain=payments  "
                                             "(from $LAUNCHTIER_DB)")


def test_a_chain_of_an_older_schema_is_migrated_by_a_writer_from_the_same_definitions(pg, roadmap):
    from launchtier.engine.ledger.schema import migrations

    pg.server.execute(pg.database, "CREATE SCHEMA launchtier_main", "SET search_path TO launchtier_main",
                      *migrations("postgresql", 1), "INSERT INTO meta (name, value) VALUES ('schema_version', '1')")
    reader = pg("decisions")
    assert (reader.exit_code, reader.stderr) == (
        2, f"error: {pg.ledger}: schema version 1, expected 2; record a decision in it once (launchtier record) to "
           "migrate it\n")
    assert pg("record", roadmap, "--by", "Priya").exit_code == 0
    assert pg.server.execute(pg.database, "SELECT value FROM launchtier_main.meta") == [("2",)]
    assert pg.server.execute(pg.database, "SELECT indexname FROM pg_indexes WHERE schemaname = 'launchtier_main' "
                                          "AND indexname IN ('entries_kind_item', 'entries_overrides') ORDER BY 1") == [
        ("entries_kind_item",), ("entries_overrides",)]
    assert pg("audit").exit_code == 0


def test_without_psycopg_a_postgresql_ledger_says_how_to_install_it(tmp_path):
    child = ("import sys; sys.modules['psycopg'] = None\n"  # as if it were not installed
             "from launchtier.cli.main import main; main()")
    result = subprocess.run([sys.executable, "-c", child, "decisions", "--db", "postgresql://db.example/launches"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "error: a PostgreSQL ledger needs psycopg: pip install 'launchtier[postgres]' (and the PostgreSQL client "
               "library, libpq: Debian's libpq5)\n")


def test_the_company_wide_view_of_a_database_without_chains_says_so(pg):
    for command in ("decisions", "audit"):
        result = pg(command, "--all-chains")
        assert (result.exit_code, result.stdout, result.stderr) == (
            2, "", f"error: {pg.ledger}: the database holds no chain yet; record decisions first (launchtier record "
                   "FILE --by NAME --db URL?chain=NAME)\n")


def test_a_role_that_may_only_read_reads_and_its_write_is_refused_with_nothing_recorded(pg, roadmap):
    assert pg("record", roadmap, "--by", "Priya").exit_code == 0
    pg.server.execute(pg.database, "CREATE ROLE carol LOGIN", "GRANT USAGE ON SCHEMA launchtier_main TO carol",
                      "GRANT SELECT ON ALL TABLES IN SCHEMA launchtier_main TO carol")
    carol = pg.url(user="carol")
    assert pg("decisions", "--db", carol).stdout == pg("decisions").stdout.replace(pg.ledger, carol)
    assert pg("audit", "--db", carol, "--jobs", "2").exit_code == 0
    refused = pg("override", "PAY-63", "--tier", "tier-3", "--reason", "Support asked", "--by", "Carol", "--db", carol)
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr == (
        f"error: {carol}: the override was not recorded (permission denied for table entries): this database role may "
        "not use the chain as asked: a reader needs SELECT on its tables, a writer INSERT too (launchtier ledger grants "
        "prints the SQL); no role may change or remove what is recorded\n")
    assert backend_rows(pg.ledger) == 12


@pytest.mark.slow  # two writer processes
def test_a_writer_waits_for_its_chains_lock_and_only_for_its_chains(pg, roadmap, tmp_path):
    from launchtier.engine.ledger import open_ledger

    other = pg.url("ops")
    for location in (pg.ledger, other):
        assert pg("ledger", "init", "--db", location).exit_code == 0
    record = [*CLI, "record", str(roadmap), "--by", "Priya", "--db"]
    with open_ledger(pg.ledger) as holder, holder.writing():  # a writer of chain main, in its transaction
        held = subprocess.Popen([*record, pg.ledger], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        free = subprocess.run([*record, other], capture_output=True, text=True, timeout=60)
        assert free.returncode == 0, free.stderr  # chain ops: no wait
        waiting, deadline = [], time.monotonic() + 60
        while not waiting and time.monotonic() < deadline and held.poll() is None:
            waiting = pg.server.execute(pg.database, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            time.sleep(0.02)
        assert len(waiting) == 1 and held.poll() is None  # chain main: it waits for the holder's lock
    out, err = held.communicate(timeout=60)  # the holder's transaction ended: it goes on
    assert held.returncode == 0, err
    assert out.startswith(f"recorded 12 decisions (#1-#12) in {pg.ledger}")


def test_a_write_whose_connection_is_cut_records_nothing_and_says_what_to_do(pg, book, reader):
    from launchtier.engine import Classifier
    from launchtier.engine.ledger import open_ledger
    from launchtier.engine.ledger.records import encode_pairs

    classifier = Classifier(book)
    items = [reader.validate(raw) for raw in make_items(3)]
    with open_ledger(pg.ledger, create=True) as ledger:
        with pytest.raises(LedgerError) as info:
            with ledger.writing():
                # the server ends the session (an administrator, a restart) inside the transaction
                pg.server.execute(pg.database, f"SELECT pg_terminate_backend({ledger._conn.info.backend_pid})")
                ledger.record(book, encode_pairs((i, classifier.decide(i)) for i in items), by="Priya")
    assert str(info.value) == (f"{pg.ledger}: nothing was recorded (terminating connection due to administrator "
                               "command): the database server stopped or cancelled the command; run the command again "
                               "when it is back")
    assert backend_rows(pg.ledger) == 0

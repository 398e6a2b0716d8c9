"""The SQLite ledger store: a ledger in one SQLite file (:class:`Ledger`, a
:class:`~.store.LedgerStore`). This module alone imports sqlite3, knows that a ledger's location
is a file path, migrates the schema, and turns SQLite's errors into what the user can do.

The schema is versioned in the ``meta`` table and migrated on open; its SQL stays plain
(standard types, ``?`` parameters) so that another SQL store can share it. The chain is extended
inside the writing transaction (``BEGIN IMMEDIATE``), so several processes recording at once
serialise and never fork it. Whatever does not match what launchtier wrote (:mod:`.chain`: an
entry's hash, a stored rulebook's; the meta table) was changed outside launchtier: the commands
refuse the ledger (:class:`LedgerDamaged`) and the audit names every such change.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from pathlib import Path
from itertools import islice
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from pydantic import ValidationError

from ..decide.decision import Decision, construct
from ..errors import LedgerDamaged, LedgerError, LedgerMissing, shown
from ..runtime import gc_paused
from ..rulebook.model import Rulebook, rulebook_from_data

if TYPE_CHECKING:  # bound by _load(), when a ledger is first opened
    import sqlite3

    from .chain import COLUMNS, GENESIS, canonical, chained, damaged, entry_hash_of, short, stored_rulebook_problem
    from .policy import add_override, override_approvals, override_request, person
    from .records import (ENTRIES, DecisionRecord, Entry, OverrideRecord, UnreadableEntry, EncodedDecision,
                          entry_or_unreadable, entry_problem, now_utc, override_row)

# The store's own imports: sqlite3, the records (pydantic models), the chain and the approval
# policy. They are made when a ledger is first opened (Ledger() calls _load), not with this module:
# a command that merely may use a ledger asks open_if_present, and where there is none (a one-off
# classify) it never pays for them. Read from outside before that (a test's monkeypatch, say), a
# name loads them too (__getattr__). Its methods read them as this module's globals, as before.
_LAZY = frozenset({
    "sqlite3",
    "COLUMNS", "GENESIS", "canonical", "chained", "damaged", "entry_hash_of", "short", "stored_rulebook_problem",
    "add_override", "override_approvals", "override_request", "person",
    "ENTRIES", "DecisionRecord", "Entry", "OverrideRecord", "UnreadableEntry", "EncodedDecision",
    "entry_or_unreadable", "entry_problem", "now_utc", "override_row",
})
_loaded = False


def _load() -> None:
    """Bind the store's own imports (see ``_LAZY``) as globals of this module, once."""
    global _loaded, sqlite3
    global COLUMNS, GENESIS, canonical, chained, damaged, entry_hash_of, short, stored_rulebook_problem
    global add_override, override_approvals, override_request, person
    global ENTRIES, DecisionRecord, Entry, OverrideRecord, UnreadableEntry, EncodedDecision
    global entry_or_unreadable, entry_problem, now_utc, override_row
    if _loaded:
        return
    import sqlite3

    from .chain import COLUMNS, GENESIS, canonical, chained, damaged, entry_hash_of, short, stored_rulebook_problem
    from .policy import add_override, override_approvals, override_request, person
    from .records import (ENTRIES, DecisionRecord, Entry, OverrideRecord, UnreadableEntry, EncodedDecision,
                          entry_or_unreadable, entry_problem, now_utc, override_row)
    _loaded = True


def __getattr__(name: str) -> Any:
    if name in _LAZY and not _loaded:
        _load()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

SCHEMA_VERSION = 2
DEFAULT_PATH = "launchtier.db"
BUSY_TIMEOUT_MS = 60_000

# Each migration brings the schema from version N-1 to N. Never edit one that has shipped.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE meta (
            name VARCHAR(64) PRIMARY KEY,
            value TEXT NOT NULL)""",
        """CREATE TABLE rulebooks (
            hash VARCHAR(80) PRIMARY KEY,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            content TEXT NOT NULL,
            stored_at VARCHAR(32) NOT NULL)""",
        """CREATE TABLE entries (
            seq INTEGER PRIMARY KEY,
            kind VARCHAR(16) NOT NULL,
            item_key TEXT NOT NULL,
            quarter VARCHAR(16),
            computed_tier TEXT NOT NULL,
            final_tier TEXT NOT NULL,
            rulebook_hash VARCHAR(80) NOT NULL REFERENCES rulebooks(hash),
            item_json TEXT NOT NULL,
            decision_json TEXT NOT NULL,
            recorded_by TEXT NOT NULL,
            recorded_at VARCHAR(32) NOT NULL,
            note TEXT,
            reason TEXT,
            approved_by TEXT,
            overrides_seq INTEGER,
            prev_hash VARCHAR(80) NOT NULL,
            entry_hash VARCHAR(80) NOT NULL UNIQUE)""",
        "CREATE INDEX entries_item ON entries (item_key, seq)",
    ],
    2: [
        # the latest decision of each item (MAX(seq) per item_key) from the index alone
        "CREATE INDEX entries_kind_item ON entries (kind, item_key, seq)",
        # the overrides of a decision
        "CREATE INDEX entries_overrides ON entries (overrides_seq, seq)",
    ],
}

# The latest decision of each item: what a roadmap, a review and the precedents read.
LATEST = "SELECT MAX(seq) FROM entries WHERE kind = 'decision' GROUP BY item_key"
# Its final tier: the tier of the last override that followed it, else its own.
FINAL_TIER = ("COALESCE((SELECT o.final_tier FROM entries o WHERE o.kind = 'override' AND o.overrides_seq = entries.seq "
              "ORDER BY o.seq DESC LIMIT 1), entries.final_tier)")
BATCH = 500  # rows read, validated and given their overrides at a time: bounded memory, few queries
WRITE_BATCH = 1000  # decisions appended per executemany: bounded memory, few calls into SQLite
RULEBOOK_COLUMNS = ("hash", "name", "version", "content", "stored_at")

# A schema_version as launchtier writes it: str() of a positive int
_VERSION = re.compile(r"[1-9][0-9]{0,8}")


def _version(value: Any) -> int | None:
    """The schema version in a meta value, None if launchtier would never have written it."""
    return int(value) if isinstance(value, str) and _VERSION.fullmatch(value) else None


def resolve_path(path: str | os.PathLike | None) -> Path:
    return Path(path or os.environ.get("LAUNCHTIER_DB") or DEFAULT_PATH)


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    if readonly:
        uri = path.resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class Ledger:
    """The decision ledger in the SQLite file at ``path`` (created on first write): a
    :class:`~.store.LedgerStore`."""

    def __init__(self, path: str | os.PathLike | None = None, *, create: bool = True, readonly: bool = False,
                 audit: bool = False):
        """``readonly``: for the commands that only read (and the audit's workers): the file is
        never created, migrated or changed, and one that is not a ledger (empty, not SQLite,
        without launchtier's tables) is refused (:class:`LedgerDamaged`). ``audit``: a meta table that launchtier
        did not write (:meth:`meta_problems`) is left as it is, for the audit to report, instead
        of refusing the ledger."""
        _load()
        self.path = resolve_path(path)
        if not self.path.exists() and (not create or readonly):
            raise LedgerMissing(str(self.path), "no ledger here yet; record decisions first (launchtier record FILE --by NAME), "
                                "or check the path (--db PATH, else $LAUNCHTIER_DB, else the project config's db, else "
                                "launchtier.db in the current directory)")
        if not self.path.parent.is_dir():
            raise LedgerMissing(str(self.path), f"the directory {self.path.parent} does not exist")
        if self.path.exists() and not self.path.is_file():
            # a named pipe would hang SQLite's open, and a device (/dev/null) takes writes it loses
            raise LedgerError(f"{shown(self.path)}: is not a regular file, so it cannot be a ledger; give --db a ledger file, "
                              "or a new file's path")
        if (readonly or not create) and self.path.is_file() and self.path.stat().st_size == 0:
            # SQLite would read an empty file as an empty database; a reader never makes it one
            raise LedgerDamaged(f"{self.path} is empty: not a ledger")
        try:
            self._conn = _connect(self.path, readonly=readonly)
            tables = self._tables()
            # (a writer makes a ledger of a database without launchtier's tables: a version 0 one)
            if readonly and tables and not tables & {"meta", "rulebooks", "entries"}:
                raise LedgerDamaged(f"{self.path} is not a ledger: an SQLite database without launchtier's tables")
            if readonly and not tables:
                raise LedgerDamaged(f"{self.path} is not a ledger: an SQLite database without tables")
            problem = self._table_problem(tables)
            if problem:
                # the audit cannot go through entries that are not there: it says so, on one line
                raise LedgerDamaged(f"{self.path} was changed outside launchtier ({problem})") if audit else damaged(
                    self.location, problem)
            meta = self.meta_problems()
            if meta:
                if not audit:
                    raise damaged(self.location, meta[0])
            elif not readonly:
                # only now that it is known to be a ledger (or a new file): WAL changes the file
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=FULL")
                self._migrate()
            elif self.schema_version() > SCHEMA_VERSION:
                raise self._newer()
            elif self.schema_version() != SCHEMA_VERSION:
                raise LedgerError(f"{self.path}: schema version {self.schema_version()}, expected {SCHEMA_VERSION}; "
                                  "record a decision in it once (launchtier record) to migrate it")
            if not audit and "entries" in tables:
                # commands read entries by kind (indexed): a row of another kind would be skipped,
                # not refused, and the history shown without it
                odd = self._conn.execute("SELECT seq, kind FROM entries WHERE kind NOT IN ('decision', 'override') "
                                         "ORDER BY seq LIMIT 1").fetchone()
                if odd is not None:
                    raise damaged(self.location, f"entry #{odd[0]} cannot be read: kind: {odd[1]!r} is not allowed; "
                                                 "expected one of decision, override")
        except sqlite3.OperationalError as e:
            self._close_quietly()
            raise LedgerError(f"{self.path}: cannot be opened ({e}): {what_to_do(self.path, e)}") from None
        except sqlite3.DatabaseError as e:
            self._close_quietly()
            raise LedgerDamaged(f"{self.path} is not a ledger: SQLite cannot read it ({e})") from None
        except LedgerError:
            self._close_quietly()
            raise
        self._rulebooks: dict[str, Rulebook] = {}

    @property
    def location(self) -> str:
        return str(self.path)

    def reopen_spec(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self._conn.close()

    def _close_quietly(self) -> None:
        if getattr(self, "_conn", None) is not None:
            self._conn.close()

    def _newer(self) -> LedgerError:
        return LedgerError(
            f"{self.path}: ledger schema version {self.schema_version()} is newer than this launchtier "
            f"understands ({SCHEMA_VERSION}); upgrade launchtier to use this ledger"
        )

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- schema -------------------------------------------------------------------------
    def _tables(self) -> set[str]:
        return {name for (name,) in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _table_problem(self, tables: set[str]) -> str | None:
        """What is missing of the tables (and their columns) that a ledger's commands read, in
        a file that holds any of them."""
        if not tables & {"meta", "rulebooks", "entries"}:
            return None
        missing = [t for t in ("rulebooks", "entries") if t not in tables]
        if missing:
            return f"its {' and '.join(missing)} table{'s are' if len(missing) > 1 else ' is'} missing"
        for table, columns in (("rulebooks", RULEBOOK_COLUMNS), ("entries", COLUMNS)):
            have = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            lost = [c for c in columns if c not in have]
            if lost:
                return f"its {table} table lacks the column{'s' if len(lost) > 1 else ''} {', '.join(lost)}"
        return None

    def schema_version(self) -> int:
        """The schema version in the meta table; 0 for a new ledger (and for a meta table that
        launchtier did not write: see :meth:`meta_problems`)."""
        if "meta" not in self._tables():
            return 0
        row = self._conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        return (_version(row[0]) or 0) if row else 0

    def meta_problems(self) -> list[str]:
        """What in the meta table launchtier did not write. It writes one row, schema_version,
        with the tables; nothing else, and never a table without it."""
        tables = self._tables()
        if "meta" not in tables:
            return ["the meta table is missing"] if tables & {"rulebooks", "entries"} else []
        problems, versioned = [], False
        for name, value in self._conn.execute("SELECT name, value FROM meta ORDER BY name"):
            if name != "schema_version":
                problems.append(f"the meta table holds {name!r} = {value!r}, which launchtier never writes")
                continue
            versioned = True
            if _version(value) is None:
                problems.append(f"the meta table's schema_version is {value!r}, not a version launchtier writes")
        if not versioned:
            problems.append("the meta table has no schema_version")
        return problems

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise self._newer()
        if current == SCHEMA_VERSION:
            return
        try:
            with self._write():
                current = self.schema_version()  # another process may have migrated meanwhile
                for version in range(current + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[version]:
                        self._conn.execute(statement)
                    self._conn.execute("DELETE FROM meta WHERE name = 'schema_version'")
                    self._conn.execute("INSERT INTO meta (name, value) VALUES ('schema_version', ?)", (str(version),))
        except sqlite3.OperationalError as e:
            # one transaction: a migration that fails leaves the ledger at the version it had
            raise LedgerError(
                f"{self.path}: cannot be upgraded from schema version {current} to {SCHEMA_VERSION} ({e}); "
                f"it is unchanged: {what_to_do(self.path, e)}"
            ) from None

    class _Transaction:
        """The write lock (``BEGIN IMMEDIATE``) until the block ends, then commit, or roll back on
        an exception. Inside another one it is that one: what reads and writes inside it (a
        roadmap decided against the ledger, then recorded) is one transaction."""

        def __init__(self, conn: sqlite3.Connection):
            self.conn = conn
            self.outer = False

        def __enter__(self) -> sqlite3.Connection:
            if not self.conn.in_transaction:
                self.outer = True
                self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type, exc, tb) -> None:
            if not self.outer:
                return
            if exc_type is None:
                try:
                    self.conn.execute("COMMIT")
                except sqlite3.Error:
                    self._rollback()
                    raise
            else:
                self._rollback()

        def _rollback(self) -> None:
            # After a full disk or an I/O error SQLite has rolled the transaction back itself; a
            # second ROLLBACK would fail ("no transaction is active") and hide the error that says
            # what happened. The transaction is undone either way: the error in flight is the one
            # to report.
            if self.conn.in_transaction:
                try:
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass

    def _write(self) -> "_Transaction":
        return Ledger._Transaction(self._conn)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One write transaction for a block that reads the ledger, decides, and records: no
        other writer comes in between (the roadmap's capacity counts what is recorded)."""
        try:
            with self._write():
                yield
        except sqlite3.OperationalError as e:
            raise LedgerError(f"{self.path}: nothing was recorded ({e}): {what_to_do(self.path, e)}") from None

    # ---- writing ------------------------------------------------------------------------
    def _store_rulebook(self, book: Rulebook, at: str) -> None:
        exists = self._conn.execute("SELECT name, version, content FROM rulebooks WHERE hash = ?", (book.hash,)).fetchone()
        if exists:
            # new decisions recorded under a changed copy could never be replayed
            _, problem = stored_rulebook_problem(book.hash, *exists)
            if problem:
                raise damaged(self.location, f"stored rulebook {short(book.hash)} was changed: {problem}")
        else:
            self._conn.execute(
                "INSERT INTO rulebooks (hash, name, version, content, stored_at) VALUES (?, ?, ?, ?, ?)",
                # as written, in its own order (signals, dimensions): decisions replayed under the
                # stored copy then list their scores as recorded; the hash ignores the order
                (book.hash, book.name, book.version, book.model_dump_json(), at),
            )

    def _append(self, rows: Iterable[dict[str, Any]]) -> list[int]:
        """Append entries to the chain; the caller holds the write transaction."""
        seqs = []
        sql = f"INSERT INTO entries ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
        for row in chained(rows, *self._last()):
            self._conn.execute(sql, [row[c] for c in COLUMNS])
            seqs.append(row["seq"])
        return seqs

    def _append_decisions(self, rows: Iterable[EncodedDecision], book: Rulebook, *, by: str, note: str | None,
                          at: str) -> range:
        """Append one decision entry per row to the chain, :data:`WRITE_BATCH` rows per
        executemany, holding no more than one batch; the caller holds the write transaction.
        Each entry is hashed as :func:`.chain.entry_hash` hashes it (the same columns, in order)."""
        seq, prev = self._last()
        first = seq + 1
        sql = f"INSERT INTO entries ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
        it = iter(rows)
        rulebook_hash = book.hash
        while True:
            block = list(islice(it, WRITE_BATCH))
            if not block:
                break
            values = []
            for r in block:
                seq += 1
                # the HASHED columns, in their order
                hashed = (seq, "decision", r.item_key, r.quarter, r.computed_tier, r.final_tier, rulebook_hash,
                          r.item_json, r.decision_json, by, at, note, None, None, None)
                h = entry_hash_of(prev, hashed, r.decision_escaped)
                values.append((*hashed, prev, h))
                prev = h
            self._conn.executemany(sql, values)
        return range(first, seq + 1)

    def record(
        self,
        book: Rulebook,
        rows: Iterable[EncodedDecision],
        *,
        by: str,
        note: str | None = None,
        at: str | None = None,
    ) -> Sequence[int]:
        """Append one decision per row (:class:`~.records.EncodedDecision`), all or nothing,
        streamed in batches. Returns their sequence numbers (a range)."""
        by = person(by, "--by")
        at = at or now_utc()
        try:
            with gc_paused(), self._write():
                self._store_rulebook(book, at)
                return self._append_decisions(rows, book, by=by, note=note, at=at)
        except sqlite3.OperationalError as e:
            raise LedgerError(f"{self.path}: nothing was recorded ({e}): {what_to_do(self.path, e)}") from None

    def override(
        self,
        key: str,
        tier: str,
        *,
        reason: str,
        by: str,
        approved_by: list[str],
        at: str | None = None,
    ) -> OverrideRecord:
        """Override the latest decision of ``key`` into ``tier`` ("disagree and commit"). The
        approvers are people: named, each once (case and spacing aside), and not the person
        overriding unless the rulebook's overrides policy allows it."""
        reason, by, approvers = override_request(reason, by, approved_by)
        at = at or now_utc()
        try:
            with self._write():
                latest = self._latest_decision(key)
                if latest is None:
                    from ..rulebook.conditions import suggest

                    hint = suggest(key, sorted(self.latest_keys()))
                    raise LedgerError(f"no decision recorded for item {key}"
                                      + (hint or "; record it first (launchtier record FILE --by NAME)"))
                book = self.rulebook(latest.rulebook_hash)
                current = self._final_tier(latest)
                needed = override_approvals(book, key, current, tier, by, approvers)
                (seq,) = self._append([override_row(latest, tier, reason=reason, by=by, approved_by=canonical(approvers),
                                                    at=at)])
        except sqlite3.OperationalError as e:
            raise LedgerError(f"{self.path}: the override was not recorded ({e}): {what_to_do(self.path, e)}") from None
        return OverrideRecord(seq=seq, item=key, from_tier=current, tier=tier, reason=reason, by=by,
                              approved_by=approvers, at=at, required_approvals=needed)

    # ---- reading ------------------------------------------------------------------------
    def _last(self) -> tuple[int, str]:
        last = self._conn.execute("SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        return (last[0], last[1]) if last else (0, GENESIS)

    def head(self) -> str | None:
        """The hash at the end of the chain (None for an empty ledger): worth noting elsewhere."""
        seq, entry = self._last()
        return entry if seq else None

    def entries(self, *, seq_range: tuple[int, int] | None = None,
                item: str | None = None, unreadable: bool = False) -> Iterator[Entry | UnreadableEntry]:
        """The entries in order; ``seq_range`` (first, last): only those; ``item``: only its. A
        row that does not read as an entry is refused (:class:`LedgerDamaged`); with
        ``unreadable``, it comes as an :class:`UnreadableEntry` in its place (for the audit)."""
        sql = f"SELECT {', '.join(COLUMNS)} FROM entries"
        clauses, params = [], []
        if item is not None:
            clauses.append("item_key = ?")
            params.append(item)
        if seq_range:
            clauses.append("seq BETWEEN ? AND ?")
            params.extend(seq_range)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        cursor = self._conn.execute(sql + " ORDER BY seq", params)
        while rows := cursor.fetchmany(1000):  # validated a thousand at a time: twice as fast
            try:
                batch = ENTRIES.validate_python([dict(zip(COLUMNS, row)) for row in rows])
            except ValidationError as err:
                if not unreadable:
                    index = err.errors(include_url=False)[0]["loc"][0]
                    raise damaged(self.location, f"entry #{rows[index][0]} cannot be read: {entry_problem(err, batch=True)}") from None
                batch = [entry_or_unreadable(dict(zip(COLUMNS, row))) for row in rows]
            yield from batch

    def _entry_from_row(self, row: tuple) -> Entry:
        fields = dict(zip(COLUMNS, row))
        try:
            return Entry.model_validate(fields)
        except ValidationError as err:
            raise damaged(self.location, f"entry #{fields['seq']} cannot be read: {entry_problem(err)}") from None

    def seq_of(self, hash_: str) -> int | None:
        """The sequence number of the entry whose hash is ``hash_``, None if none has it."""
        row = self._conn.execute("SELECT seq FROM entries WHERE entry_hash = ?", (hash_,)).fetchone()
        return row[0] if row and isinstance(row[0], int) else None

    def seq_bounds(self) -> tuple[int, int]:
        """The first and last sequence numbers (1, 0 for an empty ledger)."""
        first, last = self._conn.execute("SELECT MIN(seq), MAX(seq) FROM entries").fetchone()
        return (first, last) if first is not None else (1, 0)

    def entry(self, seq: int) -> Entry:
        found = list(self.entries(seq_range=(seq, seq)))
        if not found:
            raise LedgerError(f"{self.path}: no entry {seq}")
        return found[0]

    def rulebook(self, hash_: str) -> Rulebook:
        """The stored rulebook ``hash_``, checked against its hash before it is parsed (once per
        ledger opened): a changed one is refused (:class:`LedgerDamaged`), never used."""
        book = self._rulebooks.get(hash_)
        if book is None:
            row = self._conn.execute("SELECT name, version, content FROM rulebooks WHERE hash = ?", (hash_,)).fetchone()
            if row is None:
                raise damaged(self.location, f"rulebook {short(hash_)}, which entries were recorded under, is not stored")
            data, problem = stored_rulebook_problem(hash_, *row)
            if problem:
                raise damaged(self.location, f"stored rulebook {short(hash_)} was changed: {problem}")
            book = rulebook_from_data(data, file=f"ledger rulebook {hash_[:19]}")
            self._rulebooks[hash_] = book
        return book

    def rulebook_hashes(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT hash FROM rulebooks ORDER BY stored_at, hash")]

    def changed_rulebooks(self) -> dict[str, str]:
        """The stored rulebooks that are not as launchtier stored them, with what is wrong, in
        the order they were stored (a set's order varies by process)."""
        changed = {}
        for hash_, name, version, content in self._conn.execute(
                "SELECT hash, name, version, content FROM rulebooks ORDER BY stored_at, hash"):
            _, problem = stored_rulebook_problem(hash_, name, version, content)
            if problem:
                changed[hash_] = problem
        return changed

    def _latest_decision(self, key: str) -> Entry | None:
        row = self._conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM entries WHERE item_key = ? AND kind = 'decision' ORDER BY seq DESC LIMIT 1",
            (key,),
        ).fetchone()
        return self._entry_from_row(row) if row else None

    def _final_tier(self, decision: Entry) -> str:
        row = self._conn.execute(
            "SELECT final_tier FROM entries WHERE overrides_seq = ? ORDER BY seq DESC LIMIT 1", (decision.seq,)
        ).fetchone()
        return row[0] if row else decision.final_tier

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One snapshot for a block that reads the ledger several times (inside a write
        transaction, that one): another writer's batch is wholly before it or after it."""
        if self._conn.in_transaction:
            yield
            return
        self._conn.execute("BEGIN")
        try:
            yield
        finally:
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")

    def _entries_of(self, cursor: sqlite3.Cursor, extra: int = 0) -> Iterator[list[tuple[Entry, tuple]]]:
        """The rows of ``cursor`` (COLUMNS, then ``extra`` more) in batches, as entries (with the
        extra values); a row that does not read as an entry is refused (:class:`LedgerDamaged`)."""
        width = len(COLUMNS)
        while rows := cursor.fetchmany(BATCH):
            try:
                batch = ENTRIES.validate_python([dict(zip(COLUMNS, row[:width])) for row in rows])
            except ValidationError as err:
                index = err.errors(include_url=False)[0]["loc"][0]
                raise damaged(self.location, f"entry #{rows[index][0]} cannot be read: {entry_problem(err, batch=True)}") from None
            yield [(e, row[width:width + extra]) for e, row in zip(batch, rows)]

    def decision(self, e: Entry) -> Decision:
        """The decision recorded in the entry ``e``."""
        try:
            return Decision.model_validate_json(e.decision_json)
        except ValueError:  # (pydantic's ValidationError is a ValueError)
            raise damaged(self.location, f"entry #{e.seq} (item {e.item_key}): the recorded decision cannot be read") from None

    def _records(self, where: str, params: list[Any], order: str = "seq", item: str | None = None,
                 with_items: bool = False) -> Iterator[Any]:
        """The decision entries ``where`` selects, in ``order``, as records with their overrides
        (``item``: only its overrides), read a batch at a time; ``with_items``: each with its
        item as recorded (JSON text)."""
        cursor = self._conn.execute(f"SELECT {', '.join(COLUMNS)} FROM entries WHERE {where} ORDER BY {order}", params)
        for batch in self._entries_of(cursor):
            seqs = [e.seq for e, _ in batch]
            overrides: dict[int, list[OverrideRecord]] = {}
            found = self._conn.execute(
                f"SELECT {', '.join(COLUMNS)} FROM entries WHERE kind = 'override' "
                f"AND overrides_seq IN ({', '.join('?' for _ in seqs)}) ORDER BY seq", seqs)
            for ovs in self._entries_of(found):
                for o, _ in ovs:
                    if item is None or o.item_key == item:
                        add_override(overrides, o, self.rulebook(o.rulebook_hash))
            for e, _ in batch:
                rec = self._record(e, overrides.get(e.seq, []))
                yield (rec, e.item_json) if with_items else rec

    def _record(self, e: Entry, overrides: list[OverrideRecord]) -> DecisionRecord:
        book = self.rulebook(e.rulebook_hash)
        decision = self.decision(e)
        # every field comes from a validated entry or rulebook: not validated again
        return construct(DecisionRecord, dict(
            seq=e.seq, item=e.item_key, title=decision.title, quarter=e.quarter,
            computed_tier=e.computed_tier, final_tier=overrides[-1].tier if overrides else e.final_tier,
            recorded_by=e.recorded_by, recorded_at=e.recorded_at, note=e.note,
            rulebook={"name": book.name, "version": book.version, "hash": e.rulebook_hash}, overrides=overrides,
            decision=decision))

    def history(self, item: str | None = None, quarter: str | None = None, tier: str | None = None) -> Iterator[DecisionRecord]:
        """Each item's decisions in order, with their overrides; filters match the final tier.
        Read as it is consumed, a batch at a time: a ledger of any size in little memory."""
        clauses, params = ["kind = 'decision'"], []
        if item is not None:
            clauses.append("item_key = ?")
            params.append(item)
        if quarter is not None:
            clauses.append("COALESCE(NULLIF(quarter, ''), 'unscheduled') = ?")
            params.append(quarter)
        for rec in self._records(" AND ".join(clauses), params, item=item):
            if tier is None or rec.final_tier == tier:
                yield rec

    def latest(self) -> list[DecisionRecord]:
        """The latest decision of each item (with its overrides), in order of recording."""
        return list(self.iter_latest())

    def iter_latest(self, quarters: Iterable[str] | None = None) -> Iterator[DecisionRecord]:
        """:meth:`latest`, read as it is consumed; ``quarters``: only the items planned for one of them."""
        where, params = f"seq IN ({LATEST})", []
        if quarters is not None:
            params = list(quarters)
            where += f" AND quarter IN ({', '.join('?' for _ in params)})"
        return self._records(where, params)

    def latest_of_items(self, keys: Iterable[str]) -> Iterator[tuple[DecisionRecord, str]]:
        """The latest decision of each of the items ``keys`` that has one, with the item as it
        was recorded (JSON text): only their own history is read."""
        keys = list(dict.fromkeys(keys))
        for start in range(0, len(keys), BATCH):
            some = keys[start:start + BATCH]
            yield from self._records(
                f"seq IN (SELECT MAX(seq) FROM entries WHERE kind = 'decision' "
                f"AND item_key IN ({', '.join('?' for _ in some)}) GROUP BY item_key)", some, with_items=True)

    def latest_keys(self) -> frozenset[str]:
        """The items that have a recorded decision."""
        return frozenset(r[0] for r in self._conn.execute("SELECT DISTINCT item_key FROM entries WHERE kind = 'decision'"))

    def maybe_overridden(self) -> Iterator[DecisionRecord]:
        """The latest decisions that may stand overridden, and a few more: the caller keeps
        those that are. An override entry follows them, or they were recorded with one, and
        then with the tier it overrode (computed) beside the one it gave (final), which differ.
        The others are not read at all."""
        return self._records(
            f"seq IN ({LATEST}) AND (computed_tier <> final_tier "
            "OR EXISTS (SELECT 1 FROM entries o WHERE o.kind = 'override' AND o.overrides_seq = entries.seq))", [])

    def latest_entries(self, quarters: Iterable[str]) -> Iterator[tuple[Entry, str]]:
        """The entries of the latest decisions of the items planned for one of ``quarters``,
        in order, each with its final tier (after overrides): what a roadmap ranks against."""
        params = list(quarters)
        if not params:
            return
        cursor = self._conn.execute(
            f"SELECT {', '.join(COLUMNS)}, {FINAL_TIER} FROM entries WHERE seq IN ({LATEST}) "
            f"AND quarter IN ({', '.join('?' for _ in params)}) ORDER BY seq", params)
        for batch in self._entries_of(cursor, extra=1):
            for e, (final,) in batch:
                yield e, final

    def recorded_tiers(self) -> list[str]:
        """The final tiers that entries of the ledger record."""
        return [r[0] for r in self._conn.execute("SELECT DISTINCT final_tier FROM entries ORDER BY final_tier")]

    def decisions_since(self, since: str) -> set[int]:
        """The sequence numbers of the decisions recorded on or after ``since`` (a date or time)."""
        return {r[0] for r in self._conn.execute(
            "SELECT seq FROM entries WHERE kind = 'decision' AND recorded_at >= ?", (since,))}

    def precedent_candidates(self, exclude: str, limit: int) -> Iterator[tuple[DecisionRecord, dict[str, Any]]]:
        """The latest decision of each other item, with its signals as recorded, the most recent
        first, at most ``limit``: what the precedents are ranked from."""
        for rec, item_json in self._records(f"seq IN ({LATEST}) AND item_key <> ?", [exclude],
                                            order=f"seq DESC LIMIT {int(limit)}", with_items=True):
            try:
                signals = json.loads(item_json)["signals"]
            except (ValueError, TypeError, KeyError, RecursionError):
                signals = None
            if not isinstance(signals, dict):
                raise damaged(self.location, f"entry #{rec.seq} (item {rec.item}): the recorded item cannot be read")
            yield rec, signals


def what_to_do(path: Path, error: sqlite3.Error) -> str:
    """What the person at the keyboard can do about a write that SQLite refused."""
    text = str(error).lower()
    if "disk is full" in text:
        return f"the disk holding {path} is full; free some space and run the command again (the ledger is unchanged)"
    if "readonly" in text or "read-only" in text:
        return (f"the ledger cannot be written; SQLite needs to write {path.name} and, beside it, {path.name}-wal and "
                f"{path.name}-shm: check the permissions of the file and of {path.parent}, or use another ledger with --db")
    if "locked" in text or "busy" in text:
        return (f"another launchtier kept the ledger busy for more than {BUSY_TIMEOUT_MS // 1000} s; "
                "run the command again when it has finished")
    if "i/o error" in text:
        return f"the disk failed while writing {path}; check the disk, then run the command again"
    if "unable to open" in text:
        return f"check that {path.parent} exists and can be written, or use another ledger with --db"
    return "run the command again; if it fails again, check the ledger file and its disk"



# ---- the store's entry points (engine.ledger picks this store for a location that is a path) --
def open_store(location: str | None, *, create: bool, readonly: bool, audit: bool) -> Ledger:
    return Ledger(location, create=create, readonly=readonly, audit=audit)


def open_if_present(location: str | None) -> Ledger | None:
    path = resolve_path(location)
    return Ledger(path, create=False, readonly=True) if path.exists() else None


def where(location: str | None) -> str:
    return shown(resolve_path(location))

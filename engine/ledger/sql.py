"""What the SQL stores share: a ledger kept in the tables of :mod:`.schema` (``meta``,
``rulebooks``, ``entries``), read and written with the same SQL whatever the database
(:class:`SqlLedger`). A store (:mod:`.sqlite`, :mod:`.postgres`) subclasses it with what only it
knows: how to connect, how to open and end a transaction that holds off every other writer of the
chain, what its driver's errors mean to the user, and how it lists its tables and columns.

The SQL here is plain (standard types, ``?`` parameters, which a store whose driver takes
another style translates in :meth:`SqlLedger._sql`). The chain is extended inside the writing
transaction, so several processes recording at once serialise and never fork it. Whatever does
not match what launchtier wrote (:mod:`.chain`: an entry's hash, a stored rulebook's; the meta
table) was changed outside launchtier: the commands refuse the ledger (:class:`LedgerDamaged`)
and the audit names every such change.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from itertools import islice
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from pydantic import ValidationError

from ..decide.decision import Decision, construct
from ..errors import LedgerDamaged, LedgerError
from ..runtime import gc_paused
from ..rulebook.model import Rulebook, rulebook_from_data
from . import schema

if TYPE_CHECKING:  # bound by load(), when a ledger is first opened
    from . import records
    from .chain import COLUMNS, GENESIS, canonical, damaged, entry_hash_of, short, stored_rulebook_problem, chained
    from .policy import add_override, override_approvals, override_request, person
    from .records import (ENTRIES, DecisionRecord, Entry, OverrideRecord, UnreadableEntry, EncodedDecision,
                          entry_or_unreadable, entry_problem, override_row)

# The stores' own imports: the records (pydantic models), the chain and the approval policy. They
# are made when a ledger is first opened (SqlLedger subclasses call load), not with this module:
# a command that merely may use a ledger asks a store's open_if_present, and where there is none
# (a one-off classify) it never pays for them. Its methods read them as this module's globals.
LAZY = frozenset({
    "records",
    "COLUMNS", "GENESIS", "canonical", "chained", "damaged", "entry_hash_of", "short", "stored_rulebook_problem",
    "add_override", "override_approvals", "override_request", "person",
    "ENTRIES", "DecisionRecord", "Entry", "OverrideRecord", "UnreadableEntry", "EncodedDecision",
    "entry_or_unreadable", "entry_problem", "override_row",
})
_loaded = False


def load() -> None:
    """Bind the stores' own imports (see ``LAZY``) as globals of this module, once."""
    global _loaded, records
    global COLUMNS, GENESIS, canonical, chained, damaged, entry_hash_of, short, stored_rulebook_problem
    global add_override, override_approvals, override_request, person
    global ENTRIES, DecisionRecord, Entry, OverrideRecord, UnreadableEntry, EncodedDecision
    global entry_or_unreadable, entry_problem, override_row
    if _loaded:
        return
    from . import records
    from .chain import COLUMNS, GENESIS, canonical, chained, damaged, entry_hash_of, short, stored_rulebook_problem
    from .policy import add_override, override_approvals, override_request, person
    from .records import (ENTRIES, DecisionRecord, Entry, OverrideRecord, UnreadableEntry, EncodedDecision,
                          entry_or_unreadable, entry_problem, override_row)
    _loaded = True


def __getattr__(name: str) -> Any:
    if name in LAZY and not _loaded:
        load()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The latest decision of each item: what a roadmap, a review and the precedents read.
LATEST = "SELECT MAX(seq) FROM entries WHERE kind = 'decision' GROUP BY item_key"
# Its final tier: the tier of the last override that followed it, else its own.
FINAL_TIER = ("COALESCE((SELECT o.final_tier FROM entries o WHERE o.kind = 'override' AND o.overrides_seq = entries.seq "
              "ORDER BY o.seq DESC LIMIT 1), entries.final_tier)")
BATCH = 500  # rows read, validated and given their overrides at a time: bounded memory, few queries
WRITE_BATCH = 1000  # decisions appended per executemany: bounded memory, few calls into the driver
RULEBOOK_COLUMNS = ("hash", "name", "version", "content", "stored_at")

# A schema_version as launchtier writes it: str() of a positive int
_VERSION = re.compile(r"[1-9][0-9]{0,8}")


def _version(value: Any) -> int | None:
    """The schema version in a meta value, None if launchtier would never have written it."""
    return int(value) if isinstance(value, str) and _VERSION.fullmatch(value) else None


class SqlLedger:
    """A ledger in the tables of :mod:`.schema`: what every SQL store does the same way. A
    subclass connects (``self._conn``, whose ``execute`` returns a DB-API cursor), names itself
    (:attr:`location`) and provides the hooks below."""

    DIALECT = ""  # the schema's dialect (schema.migrations)
    _conn: Any

    # ---- hooks: what only the store knows -----------------------------------------------
    @property
    def location(self) -> str:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        """``sql`` in the driver's parameter style (here: ``?``)."""
        return sql

    def _run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._sql(sql), params)

    def _run_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        raise NotImplementedError

    @contextmanager
    def _streaming(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        """A cursor over the rows of ``sql`` that the block reads a batch at a time (fetchmany),
        never all at once: here the driver's own (SQLite steps through the rows as they are asked)."""
        yield self._run(sql, params)

    def _in_transaction(self) -> bool:
        raise NotImplementedError

    def _begin_write(self) -> None:
        """Start a transaction that holds off every other writer of this chain until it ends."""
        raise NotImplementedError

    def _begin_read(self) -> None:
        """Start a transaction that reads one snapshot."""
        raise NotImplementedError

    def _end(self, commit: bool) -> None:
        """Commit (or roll back) the transaction; a rollback after the database has undone the
        transaction itself (a full disk, a lost connection) is quiet: the error in flight is the
        one to report."""
        raise NotImplementedError

    def _failure(self, error: Exception) -> str | None:
        """What the user can do about ``error``, a write the database refused; None for an
        error that is not the database's refusal (it goes on as it is)."""
        raise NotImplementedError

    def _error_text(self, error: Exception) -> str:
        """The driver's own words for ``error``, on one line."""
        return str(error)

    def _table_names(self) -> set[str]:
        raise NotImplementedError

    def _column_names(self, table: str) -> set[str]:
        raise NotImplementedError

    # ---- opening ------------------------------------------------------------------------
    def _check(self, *, readonly: bool, audit: bool, tables: set[str], prepare=None) -> None:
        """What every store checks when it opens a ledger that holds ``tables``: launchtier's
        tables and meta, then (a writer) the migration to this schema version (``prepare``
        first, once it is known to be a ledger), else (a reader) that version."""
        problem = self._table_problem(tables)
        if problem:
            # the audit cannot go through entries that are not there: it says so, on one line
            raise LedgerDamaged(f"{self.location} was changed outside launchtier ({problem})") if audit else damaged(
                self.location, problem)
        meta = self.meta_problems()
        if meta:
            if not audit:
                raise damaged(self.location, meta[0])
        elif not readonly:
            if prepare is not None:
                prepare()
            self._migrate()
        elif self.schema_version() > schema.SCHEMA_VERSION:
            raise self._newer()
        elif self.schema_version() != schema.SCHEMA_VERSION:
            raise LedgerError(f"{self.location}: schema version {self.schema_version()}, expected {schema.SCHEMA_VERSION}; "
                              "record a decision in it once (launchtier record) to migrate it")
        if not audit and "entries" in tables:
            # commands read entries by kind (indexed): a row of another kind would be skipped,
            # not refused, and the history shown without it
            odd = self._run("SELECT seq, kind FROM entries WHERE kind NOT IN ('decision', 'override') "
                            "ORDER BY seq LIMIT 1").fetchone()
            if odd is not None:
                raise damaged(self.location, f"entry #{odd[0]} cannot be read: kind: {odd[1]!r} is not allowed; "
                                             "expected one of decision, override")

    def _newer(self) -> LedgerError:
        return LedgerError(
            f"{self.location}: ledger schema version {self.schema_version()} is newer than this launchtier "
            f"understands ({schema.SCHEMA_VERSION}); upgrade launchtier to use this ledger"
        )

    def __enter__(self) -> "SqlLedger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- schema -------------------------------------------------------------------------
    def _tables(self) -> set[str]:
        return self._table_names()

    def _table_problem(self, tables: set[str]) -> str | None:
        """What is missing of the tables (and their columns) that a ledger's commands read, in
        a file that holds any of them."""
        if not tables & {"meta", "rulebooks", "entries"}:
            return None
        missing = [t for t in ("rulebooks", "entries") if t not in tables]
        if missing:
            return f"its {' and '.join(missing)} table{'s are' if len(missing) > 1 else ' is'} missing"
        for table, columns in (("rulebooks", RULEBOOK_COLUMNS), ("entries", COLUMNS)):
            have = self._column_names(table)
            lost = [c for c in columns if c not in have]
            if lost:
                return f"its {table} table lacks the column{'s' if len(lost) > 1 else ''} {', '.join(lost)}"
        return None

    def schema_version(self) -> int:
        """The schema version in the meta table; 0 for a new ledger (and for a meta table that
        launchtier did not write: see :meth:`meta_problems`)."""
        if "meta" not in self._tables():
            return 0
        row = self._run("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        return (_version(row[0]) or 0) if row else 0

    def meta_problems(self) -> list[str]:
        """What in the meta table launchtier did not write. It writes one row, schema_version,
        with the tables; nothing else, and never a table without it."""
        tables = self._tables()
        if "meta" not in tables:
            return ["the meta table is missing"] if tables & {"rulebooks", "entries"} else []
        problems, versioned = [], False
        for name, value in self._run("SELECT name, value FROM meta ORDER BY name"):
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
        if current > schema.SCHEMA_VERSION:
            raise self._newer()
        if current == schema.SCHEMA_VERSION:
            return
        # one transaction: a migration that fails leaves the ledger at the version it had
        with self._refusing(f"cannot be upgraded from schema version {current} to {schema.SCHEMA_VERSION}", "; it is unchanged"), \
                self._write():
            current = self.schema_version()  # another process may have migrated meanwhile
            for version in range(current + 1, schema.SCHEMA_VERSION + 1):
                for statement in schema.migrations(self.DIALECT, version):
                    self._run(statement)
                self._run("DELETE FROM meta WHERE name = 'schema_version'")
                self._run("INSERT INTO meta (name, value) VALUES ('schema_version', ?)", (str(version),))

    @contextmanager
    def _refusing(self, what: str, then: str = "") -> Iterator[None]:
        """The database's refusal of the block's write, as a LedgerError that says ``what``
        failed and why (``then``: what became of the ledger), and what to do."""
        try:
            yield
        except LedgerError:
            raise
        except Exception as e:
            failure = self._failure(e)
            if failure is None:
                raise
            raise LedgerError(f"{self.location}: {what} ({self._error_text(e)}){then}: {failure}") from None

    class _Transaction:
        """The store's write transaction (:meth:`_begin_write`) until the block ends, then commit,
        or roll back on an exception. Inside another one it is that one: what reads and writes
        inside it (a roadmap decided against the ledger, then recorded) is one transaction."""

        def __init__(self, ledger: "SqlLedger"):
            self.ledger = ledger
            self.outer = False

        def __enter__(self) -> None:
            if not self.ledger._in_transaction():
                self.outer = True
                self.ledger._begin_write()

        def __exit__(self, exc_type, exc, tb) -> None:
            if self.outer:
                self.ledger._end(commit=exc_type is None)

    def _write(self) -> "_Transaction":
        return SqlLedger._Transaction(self)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One write transaction for a block that reads the ledger, decides, and records: no
        other writer comes in between (the roadmap's capacity counts what is recorded)."""
        with self._refusing("nothing was recorded"), self._write():
            yield

    # ---- writing ------------------------------------------------------------------------
    def _store_rulebook(self, book: Rulebook, at: str) -> None:
        exists = self._run("SELECT name, version, content FROM rulebooks WHERE hash = ?", (book.hash,)).fetchone()
        if exists:
            # new decisions recorded under a changed copy could never be replayed
            _, problem = stored_rulebook_problem(book.hash, *exists)
            if problem:
                raise damaged(self.location, f"stored rulebook {short(book.hash)} was changed: {problem}")
        else:
            self._run(
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
            self._run(sql, [row[c] for c in COLUMNS])
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
            self._run_many(sql, values)
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
        at = at or records.now_utc()
        with self._refusing("nothing was recorded"), gc_paused(), self._write():
            self._store_rulebook(book, at)
            return self._append_decisions(rows, book, by=by, note=note, at=at)

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
        at = at or records.now_utc()
        with self._refusing("the override was not recorded"), self._write():
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
        return OverrideRecord(seq=seq, item=key, from_tier=current, tier=tier, reason=reason, by=by,
                              approved_by=approvers, at=at, required_approvals=needed)

    # ---- reading ------------------------------------------------------------------------
    def _last(self) -> tuple[int, str]:
        last = self._run("SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
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
        with self._streaming(sql + " ORDER BY seq", params) as cursor:
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
        row = self._run("SELECT seq FROM entries WHERE entry_hash = ?", (hash_,)).fetchone()
        return row[0] if row and isinstance(row[0], int) else None

    def seq_bounds(self) -> tuple[int, int]:
        """The first and last sequence numbers (1, 0 for an empty ledger)."""
        first, last = self._run("SELECT MIN(seq), MAX(seq) FROM entries").fetchone()
        return (first, last) if first is not None else (1, 0)

    def entry(self, seq: int) -> Entry:
        found = list(self.entries(seq_range=(seq, seq)))
        if not found:
            raise LedgerError(f"{self.location}: no entry {seq}")
        return found[0]

    def rulebook(self, hash_: str) -> Rulebook:
        """The stored rulebook ``hash_``, checked against its hash before it is parsed (once per
        ledger opened): a changed one is refused (:class:`LedgerDamaged`), never used."""
        book = self._rulebooks.get(hash_)
        if book is None:
            row = self._run("SELECT name, version, content FROM rulebooks WHERE hash = ?", (hash_,)).fetchone()
            if row is None:
                raise damaged(self.location, f"rulebook {short(hash_)}, which entries were recorded under, is not stored")
            data, problem = stored_rulebook_problem(hash_, *row)
            if problem:
                raise damaged(self.location, f"stored rulebook {short(hash_)} was changed: {problem}")
            book = rulebook_from_data(data, file=f"ledger rulebook {hash_[:19]}")
            self._rulebooks[hash_] = book
        return book

    def rulebook_hashes(self) -> list[str]:
        return [r[0] for r in self._run("SELECT hash FROM rulebooks ORDER BY stored_at, hash")]

    def changed_rulebooks(self) -> dict[str, str]:
        """The stored rulebooks that are not as launchtier stored them, with what is wrong, in
        the order they were stored (a set's order varies by process)."""
        changed = {}
        for hash_, name, version, content in self._run(
                "SELECT hash, name, version, content FROM rulebooks ORDER BY stored_at, hash"):
            _, problem = stored_rulebook_problem(hash_, name, version, content)
            if problem:
                changed[hash_] = problem
        return changed

    def _latest_decision(self, key: str) -> Entry | None:
        row = self._run(
            f"SELECT {', '.join(COLUMNS)} FROM entries WHERE item_key = ? AND kind = 'decision' ORDER BY seq DESC LIMIT 1",
            (key,),
        ).fetchone()
        return self._entry_from_row(row) if row else None

    def _final_tier(self, decision: Entry) -> str:
        row = self._run(
            "SELECT final_tier FROM entries WHERE overrides_seq = ? ORDER BY seq DESC LIMIT 1", (decision.seq,)
        ).fetchone()
        return row[0] if row else decision.final_tier

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One snapshot for a block that reads the ledger several times (inside a write
        transaction, that one): another writer's batch is wholly before it or after it."""
        if self._in_transaction():
            yield
            return
        self._begin_read()
        try:
            yield
        finally:
            if self._in_transaction():
                self._end(commit=True)

    def _entries_of(self, cursor: Any, extra: int = 0) -> Iterator[list[tuple[Entry, tuple]]]:
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
        with self._streaming(f"SELECT {', '.join(COLUMNS)} FROM entries WHERE {where} ORDER BY {order}", params) as cursor:
            for batch in self._entries_of(cursor):
                seqs = [e.seq for e, _ in batch]
                overrides: dict[int, list[OverrideRecord]] = {}
                found = self._run(
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
        return frozenset(r[0] for r in self._run("SELECT DISTINCT item_key FROM entries WHERE kind = 'decision'"))

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
        with self._streaming(
            f"SELECT {', '.join(COLUMNS)}, {FINAL_TIER} FROM entries WHERE seq IN ({LATEST}) "
            f"AND quarter IN ({', '.join('?' for _ in params)}) ORDER BY seq", params) as cursor:
            for batch in self._entries_of(cursor, extra=1):
                for e, (final,) in batch:
                    yield e, final

    def recorded_tiers(self) -> list[str]:
        """The final tiers that entries of the ledger record."""
        return [r[0] for r in self._run("SELECT DISTINCT final_tier FROM entries ORDER BY final_tier")]

    def decisions_since(self, since: str) -> set[int]:
        """The sequence numbers of the decisions recorded on or after ``since`` (a date or time)."""
        return {r[0] for r in self._run(
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

    # ---- copying a chain from another SQL ledger (engine.ledger.copy) ---------------------
    def rulebook_rows(self) -> Iterator[tuple]:
        """The stored rulebooks as stored (hash, name, version, content, stored_at), in order."""
        yield from self._run(f"SELECT {', '.join(RULEBOOK_COLUMNS)} FROM rulebooks ORDER BY stored_at, hash").fetchall()

    def append_copies(self, after: str | None, rulebooks: Iterable[tuple], entries: Iterable[Entry]) -> int:
        """Append ``entries`` (another ledger's, as they are, hashes and all) after the head
        ``after`` (None: to an empty chain), with the stored ``rulebooks`` this one lacks; all or
        nothing. Returns how many entries were appended."""
        insert = f"INSERT INTO entries ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
        count = 0
        with self._refusing("nothing was copied"), gc_paused(), self._write():
            if self.head() != after:  # another writer came first
                raise LedgerError(f"{self.location}: its chain changed while it was being copied into; nothing was "
                                  "copied: run the copy again")
            have = set(self.rulebook_hashes())
            for row in rulebooks:
                if row[0] not in have:
                    self._run(f"INSERT INTO rulebooks ({', '.join(RULEBOOK_COLUMNS)}) VALUES (?, ?, ?, ?, ?)", row)
            it = iter(entries)
            while block := list(islice(it, WRITE_BATCH)):
                self._run_many(insert, [[getattr(e, c) for c in COLUMNS] for e in block])
                count += len(block)
        return count

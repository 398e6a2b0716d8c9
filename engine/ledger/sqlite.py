"""The SQLite ledger store: a ledger in one SQLite file (:class:`Ledger`, a
:class:`~.store.LedgerStore`). This module alone imports sqlite3, knows that a ledger's location
is a file path, and turns SQLite's errors into what the user can do; the tables, the SQL and the
chain are every SQL store's (:mod:`.schema`, :mod:`.sql`).

The chain is extended inside the writing transaction (``BEGIN IMMEDIATE``), so several processes
recording at once serialise and never fork it. An SQLite file holds one chain (the one named
"main" where chains are named, as in PostgreSQL).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import LedgerDamaged, LedgerError, LedgerMissing, shown
from . import sql
from .schema import MIGRATIONS, SCHEMA_VERSION  # noqa: F401  (what a test of the schema reads here)
from .sql import SqlLedger

if TYPE_CHECKING:  # bound by _load(), when a ledger is first opened
    import sqlite3

    from ..rulebook.model import Rulebook

# sqlite3 is imported when a ledger is first opened (Ledger() calls _load), not with this module:
# a command that merely may use a ledger asks open_if_present, and where there is none (a one-off
# classify) it never pays for it, nor for the records, the chain and the policy (sql.LAZY), which
# this module's names still reach (a test's monkeypatch, say).
_loaded = False


def _load() -> None:
    global _loaded, sqlite3
    if _loaded:
        return
    import sqlite3

    sql.load()
    _loaded = True


def __getattr__(name: str) -> Any:
    if name == "sqlite3" or name in sql.LAZY:
        _load()
        return globals()[name] if name == "sqlite3" else getattr(sql, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


DEFAULT_PATH = "launchtier.db"
BUSY_TIMEOUT_MS = 60_000
CHAIN = "main"  # the one chain of an SQLite file


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

class Ledger(SqlLedger):
    """The decision ledger in the SQLite file at ``path`` (created on first write): a
    :class:`~.store.LedgerStore`."""

    DIALECT = "sqlite"

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
            self._check(readonly=readonly, audit=audit, tables=tables, prepare=self._journal)
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

    def _journal(self) -> None:
        # only once it is known to be a ledger (or a new file): WAL changes the file
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")

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

    # ---- the hooks of SqlLedger ---------------------------------------------------------
    def _run_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def _in_transaction(self) -> bool:
        return self._conn.in_transaction

    def _begin_write(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")  # the write lock: other writers wait (busy_timeout)

    def _begin_read(self) -> None:
        self._conn.execute("BEGIN")

    def _end(self, commit: bool) -> None:
        if commit:
            try:
                self._conn.execute("COMMIT")
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
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def _failure(self, error: Exception) -> str | None:
        return what_to_do(self.path, error) if isinstance(error, sqlite3.OperationalError) else None

    def _table_names(self) -> set[str]:
        return {name for (name,) in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _column_names(self, table: str) -> set[str]:
        return {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}


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


def chains(location: str | None) -> list[str]:
    """The chains of the ledger at ``location``: an SQLite file holds one."""
    return [CHAIN]


def chain_location(location: str | None, chain: str) -> str:
    """The location of the chain ``chain`` of the ledger at ``location``: the file's own."""
    if chain != CHAIN:
        raise LedgerError(f"{where(location)}: an SQLite ledger holds one chain, {CHAIN}; there is no chain {chain!r}")
    return str(resolve_path(location))


def writer_grants(location: str | None, role: str) -> str:
    raise LedgerError(f"{where(location)}: an SQLite ledger has no database roles; who may write it is who may write "
                      "the file (and its directory); a PostgreSQL ledger has roles")

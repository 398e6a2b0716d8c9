"""The PostgreSQL ledger store: the ledgers of many teams in one PostgreSQL database, written by
many people at once from many machines (:class:`PostgresLedger`, a :class:`~.store.LedgerStore`).
This module alone imports psycopg (psycopg 3, the ``launchtier[postgres]`` extra), knows what a
PostgreSQL location is, and turns the server's errors into what the user can do; the tables, the
SQL and the chain are every SQL store's (:mod:`.schema`, :mod:`.sql`).

A location is a libpq URL with an optional chain: ``postgresql://user@host/dbname?chain=payments``
(``postgres://`` too; every other parameter is libpq's). Each chain lives in a schema of its own,
``launchtier_<chain>`` (chain "main" when the URL names none), with the tables of :mod:`.schema`:
the SQL is the SQLite store's, word for word, and each team's chain is audited on its own.

The chain is extended inside one transaction that first takes a transaction-scoped advisory lock
on the chain (``pg_advisory_xact_lock``), then reads the head and inserts: writers of one chain,
on any machine, take turns; writers of other chains do not wait. A writer that dies mid-batch
loses its connection, and the server rolls its transaction back: nothing of the batch is kept.
The schema's triggers refuse UPDATE, DELETE and TRUNCATE of entries and stored rulebooks, even by
their owner; :func:`writer_grants` is the SQL of a role that may only INSERT and SELECT.
"""

from __future__ import annotations

import hashlib
import os
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import LedgerDamaged, LedgerError, LedgerMissing, shown
from . import sql
from .sql import SqlLedger

if TYPE_CHECKING:  # bound by _load(), when a ledger is first opened
    import psycopg

    from ..rulebook.model import Rulebook

_loaded = False


def _load() -> None:
    """Import psycopg (when a PostgreSQL ledger is first opened: never for an SQLite one)."""
    global _loaded, psycopg
    if _loaded:
        return
    try:
        import psycopg
    except ImportError:
        raise LedgerError("a PostgreSQL ledger needs psycopg: pip install 'launchtier[postgres]' "
                          "(and the PostgreSQL client library, libpq: Debian's libpq5)") from None
    sql.load()
    _loaded = True


DEFAULT_CHAIN = "main"
SCHEMA_PREFIX = "launchtier_"
CONNECT_TIMEOUT_S = 10
# A chain's name: a schema name's part without quoting, the same in every database
_CHAIN = re.compile(r"[a-z][a-z0-9_]{0,39}")
# The libpq error classes (SQLSTATE's first two characters), in the user's words
_CLASSES = {
    "08": "the connection to the database server was lost; check the server and the network, then run the command again",
    "53": "the database server is out of disk space or memory; ask its administrator, then run the command again",
    "57": "the database server stopped or cancelled the command; run the command again when it is back",
    "40": "the database server gave up on this transaction (a deadlock or a conflict); run the command again",
    "25": "the database refuses writes here (a read-only server or standby); point --db at the primary server",
    "42": "the database refused the statement; check that this role may use the chain (launchtier ledger grants)",
}


class Location:
    """A PostgreSQL location, taken apart: what to connect to, and the chain."""

    def __init__(self, location: str | None):
        text = location or os.environ.get("LAUNCHTIER_DB") or ""
        parts = urlsplit(text)
        query = parse_qsl(parts.query, keep_blank_values=True)
        chains = [v for k, v in query if k == "chain"]
        self.chain = chains[-1] if chains else DEFAULT_CHAIN
        if not _CHAIN.fullmatch(self.chain):
            raise LedgerError(f"{self._shown(parts, query)}: chain {self.chain!r} is not a chain name; use lower-case "
                              "letters, digits and _, starting with a letter (at most 40)")
        rest = [(k, v) for k, v in query if k != "chain"]
        self.conninfo = urlunsplit(parts._replace(query=urlencode(rest)))
        self.spec = urlunsplit(parts._replace(query=urlencode(rest + [("chain", self.chain)])))
        self.shown = self._shown(parts, rest + [("chain", self.chain)])
        self.schema = SCHEMA_PREFIX + self.chain

    @staticmethod
    def _shown(parts, query) -> str:
        # never the password, in the URL or in its parameters
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.partition(':')[0]}@{host}"
        query = [(k, v) for k, v in query if k != "password"]
        return shown(urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="/"))))

    def with_chain(self, chain: str) -> str:
        parts = urlsplit(self.spec)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "chain"]
        return urlunsplit(parts._replace(query=urlencode(query + [("chain", chain)])))


def chain_lock(chain: str) -> int:
    """The advisory lock key of a chain (a signed 64-bit int); advisory locks are the database's
    own, so chains of the same name in two databases do not wait for each other."""
    return int.from_bytes(hashlib.sha256(f"launchtier chain {chain}".encode()).digest()[:8], "big", signed=True)


def _connect(where: Location) -> "psycopg.Connection":
    try:
        return psycopg.connect(where.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                               application_name="launchtier")
    except psycopg.Error as e:
        raise LedgerError(f"{where.shown}: cannot connect to the database ({_first_line(e)}); check the URL "
                          "(postgresql://USER@HOST/DBNAME), that the server runs, and the role's password "
                          "(PGPASSWORD or ~/.pgpass)") from None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _schema_exists(conn: "psycopg.Connection", schema: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None


class PostgresLedger(SqlLedger):
    """The chain of a ledger in a PostgreSQL database: a :class:`~.store.LedgerStore`."""

    DIALECT = "postgresql"

    def __init__(self, location: str | None = None, *, create: bool = True, readonly: bool = False,
                 audit: bool = False):
        """As :class:`.sqlite.Ledger`'s: ``readonly`` never creates, migrates or changes the
        chain (the session is read only, too); ``audit`` reports a meta table launchtier did not
        write instead of refusing the chain."""
        self._where = Location(location)
        _load()
        self._cursors = 0
        self._conn = _connect(self._where)
        try:
            if not _schema_exists(self._conn, self._where.schema):
                if readonly or not create:
                    raise LedgerMissing(self.location, f"no ledger here yet (no chain {self._where.chain}); record "
                                        "decisions first (launchtier record FILE --by NAME), or check the URL and its "
                                        "?chain= (launchtier ledger chains lists them)")
                self._create_schema()
            self._conn.execute(f'SET search_path TO "{self._where.schema}"')
            if readonly:
                self._conn.execute("SET default_transaction_read_only = on")
            tables = self._tables()
            if readonly and not tables:
                raise LedgerDamaged(f"{self.location} is not a ledger: its schema {self._where.schema} has no tables")
            self._check(readonly=readonly, audit=audit, tables=tables)
        except psycopg.Error as e:
            self._close_quietly()
            raise LedgerError(f"{self.location}: cannot be opened ({_first_line(e)}): {self._failure(e)}") from None
        except LedgerError:
            self._close_quietly()
            raise
        self._rulebooks: dict[str, Rulebook] = {}

    def _create_schema(self) -> None:
        # under the chain's lock: two first writers at once create it once
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (chain_lock(self._where.chain),))
            self._conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self._where.schema}"')

    @property
    def location(self) -> str:
        return self._where.shown

    @property
    def chain(self) -> str:
        return self._where.chain

    def reopen_spec(self) -> str:
        return self._where.spec

    def close(self) -> None:
        self._conn.close()

    def _close_quietly(self) -> None:
        if getattr(self, "_conn", None) is not None:
            self._conn.close()

    # ---- the hooks of SqlLedger ---------------------------------------------------------
    def _sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def _run(self, text: str, params: Sequence[Any] = ()) -> Any:
        # without parameters the text goes as it is (a trigger's body has % signs of its own)
        return self._conn.execute(self._sql(text) if params else text, params or None)

    def _run_many(self, text: str, rows: list[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(self._sql(text), rows)

    @contextmanager
    def _streaming(self, text: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        # a server-side cursor: each fetchmany is one FETCH, so the client holds one batch of a
        # ledger of any size (a psycopg client cursor would hold the whole result). Outside a
        # transaction it is WITH HOLD: the server keeps the result until the cursor is closed.
        self._cursors += 1
        cursor = self._conn.cursor(name=f"launchtier_{self._cursors}", withhold=not self._in_transaction())
        try:
            cursor.execute(self._sql(text) if params else text, params or None)
            yield cursor
        finally:
            try:
                cursor.close()
            except psycopg.Error:
                pass  # a lost connection: the error in flight is the one to report

    def _in_transaction(self) -> bool:
        return self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def _begin_write(self) -> None:
        self._conn.execute("BEGIN")
        try:
            # every writer of this chain, on any machine, waits here until the one before
            # commits: then it reads the head that one left, and extends the chain from it
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (chain_lock(self._where.chain),))
        except BaseException:
            self._rollback()  # a wait cut short (a timeout, Ctrl-C) leaves no transaction open
            raise

    def _begin_read(self) -> None:
        self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")

    def _end(self, commit: bool) -> None:
        if commit:
            try:
                self._conn.execute("COMMIT")
            except psycopg.Error:
                self._rollback()
                raise
        else:
            self._rollback()

    def _rollback(self) -> None:
        # a lost connection has no transaction to roll back (the server did): the error in
        # flight is the one to report
        try:
            self._conn.execute("ROLLBACK")
        except psycopg.Error:
            pass

    def _failure(self, error: Exception) -> str | None:
        if not isinstance(error, psycopg.Error):
            return None
        state = getattr(error, "sqlstate", None) or ""
        if state == "42501":
            return ("this database role may not use the chain as asked: a reader needs SELECT on its tables, a writer "
                    "INSERT too (launchtier ledger grants prints the SQL); no role may change or remove what is recorded")
        if isinstance(error, psycopg.OperationalError) and not state:
            return _CLASSES["08"]
        return _CLASSES.get(state[:2], "run the command again; if it fails again, check the database server's log")

    def _error_text(self, error: Exception) -> str:
        return _first_line(error)  # the server's message, without its DETAIL, HINT and CONTEXT lines

    # from the catalog, which every role reads (information_schema lists only what the role may use)
    def _table_names(self) -> set[str]:
        return {r[0] for r in self._conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s",
                                                 (self._where.schema,))}

    def _column_names(self, table: str) -> set[str]:
        return {r[0] for r in self._conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
            (f'"{self._where.schema}"."{table}"',))}


def writer_grants(location: str | None, role: str) -> str:
    """The SQL that lets ``role`` record in the chain at ``location`` and read it, and nothing
    else: no UPDATE, DELETE or TRUNCATE (the triggers refuse those to everyone anyway)."""
    where = Location(location)
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise LedgerError(f"role {role!r} is not a role name; use lower-case letters, digits and _")
    schema = where.schema
    return "\n".join([
        f"-- launchtier: the role {role} records in chain {where.chain} and reads it; it never changes or removes",
        "-- what is recorded. Run as the owner of the ledger, after the chain exists (launchtier ledger init).",
        f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;",
        f"GRANT USAGE ON SCHEMA {schema} TO {role};",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role};",
        f"GRANT INSERT ON {schema}.entries, {schema}.rulebooks TO {role};",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {schema} FROM {role};",
        f"-- then, for each person or service: CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE {role};",
        "",
    ])


# ---- the store's entry points (engine.ledger picks this store for postgresql:// and postgres://)
def open_store(location: str | None, *, create: bool, readonly: bool, audit: bool) -> PostgresLedger:
    return PostgresLedger(location, create=create, readonly=readonly, audit=audit)


def open_if_present(location: str | None) -> PostgresLedger | None:
    where = Location(location)
    _load()
    conn = _connect(where)
    try:
        present = _schema_exists(conn, where.schema)
    finally:
        conn.close()
    return PostgresLedger(location, create=False, readonly=True) if present else None


def where(location: str | None) -> str:
    return Location(location).shown


def chains(location: str | None) -> list[str]:
    """The chains in the database at ``location``, by name."""
    where = Location(location)
    _load()
    conn = _connect(where)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) ORDER BY nspname", (SCHEMA_PREFIX,))]
    finally:
        conn.close()
    return [n[len(SCHEMA_PREFIX):] for n in names if _CHAIN.fullmatch(n[len(SCHEMA_PREFIX):])]


def chain_location(location: str | None, chain: str) -> str:
    """The location of the chain ``chain`` in the database at ``location``."""
    Location(Location(location).with_chain(chain))  # a chain name, checked
    return Location(location).with_chain(chain)

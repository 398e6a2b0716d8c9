"""The ledger's tables, the same on every SQL store: the schema's versions and the migrations
between them, from which each store (:mod:`.sqlite`, :mod:`.postgres`) makes its own.

The statements are plain SQL that SQLite and PostgreSQL both take as written (``INTEGER PRIMARY
KEY`` is SQLite's row id and PostgreSQL's 32-bit key: two billion entries a chain). What a
database adds of its own to a version is in ``DIALECT``: PostgreSQL's triggers that make the
entries and the stored rulebooks append-only. A store applies the steps from its version to
:data:`SCHEMA_VERSION` in one transaction (:meth:`.sql.SqlLedger._migrate`).
"""

from __future__ import annotations

SCHEMA_VERSION = 2

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

# The database refuses to change or remove a recorded entry or stored rulebook, whoever asks
# (the owner too, unless it drops the trigger first: the hash chain still shows what it did).
APPEND_ONLY = [
    """CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the launchtier ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END $$""",
    *(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
      "FOR EACH ROW EXECUTE FUNCTION refuse_change()" for table in ("entries", "rulebooks")),
    *(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
      "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()" for table in ("entries", "rulebooks")),
]

# What a database adds to a version, by store.
DIALECT: dict[str, dict[int, list[str]]] = {
    "sqlite": {},
    "postgresql": {1: APPEND_ONLY},
}


def migrations(dialect: str, version: int) -> list[str]:
    """The statements that bring a ledger of ``dialect`` from ``version`` - 1 to ``version``."""
    return MIGRATIONS[version] + DIALECT[dialect].get(version, [])

"""The ledger store interface: the commands, the pipeline, the review and the audit know a ledger
by engine.ledger.store.LedgerStore alone, and SQLite is one module (engine/ledger/sqlite.py)."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from launchtier.engine.ledger import sqlite as sqlite_store
from launchtier.engine.ledger.sqlite import Ledger
from launchtier.engine.ledger.store import LedgerStore

ROOT = Path(__file__).resolve().parent.parent
SQLITE_MODULE = "engine/ledger/sqlite.py"

# What the SQLite store matches in SQLite's error messages, and SQLite's own vocabulary: seen
# anywhere else, another module knows the ledger is SQLite.
SQLITE_WORDS = ("disk is full", "database is locked", "unable to open", "i/o error", "readonly database",
                "sqlite_master", "pragma ", "sqlite3")
SQLITE_FRAGMENTS = {"locked", "busy", "readonly", "read-only", "full"}  # what `"locked" in text` tests for
# What opens a ledger without engine.ledger's choice of store.
SQLITE_OPENERS = {"Ledger", "open_store", "open_if_present", "resolve_path", "_connect"}


def sqlite_findings(source: str, name: str = "<source>") -> list[str]:
    """Every way ``source`` knows the ledger is SQLite: it imports sqlite3, matches SQLite's error
    text, or opens the SQLite store itself instead of through engine.ledger."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] == "sqlite3"]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if module.split(".")[0] == "sqlite3":
                found.append(f"{where}: from {module} import")
            elif module.split(".")[-1] == "sqlite" or (module.endswith("ledger") and any(a.name == "sqlite" for a in node.names)):
                opened = [a.name for a in node.names if a.name in SQLITE_OPENERS | {"sqlite"}]
                found += [f"{where}: from {module} import {n}" for n in opened]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.lower()
            if text in SQLITE_FRAGMENTS or any(w in text for w in SQLITE_WORDS):
                found.append(f"{where}: SQLite's text {node.value!r}")
        elif isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name) \
                and node.value.id in ("ledger", "store"):
            found.append(f"{where}: {node.value.id}.path")
    return found


def sources() -> list[Path]:
    return sorted(p for folder in ("engine", "cli") for p in (ROOT / folder).rglob("*.py"))


def test_nothing_but_the_sqlite_store_knows_the_ledger_is_sqlite():
    others = [p for p in sources() if str(p.relative_to(ROOT)) != SQLITE_MODULE]
    assert len(others) > 10 and len(others) == len(sources()) - 1
    found = [f for p in others for f in sqlite_findings(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]
    assert found == []


def test_the_sqlite_store_is_where_sqlite_is():
    found = sqlite_findings((ROOT / SQLITE_MODULE).read_text(encoding="utf-8"))
    assert any(f.endswith("import sqlite3") for f in found)
    assert any("'disk is full'" in f for f in found)


def test_nothing_outside_the_ledger_package_imports_a_store():
    # the ledger package picks the store (engine/ledger/__init__.py); the rest of the engine
    # and the commands know the interface, in engine/ledger/store.py
    pattern = re.compile(r"^\s*(from\s+\S*ledger\.sqlite\s+import|from\s+\S*ledger\s+import\s+.*\bsqlite\b)", re.M)
    importers = [str(p.relative_to(ROOT)) for p in sources()
                 if p.parent.name != "ledger" and pattern.search(p.read_text(encoding="utf-8"))]
    assert importers == []


def test_the_ledger_package_knows_no_file_but_in_the_sqlite_store():
    found = []
    for p in sorted((ROOT / "engine" / "ledger").glob("*.py")):
        name = str(p.relative_to(ROOT))
        if name == SQLITE_MODULE:
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"), name)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found += [f"{name}:{node.lineno}: import {m}" for m in modules if m in ("pathlib", "os.path")]
            elif isinstance(node, ast.Attribute) and node.attr in ("exists", "is_file", "path"):
                found.append(f"{name}:{node.lineno}: .{node.attr}")
    assert found == []


@pytest.mark.parametrize("code, expected", [
    ("import sqlite3", "import sqlite3"),
    ("from sqlite3 import connect", "from sqlite3 import"),
    ("from launchtier.engine.ledger.sqlite import Ledger", "from launchtier.engine.ledger.sqlite import Ledger"),
    ("from .sqlite import open_store", "from .sqlite import open_store"),
    ("from launchtier.engine.ledger import sqlite", "from launchtier.engine.ledger import sqlite"),
    ("if 'disk is full' in str(e): pass", "SQLite's text 'disk is full'"),
    ("if 'locked' in text: pass", "SQLite's text 'locked'"),
    ("conn.execute('PRAGMA busy_timeout=1')", "SQLite's text 'PRAGMA busy_timeout=1'"),
    ("where = str(ledger.path)", "ledger.path"),
])
def test_the_sqlite_check_finds_what_it_looks_for(code, expected):
    found = sqlite_findings(code)
    assert found and found[0].endswith(expected), found


def test_the_sqlite_check_lets_the_interface_through():
    code = ("from launchtier.engine.ledger import open_ledger, where\n"
            "from launchtier.engine.ledger.records import DecisionRecord\n"
            "shown = ledger.location\nspec = ledger.reopen_spec()\npath = Path(file)")
    assert sqlite_findings(code) == []


# ---- the SQLite store is a LedgerStore ------------------------------------------------------

def protocol_members() -> list[str]:
    return sorted(n for n in vars(LedgerStore) if not n.startswith("_") or n in ("__enter__", "__exit__"))


def test_the_protocol_lists_what_the_commands_the_pipeline_the_review_and_the_audit_use():
    assert protocol_members() == [
        "__enter__", "__exit__", "changed_rulebooks", "close", "decision", "decisions_since", "entries", "entry",
        "head", "history", "iter_latest", "latest_entries", "latest_keys", "latest_of_items", "location",
        "maybe_overridden", "meta_problems", "override", "precedent_candidates", "reading", "record", "recorded_tiers",
        "reopen_spec", "rulebook", "rulebook_hashes", "seq_bounds", "seq_of", "writing"]


def _incompatible(name: str, store: type = Ledger) -> list[str]:
    """How the ``store``'s ``name`` does not take what the protocol's takes."""
    Ledger = store
    want = inspect.getattr_static(LedgerStore, name)
    have = inspect.getattr_static(Ledger, name, None)
    if have is None:
        return [f"{name}: missing"]
    if isinstance(want, property):
        return [] if isinstance(have, property) else [f"{name}: not a property"]
    expected, actual = inspect.signature(want).parameters, inspect.signature(getattr(Ledger, name)).parameters
    problems = []
    for p in expected.values():
        q = actual.get(p.name)
        if q is None:
            problems.append(f"{name}: no parameter {p.name}")
        elif (q.kind, q.default, q.annotation) != (p.kind, p.default, p.annotation):
            problems.append(f"{name}({p.name}): {q} where the protocol has {p}")
    problems += [f"{name}({q.name}): required, not in the protocol" for q in actual.values()
                 if q.name not in expected and q.default is q.empty and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD)]
    if list(expected) != [n for n in actual if n in expected]:
        problems.append(f"{name}: its parameters are in another order")
    return problems


def test_the_sqlite_store_has_every_member_of_the_protocol_with_its_signature():
    assert [p for name in protocol_members() for p in _incompatible(name)] == []


def test_the_postgres_store_has_every_member_of_the_protocol_with_its_signature():
    from launchtier.engine.ledger.postgres import PostgresLedger

    assert [p for name in protocol_members() for p in _incompatible(name, PostgresLedger)] == []


def test_the_signature_check_finds_a_missing_member_and_a_changed_parameter():
    class Partial(Ledger):
        def head(self, chain: str) -> str | None:  # a required parameter the protocol lacks
            return None

    del_history = type("NoHistory", (), {})
    assert _incompatible("head", Partial) == ["head(chain): required, not in the protocol"]
    assert _incompatible("history", del_history) == ["history: missing"]


# ---- psycopg: only the PostgreSQL store knows it -------------------------------------------------

POSTGRES_MODULE = "engine/ledger/postgres.py"


def psycopg_findings(source: str, name: str = "<source>") -> list[str]:
    """Every import of psycopg (or psycopg2) in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                   else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
        found += [f"{name}:{node.lineno}: import {m}" for m in modules if m.split(".")[0] in ("psycopg", "psycopg2")]
    return found


def test_nothing_but_the_postgres_store_imports_psycopg():
    others = [p for p in sources() if str(p.relative_to(ROOT)) != POSTGRES_MODULE]
    assert len(others) == len(sources()) - 1
    assert [f for p in others for f in psycopg_findings(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))] == []
    # for the type checker, and in _load (when a PostgreSQL ledger is first opened)
    found = psycopg_findings((ROOT / POSTGRES_MODULE).read_text(encoding="utf-8"), "postgres.py")
    assert [f.split(": ", 1)[1] for f in found] == ["import psycopg", "import psycopg"]


@pytest.mark.parametrize("code", ["import psycopg", "from psycopg import sql", "import psycopg2.extras"])
def test_the_psycopg_check_finds_what_it_looks_for(code):
    assert psycopg_findings(code) == [f"<source>:1: import {code.split()[1]}"]


def test_an_opened_sqlite_ledger_is_a_ledger_store(runner, roadmap):
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    with Ledger(runner.ledger, readonly=True) as ledger:
        assert isinstance(ledger, LedgerStore)
        assert (ledger.location, ledger.reopen_spec()) == (str(runner.ledger), str(runner.ledger))


# ---- the commands use the protocol and nothing else -----------------------------------------

class ProtocolOnly:
    """A ledger store that lets through the members of LedgerStore and nothing else."""

    allowed = frozenset(protocol_members())

    def __init__(self, store: LedgerStore):
        self._store = store

    def __getattr__(self, name: str):
        if name not in self.allowed:
            raise AttributeError(f"{name} is not a member of LedgerStore")
        return getattr(self._store, name)

    def __enter__(self) -> "ProtocolOnly":
        self._store.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._store.__exit__(*exc)


def test_the_protocol_only_store_refuses_what_the_protocol_does_not_list(runner, roadmap):
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    with ProtocolOnly(Ledger(runner.ledger, readonly=True)) as ledger:
        assert ledger.head() == ledger.entry(12).entry_hash
        with pytest.raises(AttributeError, match="^path is not a member of LedgerStore$"):
            ledger.path


def _session(runner, roadmap, db: Path) -> list[tuple[int, str, str]]:
    """Every command that opens a ledger, on the ledger ``db``: exit code, stdout and stderr
    (with the ledger's path as DB)."""
    env = {"LAUNCHTIER_DB": str(db)}
    commands = [
        ("classify", roadmap),  # no ledger yet: without one
        ("decisions",),  # refused: no ledger yet
        ("record", roadmap, "--by", "Priya", "--note", "2027-Q1 review"),
        ("override", "PAY-12", "--tier", "tier-1", "--reason", "Anchor", "--by", "Tom", "--approved-by", "Priya",
         "--approved-by", "Ana"),
        ("override", "PAY-31", "--tier", "tier-1", "--reason", "Marketplaces", "--by", "Tom", "--approved-by", "Priya",
         "--approved-by", "Ana"),  # past capacity: a warning
        ("override", "PAY-12", "--tier", "tier-1", "--reason", "Again", "--by", "Tom"),  # refused: already
        ("decisions",),
        ("decisions", "--tier", "tier-1", "--format", "json"),
        ("classify", roadmap, "--format", "json"),
        ("explain", roadmap, "--item", "PAY-12"),
        ("artifacts", roadmap, "--item", "PAY-31"),
        ("review", roadmap, "--quarter", "2027-Q2", "--format", "markdown"),
        ("review", roadmap, "--record", "--by", "Mia", "--format", "markdown"),
        ("audit",),
        ("audit", "--format", "json", "--jobs", "2"),
    ]
    results = []
    for args in commands:
        r = runner(*args, env=env)
        results.append((r.exit_code, r.stdout.replace(str(db), "DB"), r.stderr.replace(str(db), "DB")))
    return results


@pytest.mark.slow
def test_every_command_works_through_the_protocol_alone(runner, roadmap, tmp_path, monkeypatch):
    monkeypatch.setattr("launchtier.engine.ledger.records.now_utc", lambda: "2027-01-05T09:00:00Z")
    (tmp_path / "plain").mkdir()
    (tmp_path / "protocol").mkdir()
    plain = _session(runner, roadmap, tmp_path / "plain" / "launchtier.db")

    opened = []

    def wrapped(opener):
        def open_(*args, **kwargs):
            store = opener(*args, **kwargs)
            if store is not None:
                opened.append(store.location)
                return ProtocolOnly(store)
            return store
        return open_

    monkeypatch.setattr(sqlite_store, "open_store", wrapped(sqlite_store.open_store))
    monkeypatch.setattr(sqlite_store, "open_if_present", wrapped(sqlite_store.open_if_present))
    through_protocol = _session(runner, roadmap, tmp_path / "protocol" / "launchtier.db")

    assert through_protocol == plain
    assert [code for code, _, _ in plain] == [0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    # each command once, but the first two, which find no ledger (the audit's workers open it in their own processes)
    assert opened == [str(tmp_path / "protocol" / "launchtier.db")] * 13


# ---- engine.ledger picks the store --------------------------------------------------------------

def test_a_location_with_a_registered_scheme_opens_that_store_and_any_other_an_sqlite_file(monkeypatch, tmp_path):
    import sys
    import types

    import launchtier.engine.ledger as ledger_package

    calls = []
    fake = types.ModuleType("launchtier.engine.ledger.fake")
    fake.open_store = lambda location, **how: calls.append(("open", location, how)) or "a fake store"
    fake.open_if_present = lambda location: calls.append(("present", location)) or None
    fake.where = lambda location: "fake://(hidden)"
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    monkeypatch.setitem(ledger_package.STORES, "fake", "fake")

    assert ledger_package.open_ledger("FAKE://host/db", readonly=True) == "a fake store"
    assert ledger_package.ledger_if_present("fake://host/db") is None
    monkeypatch.setenv("LAUNCHTIER_DB", "fake://env/db")
    assert ledger_package.where(None) == "fake://(hidden)"
    assert ledger_package.open_ledger(None, create=True) == "a fake store"
    assert calls == [("open", "FAKE://host/db", {"create": False, "readonly": True, "audit": False}),
                     ("present", "fake://host/db"),
                     ("open", None, {"create": True, "readonly": False, "audit": False})]

    monkeypatch.setenv("LAUNCHTIER_DB", str(tmp_path / "launchtier.db"))
    assert ledger_package.where(None) == str(tmp_path / "launchtier.db")
    assert ledger_package.ledger_if_present("other://x") is None  # an unregistered scheme: a file path, absent
    assert ledger_package.where("other://x") == "other:/x"  # as the file path it is

"""Shared fixtures and helpers of the test suite.

Whole outputs, not substrings: a CLI test compares a command's whole stdout and stderr, either with
the exact text inline (short outputs) or with a golden file under tests/golden/ (long ones) through
the ``golden`` fixture::

    def test_something(runner, golden):
        result = runner("classify", "examples/roadmap.yaml")
        golden("classify.txt", result.stdout)

Parts of an output that differ from run to run (the test's temporary folder, the ledger's path,
recording times, chain hashes of a temporary ledger) are replaced by ``normalise`` before the
comparison, never left unchecked.

When an output changes on purpose, rewrite the golden files and review the diff::

    python -m pytest --update-golden            # or LAUNCHTIER_UPDATE_GOLDEN=1 python -m pytest

That is the one switch for every golden file of the suite.

Quick loop: ``python -m pytest -m "not slow"`` runs in under 30 s; tests that take seconds (child
processes, large files, a wheel build, long property runs, full enumerations) are marked
``@pytest.mark.slow``. CI runs everything with plain ``python -m pytest``.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from launchtier.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
DEFAULT_RULEBOOK = ROOT / "rules" / "default.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden files under tests/golden/ with the outputs of this run "
                          "(same as LAUNCHTIER_UPDATE_GOLDEN=1); review the diff before committing")


def updating_golden(config: pytest.Config) -> bool:
    return bool(config.getoption("--update-golden") or os.environ.get("LAUNCHTIER_UPDATE_GOLDEN"))


def check_golden(name: str, text: str, *, update: bool, folder: Path = GOLDEN) -> None:
    """Assert ``text`` equals the golden file ``folder/name``, byte for byte; with ``update``,
    write ``text`` there first. A missing golden file fails, it is never created silently."""
    path = folder / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"no golden file {path}; create it with `python -m pytest --update-golden` and review it")
    assert text == path.read_text(encoding="utf-8"), f"output differs from {path} (--update-golden rewrites it)"


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """``golden(name, text)``: assert ``text`` equals tests/golden/<name>, byte for byte; with
    ``--update-golden`` (or LAUNCHTIER_UPDATE_GOLDEN=1) write ``text`` there first."""
    update = updating_golden(request.config)
    return lambda name, text: check_golden(name, text, update=update)


_TIMESTAMP = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
_SHA256 = re.compile(r"\bsha256:[0-9a-f]{64}\b")


def normalise(text: str, *, paths: dict[str, Path | str] | None = None, times: bool = False,
              hashes: bool = False) -> str:
    """``text`` with the parts that vary between runs replaced by a placeholder, so the rest can be
    compared whole: each of ``paths`` (placeholder -> path, longest first, so a file inside the
    temporary folder is named before the folder) becomes ``<placeholder>``; with ``times`` every ISO
    timestamp becomes ``<time>``; with ``hashes`` every ``sha256:`` digest becomes ``sha256:<hash>``
    (chain hashes of a temporary ledger depend on its recording times)."""
    for name, path in sorted((paths or {}).items(), key=lambda kv: -len(str(kv[1]))):
        text = text.replace(str(path), f"<{name}>")
    if times:
        text = _TIMESTAMP.sub("<time>", text)
    if hashes:
        text = _SHA256.sub("sha256:<hash>", text)
    return text


def document(text: str | bytes) -> dict:
    """A JSON document a command printed (or a line of its JSON Lines), as data without its
    ``format_version``, which must be its first field and the current version."""
    from launchtier.engine import FORMAT_VERSION

    data = json.loads(text)
    assert list(data)[:1] == ["format_version"] and data.pop("format_version") == FORMAT_VERSION, text[:200]
    return data


class Runner:
    """Invokes the CLI like a user would; stdout and stderr kept apart."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, ledger: Path):
        self._runner = CliRunner()
        self.ledger = ledger
        monkeypatch.setenv("LAUNCHTIER_DB", str(ledger))  # never the developer's own launchtier.db
        monkeypatch.delenv("LAUNCHTIER_RULES", raising=False)
        monkeypatch.delenv("LAUNCHTIER_ENGINE", raising=False)
        monkeypatch.setenv("COLUMNS", "100")

    def __call__(self, *args: str, input: str | bytes | None = None, env: dict | None = None):
        return self._runner.invoke(cli, [str(a) for a in args], input=input, env=env, catch_exceptions=False)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Runner:
    (tmp_path / "ledger").mkdir()
    return Runner(monkeypatch, tmp_path / "ledger" / "launchtier.db")


@pytest.fixture
def roadmap() -> Path:
    return EXAMPLES / "roadmap.yaml"


@pytest.fixture(scope="module")
def book():
    """The default rulebook, loaded once per test module (rulebooks are frozen models)."""
    from launchtier.engine import load_rulebook

    return load_rulebook()


@pytest.fixture(scope="module")
def reader(book):
    """An item reader for the default rulebook."""
    from launchtier.engine import ItemReader

    return ItemReader(book)


def default_rulebook_text() -> str:
    return DEFAULT_RULEBOOK.read_text(encoding="utf-8")


@pytest.fixture
def edited_rulebook(tmp_path: Path):
    """``edited_rulebook((old, new), ..., name="rules.yaml")``: the default rulebook written to the
    test's folder with every ``old`` replaced by ``new``; each ``old`` must be in it, so an edit
    that no longer applies fails instead of testing the default rulebook."""

    def write(*edits: tuple[str, str], name: str = "rules.yaml") -> Path:
        text = default_rulebook_text()
        for old, new in edits:
            assert old in text, f"{old!r} is not in the default rulebook"
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def make_items(n: int, seed: int = 7, prefix: str = "GEN") -> list[dict]:
    """n valid items for the default rulebook, varied from a fixed seed (ledger and fault tests)."""
    rng = random.Random(seed)
    return [
        {
            "key": f"{prefix}-{i}",
            "title": f"Generated item {i}",
            "quarter": rng.choice(["2027-Q1", "2027-Q2", None]),
            "signals": {
                "revenue_motion": rng.choice(["none", "retention", "deal_acceleration", "expansion", "new_logo"]),
                "differentiation": rng.choice(["none", "parity", "better", "first"]),
                "customer_reach": rng.randint(0, 100),
                "audience": rng.choice(["admin", "end_user", "buyer"]),
                "new_market": rng.random() < 0.1,
                "positioning": rng.choice(["none", "strengthens", "changes"]),
            },
        }
        for i in range(n)
    ]


def write_items(path: Path, items: list[dict]) -> Path:
    path.write_text(json.dumps({"items": items}), encoding="utf-8")
    return path


def pyyaml_words(text: str) -> str:
    """What PyYAML itself says of a YAML syntax error in ``text`` (launchtier passes it on after
    "invalid YAML: "): expectations built from it hold whatever a PyYAML release's wording."""
    import yaml

    from launchtier.engine.files import yamlio

    loader = yamlio._Base(text)
    try:
        loader.get_single_node()
    except yaml.MarkedYAMLError as e:
        return e.problem
    finally:
        loader.dispose()
    raise AssertionError(f"PyYAML reads {text!r} without an error")


def tamper(db: Path, *statements: str | tuple) -> None:
    """Edit a ledger behind launchtier's back: each statement (SQL, or SQL and its parameters)
    run with foreign keys off, then committed."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        for sql in statements:
            conn.execute(*sql) if isinstance(sql, tuple) else conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


# ---- PostgreSQL: the same ledger tests on a real server ----------------------------------------

@pytest.fixture(scope="session")
def pg_server():
    """A throw-away PostgreSQL server for the session (tests/pgserver.py); the test skips, with
    the reason, where PostgreSQL or psycopg is not installed."""
    import pgserver

    reason = pgserver.why_not()
    if reason:
        pytest.skip(f"PostgreSQL tests need a server: {reason}")
    server = pgserver.Server()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_db(request, tmp_path: Path) -> str:
    """A new ledger's location, as --db takes it: an SQLite file, and a chain in a new
    PostgreSQL database (the test runs once on each)."""
    if request.param == "sqlite":
        (tmp_path / "ledger").mkdir(exist_ok=True)
        return str(tmp_path / "ledger" / "launchtier.db")
    server = request.getfixturevalue("pg_server")
    return server.url(server.new_database())


@pytest.fixture
def backend_runner(monkeypatch: pytest.MonkeyPatch, ledger_db: str) -> Runner:
    """:func:`runner` on :func:`ledger_db`: each test runs on SQLite and on PostgreSQL."""
    return Runner(monkeypatch, ledger_db)


def backend_tamper(location: str | Path, *statements: str | tuple) -> None:
    """:func:`tamper` on either store: on PostgreSQL as a forger with superuser rights, the
    triggers and foreign keys off (session_replication_role), in the chain's schema."""
    location = str(location)
    if "://" not in location:
        tamper(Path(location), *statements)
        return
    import psycopg
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(location)
    query = parse_qsl(parts.query)
    chain = dict(query).get("chain", "main")
    conninfo = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != "chain"])))
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(f'SET search_path TO "launchtier_{chain}"')
        for sql in statements:
            text, params = sql if isinstance(sql, tuple) else (sql, None)
            conn.execute(text.replace("?", "%s"), params)


def backend_rows(location: str | Path, sql: str = "SELECT COUNT(*) FROM entries") -> int:
    """The first value ``sql`` reads from the ledger at ``location``, whatever the store."""
    location = str(location)
    if "://" not in location:
        import sqlite3

        conn = sqlite3.connect(location)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    import psycopg
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(location)
    query = parse_qsl(parts.query)
    conninfo = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != "chain"])))
    with psycopg.connect(conninfo) as conn:
        conn.execute(f'SET search_path TO "launchtier_{dict(query).get("chain", "main")}"')
        return conn.execute(sql).fetchone()[0]

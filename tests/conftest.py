from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from launchtier.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"


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

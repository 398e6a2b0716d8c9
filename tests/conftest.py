from __future__ import annotations

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

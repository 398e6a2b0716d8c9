"""What a one-off ``launchtier classify`` of one item loads, in a fresh process: the commands, the
engine and the reporters it uses, and none of what only other commands need (the ledger's
SQLite store and records, worker processes, the rule checks, the review, the other commands).
benchmarks/bench.py times this run (its cold start); this checks what it imports, not its time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# modules (and the packages under them) that a classify of one item without a ledger never needs
NEVER = {
    "sqlite3", "multiprocessing", "concurrent.futures", "jsonschema", "tomllib",
    "psycopg", "launchtier.engine.ledger.postgres", "launchtier.engine.ledger.copy",
    "launchtier.engine.ledger.records", "launchtier.engine.ledger.chain", "launchtier.engine.ledger.policy",
    "launchtier.engine.ledger.audit", "launchtier.engine.rulecheck", "launchtier.engine.roadmap.parallel",
    "launchtier.engine.roadmap.record", "launchtier.engine.roadmap.review", "launchtier.engine.items.mapping",
    "launchtier.cli.commands.ledger", "launchtier.cli.commands.review", "launchtier.cli.commands.rules",
    "launchtier.cli.commands.config", "launchtier.cli.commands.meeting", "launchtier.cli.web",
    "launchtier.engine.roadmap.meeting", "launchtier.cli.render.meeting", "werkzeug",
    "launchtier.cli.render.html", "launchtier.cli.render.ledger", "launchtier.cli.render.review",
}
# the reporters of text, Markdown and CSV: not for the JSON formats
TEXT = {"launchtier.cli.render.text"}

CHILD = (
    "import json, sys\n"
    "from launchtier.cli.main import cli\n"
    "cli.main(sys.argv[2:], prog_name='launchtier', standalone_mode=False)\n"
    "sys.stdout.flush()\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    json.dump(sorted(sys.modules), f)\n"
)

ITEM = {"key": "PAY-12", "title": "Usage-based pricing", "quarter": "2027-Q1",
        "signals": {"revenue_motion": "expansion", "differentiation": "better", "customer_reach": 60,
                    "audience": "buyer", "pricing_change": True}}


def loaded_by(tmp_path, *args: str) -> tuple[set[str], str]:
    """The modules a classify of one item in ``tmp_path`` loads, and its output."""
    item = tmp_path / "one.yaml"
    item.write_text(json.dumps(ITEM))  # what bench.py's cold start classifies: one item, as JSON
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHTIER_")}  # no ledger, the default rulebook
    result = subprocess.run([sys.executable, "-c", CHILD, str(out), "classify", str(item), *args],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert (result.returncode, result.stderr) == (0, "")
    return set(json.loads(out.read_text())), result.stdout


def among(modules: set[str], names: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.slow
@pytest.mark.parametrize("fmt, never", [("jsonl", NEVER | TEXT), ("json", NEVER | TEXT), ("table", NEVER)])
def test_a_one_item_classify_loads_only_what_it_uses(tmp_path, fmt, never):
    modules, stdout = loaded_by(tmp_path, "--format", fmt)
    assert "PAY-12" in stdout
    assert among(modules, never) == []
    # and the commands that did run: the item commands, the engine's batch, the ledger's choice of store
    assert {"launchtier.cli.commands.items", "launchtier.engine.roadmap.batch", "launchtier.engine.ledger"} <= modules


@pytest.mark.slow
def test_with_a_ledger_the_store_is_loaded(tmp_path):
    """The other side (the check above is not vacuous): a ledger where classify looks for one
    (launchtier.db in the current directory) brings the store's imports in."""
    from launchtier.engine.ledger import open_ledger

    open_ledger(str(tmp_path / "launchtier.db"), create=True).close()
    modules, stdout = loaded_by(tmp_path, "--format", "jsonl")
    assert "PAY-12" in stdout
    assert among(modules, NEVER) == ["launchtier.engine.ledger.chain", "launchtier.engine.ledger.policy",
                                     "launchtier.engine.ledger.records", "sqlite3", "sqlite3.dbapi2"]


@pytest.mark.slow
def test_a_project_config_is_looked_for_without_a_toml_parser(tmp_path):
    """Looking for the project config is cheap: a pyproject.toml without [tool.launchtier] (one
    that names launchtier among its dependencies, say) is passed over without parsing TOML; one
    with it is parsed (the check above is not vacuous)."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "roadmap"\ndependencies = ["launchtier"]\n')
    modules, stdout = loaded_by(tmp_path, "--format", "jsonl")
    assert "PAY-12" in stdout
    assert among(modules, {"tomllib"}) == []
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "roadmap"\n\n[tool.launchtier]\nformat = "jsonl"\n')
    modules, stdout = loaded_by(tmp_path)
    assert stdout.startswith('{"format_version":1,"item":"PAY-12"')  # JSON Lines, from the config
    assert "tomllib" in modules

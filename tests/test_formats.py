"""The JSON the command line prints, for scripts: every document (and every line of JSON Lines)
starts with its ``format_version``."""

from __future__ import annotations

import pytest

from conftest import DEFAULT_RULEBOOK, document
from launchtier.engine import FORMAT_VERSION

HEAD = f'{{\n  "format_version": {FORMAT_VERSION},\n'

# every command with a JSON format, with a ledger holding the example roadmap's decisions
JSON_COMMANDS = {
    "classify": ["classify", "{roadmap}", "--format", "json"],
    "explain": ["explain", "{roadmap}", "--item", "PAY-12", "--format", "json"],
    "review": ["review", "{roadmap}", "--format", "json"],
    "decisions": ["decisions", "--format", "json"],
    "audit": ["audit", "--format", "json"],
    "rules show": ["rules", "show", "--format", "json"],
    "rules test": ["rules", "test", "--format", "json"],
    "rules lint": ["rules", "lint", "--format", "json"],
    "rules diff": ["rules", "diff", "{rules}", "{rules}", "{roadmap}", "--format", "json"],
    "rules calibrate": ["rules", "calibrate", "--format", "json"],
}


@pytest.mark.parametrize("name", JSON_COMMANDS)
def test_every_json_document_starts_with_its_format_version(runner, roadmap, name):
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    result = runner(*(a.format(roadmap=roadmap, rules=DEFAULT_RULEBOOK) for a in JSON_COMMANDS[name]))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith(HEAD)
    assert document(result.stdout)  # the whole output is that one document


def test_every_json_lines_line_starts_with_its_format_version(runner, roadmap):
    result = runner("classify", roadmap, "--format", "jsonl")
    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert len(lines) == 12 and all(line.startswith(f'{{"format_version":{FORMAT_VERSION},"item":') for line in lines)
    # the same decisions as the JSON document's, each a document of its own
    assert [document(line) for line in lines] == document(runner("classify", roadmap, "--format", "json").stdout)["decisions"]


def test_the_review_report_file_is_the_review_document(runner, roadmap, tmp_path):
    result = runner("review", roadmap, "--report", tmp_path / "review.json")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "review.json").read_text() == runner("review", roadmap, "--format", "json").stdout


def test_an_empty_list_still_has_its_version(runner, roadmap):
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    result = runner("decisions", "--quarter", "2031-Q1", "--format", "json")
    assert (result.exit_code, result.stdout, result.stderr) == (0, HEAD + '  "decisions": []\n}\n', "")


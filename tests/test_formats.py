"""The JSON the command line prints, for scripts: every document (and every line of JSON Lines)
starts with its ``format_version``, and ``launchtier schema`` gives the JSON Schemas that the real
outputs and inputs validate against."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from conftest import DEFAULT_RULEBOOK, EXAMPLES, document
from launchtier.engine import FORMAT_VERSION, load_rulebook

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


# ---- launchtier schema ---------------------------------------------------------------------
def validator(runner, name: str) -> jsonschema.Draft202012Validator:
    result = runner("schema", name)
    assert (result.exit_code, result.stderr) == (0, "")
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", ["decision", "item", "rulebook"])
def test_each_schema_names_its_format_version(runner, golden, name):
    result = runner("schema", name)
    assert (result.exit_code, result.stderr) == (0, "")
    golden(f"schema-{name}.json", result.stdout)
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:launchtier:format:{FORMAT_VERSION}:{name}"
    assert schema["title"].startswith(f"launchtier format version {FORMAT_VERSION}: ")


def test_real_decisions_validate_against_the_decision_schema(runner, roadmap):
    # a ledger with an override, so that decisions carry both a capacity move and an override
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    assert runner("override", "PAY-12", "--tier", "tier-1", "--reason", "Anchor of the campaign", "--by", "Tom",
                  "--approved-by", "Priya", "--approved-by", "Ana").exit_code == 0
    check = validator(runner, "decision")
    keys = [i["key"] for i in yaml.safe_load(roadmap.read_text())["items"]]
    decisions = [
        *document(runner("classify", roadmap, "--format", "json").stdout)["decisions"],
        *(json.loads(line) for line in runner("classify", roadmap, "--format", "jsonl").stdout.splitlines()),
        *(document(runner("explain", roadmap, "--item", k, "--format", "json").stdout)["decision"] for k in keys),
        *(i["decision"] for i in document(runner("review", roadmap, "--format", "json").stdout)["items"]),
    ]
    assert len(decisions) == 4 * len(keys) == 48
    assert {"capacity", "override"} <= {field for d in decisions for field in d}
    assert [list(check.iter_errors(d)) for d in decisions] == [[]] * len(decisions)
    # and it checks something: a missing field, a wrong type, another version
    line = json.loads(runner("classify", roadmap, "--format", "jsonl").stdout.splitlines()[0])
    assert list(check.iter_errors({k: v for k, v in line.items() if k != "tier"}))
    assert list(check.iter_errors({**line, "scores": {"launch": "five"}}))
    assert list(check.iter_errors({**line, "format_version": FORMAT_VERSION + 1}))
    # a field a later launchtier of the same version adds is allowed
    assert not list(check.iter_errors({**line, "confidence": 0.9}))


@pytest.mark.parametrize("name", ["roadmap.yaml", "analytics-roadmap.yaml"])
def test_item_files_validate_against_the_item_schema(runner, name):
    check = validator(runner, "item")
    items = yaml.safe_load((EXAMPLES / name).read_text())
    assert not list(check.iter_errors(items))
    items["items"][0]["signals"]["audiense"] = "buyer"  # a misspelt signal is an error
    assert list(check.iter_errors(items))


def test_the_rulebook_validates_against_the_rulebook_schema(runner):
    check = validator(runner, "rulebook")
    # as an editor sees the YAML: JSON's types (a `true:` key is the text "true")
    book = json.loads(json.dumps(yaml.safe_load(DEFAULT_RULEBOOK.read_text())))
    assert not list(check.iter_errors(book))
    assert not list(check.iter_errors(load_rulebook().model_dump(mode="json")))
    assert list(check.iter_errors({**book, "tiers": "tier-1"}))
    assert list(check.iter_errors({**book, "rulez": []}))  # a misspelt field is an error


def test_schema_refuses_an_unknown_format(runner):
    result = runner("schema", "roadmap")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith("Error: Invalid value for '{decision|item|rulebook}': 'roadmap' is not one of "
                                  "'decision', 'item', 'rulebook'.\n")

"""Security: no code from input runs, conditions are data, the ledger's chain shows tampering.

Every file a user hands to launchtier (items, rulebooks, mappings, rule-test cases) is read by
engine/files/yamlio.py as plain YAML: no tag builds a Python object. Conditions are parsed into a small
tree of names and literals that are checked against the rulebook; nothing is evaluated.

Tamper evidence is tested in tests/test_ledger.py: a changed column (final_tier, recorded_by), a
deleted middle entry, a renumbered entry, a changed stored rulebook
(test_a_tampered_ledger_fails_the_audit_and_names_the_entry), two swapped entries and an
inserted one (test_reordered_and_inserted_entries_are_detected), and a re-chained forgery
caught by the replay (test_a_rechained_forgery_is_caught_by_the_replay); every column of an
entry, the stored rulebooks and the meta table in tests/test_tampering.py. Here: what those
leave out (the first entry deleted, the rulebook_hash, item_json and prev_hash columns changed)
and the limit (the newest entries deleted, unless with them every entry of a rulebook).
"""

from __future__ import annotations

import ast
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import normalise
from launchtier.engine import InputError, ItemError, ItemReader, RulebookError, load_rulebook, rulebook_from_data
from launchtier.engine.rulebook.model import default_rulebook_path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from launchtier.cli.main import main; main()"]
MARKER = "pwned"

PAYLOADS = {
    "apply": f"!!python/object/apply:os.system ['touch {MARKER}']",
    "new": f"!!python/object/new:subprocess.check_call [['touch', '{MARKER}']]",
    "object": f"!!python/object/apply:subprocess.Popen [['touch', '{MARKER}']]",
    "name-then-apply": f"!!python/object/apply:builtins.exec ['open(\"{MARKER}\", \"w\").close()']",
}


def run(args: list, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHTIER_")}
    env["LAUNCHTIER_DB"] = str(cwd / "launchtier.db")
    return subprocess.run([*CLI, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


ITEM_FILE = """\
- key: PAY-12
  title: {payload}
  signals: {{revenue_motion: none, differentiation: none, customer_reach: 5, audience: admin}}
"""
MAPPING_FILE = "key: Issue key\ntitle: {payload}\n"
CASES_FILE = "- name: {payload}\n  item: {{signals: {{}}}}\n  expect: {{tier: tier-4}}\n"


def rulebook_text(payload: str) -> str:
    return default_rulebook_path().read_text(encoding="utf-8").replace("rulebook: default", f"rulebook: {payload}", 1)


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("where", ["items", "rulebook", "mapping", "rule-tests"])
def test_a_python_tag_in_any_input_file_does_not_run(runner, golden, tmp_path, monkeypatch, where, payload):
    monkeypatch.chdir(tmp_path)  # where the payload would create its marker
    text = PAYLOADS[payload]
    if where == "items":
        (tmp_path / "evil.yaml").write_text(ITEM_FILE.format(payload=text))
        args = ["classify", "evil.yaml"]
    elif where == "rulebook":
        (tmp_path / "evil.yaml").write_text(rulebook_text(text))
        args = ["rules", "show", "--rules", "evil.yaml"]
    elif where == "mapping":
        (tmp_path / "evil.yaml").write_text(MAPPING_FILE.format(payload=text))
        args = ["review", ROOT / "examples" / "exports" / "jira.csv", "--mapping", "evil.yaml"]
    else:
        (tmp_path / "evil.yaml").write_text(CASES_FILE.format(payload=text))
        args = ["rules", "test", "evil.yaml"]
    result = runner(*args)
    assert not (tmp_path / MARKER).exists(), f"the payload ran ({where})"
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    # one line naming the file, the line and the tag: "unsupported YAML tag ...; only plain YAML is read (no tags)"
    golden(f"python-tag/{where}-{payload}.stderr", normalise(result.stderr, paths={"repo": ROOT}))


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_the_payloads_are_live(tmp_path, payload):
    """The control: PyYAML's unsafe loader does run each payload, so the test above can fail."""
    (tmp_path / "evil.yaml").write_text(ITEM_FILE.format(payload=PAYLOADS[payload]))
    code = "import yaml; yaml.unsafe_load(open('evil.yaml'))"
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, timeout=60)
    assert (tmp_path / MARKER).exists()


# ---- no way to run code in the source ------------------------------------------------------

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "subprocess", "ctypes"}
UNSAFE_YAML = {"unsafe_load", "unsafe_load_all", "full_load", "full_load_all", "load_all", "Loader", "UnsafeLoader",
               "FullLoader", "CLoader", "CUnsafeLoader", "CFullLoader", "UnsafeConstructor", "FullConstructor", "Constructor"}
SAFE_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}


def findings(source: str, name: str = "<source>") -> list[str]:
    """Every way ``source`` could run code from data: eval-like calls, unsafe YAML, pickling, a shell."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                found.append(f"{where}: {func.id}()")
            if isinstance(func, ast.Attribute) and func.attr == "system" and isinstance(func.value, ast.Name) and func.value.id == "os":
                found.append(f"{where}: os.system()")
            if isinstance(func, ast.Attribute) and func.attr == "load" and _is_yaml(func.value):
                loader = next((k.value for k in node.keywords if k.arg == "Loader"), node.args[1] if len(node.args) > 1 else None)
                if not (isinstance(loader, ast.Attribute) and loader.attr in SAFE_LOADERS):
                    found.append(f"{where}: yaml.load() without a safe Loader")
        elif isinstance(node, ast.Attribute) and node.attr in UNSAFE_YAML and _is_yaml(node.value):
            found.append(f"{where}: yaml.{node.attr}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if module.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{where}: import {module}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "yaml":
                found.extend(f"{where}: from yaml import {a.name}" for a in node.names if a.name in UNSAFE_YAML | {"load"})
    return found


def _is_yaml(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "yaml"


def sources() -> list[Path]:
    return sorted(p for folder in ("engine", "cli") for p in (ROOT / folder).rglob("*.py"))


def test_engine_and_cli_contain_no_eval_exec_pickle_or_unsafe_yaml():
    assert len(sources()) > 10
    found = [f for path in sources() for f in findings(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert found == []


def test_yaml_is_read_in_one_module_only():
    readers = [str(p.relative_to(ROOT)) for p in sources() if re.search(r"^\s*(import yaml|from yaml)", p.read_text(encoding="utf-8"), re.M)]
    assert readers == ["engine/files/yamlio.py"]


@pytest.mark.parametrize("code, expected", [
    ("yaml.load(text)", "yaml.load() without a safe Loader"),
    ("yaml.load(text, Loader=yaml.Loader)", "yaml.load() without a safe Loader"),
    ("yaml.load(text, yaml.FullLoader)", "yaml.load() without a safe Loader"),
    ("yaml.unsafe_load(text)", "yaml.unsafe_load"),
    ("eval(rule['when'])", "eval()"),
    ("exec(code)", "exec()"),
    ("import pickle", "import pickle"),
    ("from marshal import loads", "import marshal"),
    ("os.system('ls')", "os.system()"),
    ("from yaml import unsafe_load", "from yaml import unsafe_load"),
])
def test_the_source_check_finds_what_it_looks_for(code, expected):
    found = findings(code)
    assert found and found[0].endswith(expected), found


def test_the_source_check_lets_safe_yaml_through():
    assert findings("yaml.load(text, Loader=yaml.SafeLoader)\nyaml.safe_load(text)\nre.compile('x')") == []


# ---- conditions are data -------------------------------------------------------------------

CODE = "__import__('os').system('touch pwned')"
SMALL = {
    "rulebook": "small",
    "version": "1",
    "signals": {
        "reach": {"type": "int", "min": 0, "max": 100, "question": "Reach?"},
        "motion": {"type": "enum", "values": ["none", "new_logo"], "question": "Motion?"},
        "flag": {"type": "bool", "default": False, "question": "Flag?"},
    },
    "dimensions": {"impact": {"label": "Impact"}},
    "rules": [{"id": "wide", "because": "Wide.", "when": {"reach": {"gte": 50}}, "score": {"impact": 2}}],
    "tiers": [{"id": "up", "label": "Up", "kind": "launch", "when": {"impact": {"gte": 2}}}, {"id": "down", "label": "Down", "kind": "release"}],
}


def refused(when: dict) -> list:
    data = json.loads(json.dumps(SMALL))
    data["rules"][0]["when"] = when
    with pytest.raises(RulebookError) as info:
        rulebook_from_data(data, file="book.yaml")
    return [p.message for p in info.value.problems]


@pytest.mark.parametrize("when, message", [
    ({CODE: True}, f"unknown name '{CODE}' (allowed: flag, motion, reach, or all / any / not)"),
    ({"motion": CODE}, f"{CODE} is not a value of signal motion (allowed: one of none, new_logo)"),
    ({"motion": {"in": ["none", CODE]}}, f"{CODE} is not a value of signal motion"),
    ({"reach": {"gte": CODE}}, f"{CODE} is not a value of signal reach (allowed: a whole number from 0 to 100)"),
    ({"flag": CODE}, f"{CODE} is not a value of signal flag (allowed: true or false)"),
    ({"reach": {CODE: 1}}, f"unknown operator '{CODE}'"),
    ({"$where": "this.reach > 50"}, "unknown name '$where'"),
    ({"reach": {"$gt": 50}}, "unknown operator '$gt'"),
])
def test_a_condition_holding_code_is_an_unknown_name_or_value(tmp_path, monkeypatch, when, message):
    monkeypatch.chdir(tmp_path)
    [problem] = refused(when)
    assert message in problem
    assert not (tmp_path / MARKER).exists()


def test_names_and_values_cannot_reach_durable_rules_syntax():
    name = json.loads(json.dumps(SMALL))
    name["signals"]["$gt"] = {"type": "bool", "question": "?"}
    with pytest.raises(RulebookError) as info:
        rulebook_from_data(name)
    assert [p.field for p in info.value.problems] == ["signals.$gt"]
    assert "'$gt' is not a valid name" in info.value.problems[0].message
    value = json.loads(json.dumps(SMALL))
    value["signals"]["motion"]["values"].append("$ex")
    with pytest.raises(RulebookError) as info:
        rulebook_from_data(value)
    assert [p.field for p in info.value.problems] == ["signals.motion.values[2]"]
    assert info.value.problems[0].message == "'$ex' is not allowed; expected letters, digits, _ . and -, starting with a letter or digit"


@pytest.mark.slow  # child processes
def test_code_in_texts_stays_text(tmp_path):
    """Questions, reasons and titles are shown as written, never run or interpreted."""
    data = json.loads(json.dumps(SMALL))
    data["rules"][0]["because"] = CODE
    data["signals"]["reach"]["question"] = "{{ 7 * 7 }} ${7*7} " + CODE
    book_path = tmp_path / "book.yaml"
    book_path.write_text(json.dumps(data))  # JSON is YAML
    items = tmp_path / "items.yaml"
    items.write_text(f"- key: A-1\n  title: \"{CODE}\"\n  signals: {{reach: 60, motion: none}}\n")
    shown = run(["rules", "show", "--rules", book_path], tmp_path)
    assert shown.returncode == 0 and CODE in shown.stdout and "{{ 7 * 7 }} ${7*7}" in shown.stdout
    decided = run(["classify", items, "--rules", book_path, "--format", "json"], tmp_path)
    assert decided.returncode == 0, decided.stderr
    [decision] = json.loads(decided.stdout)["decisions"]
    assert decision["title"] == CODE and decision["fired"][0]["because"] == CODE
    assert not (tmp_path / MARKER).exists()


@pytest.mark.slow  # child processes
def test_code_as_a_signal_value_in_an_item_or_on_the_command_line_is_refused(tmp_path):
    reader = ItemReader(load_rulebook())
    with pytest.raises(ItemError) as info:
        reader.read("x.yaml", data=f"- key: A\n  title: T\n  signals: {{revenue_motion: \"{CODE}\"}}\n".encode())
    assert any(p.field == "signals.revenue_motion" and "is not allowed" in p.message for p in info.value.problems)
    item = tmp_path / "item.yaml"
    item.write_text("key: A\ntitle: T\nsignals: {revenue_motion: none, differentiation: none, customer_reach: 5, audience: admin}\n")
    result = run(["explain", item, "--set", f"customer_reach={CODE}"], tmp_path)
    assert result.returncode == 2 and "signals.customer_reach" in result.stderr
    assert not (tmp_path / MARKER).exists()
    assert issubclass(ItemError, InputError)


# ---- tamper evidence: what test_ledger.py leaves out ----------------------------------------


def tamper(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db)
    conn.executescript(sql)
    conn.close()


@pytest.fixture
def recorded(runner, roadmap, tmp_path):
    """A ledger with the 12 roadmap decisions (default rulebook) and one under a second rulebook."""
    first = runner("record", roadmap, "--by", "Priya")
    assert first.exit_code == 0
    other = tmp_path / "other.yaml"
    other.write_text(default_rulebook_path().read_text(encoding="utf-8").replace("rulebook: default", "rulebook: other", 1))
    item = tmp_path / "one.yaml"
    item.write_text("key: X-1\ntitle: T\nsignals: {revenue_motion: none, differentiation: none, customer_reach: 5, audience: admin}\n")
    second = runner("record", item, "--by", "Priya", "--rules", other)
    assert second.exit_code == 0
    head = second.output.split("chain head ")[1].strip()
    return runner, head, load_rulebook(other).hash


@pytest.mark.slow  # ledgers recorded and audited per case
@pytest.mark.parametrize("sql, expected", [
    ("DELETE FROM entries WHERE seq = 1", "BROKEN at #2 (item PAY-31): sequence jumps from 0 to 2"),
    ("UPDATE entries SET item_json = replace(item_json, '\"title\":\"', '\"title\":\"Forged ') WHERE seq = 7",
     "BROKEN at #7 (item PAY-52): its content does not match its hash"),
    ("UPDATE entries SET prev_hash = entry_hash WHERE seq = 5", "BROKEN at #5 (item PAY-44): its link to the previous entry does not match"),
    ("UPDATE entries SET entry_hash = 'sha256:' || substr(entry_hash, 8, 60) || 'abcd' WHERE seq = 13",
     "BROKEN at #13 (item X-1): its content does not match its hash"),
], ids=["entry-deleted", "title-forged", "link-broken", "hash-forged"])
def test_more_tampering_is_detected_and_named(recorded, golden, request, sql, expected):
    runner, _, _ = recorded
    tamper(runner.ledger, sql)
    result = runner("audit")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-1] == "integrity: FAILED"
    assert next(line for line in lines if "BROKEN" in line).startswith(f"  {expected}")  # the first break found
    golden(f"audit-{request.node.callspec.id}.txt", audit_text(runner, result))


def audit_text(runner, result) -> str:
    """An audit's whole output, its ledger's path and chain hashes (they hold recording times) replaced."""
    assert result.stderr == ""
    return normalise(result.stdout, paths={"ledger": runner.ledger}, hashes=True)


def test_an_entry_moved_to_another_stored_rulebook_is_detected(recorded, golden):
    runner, _, other_hash = recorded
    tamper(runner.ledger, f"UPDATE entries SET rulebook_hash = '{other_hash}' WHERE seq = 3")
    result = runner("audit")
    assert result.exit_code == 1
    # "BROKEN at #3 (item PAY-38): its content does not match its hash"
    golden("audit-entry-moved-to-another-rulebook.txt", audit_text(runner, result))


def test_an_entry_pointing_at_a_rulebook_that_is_not_stored_fails_the_audit(recorded, golden):
    runner, _, _ = recorded
    tamper(runner.ledger, "UPDATE entries SET rulebook_hash = 'sha256:0000' WHERE seq = 3")
    result = runner("audit")
    assert result.exit_code == 1
    # "BROKEN at #3 (item PAY-38): its rulebook sha256:0000… is not stored in the ledger", "integrity: FAILED"
    golden("audit-entry-under-a-rulebook-not-stored.txt", audit_text(runner, result))


def test_deleting_the_newest_entries_is_the_chain_s_limit_and_the_head_shows_it(runner, golden, roadmap):
    runner("record", roadmap, "--by", "Priya")
    head = runner("record", roadmap, "--by", "Priya").output.split("chain head ")[1].strip()
    audit = runner("audit")
    assert audit.exit_code == 0
    assert audit.stdout.splitlines()[3] == f"  24 entries; chain head {head}"
    tamper(runner.ledger, "DELETE FROM entries WHERE seq >= 20")
    after = runner("audit")
    # a shorter chain verifies: only the head noted at recording time shows the loss
    assert after.exit_code == 0
    assert head not in after.stdout
    golden("audit-after-the-newest-entries-deleted.txt", audit_text(runner, after))


def test_deleting_every_entry_recorded_under_a_rulebook_leaves_it_unused_and_fails_the_audit(recorded):
    runner, _, other_hash = recorded
    tamper(runner.ledger, "DELETE FROM entries WHERE seq >= 12")  # #13, the only one under the other rulebook
    after = runner("audit", env={"COLUMNS": None})
    assert after.exit_code == 1
    assert (f"  BROKEN: stored rulebook {other_hash[:19]}… is not used by any entry: it was added, or the entries "
            "recorded under it were deleted\n") in after.output

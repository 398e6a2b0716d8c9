"""Smaller input points: FIFOs and devices, JSON Lines in every command, keys unique across the
files of a batch, numbers as text, YAML merge keys, control characters in paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, document, make_items, write_items

CLI = [sys.executable, "-c", "from launchtier.cli.main import main; main()"]


def run_cli(args, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHTIER_")}
    env["LAUNCHTIER_DB"] = str(tmp_path / "launchtier.db")
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=20)


# ---- a named pipe or a device is no input file, and no ledger ----------------------------------
@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)  # no writer ever opens it: reading it would wait forever
    return path


@pytest.mark.slow  # a child process per case
@pytest.mark.parametrize("name, args", [
    ("pipe", ["classify", EXAMPLES / "roadmap.yaml", "--rules", "{fifo}"]),
    ("pipe.yaml", ["classify", "{fifo}"]),
    ("pipe.jsonl", ["classify", "{fifo}"]),
    ("pipe.csv", ["review", "{fifo}", "--mapping", EXAMPLES / "exports" / "jira-mapping.yaml"]),
    ("pipe.yaml", ["review", EXAMPLES / "exports" / "jira.csv", "--mapping", "{fifo}"]),
    ("pipe.jsonl", ["explain", "{fifo}"]),
], ids=["rules", "items", "jsonl", "csv-export", "mapping", "explain"])
def test_a_named_pipe_is_refused_not_waited_on(tmp_path, name, args):
    fifo = tmp_path / name
    os.mkfifo(fifo)  # no writer ever opens it: reading it would wait forever
    result = run_cli([fifo if a == "{fifo}" else a for a in args], tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", f"error: {fifo}: is a named pipe (FIFO), expected a regular file\n")


def test_a_device_is_refused_as_an_item_file(runner):
    result = runner("classify", "/dev/null")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "error: /dev/null: is a device, expected a regular file\n")


@pytest.mark.slow  # a child process per case
@pytest.mark.parametrize("db", ["/dev/null", "{fifo}"])
@pytest.mark.parametrize("command", [["record", EXAMPLES / "roadmap.yaml", "--by", "Priya N."], ["audit"], ["decisions"],
                                     ["classify", EXAMPLES / "roadmap.yaml"]])
def test_a_ledger_that_is_not_a_regular_file_is_refused(tmp_path, fifo, db, command):
    db = str(fifo) if db == "{fifo}" else db
    result = run_cli([*command, "--db", db], tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", f"error: {db}: is not a regular file, so it cannot be a ledger; give --db a ledger file, "
               "or a new file's path\n")


# ---- JSON Lines wherever item files are read ------------------------------------------------------
def _batch(tmp_path: Path, items: list[dict], stem: str = "batch") -> tuple[Path, Path]:
    """The same items as a JSON Lines file and as a JSON file."""
    lines = tmp_path / f"{stem}.jsonl"
    lines.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return lines, write_items(tmp_path / f"{stem}.json", items)


@pytest.mark.parametrize("command", [
    ["review", "{file}", "--format", "json"],
    ["explain", "{file}", "--item", "GEN-1"],
    ["artifacts", "{file}", "--item", "GEN-2"],
    ["rules", "diff", ROOT / "rules" / "default.yaml", ROOT / "rules" / "default.yaml", "{file}"],
], ids=["review", "explain", "artifacts", "rules-diff"])
def test_json_lines_is_read_as_json_is(runner, tmp_path, command):
    lines, whole = _batch(tmp_path, make_items(4))
    from_lines = runner(*[lines if a == "{file}" else a for a in command])
    from_json = runner(*[whole if a == "{file}" else a for a in command])
    assert (from_lines.exit_code, from_lines.stderr) == (0, from_json.stderr)
    assert from_lines.stdout == from_json.stdout != ""


def test_record_reads_json_lines(runner, tmp_path):
    lines, _ = _batch(tmp_path, make_items(3))
    result = runner("record", lines, "--by", "Priya N.")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"recorded 3 decisions (#1-#3) in {runner.ledger}: tier-2 2, tier-3 1"
    listed = runner("decisions", "--format", "json")
    assert [d["item"] for d in document(listed.stdout)["decisions"]] == ["GEN-0", "GEN-1", "GEN-2"]


# ---- a key is unique across the files of one batch ------------------------------------------------
SIGNALS = "{revenue_motion: expansion, differentiation: better, customer_reach: 60, audience: buyer}"


def _yaml_items(path: Path, *keys: str) -> Path:
    path.write_text("".join(f"- key: {k}\n  title: Item {k}\n  quarter: 2027-Q1\n  signals: {SIGNALS}\n" for k in keys),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [
    ["classify"], ["record", "--by", "Priya N."], ["review"], ["review", "--record", "--by", "Priya N."],
    ["rules", "diff", ROOT / "rules" / "default.yaml", ROOT / "rules" / "default.yaml"],
], ids=["classify", "record", "review", "review-record", "rules-diff"])
def test_a_key_repeated_across_files_is_refused(runner, tmp_path, command):
    first = _yaml_items(tmp_path / "a.yaml", "PAY-1", "PAY-2")
    second = _yaml_items(tmp_path / "b.yaml", "PAY-3", "PAY-2")
    result = runner(*command, first, second)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"error: {second}:5: item PAY-2: key: duplicate key (also in {first}:5); keys are unique across the "
               "files of one batch\n")
    assert not runner.ledger.exists()


def test_the_same_file_twice_is_a_repeat_of_each_key(runner, tmp_path):
    both = _yaml_items(tmp_path / "a.yaml", "PAY-1", "PAY-2")
    result = runner("review", both, both, "--record", "--by", "Priya N.")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", (
        f"error: {both}:1: item PAY-1: key: duplicate key (also in {both}:1); keys are unique across the files of one batch\n"
        f"error: {both}:5: item PAY-2: key: duplicate key (also in {both}:5); keys are unique across the files of one batch\n"
        "2 problems; nothing was done.\n"))
    assert not runner.ledger.exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_key_repeated_across_streamed_and_whole_files_is_refused(runner, tmp_path, jobs):
    whole = _yaml_items(tmp_path / "a.yaml", "GEN-1")
    lines, _ = _batch(tmp_path, make_items(3))
    other, _ = _batch(tmp_path, make_items(2, prefix="OTHER") + make_items(3)[2:], stem="other")
    csv = tmp_path / "c.csv"
    csv.write_text("key,title,revenue_motion,differentiation,customer_reach,audience\n"
                   "NEW-1,New,expansion,better,60,buyer\nOTHER-1,Other,expansion,better,60,buyer\n", encoding="utf-8")
    result = runner("classify", whole, lines, other, csv, "--jobs", jobs)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", (
        f"error: {lines}:2: item GEN-1: key: duplicate key (also in {whole}:1); keys are unique across the files of one batch\n"
        f"error: {other}:3: item GEN-2: key: duplicate key (also in {lines}:3); keys are unique across the files of one batch\n"
        f"error: {csv}:3: item OTHER-1: key: duplicate key (also in {other}:2); keys are unique across the files of one batch\n"
        "3 problems; nothing was done.\n"))


# ---- a number is no text ---------------------------------------------------------------------------
SIGNALS_JSON = '{"revenue_motion": "expansion", "differentiation": "better", "customer_reach": 60, "audience": "buyer"}'


def test_nan_and_infinity_are_not_a_key_or_a_title(runner, tmp_path):
    whole = tmp_path / "a.json"
    whole.write_text(f'[{{"key": NaN, "title": Infinity, "signals": {SIGNALS_JSON}}}]', encoding="utf-8")
    lines = tmp_path / "b.jsonl"
    lines.write_text(f'{{"key": "PAY-1", "title": -Infinity, "pm": 1.5, "signals": {SIGNALS_JSON}}}\n', encoding="utf-8")
    result = runner("classify", whole, lines)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", (
        f"error: {whole}: item #1: key: nan is not allowed; expected text\n"
        f"error: {whole}: item #1: title: inf is not allowed; expected text\n"
        f"error: {lines}:1: item PAY-1: title: -inf is not allowed; expected text\n"
        f"error: {lines}:1: item PAY-1: pm: 1.5 is not allowed; expected text\n"
        "4 problems; nothing was done.\n"))


def test_a_yaml_number_is_not_a_key(runner, tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("key: 12\ntitle: .nan\nsignals: {revenue_motion: expansion, differentiation: better, "
                    "customer_reach: 60, audience: buyer}\n", encoding="utf-8")
    result = runner("explain", path)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", (
        f"error: {path}:1: item 12: key: 12 is not allowed; expected text\n"
        f"error: {path}:2: item 12: title: nan is not allowed; expected text\n"
        "2 problems; nothing was done.\n"))


# ---- YAML merge keys, as YAML defines them --------------------------------------------------------
MERGED = """\
- key: PAY-1
  title: Base
  signals: &s {revenue_motion: expansion, differentiation: better, customer_reach: 60, audience: buyer}
- key: PAY-2
  title: Merged
  signals:
    <<: *s
    customer_reach: 20
    audience: admin
"""
WRITTEN_OUT = """\
- key: PAY-1
  title: Base
  signals: {revenue_motion: expansion, differentiation: better, customer_reach: 60, audience: buyer}
- key: PAY-2
  title: Merged
  signals: {revenue_motion: expansion, differentiation: better, customer_reach: 20, audience: admin}
"""


def test_a_merge_key_with_overrides_reads_as_the_mapping_written_out(runner, tmp_path):
    merged, written = tmp_path / "merged.yaml", tmp_path / "written.yaml"
    merged.write_text(MERGED, encoding="utf-8")
    written.write_text(WRITTEN_OUT, encoding="utf-8")
    from_merged, from_written = runner("classify", merged, "--format", "csv"), runner("classify", written, "--format", "csv")
    assert (from_merged.exit_code, from_merged.stderr) == (0, "")
    assert from_merged.stdout == from_written.stdout
    assert [line.split(",")[:3] for line in from_merged.stdout.splitlines()[1:]] == [
        ["PAY-1", "Base", "tier-2"], ["PAY-2", "Merged", "tier-2"]]


def test_a_key_written_twice_beside_a_merge_key_is_still_a_duplicate(runner, tmp_path):
    path = tmp_path / "merged.yaml"
    path.write_text(MERGED + "    customer_reach: 40\n", encoding="utf-8")
    result = runner("classify", path)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"error: {path}:10: invalid YAML: duplicate key 'customer_reach' (first on line 8)\n")


# ---- a control character in a path does not split a message --------------------------------------
def test_a_newline_in_a_path_is_shown_escaped(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad\nname.yaml").write_text("key: [\n", encoding="utf-8")
    Path("tab\tname.yaml").write_text(MERGED, encoding="utf-8")
    Path("plain.yaml").write_text(MERGED, encoding="utf-8")
    result = runner("classify", "bad\nname.yaml", "tab\tname.yaml", "plain.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", (
        "error: 'bad\\nname.yaml':2: invalid YAML: did not find expected node content\n"
        "error: plain.yaml:1: item PAY-1: key: duplicate key (also in 'tab\\tname.yaml':1); keys are unique across "
        "the files of one batch\n"
        "error: plain.yaml:4: item PAY-2: key: duplicate key (also in 'tab\\tname.yaml':4); keys are unique across "
        "the files of one batch\n"
        "3 problems; nothing was done.\n"))


@pytest.mark.slow  # a child process
def test_a_newline_in_the_ledger_path_is_shown_escaped(tmp_path):
    ledger = tmp_path / "new\nledger"
    os.mkfifo(ledger)
    result = run_cli(["decisions", "--db", ledger], tmp_path)
    shown = repr(str(ledger))
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", f"error: {shown}: is not a regular file, so it cannot be a ledger; give --db a ledger file, "
               "or a new file's path\n")


def test_a_newline_in_the_file_of_explain_is_shown_escaped(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("two\nitems.yaml").write_text(MERGED, encoding="utf-8")
    result = runner("explain", "two\nitems.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "error: 'two\\nitems.yaml': holds 2 items; choose one with --item KEY (keys: PAY-1, PAY-2)\n")

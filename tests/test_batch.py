"""Large batches: JSON Lines files streamed, and --jobs in input order."""

from __future__ import annotations

import json

import pytest
import yaml


def jsonl(tmp_path, roadmap, edit=None, name="roadmap.jsonl"):
    items = yaml.safe_load(roadmap.read_text())["items"]
    if edit:
        edit(items)
    path = tmp_path / name
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def test_a_jsonl_file_classifies_like_the_yaml_file(runner, roadmap, tmp_path):
    path = jsonl(tmp_path, roadmap)
    streamed = runner("classify", path, "--format", "jsonl")
    whole = runner("classify", roadmap, "--format", "jsonl")
    assert streamed.exit_code == whole.exit_code == 0
    assert streamed.stdout == whole.stdout
    assert len(streamed.stdout.splitlines()) == 12


def test_jobs_keep_the_input_order(runner, tmp_path):
    items = [{"key": f"K-{i}", "title": f"Item {i}", "signals": {
        "revenue_motion": ["none", "retention", "expansion", "new_logo"][i % 4], "differentiation": ["none", "parity", "better", "first"][i % 3],
        "customer_reach": i % 101, "audience": ["admin", "end_user", "buyer"][i % 3]}} for i in range(2500)]
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    one = runner("classify", path, "--format", "jsonl")
    two = runner("classify", path, "--format", "jsonl", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert two.stdout == one.stdout
    assert [json.loads(line)["item"] for line in two.stdout.splitlines()] == [f"K-{i}" for i in range(2500)]
    table = runner("classify", path, "--jobs", "2")
    assert table.exit_code == 0 and "2500 items:" in table.stdout


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_every_problem_of_a_jsonl_file_with_its_line(runner, roadmap, tmp_path, jobs):
    def edit(items):
        items[2]["signals"]["customer_reach"] = 300
        items[5]["key"] = items[1]["key"]
    path = jsonl(tmp_path, roadmap, edit)
    path.write_text(path.read_text() + "{not json\n")
    result = runner("classify", path, "--format", "jsonl", "--jobs", jobs)
    assert result.exit_code == 2
    assert result.stdout == ""
    err = result.stderr
    assert f"error: {path}:3: item PAY-38: signals.customer_reach: 300 is not allowed" in err
    assert f"error: {path}:6: item PAY-31: key: duplicate key (also line 2)" in err
    assert f"error: {path}:13: invalid JSON: a key must be in double quotes (column 2) (one item per line)" in err
    assert "3 problems; nothing was done." in err

"""Large batches: JSON Lines files streamed, and --jobs in input order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest
import yaml
from conftest import make_items

from launchtier.engine.items import stream
from launchtier.engine.roadmap import parallel


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


def many(tmp_path, n=3000):
    """n varied items, keys K-0 to K-(n-1), one per line."""
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in make_items(n, prefix="K")))
    return path


@pytest.mark.slow  # 2,500 items, worker processes
def test_jobs_keep_the_input_order(runner, tmp_path):
    path = many(tmp_path, 2500)
    one = runner("classify", path, "--format", "jsonl")
    two = runner("classify", path, "--format", "jsonl", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert two.stdout == one.stdout
    assert [json.loads(line)["item"] for line in two.stdout.splitlines()] == [f"K-{i}" for i in range(2500)]
    table = runner("classify", path, "--jobs", "2")
    assert (table.exit_code, table.stderr) == (0, "")
    assert table.stdout == runner("classify", path).stdout
    assert table.stdout.splitlines()[-1] == "2500 items: tier-1 101, tier-2 1366, tier-3 826, tier-4 207."


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_every_problem_of_a_jsonl_file_with_its_line(runner, roadmap, tmp_path, jobs):
    def edit(items):
        items[2]["signals"]["customer_reach"] = 300
        items[5]["key"] = items[1]["key"]
    path = jsonl(tmp_path, roadmap, edit)
    path.write_text(path.read_text() + "{not json\n")
    result = runner("classify", path, "--format", "jsonl", "--jobs", jobs)
    assert (result.exit_code, result.stdout) == (2, "")
    # the same report with workers, in the order the single process gives it
    assert result.stderr == (
        f"error: {path}:3: item PAY-38: signals.customer_reach: 300 is not allowed; expected a whole number from 0 to 100\n"
        f"error: {path}:13: invalid JSON: a key must be in double quotes (column 2) (one item per line)\n"
        f"error: {path}:6: item PAY-31: key: duplicate key (also line 2); keys are unique in a file\n"
        "3 problems; nothing was done.\n")


@pytest.mark.slow  # 3,000 items, worker processes
def test_a_jsonl_file_with_more_problems_than_are_listed_counts_the_rest_with_jobs_too(runner, tmp_path):
    items = make_items(3000, prefix="K")  # over 512 KB: several byte ranges for the workers
    for i in items:
        i["signals"]["customer_reach"] = 500
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    one = runner("classify", path, "--format", "jsonl")
    two = runner("classify", path, "--format", "jsonl", "--jobs", "2")
    assert one.exit_code == two.exit_code == 2
    assert two.stderr == one.stderr
    lines = one.stderr.splitlines()
    assert lines == [
        *[f"error: {path}:{n}: item K-{n - 1}: signals.customer_reach: 500 is not allowed; expected a whole number "
          "from 0 to 100" for n in range(1, stream.MAX_PROBLEMS + 1)],
        f"error: {path}: and {3000 - stream.MAX_PROBLEMS} more problems",
        f"{stream.MAX_PROBLEMS + 1} problems; nothing was done.",
    ]


# ---- --jobs with a real standard output: the workers write it themselves, in turn -------------
CLI = [sys.executable, "-c", "from launchtier.cli.main import main; main()"]


def run_cli(args, tmp_path, stdout):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHTIER_")}
    return subprocess.run([*CLI, *map(str, args)], stdout=stdout, stderr=subprocess.PIPE, env=env, cwd=tmp_path, timeout=120)


@pytest.mark.slow  # child processes
def test_jobs_writing_to_a_file_and_to_a_pipe_give_the_single_process_output(tmp_path):
    path = many(tmp_path)
    one = run_cli(["classify", path, "--format", "jsonl"], tmp_path, subprocess.PIPE)
    with open(tmp_path / "out.jsonl", "wb") as f:
        to_file = run_cli(["classify", path, "--format", "jsonl", "--jobs", "2"], tmp_path, f)
    to_pipe = run_cli(["classify", path, "--format", "jsonl", "--jobs", "2"], tmp_path, subprocess.PIPE)
    assert one.returncode == to_file.returncode == to_pipe.returncode == 0, (to_file.stderr, to_pipe.stderr)
    written = (tmp_path / "out.jsonl").read_bytes()
    assert written == to_pipe.stdout == one.stdout
    assert [json.loads(line)["item"] for line in written.splitlines()] == [f"K-{i}" for i in range(3000)]


@pytest.mark.slow  # child processes
def test_jobs_output_of_several_files_and_a_json_file_stays_in_order(tmp_path):
    path = many(tmp_path, 1500)
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([json.loads(line) | {"key": "B-" + json.loads(line)["key"]} for line in path.read_text().splitlines()]))
    args = ["classify", path, batch, "--format", "jsonl"]
    one = run_cli(args, tmp_path, subprocess.PIPE)
    two = run_cli([*args, "--jobs", "2"], tmp_path, subprocess.PIPE)
    assert one.returncode == two.returncode == 0
    assert two.stdout == one.stdout and len(two.stdout.splitlines()) == 3000


@pytest.mark.slow  # a child process over 20,000 items
def test_a_reader_that_stops_early_ends_the_workers_quietly(tmp_path):
    path = many(tmp_path, 20_000)
    proc = subprocess.Popen([*CLI, "classify", str(path), "--format", "jsonl", "--jobs", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path)
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    with proc.stderr:
        err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert json.loads(first)["item"] == "K-0"
    assert code == 1 and "Traceback" not in err, err


@pytest.fixture
def turn(monkeypatch):
    """The writers' shared state, with threads standing in for worker processes."""
    state = {"next": SimpleNamespace(value=0), "failed": SimpleNamespace(value=2**62), "cond": threading.Condition()}
    monkeypatch.setitem(parallel._worker, "turn", state)
    return state


def write_all(chunks, fd, order):
    errors = {}

    def write(seq):
        try:
            parallel._write_in_turn(seq, fd, chunks[seq])
        except Exception as e:  # noqa: BLE001 - collected for the test
            errors[seq] = e

    threads = [threading.Thread(target=write, args=(seq,)) for seq in order]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a writer is still waiting"
    return errors


def test_chunks_finished_in_any_order_are_written_in_input_order(turn, tmp_path):
    chunks = [f"chunk {i}\n".encode() for i in range(12)]
    with open(tmp_path / "out", "wb") as f:
        errors = write_all(chunks, f.fileno(), [5, 3, 11, 0, 1, 2, 4, 10, 9, 8, 7, 6])
    assert errors == {}
    assert (tmp_path / "out").read_bytes() == b"".join(chunks)


def test_a_failed_chunk_stops_the_chunks_after_it_and_only_those(turn, tmp_path):
    chunks = [f"chunk {i}\n".encode() for i in range(8)]
    chunks[4] = None  # its worker failed before writing
    with open(tmp_path / "out", "wb") as f:
        errors = write_all(chunks, f.fileno(), [7, 6, 5, 4, 3, 2, 1, 0])
    assert sorted(errors) == [5, 6, 7] and all(isinstance(e, parallel._Aborted) for e in errors.values())
    assert (tmp_path / "out").read_bytes() == b"".join(chunks[:4])


@pytest.mark.slow  # 1,200 items per format, worker processes
@pytest.mark.parametrize("fmt", ["json", "csv", "markdown"])
def test_jobs_give_every_format_the_single_process_output(runner, tmp_path, fmt):
    path = many(tmp_path, 1200)
    one = runner("classify", path, "--format", fmt)
    two = runner("classify", path, "--format", fmt, "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert two.stdout == one.stdout and two.stderr == one.stderr == ""
    assert "K-1199" in one.stdout  # the reference output reaches the last item: it is not cut short

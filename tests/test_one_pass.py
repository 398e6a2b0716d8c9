"""JSON Lines files validated once: the second pass takes the blocks of lines the first pass
accepted as they are (no pydantic), validates again only a block that changed since, and the keys'
hashes are kept in sorted runs of a bounded size, merged to find the repeats."""

from __future__ import annotations

import json
import random
import tracemalloc
from array import array

import pytest
from conftest import make_items

from launchtier.engine.errors import ItemError
from launchtier.engine.items import keys, lines, stream
from launchtier.engine.items.keys import KeyHashes
from launchtier.engine.items.model import ItemReader
from launchtier.engine.roadmap import batch as batch_module
from launchtier.engine.roadmap.batch import classify_batch


def write_jsonl(path, items, blank_every=0):
    text = "".join(json.dumps(i) + "\n" + ("\n" if blank_every and n % blank_every == 0 else "")
                   for n, i in enumerate(items, 1))
    path.write_text(text, encoding="utf-8")
    return path


class Validations:
    """Counts every pydantic validation of an item: the item model's validator (``model_validate``)
    and the reader's validating methods (``valid_at_once`` validates a list through a TypeAdapter)."""

    def __init__(self, monkeypatch, model):
        self.calls = 0
        validator = model.__pydantic_validator__
        counter = self

        class Counting:
            def __getattr__(self, name):
                return getattr(validator, name)

            def validate_python(self, *args, **kwargs):
                counter.calls += 1
                return validator.validate_python(*args, **kwargs)

        monkeypatch.setattr(model, "__pydantic_validator__", Counting())
        for name in ("validate", "valid_at_once"):
            original = getattr(ItemReader, name)

            def counted(reader, *args, _original=original, **kwargs):
                self.calls += 1
                return _original(reader, *args, **kwargs)

            monkeypatch.setattr(ItemReader, name, counted)


def decisions(book, path, monkeypatch=None, between=None, jobs=1):
    """The JSON Lines of ``classify`` over ``path`` through the engine, and the validations of
    the second pass (``between`` runs between the passes)."""
    with classify_batch(book, [str(path)], as_json=True, jobs=jobs) as made:
        if between is not None:
            between()
        counted = Validations(monkeypatch, ItemReader(book).model) if monkeypatch is not None else None
        out = b"".join(line + b"\n" for line in made.results)
    return out, counted.calls if counted is not None else None


def test_the_second_pass_validates_nothing_and_decides_as_a_json_file(book, tmp_path, monkeypatch):
    items = make_items(2500, prefix="K")  # some signals left to their defaults, in any order
    items[7]["quarter"] = "  "  # blank: not set
    path = write_jsonl(tmp_path / "many.jsonl", items, blank_every=100)
    monkeypatch.setattr(lines, "BLOCK", 4096)  # many blocks
    whole = tmp_path / "many.json"
    whole.write_text(json.dumps(items))
    expected, _ = decisions(book, whole)

    streamed, second = decisions(book, path, monkeypatch)

    assert second == 0
    assert streamed == expected
    assert len(streamed.splitlines()) == 2500


def test_the_counter_sees_the_first_pass_validate(book, tmp_path, monkeypatch):
    """The counter of the test above sees the validations it looks for."""
    path = write_jsonl(tmp_path / "few.jsonl", make_items(30, prefix="K"))
    counted = Validations(monkeypatch, ItemReader(book).model)
    stream.check(ItemReader(book), str(path))
    assert counted.calls == 1  # the one block, at once
    ItemReader(book).validate(make_items(1)[0])
    assert counted.calls == 3  # ItemReader.validate, and the model's validator in it


def test_a_value_validation_changes_is_validated_in_the_second_pass(book, tmp_path, monkeypatch):
    items = make_items(40, prefix="K")
    items[3]["signals"]["customer_reach"] = 30.0  # a whole number, as validation reads it: 30
    items[9]["signals"]["new_market"] = "yes"
    path = write_jsonl(tmp_path / "lax.jsonl", items)
    whole = tmp_path / "lax.json"
    whole.write_text(json.dumps(items))
    expected, _ = decisions(book, whole)

    streamed, second = decisions(book, path, monkeypatch)

    assert streamed == expected
    assert second == 4  # the two lines, each: ItemReader.validate and the model's validator


def test_a_block_changed_between_the_passes_is_validated_again(book, tmp_path, monkeypatch):
    monkeypatch.setattr(lines, "BLOCK", 2048)
    items = make_items(200, prefix="K")
    items[150]["signals"]["customer_reach"] = 10
    path = write_jsonl(tmp_path / "changing.jsonl", items)
    before = decisions(book, path)[0]
    size = path.stat().st_size
    items[150]["signals"]["customer_reach"] = 99  # the same length: every block stays in place

    def rewrite():
        write_jsonl(path, items)
        assert path.stat().st_size == size

    streamed, second = decisions(book, path, monkeypatch, between=rewrite)
    whole = tmp_path / "now.json"
    whole.write_text(json.dumps(items))
    expected, _ = decisions(book, whole)

    assert streamed == expected  # the new value, read and validated
    assert streamed != before
    assert second == 1  # the one block changed, validated at once; the others trusted


def test_a_line_made_invalid_between_the_passes_fails_as_the_first_pass_would(book, tmp_path, monkeypatch):
    monkeypatch.setattr(lines, "BLOCK", 2048)
    items = make_items(200, prefix="K")
    path = write_jsonl(tmp_path / "changing.jsonl", items)
    items[150]["signals"]["customer_reach"] = 300
    items[160]["title"] = ""

    def rewrite():
        write_jsonl(path, items)

    with pytest.raises(ItemError) as second:
        decisions(book, path, between=rewrite)
    with pytest.raises(ItemError) as first:
        stream.check(ItemReader(book), str(path))
    assert [str(p) for p in second.value.problems] == [str(first.value.problems[0])]
    assert str(second.value.problems[0]) == (
        f"{path}:151: item K-150: signals.customer_reach: 300 is not allowed; expected a whole number from 0 to 100")


def test_lines_added_between_the_passes_are_validated(book, tmp_path, monkeypatch):
    items = make_items(20, prefix="K")
    path = write_jsonl(tmp_path / "growing.jsonl", items)

    added = make_items(1, prefix="NEW")[0]
    added["signals"]["customer_reach"] = 1000

    def append():
        with path.open("a") as f:
            f.write(json.dumps(added) + "\n")

    with pytest.raises(ItemError) as e:
        decisions(book, path, between=append)
    assert [str(p) for p in e.value.problems] == [
        f"{path}:21: item NEW-0: signals.customer_reach: 1000 is not allowed; expected a whole number from 0 to 100"]


def test_the_cli_reads_a_file_changed_between_the_passes(runner, tmp_path, monkeypatch):
    """Through the command: a line made invalid after the check fails the run where it is met."""
    items = make_items(3, prefix="K")
    path = write_jsonl(tmp_path / "changing.jsonl", items)
    first = batch_module.check_files

    def check_then_change(*args, **kwargs):
        found = first(*args, **kwargs)
        items[1]["signals"]["audience"] = "buyers"
        write_jsonl(path, items)
        return found

    monkeypatch.setattr(batch_module, "check_files", check_then_change)
    result = runner("classify", path, "--format", "jsonl")
    assert result.exit_code == 2
    assert (result.stdout, result.stderr) == ("", (  # as before the second pass trusted anything
        f"error: {path}:2: item K-1: signals.audience: 'buyers' is not allowed; expected one of admin, end_user, buyer;"
        " did you mean 'buyer'?\n"))


@pytest.mark.slow  # worker processes
def test_workers_validate_again_only_a_block_changed_between_the_passes(book, tmp_path, monkeypatch):
    monkeypatch.setattr(lines, "BLOCK", 4096)  # the parent's byte ranges: many
    items = make_items(600, prefix="K")
    path = write_jsonl(tmp_path / "changing.jsonl", items)
    items[450]["signals"]["customer_reach"] = 300

    def rewrite():
        write_jsonl(path, items)

    with pytest.raises(ItemError) as e:
        decisions(book, path, between=rewrite, jobs=2)
    assert [str(p) for p in e.value.problems] == [
        f"{path}:451: item K-450: signals.customer_reach: 300 is not allowed; expected a whole number from 0 to 100"]
    items[450]["signals"]["customer_reach"] = 30
    write_jsonl(path, items)
    whole = tmp_path / "now.json"
    whole.write_text(json.dumps(items))
    assert decisions(book, path, jobs=2)[0] == decisions(book, whole)[0]


# ---- the keys' hashes in sorted runs ------------------------------------------------------------

def test_key_hashes_in_runs_are_the_hashes_in_order(monkeypatch):
    monkeypatch.setattr(keys, "RUN", 7)
    rng = random.Random(3)
    values = [rng.randrange(-50, 50) for _ in range(200)]
    hashes = KeyHashes(values)
    assert all(len(run) <= 7 for run in hashes._runs)
    assert len(hashes) == 200
    assert list(hashes.ordered()) == sorted(values)
    assert hashes.repeated() == {v for v in values if values.count(v) > 1}


def test_key_hashes_hold_8_bytes_a_key(monkeypatch):
    """The arrays and one run's Python ints at most (sorting them all at once would hold some 40
    bytes a key: 8 MB here)."""
    monkeypatch.setattr(keys, "RUN", 4096)
    n = 200_000
    rng = random.Random(5)
    values = array("q", (rng.getrandbits(63) for _ in range(n)))
    tracemalloc.start()
    try:
        hashes = KeyHashes(values)
        assert hashes.repeated() == set()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * n * 1.25 + 64 * keys.RUN


def test_a_key_repeated_across_runs_is_named_with_both_lines(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(keys, "RUN", 4)
    items = make_items(30, prefix="K")
    items[25]["key"] = "K-2"  # 6 runs apart
    items[29]["key"] = "K-26"
    path = write_jsonl(tmp_path / "twice.jsonl", items)
    result = runner("classify", path, "--format", "jsonl")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {path}:26: item K-2: key: duplicate key (also line 3); keys are unique in a file\n"
        f"error: {path}:30: item K-26: key: duplicate key (also line 27); keys are unique in a file\n"
        "2 problems; nothing was done.\n")


def test_a_key_repeated_across_files_and_runs_is_named_with_file_and_line(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(keys, "RUN", 4)
    one = write_jsonl(tmp_path / "one.jsonl", make_items(20, prefix="A"))
    others = make_items(20, prefix="B")
    others[17]["key"] = "A-3"
    others[2]["key"] = "A-19"
    two = write_jsonl(tmp_path / "two.jsonl", others)
    yaml_items = make_items(6, prefix="C")
    yaml_items[5]["key"] = "B-9"
    three = tmp_path / "three.json"
    three.write_text(json.dumps(yaml_items))
    result = runner("classify", one, two, three, "--format", "jsonl")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {two}:3: item A-19: key: duplicate key (also in {one}:20); keys are unique across the files of one batch\n"
        f"error: {two}:18: item A-3: key: duplicate key (also in {one}:4); keys are unique across the files of one batch\n"
        f"error: {three}: item B-9: key: duplicate key (also in {two}:10); keys are unique across the files of one batch\n"
        "3 problems; nothing was done.\n")

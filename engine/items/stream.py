"""JSON Lines item files, validated as items and read one item at a time.

A ``.jsonl`` file (one item per line) is read twice, a block of whole lines at a time
(:func:`.lines.blocks`). The first pass validates every line and reports every problem at once,
holding nothing but 8 bytes per key (to find duplicate keys) and a digest per block. The second
pass gives the items as it reads, validating nothing again: a block whose bytes are the ones the
first pass accepted (same place, same line numbers, same digest) is only parsed, and each item
taken as it is (:meth:`ItemReader.trusted`); a block that changed since is validated again in
full, and fails as the first pass would. Memory stays flat however many items go through. The
pieces are public so that the parallel runs (``engine/roadmap/parallel.py``) can validate and
read byte ranges of a file in worker processes.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import islice
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import jiter

from ..errors import ItemError, Problem
from .keys import BatchKeys, KeyHashes, key_hash
from ..files.yamlio import FileProblem, parse_json
from .lines import Block, blocks, item_lines, keys_of, numbered, numbered_lines

if TYPE_CHECKING:
    from .model import ItemBase, ItemReader

MAX_PROBLEMS = 200  # listed; the rest are counted
CHUNK = 1000


def validated(reader: ItemReader, path: str, numbered: Iterable[tuple[int, str]]) -> Iterator[ItemBase | list[Problem]]:
    """Each line's item, or its problems, in order, a block of lines at a time: a block that
    is all valid is validated by pydantic in one call (ItemReader.valid_at_once); otherwise
    line by line, so that each problem names its line."""
    for block in chunks(numbered):
        parsed: list[tuple[int, Any]] = []
        problems: dict[int, list[Problem]] = {}
        for number, line in block:
            try:
                parsed.append((number, parse_json(line, path)))
            except FileProblem as e:
                problems[number] = [Problem(f"{e.problem.message} (one item per line)", file=path, line=number)]
        at_once = None if problems else reader.valid_at_once([raw for _, raw in parsed])
        if at_once is not None:
            yield from at_once
            continue
        raws = dict(parsed)
        for number, _ in block:
            if number in problems:
                yield problems[number]
                continue
            try:
                yield reader.validate(raws[number], file=path)
            except ItemError as e:
                yield [replace(p, line=number) for p in e.problems]


def checked(reader: ItemReader, path: str, numbered: Iterable[tuple[int, str]]) -> Iterator[ItemBase]:
    """The items of lines that :func:`check` accepted (a line that fails now changed since)."""
    for found in validated(reader, path, numbered):
        if isinstance(found, list):
            raise ItemError(found)
        yield found


def check(reader: ItemReader, path: str, planner: Any = None, batch: BatchKeys | None = None,
          kept: list[Block] | None = None) -> int:
    """Validate every line of a JSON Lines file; raise one ItemError with every problem. Returns
    the count. A roadmap ``planner`` (pipeline.Planner) takes what it needs of each item; the
    ``batch`` of the command's files, the hashes of the file's keys; ``kept``, the blocks read
    (with their digests), for the second pass (:func:`values`)."""
    builder = planner.builder() if planner is not None else None
    count = tally(reader, path, first_pass(reader, path, numbered_lines(path, kept), builder), batch)
    if builder is not None:
        planner.parts.append(builder.part())
    return count


def first_pass(reader: ItemReader, path: str, numbered: Iterable[tuple[int, str]],
           builder: Any = None) -> Iterator[list[Problem] | int]:
    """What the first pass keeps of each line: its problems, or the hash of its item's key
    (and, for a roadmap plan's ``builder``, what the plan needs of it)."""
    for found in validated(reader, path, numbered):
        if isinstance(found, list):
            yield found
            continue
        if builder is not None:
            builder.take(found.key, found.quarter, found.signal_values())
        yield key_hash(found.key)


def tally(reader: ItemReader, path: str, found: Iterable[list[Problem] | int], batch: BatchKeys | None = None) -> int:
    """The first pass's verdict on a file from what it kept of each line, in order (one
    process's or the workers'): the count of items, or one ItemError with every problem."""
    problems: list[Problem] = []
    extra = 0
    hashes = KeyHashes()
    for f in found:
        if not isinstance(f, list):
            hashes.append(f)
        elif len(problems) < MAX_PROBLEMS:
            problems.extend(f)
        else:
            extra += len(f)
    problems += _duplicates(reader, path, hashes)
    if not hashes and not problems:
        problems.append(Problem("holds no items", file=path))
    if extra:
        problems.append(Problem(f"and {extra} more problems", file=path))
    if problems:
        raise ItemError(problems)
    if batch is not None:
        batch.add(path, hashes=hashes)
    return len(hashes)


def _duplicates(reader: ItemReader, path: str, hashes: KeyHashes) -> list[Problem]:
    twice = hashes.repeated()
    if not twice:
        return []
    seen: dict[str, int] = {}
    problems = []
    for number, key in keys_of(path):
        if key_hash(key) in twice:
            if key in seen:
                problems.append(Problem(f"duplicate key (also line {seen[key]}); keys are unique in a file", file=path, line=number, item=key, field="key"))
            else:
                seen[key] = number
    return problems


def items(reader: ItemReader, path: str) -> Iterator[ItemBase]:
    """The items of a JSON Lines file that :func:`check` accepted, a block at a time, as models
    (validated again: for the callers that keep or dump the items; a batch takes :func:`values`)."""
    return checked(reader, path, numbered_lines(path))


def values(reader: ItemReader, path: str, accepted: Sequence[Block]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(key, title, signal values) of each item of a JSON Lines file that :func:`check` accepted,
    reading the ``accepted`` blocks (what it kept) without validating them again."""
    for i, (block, data) in enumerate(blocks(path)):
        yield from block_values(reader, path, block, data, accepted[i] if i < len(accepted) else None, ends=True)


def block_values(reader: ItemReader, path: str, block: Block, data: bytes, accepted: Block | None,
                 ends: bool = False) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(key, title, signal values) of the items of the block ``data`` of a file, read now as
    ``block``: taken as they are when the first pass accepted this very block (``accepted``: its
    place, first line and digest), else validated in full (an ItemError, as the first pass would
    raise; ``ends``, as :func:`.lines.numbered`)."""
    if block != accepted:  # the file changed since the first pass (or the block is new)
        for item in checked(reader, path, numbered(data, path, block.first, ends)):
            yield item.key, item.title, item.signal_values()
        return
    trusted = reader.trusted
    for line in item_lines(data, block.first):
        raw = jiter.from_json(line)  # valid JSON, without a repeated key: the first pass saw to it
        found = trusted(raw)
        if found is None:  # a value validation changes (3.0 for 3): the one case validated again
            item = reader.validate(raw, file=path)
            found = item.key, item.title, item.signal_values()
        yield found


def chunks(iterable: Iterable, size: int = CHUNK) -> Iterator[list]:
    it = iter(iterable)
    return iter(lambda: list(islice(it, size)), [])

"""Large batches: JSON Lines item files read one item at a time, and classification spread over
processes with the output kept in input order.

A ``.jsonl`` file (one item per line) is read twice: a first pass validates every line and
reports every problem at once, holding nothing but 8 bytes per key (to find duplicate keys); the
second pass classifies as it reads. Memory stays flat however many items go through.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from dataclasses import replace
from itertools import chain, islice
from typing import Any, Iterable, Iterator

from ..errors import ItemError, Problem
from .model import BatchKeys, ItemBase, ItemReader, key_hash
from ..rulebook.model import Rulebook
from ..runtime import worker_context, worker_pool
from ..files.yamlio import FileProblem, not_a_file, parse_json

MAX_PROBLEMS = 200  # listed; the rest are counted
CHUNK = 1000


def is_stream(path: str) -> bool:
    return path.lower().endswith((".jsonl", ".ndjson"))


def _lines(path: str, start: int = 0, length: int | None = None, first: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines of a file, or of the byte range of it that
    starts at ``start`` (a line start) with line number ``first``."""
    refused = not_a_file(path)
    if refused is not None:
        raise ItemError([refused])
    try:
        with open(path, "rb") as f:
            f.seek(start)
            # split on \n only, as iterating the file does (bytes.splitlines would also split on \r)
            raws = iter(f) if length is None else iter(f.read(length).split(b"\n"))
            for number, raw in enumerate(raws, first):
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as e:
                    raise ItemError([Problem(f"is not UTF-8 text (byte {e.start} of the line); save it as UTF-8", file=path, line=number)]) from None
                if line.strip():
                    yield number, line
    except FileNotFoundError:
        raise ItemError([Problem("no such file", file=path)]) from None
    except IsADirectoryError:
        raise ItemError([Problem("is a directory, expected a file", file=path)]) from None


def _ranges(path: str, size: int = 1 << 19) -> Iterator[tuple[int, int, int]]:
    """(start, length, first line number) of blocks of whole lines, about ``size`` bytes each:
    the parent hands out byte ranges and the workers read, decode and split them."""
    refused = not_a_file(path)
    if refused is not None:
        raise ItemError([refused])
    try:
        with open(path, "rb") as f:
            start, line = 0, 1
            while True:
                block = f.read(size)
                if not block:
                    return
                block += f.readline()  # end on a line boundary
                yield start, len(block), line
                start += len(block)
                line += block.count(b"\n")
    except FileNotFoundError:
        raise ItemError([Problem("no such file", file=path)]) from None
    except IsADirectoryError:
        raise ItemError([Problem("is a directory, expected a file", file=path)]) from None


def _validated(reader: ItemReader, path: str, numbered: Iterable[tuple[int, str]]) -> Iterator[ItemBase | list[Problem]]:
    """Each line's item, or its problems, in order, a block of lines at a time: a block that
    is all valid is validated by pydantic in one call (ItemReader.valid_at_once); otherwise
    line by line, so that each problem names its line."""
    for block in _chunks(numbered):
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


def _checked(reader: ItemReader, path: str, numbered: Iterable[tuple[int, str]]) -> Iterator[ItemBase]:
    """The items of lines that :func:`check` accepted (a line that fails now changed since)."""
    for found in _validated(reader, path, numbered):
        if isinstance(found, list):
            raise ItemError(found)
        yield found


def check(reader: ItemReader, path: str, planner: Any = None, batch: BatchKeys | None = None) -> int:
    """Validate every line of a JSON Lines file; raise one ItemError with every problem. Returns
    the count. A roadmap ``planner`` (pipeline.Planner) takes what it needs of each item; the
    ``batch`` of the command's files, the hashes of the file's keys."""
    builder = planner.builder() if planner is not None else None
    count = _tally(reader, path, _found(reader, path, _lines(path), builder), batch)
    if builder is not None:
        planner.parts.append(builder.part())
    return count


def _found(reader: ItemReader, path: str, numbered: Iterable[tuple[int, str]],
           builder: Any = None) -> Iterator[list[Problem] | int]:
    """What the first pass keeps of each line: its problems, or the hash of its item's key
    (and, for a roadmap plan's ``builder``, what the plan needs of it)."""
    for found in _validated(reader, path, numbered):
        if isinstance(found, list):
            yield found
            continue
        if builder is not None:
            builder.take(found.key, found.quarter, found.signal_values())
        yield key_hash(found.key)


def _tally(reader: ItemReader, path: str, found: Iterable[list[Problem] | int], batch: BatchKeys | None = None) -> int:
    """The first pass's verdict on a file from what it kept of each line, in order (one
    process's or the workers'): the count of items, or one ItemError with every problem."""
    problems: list[Problem] = []
    extra = 0
    hashes = array("q")
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


def _duplicates(reader: ItemReader, path: str, hashes: array) -> list[Problem]:
    ordered = sorted(hashes)
    twice = {a for a, b in zip(ordered, ordered[1:]) if a == b}
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


def keys_of(path: str) -> Iterator[tuple[int, str]]:
    """(line number, key) of the lines of a JSON Lines file that have a key (problems aside:
    the first pass reports them)."""
    for number, line in _lines(path):
        try:
            raw = parse_json(line, path)
        except FileProblem:
            continue
        if isinstance(raw, dict) and raw.get("key") is not None:
            yield number, str(raw["key"])


def items(reader: ItemReader, path: str) -> Iterator[ItemBase]:
    """The items of a JSON Lines file that :func:`check` accepted, a block at a time."""
    return _checked(reader, path, _lines(path))


# ---- several processes ------------------------------------------------------------------------
# The parent only hands out work: byte ranges of JSON Lines files, or chunks of items already
# read. Validating, classifying and encoding happen in the workers. For JSON Lines output to a
# real file or pipe the workers also write, each chunk straight to the output, taking turns in
# input order (a shared counter under a condition): the parent never touches the output, which
# on 2 cores was a third of the CPU time of a run. Otherwise ``imap`` hands the results back in
# input order and the parent writes them.
_worker: dict[str, Any] = {}


class _Aborted(Exception):
    """Another worker failed while this one waited for its turn to write."""


def _init(rulebook_data: dict, engine: str, as_json: bool, turn: Any) -> None:
    from ..decide.classify import Classifier
    from ..rulebook.model import rulebook_from_data

    book = rulebook_from_data(rulebook_data, file="rulebook")
    _worker["classifier"] = Classifier(book, engine)
    _worker["reader"] = ItemReader(book)
    _worker["json"] = as_json
    _worker["turn"] = turn


def _work(task: tuple) -> Any:
    if task[0] != "write":
        return _results(*task)
    kind, path, payload, plan, seq, fd = task
    try:
        lines = _results(kind, path, payload, plan)
    except BaseException:
        _write_in_turn(seq, fd, None)  # the writers waiting behind this chunk give up
        raise
    _write_in_turn(seq, fd, b"".join(line + b"\n" for line in lines))
    return len(lines)


def _plan_at(path: str | None) -> Any:
    """The roadmap plan the parent wrote to ``path`` (read once per worker)."""
    if path is None:
        return None
    plans = _worker.setdefault("plans", {})
    if path not in plans:
        from ..decide.pipeline import Plan

        with open(path, "rb") as f:
            plans[path] = Plan.from_json(f.read())
    return plans[path]


def _results(kind: str, path: str | None, payload: Any, plan: Any = None) -> Any:
    reader, classifier = _worker["reader"], _worker["classifier"]
    if isinstance(payload, tuple):  # a byte range of a JSON Lines file
        payload = _lines(path, *payload)
    if kind == "check":
        if plan is None:
            return list(_found(reader, path, payload))
        from ..decide.pipeline import PartBuilder  # ``plan`` is the keys a roadmap's plan needs the tier of

        builder = PartBuilder(classifier.rulebook, classifier, plan)
        return list(_found(reader, path, payload, builder)), builder.part()
    if path is not None:  # lines of a file, else triples of items already read
        payload = [(i.key, i.title, i.signal_values()) for i in _checked(reader, path, payload)]
    plan = _plan_at(plan)
    return [final(classifier, plan, _worker["json"], key, title, signals) for key, title, signals in payload]


def final(classifier: Any, plan: Any, as_json: bool, key: str, title: str, signals: Any) -> Any:
    """An item's final decision (its JSON with ``as_json``) under a roadmap ``plan`` (none: the
    rules' decision): what capacity and overrides leave alone takes the fast path."""
    if plan is None or not plan.changes(key):
        return classifier.decide_json(key, title, signals) if as_json else classifier.decide_signals(key, title, signals)
    if as_json and key not in plan.overrides:  # moved by capacity only: a quarter's overflow, often many
        move = plan.moves[key]
        return classifier.moved_json(key, title, signals, move.tier, move.reason)
    decision = plan.finish_signals(classifier, signals, classifier.decide_signals(key, title, signals))
    return decision.model_dump_json().encode() if as_json else decision


def _write_in_turn(seq: int, fd: int, data: bytes | None) -> None:
    """Write chunk ``seq`` once every chunk before it is written. ``data`` None: this chunk
    failed, and the chunks after it are not written (their workers give up waiting)."""
    turn, cond = _worker["turn"], _worker["turn"]["cond"]
    with cond:
        try:
            if data is None:
                raise _Aborted()
            while turn["next"].value != seq:
                if seq > turn["failed"].value:
                    raise _Aborted()
                cond.wait()
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            turn["next"].value = seq + 1
        except BaseException:
            turn["failed"].value = min(turn["failed"].value, seq)
            if data is not None:
                raise
        finally:
            cond.notify_all()


def _chunks(iterable: Iterable, size: int = CHUNK) -> Iterator[list]:
    it = iter(iterable)
    return iter(lambda: list(islice(it, size)), [])


class Pool:
    """Worker processes for one rulebook; use as a context manager."""

    def __init__(self, book: Rulebook, engine: str, jobs: int, *, as_json: bool):
        context = worker_context()
        # which chunk writes next, and the first that failed; both under the condition's lock
        self._turn = {"next": context.Value("q", 0, lock=False), "failed": context.Value("q", 0, lock=False),
                      "cond": context.Condition()}
        self._pool = worker_pool(jobs, _init, (book.model_dump(mode="json"), engine, as_json, self._turn), context)
        self.reader = ItemReader(book)
        self._files: list[str] = []

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._pool.terminate()
        for path in self._files:
            os.unlink(path)

    def check(self, path: str, planner: Any = None, batch: BatchKeys | None = None) -> int:
        """:func:`check`, spread over the workers (each gives the ``planner`` its part)."""
        if planner is None:
            tasks = (("check", path, block) for block in _ranges(path))
            return _tally(self.reader, path, chain.from_iterable(self._pool.imap(_work, tasks)), batch)
        tasks = (("check", path, block, planner.known_keys) for block in _ranges(path))

        def found() -> Iterator[list[Problem] | int]:
            for lines, part in self._pool.imap(_work, tasks):
                planner.parts.append(part)
                yield from lines

        return _tally(self.reader, path, found(), batch)

    def classify(self, sources: Iterable[tuple[str, Any]], plan: Any = None) -> Iterator[Any]:
        """Final decisions (or their JSON) for ``("lines", path)`` and ``("items", [ItemBase,
        ...])`` sources, in order, under a roadmap ``plan`` (see :func:`final`)."""
        for result in self._pool.imap(_work, self._tasks("classify", sources, plan)):
            yield from result

    def write_lines(self, sources: Iterable[tuple[str, Any]], fd: int, plan: Any = None) -> Iterator[int]:
        """The decisions' JSON, one per line, written by the workers to the file descriptor
        ``fd`` in input order; yields the number of items of each chunk as it is written."""
        self._turn["next"].value, self._turn["failed"].value = 0, 2**62
        tasks = (task + (seq, fd) for seq, task in enumerate(self._tasks("write", sources, plan)))
        # the chunk that failed raises first: imap gives results, and errors, in input order
        yield from self._pool.imap(_work, tasks)

    def _plan_file(self, plan: Any) -> str | None:
        """The plan, written once to a file each worker reads once: sent with every task, a
        quarter's overflow of thousands of moves cost more than the work. (The earlier items it
        decides again are not needed there.)"""
        if plan is None or not (plan.moves or plan.overrides):
            return None
        fd, path = tempfile.mkstemp(prefix="launchtier-plan-", suffix=".json")
        with os.fdopen(fd, "wb") as f:
            f.write(plan.to_json())
        self._files.append(path)
        return path

    def _tasks(self, kind: str, sources: Iterable[tuple[str, Any]], plan: Any) -> Iterator[tuple]:
        plan = self._plan_file(plan)
        for source_kind, source in sources:
            if source_kind == "lines":
                for block in _ranges(source):
                    yield (kind, source, block, plan)
            else:
                triples = ((i.key, i.title, i.signal_values()) for i in source)
                for chunk in _chunks(triples):
                    yield (kind, None, chunk, plan)

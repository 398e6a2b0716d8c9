"""Large batches: JSON Lines item files read one item at a time, and classification spread over
processes with the output kept in input order.

A ``.jsonl`` file (one item per line) is read twice: a first pass validates every line and
reports every problem at once, holding nothing but 8 bytes per key (to find duplicate keys); the
second pass classifies as it reads. Memory stays flat however many items go through.
"""

from __future__ import annotations

import hashlib
import os
from array import array
from itertools import islice
from typing import Any, Iterable, Iterator

from .errors import ItemError, Problem
from .items import ItemBase, ItemReader
from .rulebook import Rulebook
from .yamlio import FileProblem, parse_json

MAX_PROBLEMS = 200  # listed; the rest are counted
CHUNK = 1000


def is_stream(path: str) -> bool:
    return path.lower().endswith((".jsonl", ".ndjson"))


def _key_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def _lines(path: str, start: int = 0, length: int | None = None, first: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines of a file, or of the byte range of it that
    starts at ``start`` (a line start) with line number ``first``."""
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


def _item(reader: ItemReader, path: str, number: int, line: str) -> ItemBase:
    try:
        raw = parse_json(line, path)
    except FileProblem as e:
        raise ItemError([Problem(f"{e.problem.message} (one item per line)", file=path, line=number)]) from None
    try:
        return reader.validate(raw, file=path)
    except ItemError as e:
        raise ItemError([Problem(p.message, file=p.file, line=number, item=p.item, field=p.field) for p in e.problems]) from None


def check(reader: ItemReader, path: str) -> int:
    """Validate every line of a JSON Lines file; raise one ItemError with every problem. Returns the count."""
    problems: list[Problem] = []
    extra = 0
    hashes = array("q")
    count = 0
    for number, line in _lines(path):
        try:
            item = _item(reader, path, number, line)
        except ItemError as e:
            if len(problems) < MAX_PROBLEMS:
                problems.extend(e.problems)
            else:
                extra += len(e.problems)
            continue
        hashes.append(_key_hash(item.key))
        count += 1
    problems += _duplicates(reader, path, hashes)
    if count == 0 and not problems:
        problems.append(Problem("holds no items", file=path))
    if extra:
        problems.append(Problem(f"and {extra} more problems", file=path))
    if problems:
        raise ItemError(problems)
    return count


def _duplicates(reader: ItemReader, path: str, hashes: array) -> list[Problem]:
    ordered = sorted(hashes)
    twice = {a for a, b in zip(ordered, ordered[1:]) if a == b}
    if not twice:
        return []
    seen: dict[str, int] = {}
    problems = []
    for number, line in _lines(path):
        try:
            raw = parse_json(line, path)
        except FileProblem:
            continue  # reported by the first pass
        key = str(raw.get("key")) if isinstance(raw, dict) else None
        if key is None:
            continue
        if _key_hash(key) in twice:
            if key in seen:
                problems.append(Problem(f"duplicate key (also line {seen[key]}); keys are unique in a file", file=path, line=number, item=key, field="key"))
            else:
                seen[key] = number
    return problems


def items(reader: ItemReader, path: str) -> Iterator[ItemBase]:
    """The items of a JSON Lines file that :func:`check` accepted, one at a time."""
    for number, line in _lines(path):
        yield _item(reader, path, number, line)


# ---- several processes ------------------------------------------------------------------------
# The parent only reads lines and writes results; validating, classifying and encoding happen in
# the workers, in chunks, and ``imap`` hands the results back in input order.
_worker: dict[str, Any] = {}


def _init(rulebook_data: dict, engine: str, as_json: bool) -> None:
    from .classify import Classifier
    from .rulebook import rulebook_from_data

    book = rulebook_from_data(rulebook_data, file="rulebook")
    _worker["classifier"] = Classifier(book, engine)
    _worker["reader"] = ItemReader(book)
    _worker["json"] = as_json


def _work(task: tuple) -> Any:
    kind, path, payload = task
    reader, classifier = _worker["reader"], _worker["classifier"]
    if kind in ("check", "lines") and isinstance(payload, tuple):  # a byte range of the file
        payload = _lines(path, *payload)
    if kind == "check":
        problems, hashes = [], []
        for number, line in payload:
            try:
                hashes.append(_key_hash(_item(reader, path, number, line).key))
            except ItemError as e:
                problems.extend(e.problems)
        return problems, hashes
    if kind == "lines":
        items = (_item(reader, path, number, line) for number, line in payload)
        triples = [(i.key, i.title, i.signal_values()) for i in items]
    else:
        triples = payload
    decide = classifier.decide_json if _worker["json"] else classifier.decide_signals
    return [decide(key, title, signals) for key, title, signals in triples]


def _chunks(iterable: Iterable, size: int = CHUNK) -> Iterator[list]:
    it = iter(iterable)
    return iter(lambda: list(islice(it, size)), [])


class Pool:
    """Worker processes for one rulebook; use as a context manager."""

    def __init__(self, book: Rulebook, engine: str, jobs: int, *, as_json: bool):
        import multiprocessing

        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._pool = multiprocessing.get_context(method).Pool(
            jobs, initializer=_init, initargs=(book.model_dump(mode="json"), engine, as_json))
        self.reader = ItemReader(book)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._pool.terminate()

    def check(self, path: str) -> int:
        """:func:`check`, spread over the workers."""
        problems: list[Problem] = []
        hashes = array("q")
        tasks = (("check", path, block) for block in _ranges(path))
        for found, keys in self._pool.imap(_work, tasks):
            problems.extend(found[: max(0, MAX_PROBLEMS - len(problems))])
            hashes.extend(keys)
        problems += _duplicates(self.reader, path, hashes)
        if not hashes and not problems:
            problems.append(Problem("holds no items", file=path))
        if problems:
            raise ItemError(problems)
        return len(hashes)

    def classify(self, sources: Iterable[tuple[str, Any]]) -> Iterator[Any]:
        """Decisions (or their JSON) for ``("lines", path)`` and ``("items", [ItemBase, ...])``
        sources, in order."""
        def tasks():
            for kind, source in sources:
                if kind == "lines":
                    for block in _ranges(source):
                        yield ("lines", source, block)
                else:
                    triples = ((i.key, i.title, i.signal_values()) for i in source)
                    for chunk in _chunks(triples):
                        yield ("items", None, chunk)
        for result in self._pool.imap(_work, tasks()):
            yield from result

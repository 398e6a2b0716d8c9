"""Parallel runs: a batch's classification spread over worker processes, its output kept in
input order.

The parent only hands out work: byte ranges of JSON Lines files, or chunks of items already
read. Validating, classifying and encoding happen in the workers. For JSON Lines output to a
real file or pipe the workers also write, each chunk straight to the output, taking turns in
input order (a shared counter under a condition): the parent never touches the output, which
would otherwise take a large share of its CPU time. Otherwise ``imap`` hands the results back in
input order and the parent writes them.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Iterable, Iterator, Mapping, Sequence

from ..decide.decision import decision_line
from ..errors import Problem
from ..items.keys import BatchKeys
from ..items.lines import Block, byte_ranges, digest, numbered, read_range
from ..items.model import ItemReader
from ..items.stream import block_values, chunks, first_pass, tally
from ..rulebook.model import Rulebook
from ..runtime import stop_pool, worker_context, worker_pool
from .final import final

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
    _write_in_turn(seq, fd, b"".join(decision_line(line) + b"\n" for line in lines))
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
    if path is not None:  # a byte range of a JSON Lines file, and the block the first pass accepted there
        start, length, first, accepted = payload
        data = read_range(path, start, length)
        block = Block(start, length, first, digest(data))
    if kind == "check":
        builder = None
        if plan is not None:  # ``plan`` is the keys a roadmap's plan needs the tier of
            from ..decide.pipeline import PartBuilder

            builder = PartBuilder(classifier.rulebook, classifier, plan)
        found = list(first_pass(reader, path, numbered(data, path, first), builder))
        return found, builder.part() if builder is not None else None, block
    # lines of a file, else triples of items already read
    triples = block_values(reader, path, block, data, accepted) if path is not None else payload
    plan = _plan_at(plan)
    return [final(classifier, plan, _worker["json"], key, title, signals) for key, title, signals in triples]


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
        stop_pool(self._pool)
        for path in self._files:
            os.unlink(path)

    def check(self, path: str, planner: Any = None, batch: BatchKeys | None = None,
              kept: list[Block] | None = None) -> int:
        """:func:`check`, spread over the workers (each gives the ``planner`` its part, and
        ``kept`` the block it read)."""
        known = planner.known_keys if planner is not None else None
        tasks = (("check", path, (*block, None), known) for block in byte_ranges(path))

        def found() -> Iterator[list[Problem] | int]:
            for lines, part, block in self._pool.imap(_work, tasks):
                if planner is not None:
                    planner.parts.append(part)
                if kept is not None:
                    kept.append(block)
                yield from lines

        return tally(self.reader, path, found(), batch)

    def classify(self, sources: Iterable[tuple[str, Any]], plan: Any = None,
                 accepted: Mapping[str, Sequence[Block]] | None = None) -> Iterator[Any]:
        """Final decisions (or their JSON) for ``("lines", path)`` and ``("items", [ItemBase,
        ...])`` sources, in order, under a roadmap ``plan`` (see :func:`final`); the blocks of a
        file the first pass ``accepted`` are not validated again."""
        for result in self._pool.imap(_work, self._tasks("classify", sources, plan, accepted)):
            yield from result

    def write_lines(self, sources: Iterable[tuple[str, Any]], fd: int, plan: Any = None,
                    accepted: Mapping[str, Sequence[Block]] | None = None) -> Iterator[int]:
        """The decisions' JSON, one per line, written by the workers to the file descriptor
        ``fd`` in input order; yields the number of items of each chunk as it is written."""
        self._turn["next"].value, self._turn["failed"].value = 0, 2**62
        tasks = (task + (seq, fd) for seq, task in enumerate(self._tasks("write", sources, plan, accepted)))
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

    def _tasks(self, kind: str, sources: Iterable[tuple[str, Any]], plan: Any,
               accepted: Mapping[str, Sequence[Block]] | None) -> Iterator[tuple]:
        plan = self._plan_file(plan)
        for source_kind, source in sources:
            if source_kind == "lines":
                before = (accepted or {}).get(source, ())
                for i, block in enumerate(byte_ranges(source)):
                    # the block the first pass accepted here, if it read one at this place
                    known = before[i] if i < len(before) and before[i][:3] == block else None
                    yield (kind, source, (*block, known), plan)
            else:
                triples = ((i.key, i.title, i.signal_values()) for i in source)
                for chunk in chunks(triples):
                    yield (kind, None, chunk, plan)

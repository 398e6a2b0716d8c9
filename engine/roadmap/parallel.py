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
from itertools import chain
from typing import Any, Iterable, Iterator

from ..errors import Problem
from ..items.keys import BatchKeys
from ..items.lines import byte_ranges, numbered_lines
from ..items.model import ItemReader
from ..items.stream import checked, chunks, first_pass, tally
from ..rulebook.model import Rulebook
from ..runtime import worker_context, worker_pool
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
        payload = numbered_lines(path, *payload)
    if kind == "check":
        if plan is None:
            return list(first_pass(reader, path, payload))
        from ..decide.pipeline import PartBuilder  # ``plan`` is the keys a roadmap's plan needs the tier of

        builder = PartBuilder(classifier.rulebook, classifier, plan)
        return list(first_pass(reader, path, payload, builder)), builder.part()
    if path is not None:  # lines of a file, else triples of items already read
        payload = [(i.key, i.title, i.signal_values()) for i in checked(reader, path, payload)]
    plan = _plan_at(plan)
    return [final(classifier, plan, _worker["json"], key, title, signals) for key, title, signals in payload]


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
        self._pool.terminate()
        for path in self._files:
            os.unlink(path)

    def check(self, path: str, planner: Any = None, batch: BatchKeys | None = None) -> int:
        """:func:`check`, spread over the workers (each gives the ``planner`` its part)."""
        if planner is None:
            tasks = (("check", path, block) for block in byte_ranges(path))
            return tally(self.reader, path, chain.from_iterable(self._pool.imap(_work, tasks)), batch)
        tasks = (("check", path, block, planner.known_keys) for block in byte_ranges(path))

        def found() -> Iterator[list[Problem] | int]:
            for lines, part in self._pool.imap(_work, tasks):
                planner.parts.append(part)
                yield from lines

        return tally(self.reader, path, found(), batch)

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
                for block in byte_ranges(source):
                    yield (kind, source, block, plan)
            else:
                triples = ((i.key, i.title, i.signal_values()) for i in source)
                for chunk in chunks(triples):
                    yield (kind, None, chunk, plan)

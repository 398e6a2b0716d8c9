"""A batch classified as one roadmap: what ``classify`` does with its files, for any caller.

Two passes. The first checks every file, so that every problem is reported before any output
(JSON Lines files are only validated then, and read again, one item at a time, in the second,
which validates only a block of lines that changed since: see ``engine/items/stream.py``),
checks that a key is unique across the files, and gives the roadmap's planner what it needs of
each item (the capacity candidates, the items the ledger knows). The plan made, the second pass
gives each item's final decision in input order, in this process or spread over worker
processes (``parallel.py``).
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Any, Iterator, NamedTuple, Sequence

from ..decide.classify import Classifier
from ..decide.pipeline import Plan, Planner
from ..errors import ItemError
from ..items import stream
from ..items.keys import BatchKeys
from ..items.lines import Block, is_stream
from ..items.model import ItemBase, ItemReader
from ..rulebook.model import Rulebook
from ..runtime import gc_paused
from .final import final
from .read import read_file


class Batch(NamedTuple):
    """A checked and planned batch, ready to give its decisions."""

    warnings: list[str]  # the plan's: quarters that overrides take over a capacity
    count: int  # the items of the files
    results: Iterator[Any]  # each item's final Decision (its JSON, as bytes, with as_json), in input order
    # with an output file descriptor and worker processes: the workers write the decisions'
    # JSON Lines to it themselves (each line a document: ``decision_line``), and this gives the
    # number of items of each chunk written (``results`` is then empty)
    written: Iterator[int] | None = None


@contextmanager
def classify_batch(book: Rulebook, files: Sequence[str], *, engine: str = "durable", jobs: int = 1,
                   as_json: bool = False, ledger_location: str | None = None, fd: int | None = None,
                   mapping: str | None = None) -> Iterator[Batch]:
    """Classify the items of ``files`` as one roadmap: rules, then the capacity of the quarters
    over the items given (and the ledger's items of the same quarters), then the ledger's
    overrides. Entering checks every file (one ItemError with every problem) and plans; the
    batch's results are read inside the block. ``jobs`` above 1 spreads the work over that many
    processes; with ``fd`` too (and ``as_json``) they write JSON Lines output straight to it
    (each line with its format version: ``decision_line``). The ledger at ``ledger_location``
    (None: the default place), when there is one, is only read while planning, and is closed
    once the plan is made. With a ``mapping``, the ``.csv`` files
    are roadmap-tool exports read through it, each whole (an export is a meeting's roadmap, not
    a stream), and decided as the item files are."""
    from ..ledger import reading_if_present

    with ExitStack() as stack:
        reader = ItemReader(book)
        classifier = Classifier(book, engine)
        with reading_if_present(ledger_location) as ledger:
            # the roadmap's capacity and the ledger's overrides: the first pass gives the planner
            # what it needs of each item (the capacity candidates and the items the ledger knows)
            planner = Planner(book, classifier, ledger) if book.capacity or ledger is not None else None
            stack.enter_context(gc_paused())  # items and decisions hold no reference cycles: see engine/runtime.py
            pool = None
            if jobs > 1:
                from .parallel import Pool

                pool = stack.enter_context(Pool(book, engine, jobs, as_json=as_json))
            accepted: dict[str, list[Block]] = {}
            loaded, count = check_files(reader, files, planner, pool, accepted, mapping)
            made = planner.plan() if planner is not None else None
        sources = [("items", loaded[f]) if f in loaded else ("lines", f) for f in files]
        warnings = made.warnings if made else []
        if pool is not None and fd is not None and as_json:
            yield Batch(warnings, count, iter(()), pool.write_lines(sources, fd, made, accepted))
        elif pool is not None:
            yield Batch(warnings, count, pool.classify(sources, made, accepted))
        else:
            yield Batch(warnings, count, _decided(reader, classifier, made, as_json, files, loaded, accepted))


def check_files(reader: ItemReader, files: Sequence[str], planner: Planner | None, pool: Any,
                accepted: dict[str, list[Block]] | None = None,
                mapping: str | None = None) -> tuple[dict[str, list[ItemBase]], int]:
    """The first pass: the items of the files that are not JSON Lines, and the count of all;
    the blocks of each JSON Lines file it accepted go in ``accepted`` (for the second pass).
    The ``.csv`` files are read through ``mapping`` when there is one."""
    loaded: dict[str, list[ItemBase]] = {}
    problems = []
    count = 0
    batch = BatchKeys()  # a key is unique across the files
    for f in files:
        try:
            if is_stream(f):
                kept = accepted.setdefault(f, []) if accepted is not None else None
                count += pool.check(f, planner, batch, kept) if pool else stream.check(reader, f, planner, batch, kept)
            else:
                loaded[f] = read_file(reader, f, mapping)
                count += len(loaded[f])
                batch.add(f, loaded[f])
                if planner is not None:
                    planner.add(loaded[f])
        except ItemError as e:
            problems.extend(e.problems)
    problems.extend(batch.problems())
    if problems:
        raise ItemError(problems)
    return loaded, count


def _decided(reader: ItemReader, classifier: Classifier, made: Plan | None, as_json: bool, files: Sequence[str],
             loaded: dict[str, list[ItemBase]], accepted: dict[str, list[Block]]) -> Iterator[Any]:
    values = (v for f in files for v in (((i.key, i.title, i.signal_values()) for i in loaded[f]) if f in loaded
                                         else stream.values(reader, f, accepted[f])))
    return (final(classifier, made, as_json, key, title, signals) for key, title, signals in values)

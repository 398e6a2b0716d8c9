"""A roadmap's files decided and recorded in a ledger, as one batch (what ``record`` does)."""

from __future__ import annotations

from typing import NamedTuple, Sequence

from ..decide.decision import Decision
from ..decide.pipeline import Plan, record_roadmap
from ..rulebook.model import Rulebook
from .read import read_roadmap


class RecordedBatch(NamedTuple):
    seqs: list[int]  # the ledger entries written
    decisions: list[Decision]  # of the items of the files, in order
    plan: Plan  # its context: the earlier items recorded again with the batch
    head: str | None  # the ledger's chain head after the batch


def record_files(book: Rulebook, files: Sequence[str], ledger_location: str | None, *, engine: str = "durable",
                 by: str, note: str | None = None) -> RecordedBatch:
    """Decide the roadmap in ``files`` through the pipeline, with the ledger's overrides and
    items, and record it in the ledger at ``ledger_location`` (created if absent), all or
    nothing. The files are read first: a roadmap with a problem creates no ledger."""
    from ..ledger import open_ledger

    items = read_roadmap(book, files)
    with open_ledger(ledger_location, create=True) as ledger:
        done = record_roadmap(ledger, book, items, engine=engine, by=by, note=note)
        head = ledger.head()
    return RecordedBatch(done.seqs, done.decisions, done.plan, head)

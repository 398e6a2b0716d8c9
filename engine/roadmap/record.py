"""A roadmap's files decided and recorded in a ledger, as one batch (what ``record`` does).

Streamed, as ``classify`` streams (:mod:`.batch`), so that a batch of any size is recorded in
flat memory. A first pass checks every file before the ledger is opened (a roadmap with a
problem creates no ledger; JSON Lines files are only validated, and read again later) and gives
the roadmap's planner its capacity candidates. Then, in one write transaction: the plan is made
with the ledger's overrides and items, and each item's final decision is encoded by the fastest
path that gives its bytes (the rules' decision and a capacity move straight from the encoder,
:mod:`engine.decide.encode`; only an item with a standing override is built as a model) and
handed to the store as it is made, which appends the entries in batches. Nothing of the batch
is held but a count per tier and the decisions that capacity or an override set (what the
command shows); the recorded bytes are those the pipeline's decisions give
(``Decision.model_dump_json()``), as before.
"""

from __future__ import annotations

from typing import Any, Iterator, NamedTuple, Sequence

from ..decide.classify import Classifier
from ..decide.decision import CapacityNote, Decision, OverrideNote
from ..decide.pipeline import Plan, Planner
from ..items import stream
from ..items.model import ItemBase, ItemReader
from ..rulebook.model import Rulebook
from ..runtime import gc_paused
from .batch import check_files


class Staged(NamedTuple):
    """A decision of the batch whose final tier capacity or an override set: what the command
    shows of it (the fields :func:`cli.render.text.stage_text` reads, as on a Decision)."""

    item: str
    tier: str
    rules_tier: str
    capacity: CapacityNote | None
    override: OverrideNote | None

    @property
    def set_by(self) -> str:
        if self.override is not None:
            return "override"
        return "capacity" if self.capacity is not None else "rules"

    @classmethod
    def of(cls, d: Decision) -> "Staged":
        return cls(d.item, d.tier, d.rules_tier, d.capacity, d.override)


class RecordedBatch(NamedTuple):
    seqs: Sequence[int]  # the ledger entries written (consecutive)
    counts: dict[str, int]  # the final tiers of the items of the files: how many of each, in first-seen order
    staged: list[Staged]  # the items of the files whose final tier capacity or an override set, in order
    plan: Plan  # its context: the earlier items recorded again with the batch
    head: str | None  # the ledger's chain head after the batch


def record_files(book: Rulebook, files: Sequence[str], ledger_location: str | None, *, engine: str = "durable",
                 by: str, note: str | None = None, mapping: str | None = None) -> RecordedBatch:
    """Decide the roadmap in ``files`` (the ``.csv`` files read through ``mapping`` when there
    is one) through the pipeline, with the ledger's overrides and items, and record it in the
    ledger at ``ledger_location`` (created if absent), all or nothing. The files are checked
    first: a roadmap with a problem creates no ledger."""
    from ..ledger import open_ledger
    from ..ledger.records import EncodedDecision, encoded

    reader = ItemReader(book)
    classifier = Classifier(book, engine)
    with gc_paused():  # items and decisions hold no reference cycles: see engine/runtime.py
        first = Planner(book, classifier)  # the capacity candidates, which need no ledger
        loaded, _ = check_files(reader, files, first, None, mapping=mapping)
        counts: dict[str, int] = {}
        staged: list[Staged] = []

        def items() -> Iterator[ItemBase]:
            for f in files:
                yield from loaded[f] if f in loaded else stream.items(reader, f)

        def rows(made: Plan) -> Iterator[Any]:
            tiers = [t.id for t in book.tiers]
            decide_text = classifier.encoder.decide_text
            for item in items():
                key, title, signals = item.key, item.title, item.signal_values()
                escaped = None
                if not made.changes(key):  # the rules' decision: most items
                    text, escaped, index = decide_text(key, title, signals)
                    tier = computed = tiers[index]
                elif key not in made.overrides:  # moved by capacity only: a quarter's overflow, often many
                    move = made.moves[key]
                    text = classifier.moved_json(key, title, signals, move.tier, move.reason).decode()
                    tier = computed = move.tier
                    rules = tiers[classifier.tier_index(signals)]
                    staged.append(Staged(key, tier, rules, CapacityNote(computed_tier=rules, reason=move.reason), None))
                else:
                    d = made.finish_signals(classifier, signals, classifier.decide_signals(key, title, signals))
                    text = d.model_dump_json()
                    tier = d.tier
                    computed = d.override.from_tier if d.override is not None else d.tier
                    if d.set_by != "rules":
                        staged.append(Staged.of(d))
                counts[tier] = counts.get(tier, 0) + 1
                yield EncodedDecision(key, item.quarter, computed, tier, item.model_dump_json(), text, escaped)
            for item, d in made.context:  # the earlier items whose decision this batch changes
                yield encoded(item, d)

        with open_ledger(ledger_location, create=True) as ledger:
            with ledger.writing():  # planned against the ledger and recorded as one
                planner = Planner(book, classifier, ledger)
                if planner.known_keys:
                    # the plan needs the tier of each item the ledger knows: read the items again
                    for f in files:
                        planner.add(loaded[f] if f in loaded else stream.items(reader, f))
                else:
                    planner.parts = first.parts
                made = planner.plan()
                seqs = ledger.record(book, rows(made), by=by, note=note)
            head = ledger.head()
    return RecordedBatch(seqs, counts, staged, made, head)

"""One item of a roadmap file, decided with the rest of the file (and the ledger's overrides
and items): its explanation, or its artifact checklist, or its what-if kept as a rule-test case. What
``explain`` (and its ``--save-case``) and ``artifacts FILE`` do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, NamedTuple

from ..decide.checklist import Checklist, item_checklist
from ..decide.decision import Explanation
from ..ledger import reading_if_present
from ..rulebook.model import Rulebook
from .read import Picked, pick_item

if TYPE_CHECKING:
    from ..rulecheck.savecase import SavedCase


class Explained(NamedTuple):
    explanation: Explanation
    ledger: str | None  # where the ledger read was; None: there was none


def explain_in_file(book: Rulebook, file: str, key: str | None = None, changes: Mapping[str, str] | None = None, *,
                    engine: str = "durable", ledger_location: str | None = None, mapping: str | None = None) -> Explained:
    """Item ``key`` of ``file`` (a CSV export read through ``mapping``) explained in full (with
    ``changes``: a what-if), with the ledger at ``ledger_location`` when there is one (its
    overrides, items and precedents)."""
    picked = pick_item(book, file, key, changes, mapping)  # before the ledger: a wrong key is the only message
    return _explained(book, picked, engine, ledger_location)


def explain_saving_case(book: Rulebook, file: str, key: str | None, changes: Mapping[str, str] | None, cases: str, *,
                        engine: str = "durable", ledger_location: str | None = None,
                        mapping: str | None = None) -> tuple[Explained, SavedCase]:
    """:func:`explain_in_file`, and the item with the what-if ``changes`` appended to the
    rule-test case file ``cases``, expecting what the rules now decide (``explain --save-case``)."""
    from ..rulecheck.savecase import save_case

    picked = pick_item(book, file, key, changes, mapping)  # once: FILE may be standard input
    explained = _explained(book, picked, engine, ledger_location)
    return explained, save_case(book, cases, picked.item, picked.original, engine=engine)


def _explained(book: Rulebook, picked: Picked, engine: str, ledger_location: str | None) -> Explained:
    from ..decide.pipeline import explain_item

    with reading_if_present(ledger_location) as ledger:
        ex = explain_item(book, picked.items, picked.item, original=picked.original, engine=engine, ledger=ledger)
        return Explained(ex, ledger.location if ledger is not None else None)


def checklist_in_file(book: Rulebook, file: str, key: str | None = None, *, engine: str = "durable",
                      ledger_location: str | None = None, mapping: str | None = None) -> Checklist:
    """The artifact checklist of item ``key`` of ``file`` (a CSV export read through
    ``mapping``): its final decision's artifacts."""
    picked = pick_item(book, file, key, mapping=mapping)
    with reading_if_present(ledger_location) as ledger:
        return item_checklist(book, picked.items, picked.item, engine=engine, ledger=ledger)


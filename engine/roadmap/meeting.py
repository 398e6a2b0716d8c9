"""The live review meeting (``launchtier meeting``): the roadmap read once, and, per request,
what ``review``, ``explain``, ``review --record`` and ``override`` do, through the same engine
functions, with what-if changes to items' signals that live only in the viewer's request.

The files on disk are never written: a what-if is kept by whoever asks (the page keeps it in its
URL), and can be taken away as an item file or a rule-test case (text to download). Each call
opens the ledger for itself and closes it, so several viewers at once each read the ledger as it
is, and their writes are the store's transactions, one after the other.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Sequence

from ..decide.decision import Explanation
from ..errors import ItemError, Problem
from ..items.model import ItemBase, ItemReader
from ..rulebook.model import Rulebook
from .read import read_roadmap
from .review import ReviewReport, review_at

# What a what-if's problems name as their source (as ``explain`` names ``--set``)
WHAT_IF = "what-if"

# item key -> {signal: value as typed}: the what-if changes of a viewer
WhatIfs = Mapping[str, Mapping[str, str]]


class Roadmap(NamedTuple):
    """The roadmap with a viewer's what-ifs: the items in the files' order, each changed one in
    place of the file's, and the file's item of each changed one."""

    items: list[ItemBase]
    originals: dict[str, ItemBase]


class Meeting:
    """One meeting's roadmap, rulebook and ledger."""

    def __init__(self, book: Rulebook, files: Sequence[str], *, mapping: str | None = None, engine: str = "durable",
                 quarter: str | None = None, ledger_location: str | None = None):
        self.book = book
        self.engine = engine
        self.quarter = quarter
        self.ledger_location = ledger_location
        self.items = read_roadmap(book, files, mapping)  # a roadmap with a problem stops here, before serving
        self.by_key = {i.key: i for i in self.items}
        self.reader = ItemReader(book)

    # ---- what-ifs -----------------------------------------------------------------------
    def roadmap(self, whatifs: WhatIfs | None = None) -> Roadmap:
        """The roadmap with ``whatifs`` applied, each checked as ``explain --set`` checks its
        changes; a change that gives the value the file has is no change."""
        changed: dict[str, ItemBase] = {}
        problems: list[Problem] = []
        for key, changes in (whatifs or {}).items():
            original = self.by_key.get(key)
            if original is None:
                problems.append(Problem(f"no item with key '{key}' in the roadmap", file=WHAT_IF))
                continue
            try:
                item = self.reader.with_signals(original, dict(changes), source=WHAT_IF)
            except ItemError as e:
                problems += e.problems
                continue
            if item.signal_values() != original.signal_values():
                changed[key] = item
        if problems:
            raise ItemError(problems)
        return Roadmap([changed.get(i.key, i) for i in self.items], {k: self.by_key[k] for k in changed})

    def differences(self, whatifs: WhatIfs | None) -> dict[str, dict[str, tuple[Any, Any]]]:
        """Per changed item, ``{signal: (the file's value, the what-if's)}``, in the rulebook's order."""
        made = self.roadmap(whatifs)
        out = {}
        for key, original in made.originals.items():
            before, now = original.signal_values(), next(i for i in made.items if i.key == key).signal_values()
            out[key] = {s: (before[s], now[s]) for s in self.book.signals if before[s] != now[s]}
        return out

    # ---- what the page shows ------------------------------------------------------------
    def review(self, whatifs: WhatIfs | None = None) -> ReviewReport:
        """The review of the roadmap with ``whatifs`` (what ``launchtier review`` reports of the files)."""
        return review_at(self.book, self.roadmap(whatifs).items, engine=self.engine, quarter=self.quarter,
                         ledger_location=self.ledger_location)

    def explain(self, key: str, whatifs: WhatIfs | None = None) -> Explanation:
        """Item ``key`` in full, with ``whatifs`` (what ``launchtier explain --set`` shows)."""
        from ..ledger import reading_if_present
        from ..decide.pipeline import explain_item

        made = self.roadmap(whatifs)
        item = self._item(made, key)
        with reading_if_present(self.ledger_location) as ledger:
            return explain_item(self.book, made.items, item, original=made.originals.get(key), engine=self.engine,
                                ledger=ledger)

    def head(self) -> str | None:
        """The ledger's chain head (None: no ledger yet, or an empty one)."""
        from ..ledger import reading_if_present

        with reading_if_present(self.ledger_location) as ledger:
            return ledger.head() if ledger is not None else None

    # ---- what the page records ----------------------------------------------------------
    def record(self, by: str, note: str | None = None) -> ReviewReport:
        """Record the review's decisions, as ``launchtier review --record --by BY --note NOTE``
        does: the roadmap as the files have it (a what-if is not a decision of the files), all
        or nothing, in the ledger (created if absent)."""
        from ..ledger.policy import person

        return review_at(self.book, self.items, engine=self.engine, quarter=self.quarter,
                         ledger_location=self.ledger_location, record_by=person(by, "by"), note=note or None)

    def override(self, key: str, tier: str, *, reason: str, by: str, approved_by: list[str]) -> Any:
        """Override the latest recorded decision of ``key``, as ``launchtier override`` does
        (the same checks under the rulebook's policy, the same errors): an ``Overridden``."""
        from ..decide.recorded import override_decision
        from ..ledger import open_ledger

        with open_ledger(self.ledger_location) as ledger:
            return override_decision(ledger, key, tier, reason=reason, by=by, approved_by=list(approved_by))

    # ---- what the page gives to take away -----------------------------------------------
    def item_file(self, key: str, whatifs: WhatIfs | None = None) -> str:
        """Item ``key`` with its what-if, as an item file (YAML): to add to the roadmap when the
        team adopts the change. The files on disk are not touched."""
        from ..files.yamlio import dump_yaml

        item = self._item(self.roadmap(whatifs), key)
        raw = item.model_dump(exclude_none=True)
        if not raw.get("links"):
            raw.pop("links", None)
        return dump_yaml(raw)

    def rule_case(self, key: str, whatifs: WhatIfs | None = None) -> str:
        """Item ``key`` with its what-if as a rule-test case file (YAML), expecting what the
        rules now decide (what ``explain --save-case`` appends to a case file)."""
        from ..rulecheck.savecase import rule_case_file

        made = self.roadmap(whatifs)
        return rule_case_file(self.book, self._item(made, key), made.originals.get(key), engine=self.engine)

    def _item(self, made: Roadmap, key: str) -> ItemBase:
        for item in made.items:
            if item.key == key:
                return item
        raise ItemError([Problem(f"no item with key '{key}' in the roadmap", file=WHAT_IF)])

"""The roadmap review: a quarter's items with their tiers after capacity, the close calls,
what changed since the last meeting, and the work each owner takes on."""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Any, Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from ..decide.classify import Classifier
from ..decide.decision import Decision, RulebookRef
from ..decide.whatif import change_text
from ..items.model import ItemBase
from ..decide.pipeline import decide_roadmap, ranking_text, record_decisions
from ..rulebook.conditions import literal
from ..rulebook.model import EnumSignal, IntSignal, Rulebook
from .read import read_roadmap

UNSCHEDULED = "unscheduled"
UNASSIGNED = "unassigned"
# The item field that names the person an owner role's artifacts fall to
ROLE_FIELDS = {"PM": "pm", "PMM": "pmm"}
# `Previous.stage_moved` keeps the move of a signal of this name for the JSON readers written
# before `Previous.moved` reported every signal's
STAGE = "stage"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Previous(_Data):
    """The item's latest decision in the ledger before this review."""

    seq: int
    recorded_at: str
    computed_tier: str
    final_tier: str
    tier_changed: bool
    stage_moved: str | None = Field(
        default=None, description="e.g. 'beta → ga' when a signal named stage moved since (the move is in `moved` too)")
    moved: dict[str, str] = Field(
        default_factory=dict, description="every signal whose value changed since, in the rulebook's order: "
                                          "{'stage': 'beta → ga'}")


class ReviewItem(_Data):
    decision: Decision
    quarter: str | None
    pm: str | None = None
    pmm: str | None = None
    close: list[str] = Field(default_factory=list, description=(
        "why it is disputed: the capacity decision that moved it, and the small changes the team could decide "
        "that would give it another tier"))
    previous: Previous | None = None

    @property
    def disputed(self) -> bool:
        return bool(self.close)


class Workload(_Data):
    owner: str
    artifacts: int
    days: float


class PersonLoad(_Data):
    """One person's share of a quarter's work: the artifacts of the items that name them in
    the role that owns the artifacts (the item's pm for PM's, its pmm for PMM's)."""

    name: str = Field(description="as the items name them; 'unassigned' for items that name no one in the role, "
                                  "and for owners no item field names")
    role: str = Field(description="the artifacts' owner, as the rulebook names it: PM, PMM, ...")
    items: int = Field(description="the quarter's items they own at least one artifact of")
    artifacts: int
    days: float


class QuarterSummary(_Data):
    quarter: str
    tiers: dict[str, int]
    capacity: list[str] = Field(default_factory=list)
    workload: list[Workload] = Field(default_factory=list, description="per owner role, the sum of `people` in it")
    people: list[PersonLoad] = Field(
        default_factory=list, description="per named person, by role, the most days first ('unassigned' last)")


class ReviewReport(_Data):
    rulebook: RulebookRef
    quarter: str | None
    ranking: dict[str, str] = Field(default_factory=dict, description="how each capacity tier ranks its candidates")
    items: list[ReviewItem]
    quarters: list[QuarterSummary]
    ledger: str | None = None
    warnings: list[str] = Field(default_factory=list, description="quarters that overrides take over a capacity")
    also_changed: list[Decision] = Field(
        default_factory=list, description="items recorded earlier for these quarters whose decision this roadmap changes")
    recorded: list[int] = Field(default_factory=list, description="the ledger entries written, with record_by")
    head: str | None = Field(default=None, description="the ledger's chain head after recording, with record_by")

    @property
    def disputed(self) -> list[ReviewItem]:
        return [i for i in self.items if i.disputed]


def close_calls(book: Rulebook, classifier: Classifier, item: ItemBase, decision: Decision,
                taken: Mapping[tuple[str | None, str], list[str]] | None = None) -> list[str]:
    """What makes the item disputed: a capacity decision that moved it, and each small change
    the team can decide (the rulebook's ``moves``; one step, see :func:`_one_step`) that would
    give it another tier, in the rulebook's words, with the scores it moves as context.
    ``taken``: the items holding each (quarter, tier) of the roadmap; a change into a tier whose
    places in the item's quarter are all taken says so (capacity would decide it)."""
    out = [f"moved by capacity: {decision.capacity.reason}"] if decision.capacity else []
    for change in classifier.what_would_change(item.signal_values(), moves_only=True):
        if change.tier != decision.tier and _one_step(book, change.signal, change.from_, change.to):
            text = change_text(book, change)
            cap = book.capacity.get(change.tier)
            holders = [k for k in (taken or {}).get((item.quarter, change.tier), []) if k != item.key]
            if cap is not None and item.quarter is not None and len(holders) >= cap.max:
                text += (f"; but {change.tier}'s {'place' if cap.max == 1 else 'places'} in {item.quarter} "
                         f"{'is' if len(holders) == 1 else 'are'} taken by {', '.join(holders)}: capacity would decide")
            out.append(text)
    return out


def _one_step(book: Rulebook, signal: str, old: Any, new: Any) -> bool:
    """A change a meeting would call small: a yes/no flipped, an enum's neighbour, an int moved
    by at most a twentieth of its range (or 1; 20 without a range): 8 → 10 percent of customers,
    not 3 → 10."""
    sig = book.signals[signal]
    if isinstance(sig, EnumSignal):
        return abs(sig.values.index(old) - sig.values.index(new)) == 1
    if isinstance(sig, IntSignal):
        span = (sig.max - sig.min) if sig.min is not None and sig.max is not None else 20
        return abs(new - old) <= max(1, span // 20)
    return True


def signals_moved(book: Rulebook, before: Mapping[str, Any], now: Mapping[str, Any]) -> dict[str, str]:
    """``{signal: 'old → new'}`` for every signal of the rulebook whose value differs between
    the item as recorded (``before``) and as it is now; a signal the recorded item did not
    have (the rulebook added it since) has not moved."""
    out = {}
    for name in book.signals:
        old, new = before.get(name), now.get(name)
        if old is not None and old != new:
            out[name] = f"{literal(old)} → {literal(new)}"
    return out


def review(
    book: Rulebook,
    items: Iterable[ItemBase],
    *,
    engine: str = "durable",
    quarter: str | None = None,
    ledger: Any = None,
    record_by: str | None = None,
    note: str | None = None,
) -> ReviewReport:
    """The review of a roadmap: every item through the decision pipeline (rules, capacity,
    override); with ``record_by``, its decisions recorded in the ledger (all or nothing), each
    with the note "review <quarter>", and ``note`` after it ("review 2027-Q1: <note>")."""
    items = list(items)
    classifier = Classifier(book, engine)
    recorded: Sequence[int] = []
    head = None
    with ledger.writing() if record_by is not None else nullcontext():  # decided and recorded as one
        previous = _previous(ledger, items) if ledger is not None else {}
        decisions, made = decide_roadmap(book, items, classifier=classifier, ledger=ledger)
        if record_by is not None:
            recorded = record_decisions(ledger, book, list(zip(items, decisions)), made, by=record_by,
                                        note=review_note(quarter, note))
            head = ledger.head()
    entries = []
    taken: dict[tuple[str | None, str], list[str]] = {}
    for item, decision in zip(items, decisions):
        taken.setdefault((item.quarter, decision.tier), []).append(item.key)
    for item, decision in zip(items, decisions):
        if quarter is not None and (item.quarter or UNSCHEDULED) != quarter:
            continue
        prev = None
        if item.key in previous:
            rec, raw = previous[item.key]
            moved = signals_moved(book, raw.get("signals", {}), item.signal_values())
            prev = Previous(seq=rec.seq, recorded_at=rec.recorded_at, computed_tier=rec.computed_tier,
                            final_tier=rec.final_tier, tier_changed=rec.final_tier != decision.tier,
                            stage_moved=moved.get(STAGE), moved=moved)
        entries.append(ReviewItem(decision=decision, quarter=item.quarter, pm=item.pm, pmm=item.pmm,
                                  close=close_calls(book, classifier, item, decision, taken), previous=prev))
    order = book.tier_index
    entries.sort(key=lambda e: (not e.disputed, _quarter_key(e.quarter), order[e.decision.tier], e.decision.item))
    quarters = _summaries(book, entries)
    return ReviewReport(
        rulebook=RulebookRef(**book.summary()), quarter=quarter,
        ranking={t: ranking_text(book, t) for t in book.capacity},
        items=entries, quarters=quarters, ledger=ledger.location if ledger is not None else None,
        warnings=made.warnings, also_changed=[d for _, d in made.context], recorded=list(recorded), head=head,
    )


def review_note(quarter: str | None, note: str | None = None) -> str:
    """The note recorded with a review's decisions: the review's scope, then the user's note."""
    scope = f"review {quarter or 'all quarters'}"
    return f"{scope}: {note}" if note else scope


def review_files(book: Rulebook, files: Sequence[str], *, mapping: str | None = None, **options: Any) -> ReviewReport:
    """:func:`review_at` (``options`` are its: engine, quarter, ledger_location, record_by and
    note) of the roadmap in ``files`` (item files, and roadmap-tool CSV exports read through
    ``mapping``). The files are read first: a roadmap with a problem creates no ledger."""
    return review_at(book, read_roadmap(book, files, mapping), **options)


def review_at(
    book: Rulebook,
    items: Sequence[ItemBase],
    *,
    engine: str = "durable",
    quarter: str | None = None,
    ledger_location: str | None = None,
    record_by: str | None = None,
    note: str | None = None,
) -> ReviewReport:
    """:func:`review` of ``items`` with the ledger at ``ledger_location`` (None: the default
    place), opened for the review alone: read when there is one (``report.ledger`` is None when
    there is none); with ``record_by``, created if absent and the decisions recorded in it, with
    ``note``. What ``review`` and the meeting page
    (:mod:`.meeting`) both do."""
    from ..ledger import open_ledger, reading_if_present

    opened = open_ledger(ledger_location, create=True) if record_by is not None else reading_if_present(ledger_location)
    with opened as ledger:
        return review(book, items, engine=engine, quarter=quarter, ledger=ledger, record_by=record_by, note=note)


def _quarter_key(q: str | None) -> tuple[bool, str]:
    return (q is None, q or "")


def _summaries(book: Rulebook, entries: list[ReviewItem]) -> list[QuarterSummary]:
    groups: dict[str | None, list[ReviewItem]] = {}
    for e in entries:
        groups.setdefault(e.quarter, []).append(e)
    out = []
    for q in sorted(groups, key=_quarter_key):
        members = groups[q]
        counts = {t.id: sum(e.decision.tier == t.id for e in members) for t in book.tiers}
        notes = []
        for t, cap in book.capacity.items():
            moved = [e.decision.item for e in members if e.decision.capacity and e.decision.capacity.computed_tier == t]
            if moved:
                notes.append(f"{t}: {counts.get(t, 0) + len(moved)} candidates for {cap.max} "
                             f"place{'s' if cap.max != 1 else ''}; moved down: {', '.join(moved)}")
        work: dict[str, list[float]] = {}
        people: dict[tuple[str, str], list[Any]] = {}  # (role, name): [items, artifacts, days]
        for e in members:
            for a in e.decision.artifacts:
                w = work.setdefault(a.owner, [0, 0.0])
                w[0] += 1
                w[1] += a.effort or 0.0
                field = ROLE_FIELDS.get(a.owner)
                name = (getattr(e, field) if field else None) or UNASSIGNED
                p = people.setdefault((a.owner, name), [set(), 0, 0.0])
                p[0].add(e.decision.item)
                p[1] += 1
                p[2] += a.effort or 0.0
        loads = [PersonLoad(name=name, role=role, items=len(keys), artifacts=n, days=round(d, 2))
                 for (role, name), (keys, n, d) in people.items()]
        loads.sort(key=lambda p: (p.role, p.name == UNASSIGNED, -p.days, -p.artifacts, p.name))
        out.append(QuarterSummary(
            quarter=q or UNSCHEDULED, tiers={t: n for t, n in counts.items() if n}, capacity=notes,
            workload=[Workload(owner=o, artifacts=int(n), days=round(d, 2)) for o, (n, d) in sorted(work.items())],
            people=loads,
        ))
    return out


def _previous(ledger: Any, items: list[ItemBase]) -> dict[str, tuple[Any, dict]]:
    """The latest recorded decision of each item of the review: only their own history is read."""
    return {rec.item: (rec, json.loads(raw)) for rec, raw in ledger.latest_of_items(i.key for i in items)}

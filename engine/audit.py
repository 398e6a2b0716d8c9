"""The audit of past tier decisions: integrity, reproducibility, drift, overrides, distribution."""

from __future__ import annotations

from typing import Any, Iterator, NamedTuple

import jiter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .classify import Classifier
from .decision import Decision, construct
from .errors import InputError, Problem
from .items import ItemBase, ItemReader
from .ledger import COLUMNS, Entry, Ledger, OverrideRecord, entry_hash, latest_of, verify_chain
from .memory import gc_paused
from .rulebook import Rulebook
from .rulediff import RuleChange, causes, diff_rulebooks


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainBreak(_Data):
    seq: int
    item: str
    problem: str


class Integrity(_Data):
    ok: bool
    entries: int
    head: str
    breaks: list[ChainBreak] = Field(default_factory=list)


class Mismatch(_Data):
    seq: int
    item: str
    recorded_tier: str
    replayed_tier: str | None
    recorded_fired: list[str]
    replayed_fired: list[str]
    problem: str | None = None


class Reproducibility(_Data):
    ok: bool
    checked: int
    mismatches: list[Mismatch] = Field(default_factory=list)


class DriftItem(_Data):
    item: str
    title: str
    seq: int
    recorded_tier: str
    final_tier: str
    new_tier: str
    recorded_under: str
    causes: list[RuleChange]


class Drift(_Data):
    rulebook: dict[str, str]
    items_checked: int
    changed: list[DriftItem] = Field(default_factory=list)
    rule_changes: dict[str, list[RuleChange]] = Field(default_factory=dict)


class OverrideAudit(OverrideRecord):
    below_policy: bool


class QuarterTiers(_Data):
    quarter: str
    tiers: dict[str, int]
    over_capacity: list[str] = Field(default_factory=list)


class AuditReport(_Data):
    ledger: str
    since: str | None
    integrity: Integrity
    reproducibility: Reproducibility
    drift: Drift
    overrides: list[OverrideAudit]
    distribution: list[QuarterTiers]

    @property
    def ok(self) -> bool:
        return self.integrity.ok


def audit(ledger: Ledger, current: Rulebook, *, since: str | None = None, engine: str = "durable",
          jobs: int = 1) -> AuditReport:
    """The audit report. ``jobs`` > 1 spreads the per-entry work (hashing each entry, replaying
    each decision, its tier under ``current``) over that many processes, a range of entries
    each, read from the ledger file by each process itself."""
    with gc_paused():
        return _audit(ledger, current, since=since, engine=engine, jobs=jobs)


class EntryCheck(NamedTuple):
    """What the audit learns from one entry on its own (the rest needs the whole chain)."""

    seq: int
    row: tuple  # the entry's columns (ledger.COLUMNS), its recorded JSON left out
    content_ok: bool  # the entry's content still gives its stored hash
    title: str | None = None  # a decision's item title
    mismatch: Mismatch | None = None  # the decision replayed under its own rulebook differs
    replayed: bool = False  # the decision was replayed (in --since range, its rulebook stored)
    now: str | None = None  # the tier the current rulebook gives the item
    now_error: str | None = None  # or why the item no longer loads under it


class EntryChecker:
    """The per-entry work of the audit, the same whether one process does it or several."""

    def __init__(self, ledger: Ledger, current: Rulebook, engine: str, since: str | None):
        self.ledger, self.current, self.engine, self.since = ledger, current, engine, since
        self.stored = set(ledger.rulebook_hashes())
        self._tools: dict[str, tuple[Classifier, ItemReader]] = {}

    def tools(self, book: Rulebook) -> tuple[Classifier, ItemReader]:
        if book.hash not in self._tools:
            self._tools[book.hash] = (Classifier(book, self.engine), ItemReader(book))
        return self._tools[book.hash]

    def check(self, e: Entry) -> EntryCheck:
        row = e.row()
        content_ok = entry_hash(e.prev_hash, row) == e.entry_hash
        row["item_json"] = row["decision_json"] = ""
        row = tuple(row[c] for c in COLUMNS)
        if e.kind != "decision":
            return EntryCheck(e.seq, row, content_ok)
        unreadable = None  # why the recorded item cannot be read at all
        try:
            raw = jiter.from_json(e.item_json.encode())
        except ValueError as err:
            raw, unreadable = None, InputError([Problem(f"the recorded item is not JSON: {err}", file=f"ledger entry {e.seq}")])
        title = raw.get("title") if isinstance(raw, dict) and isinstance(raw.get("title"), str) else e.item_key
        mismatch, replayed, item = None, False, None
        if e.rulebook_hash in self.stored and (self.since is None or e.recorded_at >= self.since):
            replayed = True
            try:
                classifier, reader = self.tools(self.ledger.rulebook(e.rulebook_hash))
                if unreadable:
                    raise unreadable
                item = reader.validate(raw, file=f"ledger entry {e.seq}")
                mismatch = self._replay(e, classifier, item)
            except InputError as err:
                mismatch = Mismatch(seq=e.seq, item=e.item_key, recorded_tier=e.computed_tier, replayed_tier=None,
                                    recorded_fired=_recorded_fired(e), replayed_fired=[], problem=str(err))
        now, now_error = None, None
        try:
            classifier, reader = self.tools(self.current)
            if item is None or item.__class__ is not reader.model:  # validated under another rulebook
                if unreadable:
                    raise unreadable
                item = reader.validate(raw, file=f"ledger entry {e.seq}")
            # the tier alone (memoised matching); full decisions only for the items that moved
            now = self.current.tiers[classifier.tier_index(item.signal_values())].id
        except InputError as err:
            now_error = str(err)
        return EntryCheck(e.seq, row, content_ok, title, mismatch, replayed, now, now_error)

    @staticmethod
    def _replay(e: Entry, classifier: Classifier, item: ItemBase) -> Mismatch | None:
        # the same rulebook gives the same decision, byte for byte, and the entry's own tier
        # column says that decision's tier: nothing more to compare
        signals = item.signal_values()
        if (classifier.decide_json(item.key, item.title, signals) == e.decision_json.encode()
                and classifier.rulebook.tiers[classifier.tier_index(signals)].id == e.computed_tier):
            return None
        replay = classifier.decide(item)
        fired = [f.rule for f in replay.fired]
        recorded = _recorded(e)
        if isinstance(recorded, str):
            return Mismatch(seq=e.seq, item=e.item_key, recorded_tier=e.computed_tier, replayed_tier=replay.tier,
                            recorded_fired=[], replayed_fired=fired, problem=recorded)
        tier, ruled, recorded_fired = recorded
        if replay.tier != ruled or fired != recorded_fired or tier != e.computed_tier:
            return Mismatch(seq=e.seq, item=e.item_key, recorded_tier=e.computed_tier,
                            replayed_tier=replay.tier, recorded_fired=recorded_fired, replayed_fired=fired)
        return None


def _recorded(e: Entry) -> tuple[str, str, list[str]] | str:
    """The recorded decision's tier, the tier its rules gave (before a capacity move) and its
    fired rules; or why it cannot be read (the ledger file was changed)."""
    try:
        recorded = jiter.from_json(e.decision_json.encode())
        ruled = recorded["capacity"]["computed_tier"] if recorded.get("capacity") else recorded["tier"]
        return recorded["tier"], ruled, [f["rule"] for f in recorded["fired"]]
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        return f"the recorded decision cannot be read ({err.__class__.__name__}: {err})"


def _recorded_fired(e: Entry) -> list[str]:
    recorded = _recorded(e)
    return [] if isinstance(recorded, str) else recorded[2]


def _audit(ledger: Ledger, current: Rulebook, *, since: str | None, engine: str, jobs: int) -> AuditReport:
    checker = EntryChecker(ledger, current, engine, since)
    stored = checker.stored
    # The per-entry checks read the entries whole, here or in the workers, and come back in
    # order; the entries are then held without their recorded JSON (a large ledger's JSON is
    # most of it). The ledger's history is built from them as they come: with --jobs, the
    # parent's share of the work overlaps the workers'.
    results = _checks_in_parallel(ledger, current, engine, since, jobs) if jobs > 1 else (
        checker.check(e) for e in ledger.entries())
    checks: dict[int, EntryCheck] = {}
    titles: dict[int, str] = {}
    entries: list[Entry] = []

    def arriving() -> Iterator[Entry]:
        for c in results:
            checks[c.seq] = c
            if c.title is not None:
                titles[c.seq] = c.title
            entries.append(construct(Entry, dict(zip(COLUMNS, c.row))))  # validated when read
            if entries[-1].rulebook_hash in stored:  # (an entry whose rulebook is missing: a break)
                yield entries[-1]

    history = ledger.history(entries=arriving(), decisions=False, titles=titles)

    # 1. integrity: the chain links and every entry's content against its hash
    content_ok = {seq: c.content_ok for seq, c in checks.items()}
    breaks = [ChainBreak(seq=e.seq, item=e.item_key, problem=why) for e, why in verify_chain(entries, content_ok)]
    breaks += [ChainBreak(seq=e.seq, item=e.item_key, problem=f"its rulebook {e.rulebook_hash[:19]}… is not stored in the ledger")
               for e in entries if e.rulebook_hash not in stored]
    for h in stored:
        try:
            actual = ledger.stored_rulebook_hash(h)
        except InputError as err:
            breaks.append(ChainBreak(seq=0, item="-", problem=f"stored rulebook {h[:19]}… no longer loads: {err}"))
            continue
        if actual != h:
            breaks.append(ChainBreak(seq=0, item="-", problem=f"stored rulebook {h[:19]}… was changed: its content now hashes to {actual[:19]}…"))
    integrity = Integrity(ok=not breaks, entries=len(entries), head=entries[-1].entry_hash if entries else "", breaks=breaks)

    # 2. each recorded decision replayed under its own rulebook
    replayed = [c for c in checks.values() if c.replayed]
    mismatches = [c.mismatch for c in replayed if c.mismatch is not None]
    reproducibility = Reproducibility(ok=not mismatches, checked=len(replayed), mismatches=mismatches)

    # 3. the latest decision of each item under the current rulebook
    latest = latest_of(history)
    classifier, reader = checker.tools(current)
    changed = []
    rule_changes: dict[str, list[RuleChange]] = {}
    for rec in latest:
        check = checks[rec.seq]
        if check.now == rec.computed_tier:
            continue
        old_book = ledger.rulebook(rec.rulebook["hash"])
        if check.now_error is not None:
            changed.append(DriftItem(item=rec.item, title=rec.title, seq=rec.seq, recorded_tier=rec.computed_tier,
                                     final_tier=rec.final_tier, new_tier="(does not load)", recorded_under=old_book.hash,
                                     causes=[RuleChange(part="signal", id="*", change="changed", detail=check.now_error)]))
            continue
        entry = ledger.entry(rec.seq)
        now = classifier.decide(reader.validate(jiter.from_json(entry.item_json.encode()), file=f"ledger entry {rec.seq}"))
        if old_book.hash not in rule_changes:
            rule_changes[old_book.hash] = diff_rulebooks(old_book, current)
        try:
            why = causes(rule_changes[old_book.hash], Decision.model_validate_json(entry.decision_json), now)
        except ValidationError as err:
            why = [RuleChange(part="decision", id="*", change="unreadable",
                              detail=f"the recorded decision cannot be read ({err.error_count()} problems)")]
        changed.append(DriftItem(item=rec.item, title=rec.title, seq=rec.seq, recorded_tier=rec.computed_tier,
                                 final_tier=rec.final_tier, new_tier=now.tier, recorded_under=old_book.hash, causes=why))
    drift = Drift(rulebook=current.summary(), items_checked=len(latest), changed=changed, rule_changes=rule_changes)

    # 4. overrides against the approval policy of the rulebook they were made under
    overrides = []
    for rec in history:
        for o in rec.overrides:
            if since is not None and o.at < since:
                continue
            overrides.append(OverrideAudit(**o.model_dump(), below_policy=len(o.approved_by) < o.required_approvals))

    # 5. final tiers per quarter against the current rulebook's capacity
    per_quarter: dict[str, dict[str, int]] = {}
    for rec in latest:
        counts = per_quarter.setdefault(rec.quarter or "unscheduled", {})
        counts[rec.final_tier] = counts.get(rec.final_tier, 0) + 1
    distribution = []
    for quarter in sorted(per_quarter, key=lambda q: (q == "unscheduled", q)):
        counts = per_quarter[quarter]
        over = [] if quarter == "unscheduled" else [
            f"{t}: {counts[t]} of at most {c.max}" for t, c in current.capacity.items() if counts.get(t, 0) > c.max
        ]
        ordered = {t: counts[t] for t in current.tier_by_id if t in counts}
        ordered.update({t: n for t, n in counts.items() if t not in ordered})
        distribution.append(QuarterTiers(quarter=quarter, tiers=ordered, over_capacity=over))

    return AuditReport(ledger=str(ledger.path), since=since, integrity=integrity, reproducibility=reproducibility,
                       drift=drift, overrides=overrides, distribution=distribution)


# ---- several processes ------------------------------------------------------------------------
# Each worker opens the ledger file itself (read only) and checks a range of entries; only the
# small EntryCheck tuples travel back. Ranges are handed out in order and come back in order.
RANGE = 2_000
_worker: dict[str, Any] = {}


def _init(path: str, rulebook_data: dict, engine: str, since: str | None) -> None:
    import gc

    from .rulebook import rulebook_from_data

    gc.disable()  # acyclic batches only (memory.py)
    ledger = Ledger(path, create=False, readonly=True)
    _worker["checker"] = EntryChecker(ledger, rulebook_from_data(rulebook_data, file="rulebook"), engine, since)
    _worker["ledger"] = ledger


def _check_range(seqs: tuple[int, int]) -> list[tuple]:
    """A range's checks, as plain tuples (half the cost of sending named tuples)."""
    checker = _worker["checker"]
    return [tuple(checker.check(e)) for e in _worker["ledger"].entries(seq_range=seqs)]


def _checks_in_parallel(ledger: Ledger, current: Rulebook, engine: str, since: str | None,
                        jobs: int) -> Iterator[EntryCheck]:
    """The checks of every entry, in order, a range of entries per task."""
    import multiprocessing

    first, last = ledger.seq_bounds()
    ranges = [(start, min(start + RANGE - 1, last)) for start in range(first, last + 1, RANGE)]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(
            jobs, initializer=_init, initargs=(str(ledger.path), current.model_dump(mode="json"), engine, since)) as pool:
        for checks in pool.imap(_check_range, ranges):
            yield from map(EntryCheck._make, checks)

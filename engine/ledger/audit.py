"""The audit of past tier decisions: integrity, reproducibility, drift, overrides, distribution.

It reads the ledger through the store interface (:class:`~.store.LedgerStore`) alone, whatever
holds it; its workers open the ledger again by the store's :meth:`~.store.LedgerStore.reopen_spec`."""

from __future__ import annotations

from typing import Iterator, NamedTuple

import jiter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..decide.classify import Classifier
from ..decide.tally import tier_counts
from ..decide.decision import Decision, OverrideNote
from ..errors import InputError, Problem
from ..items.model import ItemBase, ItemReader
from .chain import GENESIS, chain_problem, content_problem, short
from .policy import add_override, approval_problems, self_approval_allowed
from .records import Entry, OverrideRecord, UnreadableEntry, latest_of
from .store import LedgerStore
from ..runtime import gc_paused, pool_of
from ..rulebook.model import Rulebook
from ..decide.pipeline import Candidate, Plan, Standing, capacity_moves, why_changed
from ..rulebook.diff import RuleChange, diff_rulebooks


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
    differs_in: list[str] = Field(default_factory=list, description="the decision's fields whose recorded and replayed values differ")
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
    problems: list[str] = Field(default_factory=list)  # why it is below the policy


class QuarterTiers(_Data):
    quarter: str
    tiers: dict[str, int]
    over_capacity: list[str] = Field(default_factory=list)


class Window(_Data):
    """What --since limits: the sections that read only the entries recorded on or after it,
    and those that read the whole ledger."""

    since: str
    limited: list[str]
    whole: list[str]


class AuditReport(_Data):
    ledger: str
    since: str | None
    window: Window | None = None
    integrity: Integrity
    reproducibility: Reproducibility
    drift: Drift
    overrides: list[OverrideAudit]
    distribution: list[QuarterTiers]
    expected_head: str | None = None  # --expect-head: the chain head noted elsewhere
    expected_at: int | None = None  # the entry that has that hash, when one has it

    @property
    def ok(self) -> bool:
        """The ledger is what launchtier wrote: its chain and stored content verify, and each
        decision replays to what was recorded (a re-chained forgery verifies, but does not replay)."""
        return self.integrity.ok and self.reproducibility.ok


def audit(ledger: LedgerStore, current: Rulebook, *, since: str | None = None, engine: str = "durable",
          jobs: int = 1, expect_head: str | None = None) -> AuditReport:
    """The audit report. ``jobs`` > 1 spreads the per-entry work (hashing each entry, replaying
    each decision, its tier under ``current``) over that many processes, a range of entries
    each, read from the ledger by each process itself. ``expect_head``: a chain head noted
    earlier; integrity fails unless an entry of the chain has it (the last, or one that later
    entries follow), since a chain cut short at its end, or wiped, still verifies."""
    with gc_paused():
        return _audit(ledger, current, since=since, engine=engine, jobs=jobs, expect_head=expect_head)


def audit_chains(location: str | None, current: Rulebook, *, since: str | None = None, engine: str = "durable",
                 jobs: int = 1) -> list[AuditReport]:
    """The audit of every chain of the ledger at ``location`` (the company-wide view), each on
    its own, in the order of their names."""
    from . import every_chain, open_ledger

    reports = []
    for _, chain in every_chain(location):
        with open_ledger(chain, readonly=True, audit=True) as ledger:
            reports.append(audit(ledger, current, since=since, engine=engine, jobs=jobs))
    return reports


class DecisionCheck(NamedTuple):
    """What the audit keeps of one recorded decision (its rulebook stored) for the sections
    that need the whole history: drift and the distribution of final tiers."""

    seq: int
    item: str
    title: str
    quarter: str | None
    computed_tier: str
    final_tier: str  # as recorded, before the overrides that followed
    rulebook_hash: str
    now: str | None  # the tier the current rulebook gives the item
    now_error: str | None  # or why the item no longer loads under it


class RangeCheck(NamedTuple):
    """What the audit learns from a range of consecutive entries on its own: the same whether
    one process checks every range or several share them. The chain's link into the range
    (its first entry's) is checked where the ranges are put together, against the range before."""

    count: int  # entries in the range
    first: tuple[int, str, str, str | None] | None  # its first entry: seq, item key, prev_hash, content problem
    last: tuple[int, str] | None  # its last entry: seq, entry_hash
    breaks: list[tuple[int, str, str]]  # (seq, item key, problem) after its first entry, in order
    unstored: list[tuple[int, str, str]]  # (seq, item key, problem): entries whose rulebook is not stored or was changed
    replayed: int  # decisions replayed under their own rulebook
    mismatches: list[Mismatch]
    decisions: list[tuple]  # a DecisionCheck per decision whose rulebook is stored, as a plain tuple
    overrides: list[Entry]  # each such override entry (its recorded JSON left out)
    rulebooks: set[str]  # the rulebook hashes its readable entries were recorded under


class EntryChecker:
    """The per-entry work of the audit: each entry's hash, each decision replayed under its own
    rulebook, and its tier under the current one."""

    def __init__(self, ledger: LedgerStore, current: Rulebook, engine: str, since: str | None):
        self.ledger, self.current, self.engine, self.since = ledger, current, engine, since
        self.changed = ledger.changed_rulebooks()  # never used to replay
        self.stored = set(ledger.rulebook_hashes())
        self._tools: dict[str, tuple[Classifier, ItemReader]] = {}

    def tools(self, book: Rulebook) -> tuple[Classifier, ItemReader]:
        if book.hash not in self._tools:
            self._tools[book.hash] = (Classifier(book, self.engine), ItemReader(book))
        return self._tools[book.hash]

    def check_range(self, seq_range: tuple[int, int]) -> RangeCheck:
        count, first, prev = 0, None, None
        breaks, unstored, mismatches, decisions, overrides = [], [], [], [], []
        replayed, rulebooks = 0, set()
        for e in self.ledger.entries(seq_range=seq_range, unreadable=True):
            count += 1
            content = content_problem(e)
            if first is None:
                first = (e.seq, e.item_key, e.prev_hash, content)
            else:
                problem = chain_problem(e.seq, e.prev_hash, content, prev[0] + 1, prev[1])
                if problem:
                    breaks.append((e.seq, e.item_key, problem))
            prev = (e.seq, e.entry_hash)
            if isinstance(e, UnreadableEntry):
                continue
            rulebooks.add(e.rulebook_hash)
            if e.rulebook_hash not in self.stored:
                unstored.append((e.seq, e.item_key, f"its rulebook {short(e.rulebook_hash)} is not stored in the ledger"))
            elif e.rulebook_hash in self.changed:
                cannot = "its approvals cannot be checked" if e.kind == "override" else "it cannot be replayed"
                unstored.append((e.seq, e.item_key, f"its rulebook {short(e.rulebook_hash)} was changed: {cannot}"))
            elif e.kind == "override":
                overrides.append(e.model_copy(update={"item_json": "", "decision_json": ""}))
            elif e.kind == "decision":
                replay = self.since is None or e.recorded_at >= self.since
                check, mismatch = self.check_decision(e, replay)
                decisions.append(check)
                if mismatch is not None:
                    mismatches.append(mismatch)
                replayed += replay
        return RangeCheck(count, first, prev, breaks, unstored, replayed, mismatches, decisions, overrides, rulebooks)

    def check_decision(self, e: Entry, replay: bool) -> tuple[tuple, Mismatch | None]:
        """The decision's DecisionCheck (as a tuple) and, with ``replay``, how its replay under
        its own rulebook differs, if it does."""
        unreadable = None  # why the recorded item cannot be read at all
        try:
            raw = jiter.from_json(e.item_json.encode())
        except ValueError as err:
            raw, unreadable = None, InputError([Problem(f"the recorded item is not JSON: {err}", file=f"ledger entry {e.seq}")])
        title = raw.get("title") if isinstance(raw, dict) and isinstance(raw.get("title"), str) else e.item_key
        mismatch, item = None, None
        if replay:
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
        return (e.seq, e.item_key, title, e.quarter, e.computed_tier, e.final_tier, e.rulebook_hash, now, now_error), mismatch

    @staticmethod
    def _replay(e: Entry, classifier: Classifier, item: ItemBase) -> Mismatch | None:
        # the same rulebook gives the same decision, byte for byte, and the entry's own tier
        # column says that decision's tier: nothing more to compare
        signals = item.signal_values()
        if (classifier.decide_json(item.key, item.title, signals) == e.decision_json.encode()
                and classifier.rulebook.tiers[classifier.tier_index(signals)].id == e.computed_tier):
            return None
        # a decision the pipeline moved (capacity) or overrode: the rules' decision replayed,
        # with the recorded stages applied to it again, must give the recorded decision
        replay = classifier.decide(item)
        fired = [f.rule for f in replay.fired]
        try:
            recorded = Decision.model_validate_json(e.decision_json)
        except ValueError as err:  # (pydantic's ValidationError is a ValueError)
            return Mismatch(seq=e.seq, item=e.item_key, recorded_tier=e.computed_tier, replayed_tier=replay.tier,
                            recorded_fired=[], replayed_fired=fired,
                            problem=f"the recorded decision cannot be read ({err.__class__.__name__})")
        rebuilt = replay
        before_override = recorded.override.from_tier if recorded.override is not None else recorded.tier
        book = classifier.rulebook
        if recorded.capacity is not None and before_override in book.tier_by_id:
            rebuilt = classifier.moved(item, rebuilt, before_override, recorded.capacity.reason)
        if recorded.override is not None and recorded.override.tier in book.tier_by_id:
            rebuilt = classifier.overridden(signals, rebuilt, recorded.override)
        computed = rebuilt.override.from_tier if rebuilt.override is not None else rebuilt.tier
        if rebuilt.model_dump_json() == e.decision_json and computed == e.computed_tier:
            return None
        replayed, kept = rebuilt.model_dump(mode="json"), recorded.model_dump(mode="json")
        return Mismatch(seq=e.seq, item=e.item_key, recorded_tier=e.computed_tier, replayed_tier=computed,
                        recorded_fired=[f.rule for f in recorded.fired], replayed_fired=fired,
                        differs_in=[name for name in replayed if replayed[name] != kept.get(name)])


def _recorded(e: Entry) -> tuple[str, str, list[str]] | str:
    """The recorded decision's tier, the tier its rules gave (before a capacity move) and its
    fired rules; or why it cannot be read (the ledger was changed outside launchtier)."""
    try:
        recorded = jiter.from_json(e.decision_json.encode())
        ruled = recorded["capacity"]["computed_tier"] if recorded.get("capacity") else recorded["tier"]
        return recorded["tier"], ruled, [f["rule"] for f in recorded["fired"]]
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        return f"the recorded decision cannot be read ({err.__class__.__name__}: {err})"


def _recorded_fired(e: Entry) -> list[str]:
    recorded = _recorded(e)
    return [] if isinstance(recorded, str) else recorded[2]


def _audit(ledger: LedgerStore, current: Rulebook, *, since: str | None, engine: str, jobs: int,
           expect_head: str | None) -> AuditReport:
    checker = EntryChecker(ledger, current, engine, since)
    # The per-entry work is done a range of entries at a time, here or in the workers; what
    # comes back is small (a large ledger's recorded JSON is most of it, and stays behind).
    ranges = _ranges(ledger)
    results = _checks_in_parallel(ledger, current, engine, since, jobs, ranges) if jobs > 1 else map(
        checker.check_range, ranges)
    count, chain = 0, (1, GENESIS)  # entries so far; the seq and link the next entry should have
    breaks: list[ChainBreak] = []
    unstored: list[ChainBreak] = []
    replayed = 0
    mismatches: list[Mismatch] = []
    decisions: list[DecisionCheck] = []
    overrides: dict[int, list[OverrideRecord]] = {}  # per decision seq
    used: set[str] = set()  # the rulebooks entries were recorded under
    override_rulebooks: dict[int, str] = {}  # per override seq: the rulebook it was made under
    for r in results:
        if r.first is None:
            continue
        seq, item, prev_hash, content = r.first
        problem = chain_problem(seq, prev_hash, content, *chain)
        if problem:
            breaks.append(ChainBreak(seq=seq, item=item, problem=problem))
        breaks += [ChainBreak(seq=s, item=i, problem=why) for s, i, why in r.breaks]
        unstored += [ChainBreak(seq=s, item=i, problem=why) for s, i, why in r.unstored]
        count += r.count
        chain = (r.last[0] + 1, r.last[1])
        replayed += r.replayed
        used |= r.rulebooks
        mismatches += r.mismatches
        decisions += map(DecisionCheck._make, r.decisions)
        for e in r.overrides:
            add_override(overrides, e, ledger.rulebook(e.rulebook_hash))
            override_rulebooks[e.seq] = e.rulebook_hash

    # 1. integrity: the chain links and every entry's content against its hash; each entry's
    # rulebook stored as it was; the stored rulebooks against their hashes, each with entries
    # recorded under it; the meta table as launchtier writes it
    breaks += unstored
    breaks += [ChainBreak(seq=0, item="-", problem=f"stored rulebook {short(h)} was changed: {why}")
               for h, why in checker.changed.items()]
    breaks += [ChainBreak(seq=0, item="-", problem=f"stored rulebook {short(h)} is not used by any entry: it was added, "
                          "or the entries recorded under it were deleted")
               for h in ledger.rulebook_hashes() if h not in used]  # launchtier stores one only with its decisions
    breaks += [ChainBreak(seq=0, item="-", problem=why) for why in ledger.meta_problems()]
    expected_at = None
    if expect_head is not None:
        expected_at = ledger.seq_of(expect_head)
        if expected_at is None:
            lost = ("the ledger was wiped or replaced" if not count else
                    "no entry has that hash: entries were deleted from the end, or the ledger was replaced")
            breaks.append(ChainBreak(seq=0, item="-", problem=f"{count} entries where chain head {expect_head} was "
                                                            f"expected: {lost}"))
    integrity = Integrity(ok=not breaks, entries=count, head=chain[1] if count else "", breaks=breaks)

    # 2. each recorded decision replayed under its own rulebook
    reproducibility = Reproducibility(ok=not mismatches, checked=replayed, mismatches=mismatches)

    # --since: drift (3) and the distribution (5) read the decisions recorded on or after it,
    # the latest of each item among those; the overrides (4) go by their own date, whatever
    # their decision's; integrity (1) always covers the whole chain
    recorded = {d.seq for d in decisions}
    if since is not None:
        recent = ledger.decisions_since(since)
        decisions = [d for d in decisions if d.seq in recent]

    # 3. drift: the latest decision of each item, final tier against final tier: as recorded
    # (rules and capacity then, and the overrides since) and through the pipeline now (the
    # current rules, the capacity of each quarter over the ledger's latest decisions, the
    # overrides that still stand)
    latest = latest_of(decisions)
    final = {seq: ovs[-1].tier for seq, ovs in overrides.items()}  # a decision's tier after its overrides
    classifier, reader = checker.tools(current)
    now, now_tier = _pipeline_now(ledger, current, classifier, reader, latest, final)
    changed = []
    rule_changes: dict[str, list[RuleChange]] = {}
    readers: dict[str, ItemReader] = {}  # per rulebook hash, to read a recorded item as its rulebook did
    for d in latest:
        then = final.get(d.seq, d.final_tier)
        if d.now_error is None and now_tier[d.seq] == then:
            continue
        old_book = ledger.rulebook(d.rulebook_hash)
        moved = dict(item=d.item, title=d.title, seq=d.seq, recorded_tier=d.computed_tier,
                     final_tier=then, recorded_under=old_book.hash)
        if d.now_error is not None:
            changed.append(DriftItem(**moved, new_tier="(does not load)", causes=[
                RuleChange(part="signal", id="*", change="changed", detail=d.now_error)]))
            continue
        entry = ledger.entry(d.seq)
        item = reader.validate(jiter.from_json(entry.item_json.encode()), file=f"ledger entry {d.seq}")
        after = now.finish(classifier, item, classifier.decide(item))
        if old_book.hash not in rule_changes:
            rule_changes[old_book.hash] = diff_rulebooks(old_book, current)
        try:
            before = Decision.model_validate_json(entry.decision_json)
        except ValidationError as err:
            why = [RuleChange(part="decision", id="*", change="unreadable",
                              detail=f"the recorded decision cannot be read ({err.error_count()} problems)")]
        else:
            if d.seq in overrides:  # the overrides that followed it are part of what was decided then
                before = before.model_copy(update={"tier": then, "override": now.overrides[d.item].note})
            why = why_changed(rule_changes[old_book.hash], before, after, (old_book, current),
                              (_signals_under(readers, old_book, entry.item_json, item), item.signal_values()))
        changed.append(DriftItem(**moved, new_tier=after.tier, causes=why))
    drift = Drift(rulebook=current.summary(), items_checked=len(latest), changed=changed, rule_changes=rule_changes)

    # 4. overrides against the approval policy of the rulebook they were made under (those of
    # recorded decisions, in the order of their decisions): enough approvers, each a named
    # person counted once, the person overriding only where the policy allows it
    audited = []
    for seq in sorted(overrides.keys() & recorded):
        for o in overrides[seq]:
            if since is None or o.at >= since:
                allowed = self_approval_allowed(ledger.rulebook(override_rulebooks[o.seq]), o.from_tier, o.tier)
                problems = approval_problems(o.by, o.approved_by, o.required_approvals, allowed)
                audited.append(OverrideAudit(**o.model_dump(), below_policy=bool(problems), problems=problems))

    # 5. final tiers per quarter against the current rulebook's capacity
    per_quarter: dict[str, list[str]] = {}  # the final tier of each item, per quarter
    overridden: dict[tuple[str, str], list[str]] = {}  # (quarter, tier): the items overrides put there
    for d in latest:
        tier = final.get(d.seq, d.final_tier)
        per_quarter.setdefault(d.quarter or "unscheduled", []).append(tier)
        if tier != d.computed_tier:
            overridden.setdefault((d.quarter or "unscheduled", tier), []).append(d.item)
    distribution = []
    for quarter in sorted(per_quarter, key=lambda q: (q == "unscheduled", q)):
        counts = tier_counts(current, per_quarter[quarter])
        over = [] if quarter == "unscheduled" else [
            f"{t}: {counts[t]} of at most {c.max}"
            + (f" (by override: {', '.join(overridden[quarter, t])})" if (quarter, t) in overridden else "")
            for t, c in current.capacity.items() if counts.get(t, 0) > c.max
        ]
        distribution.append(QuarterTiers(quarter=quarter, tiers=counts, over_capacity=over))

    window = None if since is None else Window(
        since=since, limited=["reproducibility", "drift", "overrides", "distribution"], whole=["integrity"])
    return AuditReport(ledger=ledger.location, since=since, window=window, integrity=integrity,
                       reproducibility=reproducibility, drift=drift, overrides=audited, distribution=distribution,
                       expected_head=expect_head, expected_at=expected_at)


def _signals_under(readers: dict[str, ItemReader], book: Rulebook, item_json: str, now: ItemBase) -> dict:
    """A recorded item's signals as the rulebook it was decided under reads them (``readers``
    keeps a reader per rulebook hash); as the current one reads them if that one cannot."""
    if book.hash not in readers:
        readers[book.hash] = ItemReader(book)
    try:
        return readers[book.hash].validate(jiter.from_json(item_json.encode()), file="ledger entry").signal_values()
    except InputError:
        return now.signal_values()


def _pipeline_now(ledger: LedgerStore, current: Rulebook, classifier: Classifier, reader: ItemReader,
                  latest: list[DecisionCheck], final: dict[int, str]) -> tuple[Plan, dict[int, str]]:
    """The pipeline now over the ledger's latest decisions, and each one's final tier now (by
    its seq): its rules' tier (computed per entry: ``now``), the capacity of each quarter over
    all of them, and the overrides that still stand. Only the capacity candidates are read
    again from the ledger."""
    candidates = []
    for d in latest:
        if d.now is not None and d.quarter and d.now in current.capacity:
            item = reader.validate(jiter.from_json(ledger.entry(d.seq).item_json.encode()), file=f"ledger entry {d.seq}")
            signals = item.signal_values()
            candidates.append(Candidate(d.item, d.quarter, d.now, classifier.scores(classifier.fired(signals))))
    moves = capacity_moves(current, candidates)
    standing = {}
    for d in latest:
        tier = final.get(d.seq, d.final_tier)
        if tier != d.computed_tier:  # an override, by an entry that followed it or recorded with it
            standing[d.item] = Standing(d.computed_tier, _override_note(ledger, d, tier), d.quarter)
    tiers = {}
    for d in latest:
        if d.now is None:
            continue
        before = moves[d.item].tier if d.item in moves else d.now
        s = standing.get(d.item)
        tiers[d.seq] = s.note.tier if s and s.basis == before and s.note.tier in current.tier_by_id else before
    return Plan(moves, standing, [], []), tiers


def _override_note(ledger: LedgerStore, d: DecisionCheck, tier: str) -> OverrideNote:
    """The override of a decision: its last override entry, or the one recorded with it."""
    found = [e for e in ledger.entries(item=d.item) if e.kind == "override" and e.overrides_seq == d.seq]
    if found:
        o = found[-1]
        approvers = jiter.from_json((o.approved_by or "[]").encode())
        return OverrideNote(tier=o.final_tier, from_tier=d.computed_tier, reason=o.reason or "", by=o.recorded_by,
                            approved_by=[str(a) for a in approvers] if isinstance(approvers, list) else [],
                            seq=o.seq, at=o.recorded_at)
    recorded = Decision.model_validate_json(ledger.entry(d.seq).decision_json)
    if recorded.override is not None:
        return recorded.override
    return OverrideNote(tier=tier, from_tier=d.computed_tier, reason="", by="", approved_by=[], seq=d.seq, at="")


# ---- several processes ------------------------------------------------------------------------
# Each worker opens the ledger itself (read only, by the store's reopen_spec) and checks ranges
# of entries; only their RangeChecks travel back. Ranges are handed out in order and come back in order.
RANGE = 2_000
_worker: dict[str, EntryChecker] = {}


def _ranges(ledger: LedgerStore) -> list[tuple[int, int]]:
    first, last = ledger.seq_bounds()
    return [(start, min(start + RANGE - 1, last)) for start in range(first, last + 1, RANGE)]


def _init(spec: str, rulebook_data: dict, engine: str, since: str | None) -> None:
    from . import open_ledger
    from ..rulebook.model import rulebook_from_data

    ledger = open_ledger(spec, readonly=True, audit=True)
    _worker["checker"] = EntryChecker(ledger, rulebook_from_data(rulebook_data, file="rulebook"), engine, since)


def _check_range(seq_range: tuple[int, int]) -> RangeCheck:
    return _worker["checker"].check_range(seq_range)


def _checks_in_parallel(ledger: LedgerStore, current: Rulebook, engine: str, since: str | None, jobs: int,
                        ranges: list[tuple[int, int]]) -> Iterator[RangeCheck]:
    """The checks of each range, in order."""
    with pool_of(jobs, _init, (ledger.reopen_spec(), current.model_dump(mode="json"), engine, since)) as pool:
        yield from pool.imap(_check_range, ranges)

"""The audit of past tier decisions: integrity, reproducibility, drift, overrides, distribution."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from .classify import Classifier
from .errors import InputError
from .items import ItemReader
from .decision import Decision
from .ledger import Ledger, OverrideRecord, latest_of, verify_chain
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


def audit(ledger: Ledger, current: Rulebook, *, since: str | None = None, engine: str = "durable") -> AuditReport:
    with gc_paused():
        return _audit(ledger, current, since=since, engine=engine)


def _audit(ledger: Ledger, current: Rulebook, *, since: str | None, engine: str) -> AuditReport:
    entries = list(ledger.entries())
    breaks = [ChainBreak(seq=e.seq, item=e.item_key, problem=why) for e, why in verify_chain(entries)]
    stored = set(ledger.rulebook_hashes())
    missing = {e.seq for e in entries if e.rulebook_hash not in stored}
    breaks += [ChainBreak(seq=e.seq, item=e.item_key, problem=f"its rulebook {e.rulebook_hash[:19]}… is not stored in the ledger")
               for e in entries if e.seq in missing]
    for h in stored:
        try:
            actual = ledger.stored_rulebook_hash(h)
        except InputError as err:
            breaks.append(ChainBreak(seq=0, item="-", problem=f"stored rulebook {h[:19]}… no longer loads: {err}"))
            continue
        if actual != h:
            breaks.append(ChainBreak(seq=0, item="-", problem=f"stored rulebook {h[:19]}… was changed: its content now hashes to {actual[:19]}…"))
    integrity = Integrity(ok=not breaks, entries=len(entries), head=entries[-1].entry_hash if entries else "", breaks=breaks)

    classifiers: dict[str, tuple[Classifier, ItemReader]] = {}

    def tools(book: Rulebook) -> tuple[Classifier, ItemReader]:
        if book.hash not in classifiers:
            classifiers[book.hash] = (Classifier(book, engine), ItemReader(book))
        return classifiers[book.hash]

    # 2. each recorded decision replayed under its own rulebook
    mismatches = []
    checked = 0
    in_range = [e for e in entries if e.kind == "decision" and e.seq not in missing
                and (since is None or e.recorded_at >= since)]
    for e in in_range:
        checked += 1
        recorded = json.loads(e.decision_json)
        recorded_fired = [f["rule"] for f in recorded["fired"]]
        try:
            classifier, reader = tools(ledger.rulebook(e.rulebook_hash))
            replay = classifier.decide(reader.validate(json.loads(e.item_json), file=f"ledger entry {e.seq}"))
        except InputError as err:
            mismatches.append(Mismatch(seq=e.seq, item=e.item_key, recorded_tier=e.computed_tier, replayed_tier=None,
                                       recorded_fired=recorded_fired, replayed_fired=[], problem=str(err)))
            continue
        fired = [f.rule for f in replay.fired]
        # a decision moved by the roadmap's capacity replays to the tier its rules gave
        ruled = recorded["capacity"]["computed_tier"] if recorded.get("capacity") else recorded["tier"]
        if replay.tier != ruled or fired != recorded_fired or recorded["tier"] != e.computed_tier:
            mismatches.append(Mismatch(seq=e.seq, item=e.item_key, recorded_tier=e.computed_tier,
                                       replayed_tier=replay.tier, recorded_fired=recorded_fired, replayed_fired=fired))
    reproducibility = Reproducibility(ok=not mismatches, checked=checked, mismatches=mismatches)

    # 3. the latest decision of each item under the current rulebook
    history = ledger.history(entries=[e for e in entries if e.seq not in missing], decisions=False)
    latest = latest_of(history)
    item_json = {e.seq: e.item_json for e in entries}
    decision_json = {e.seq: e.decision_json for e in entries}

    def recorded_decision(seq: int) -> Decision:
        return Decision.model_validate_json(decision_json[seq])

    classifier, reader = tools(current)
    changed = []
    rule_changes: dict[str, list[RuleChange]] = {}
    for rec in latest:
        old_book = ledger.rulebook(rec.rulebook["hash"])
        raw = json.loads(item_json[rec.seq])
        try:
            now = classifier.decide(reader.validate(raw, file=f"ledger entry {rec.seq}"))
        except InputError as err:
            changed.append(DriftItem(item=rec.item, title=rec.title, seq=rec.seq, recorded_tier=rec.computed_tier,
                                     final_tier=rec.final_tier, new_tier="(does not load)", recorded_under=old_book.hash,
                                     causes=[RuleChange(part="signal", id="*", change="changed", detail=str(err))]))
            continue
        if now.tier == rec.computed_tier:
            continue
        if old_book.hash not in rule_changes:
            rule_changes[old_book.hash] = diff_rulebooks(old_book, current)
        changed.append(DriftItem(item=rec.item, title=rec.title, seq=rec.seq, recorded_tier=rec.computed_tier,
                                 final_tier=rec.final_tier, new_tier=now.tier, recorded_under=old_book.hash,
                                 causes=causes(rule_changes[old_book.hash], recorded_decision(rec.seq), now)))
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

"""What a ledger holds, as data: an entry as stored, the decisions and overrides read back from
the entries, and the rows a store appends. Whatever the store, these are its records."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from ..decide.decision import Decision
from ..files.validation import message_for


def now_utc() -> str:
    """The time an entry is recorded at, as entries hold it: UTC, to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverrideRecord(_Data):
    seq: int
    item: str
    from_tier: str
    tier: str
    reason: str
    by: str
    approved_by: list[str]
    at: str
    required_approvals: int


class DecisionRecord(_Data):
    """One recorded decision, with the overrides that followed it."""

    seq: int
    item: str
    title: str
    quarter: str | None
    computed_tier: str
    final_tier: str
    recorded_by: str
    recorded_at: str
    note: str | None
    rulebook: dict[str, str]
    overrides: list[OverrideRecord] = Field(default_factory=list)
    decision: Decision

    @property
    def set_by(self) -> str:
        """The stage that set the final tier: an override (recorded with the decision or
        after it), the roadmap's capacity, or the rules."""
        return "override" if self.overrides else self.decision.set_by


class Entry(_Data):
    """A raw ledger row, as stored (what the audit checks)."""

    seq: int
    kind: Literal["decision", "override"]
    item_key: str
    quarter: str | None
    computed_tier: str
    final_tier: str
    rulebook_hash: str
    item_json: str
    decision_json: str
    recorded_by: str
    recorded_at: str
    note: str | None
    reason: str | None
    approved_by: str | None
    overrides_seq: int | None
    prev_hash: str
    entry_hash: str

    @field_validator("approved_by")
    @classmethod
    def _approvers(cls, value: str | None) -> str | None:
        # as launchtier writes it: a JSON list of names (an override's), or nothing
        if value is not None:
            try:
                names = json.loads(value)
            except (ValueError, RecursionError):
                raise ValueError("not JSON; expected a JSON list of names") from None
            if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
                raise ValueError("not a JSON list of names")
        return value

    def row(self) -> dict[str, Any]:
        return dict(self.__dict__)  # the fields as stored: what entry_hash reads (model_dump is slower)


ENTRIES = TypeAdapter(list[Entry])  # a batch of rows validated at once: several times faster than one by one


class UnreadableEntry(NamedTuple):
    """A row of the entries table that does not read as an entry (for the audit, which names
    it): its seq, and its item key and hashes where those still read."""

    seq: int
    item_key: str
    prev_hash: str
    entry_hash: str
    problem: str  # what cannot be read, in the audit's words


def entry_problem(err: ValidationError, batch: bool = False) -> str:
    """The first thing that does not read in a row (of a ``batch`` of rows), as ``column: why``."""
    first = err.errors(include_url=False)[0]
    loc = first["loc"][1:] if batch else first["loc"]
    return f"{'.'.join(map(str, loc))}: {message_for({**first, 'loc': loc}, Entry)}"


_HASH = re.compile(r"sha256:[0-9a-f]{64}")


def entry_or_unreadable(fields: dict[str, Any]) -> Entry | UnreadableEntry:
    """A row (its fields by column) as an entry, or, when it does not read as one, what the
    audit can still say of it."""
    try:
        return Entry.model_validate(fields)
    except ValidationError as err:
        def text(column: str) -> str:
            return fields[column] if isinstance(fields[column], str) else "?"

        def hash_(column: str) -> str:
            # shown as the chain head: never bytes cut off mid-way or control characters
            value = fields[column]
            return value if isinstance(value, str) and _HASH.fullmatch(value) else "(unreadable)"
        return UnreadableEntry(fields["seq"], text("item_key"), hash_("prev_hash"), hash_("entry_hash"),
                               f"it cannot be read ({entry_problem(err)}): the entry was changed")


class EncodedDecision(NamedTuple):
    """A decision ready to be recorded: the columns of its entry that come from the item and the
    decision, already encoded (what a store's ``record`` takes, one per entry). ``item_json``
    and ``decision_json`` are byte for byte ``item.model_dump_json()`` and
    ``decision.model_dump_json()`` (the hash covers these texts as stored, so pydantic's own
    stable field order serves as well as sorted keys); the batch paths give the decision's
    JSON straight from the encoder (:mod:`engine.decide.encode`), without building it."""

    item_key: str
    quarter: str | None
    computed_tier: str  # what launchtier computed (rules, then capacity)
    final_tier: str  # the tier the team commits to
    item_json: str
    decision_json: str
    # decision_json as JSON writes it inside a string (json.encoder.encode_basestring without its
    # quotes), when the encoder has it at hand (engine.decide.encode.Encoder.decide_text): the
    # entry's hash covers it, and a decision's 2-4 KB need not be escaped again. None: the
    # store escapes it.
    decision_escaped: str | None = None


def encoded(item: Any, decision: Decision) -> EncodedDecision:
    """The entry's columns of one (item, decision)."""
    return EncodedDecision(
        item.key, item.quarter,
        decision.override.from_tier if decision.override is not None else decision.tier, decision.tier,
        item.model_dump_json(), decision.model_dump_json())


def encode_pairs(pairs: Iterable[tuple[Any, Decision]]) -> Iterator[EncodedDecision]:
    """:func:`encoded` of each (item, decision), as they are consumed."""
    return (encoded(item, decision) for item, decision in pairs)


def override_row(latest: Entry, tier: str, *, reason: str, by: str, approved_by: str, at: str) -> dict[str, Any]:
    """The entry (all but seq and the chain's hashes) that overrides the decision ``latest``
    into ``tier``; ``approved_by``: the approvers as canonical JSON."""
    return {
        "kind": "override",
        "item_key": latest.item_key,
        "quarter": latest.quarter,
        "computed_tier": latest.computed_tier,
        "final_tier": tier,
        "rulebook_hash": latest.rulebook_hash,
        "item_json": latest.item_json,
        "decision_json": latest.decision_json,
        "recorded_by": by,
        "recorded_at": at,
        "note": None,
        "reason": reason,
        "approved_by": approved_by,
        "overrides_seq": latest.seq,
    }


R = TypeVar("R")


def latest_of(history: Iterable[R]) -> list[R]:
    """The last decision of each item (its ``item``) in a history, in the order those were recorded."""
    latest: dict[str, R] = {}
    for rec in history:
        latest.pop(rec.item, None)
        latest[rec.item] = rec
    return list(latest.values())

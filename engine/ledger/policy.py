"""The approval policy of overrides, whatever the store: who must approve moving an item out of
one tier into another under a rulebook, what an override request must name, and what a recorded
override falls short of."""

from __future__ import annotations

import json

from ..errors import LedgerError
from ..rulebook.conditions import suggest
from ..rulebook.model import Rulebook
from .records import Entry, OverrideRecord


def required_approvals(book: Rulebook, from_tier: str, to_tier: str) -> int:
    """Approvals needed to override out of ``from_tier`` into ``to_tier`` under the rulebook's policy."""
    policy = book.overrides
    return max(
        policy[from_tier].approvals if from_tier in policy else 0,
        policy[to_tier].approvals if to_tier in policy else 0,
    )


def self_approval_allowed(book: Rulebook, from_tier: str, to_tier: str) -> bool:
    """Whether the person overriding out of ``from_tier`` into ``to_tier`` may approve it too:
    only when a policy covers the move and every policy that does says so."""
    policies = [book.overrides[t] for t in (from_tier, to_tier) if t in book.overrides]
    return bool(policies) and all(p.self_approval for p in policies)


def fold_name(name: str) -> str:
    """A person's name as compared: case and spacing ignored ("Mia  S." is "mia s.")."""
    return " ".join(name.split()).casefold()


def person(name: str, option: str) -> str:
    """``name`` trimmed; an empty or blank one is refused (``option`` says where it was given)."""
    trimmed = name.strip()
    if not trimmed:
        raise LedgerError(f"{option}: {name!r} is not allowed; expected a person's name (not empty or blank)")
    return trimmed


def override_request(reason: str, by: str, approved_by: list[str]) -> tuple[str, str, list[str]]:
    """An override's reason, overrider and approvers as recorded (trimmed), before the ledger is
    read: a reason is given, and the approvers are people, named, each once (case and spacing
    aside)."""
    if not reason or not reason.strip():
        raise LedgerError("an override needs a reason (--reason)")
    by = person(by, "--by")
    approvers = [person(a, "--approved-by") for a in approved_by]
    named: dict[str, str] = {}  # folded name: as written
    for a in approvers:
        first = named.get(fold_name(a))
        if first == a:
            raise LedgerError(f"--approved-by: {a!r} is given twice; name each approver once")
        if first is not None:
            raise LedgerError(f"--approved-by: {first!r} and {a!r} are the same person (names are compared "
                              "ignoring case and spacing); name each approver once")
        named[fold_name(a)] = a
    return reason.strip(), by, approvers


def override_approvals(book: Rulebook, key: str, current: str, tier: str, by: str, approvers: list[str]) -> int:
    """The approvals that overriding ``key`` from ``current`` (its final tier now) into ``tier``
    needs under ``book``; refused when ``tier`` is not one of its tiers or is ``current``, when
    the person overriding approves it where the policy does not allow that, or when too few
    approve it."""
    if tier not in book.tier_by_id:
        tiers = list(book.tier_by_id)
        raise LedgerError(f"unknown tier '{tier}'{suggest(tier, tiers)} (tiers of rulebook {book.name} {book.version}: {', '.join(tiers)})")
    if tier == current:
        raise LedgerError(f"{key} is already {tier}; nothing to override")
    needed = required_approvals(book, current, tier)
    own = next((a for a in approvers if fold_name(a) == fold_name(by)), None)
    if own is not None and not self_approval_allowed(book, current, tier):
        raise LedgerError(
            f"--approved-by: {own!r} is the person overriding (--by {by!r}); overriding {key} from {current} "
            f"to {tier} needs approvals from other people under rulebook {book.name} {book.version} "
            "(its overrides policy allows self-approval only with self_approval: true)"
        )
    if len(approvers) < needed:
        raise LedgerError(
            f"overriding {key} from {current} to {tier} needs {needed} approvals under rulebook "
            f"{book.name} {book.version} (overrides policy); got {len(approvers)}: add --approved-by NAME"
        )
    return needed


def approval_problems(by: str, approved_by: list[str], required: int, self_approval: bool) -> list[str]:
    """Why a recorded override falls short of its approval policy (nothing when it meets it):
    the rules that a store's override enforces, applied to what the ledger holds."""
    problems = []
    overrider = fold_name(by)
    if not overrider:
        problems.append("the person overriding is not named (blank)")
    named: dict[str, str] = {}  # folded name: as written
    for name in approved_by:
        folded = fold_name(name)
        if not folded:
            problems.append(f"an approver's name is blank ({name!r})")
        elif folded in named:
            problems.append(f"{named[folded]!r} and {name!r} are the same approver")
        else:
            named[folded] = name
            if folded == overrider and not self_approval:
                problems.append(f"{name!r} approved their own override (the policy does not allow self-approval)")
    distinct = len(named) - (overrider in named and not self_approval)
    if distinct < required:
        others = "" if self_approval else " other than the person overriding"
        problems.append(f"{distinct} of {required} approvals from distinct people{others}")
    return problems


def add_override(overrides: dict[int, list[OverrideRecord]], e: Entry, book: Rulebook) -> None:
    """Add the override entry ``e`` (made under ``book``) to the overrides of its decision, with
    the approvals its move needed under ``book``."""
    earlier = overrides.setdefault(e.overrides_seq or 0, [])
    from_tier = earlier[-1].tier if earlier else e.computed_tier
    earlier.append(OverrideRecord(
        seq=e.seq, item=e.item_key, from_tier=from_tier, tier=e.final_tier, reason=e.reason or "",
        by=e.recorded_by, approved_by=json.loads(e.approved_by or "[]"), at=e.recorded_at,
        required_approvals=required_approvals(book, from_tier, e.final_tier)))

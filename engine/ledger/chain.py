"""Tamper evidence, whatever the store: the hash chain of the entries and the hashes of stored
rulebooks, and what is wrong where they do not verify.

Each entry's hash covers its own content and the hash of the entry before it, so a changed,
inserted, deleted or reordered entry breaks the chain at that entry. A stored rulebook is keyed
by the hash of its content.
"""

from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring as _string
from typing import Any, Iterable, Sequence

from ..errors import LedgerDamaged
from ..rulebook.model import rulebook_hash
from .records import Entry, UnreadableEntry

GENESIS = "sha256:" + "0" * 64

# The fields of an entry that its hash covers, in this order.
HASHED = (
    "seq", "kind", "item_key", "quarter", "computed_tier", "final_tier", "rulebook_hash",
    "item_json", "decision_json", "recorded_by", "recorded_at", "note", "reason", "approved_by",
    "overrides_seq",
)
_DECISION = HASHED.index("decision_json")
# An entry's fields as a store keeps them, in this order.
COLUMNS = HASHED + ("prev_hash", "entry_hash")


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, row: dict[str, Any]) -> str:
    return entry_hash_of(prev_hash, [row[c] for c in HASHED])


def entry_hash_of(prev_hash: str, hashed: Sequence[Any], decision_escaped: str | None = None) -> str:
    """:func:`entry_hash` of an entry given as its :data:`HASHED` values, in that order.

    The columns are text, integers and nulls: their canonical JSON list is put together here
    from json's own string encoder (what ``json.dumps(..., ensure_ascii=False)`` calls for each
    string), the same text without its machinery, which is a measurable part of recording a
    large batch; any other value takes :func:`canonical`. ``decision_escaped``: the
    decision_json column already escaped as ``_string`` escapes it, without the quotes (the
    encoder has it at hand: see records.EncodedDecision)."""
    parts = [_string(prev_hash)]
    for index, value in enumerate(hashed):
        kind = type(value)
        if kind is str:
            parts.append(_string(value) if index != _DECISION or decision_escaped is None else f'"{decision_escaped}"')
        elif value is None:
            parts.append("null")
        elif kind is int:
            parts.append(int.__repr__(value))
        else:
            parts = None
            break
    content = "[" + ",".join(parts) + "]" if parts is not None else canonical([prev_hash, *hashed])
    return "sha256:" + hashlib.sha256(content.encode("utf-8")).hexdigest()


def chained(rows: Iterable[dict[str, Any]], seq: int, prev: str) -> Iterable[dict[str, Any]]:
    """The entries ``rows`` (without seq and hashes) as they extend a chain whose last entry is
    ``seq`` with the hash ``prev``: numbered and linked."""
    for row in rows:
        seq += 1
        row = {**row, "seq": seq, "prev_hash": prev}
        row["entry_hash"] = prev = entry_hash(prev, row)
        yield row


def short(hash_: str) -> str:
    """A hash as messages show it."""
    return f"{hash_[:19]}…"


def damaged(location: str, problem: str) -> LedgerDamaged:
    """The refusal of a ledger changed outside launchtier, on one line (the audit says the rest)."""
    return LedgerDamaged(f"{location} was changed outside launchtier ({problem}); "
                         "run launchtier audit to see every change")


def stored_rulebook_problem(hash_: str, name: Any, version: Any, content: Any) -> tuple[Any, str | None]:
    """A stored rulebook row read back: its data (JSON types, not yet a Rulebook) and what is
    wrong with it, None if it is what launchtier stored. Checked before the content is parsed as
    a rulebook: its content must hash to the row's key, and its name and version columns must
    be the content's."""
    if not isinstance(content, str):
        return None, "its content is not text"
    try:
        data = json.loads(content)
        actual = rulebook_hash(data)
    except (ValueError, RecursionError):
        return None, "its content is not JSON"
    if not isinstance(data, dict):
        return None, "its content is not a rulebook (a JSON object)"
    if actual != hash_:
        return data, f"its content now hashes to {short(actual)}"
    for column, value, key in (("name", name, "rulebook"), ("version", version, "version")):
        if value != data.get(key):
            return data, f"its {column} column says {value!r} and its content {data.get(key)!r}"
    return data, None


CHANGED = "its content does not match its hash: the entry was changed"


def content_problem(e: Entry | UnreadableEntry) -> str | None:
    """What is wrong with an entry's own content: it does not read, or not hash to its hash."""
    if isinstance(e, UnreadableEntry):
        return e.problem
    return None if entry_hash(e.prev_hash, e.row()) == e.entry_hash else CHANGED


def chain_problem(seq: int, prev_hash: str, content: str | None, expected_seq: int, expected_prev: str) -> str | None:
    """What is wrong with an entry where the chain expects ``expected_seq``, linked to
    ``expected_prev`` (``content``: what is wrong with its content); None when nothing is."""
    if seq != expected_seq:
        return f"sequence jumps from {expected_seq - 1} to {seq}: an entry was deleted or inserted"
    if prev_hash != expected_prev and content in (None, CHANGED):  # an entry that does not read: that first
        return "its link to the previous entry does not match: an entry before it was changed, deleted, inserted or reordered"
    return content


def verify_chain(entries: Iterable[Entry | UnreadableEntry]) -> list[tuple[Entry | UnreadableEntry, str]]:
    """Every entry whose link or content does not verify, with what is wrong."""
    broken = []
    prev, expected_seq = GENESIS, 1
    for e in entries:
        problem = chain_problem(e.seq, e.prev_hash, content_problem(e), expected_seq, prev)
        if problem:
            broken.append((e, problem))
        prev, expected_seq = e.entry_hash, e.seq + 1
    return broken

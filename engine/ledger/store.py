"""The ledger store: the operations that the commands, the pipeline, the review and the audit
use on a ledger, whatever holds it. They know a ledger by this interface alone; a store
(:mod:`.sqlite`, :mod:`.postgres`) is the only module that knows where and how its entries are
kept.

What every store keeps: entries in one hash chain (:mod:`.chain`), appended and never changed;
the rulebooks they were recorded under, keyed by the hash of their content; and its own
bookkeeping (a schema version). What every store promises:

- Opened read only, it never creates, migrates or otherwise changes the ledger.
- A ledger that is not what launchtier wrote is refused with :class:`~engine.errors.LedgerDamaged`
  (a command's exit code 1), unless it was opened for the audit, which reports every change; a
  request the ledger refuses, or a store that cannot be reached or written, is a
  :class:`~engine.errors.LedgerError`, whose message says what to do in the user's words.
- A write is all or nothing, and writers never fork the chain: each write, and each
  :meth:`LedgerStore.writing` block, is one transaction that holds off every other writer.
- Reads are streamed a batch at a time, so a ledger of any size is read in little memory.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Iterable, Iterator, Protocol, Sequence, runtime_checkable

from ..decide.decision import Decision
from ..rulebook.model import Rulebook
from .records import DecisionRecord, EncodedDecision, Entry, OverrideRecord, UnreadableEntry


@runtime_checkable
class LedgerStore(Protocol):
    """A ledger, opened: what launchtier does with one. Close it (or use it as a context manager)."""

    @property
    def location(self) -> str:
        """Where the ledger is, as messages and reports show it (never a password)."""

    def reopen_spec(self) -> str:
        """What :func:`engine.ledger.open_ledger` takes to open this ledger again, in another
        process (the audit's workers). Unlike :attr:`location` it may carry what is not shown,
        such as a password: never show it."""

    def close(self) -> None:
        """Let go of the ledger."""

    def __enter__(self) -> "LedgerStore": ...

    def __exit__(self, *exc: Any) -> None: ...

    # ---- transactions ---------------------------------------------------------------------
    def writing(self) -> AbstractContextManager[None]:
        """One write transaction for a block that reads the ledger, decides, and records: no
        other writer comes in between (the roadmap's capacity counts what is recorded). A write
        inside it is part of it; if the block fails, nothing of it is recorded."""

    def reading(self) -> AbstractContextManager[None]:
        """One snapshot for a block that reads the ledger several times (inside a write
        transaction, that one): another writer's batch is wholly before it or after it."""

    # ---- writing --------------------------------------------------------------------------
    def record(self, book: Rulebook, rows: Iterable[EncodedDecision], *, by: str, note: str | None = None,
               at: str | None = None) -> Sequence[int]:
        """Append one decision per row, made under ``book`` (stored with them), all or nothing.
        Returns their sequence numbers (consecutive: a range).

        A row is a decision already encoded (:class:`~.records.EncodedDecision`: its item's
        and its own JSON, and the columns taken from them), so that a batch is encoded once, by
        the fastest path that gives its bytes, and recorded as it is made: ``rows`` is read
        once, as it is consumed, and the store holds no more than a bounded batch of it at a
        time (a batch of any size is recorded in flat memory). From (item, Decision) pairs:
        :func:`~.records.encode_pairs`."""

    def override(self, key: str, tier: str, *, reason: str, by: str, approved_by: list[str],
                 at: str | None = None) -> OverrideRecord:
        """Override the latest decision of ``key`` into ``tier`` ("disagree and commit"), as
        the approval policy (:mod:`.policy`) of the rulebook it was recorded under allows."""

    # ---- the chain, for the audit ---------------------------------------------------------
    def head(self) -> str | None:
        """The hash at the end of the chain (None for an empty ledger): worth noting elsewhere."""

    def entries(self, *, seq_range: tuple[int, int] | None = None, item: str | None = None,
                unreadable: bool = False) -> Iterator[Entry | UnreadableEntry]:
        """The entries in order; ``seq_range`` (first, last): only those; ``item``: only its. An
        entry that does not read is refused (:class:`~engine.errors.LedgerDamaged`); with
        ``unreadable``, it comes as an :class:`UnreadableEntry` in its place (for the audit)."""

    def entry(self, seq: int) -> Entry:
        """The entry ``seq``."""

    def seq_bounds(self) -> tuple[int, int]:
        """The first and last sequence numbers (1, 0 for an empty ledger)."""

    def seq_of(self, hash_: str) -> int | None:
        """The sequence number of the entry whose hash is ``hash_``, None if none has it."""

    def rulebook_hashes(self) -> list[str]:
        """The hashes of the stored rulebooks, in the order they were stored."""

    def changed_rulebooks(self) -> dict[str, str]:
        """The stored rulebooks that are not as launchtier stored them, with what is wrong, in
        the order they were stored."""

    def meta_problems(self) -> list[str]:
        """What in the store's own bookkeeping (its schema version) launchtier did not write."""

    # ---- reading --------------------------------------------------------------------------
    def rulebook(self, hash_: str) -> Rulebook:
        """The stored rulebook ``hash_``, checked against its hash before it is used: a changed
        or missing one is refused (:class:`~engine.errors.LedgerDamaged`), never used."""

    def decision(self, e: Entry) -> Decision:
        """The decision recorded in the entry ``e``."""

    def history(self, item: str | None = None, quarter: str | None = None,
                tier: str | None = None) -> Iterator[DecisionRecord]:
        """Each item's decisions in order, with their overrides; filters match the final tier
        (``quarter``: "unscheduled" for the items without one). Read as it is consumed."""

    def iter_latest(self, quarters: Iterable[str] | None = None) -> Iterator[DecisionRecord]:
        """The latest decision of each item (with its overrides), in order of recording, read
        as it is consumed; ``quarters``: only the items planned for one of them."""

    def latest_of_items(self, keys: Iterable[str]) -> Iterator[tuple[DecisionRecord, str]]:
        """The latest decision of each of the items ``keys`` that has one, with the item as it
        was recorded (JSON text): only their own history is read."""

    def latest_keys(self) -> frozenset[str]:
        """The items that have a recorded decision."""

    def maybe_overridden(self) -> Iterator[DecisionRecord]:
        """The latest decisions that may stand overridden, and possibly a few more: the caller
        keeps those whose final tier differs from their rules' and capacity's. The others need
        not be read at all."""

    def latest_entries(self, quarters: Iterable[str]) -> Iterator[tuple[Entry, str]]:
        """The entries of the latest decisions of the items planned for one of ``quarters``,
        in order, each with its final tier (after overrides): what a roadmap ranks against."""

    def recorded_tiers(self) -> list[str]:
        """The final tiers that entries of the ledger record, sorted."""

    def decisions_since(self, since: str) -> set[int]:
        """The sequence numbers of the decisions recorded on or after ``since`` (a date or time)."""

    def precedent_candidates(self, exclude: str, limit: int) -> Iterator[tuple[DecisionRecord, dict[str, Any]]]:
        """The latest decision of each item but ``exclude`` (with its overrides), with the
        item's signals as recorded, the most recent first, at most ``limit`` of them, read as
        they are consumed: what the precedents are ranked from
        (:func:`engine.decide.precedents.rank_precedents`). A recorded item that does not read
        is refused (:class:`~engine.errors.LedgerDamaged`)."""

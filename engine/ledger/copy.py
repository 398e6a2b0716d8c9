"""A chain copied from one ledger to another, hashes and all (``launchtier ledger copy``): a team's
SQLite ledger moved into PostgreSQL, or back, and verified by the audit on both sides.

The destination is an empty chain, or one whose entries are the source's first ones (an earlier
copy of the same chain): then only the entries after them are appended. Any other chain there is
refused: two chains are never merged. The copy is one transaction of the destination: all or
nothing. The source must pass its audit first: a damaged ledger is not spread further.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ..errors import LedgerDamaged, LedgerError
from ..rulebook.model import Rulebook
from . import open_ledger, where
from .audit import AuditReport, audit


class CopyReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    destination: str
    copied: int  # entries appended to the destination
    already: int  # entries the destination held already (the source's first ones)
    head: str | None  # the chain head, the same on both sides
    source_audit: AuditReport
    destination_audit: AuditReport

    @property
    def ok(self) -> bool:
        return self.source_audit.ok and self.destination_audit.ok and self.source_audit.integrity.head == \
            self.destination_audit.integrity.head


def copy_chain(source: str, destination: str, current: Rulebook, *, engine: str = "durable", jobs: int = 1) -> CopyReport:
    """Copy the chain at ``source`` into ``destination`` and audit both under ``current``."""
    if where(source) == where(destination):
        raise LedgerError(f"{where(source)}: the source and the destination are the same ledger; nothing was copied")
    with open_ledger(source, readonly=True) as src:
        before = audit(src, current, engine=engine, jobs=jobs)
        if not before.ok:
            raise LedgerDamaged(f"{src.location} fails its audit (run launchtier audit on it); a damaged ledger is "
                                "not copied: nothing was copied")
        with open_ledger(destination, create=True) as dst:
            _, held = dst.seq_bounds()
            _, last = src.seq_bounds()
            after = dst.head()
            if held and (held > last or src.entry(held).entry_hash != after):
                raise LedgerError(f"{dst.location} holds another chain ({held} entries, head {after}); nothing was "
                                  "copied: copy into an empty chain (a new file, or another ?chain=NAME)")
            copied = dst.append_copies(after, src.rulebook_rows(), src.entries(seq_range=(held + 1, last)))
            destination_audit = audit(dst, current, engine=engine, jobs=jobs)
        return CopyReport(source=src.location, destination=dst.location, copied=copied, already=held,
                          head=destination_audit.integrity.head or None, source_audit=before,
                          destination_audit=destination_audit)

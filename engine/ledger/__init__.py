"""The ledger: recorded decisions and overrides, their hash chain, the history, and the audit.

Commands open a ledger through :func:`open_ledger` and :func:`ledger_if_present`, by a location
(None: $LAUNCHTIER_DB, else the store's default place), and get a :class:`~.store.LedgerStore`;
nothing outside a store's own module knows what a location is. The store is picked here, by the
location's URL scheme: a location without one is a file path, an SQLite ledger (:mod:`.sqlite`).

The modules: :mod:`.records` (what a ledger holds, as data), :mod:`.chain` (the hash chain and
its checks), :mod:`.policy` (the approval policy of overrides), :mod:`.store` (the interface),
:mod:`.schema` (the tables and their migrations), :mod:`.sql` (what the SQL stores share),
:mod:`.sqlite` (the SQLite store), :mod:`.postgres` (the PostgreSQL store), :mod:`.audit` (the
audit, over the interface), :mod:`.copy` (a chain copied from one ledger to another).
"""

from __future__ import annotations

import importlib
import os
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from .store import LedgerStore

# The stores by URL scheme (lower case), each the module under engine.ledger that holds it; a
# location without a registered scheme is a file path for the SQLite store. A store's module
# provides open_store, open_if_present and where with the signatures of sqlite's.
STORES: dict[str, str] = {"postgresql": "postgres", "postgres": "postgres"}
FILE_STORE = "sqlite"


def _store(location: str | None) -> ModuleType:
    """The module of the store that holds ``location`` (None: $LAUNCHTIER_DB's)."""
    scheme, sep, _ = (location or os.environ.get("LAUNCHTIER_DB") or "").partition("://")
    name = STORES.get(scheme.lower(), FILE_STORE) if sep else FILE_STORE
    return importlib.import_module(f".{name}", __name__)


def open_ledger(location: str | None, *, create: bool = False, readonly: bool = False,
                audit: bool = False) -> LedgerStore:
    """The ledger at ``location``: created when ``create`` and absent; ``readonly`` for readers,
    which never create, migrate or otherwise change the evidence; ``audit`` opens a damaged one
    for the audit to report on."""
    return _store(location).open_store(location, create=create, readonly=readonly, audit=audit)


def ledger_if_present(location: str | None) -> LedgerStore | None:
    """The ledger at ``location``, read only, when there is one; else None."""
    return _store(location).open_if_present(location)


@contextmanager
def reading_if_present(location: str | None) -> Iterator[LedgerStore | None]:
    """For the block, :func:`ledger_if_present` (None when there is no ledger), closed after it."""
    ledger = ledger_if_present(location)
    try:
        yield ledger
    finally:
        if ledger is not None:
            ledger.close()


def where(location: str | None) -> str:
    """The ledger's location as it is shown to the user."""
    return _store(location).where(location)


def chains(location: str | None) -> list[str]:
    """The names of the chains in the ledger at ``location`` (an SQLite file has one, "main")."""
    return _store(location).chains(location)


def chain_location(location: str | None, chain: str) -> str:
    """The location of the chain ``chain`` of the ledger at ``location``."""
    return _store(location).chain_location(location, chain)


def writer_grants(location: str | None, role: str) -> str:
    """The SQL that lets the database role ``role`` record in the chain at ``location`` and read
    it, and never change or remove an entry (a store without roles refuses: LedgerError)."""
    return _store(location).writer_grants(location, role)


def every_chain(location: str | None) -> list[tuple[str, str]]:
    """Each chain of the ledger at ``location`` (the company-wide view) with its own location, by
    name; a database without any is refused (LedgerError)."""
    from ..errors import LedgerError

    names = chains(location)
    if not names:
        raise LedgerError(f"{where(location)}: the database holds no chain yet; record decisions first "
                          "(launchtier record FILE --by NAME --db URL?chain=NAME)")
    return [(name, chain_location(location, name)) for name in names]

"""The ledger: recorded decisions and overrides, their hash chain, the history, and the audit.

Commands open a ledger through :func:`open_ledger` and :func:`ledger_if_present`, by a location
(for the SQLite store, a file path; None: $LAUNCHTIER_DB's default place); nothing outside the
store's own module knows what the location is.
"""

from __future__ import annotations

from typing import Any


def open_ledger(location: str | None, *, create: bool = False, readonly: bool = False, audit: bool = False) -> Any:
    """The ledger at ``location``: created when ``create`` and absent; ``readonly`` for readers,
    which never create, migrate or otherwise change the evidence; ``audit`` opens a damaged one
    for the audit to report on."""
    from .sqlite import Ledger

    return Ledger(location, create=create, readonly=readonly, audit=audit)


def ledger_if_present(location: str | None) -> Any:
    """The ledger at ``location``, read only, when there is one; else None."""
    from .sqlite import Ledger, resolve_path

    path = resolve_path(location)
    return Ledger(path, create=False, readonly=True) if path.exists() else None


def where(location: str | None) -> str:
    """The ledger's location as it is shown to the user."""
    from ..errors import shown
    from .sqlite import resolve_path

    return shown(resolve_path(location))

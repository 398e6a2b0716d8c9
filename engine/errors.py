"""The engine's exceptions: one base class; the CLI maps them to exit codes in one place."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any


def shown(text: Any) -> str:
    """A path (or a key) as a message shows it: as it is, unless it holds a control character or
    a line break, which would split the message or hide part of it; then quoted and escaped, as
    Python writes a string."""
    text = str(text)
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text):
        return repr(text)
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as the input allows."""

    message: str
    file: str | None = None
    line: int | None = None
    item: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = shown(self.file) + (f":{self.line}" if self.line else "") + ": "
        if self.item:
            where += f"item {shown(self.item)}: "
        if self.field:
            where += f"{self.field}: "
        return where + self.message


class LaunchtierError(Exception):
    """Base class of every error the engine raises on purpose."""


class InputError(LaunchtierError):
    """Bad input (a rulebook, an item file, a value): every problem found, reported at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RulebookError(InputError):
    """A rulebook that cannot be loaded."""


class ItemError(InputError):
    """An item file, or an item, that does not fit the rulebook."""


class ConfigError(InputError):
    """A project config file that cannot be used."""


class EngineUnavailable(LaunchtierError):
    """The requested evaluation engine cannot run on this machine."""


class LedgerError(LaunchtierError):
    """The ledger refused a request (no such decision, too few approvals, a newer schema)."""


class LedgerMissing(LedgerError):
    """No ledger at the location a command that needs one was given (``location``: as shown)."""

    def __init__(self, location: str, what: str):
        self.location, self.what = location, what
        super().__init__(f"{location}: {what}")


class LedgerDamaged(LedgerError):
    """The ledger file was changed outside launchtier: what it holds is not what launchtier wrote."""

"""Matching: which scoring rules fire for an item's signals, and which tier the scores select.

What a matcher must do is the :class:`Matcher` protocol. Two engines implement it: the
durable-rules adapter (:mod:`.durable`, the only module that knows durable-rules) and the
pure-Python reference evaluator (:mod:`.reference`); :func:`make_matcher` builds one by name.
The memo layer (:mod:`.memo`) wraps any matcher and is a matcher itself.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from ..errors import EngineUnavailable
from ..rulebook.model import Rulebook

ENGINES = ("durable", "reference")


@runtime_checkable
class Matcher(Protocol):
    """What the decision pipeline asks of a matcher, for one rulebook.

    Both answers are pure functions of their argument: the same signals always fire the same
    rules, the same values always select the same tier. The memo layer relies on that.
    """

    name: str  # the engine's name, one of ENGINES
    rulebook: Rulebook

    def fired(self, signals: Mapping[str, Any]) -> Sequence[int]:
        """The indices of the scoring rules whose conditions hold for an item's signals (every
        signal of the rulebook present), each once, in ascending (rulebook) order."""
        ...

    def tier(self, values: Mapping[str, Any]) -> int:
        """The index of the first tier whose condition holds for ``values``: the item's signals
        with its scores (dimensions and totals) beside them. The last tier has no condition,
        so there always is one."""
        ...


def make_matcher(rulebook: Rulebook, engine: str = "durable") -> Matcher:
    """The plain matcher of ``engine`` for a rulebook (no memo layer)."""
    if engine == "durable":
        from .durable import DurableMatcher

        return DurableMatcher(rulebook)
    if engine == "reference":
        from .reference import ReferenceMatcher

        return ReferenceMatcher(rulebook)
    raise EngineUnavailable(f"unknown engine '{engine}' (engines: {', '.join(ENGINES)})")

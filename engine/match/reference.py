"""The reference evaluator: the rulebook's semantics in plain Python, with no durable-rules.

It reads the conditions in their YAML form, independently of the parsed trees that the durable
adapter compiles, so that property tests comparing the two catch a mistake in parsing, in
pushing negation down, or in the compilation to durable-rules' JSON. It is also the engine
for a machine where durable-rules cannot be built (``--engine reference``).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..rulebook.conditions import OPERATIONS as _OPS  # what each operator means; the rest is interpreted here
from ..rulebook.model import Rulebook



def holds(when: Mapping[str, Any] | None, values: Mapping[str, Any]) -> bool:
    """Does a condition, as written in the rulebook, hold for these values?"""
    if when is None:
        return True
    for key, expected in when.items():
        if key == "all":
            ok = all(holds(c, values) for c in expected)
        elif key == "any":
            ok = any(holds(c, values) for c in expected)
        elif key == "not":
            ok = not holds(expected, values)
        elif type(expected) is dict or isinstance(expected, Mapping):  # dict first: an ABC check is slow
            ok = all(_OPS[op](values[key], operand) for op, operand in expected.items())
        else:
            ok = values[key] == expected
        if not ok:
            return False
    return True


class ReferenceMatcher:
    """A :class:`~launchtier.engine.match.Matcher`: which scoring rules fire, and which tier the
    scores select, by direct interpretation of the conditions as written."""

    name = "reference"

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook

    def fired(self, signals: Mapping[str, Any]) -> list[int]:
        return [i for i, rule in enumerate(self.rulebook.rules) if holds(rule.when, signals)]

    def tier(self, values: Mapping[str, Any]) -> int:
        for i, tier in enumerate(self.rulebook.tiers):
            if holds(tier.when, values):
                return i
        raise AssertionError("unreachable: the last tier has no condition")  # loader guarantees it

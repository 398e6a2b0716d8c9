"""Conditions: the `when` of rules, tiers and artifacts, parsed into a small tree.

The YAML form is a mapping. Each key names a signal (in tier and artifact conditions also a
dimension or a total); its value is a literal (equality) or a mapping of operators. Several keys
must all hold; ``all``, ``any`` and ``not`` combine conditions. Parsing checks every name and
every value against what the name is, so a typo is a load error, never a silent "false".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Iterable, Iterator, Mapping, Union

OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in")
COMBINATORS = ("all", "any", "not")
ORDERING = ("lt", "lte", "gt", "gte")
NEGATION = {"eq": "ne", "ne": "eq", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt",
            "in": "not_in", "not_in": "in"}
SYMBOL = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥",
          "in": "in", "not_in": "not in"}


@dataclass(frozen=True)
class NameInfo:
    """What a name in a condition refers to: a signal, a dimension or a total."""

    kind: str  # "signal" | "dimension" | "total"
    type: str  # "bool" | "int" | "enum"
    values: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None

    def describe(self) -> str:
        if self.type == "bool":
            return "true or false"
        if self.type == "enum":
            return "one of " + ", ".join(self.values)
        if self.min is not None and self.max is not None:
            return f"a whole number from {self.min} to {self.max}"
        if self.min is not None:
            return f"a whole number ≥ {self.min}"
        return "a whole number"


@dataclass(frozen=True)
class Compare:
    name: str
    op: str
    value: Any  # a literal; a tuple for in / not_in

    def holds(self, values: Mapping[str, Any]) -> bool:
        return OPERATIONS[self.op](values[self.name], self.value)

    def negate(self) -> "Compare":
        return Compare(self.name, NEGATION[self.op], self.value)

    def text(self) -> str:
        value = self.value
        if isinstance(value, tuple):
            value = "[" + ", ".join(literal(v) for v in value) + "]"
        else:
            value = literal(value)
        return f"{self.name} {SYMBOL[self.op]} {value}"


@dataclass(frozen=True)
class All:
    parts: tuple["Condition", ...]

    def holds(self, values: Mapping[str, Any]) -> bool:
        return all(p.holds(values) for p in self.parts)

    def text(self) -> str:
        return self._text

    @cached_property
    def _text(self) -> str:  # a combined condition's text is asked for every item explained: once
        return " and ".join(_wrap(p) for p in self.parts) if self.parts else "always"


@dataclass(frozen=True)
class Any_:
    parts: tuple["Condition", ...]

    def holds(self, values: Mapping[str, Any]) -> bool:
        return any(p.holds(values) for p in self.parts)

    def text(self) -> str:
        return self._text

    @cached_property
    def _text(self) -> str:
        return " or ".join(_wrap(p) for p in self.parts)


@dataclass(frozen=True)
class Not:
    part: "Condition"

    def holds(self, values: Mapping[str, Any]) -> bool:
        return not self.part.holds(values)

    def text(self) -> str:
        return self._text

    @cached_property
    def _text(self) -> str:
        return "not " + _wrap(self.part)


Condition = Union[Compare, All, Any_, Not]

ALWAYS = All(())

OPERATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
}


def literal(v: Any) -> str:
    """A value as a rulebook writes it: true and false for yes/no, [a, b] for a list."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(literal(x) for x in v) + "]"
    return str(v)


def _wrap(c: Condition) -> str:
    return f"({c.text()})" if isinstance(c, (All, Any_)) and len(c.parts) > 1 else c.text()


def first_holding(conditions: Iterable[Condition], values: Mapping[str, Any]) -> int:
    """The index of the first condition that holds for ``values``: a rulebook's tier (its last
    tier has no condition, so one always holds)."""
    for i, condition in enumerate(conditions):
        if condition.holds(values):
            return i
    raise AssertionError("unreachable: the last tier has no condition")  # the loader guarantees it


def conjuncts(c: Condition) -> tuple[Condition, ...]:
    """The parts that must all hold: what a tier explanation lists one by one."""
    return c.parts if isinstance(c, All) else (c,)


def names(c: Condition) -> Iterator[str]:
    if isinstance(c, Compare):
        yield c.name
    elif isinstance(c, Not):
        yield from names(c.part)
    else:
        for p in c.parts:
            yield from names(p)


def comparisons(c: Condition) -> Iterator[Compare]:
    if isinstance(c, Compare):
        yield c
    elif isinstance(c, Not):
        yield from comparisons(c.part)
    else:
        for p in c.parts:
            yield from comparisons(p)


def cut_points(conditions: Iterable["Condition"], name: str) -> list[int]:
    """Where an int's comparisons can change their answer: each cut ``c`` starts a new interval
    ``[c, next cut)``. Inside one interval every comparison on ``name`` answers the same, so one
    value per interval stands for all of them (exact, not a sample)."""
    cuts: set[int] = set()
    for condition in conditions:
        for c in comparisons(condition):
            if c.name == name:
                cuts.update(cuts_of(c.op, c.value))
    return sorted(cuts)


def cuts_of(op: str, value: Any) -> Iterator[int]:
    """Where one comparison of an int with ``value`` (a list or tuple for in and not_in) can
    change its answer: the cuts :func:`cut_points` gathers."""
    for v in value if isinstance(value, (list, tuple)) else (value,):
        if op in ("lt", "gte"):
            yield v
        elif op in ("lte", "gt"):
            yield v + 1
        else:
            yield from (v, v + 1)


def push_not(c: Condition, negate: bool = False) -> Condition:
    """An equivalent tree with no Not: negation pushed down to the comparisons (De Morgan)."""
    if isinstance(c, Compare):
        return c.negate() if negate else c
    if isinstance(c, Not):
        return push_not(c.part, not negate)
    parts = tuple(push_not(p, negate) for p in c.parts)
    if isinstance(c, All):
        return Any_(parts) if negate else All(parts)
    return All(parts) if negate else Any_(parts)


def suggest(name: Any, candidates: Iterable[Any]) -> str:
    """"; did you mean 'x'?" for the candidate closest to a mistaken ``name``, or "" when none is
    close. Case is ignored (``GA`` finds ``ga``, ``aia-1`` finds ``AIA-1``): a candidate equal
    to ``name`` but for case always comes first."""
    close = closest(name, candidates)
    return f"; did you mean '{close}'?" if close is not None else ""


def closest(name: Any, candidates: Iterable[Any]) -> str | None:
    """The candidate ``name`` most likely meant (as :func:`suggest` words it), or None."""
    import difflib  # for a mistake's message only: a run without one never imports it

    wanted = str(name).casefold()
    folded: dict[str, str] = {}  # folded candidate: the first candidate folding to it
    for c in candidates:
        folded.setdefault(str(c).casefold(), str(c))
    if wanted in folded:
        return folded[wanted]
    close = difflib.get_close_matches(wanted, list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


class ConditionProblem(Exception):
    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def parse(raw: Any, namespace: Mapping[str, NameInfo], path: str, problems: list) -> Condition:
    """Parse a YAML condition; append a ConditionProblem to ``problems`` for each error found."""
    if not isinstance(raw, Mapping):
        problems.append(ConditionProblem(path, f"a condition is a mapping of names to values, got {_kind(raw)}"))
        return ALWAYS
    parts: list[Condition] = []
    for key, value in raw.items():
        here = f"{path}.{key}"
        if key == "all" or key == "any":
            if not isinstance(value, list) or not value:
                problems.append(ConditionProblem(here, f"'{key}' takes a non-empty list of conditions"))
                continue
            subs = tuple(parse(v, namespace, f"{here}[{i}]", problems) for i, v in enumerate(value))
            parts.append(All(subs) if key == "all" else Any_(subs))
        elif key == "not":
            parts.append(Not(parse(value, namespace, here, problems)))
        elif key in namespace:
            parts.extend(_parse_comparisons(key, value, namespace[key], here, problems))
        else:
            allowed = sorted(namespace)
            problems.append(ConditionProblem(
                here,
                f"unknown name '{key}'{suggest(key, allowed)} "
                f"(allowed: {', '.join(allowed)}, or all / any / not)",
            ))
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _parse_comparisons(name: str, value: Any, info: NameInfo, path: str, problems: list) -> list[Compare]:
    if not isinstance(value, Mapping):
        checked = _check_value(name, "eq", value, info, path, problems)
        return [Compare(name, "eq", checked)] if checked is not _BAD else []
    if not value:
        problems.append(ConditionProblem(path, f"empty operator mapping; use one of {', '.join(OPERATORS)}"))
        return []
    out = []
    for op, operand in value.items():
        if op not in OPERATORS:
            problems.append(ConditionProblem(
                f"{path}.{op}", f"unknown operator '{op}'{suggest(op, OPERATORS)} (allowed: {', '.join(OPERATORS)})"))
            continue
        if op in ORDERING and info.type != "int":
            problems.append(ConditionProblem(
                f"{path}.{op}", f"'{op}' compares numbers, but {name} is {info.describe()}; use eq, ne, in or not_in"))
            continue
        checked = _check_value(name, op, operand, info, f"{path}.{op}", problems)
        if checked is not _BAD:
            out.append(Compare(name, op, checked))
    return out


_BAD = object()


def _check_value(name: str, op: str, value: Any, info: NameInfo, path: str, problems: list) -> Any:
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            problems.append(ConditionProblem(path, f"'{op}' takes a non-empty list of values"))
            return _BAD
        checked = [_check_scalar(name, v, info, path, problems) for v in value]
        return _BAD if any(c is _BAD for c in checked) else tuple(dict.fromkeys(checked))
    return _check_scalar(name, value, info, path, problems)


def _check_scalar(name: str, value: Any, info: NameInfo, path: str, problems: list) -> Any:
    ok = (
        isinstance(value, bool) if info.type == "bool"
        else isinstance(value, int) and not isinstance(value, bool) if info.type == "int"
        else isinstance(value, str) and value in info.values
    )
    if ok and info.type == "int" and abs(value) > 2**53:
        ok = False
    if not ok:
        hint = suggest(value, info.values) if info.type == "enum" and isinstance(value, str) else ""
        problems.append(ConditionProblem(
            path, f"{literal(value)!s} is not a value of {info.kind} {name}{hint} (allowed: {info.describe()})"))
        return _BAD
    return value


def _kind(v: Any) -> str:
    if v is None:
        return "nothing"
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list"}.get(type(v), type(v).__name__)

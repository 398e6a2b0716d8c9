"""Alpha tables: which scoring rules fire, from one table lookup per signal and a bitwise and.

Most scoring rules are conjunctions of tests on one signal each ("stage is ga and reach ≥ 40").
Such a rule is *separable*: it fires exactly when each of its per-signal tests holds. For every
signal the rules read, the tables hold, per case of that signal (an enum or bool value, or an
int's interval between the cut points the rules compare it with, see ``conditions.cut_points``),
the set of separable rules that this case does not rule out, as the bits of an int: the rules
whose test on the signal holds there, and every rule that does not test the signal. The rules
that fire are the and of one entry per signal. That is the alpha network of a Rete matcher,
precomputed: a handful of lookups per item, however many rules the rulebook has.

The tables are built from the parsed conditions (``rulebook.conditions``), each test evaluated
once per case on a value of that case (exact: inside a case every test answers alike). A rule
that is not separable (an ``any`` or ``not`` across several signals) is asked of the engine's
matcher, through the memo layer, restricted to those rules. Property tests compare the tables
with the plain matchers and the reference evaluator on random rulebooks.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import reduce
from operator import and_, call, itemgetter
from typing import Any, Callable, Mapping, Sequence

from ..rulebook import conditions as cond
from ..rulebook.model import BoolSignal, EnumSignal, IntSignal, Rulebook
from . import Matcher
from .memo import MemoMatcher

# an int signal whose range has at most this many values is looked up in a list indexed by the
# value (one C-level index); a wider or unbounded one by bisect over its cut points
DIRECT_RANGE = 4096
# the enum and bool signals that rules read are looked up together, in one table filled as
# their combinations are met, when they have at most this many combinations
JOINT_LIMIT = 65_536


def case_lookup(rulebook: Rulebook, name: str, cuts: list[int], per_case: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A function from a value of signal ``name`` to ``per_case(a value of its case)``: per enum
    or bool value, or per interval of an int between ``cuts``; the answers are computed here,
    once per case."""
    sig = rulebook.signals[name]
    if isinstance(sig, EnumSignal):
        return {v: per_case(v) for v in sig.values}.__getitem__
    if isinstance(sig, BoolSignal):
        return (per_case(False), per_case(True)).__getitem__
    assert isinstance(sig, IntSignal)
    answers = [per_case(cuts[k - 1] if k else (cuts[0] - 1 if cuts else 0)) for k in range(len(cuts) + 1)]
    lo, hi = sig.min, sig.max
    if lo is not None and hi is not None and hi - lo < DIRECT_RANGE:
        table = [answers[bisect_right(cuts, v)] for v in range(lo, hi + 1)]
        if lo == 0:
            return table.__getitem__
        return lambda v: table[v - lo]
    return lambda v: answers[bisect_right(cuts, v)]


def separate(rulebook: Rulebook, condition: cond.Condition) -> dict[str, list[cond.Condition]] | None:
    """A condition as its tests per signal, all of which must hold; None when it is not a
    conjunction of tests on one signal each."""
    c = cond.push_not(condition)
    per_signal: dict[str, list[cond.Condition]] = {}
    for part in cond.conjuncts(c):
        read = set(cond.names(part))
        if len(read) != 1:
            return None
        (name,) = read
        if name not in rulebook.signals:
            return None
        per_signal.setdefault(name, []).append(part)
    return per_signal


class AlphaTables:
    """A :class:`~launchtier.engine.match.Matcher` whose answer for the scoring rules is
    :meth:`mask`: the rules that fire as the bits of an int (bit i: rule i)."""

    def __init__(self, matcher: Matcher):
        self.inner = matcher
        self.name = matcher.name
        self.rulebook = book = matcher.rulebook
        tests: dict[int, dict[str, list[cond.Condition]]] = {}
        others: list[int] = []
        for i, rule in enumerate(book.rules):
            per_signal = separate(book, rule.condition)
            if per_signal is None:
                others.append(i)
            else:
                tests[i] = per_signal
        separable = sum(1 << i for i in tests)
        steps = []
        for name in dict.fromkeys(n for per_signal in tests.values() for n in per_signal):
            readers = {i: per_signal[name] for i, per_signal in tests.items() if name in per_signal}
            untouched = separable & ~sum(1 << i for i in readers)
            is_int = isinstance(book.signals[name], IntSignal)
            cuts = cond.cut_points([t for ts in readers.values() for t in ts], name) if is_int else []

            def admitted(value: Any, readers=readers, untouched=untouched, name=name) -> int:
                return untouched | sum(1 << i for i, ts in readers.items() if all(t.holds({name: value}) for t in ts))
            steps.append((name, case_lookup(book, name, cuts, admitted)))
        self.separable = separable
        self.others = others
        # the rules that are not separable, asked of the engine's matcher through the memo layer
        self._others = MemoMatcher(matcher, rules=others) if others else None
        finite = [(n, look) for n, look in steps if not isinstance(book.signals[n], IntSignal)]
        ints = [(n, look) for n, look in steps if isinstance(book.signals[n], IntSignal)]
        if len(finite) > 1 and _cases(book, [n for n, _ in finite]) <= JOINT_LIMIT:
            self.mask = _joint(separable, len(book.rules), finite, ints)
        else:
            self.mask = _compile(separable, steps)
        if self._others is not None:
            base, memo = self.mask, self._others

            def with_others(signals: Mapping[str, Any]) -> int:
                return base(signals) | mask_of(memo.fired(signals))
            self.mask = with_others

    def fired(self, signals: Mapping[str, Any]) -> Sequence[int]:
        return indices(self.mask(signals))

    def tier(self, values: Mapping[str, Any]) -> int:
        return self.inner.tier(values)

    def clear(self) -> None:
        if self._others is not None:
            self._others.clear()


def _cases(book: Rulebook, names: list[str]) -> int:
    """How many combinations of values the enum and bool signals ``names`` have."""
    count = 1
    for n in names:
        sig = book.signals[n]
        count *= len(sig.values) if isinstance(sig, EnumSignal) else 2
    return count


def _joint(separable: int, marker: int, finite: list[tuple[str, Callable[[Any], int]]],
           ints: list[tuple[str, Callable[[Any], int]]]) -> Callable[[Mapping[str, Any]], int]:
    """The mask function with the enum and bool signals looked up together: one dict, keyed on
    their values, filled the first time each combination is met (at most JOINT_LIMIT entries),
    and one lookup per int. An entry carries a marker bit past the rules, so that it is never 0
    (a falsy lookup means: not filled yet); the and with the rest drops it."""
    joint: dict[tuple, int] = {}
    get = itemgetter(*[n for n, _ in finite])
    looks = [look for _, look in finite]
    mark = 1 << marker

    def fill(values: tuple) -> int:
        m = joint[values] = reduce(and_, map(call, looks, values)) | mark
        return m
    rest = _compile(separable, ints)
    return lambda signals: (joint.get(key := get(signals)) or fill(key)) & rest(signals)


def _compile(separable: int, steps: list[tuple[str, Callable[[Any], int]]]) -> Callable[[Mapping[str, Any]], int]:
    """The mask function: the and of one lookup per signal, unrolled for one or two."""
    if not steps:
        return lambda signals: separable
    if len(steps) == 1:
        (n1, l1), = steps
        return lambda signals: l1(signals[n1])
    if len(steps) == 2:
        (n1, l1), (n2, l2) = steps
        return lambda signals: l1(signals[n1]) & l2(signals[n2])

    get = itemgetter(*[name for name, _ in steps])
    looks = [look for _, look in steps]
    # the and of the lookups, in C but for the lookups themselves
    return lambda signals: reduce(and_, map(call, looks, get(signals)))


def indices(mask: int) -> list[int]:
    """The set bits of ``mask``, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def mask_of(fired: Sequence[int]) -> int:
    m = 0
    for i in fired:
        m |= 1 << i
    return m

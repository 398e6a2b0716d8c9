"""The memo layer: one wrapper around any matcher that remembers which rules fired, per case.

It owns the rule groups (:func:`independent_groups`), the keys that say when two items are the
same case for a set of conditions (:func:`keyer`), and the per-group caches. It is itself a
:class:`~launchtier.engine.match.Matcher`, so the pipeline cannot tell it from the matcher it
wraps, except by speed; with memoisation off the pipeline is handed the plain matcher instead.

Every cache of the engine (here and in ``engine/decide``) is a :class:`ByteCache`: bounded by
the bytes its entries hold (``CACHE_BYTES``), oldest entries evicted first, and switched off for
a while when its owner finds that it does not pay (its hits are too rare to be worth storing).
"""

from __future__ import annotations

from bisect import bisect_right
from operator import itemgetter
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..rulebook import conditions as cond
from ..rulebook.model import IntSignal, Rulebook
from . import Matcher

# bytes per cache: the spaces of real rulebooks are small, this bounds pathological ones
CACHE_BYTES = 8 << 20
# a cache found to answer fewer than this share of its lookups stops storing for a while ...
PAYS = 0.05
# ... for this many reviews of its owner, then tries again
PAUSE = 8
# what an entry costs beside the sizes its owner counts (the dict slot, the key, the tuple)
ENTRY = 160


class ByteCache:
    """A memo bounded by bytes: ``data`` is read directly on the hot path (``data.get(key)``); a
    miss is stored with :meth:`put`, which evicts the oldest entries (first in, first out)
    while the entries' sizes (as their owner estimates them) exceed ``CACHE_BYTES``.

    Its owner calls :meth:`review` every so many lookups: a cache that answered fewer than
    ``PAYS`` of them stops storing (and empties) for ``PAUSE`` reviews, then tries again; a
    rulebook whose cases never repeat then costs no memory and no stores."""

    __slots__ = ("data", "_sizes", "used", "misses", "on", "_rest")

    def __init__(self) -> None:
        self.data: dict[Any, Any] = {}
        self._sizes: dict[Any, int] = {}
        self.used = 0
        self.misses = 0
        self.on = True
        self._rest = 0

    def put(self, key: Any, value: Any, size: int = 0) -> None:
        self.misses += 1
        if not self.on:
            return
        size += ENTRY
        data, sizes = self.data, self._sizes
        if key in sizes:  # stored again: out first, so that eviction cannot count it twice
            self.used -= sizes.pop(key)
            del data[key]
        while self.used + size > CACHE_BYTES and sizes:
            oldest = next(iter(sizes))
            self.used -= sizes.pop(oldest)
            del data[oldest]
        data[key] = value
        sizes[key] = size
        self.used += size

    def review(self, lookups: int) -> None:
        """The owner's verdict after ``lookups`` lookups since the last review."""
        if self.on and lookups and self.misses > lookups * (1 - PAYS):
            self.on = False
            self._rest = PAUSE
            self.clear()
        elif not self.on:
            self._rest -= 1
            self.on = self._rest <= 0
        self.misses = 0

    def clear(self) -> None:
        self.data.clear()
        self._sizes.clear()
        self.used = 0

    def __len__(self) -> int:
        return len(self.data)


def keyer(rulebook: Rulebook, conditions: list[cond.Condition], exact: Iterable[str] = ()) -> Callable[[Mapping[str, Any]], Any]:
    """A function giving, for an item's signals, a key that two items share only when every one
    of these conditions answers them alike: the values of the signals the conditions read, an
    int reduced to the interval between the cut points the conditions compare it with.

    Why that is enough: a condition is built from comparisons of one signal with constants, so
    for an enum or bool it depends on the value itself, and for an int only on which side of
    each constant the value lies, that is on ``bisect_right(cut_points, value)``. Names the
    conditions read that are not signals (scores) are left out: the caller keys them itself.
    Signals named in ``exact`` keep their value (an explanation shows it). The key is built by
    an ``itemgetter`` and a ``bisect`` per int, since it is computed for every item."""
    read = dict.fromkeys(n for c in conditions for n in cond.names(c) if n in rulebook.signals)
    read.update(dict.fromkeys(exact))
    ints = [(n, cond.cut_points(conditions, n)) for n in read
            if isinstance(rulebook.signals[n], IntSignal) and n not in exact]
    classed = {n for n, _ in ints}
    plain = [n for n in read if n not in classed]
    if not plain:
        get: Callable[[Mapping[str, Any]], Any] = lambda signals: ()  # noqa: E731
    else:
        get = itemgetter(*plain)  # one name gives the value itself: still a key
    if not ints:
        return get
    if len(ints) == 1:
        (name, cuts), = ints
        return lambda signals: (get(signals), bisect_right(cuts, signals[name]))
    if len(ints) == 2:
        (n1, c1), (n2, c2) = ints
        return lambda signals: (get(signals), bisect_right(c1, signals[n1]), bisect_right(c2, signals[n2]))
    return lambda signals: (get(signals), *[bisect_right(cuts, signals[n]) for n, cuts in ints])


def independent_groups(rulebook: Rulebook, rules: Iterable[int] | None = None) -> list[list[int]]:
    """The scoring rules (indices; all of them, or ``rules``) in groups such that no two groups
    read a common signal, each group as small as that allows, in rulebook order."""
    chosen = list(range(len(rulebook.rules))) if rules is None else sorted(rules)
    owner: dict[str, int] = {}  # signal -> the first rule read it (union-find over rules)
    parent = {i: i for i in chosen}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in chosen:
        for name in cond.names(rulebook.rules[i].condition):
            if name in owner:
                parent[root(i)] = root(owner[name])
            else:
                owner[name] = i
    groups: dict[int, list[int]] = {}
    for i in chosen:
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


class MemoMatcher:
    """A matcher that asks the matcher it wraps only about a case it has not seen.

    Which rules of a group fire is remembered per group, on the group's key; the wrapped
    matcher runs on an item only when one of its groups meets a case not seen before (a batch
    of thousands of items, the what-if search, lint and the audit repeat cases all the time).
    Tiers are passed through: the classifier keeps the tier per line key, which also skips
    the matching.
    """

    def __init__(self, matcher: Matcher, rules: Iterable[int] | None = None):
        self.inner = matcher
        self.name = matcher.name
        self.rulebook = rulebook = matcher.rulebook
        # Per group: its rules, its key, and its cache: key -> the group's rules that fire
        # (a tuple, ascending). Sound because
        # - a rule's answer depends only on the signals its condition reads, and for an int only
        #   on the interval between the constants it is compared with (see keyer): items with
        #   the same key fire the same rules of the group;
        # - the groups share no signal, so a group's answer does not depend on the others'
        #   signals, and the fired rules of an item are the union of its groups' answers;
        # - the wrapped matcher is a pure function of the signals (the Matcher protocol).
        # The rulebook is immutable and the memo is built for it, so nothing goes stale.
        # ``rules``: only these rules are asked about (the alpha tables answer the others)
        self._groups: list[tuple[list[int], Callable[[Mapping[str, Any]], Any], ByteCache]] = [
            (members, keyer(rulebook, [rulebook.rules[i].condition for i in members]), ByteCache())
            for members in independent_groups(rulebook, rules)
        ]

    def fired(self, signals: Mapping[str, Any]) -> Sequence[int]:
        groups = self._groups
        keys = [key(signals) for _, key, _ in groups]
        known = [memo.data.get(k) for (_, _, memo), k in zip(groups, keys)]
        if None not in known:
            return sorted(i for part in known for i in part) if len(known) > 1 else known[0]
        did = set(self.inner.fired(signals))
        fired = []
        for (members, _, memo), k, part in zip(groups, keys, known):
            if part is None:
                part = tuple(i for i in members if i in did)
                memo.put(k, part, 8 * len(part))
            fired.extend(part)
        return sorted(fired)

    def tier(self, values: Mapping[str, Any]) -> int:
        return self.inner.tier(values)

    def clear(self) -> None:
        """Forget every case (the answers are the same afterwards, only slower at first)."""
        for _, _, memo in self._groups:
            memo.clear()

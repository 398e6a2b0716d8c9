"""A decision's JSON, byte for byte what ``Decision.model_dump_json()`` gives, without the model.

Writing a batch as JSON Lines is most of the work of ``classify``. A decision's text after its
item and title is put together from four pieces, each kept in a bounded cache
(:class:`~launchtier.engine.match.memo.ByteCache`) under the smallest key it depends on:

- the scores and the fired rules: per set of fired rules (the alpha tables' mask);
- the tier with its reasons and the artifacts: per (scores, the interval class of each signal
  that a tier or artifact condition reads). The reasons show each signal's actual value, which
  the class does not fix: they are kept as a *template*, the JSON with a hole where a signal's
  value goes, filled per item (``"actual":734`` costs a ``str(int)``, not a new explanation);
- the rulebook reference, one for the classifier.

So a rulebook whose items rarely repeat (an int read by a tier, many thresholds) still builds
an explanation once per case, not once per item; a cache that does not pay stops storing (see
``ByteCache.review``). The tests compare every byte with pydantic's own output, on random
rulebooks too.
"""

from __future__ import annotations

import json
import re
import weakref
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..match.memo import ByteCache
from ..rulebook import conditions as cond
from ..rulebook.model import BoolSignal, EnumSignal, IntSignal
from .explain import Explained

if TYPE_CHECKING:
    from .classify import Classifier

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_string = json.encoder.encode_basestring  # what _encode does with a str, without its checks

# the encoder looks at its caches every REVIEW items (ByteCache.review)
REVIEW = 4096
# a template's hole: a signal's name between NUL characters, which no value of a signal holds
_HOLE = re.compile(rb'"\\u0000([^"\\]+)\\u0000"')


def head(key: str, title: str) -> bytes:
    """The start of a decision's JSON: its item and title."""
    return ('{"item":' + _string(key) + ',"title":' + _string(title)).encode()


def scores_and_fired(scores: Mapping[str, int], fired_json: list[str], fired: list[int]) -> bytes:
    """The JSON of a decision's scores and fired rules (each rule's JSON given)."""
    return (',"scores":' + _encode(scores) + ',"fired":[' + ",".join([fired_json[i] for i in fired]) + "]").encode()


class Template:
    """A piece of JSON with holes where signal values go: ``fill(signals)`` gives the bytes."""

    __slots__ = ("pieces", "holes")

    def __init__(self, text: bytes, encoders: Mapping[str, Callable[[Any], bytes]]):
        parts = _HOLE.split(text)
        self.pieces = parts[0::2]
        self.holes = [(name.decode(), encoders[name.decode()]) for name in parts[1::2]]

    def fill(self, signals: Mapping[str, Any]) -> bytes:
        pieces = self.pieces
        out = [pieces[0]]
        for (name, encode), after in zip(self.holes, pieces[1:]):
            out.append(encode(signals[name]))
            out.append(after)
        return b"".join(out)


def value_encoders(classifier: Classifier) -> dict[str, Callable[[Any], bytes]]:
    """Per signal, its value as pydantic writes it in JSON."""
    out: dict[str, Callable[[Any], bytes]] = {}
    for name, sig in classifier.rulebook.signals.items():
        if isinstance(sig, EnumSignal):
            out[name] = {v: _encode(v).encode() for v in sig.values}.__getitem__
        elif isinstance(sig, BoolSignal):
            out[name] = (b"false", b"true").__getitem__
        else:
            out[name] = lambda v: str(v).encode()
    return out


class Encoder:
    """The JSON of the decisions of one classifier."""

    def __init__(self, classifier: Classifier, *, memo: bool = True):
        # weak: the classifier owns its encoder, and a cycle would keep a dropped classifier and
        # all its caches alive until the cyclic collector runs
        self._classifier = weakref.proxy(classifier)
        self._matched = classifier.scorer.matched
        self._tier_key = classifier.tier_key
        self._artifact_key = classifier.explainer.artifact_key
        book = classifier.rulebook
        self._book_tiers = book.tiers
        self._fired_json = classifier.fired_json
        self._rulebook_tail = (',"rulebook":' + classifier.ref.model_dump_json() + "}").encode()
        self._tier_index = MappingProxyType(book.tier_index)
        self._tops = [f',"tier":{_encode(t.id)},"label":{_encode(t.label)},"kind":{_encode(t.kind)}'.encode()
                      for t in book.tiers]
        self._values = MappingProxyType(value_encoders(classifier))
        # where a template's holes are: the int signals that tier conditions read, shown by
        # value (an enum's or bool's value is its own class)
        self._placeholders = MappingProxyType({n: f"\0{n}\0" for n in classifier.explainer.tier_signals
                                               if isinstance(book.signals[n], IntSignal)})
        # The tier and its reasons (a template), keyed on (the scores, the interval classes of
        # the signals tier conditions read). Sound: the tier and every check of a tier condition
        # read only scores and those signals, and hold alike within a class; the checks show
        # the ints' values, which the template leaves as holes.
        self._rests: ByteCache | None = ByteCache() if memo else None
        # The artifacts' JSON, keyed on (the tier, Explainer.artifact_key). Sound: an artifact
        # is chosen by its tiers and its condition, which reads only what that key covers.
        self._artifact_lists: ByteCache | None = ByteCache() if memo else None
        # Each artifact's JSON, by id() of the explainer's ArtifactRef (made once, alive as long
        # as the explainer): a table built here, not a cache
        self._artifact_texts = MappingProxyType({id(ref): ref.model_dump_json() for ref in classifier.explainer.artifact_refs})
        self._count = 0

    # ---- the decision's JSON -----------------------------------------------------------------
    def decide_json(self, key: str, title: str, signals: Mapping[str, Any]) -> bytes:
        """``decide_signals(...).model_dump_json()`` as UTF-8 bytes, without building the
        decision: the item's pieces from the caches, a template's holes filled."""
        start = ('{"item":' + _string(key) + ',"title":' + _string(title)).encode()  # head(), inline: it runs per item
        if self._rests is None:
            return b"".join((start, *self._plain_tail(signals)[0]))
        matched, rest, artifacts = self._case(signals)
        reasons = rest[2]
        if reasons.__class__ is not bytes:
            reasons = reasons.fill(signals)
        return b"".join((start, rest[1], matched[3], reasons, artifacts, self._rulebook_tail))

    def decide_json_tier(self, key: str, title: str, signals: Mapping[str, Any]) -> tuple[bytes, int]:
        """:meth:`decide_json` and the index of the decision's tier (what ``record`` stores
        beside it), from the same pieces."""
        if self._rests is None:
            tail, chosen = self._plain_tail(signals)
            return b"".join((head(key, title), *tail)), chosen
        matched, rest, artifacts = self._case(signals)
        reasons = rest[2]
        if reasons.__class__ is not bytes:
            reasons = reasons.fill(signals)
        return b"".join((head(key, title), rest[1], matched[3], reasons, artifacts, self._rulebook_tail)), rest[0]

    def _case(self, signals: Mapping[str, Any]) -> tuple[tuple, tuple, bytes]:
        """The item's matched rules, its tier with the reasons (:meth:`_rest`) and its
        artifacts, from the caches."""
        matched = self._matched(signals)
        rest_key = (matched[4], self._tier_key(signals))
        rest = self._rests.data.get(rest_key)
        if rest is None:
            rest = self._rest(rest_key, signals, matched)
        art_key = (rest[0], self._artifact_key(signals, matched[1]))
        artifacts = self._artifact_lists.data.get(art_key)
        if artifacts is None:
            artifacts = self._artifacts(art_key, signals, matched)
        self._count += 1
        if self._count >= REVIEW:
            self._review()
        return matched, rest, artifacts

    def decide_text(self, key: str, title: str, signals: Mapping[str, Any]) -> tuple[str, str, int]:
        """:meth:`decide_json` as text; the same text as JSON writes it inside a string
        (``json.encoder.encode_basestring`` without its quotes: what the ledger's entry hash
        covers); and the index of the decision's tier."""
        whole, chosen = self.decide_json_tier(key, title, signals)
        text = whole.decode()
        return text, _string(text)[1:-1], chosen

    def moved_json(self, key: str, title: str, signals: Mapping[str, Any], tier_id: str, reason: str) -> bytes:
        """``moved_signals(...).model_dump_json()`` as UTF-8 bytes: the decision of the tier it
        lands in (its reasons and artifacts, from the caches as any decision's), and the
        capacity note naming the tier its rules gave."""
        if self._rests is None:
            c = self._classifier
            return c.moved_signals(signals, c.decide_signals(key, title, signals), tier_id, reason).model_dump_json().encode()
        matched, rest, _ = self._case(signals)
        landing = self._tier_index[tier_id]
        rest_key = (matched[4], self._tier_key(signals), landing)
        moved = self._rests.data.get(rest_key) or self._rest(rest_key, signals, matched, landing)
        art_key = (landing, self._artifact_key(signals, matched[1]))
        artifacts = self._artifact_lists.data.get(art_key) or self._artifacts(art_key, signals, matched)
        reasons = moved[2]
        if reasons.__class__ is not bytes:
            reasons = reasons.fill(signals)
        note = (',"capacity":{"computed_tier":' + _encode(self._book_tiers[rest[0]].id) + ',"reason":' + _string(reason)
                + "}}").encode()
        return b"".join((head(key, title), moved[1], matched[3], reasons, artifacts, self._rulebook_tail[:-1], note))

    # ---- the pieces ------------------------------------------------------------------------------
    def _rest(self, rest_key: tuple, signals: Mapping[str, Any], matched: tuple, chosen: int | None = None) -> tuple:
        """(tier, its JSON, the reasons' template or bytes) of a case: of the tier its scores
        select, or of tier ``chosen`` (where capacity moved it)."""
        c = self._classifier
        values = {**signals, **matched[1]}
        if chosen is None:
            chosen = c.explainer.tier_of(values)
        text = c.explainer.explained_json(values, chosen, {**values, **self._placeholders}).encode()
        template = Template(text, self._values)
        rest = (chosen, self._tops[chosen], text if not template.holes else template)
        self._rests.put(rest_key, rest, len(text))
        return rest

    def _artifacts(self, art_key: tuple, signals: Mapping[str, Any], matched: tuple) -> bytes:
        """The JSON of an item's artifacts (its tier is the key's first part)."""
        texts = self._artifact_texts
        refs = self._classifier.explainer.artifacts_of(art_key[0], {**signals, **matched[1]})
        encoded = (',"artifacts":[' + ",".join([texts[id(ref)] for ref in refs]) + "]").encode()
        self._artifact_lists.put(art_key, encoded, len(encoded))
        return encoded

    def _plain_tail(self, signals: Mapping[str, Any]) -> tuple[tuple[bytes, ...], int]:
        """The rest of a decision's JSON as pieces, and the index of the tier, built from the
        decision's parts with no cache (the plain path, memo=False)."""
        fired, scores, explained, artifacts = self._classifier.parts(signals)
        chosen, reason, higher = explained
        return (
            self._tops[chosen],
            scores_and_fired(scores, self._fired_json, fired),
            (',"tier_reason":' + reason.model_dump_json() + ',"higher_tiers":['
             + ",".join([h.model_dump_json() for h in higher]) + "]").encode(),
            (',"artifacts":[' + ",".join([a.model_dump_json() for a in artifacts]) + "]").encode(),
            self._rulebook_tail,
        ), chosen

    def _review(self) -> None:
        """Every REVIEW items: each cache looked up once per item says whether it pays."""
        self._count, lookups = 0, self._count
        self._rests.review(lookups)
        self._artifact_lists.review(lookups)
        self._classifier.review(lookups)

    def clear(self) -> None:
        for cache in (self._rests, self._artifact_lists):
            if cache is not None:
                cache.clear()

"""A decision's JSON, byte for byte what ``Decision.model_dump_json()`` gives, without the model.

Writing a batch as JSON Lines is most of the work of ``classify``; the text of a decision after
its item and title is kept per line key, as a tuple of encoded pieces that decisions with the
same part share (a tail costs a tuple, not kilobytes of text). The tests compare every byte
with pydantic's own output.
"""

from __future__ import annotations

import json
import weakref
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..match.memo import remember
from .explain import Explained

if TYPE_CHECKING:
    from .classify import Classifier

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_string = json.encoder.encode_basestring  # what _encode does with a str, without its checks


def head(key: str, title: str) -> bytes:
    """The start of a decision's JSON: its item and title."""
    return ('{"item":' + _string(key) + ',"title":' + _string(title)).encode()


class Encoder:
    """The JSON of the decisions of one classifier.

    ``tiers`` is the classifier's tier per line key, filled here as a by-product (the audit
    asks for the tier right after the JSON)."""

    def __init__(self, classifier: Classifier, tiers: dict[Any, int] | None, *, memo: bool = True, by_line: bool = True):
        # weak: the classifier owns its encoder, and a cycle would keep a dropped classifier and
        # all its caches alive until the cyclic collector runs
        self._classifier = weakref.proxy(classifier)
        self._line_key = classifier.line_key
        self._tiers = tiers
        self._fired_models = classifier.fired_models
        self._book_tiers = classifier.rulebook.tiers
        self._rulebook_tail = (',"rulebook":' + classifier.ref.model_dump_json() + "}").encode()
        # A decision's JSON after its item and title, keyed on its line key. Sound: the line
        # key is the interval class of every signal that a rule, tier or artifact condition
        # reads, and the exact value of those a tier condition reads (its explanation shows
        # them); the fired rules, the scores, the tier, its explanation and the artifacts are
        # functions of exactly that, and the rulebook is the classifier's own.
        self._tails: dict[Any, tuple[bytes, ...]] | None = {} if by_line else None
        # A decision that capacity moved: its JSON after the item and title, keyed on (line
        # key, the tier it lands in, the reason). Sound for the same reason, the landing tier's
        # explanation and artifacts reading only what the line key covers.
        self._moved_tails: dict[Any, bytes] | None = {} if by_line else None
        # A part shared between decisions (the fired rules, the explanation, the artifacts),
        # encoded: id(part) -> (part, its encoding). Sound: the entry holds the part, so while
        # the entry exists no other object can have that id; the parts come from the
        # pipeline's caches and are never changed. With memoisation off the parts are built
        # afresh for every item, so this cache is bypassed rather than filled with them.
        self._pieces: dict[int, tuple[Any, Any]] | None = {} if memo else None
        # A model shared between decisions (a fired rule, a tier reason, a higher tier, an
        # artifact), as JSON: id(model) -> (model, its JSON). Sound for the same reason: the
        # entry holds the model, and shared models are frozen (pydantic, never changed).
        self._fragments: dict[int, tuple[Any, str]] | None = {} if memo else None
        # A piece of a decision's JSON (bytes shared between decisions: see _tail) as text and
        # as escaped text (decide_text): id(piece) -> (piece, text, escaped). Sound for the same
        # reason; only with the tails cache, which keeps the pieces shared.
        self._texts: dict[int, tuple[bytes, str, str]] | None = {} if (memo and by_line) else None

    def decide_json(self, key: str, title: str, signals: Mapping[str, Any]) -> bytes:
        """``decide_signals(...).model_dump_json()`` as UTF-8 bytes, without building the
        decision. On a line key not seen before the text is put together from pieces encoded
        once per shared part (the explanation, the fired rules with their scores, the artifacts)."""
        start = ('{"item":' + _string(key) + ',"title":' + _string(title)).encode()  # head(), inline: it runs per item
        tails = self._tails
        if tails is None:
            return b"".join((start, *self._tail(signals)[0]))
        line_key = self._line_key(signals)
        tail = tails.get(line_key)
        if tail is None:
            tail, chosen = self._tail(signals)
            remember(tails, line_key, tail)
            remember(self._tiers, line_key, chosen)  # the tier comes with it (the audit asks next)
        return b"".join((start, *tail))

    def decide_json_tier(self, key: str, title: str, signals: Mapping[str, Any]) -> tuple[bytes, int]:
        """:meth:`decide_json` and the index of the decision's tier (what ``record`` stores
        beside it), from the same lookup."""
        start = head(key, title)
        tails = self._tails
        if tails is None:
            tail, chosen = self._tail(signals)
            return b"".join((start, *tail)), chosen
        line_key = self._line_key(signals)
        tail = tails.get(line_key)
        tiers = self._tiers
        chosen = tiers.get(line_key) if tiers is not None else None
        if tail is None or chosen is None:
            tail, chosen = self._tail(signals)
            remember(tails, line_key, tail)
            if tiers is not None:
                remember(tiers, line_key, chosen)
        return b"".join((start, *tail)), chosen

    def decide_text(self, key: str, title: str, signals: Mapping[str, Any]) -> tuple[str, str, int]:
        """:meth:`decide_json` as text; the same text as JSON writes it inside a string
        (``json.encoder.encode_basestring`` without its quotes: what the ledger's entry hash
        covers); and the index of the decision's tier. Escaping is per character, so the
        escaped text is put together from the pieces of the decision, each decoded and escaped
        once (a decision's 2-4 KB are not escaped again for every entry)."""
        start = '{"item":' + _string(key) + ',"title":' + _string(title)
        whole, chosen = self.decide_json_tier(key, title, signals) if self._texts is None else (None, 0)
        if whole is not None:  # no caches: every piece is new
            text = whole.decode()
            return text, _string(text)[1:-1], chosen
        line_key = self._line_key(signals)
        tail = self._tails.get(line_key)
        tiers = self._tiers
        chosen = tiers.get(line_key) if tiers is not None else None
        if tail is None or chosen is None:
            tail, chosen = self._tail(signals)
            remember(self._tails, line_key, tail)
            if tiers is not None:
                remember(tiers, line_key, chosen)
        texts, escaped = [start], [_string(start)[1:-1]]
        known_texts = self._texts
        for piece in tail:
            # id-keyed, sound as the other id caches: the entry holds the piece
            known = known_texts.get(id(piece))
            if known is None or known[0] is not piece:
                text = piece.decode()
                known = (piece, text, _string(text)[1:-1])
                remember(known_texts, id(piece), known)
            texts.append(known[1])
            escaped.append(known[2])
        return "".join(texts), "".join(escaped), chosen

    def moved_json(self, key: str, title: str, signals: Mapping[str, Any], tier_id: str, reason: str) -> bytes:
        """``moved_signals(...).model_dump_json()`` as UTF-8 bytes (a quarter's overflow shares
        one reason, so its tails repeat)."""
        start = head(key, title)
        cache = self._moved_tails
        line = (self._line_key(signals), tier_id, reason) if cache is not None else None
        tail = cache.get(line) if cache is not None else None
        if tail is None:
            c = self._classifier
            decision = c.moved_signals(signals, c.decide_signals(key, title, signals), tier_id, reason)
            whole = decision.model_dump_json().encode()
            tail = whole[len(start):]
            if cache is not None:
                remember(cache, line, tail)
        return start + tail

    def _tail(self, signals: Mapping[str, Any]) -> tuple[tuple[bytes, ...], int]:
        """The rest of a decision's JSON as encoded pieces, and the index of the tier."""
        fired, scores, explained, artifacts = self._classifier.parts(signals)
        top, reasons = self._piece(explained, self._explained_json)
        return (
            top,
            self._piece(fired, lambda f: (',"scores":' + _encode(scores) + ',"fired":['
                                          + ",".join(self._fragment(self._fired_models[i]) for i in f) + "]").encode()),
            reasons,
            self._piece(artifacts, lambda a: (',"artifacts":[' + ",".join(self._fragment(x) for x in a) + "]").encode()),
            self._rulebook_tail,
        ), explained[0]

    def _piece(self, part: Any, build: Callable[[Any], Any]) -> Any:
        pieces = self._pieces
        if pieces is None:
            return build(part)
        known = pieces.get(id(part))
        if known is None or known[0] is not part:
            known = (part, build(part))
            remember(pieces, id(part), known)
        return known[1]

    def _explained_json(self, explained: Explained) -> tuple[bytes, bytes]:
        chosen, reason, higher = explained
        tier = self._book_tiers[chosen]
        top = f',"tier":{_encode(tier.id)},"label":{_encode(tier.label)},"kind":{_encode(tier.kind)}'
        reasons = (f',"tier_reason":{self._fragment(reason)},"higher_tiers":['
                   + ",".join(self._fragment(h) for h in higher) + "]")
        return top.encode(), reasons.encode()

    def _fragment(self, model: Any) -> str:
        fragments = self._fragments
        if fragments is None:
            return model.model_dump_json()
        known = fragments.get(id(model))
        if known is None or known[0] is not model:
            known = (model, model.model_dump_json())
            remember(fragments, id(model), known)
        return known[1]

    def clear(self) -> None:
        for cache in (self._tails, self._moved_tails, self._pieces, self._fragments, self._texts):
            if cache is not None:
                cache.clear()

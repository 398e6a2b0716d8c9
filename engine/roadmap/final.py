"""An item's final decision under a roadmap's plan, by the fastest path that gives it: what
capacity and overrides leave alone is the rules' decision, encoded straight to JSON."""

from __future__ import annotations

from typing import Any


def final(classifier: Any, plan: Any, as_json: bool, key: str, title: str, signals: Any) -> Any:
    """An item's final decision (its JSON with ``as_json``) under a roadmap ``plan`` (none: the
    rules' decision): what capacity and overrides leave alone takes the fast path."""
    if plan is None or not plan.changes(key):
        return classifier.decide_json(key, title, signals) if as_json else classifier.decide_signals(key, title, signals)
    if as_json and key not in plan.overrides:  # moved by capacity only: a quarter's overflow, often many
        move = plan.moves[key]
        return classifier.moved_json(key, title, signals, move.tier, move.reason)
    decision = plan.finish_signals(classifier, signals, classifier.decide_signals(key, title, signals))
    return decision.model_dump_json().encode() if as_json else decision

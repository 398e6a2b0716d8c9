"""Everything durable-rules, fenced: the rest of the engine never imports durable.

The landmines of durable-rules 2.0.28 (reproduced on this machine, see the project notes) and
how each is made unreachable here:

- a rule reading ``id`` or ``sid`` hangs the process: the loader refuses those names; the item's
  key is never part of the fact.
- ``post()`` fires only the first matching rule: facts are asserted (``assert_fact``).
- a fact that matches no rule raises, and ``delete_state`` on such a session segfaults: every
  ruleset has a sentinel rule on ``_item`` (always present), so every fact is handled and its
  session always exists when it is deleted.
- more than 1,024 live sessions raise ``MemoryError``: one session, deleted after every item.
- many facts in one session collide on their content hash: one fact per session, with an
  explicit ``id``.
- several ``Host`` objects, or a ruleset name used twice, segfault; creating rulesets leaks:
  no ``Host`` at all (the C module is driven directly, which is also several times faster: benchmarks/bench.py), and
  one ruleset per rulebook hash per process, cached under a name made from the hash.
- ``any`` across two aliases misfires: "any" is ``$or`` inside one ``m`` expression.
- actions that raise are swallowed, background timer threads call in concurrently: there are
  no actions and no Host, so no threads; a lock serialises calls into the C engine.
- matching a fact walks the network with a stack of 64 nodes (error 303 past it), a node with
  512 branches below it loops forever (a full hash table), and compiling takes time and memory
  in proportion to the comparisons: ``limits`` refuses, at load, a rulebook past
  ``MAX_BRANCHES`` or ``MAX_COMPARISONS``, and any error of the C module is one line.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, Mapping

from ..rulebook import conditions as cond
from ..errors import EngineUnavailable, LaunchtierError
from ..rulebook.model import Rulebook

SENTINEL = "_sentinel"
SESSION = "1"
ALWAYS = {"$ex": {"_item": 1}}
# `$nex` is broken in 2.0.28 (it matches facts that have the field); `_item` is always 1.
NEVER = {"_item": 0}
# durable-rules refuses a fact of more than 254 fields; the adapter adds _item, id and sid.
MAX_SIGNALS = 254 - 3
# Matching walks durable-rules' network depth-first with a stack of 64 nodes, so a fact fails
# (error 303) when more than 64 matching nodes wait on it. Each waiting node leads to its own
# branch (a conjunction once "any" and "in" are multiplied out), so the branches of all rules
# bound it; the sentinel takes one. Measured: 63 one-comparison rules all holding work, 64
# fail, and 31 rules of two alternatives work, 32 fail. Refusing at 64 branches also keeps
# every node well under the 512 branches below it that make durable-rules loop forever.
MAX_BRANCHES = 64 - 1
# Compiling takes time and memory in proportion to the comparisons in all branches: tens of
# thousands take seconds and hundreds of megabytes; this bound keeps it well under a second.
MAX_COMPARISONS = 10_000

_lock = threading.Lock()
# The compiled ruleset of each rulebook, for the life of the process: rulebook hash -> the C
# module's handle. Sound: the hash covers the rulebook's whole content, so one hash is one
# ruleset. It is not a memo: creating a ruleset twice under one name crashes durable-rules and
# every creation leaks, so ``Classifier(..., memo=False)`` does not bypass it.
_rulesets: dict[str, int] = {}


def _engine():
    """durable-rules' C module, loaded with lazy symbol binding.

    Its build on Python 3.13 refers to ``PyEval_CallObject``, which 3.13 removed from the C API,
    so loading it with the interpreter's default of binding every symbol at once fails
    ("undefined symbol"). The five functions this adapter calls (``create_ruleset``,
    ``assert_fact``, ``start_action_for_state``, ``complete_and_start_action``,
    ``delete_state``) never reach that symbol: only the callbacks of an external message store
    do (``set_store_message_callback`` and its kin), which nothing here registers. With lazy
    binding the symbol is looked up only if it is ever called. On 3.11 and 3.12 it changes
    nothing. The landmine and property tests run on every supported Python to keep this true.
    """
    module = sys.modules.get("durable_rules_engine")
    if module is not None:
        return module
    flags = sys.getdlopenflags()
    sys.setdlopenflags((flags & ~os.RTLD_NOW) | os.RTLD_LAZY)
    try:
        import durable_rules_engine
    except ImportError as e:
        raise EngineUnavailable(_unavailable(e)) from None
    finally:
        sys.setdlopenflags(flags)
    return durable_rules_engine


def _unavailable(error: ImportError) -> str:
    """One line: why durable-rules cannot be used here, and what to do instead."""
    if isinstance(error, ModuleNotFoundError) and error.name == "durable_rules_engine":
        return (
            "durable-rules is not installed; install it (pip install durable-rules==2.0.28, which "
            "builds from source with a C compiler) or use --engine reference"
        )
    detail = " ".join(str(error).split())
    if error.path and detail.startswith(f"{error.path}: "):
        detail = detail[len(error.path) + 2 :]  # the file is durable-rules' own, the symbol tells
    python = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    return f"durable-rules cannot be loaded on {python} ({detail}); use --engine reference (the same decisions, in pure Python)"


def expression(c: cond.Condition) -> dict:
    """A condition (negation already pushed down) as one durable-rules ``m`` expression."""
    if isinstance(c, cond.Compare):
        return _compare(c)
    if isinstance(c, cond.Not):  # pragma: no cover - callers push negation down first
        return expression(cond.push_not(c))
    parts = [expression(p) for p in c.parts]
    if not parts:
        # An empty "all" always holds; an empty "any" never does. The loader refuses an empty
        # "any", but pushing negation down makes one of `not: {}` (an empty "all").
        return ALWAYS if isinstance(c, cond.All) else NEVER
    if len(parts) == 1:
        return parts[0]
    return {"$and" if isinstance(c, cond.All) else "$or": parts}


def _compare(c: cond.Compare) -> dict:
    if c.op == "eq":
        return {c.name: c.value}
    if c.op == "ne":
        return {"$neq": {c.name: c.value}}
    if c.op in ("lt", "lte", "gt", "gte"):
        return {f"${c.op}": {c.name: c.value}}
    if c.op == "in":
        alternatives = [{c.name: v} for v in c.value]
        return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}
    if c.op == "not_in":
        excluded = [{"$neq": {c.name: v}} for v in c.value]
        return excluded[0] if len(excluded) == 1 else {"$and": excluded}
    raise ValueError(f"unknown operator {c.op}")  # pragma: no cover - the loader refuses it


def compile_rulebook(rulebook: Rulebook) -> dict:
    """The durable-rules ruleset (JSON form) of a rulebook's scoring rules, plus the sentinel."""
    ruleset = {
        f"r{i}": {"all": [{"m": expression(cond.push_not(rule.condition))}]}
        for i, rule in enumerate(rulebook.rules)
    }
    ruleset[SENTINEL] = {"all": [{"m": ALWAYS}]}
    return ruleset


def _shape(expr: dict) -> tuple[int, int]:
    """(branches, comparisons) of a compiled expression, with "$or" multiplied out."""
    key, value = next(iter(expr.items()))
    if key == "$and":
        branches, comparisons = 1, 0
        for part in value:
            b, c = _shape(part)
            comparisons = comparisons * b + c * branches
            branches *= b
        return branches, comparisons
    if key == "$or":
        shapes = [_shape(part) for part in value]
        return sum(b for b, _ in shapes), sum(c for _, c in shapes)
    return 1, 1


def limits(rulebook: Rulebook) -> str | None:
    """Why durable-rules cannot match this rulebook (one line), or None if it can."""
    branches = comparisons = 0
    for rule in rulebook.rules:
        b, c = _shape(expression(cond.push_not(rule.condition)))
        branches += b
        comparisons += c
    if len(rulebook.signals) > MAX_SIGNALS:
        return f"it has {len(rulebook.signals)} signals (its limit: {MAX_SIGNALS})"
    if branches > MAX_BRANCHES:
        return (f"its rules have {branches:,} branches, and durable-rules fails when more than {MAX_BRANCHES} "
                "hold at once for one item (a rule counts once per alternative of its any and in)")
    if comparisons > MAX_COMPARISONS:
        return f"its rules make {comparisons:,} comparisons (its limit: {MAX_COMPARISONS:,})"
    return None


def ruleset_name(rulebook: Rulebook) -> str:
    return "launchtier_" + rulebook.hash.split(":", 1)[1][:32]


def _ruleset(rulebook: Rulebook) -> int:
    handle = _rulesets.get(rulebook.hash)
    if handle is None:
        engine = _engine()
        with _lock:
            handle = _rulesets.get(rulebook.hash)
            if handle is None:
                text = json.dumps(compile_rulebook(rulebook), ensure_ascii=False)
                try:
                    handle = engine.create_ruleset(ruleset_name(rulebook), text)
                except Exception as e:
                    # e.g. error 113: more than 15 nested all/any/in groups in one rule
                    raise EngineUnavailable(
                        f"durable-rules cannot compile rulebook {rulebook.name} ({e}); "
                        "simplify its most nested rule conditions or use --engine reference"
                    ) from None
                _rulesets[rulebook.hash] = handle
    return handle


class DurableError(LaunchtierError):
    """durable-rules answered in a way the adapter's fences should make impossible."""


class DurableMatcher:
    """A :class:`~launchtier.engine.match.Matcher`: which scoring rules fire, by durable-rules;
    tiers are a separate step over the scores, in Python."""

    name = "durable"

    def __init__(self, rulebook: Rulebook):
        if len(rulebook.signals) > MAX_SIGNALS:
            raise EngineUnavailable(
                f"durable-rules takes at most {MAX_SIGNALS} signals, rulebook {rulebook.name} has "
                f"{len(rulebook.signals)}; use --engine reference"
            )
        beyond = limits(rulebook)
        if beyond:
            raise EngineUnavailable(f"durable-rules cannot match rulebook {rulebook.name}: {beyond}; use --engine reference")
        self.rulebook = rulebook
        self._engine = _engine()
        self._handle = _ruleset(rulebook)
        self._index = {f"r{i}": i for i in range(len(rulebook.rules))}
        self._tiers = [t.condition for t in rulebook.tiers]
        # Signal names and enum values are plain identifiers (the loader's patterns), so the
        # fact's JSON can be written directly, which is faster than json.dumps of a copy.
        self._fact_fields = [(name, f'"{name}":') for name in rulebook.signals]

    def fact(self, signals: Mapping[str, Any]) -> str:
        """The fact for one item: its signals, the always-present sentinel field and an explicit
        id, in the one session (never the item's key, so no rule can read `id`)."""
        out = []
        for name, prefix in self._fact_fields:
            v = signals[name]
            out.append(prefix + ("true" if v is True else "false" if v is False
                                 else '"' + v + '"' if v.__class__ is str else str(int(v))))
        return "{" + ",".join(out) + f',"_item":1,"id":"item","sid":"{SESSION}"}}'

    def fired(self, signals: Mapping[str, Any]) -> list[int]:
        text = self.fact(signals)
        engine, handle, index = self._engine, self._handle, self._index
        fired: list[int] = []
        with _lock:
            try:
                status, state = engine.assert_fact(handle, text)
            except Exception as e:
                # no session to delete: deleting one that does not exist segfaults
                raise self._failed(e) from None
            if status != 0:
                # 1 (not handled) cannot happen with the sentinel; deleting would segfault.
                raise DurableError(f"durable-rules refused the fact (status {status})")
            try:
                result = engine.start_action_for_state(handle, state)
                while result:
                    message = result[1] if isinstance(result, tuple) else result
                    # The message is '{"RULE":{"m":{...the fact...}}}'; reading the rule name off
                    # the front is several times faster than parsing the fact back.
                    if message.startswith('{"'):
                        names: Any = (message[2 : message.index('"', 2)],)
                    else:  # pragma: no cover - a format durable-rules 2.0.28 never produces
                        names = json.loads(message)
                    for name in names:
                        i = index.get(name)
                        # an `$or` fires its rule once per branch that holds: count it once
                        if i is not None and i not in fired:
                            fired.append(i)
                    result = engine.complete_and_start_action(handle, state)
            except Exception as e:
                raise self._failed(e) from None
            finally:
                try:
                    engine.delete_state(handle, SESSION)
                except Exception as e:
                    raise self._failed(e) from None
        fired.sort()
        return fired

    def _failed(self, error: Exception) -> "DurableError":
        detail = " ".join(str(error).split()) or type(error).__name__
        return DurableError(f"durable-rules failed on an item of rulebook {self.rulebook.name} ({detail}); "
                            "use --engine reference")

    def tier(self, values: Mapping[str, Any]) -> int:
        return cond.first_holding(self._tiers, values)

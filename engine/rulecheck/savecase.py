"""A what-if of ``explain`` kept as a rule-test case: the item's signals with the changes, and
what the rules now decide, appended to a case file that ``rules test`` reads.

The case is appended as text, so the file keeps its comments, its layout and its other cases
as they were written; the text appended is checked by parsing the whole file again before
anything is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from ..decide.classify import Classifier
from ..errors import ItemError, Problem
from ..files.yamlio import EmptyFile, FileProblem, dump_yaml, line_of, parse_yaml, read_text
from ..items.model import ItemBase
from ..rulebook.conditions import literal
from ..rulebook.model import Rulebook


class SavedCase(NamedTuple):
    file: str
    name: str
    tier: str  # what the rules decide for it: the tier the case expects


def case_name(item: ItemBase, original: ItemBase | None) -> str:
    """What the case is: the item, and each signal the what-if changed with its value before."""
    head = f"{item.key} {item.title}"
    before = original.signal_values() if original is not None else {}
    changed = [f"{signal}={literal(value)} (was {literal(before[signal])})"
               for signal, value in item.signal_values().items() if signal in before and before[signal] != value]
    return f"{head}: what if {', '.join(changed)}" if changed else f"{head}, as given"


def save_case(book: Rulebook, path: str | Path, item: ItemBase, original: ItemBase | None = None, *,
              engine: str = "durable") -> SavedCase:
    """Append ``item`` (``original`` with a what-if's changes) to the case file at ``path``,
    created when absent, expecting what the rules decide for it: the tier and kind, the rules
    that fire and every score (as ``rules test`` decides: rules only, no capacity or override).
    A case of the same name already in the file is an error, and the file is left as it was."""
    case = rule_case(book, item, original, engine=engine)
    name = case["name"]
    path = Path(path)
    text, entries = _existing(path)
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == name:
            raise ItemError([Problem(f"a case named '{name}' is already there; rename or remove it to save this one",
                                     file=str(path), line=line_of(entry, "name"))])
    addition = _indented(dump_yaml([case]), _indent(text, entries))
    if text and not text.endswith("\n"):
        addition = "\n" + addition
    _check_appended(text + addition, path, len(entries), name)
    with open(path, "a", encoding="utf-8") as f:
        f.write(addition)
    return SavedCase(str(path), name, case["expect"]["tier"])


def rule_case(book: Rulebook, item: ItemBase, original: ItemBase | None = None, *, engine: str = "durable") -> dict[str, Any]:
    """The rule-test case of ``item`` (``original`` with a what-if's changes): its signals, and
    what the rules decide for it (the tier and kind, the rules that fire and every score, as
    ``rules test`` decides: rules only, no capacity or override)."""
    d = Classifier(book, engine).decide(item)
    return {"name": case_name(item, original),
            "item": {"key": item.key, "title": item.title, "signals": item.signal_values()},
            "expect": {"tier": d.tier, "kind": d.kind, "fired": [f.rule for f in d.fired], "scores": dict(d.scores)}}


def rule_case_file(book: Rulebook, item: ItemBase, original: ItemBase | None = None, *, engine: str = "durable") -> str:
    """A rule-test case file (YAML) holding the one case of :func:`rule_case`: what the meeting
    page gives to download, for ``rules test`` to read or to be pasted into a case file."""
    return dump_yaml([rule_case(book, item, original, engine=engine)])


def _existing(path: Path) -> tuple[str, list]:
    """The file's text and its cases (both empty for a file to start)."""
    if not path.exists():
        return "", []
    try:
        text = read_text(path)
    except EmptyFile:
        return path.read_text(encoding="utf-8"), []  # blank: its few bytes are kept
    except FileProblem as e:
        raise ItemError([e.problem]) from None
    try:
        raw = parse_yaml(text, str(path))
    except EmptyFile:  # only comments
        return text, []
    except FileProblem as e:
        raise ItemError([e.problem]) from None
    if isinstance(raw, dict) and "cases" in raw:
        raw = raw["cases"] or []
    elif isinstance(raw, dict):
        raise ItemError([Problem("holds one case; a case can be appended only to a list of cases "
                                 "(write it as '- name: ...')", file=str(path), line=line_of(raw))])
    if not isinstance(raw, list):
        raise ItemError([Problem("is not a rule-test case file (one case, a list of cases, or {cases: [...]})", file=str(path))])
    return text, raw


def _indent(text: str, entries: list) -> str:
    """The indentation of the file's cases: that of the first case's dash, else none for a list
    at the top and two spaces under a ``cases:`` key."""
    first = line_of(entries[0]) if entries and isinstance(entries[0], dict) else None
    if first is not None:
        found = re.match(r"( *)- ", text.splitlines()[first - 1])
        if found:
            return found.group(1)
    return "  " if re.search(r"^cases\s*:", text, re.M) else ""


def _indented(text: str, indent: str) -> str:
    return "".join(indent + line if line.strip() else line for line in text.splitlines(keepends=True))


def _check_appended(text: str, path: Path, before: int, name: str) -> None:
    """The file with the case appended must read as the same cases and then the new one: a flow
    list (``[...]``) or a file that does not end in its list of cases cannot be appended to as text."""
    try:
        raw = parse_yaml(text, str(path))
    except FileProblem:
        raw = None
    if isinstance(raw, dict) and "cases" in raw:
        raw = raw["cases"]
    if not (isinstance(raw, list) and len(raw) == before + 1 and isinstance(raw[-1], dict) and raw[-1].get("name") == name):
        raise ItemError([Problem("cannot append a case to it as text: its cases must be a block list at the end of the "
                                 "file ('- name: ...' lines), not a flow list ([...])", file=str(path))])

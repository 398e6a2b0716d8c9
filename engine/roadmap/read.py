"""A roadmap read from files: item files, roadmap-tool CSV exports through a mapping, and one
item picked out of a file (with what-if changes to its signals)."""

from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

from ..errors import ItemError, Problem, shown
from ..items.model import ItemBase, ItemReader
from ..rulebook.model import Rulebook


def is_mapped(file: str, mapping: str | None) -> bool:
    """Whether ``file`` is read through ``mapping``: with a mapping, every ``.csv`` file is a
    roadmap tool's export (an item file in CSV has the rulebook's own columns, and needs none)."""
    return bool(mapping) and file.lower().endswith(".csv")


def read_file(reader: ItemReader, file: str, mapping: str | None = None) -> list[ItemBase]:
    """The items of one file: an item file, or a CSV export through ``mapping``."""
    if is_mapped(file, mapping):
        from ..items.mapping import read_mapped

        return read_mapped(file, mapping, reader.rulebook)
    return reader.read(file)


def read_roadmap(book: Rulebook, files: Sequence[str], mapping: str | None = None) -> list[ItemBase]:
    """The items of item files and, with a ``mapping``, of roadmap-tool CSV exports; the
    problems of every file at once."""
    reader = ItemReader(book)
    return reader.read_many(files, read=lambda f: read_file(reader, f, mapping))


class Picked(NamedTuple):
    """One item of a file, and the roadmap it is decided with."""

    items: list[ItemBase]  # the file's items: the roadmap
    item: ItemBase  # the item, with the what-if changes
    original: ItemBase | None  # the item as the file has it, when there are changes


def pick_item(book: Rulebook, file: str, key: str | None = None, changes: Mapping[str, str] | None = None,
              mapping: str | None = None) -> Picked:
    """The item ``key`` of ``file`` (any key when the file holds one item), its signals
    changed by ``changes`` (values as typed: a what-if, validated); a CSV export is read
    through ``mapping``."""
    reader = ItemReader(book)
    items = read_file(reader, file, mapping)
    original = pick(items, key, file)
    if not changes:
        return Picked(items, original, None)
    return Picked(items, reader.with_signals(original, dict(changes)), original)


def pick(items: Sequence[ItemBase], key: str | None, file: str) -> ItemBase:
    """The item of ``items`` (read from ``file``) with ``key``; None: the only one."""
    if key is None:
        if len(items) == 1:
            return items[0]
        keys = ", ".join(i.key for i in items[:20]) + (" ..." if len(items) > 20 else "")
        raise ItemError([Problem(f"{shown(file)}: holds {len(items)} items; choose one with --item KEY (keys: {keys})")])
    for item in items:
        if item.key == key:
            return item
    from ..rulebook.conditions import suggest

    keys = [i.key for i in items]
    raise ItemError([Problem(f"{shown(file)}: no item with key '{key}'{suggest(key, keys)} (keys: {', '.join(keys[:20])})")])

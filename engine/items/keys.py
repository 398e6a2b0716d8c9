"""Keys unique across the files of one batch: what is kept of each key (a hash), and the
duplicates named with their files and lines."""

from __future__ import annotations

import bisect
import csv
import hashlib
import heapq
import io
from array import array
from typing import TYPE_CHECKING, Iterable, Iterator

from ..errors import Problem, shown
from ..files.yamlio import FileProblem, line_of, parse_yaml, read_text
from .lines import keys_of

if TYPE_CHECKING:
    from .model import ItemBase


def key_hash(key: str) -> int:
    """8 bytes standing for a key: what is kept of each key of a streamed file."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


class BatchKeys:
    """The keys of the files of one batch (one command's files), to refuse a key repeated
    across them. Of each file only its keys' hashes are kept, sorted (a streamed file's items are
    never all in memory); the keys, and their lines, are looked for again only when a hash is in
    two files. (A repeat within a file is the file's own problem, found as it is read.)"""

    def __init__(self) -> None:
        self._files: list[tuple[str, list[ItemBase] | None]] = []
        self._hashes: list[array | None] = []

    def add(self, path: str, items: list[ItemBase] | None = None, hashes: Iterable[int] | None = None) -> None:
        """A file read whole (its ``items``) or streamed (the ``hashes`` of its keys)."""
        self._files.append(("<stdin>" if path == "-" else str(path), items))
        self._hashes.append(None if hashes is None else array("q", sorted(hashes)))

    def problems(self) -> list[Problem]:
        """One problem per key found in a file after an earlier one, in file order."""
        if len(self._files) < 2:
            return []  # a single file's keys are hashed by no one
        repeated: set[int] = set()
        earlier = array("q")
        for (_, items), hashes in zip(self._files, self._hashes):
            if hashes is None:
                hashes = array("q", sorted(key_hash(i.key) for i in items or []))
            repeated.update(h for h in hashes if _sorted_has(earlier, h))
            earlier = array("q", heapq.merge(earlier, hashes))
        if not repeated:
            return []
        first: dict[str, tuple[str, int | None]] = {}
        problems = []
        for path, items in self._files:
            for key, line in _keys_among(path, items, repeated):
                if key not in first:
                    first[key] = (path, line)
                    continue
                where = shown(first[key][0]) + (f":{first[key][1]}" if first[key][1] else "")
                problems.append(Problem(f"duplicate key (also in {where}); keys are unique across the files of one batch",
                                        file=path, line=line, item=key, field="key"))
        return problems


def _sorted_has(hashes: array, h: int) -> bool:
    i = bisect.bisect_left(hashes, h)
    return i < len(hashes) and hashes[i] == h


def _keys_among(path: str, items: list[ItemBase] | None, hashes: set[int]) -> Iterator[tuple[str, int | None]]:
    """(key, line or None) of the items of a file whose key hashes to one of ``hashes``."""
    if items is not None and not path.lower().endswith((".jsonl", ".ndjson")):
        lines = key_lines(path) if path.lower().endswith((".yaml", ".yml", ".csv")) else {}
        for item in items:
            if key_hash(item.key) in hashes:
                yield item.key, lines.get(item.key)
        return
    # a streamed file: its lines are read again
    for number, key in keys_of(path):
        if key_hash(key) in hashes:
            yield key, number


def key_lines(path: str) -> dict[str, int]:
    """The line of each item's key in a YAML or CSV file read before (empty when it cannot be
    read again, as standard input)."""
    try:
        text = read_text(path)
        if path.lower().endswith(".csv"):
            reader = csv.DictReader(io.StringIO(text, newline=""))
            return {(row.get("key") or "").strip(): reader.line_num for row in reader}
        raw = parse_yaml(text, path)
    except (FileProblem, csv.Error):
        return {}
    entries = raw if isinstance(raw, list) else raw.get("items", [raw]) if isinstance(raw, dict) else []
    return {str(e["key"]): line_of(e, "key") for e in entries if isinstance(e, dict) and "key" in e}

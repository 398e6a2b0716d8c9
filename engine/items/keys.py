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


RUN = 65_536  # the hashes sorted at a time: one run's Python ints are all a sort holds


class KeyHashes:
    """The hashes of a file's keys in a bounded space however many there are: 8 bytes a key, as
    sorted runs of :data:`RUN` hashes (``array('q')``), merged when they are looked through in
    order. (Sorting them all at once would make a Python int of each, some 40 bytes a key.)"""

    def __init__(self, hashes: Iterable[int] = ()) -> None:
        self._runs: list[array] = []
        self._open = array("q")
        for h in hashes:
            self.append(h)

    def append(self, h: int) -> None:
        self._open.append(h)
        if len(self._open) >= RUN:
            self._close()

    def __len__(self) -> int:
        return sum(map(len, self._runs)) + len(self._open)

    def ordered(self) -> Iterator[int]:
        """Every hash, in order (a repeated one as often as it was added)."""
        self._close()
        return heapq.merge(*self._runs)

    def repeated(self) -> set[int]:
        """The hashes added more than once."""
        return _repeats(self.ordered())

    def _close(self) -> None:
        if self._open:
            self._runs.append(array("q", sorted(self._open)))
            self._open = array("q")


def _repeats(ordered: Iterable[int]) -> set[int]:
    """The values found more than once in ``ordered`` (sorted)."""
    twice: set[int] = set()
    previous = None
    for h in ordered:
        if h == previous:
            twice.add(h)
        previous = h
    return twice


class BatchKeys:
    """The keys of the files of one batch (one command's files), to refuse a key repeated
    across them. Of each file only its keys' hashes are kept, in sorted runs (a streamed file's
    items are never all in memory); the keys, and their lines, are looked for again only when a
    hash is in two files. (A repeat within a file is the file's own problem, found as it is read.)"""

    def __init__(self) -> None:
        self._files: list[tuple[str, list[ItemBase] | None]] = []
        self._hashes: list[KeyHashes | None] = []

    def add(self, path: str, items: list[ItemBase] | None = None, hashes: KeyHashes | None = None) -> None:
        """A file read whole (its ``items``) or streamed (the ``hashes`` of its keys)."""
        self._files.append(("<stdin>" if path == "-" else str(path), items))
        self._hashes.append(hashes)

    def problems(self) -> list[Problem]:
        """One problem per key found in a file after an earlier one, in file order."""
        if len(self._files) < 2:
            return []  # a single file's keys are hashed by no one
        repeated: set[int] = set()
        earlier = array("q")  # the hashes of the files before, in order
        for (_, items), hashes in zip(self._files, self._hashes):
            if hashes is None:
                hashes = KeyHashes(key_hash(i.key) for i in items or [])
            repeated.update(h for h in hashes.ordered() if _sorted_has(earlier, h))
            earlier = array("q", heapq.merge(earlier, hashes.ordered()))
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

"""JSON Lines files as lines: numbered, in byte ranges for workers, and their keys. Nothing
here knows items; :mod:`.stream` validates the lines as items."""

from __future__ import annotations

from typing import Iterator

from ..errors import ItemError, Problem
from ..files.yamlio import FileProblem, not_a_file, parse_json


def is_stream(path: str) -> bool:
    return path.lower().endswith((".jsonl", ".ndjson"))


def numbered_lines(path: str, start: int = 0, length: int | None = None, first: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines of a file, or of the byte range of it that
    starts at ``start`` (a line start) with line number ``first``."""
    refused = not_a_file(path)
    if refused is not None:
        raise ItemError([refused])
    try:
        with open(path, "rb") as f:
            f.seek(start)
            # split on \n only, as iterating the file does (bytes.splitlines would also split on \r)
            raws = iter(f) if length is None else iter(f.read(length).split(b"\n"))
            for number, raw in enumerate(raws, first):
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as e:
                    raise ItemError([Problem(f"is not UTF-8 text (byte {e.start} of the line); save it as UTF-8", file=path, line=number)]) from None
                if line.strip():
                    yield number, line
    except FileNotFoundError:
        raise ItemError([Problem("no such file", file=path)]) from None
    except IsADirectoryError:
        raise ItemError([Problem("is a directory, expected a file", file=path)]) from None


def byte_ranges(path: str, size: int = 1 << 19) -> Iterator[tuple[int, int, int]]:
    """(start, length, first line number) of blocks of whole lines, about ``size`` bytes each:
    the parent hands out byte ranges and the workers read, decode and split them."""
    refused = not_a_file(path)
    if refused is not None:
        raise ItemError([refused])
    try:
        with open(path, "rb") as f:
            start, line = 0, 1
            while True:
                block = f.read(size)
                if not block:
                    return
                block += f.readline()  # end on a line boundary
                yield start, len(block), line
                start += len(block)
                line += block.count(b"\n")
    except FileNotFoundError:
        raise ItemError([Problem("no such file", file=path)]) from None
    except IsADirectoryError:
        raise ItemError([Problem("is a directory, expected a file", file=path)]) from None


def keys_of(path: str) -> Iterator[tuple[int, str]]:
    """(line number, key) of the lines of a JSON Lines file that have a key (problems aside:
    the first pass reports them)."""
    for number, line in numbered_lines(path):
        try:
            raw = parse_json(line, path)
        except FileProblem:
            continue
        if isinstance(raw, dict) and raw.get("key") is not None:
            yield number, str(raw["key"])

"""JSON Lines files as lines: numbered, in blocks of whole lines (each with a digest of its
bytes, so that a second pass can tell a block it read before), and their keys. Nothing here knows
items; :mod:`.stream` validates the lines as items."""

from __future__ import annotations

import hashlib
import io
from contextlib import contextmanager
from typing import BinaryIO, Iterator, NamedTuple

from ..errors import ItemError, Problem
from ..files.yamlio import FileProblem, not_a_file, parse_json

BLOCK = 1 << 19  # bytes read at a time (a block of whole lines is about this long)
BOM = b"\xef\xbb\xbf"


class Block(NamedTuple):
    """A block of whole lines of a file, as a pass read it: where it is and a digest of its bytes."""

    start: int  # its first byte
    length: int
    first: int  # the number of its first line
    digest: bytes


def is_stream(path: str) -> bool:
    return path.lower().endswith((".jsonl", ".ndjson"))


def digest(data: bytes) -> bytes:
    """16 bytes standing for a block's bytes (BLAKE2b)."""
    return hashlib.blake2b(data, digest_size=16).digest()


def numbered_lines(path: str, kept: list[Block] | None = None) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines of a file, each with its line break; each
    block read goes in ``kept`` as it is read (see :func:`blocks`)."""
    for block, data in blocks(path):
        if kept is not None:
            kept.append(block)
        yield from numbered(data, path, block.first, ends=True)


def numbered(data: bytes, path: str, first: int, ends: bool = False) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines of ``data``, whole lines of ``path`` starting
    with line ``first``; ``ends``: each with its line break (as iterating a file gives them)."""
    # split on \n only, as iterating a file does (bytes.splitlines would also split on \r)
    raws = iter(io.BytesIO(data)) if ends else iter(data.split(b"\n"))
    for number, raw in enumerate(raws, first):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as e:
            raise ItemError([Problem(f"is not UTF-8 text (byte {e.start} of the line); save it as UTF-8", file=path, line=number)]) from None
        if line.strip():
            yield number, line


def blocks(path: str) -> Iterator[tuple[Block, bytes]]:
    """The blocks of whole lines of a file, about :data:`BLOCK` bytes each, in order: each with
    its bytes (the block's digest is of exactly these)."""
    with _opened(path) as f:
        start, line = 0, 1
        while True:
            data = f.read(BLOCK)
            if not data:
                return
            data += f.readline()  # end on a line boundary
            yield Block(start, len(data), line, digest(data)), data
            start += len(data)
            line += data.count(b"\n")


def byte_ranges(path: str) -> Iterator[tuple[int, int, int]]:
    """(start, length, first line number) of the blocks of a file: the parent hands out byte
    ranges and the workers read, decode and split them."""
    for block, _ in blocks(path):
        yield block.start, block.length, block.first


def read_range(path: str, start: int, length: int) -> bytes:
    """The ``length`` bytes of a file from ``start`` (fewer if the file is shorter now)."""
    with _opened(path) as f:
        f.seek(start)
        return f.read(length)


@contextmanager
def _opened(path: str) -> Iterator[BinaryIO]:
    """A file opened for reading bytes; a missing file or a directory as an ItemError."""
    refused = not_a_file(path)
    if refused is not None:
        raise ItemError([refused])
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise ItemError([Problem("no such file", file=path)]) from None
    except IsADirectoryError:
        raise ItemError([Problem("is a directory, expected a file", file=path)]) from None
    with f:
        yield f


def item_lines(data: bytes, first: int) -> Iterator[bytes]:
    """The item lines of a block the first pass accepted (each a JSON object with nothing but
    ASCII white space around it; the other lines are blank), as bytes, without decoding them."""
    if first == 1 and data.startswith(BOM):
        data = data[len(BOM):]
    for raw in data.split(b"\n"):
        raw = raw.strip()
        if raw[:1] == b"{":
            yield raw


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

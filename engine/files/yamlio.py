"""Reading the files people type: safe YAML only, duplicate keys refused, line numbers kept.

PyYAML's own ``safe_load`` silently keeps the last of two duplicate keys and expands alias
bombs downstream; both are refused here. Mappings come back as :class:`LineDict`, which
remembers the line of each key so that error messages can point at it.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

import jiter
import yaml

from ..errors import Problem

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# An alias bomb is a few hundred bytes that expand to billions of nodes once something walks
# the tree (validation, hashing). Real files stay far below this.
MAX_EXPANDED_NODES = 2_000_000
MAX_DEPTH = 200

MB = 1024 * 1024
# Every file is read whole, so a limit keeps a wrong file (a disk image, /dev/zero) from eating
# the memory. It leaves room for large item batches in JSON or CSV (hundreds of thousands of
# items); larger batches go in JSON Lines, which is streamed.
MAX_BYTES = 256 * MB
# PyYAML is an order of magnitude slower than a JSON parser: past this size, a YAML file is
# refused at once rather than parsed for minutes. Rulebooks are far below it.
MAX_YAML_BYTES = 10 * MB
SPLIT = "split it into several files"


class LineDict(dict):
    """A dict that remembers the 1-based line of each of its keys, and its own line."""

    __slots__ = ("lines", "line")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}
        self.line: int | None = None


class FileProblem(Exception):
    """Raised by the readers; carries the problem for the caller to collect."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


class EmptyFile(FileProblem):
    """A file with no content: nothing, blank lines, or only comments (a file to start, for a writer)."""


class _StrictLoader(_Base):  # type: ignore[misc,valid-type]
    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found {node.id}", node.start_mark
            )
        self.flatten_mapping(node)
        # as YAML defines merge keys, a key of the mapping's own overrides a merged one, silently;
        # only a key written twice in the mapping itself is a duplicate
        merged = node.merged_pairs
        from_merge: set = set()
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if index < merged:
                from_merge.add(key)
            elif key in from_merge:
                from_merge.discard(key)
                del mapping[key]
            if key in mapping and key not in from_merge:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {mapping.lines[key]})",
                    key_node.start_mark,
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
            mapping.lines[key] = key_node.start_mark.line + 1
        return mapping


    def flatten_mapping(self, node):  # noqa: D401 - PyYAML hook
        """PyYAML's, which puts the pairs merged in (``<<: *base``) before the mapping's own,
        remembering how many they are. It flattens a merged mapping too, before it is built."""
        if hasattr(node, "merged_pairs"):
            return
        explicit = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        super().flatten_mapping(node)
        node.merged_pairs = len(node.value) - explicit


def _construct_map(loader, node):
    # A generator, as PyYAML's own: the empty mapping exists before its values (aliases).
    data = LineDict()
    yield data
    built = loader.construct_mapping(node)
    data.update(built)
    data.lines = built.lines
    data.line = built.line


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def _guarded(tag: str, what: str):
    """PyYAML's safe constructor for ``tag``, with its crashes turned into a YAML error.

    The stock constructors raise ValueError, KeyError or AttributeError on scalars their own
    resolver let through (``0x_``, ``2027-13-45``, ``!!bool maybe``, a 5,000-digit number).
    """
    construct = _Base.yaml_constructors[tag]

    def guarded(loader, node):
        value = node.value if isinstance(node.value, str) else ""
        too_large = yaml.constructor.ConstructorError(
            None, None, f"a number with more than {_max_digits():,} digits is too large", node.start_mark
        )
        # a long base-60 number (1:1:1:...) costs quadratic time before int() ever refuses it
        if tag.endswith(":int") and len(value) > _max_digits() + 10 and len(value.replace("_", "")) > _max_digits() + 3:
            raise too_large
        try:
            result = construct(loader, node)
        except yaml.YAMLError:
            raise
        except (ValueError, KeyError, IndexError, AttributeError, TypeError, OverflowError) as e:
            if "digits" in str(e) and "limit" in str(e):
                raise too_large from None
            shown = value if len(value) <= 40 else value[:37] + "..."
            raise yaml.constructor.ConstructorError(None, None, f"{shown!r} is not a valid {what}", node.start_mark) from None
        # 0x and 0b numbers skip int()'s digit limit, and then cannot be printed in a message
        if isinstance(result, int) and result.bit_length() * 0.30103 > _max_digits():
            raise too_large
        return result

    return guarded


def _max_digits() -> int:
    return sys.get_int_max_str_digits() or 4300


for _tag, _what in (("int", "whole number"), ("float", "number"), ("bool", "true/false value"),
                    ("timestamp", "date or time"), ("binary", "base64 value")):
    _StrictLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _guarded(f"tag:yaml.org,2002:{_tag}", _what))


def _check_depth(text: str) -> None:
    """Refuse deep nesting before composing: libyaml's composer recurses in C, and some tens of
    thousands of ``[`` overflow the C stack (a segmentation fault, not an exception). Its event
    parser keeps its stack on the heap, so reading the events first is safe, and cheap."""
    parser = _Base(text)
    depth, seen = 0, 0
    try:
        while True:
            event = parser.get_event()
            if event is None:
                return
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(event.start_mark)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
            seen = event.end_mark.index
    except yaml.MarkedYAMLError as e:
        deep = _deep_ahead(text, seen, e.problem_mark, depth)
        if deep is not None:
            raise _too_deep(deep) from None
        raise
    finally:
        parser.dispose()


def _too_deep(mark: yaml.Mark) -> yaml.MarkedYAMLError:
    return yaml.MarkedYAMLError(problem=f"nested deeper than {MAX_DEPTH} levels", problem_mark=mark)


def _deep_ahead(text: str, start: int, stop: yaml.Mark | None, depth: int) -> yaml.Mark | None:
    """Where nesting passes MAX_DEPTH between the last event read (at ``start``, ``depth``
    deep) and the place where the parser stopped, or None.

    libyaml reads ahead of the events it hands out (a run of flow brackets, to tell a key from
    a value), and its releases since 0.2.6 refuse nesting past a limit of their own while they
    do, in their own words. The brackets it had read are counted here, so such a file is
    refused in launchtier's words, whatever that limit is as long as it is above MAX_DEPTH.
    """
    if stop is None or stop.index < start:
        return None
    for bracket in _BRACKET.finditer(text, start, stop.index + 1):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_DEPTH:
            at = bracket.start()
            return yaml.Mark(stop.name, at, text.count("\n", 0, at), at - text.rfind("\n", 0, at) - 1, None, None)
    return None


_BRACKET = re.compile(r"[\[\]{}]")


def _check_size(node: yaml.Node) -> None:
    """Refuse alias bombs and absurd nesting before anything is constructed."""
    sizes: dict[int, int] = {}

    def size(n: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise yaml.MarkedYAMLError(problem=f"nested deeper than {MAX_DEPTH} levels", problem_mark=n.start_mark)
        known = sizes.get(id(n))
        if known is not None:
            return known
        total = 1
        if isinstance(n, yaml.SequenceNode):
            for child in n.value:
                total += size(child, depth + 1)
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k, depth + 1) + size(v, depth + 1)
        if total > MAX_EXPANDED_NODES:
            raise yaml.MarkedYAMLError(
                problem=f"expands to more than {MAX_EXPANDED_NODES:,} values (an alias bomb?)",
                problem_mark=n.start_mark,
            )
        sizes[id(n)] = total
        return total

    size(node, 0)


def read_text(
    path: str | Path, data: bytes | None = None, *, limit: int = MAX_BYTES, kind: str = "a file", advice: str = SPLIT
) -> str:
    """The file's text, or a FileProblem saying why it is not a readable text file.

    A file over ``limit`` bytes is refused before it is read; the message names the ``kind`` of
    file the limit is for and gives the ``advice``.
    """
    name = str(path)
    if data is None:
        refused = not_a_file(path)
        if refused is not None:
            raise FileProblem(refused)
        try:
            with open(path, "rb") as f:
                size = _size_of(f)
                if size is not None and size > limit:
                    raise FileProblem(_too_large(name, size, limit, kind, advice))
                data = f.read(limit + 1)  # a pipe or a device (/dev/zero) has no size: stop past the limit
        except FileNotFoundError:
            raise FileProblem(Problem("no such file", file=name)) from None
        except IsADirectoryError:
            raise FileProblem(Problem("is a directory, expected a file", file=name)) from None
        except OSError as e:
            raise FileProblem(Problem(f"cannot be read: {e.strerror}", file=name)) from None
    if len(data) > limit:
        raise FileProblem(_too_large(name, None, limit, kind, advice))
    wide = _wide_encoding(data)
    if wide:
        # Windows tools save "Unicode" text as UTF-16: text, but not text this reader accepts
        raise FileProblem(Problem(f"is {wide} text, expected UTF-8; save it as UTF-8 and try again", file=name))
    if b"\x00" in data:
        raise FileProblem(Problem("is a binary file, expected UTF-8 text (YAML, JSON or CSV)", file=name))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        if e.reason == "unexpected end of data":
            # not another encoding: the last character was cut in half (a truncated copy or download)
            raise FileProblem(Problem("ends in the middle of a UTF-8 character: was the file cut off?", file=name, line=line)) from None
        raise FileProblem(
            Problem(
                f"is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}, perhaps Latin-1 or "
                "Windows-1252); save it as UTF-8 and try again",
                file=name,
                line=line,
            )
        ) from None
    if not text.strip():
        raise EmptyFile(Problem("is empty", file=name))
    return text


_NOT_FILES = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
              (stat.S_ISSOCK, "a socket"))


def not_a_file(path: str | os.PathLike) -> Problem | None:
    """Why ``path`` cannot be read as an input file, found before it is opened: opening a named
    pipe with no writer waits forever, and a device is no file (None: a file, or no such path,
    left to open() to report)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    for test, what in _NOT_FILES:
        if test(mode):
            return Problem(f"is {what}, expected a regular file", file=str(path))
    return None


def _size_of(f) -> int | None:
    st = os.fstat(f.fileno())
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def _megabytes(size: int) -> str:
    return f"{size / MB:,.1f} MB" if size % MB else f"{size // MB:,} MB"


def _too_large(name: str, size: int | None, limit: int, kind: str, advice: str) -> Problem:
    """``size`` None: read from a pipe, or given as data, and cut off past the limit."""
    if size is None:
        return Problem(f"is more than {_megabytes(limit)}, the limit for {kind}; {advice}", file=name)
    return Problem(f"is {_megabytes(size)}, over the {_megabytes(limit)} limit for {kind}; {advice}", file=name)


def _wide_encoding(data: bytes) -> str | None:
    """UTF-16 or UTF-32, told by the byte-order mark or, without one, by ASCII's zero bytes."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    head = data[:200]
    if len(head) >= 4 and len(head) % 2 == 0:
        even, odd = head[0::2], head[1::2]
        if (not odd.strip(b"\x00") and b"\x00" not in even) or (not even.strip(b"\x00") and b"\x00" not in odd):
            return "UTF-16"
    return None


def parse_yaml(text: str, name: str, *, advice: str = SPLIT) -> Any:
    """Parse YAML safely: no tags that build Python objects, no duplicate keys, no bombs."""
    if len(text) > MAX_YAML_BYTES:
        # characters, not bytes: close enough for a limit that is about time
        raise FileProblem(_too_large(name, len(text), MAX_YAML_BYTES, "YAML files", advice))
    try:
        _check_depth(text)
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
            # "---" alone is a document holding nothing, as empty as an empty file
            if node is None or (node.tag == "tag:yaml.org,2002:null" and node.value == ""):
                raise EmptyFile(Problem("is empty", file=name))
            _check_size(node)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except FileProblem:
        raise
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        what = e.problem or e.context or "invalid YAML"
        if "could not determine a constructor" in (e.problem or ""):
            what = f"unsupported YAML tag {_tag_of(e.problem)}; only plain YAML is read (no tags)"
        raise FileProblem(Problem(f"invalid YAML: {what}", file=name, line=line)) from None
    except yaml.reader.ReaderError as e:
        # str(e) is two lines with the parser's own "<unicode string>" position
        line = text[: e.position].count("\n") + 1 if isinstance(e.position, int) else None
        char = e.character if isinstance(e.character, int) else ord(e.character)
        raise FileProblem(Problem(f"invalid YAML: character #x{char:04x} is not allowed ({e.reason})", file=name, line=line)) from None
    except yaml.YAMLError as e:
        raise FileProblem(Problem(f"invalid YAML: {e}", file=name)) from None
    except RecursionError:
        raise FileProblem(Problem("invalid YAML: nested too deeply", file=name)) from None


def _tag_of(problem: str) -> str:
    start = problem.find("tag ")
    return problem[start + 4 :].strip() if start >= 0 else "tag"


_JITER_ERROR = re.compile(r"^(?P<message>.*) at line (?P<line>\d+) column (?P<column>\d+)$", re.S)
_JITER_WORDS = {
    "expected ident": "not a JSON value (the only bare words are true, false and null)",
    "expected value": "expected a value",
    "key must be a string": "a key must be in double quotes",
    "unexpected end of hex escape": "a \\u escape that is half of a UTF-16 pair, not a character",
    "lone leading surrogate in hex escape": "a \\u escape that is half of a UTF-16 pair, not a character",
}


def parse_json(text: str | bytes, name: str) -> Any:
    """JSON, read by jiter (pydantic's JSON parser): it refuses what json.loads lets through
    silently (duplicate keys, where json.loads keeps the last; lone UTF-16 surrogates), has
    the same 200-level depth and 4,300-digit number limits as this module, and is several times
    faster than json.loads with a duplicate-key hook."""
    data = text.encode() if isinstance(text, str) else text
    try:
        return jiter.from_json(data, catch_duplicate_keys=True)
    except ValueError as e:
        raise FileProblem(json_problem(str(e), name)) from None


def json_problem(error: str, name: str) -> Problem:
    """A jiter error as a problem: its words made plain, its line and column kept."""
    found = _JITER_ERROR.match(error)
    message, at, column = (found["message"], int(found["line"]), found["column"]) if found else (error, None, None)
    if message.startswith("Detected duplicate key "):
        message = f"duplicate key '{message[len('Detected duplicate key '):].strip(chr(34))}'"
    elif message == "recursion limit exceeded":
        message = "nested too deeply"
    elif message == "number out of range":  # jiter's own limit, whatever sys says
        message = "a number with more than 4,300 digits is too large"
    elif message.startswith("EOF while parsing "):
        message = "the text ends inside " + message[len("EOF while parsing "):]
    else:
        message = _JITER_WORDS.get(message, message)
    if column is not None:
        message += f" (column {column})"
    return Problem(f"invalid JSON: {message}", file=name, line=at)


def parse_structured(text: str, name: str) -> Any:
    """JSON when the file is JSON (fast path), YAML otherwise (YAML is a superset of JSON)."""
    if name.lower().endswith(".json"):
        return parse_json(text, name)
    return parse_yaml(text, name)


def yaml_files(paths: Iterable[str | Path], problems: list[Problem]) -> Iterator[tuple[str, Any]]:
    """``(name, data)`` of each YAML file of ``paths`` that reads and parses; the problem of
    each that does not is added to ``problems`` (every file is tried: all problems at once)."""
    for path in paths:
        name = str(path)
        try:
            raw = parse_yaml(read_text(path), name)
        except FileProblem as e:
            problems.append(e.problem)
            continue
        yield name, raw


def dump_yaml(data: Any) -> str:
    """``data`` as YAML the way people write launchtier's files: blocks, with a mapping or list
    of plain values on one line (``signals: {a: 1, b: x}``), keys in their order, safe tags only."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100, allow_unicode=True)


def line_of(obj: Any, key: Any = None) -> int | None:
    """The line of ``key`` in a mapping read by this module, or of the mapping itself."""
    if isinstance(obj, LineDict):
        if key is not None and key in obj.lines:
            return obj.lines[key]
        return obj.line
    return None

"""Reading the files people type: safe YAML only, duplicate keys refused, line numbers kept.

PyYAML's own ``safe_load`` silently keeps the last of two duplicate keys and expands alias
bombs downstream; both are refused here. Mappings come back as :class:`LineDict`, which
remembers the line of each key so that error messages can point at it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# An alias bomb is a few hundred bytes that expand to billions of nodes once something walks
# the tree (validation, hashing). Real files stay far below this.
MAX_EXPANDED_NODES = 2_000_000
MAX_DEPTH = 200


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


class _StrictLoader(_Base):  # type: ignore[misc,valid-type]
    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found {node.id}", node.start_mark
            )
        self.flatten_mapping(node)
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if key in mapping:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {mapping.lines[key]})",
                    key_node.start_mark,
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
            mapping.lines[key] = key_node.start_mark.line + 1
        return mapping


def _construct_map(loader, node):
    # A generator, as PyYAML's own: the empty mapping exists before its values (aliases).
    data = LineDict()
    yield data
    built = loader.construct_mapping(node)
    data.update(built)
    data.lines = built.lines
    data.line = built.line


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


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


def read_text(path: str | Path, data: bytes | None = None) -> str:
    """The file's text, or a FileProblem saying why it is not a readable text file."""
    name = str(path)
    if data is None:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise FileProblem(Problem("no such file", file=name)) from None
        except IsADirectoryError:
            raise FileProblem(Problem("is a directory, expected a file", file=name)) from None
        except OSError as e:
            raise FileProblem(Problem(f"cannot be read: {e.strerror}", file=name)) from None
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
        raise FileProblem(
            Problem(
                f"is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}, perhaps Latin-1 or "
                "Windows-1252); save it as UTF-8 and try again",
                file=name,
                line=line,
            )
        ) from None
    if not text.strip():
        raise FileProblem(Problem("is empty", file=name))
    return text


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


def parse_yaml(text: str, name: str) -> Any:
    """Parse YAML safely: no tags that build Python objects, no duplicate keys, no bombs."""
    try:
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
            # "---" alone is a document holding nothing, as empty as an empty file
            if node is None or (node.tag == "tag:yaml.org,2002:null" and node.value == ""):
                raise FileProblem(Problem("is empty", file=name))
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
    except yaml.YAMLError as e:
        raise FileProblem(Problem(f"invalid YAML: {e}", file=name)) from None
    except RecursionError:
        raise FileProblem(Problem("invalid YAML: nested too deeply", file=name)) from None


def _tag_of(problem: str) -> str:
    start = problem.find("tag ")
    return problem[start + 4 :].strip() if start >= 0 else "tag"


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    # json.loads keeps the last of two equal keys without a word; YAML files refuse them too
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def parse_json(text: str, name: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicates)
    except _DuplicateKey as e:
        raise FileProblem(Problem(f"invalid JSON: duplicate key {e.args[0]!r}", file=name)) from None
    except json.JSONDecodeError as e:
        raise FileProblem(Problem(f"invalid JSON: {e.msg}", file=name, line=e.lineno)) from None
    except RecursionError:
        raise FileProblem(Problem("invalid JSON: nested too deeply", file=name)) from None


def parse_structured(text: str, name: str) -> Any:
    """JSON when the file is JSON (fast path), YAML otherwise (YAML is a superset of JSON)."""
    if name.lower().endswith(".json"):
        return parse_json(text, name)
    return parse_yaml(text, name)


def line_of(obj: Any, key: Any = None) -> int | None:
    """The line of ``key`` in a mapping read by this module, or of the mapping itself."""
    if isinstance(obj, LineDict):
        if key is not None and key in obj.lines:
            return obj.lines[key]
        return obj.line
    return None

"""Turning pydantic's validation errors into problems that name the file, item and field."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from ..rulebook.conditions import suggest
from ..errors import Problem
from .yamlio import line_of


def loc_text(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def raw_at(raw: Any, loc: tuple) -> tuple[Any, Any]:
    """The innermost container on the path ``loc`` in the raw data, and the last key into it."""
    parent, key = None, None
    node = raw
    for part in loc:
        if isinstance(node, dict) and part in node:
            parent, key, node = node, part, node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            parent, key, node = node, part, node[part]
        else:
            break
    return parent, key


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class reached by following ``loc`` (used to list allowed fields)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current, part)
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(tp: Any, part: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(part) or next((f for f in tp.model_fields.values() if f.alias == part), None)
        if field is None:
            return None
        return field.annotation
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _unwrap(args[0], part)
    if origin in (list, tuple) and isinstance(part, int):
        return args[0] if args else None
    if origin is dict:
        return args[1] if len(args) == 2 else None
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            # a discriminated union's tag appears in the loc as the member's literal type
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                tag = arg.model_fields.get("type")
                if tag is not None and part in typing.get_args(tag.annotation):
                    return arg
        for arg in args:
            if arg is not type(None):
                found = _unwrap(arg, part)
                if found is not None:
                    return found
        return None
    return None


# What launchtier says for each kind of pydantic error: what was expected, keyed by pydantic's
# error type (a text, or a function of the error's ctx and the field's annotation). The types and
# their ctx are pydantic's documented identifiers; its ``msg`` is wording that changes between
# releases, so it is shown only for a type missing here, and tests/test_messages.py fails on any
# type the corpus or the known bad inputs meet that is missing.
EXPECTED: dict[str, str | Callable[[dict, Any], str]] = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_parsing_size": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "string_unicode": "UTF-8 text",
    "string_pattern_mismatch": lambda ctx, tp: PATTERNS.get(ctx["pattern"], f"text matching {ctx['pattern']}"),
    "string_too_short": lambda ctx, tp: f"at least {_count(ctx['min_length'], 'character')}",
    "string_too_long": lambda ctx, tp: f"at most {_count(ctx['max_length'], 'character')}",
    "too_short": lambda ctx, tp: f"at least {_count(ctx['min_length'], 'entry')}",
    "too_long": lambda ctx, tp: f"at most {_count(ctx['max_length'], 'entry')}",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "invalid_key": "text",
    "literal_error": lambda ctx, tp: _one_of(_literal_values(tp)) or ctx["expected"],
    "less_than_equal": lambda ctx, tp: f"at most {_number(ctx['le'])}",
    "less_than": lambda ctx, tp: f"less than {_number(ctx['lt'])}",
    "greater_than_equal": lambda ctx, tp: f"at least {_number(ctx['ge'])}",
    "greater_than": lambda ctx, tp: f"more than {_number(ctx['gt'])}",
    "union_tag_invalid": lambda ctx, tp: _one_of(_union_tags(tp)[1]) or ctx["expected_tags"],
    "union_tag_not_found": lambda ctx, tp: _one_of(_union_tags(tp)[1]) or "a value",
}
# worded on their own, not as "... is not allowed; expected ..."
OWN_WORDS = frozenset({"missing", "extra_forbidden", "value_error"})

# What a pattern of the file formats allows, in the domain's words (see :func:`pattern`).
PATTERNS: dict[str, str] = {}


def pattern(regex: str, words: str) -> str:
    """``regex``, remembered with ``words`` that say what it allows: the message for a value that
    does not match says those words rather than the regular expression."""
    PATTERNS[regex] = words
    return regex


def message_for(error: dict, model: type[BaseModel] | None, describe: Callable[[tuple], str | None] | None = None) -> str:
    kind = error["type"]
    loc = error["loc"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        # the tagged location still tells which member of a discriminated union was meant
        tagged = error.get("tagged_loc", loc)
        owner = _model_at(model, tagged[:-1]) if model else None
        allowed = list(owner.model_fields) if owner else []
        hint = suggest(loc[-1], allowed) if allowed else ""
        listed = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown field '{loc[-1]}'{hint}{listed}"
    if kind == "missing":
        return "missing; this field is required"
    custom = describe(loc) if describe else None
    if custom:
        return f"{_show(value)} is not allowed; expected {custom}"
    if kind == "value_error":
        # our own validators' words, without pydantic's "Value error, " before them
        text = str(ctx["error"]) if "error" in ctx else error["msg"].removeprefix("Value error, ")
        # a check of the whole mapping: "(got a mapping)" would add nothing
        return text if isinstance(value, dict) else f"{text} (got {_show(value)})"
    if kind == "too_short" and isinstance(value, str):
        kind = "string_too_short"  # the length of a text checked after a validator of ours
    wording = EXPECTED.get(kind)
    if wording is None:
        return f"{error['msg']} (got {_show(value)})"  # a kind of error launchtier does not know yet
    expected = wording(ctx, _annotation_at(model, loc)) if callable(wording) else wording
    if kind == "invalid_key" or error.get("tagged_loc", loc)[-1:] == ("[key]",):
        return f"{_show(value)} is not allowed as a key; expected {expected}"
    if kind in ("string_too_short", "too_short") and value in ("", [], {}):
        return "is empty; it is required"
    if kind == "union_tag_not_found":
        return f"missing '{_discriminator(model, loc, ctx)}'; expected {expected}"
    if kind == "union_tag_invalid":
        name = _discriminator(model, loc, ctx)
        tag = value.get(name, ctx.get("tag")) if isinstance(value, dict) else ctx.get("tag")
        hint = suggest(tag, _union_tags(_annotation_at(model, loc))[1]) if isinstance(tag, str) else ""
        return f"{name} {_show(tag)} is not allowed; expected {expected}{hint}"
    hint = ""
    if kind == "literal_error" and isinstance(value, str):
        hint = suggest(value, _literal_values(_annotation_at(model, loc)))  # a closed vocabulary
    return f"{_sized(kind, value)} is not allowed; expected {expected}{hint}"


def _count(n: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n:,} {noun if n == 1 else plural}"


def _number(bound: Any) -> Any:
    return int(bound) if isinstance(bound, float) and bound.is_integer() else bound


def _one_of(values: list) -> str:
    if not values:
        return ""
    return str(values[0]) if len(values) == 1 else "one of " + ", ".join(str(v) for v in values)


def _sized(kind: str, value: Any) -> str:
    """The value as shown in a message; by its length where its length is what is wrong."""
    if kind in ("string_too_short", "string_too_long", "too_short", "too_long") and isinstance(value, (str, list, dict)):
        if isinstance(value, str):
            return f"a text of {_count(len(value), 'character')}"
        return f"{'a mapping' if isinstance(value, dict) else 'a list'} of {_count(len(value), 'entry')}"
    return _show(value)


def _annotation_at(model: type[BaseModel] | None, loc: tuple) -> Any:
    """The annotation of the field at ``loc`` (used to list the values a field allows)."""
    current: Any = model
    for part in loc:
        if current is None:
            return None
        current = _unwrap(current, part)
    return current


def _members(tp: Any) -> tuple[Any, ...]:
    """The types a field allows (a union's members; ``None`` left out)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return tuple(m for arg in typing.get_args(tp) if arg is not type(None) for m in _members(arg))
    return (tp,) if tp is not None else ()


def _literal_values(tp: Any) -> list:
    return [v for m in _members(tp) if typing.get_origin(m) is typing.Literal for v in typing.get_args(m)]


def _union_tags(tp: Any) -> tuple[str | None, list]:
    """A discriminated union's tag field and its tags, in the order of its members."""
    field = None
    if typing.get_origin(tp) is typing.Annotated:
        field = next((m.discriminator for m in typing.get_args(tp)[1:] if isinstance(getattr(m, "discriminator", None), str)), None)
    if field is None:
        return None, []
    tags = []
    for member in _members(tp):
        tag = member.model_fields.get(field) if isinstance(member, type) and issubclass(member, BaseModel) else None
        tags += _literal_values(tag.annotation) if tag is not None else []
    return field, tags


def _discriminator(model: type[BaseModel] | None, loc: tuple, ctx: dict) -> str:
    field, _ = _union_tags(_annotation_at(model, loc))
    return field or str(ctx.get("discriminator", "type")).strip("'")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, int) and value.bit_length() > 200:
        # str() of an int past 4,300 digits raises; a number this long is unreadable anyway
        return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problems_from(
    err: ValidationError,
    *,
    model: type[BaseModel],
    raw: Any,
    file: str | None,
    item: str | None = None,
    prefix: tuple = (),
    describe: Callable[[tuple], str | None] | None = None,
) -> list[Problem]:
    problems: list[Problem] = []
    options: list[str] = []  # what the last problem's union members expect, each
    for error in err.errors(include_url=False):
        loc = tuple(p for p in error["loc"])
        clean = _drop_tags(model, loc, raw)
        parent, key = raw_at(raw, clean)
        problem = Problem(
            message=message_for({**error, "loc": clean, "tagged_loc": loc}, model, describe),
            file=file,
            line=line_of(parent, key),
            item=item,
            field=loc_text(prefix + clean),
        )
        previous = problems[-1] if problems else None
        head = f"{_show(error.get('input'))} is not allowed; expected "
        if previous is not None and len(clean) < len(loc) and previous.field == problem.field:
            # each member of a plain union (list or mapping) fails on its own: one problem, each option
            if options and problem.message.startswith(head):
                options.append(problem.message.removeprefix(head))
                message = head + ", ".join(options[:-1]) + " or " + options[-1]
            else:
                message = f"{previous.message}; or {problem.message}"
            problems[-1] = dataclasses.replace(previous, message=message)
            continue
        options = [problem.message.removeprefix(head)] if problem.message.startswith(head) else []
        problems.append(problem)
    return problems


def _drop_tags(model: type[BaseModel], loc: tuple, raw: Any = None) -> tuple:
    """Remove discriminated-union tags and pydantic's type labels from an error location.

    A key the user wrote stays even when it looks like a label (an unknown field ``int`` or
    ``tags[]``): the raw data is walked beside the location to tell them apart.
    """
    out = []
    current: Any = model
    node: Any = raw
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            current = _unwrap(current, part) if current is not None else None
            node = node[part]
            continue
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            current = _unwrap(current, part) if current is not None else None
            node = node[part]
            continue
        # a discriminated union's tag (e.g. "int" of a signal) is not a field the user wrote
        member = _union_member(current, part) if current is not None and isinstance(part, str) else None
        if member is not None:
            current = member
            continue
        if _is_union(current) and isinstance(part, str) and _is_type_label(part):
            # a plain union's member label (e.g. "list[str]" of links): which member is unknown
            current = None
            continue
        nxt = _unwrap(current, part) if current is not None else None
        if nxt is None and current is not None and isinstance(part, str):
            # pydantic's type labels (e.g. "function-after[...]", "list[str]")
            if _is_type_label(part):
                continue
        out.append(part)
        current = nxt
        node = None
    return tuple(out)


def _is_type_label(part: str) -> bool:
    # pydantic's labels in an error location: a union member's type ("list[str]", "int"), a
    # validator ("function-after[...]") or a mapping's key ("[key]"). They are not documented, so
    # tests/test_messages.py checks the ones our models give and names pydantic when they change.
    return "[" in part or part in ("str", "int", "float", "bool", "list", "dict")


def _is_union(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _is_union(typing.get_args(tp)[0])
    return origin in (typing.Union, types.UnionType)


def _union_member(tp: Any, part: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _union_member(args[0], part)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                tag = arg.model_fields.get("type")
                if tag is not None and part in typing.get_args(tag.annotation):
                    return arg
    return None

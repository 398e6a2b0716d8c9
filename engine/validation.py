"""Turning pydantic's validation errors into problems that name the file, item and field."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from .conditions import suggest
from .errors import Problem
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
        field = tp.model_fields.get(part)
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


def message_for(error: dict, model: type[BaseModel] | None, describe: Callable[[tuple], str | None] | None = None) -> str:
    kind = error["type"]
    loc = error["loc"]
    value = error.get("input")
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
    msg = error["msg"]
    if kind.startswith("value_error"):
        msg = msg.removeprefix("Value error, ")
        if isinstance(value, dict):
            return msg  # a check of the whole mapping: "(got a mapping)" would add nothing
    return f"{msg} (got {_show(value)})" if "input" in error and kind not in ("union_tag_invalid",) else msg


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
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
        if previous is not None and len(clean) < len(loc) and previous.field == problem.field:
            # each member of a plain union (list or mapping) fails on its own: one problem, each option
            problems[-1] = dataclasses.replace(previous, message=f"{previous.message}; or {problem.message}")
            continue
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

"""Writing to the terminal: every report through the escaping of ``render/safe.py``, long
outputs in batches, standard output's file descriptor for workers that write to it, the width
the text reports are laid out for, and every JSON document with its format version."""

from __future__ import annotations

import json
import os
import shutil
import sys
from typing import Any, Iterable, Iterator

import click

from .render.safe import terminal


# Below this a table cannot hold its columns; a narrower COLUMNS or terminal is laid out as this.
MIN_WIDTH = 40


def width() -> int | None:
    """The columns text output must fit, from one place for every command: ``COLUMNS`` when it
    is set (a positive whole number), else the terminal's width when standard output is a
    terminal, else None: piped (to a file, ``less`` or another program), where the reporters lay
    text out for ``render.text.WIDTH`` columns and cut nothing (see ``render/text.py``)."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    try:
        tty = sys.stdout.isatty()
    except (AttributeError, OSError, ValueError):
        tty = False
    if not tty:
        return None
    # the fallback is for a terminal that does not report its size (a serial console)
    return max(shutil.get_terminal_size((80, 24)).columns, MIN_WIDTH)


def echo(text: str) -> None:
    """A report on standard output (a title or a rule's reason may hold escape sequences)."""
    click.echo(terminal(text))


def write_chunks(chunks: Iterable[str]) -> None:
    """Write ``chunks`` of text a few hundred at a time (one echo per line would be slow)."""
    batch = []
    for chunk in chunks:
        batch.append(chunk)
        if len(batch) >= 500:
            click.echo("".join(batch), nl=False)
            batch = []
    click.echo("".join(batch), nl=False)


def output_fd() -> int | None:
    """Standard output's file descriptor, flushed, when it is a real file or pipe (not, say, a
    test runner's buffer)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last two
        return None
    sys.stdout.flush()
    return fd


# ---- JSON documents: every one an object whose first field is format_version --------------------
def _version() -> int:
    from launchtier.engine.decide.decision import FORMAT_VERSION

    return FORMAT_VERSION


def document(model: Any, **dump: Any) -> str:
    """A pydantic model's JSON (indented by 2) as a document: ``format_version`` first, then the
    model's fields as ``model_dump_json`` writes them."""
    return f'{{\n  "format_version": {_version()},' + model.model_dump_json(indent=2, **dump)[1:]


def document_data(data: dict[str, Any]) -> str:
    """``data`` (JSON values) as a document: ``format_version`` first, indented by 2."""
    return json.dumps({"format_version": _version(), **data}, indent=2, ensure_ascii=False)


def array_document(name: str, elements: Iterable[str]) -> Iterator[str]:
    """A document whose field ``name`` is an array, written as its ``elements`` (each one JSON
    value's text) come: a long one is never held whole, and an empty one still has its version."""
    yield f'{{\n  "format_version": {_version()},\n  {json.dumps(name)}: ['
    sep = "\n    "
    for element in elements:
        # indented at the layout's line breaks only: JSON escapes a line break inside a string,
        # but not U+2028 or U+0085, where textwrap.indent (splitlines) would break it too
        yield sep + element.replace("\n", "\n    ")
        sep = ",\n    "
    yield "]\n}\n" if sep == "\n    " else "\n  ]\n}\n"

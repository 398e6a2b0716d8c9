"""Writing to the terminal: every report through the escaping of ``render/safe.py``, long
outputs in batches, standard output's file descriptor for workers that write to it, and the width
the text reports are laid out for."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Iterable

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

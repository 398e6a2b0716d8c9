"""Writing to the terminal: every report through the escaping of ``render/safe.py``, long
outputs in batches, and standard output's file descriptor for workers that write to it."""

from __future__ import annotations

import sys
from typing import Iterable

import click

from .render.safe import terminal


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

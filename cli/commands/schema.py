"""The ``schema`` command: the JSON Schemas of launchtier's formats."""

from __future__ import annotations

import json

import click

from launchtier.engine.schemas import SCHEMAS, json_schema

from ..options import load, rules_option
from ..output import echo


def print_schema(name: str, rules_path: str | None) -> None:
    """Print the JSON Schema ``name``; an item's is the rulebook's (the only one that loads it)."""
    book = load(rules_path) if name == "item" else None
    echo(json.dumps(json_schema(name, book), indent=2, ensure_ascii=False))


@click.command()
@click.argument("name", type=click.Choice(SCHEMAS, case_sensitive=False))
@rules_option
def schema(name: str, rules_path: str | None) -> None:
    """Print the JSON Schema of a format, made from launchtier's own models: a decision as
    classify, explain and review print it, an item file of the rulebook (editors validate item
    files with it), or a rulebook file. Its $id and title name the format version, the
    format_version that every JSON output starts with.

    \b
    Example:
      launchtier schema decision > decision.schema.json
      launchtier schema item --rules my-rules/ > roadmap.schema.json
    """
    print_schema(name.lower(), rules_path)

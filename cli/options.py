"""Options shared by several commands."""

from __future__ import annotations

import click

rules_option = click.option(
    "--rules",
    "rules_path",
    envvar="LAUNCHTIER_RULES",
    type=click.Path(),
    default=None,
    help="Rulebook file or directory (default: $LAUNCHTIER_RULES, else the shipped default).",
)

engine_option = click.option(
    "--engine",
    type=click.Choice(["durable", "reference"]),
    envvar="LAUNCHTIER_ENGINE",
    default="durable",
    show_default=True,
    help="Matching engine: durable-rules, or the pure-Python reference evaluator.",
)


def format_option(*choices: str, default: str | None = None):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=default or choices[0],
        show_default=True,
        help="Output format.",
    )


def load(rules_path: str | None):
    from launchtier.engine import load_rulebook

    return load_rulebook(rules_path)


optional_db_option = click.option(
    "--db",
    "db_path",
    envvar="LAUNCHTIER_DB",
    type=click.Path(dir_okay=False),
    default=None,
    help="A ledger whose overrides, and recorded items of the same quarters, take part "
    "(default: $LAUNCHTIER_DB, else launchtier.db if present).",
)


def ledger_if_present(db_path: str | None):
    """The ledger at ``db_path`` (or the default place) when there is one, else None."""
    from launchtier.engine.ledger import Ledger, resolve_path

    path = resolve_path(db_path)
    return Ledger(path, create=False) if path.exists() else None

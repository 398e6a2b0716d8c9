"""Options shared by several commands."""

from __future__ import annotations

import re

import click

from .source import note_rules_source, setting, source_of

rules_option = click.option(
    "--rules",
    "rules_path",
    envvar="LAUNCHTIER_RULES",
    type=click.Path(),
    default=None,
    help="Rulebook file or directory (default: $LAUNCHTIER_RULES, else the project config's, else the shipped default).",
    callback=note_rules_source,
)

engine_option = click.option(
    "--engine",
    type=click.Choice(["durable", "reference"], case_sensitive=False),
    envvar="LAUNCHTIER_ENGINE",
    default="durable",
    show_default=True,
    help="Matching engine: durable-rules, or the pure-Python reference evaluator.",
)


def _check_quarter(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    # a value of another form would match no item and pass for "nothing in that quarter"
    from launchtier.engine.items.model import QUARTER

    if value is None or value == "unscheduled" or re.fullmatch(QUARTER, value):
        return value
    raise click.BadParameter(f"'{value}' is not a quarter; write it like 2027-Q1 (a year, then Q1 to Q4), or 'unscheduled'")


quarter_option = click.option(
    "--quarter", metavar="Q", callback=_check_quarter, help="Only this quarter (like 2027-Q1, or 'unscheduled')."
)


def _check_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from datetime import date

    # only YYYY-MM-DD: it is compared with the recorded times as text, and Python reads other
    # ISO forms too (20270131, 2027-W05-7) that would compare wrongly
    try:
        if value is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII) and date.fromisoformat(value):
            return value
    except ValueError:
        pass
    raise click.BadParameter(f"'{value}' is not a date; write it like 2027-01-31")


def since_option_for(help: str):
    """``--since DATE``, checked to be a date, with what it limits."""
    return click.option("--since", metavar="DATE", callback=_check_date, help=help)


since_option = since_option_for("Only entries recorded on or after DATE (YYYY-MM-DD); integrity always covers the whole chain.")


def format_option(*choices: str, default: str | None = None):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices), case_sensitive=False),
        default=default or choices[0],
        show_default=True,
        help="Output format (default: the project config's, when it is one of these).",
        callback=setting("format"),
    )


def load(rules_path: str | None):
    from launchtier.engine import load_rulebook

    return load_rulebook(rules_path)


def db_option(help: str):
    """``--db PATH|URL`` (or $LAUNCHTIER_DB): the ledger (an SQLite file, or a PostgreSQL URL), with
    what the command does with it."""
    return click.option("--db", "db_path", envvar="LAUNCHTIER_DB", type=click.Path(dir_okay=False), default=None, help=help,
                        metavar="PATH|URL", callback=setting("db"))


optional_db_option = db_option("A ledger whose overrides, and recorded items of the same quarters, take part "
                               "(default: $LAUNCHTIER_DB, else the project config's, else launchtier.db if present).")


def no_ledger_notice(db_path: str | None, without: str) -> None:
    """A notice, when the ledger named by --db, $LAUNCHTIER_DB or the project config is absent
    (an optional ledger left at its default says nothing: the command simply has none);
    ``without``: what the command does then."""
    from launchtier.engine.ledger import where

    if db_path is not None:
        given = source_of(click.get_current_context(), "db")
        click.echo(f"notice: no ledger at {where(db_path)} (from {given}); {without}", err=True)


mapping_option = click.option(
    "--mapping", type=click.Path(dir_okay=False), metavar="FILE", callback=setting("mapping"),
    help="Mapping of a roadmap tool's CSV export (its columns to signals): the .csv files are read through it "
         "(default: the project config's).",
)

item_key_option = click.option("--item", "item_key", metavar="KEY", help="The item of FILE (needed when it holds several).")


def deprecated(old: str, new: str) -> None:
    """The one-line note of an old spelling that still works: what to write instead."""
    click.echo(f"note: {old} is deprecated; use {new}", err=True)

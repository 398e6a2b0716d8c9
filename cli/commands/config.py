"""The ``config`` command: the settings a command would run with, and where each came from."""

from __future__ import annotations

import click

from launchtier.engine.config import KEYS
from launchtier.engine.errors import shown

from ..options import db_option, mapping_option, rules_option
from ..render.safe import one_line
from ..source import DEFAULT, SOURCES, project_config, resolve

# what each setting is when nothing sets it, in words for the values that are no path
DEFAULT_WORDS = {"format": "each command's own (table or text)", "mapping": "none"}


@click.command("config")
@rules_option
@db_option("The ledger (default: $LAUNCHTIER_DB, else the project config's, else launchtier.db in the current directory).")
@mapping_option
def config(rules_path: str | None, db_path: str | None, mapping: str | None) -> None:
    """Show the settings commands run with here (the rulebook, the ledger, the output format,
    the mapping of CSV exports) and where each came from: a flag, the environment
    ($LAUNCHTIER_RULES, $LAUNCHTIER_DB), the project config (.launchtier.toml, or
    [tool.launchtier] in pyproject.toml, in this folder or the nearest one above it that has
    one), or the default. Flags win over the environment, the environment over the config.

    \b
    Example:
      launchtier config
      launchtier config --rules my-team-rules/
    """
    from launchtier.engine.ledger import where
    from launchtier.engine.rulebook.model import default_rulebook_path

    ctx = click.get_current_context()
    found = project_config(ctx)  # looked for even when every setting was given
    resolve(ctx, "format", None, None)  # no --format here: the config's, or each command's own
    defaults = {"rules": str(default_rulebook_path()), "db": where(None), **DEFAULT_WORDS}
    click.echo(one_line(f"config file: {shown(found.file)}" if found is not None else
                        "config file: none (no .launchtier.toml, nor pyproject.toml with [tool.launchtier], "
                        "here or above)"))
    for key in KEYS:
        value, source = ctx.meta[SOURCES][key]
        text = shown(value) if value is not None else defaults[key]
        if key == "db" and value is not None and "://" in value:
            text = where(value)  # a database URL as the ledger shows it: never its password
        click.echo(one_line(f"{key:<8} {text}  ({'from ' + shown(source) if source != DEFAULT else DEFAULT})"))

"""Where a command's settings came from: a flag, the environment, the project config, or the
default; and the project config's values for the options left unset.

The options that a project config can set (``--rules``, ``--db``, ``--format``, ``--mapping``)
each have a callback (:func:`setting`) that, when the option was not given on the command line
nor by its variable, takes the config's value, and notes the value and its source in the
context's ``meta``, which click shares between a command's context and its group's. What is
noted serves ``launchtier config``, the notice of an absent ledger, and the report of a
rulebook that will not load, which :mod:`.errors` makes after click has closed the command's
context (a path that is not on the command line is reported with where it came from).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from launchtier.engine.errors import Problem

ENV = "$LAUNCHTIER_RULES"
SOURCES = "launchtier.sources"  # {setting: (value, source)} of the settings of this run
CONFIG = "launchtier.config"  # the project config of this run, once looked for
DEFAULT = "default"

_GIVEN = {click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT, click.core.ParameterSource.PROMPT}


def project_config(ctx: click.Context):
    """The project config of this run (None: none found), looked for once."""
    if CONFIG not in ctx.meta:
        from launchtier.engine.config import find_project_config

        ctx.meta[CONFIG] = find_project_config()
    return ctx.meta[CONFIG]


def resolve(ctx: click.Context, key: str, value: Any, given: str | None, allowed: Any = None) -> Any:
    """``value`` of setting ``key`` when it was ``given`` (by a flag or a variable, as named);
    else the project config's value (when ``allowed`` has it), else ``value``, the default;
    noted with its source."""
    source = given
    if given is None:
        source = DEFAULT
        config = project_config(ctx)
        configured = config.values.get(key) if config is not None else None
        if configured is not None and (allowed is None or configured in allowed):
            value, source = configured, config.file
    ctx.meta.setdefault(SOURCES, {})[key] = (value, source)
    return value


def setting(key: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """The callback of an option the project config can set (as ``key``)."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        source = ctx.get_parameter_source(param.name)
        given = None
        if source == click.core.ParameterSource.ENVIRONMENT:
            given = f"${param.envvar}"
        elif source in _GIVEN:
            given = param.opts[0]
        allowed = param.type.choices if isinstance(param.type, click.Choice) else None
        return resolve(ctx, key, value, given, allowed)

    return callback


note_rules_source = setting("rules")  # the callback of --rules


def source_of(ctx: click.Context, key: str) -> str | None:
    """Where setting ``key`` of this run came from: a flag, a variable, a config file or
    ``default`` (None: the command has no such setting)."""
    noted = ctx.meta.get(SOURCES, {}).get(key)
    return noted[1] if noted is not None else None


def named_elsewhere(ctx: click.Context, key: str) -> str | None:
    """Where the value of setting ``key`` was named when not on the command line: its variable
    (``$LAUNCHTIER_DB``) or the project config file; None for a flag or the default."""
    source = ctx.meta.get(SOURCES, {}).get(key, (None, None))[1]
    return source if source is not None and source != DEFAULT and not source.startswith("-") else None


def rules_named_elsewhere(ctx: click.Context, problems: list[Problem]) -> str | None:
    """Where the rulebook whose ``problems`` are reported was named, when not on the command
    line ($LAUNCHTIER_RULES or the project config): the failed command took its --rules from
    there, and the problems are in that file (or in the directory it names), not in another
    rulebook the command read. None otherwise."""
    source = named_elsewhere(ctx, "rules")
    value = ctx.meta.get(SOURCES, {}).get("rules", (None, None))[0]
    if value is None or source is None:
        return None
    named = Path(value)
    if any(p.file and (Path(p.file) == named or named in Path(p.file).parents) for p in problems):
        return source
    return None

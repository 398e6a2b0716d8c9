"""Where a failed command's rulebook was named: by --rules, or by $LAUNCHTIER_RULES.

A rulebook that will not load is reported by :mod:`.errors`, after click has closed the
command's context, and the context is what knows each parameter's source. The failed command's
context is still held by the frames its error went through (click's own ``Command.invoke(ctx)``
among them), so it is read from there: the innermost context that has a ``rules_path``.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import click

from launchtier.engine.errors import Problem

ENV = "$LAUNCHTIER_RULES"


def rules_from_env(error: BaseException, problems: list[Problem]) -> bool:
    """Whether the rulebook whose ``problems`` ``error`` reports was named by $LAUNCHTIER_RULES:
    the failed command took its --rules from that variable, and the problems are in that file
    (or in the directory it names), not in another rulebook the command read."""
    ctx = _failed_context(error)
    if ctx is None or ctx.get_parameter_source("rules_path") != click.core.ParameterSource.ENVIRONMENT:
        return False
    named = Path(ctx.params["rules_path"])
    return any(p.file and (Path(p.file) == named or named in Path(p.file).parents) for p in problems)


def _failed_context(error: BaseException) -> click.Context | None:
    found = None
    for frame, _ in traceback.walk_tb(error.__traceback__):
        for value in frame.f_locals.values():
            if isinstance(value, click.Context) and "rules_path" in value.params:
                found = value
    return found

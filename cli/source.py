"""Where a failed command's rulebook was named: by --rules, or by $LAUNCHTIER_RULES.

A rulebook that will not load is reported by :mod:`.errors`, after click has closed the
command's context, and the context is what knows each parameter's source. So ``--rules``
notes, when it is parsed, the rulebook it took from the variable (:func:`note_rules_source`) in
the context's ``meta``, which click shares between a command's context and its group's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from launchtier.engine.errors import Problem

ENV = "$LAUNCHTIER_RULES"
META = "launchtier.rules_from_env"


def note_rules_source(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """The callback of ``--rules``: notes the rulebook path when it came from the variable."""
    if value is not None and ctx.get_parameter_source(param.name) == click.core.ParameterSource.ENVIRONMENT:
        ctx.meta[META] = value
    return value


def rules_from_env(ctx: click.Context, problems: list[Problem]) -> bool:
    """Whether the rulebook whose ``problems`` are reported was named by $LAUNCHTIER_RULES: the
    failed command took its --rules from that variable, and the problems are in that file (or
    in the directory it names), not in another rulebook the command read."""
    named = ctx.meta.get(META)
    if named is None:
        return False
    named = Path(named)
    return any(p.file and (Path(p.file) == named or named in Path(p.file).parents) for p in problems)

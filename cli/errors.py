"""Where the engine's exceptions become exit codes and messages, for every command.

Exit codes: 0 success; 1 a check found problems (a ledger changed outside launchtier among
them); 2 bad input or usage. The engine's own exceptions never reach the user as a traceback.
"""

from __future__ import annotations

import sys

import click

from launchtier.engine.errors import (EngineUnavailable, InputError, LaunchtierError, LedgerDamaged, LedgerError, LedgerMissing,
                                      RulebookError)

from .render.safe import one_line
from .source import named_elsewhere, rules_named_elsewhere


class BadInput(click.ClickException):
    """Bad input (a file, a value): every problem on its own line, exit code 2."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))

    def show(self, file=None) -> None:
        file = file or sys.stderr
        for line in self.problems:
            # one line each, whatever a key, a title or a file name holds
            click.echo(f"error: {one_line(line)}", err=True)
        if len(self.problems) > 1:
            click.echo(f"{len(self.problems)} problems; nothing was done.", err=True)


class Damaged(BadInput):
    """A ledger changed outside launchtier: not the user's input, a check that failed (exit code 1)."""

    exit_code = 1


class Group(click.Group):
    """Maps the engine's exceptions to exit codes, for every command of the group and its subgroups."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InputError as e:
            lines = [str(p) for p in e.problems]
            named = rules_named_elsewhere(ctx, e.problems) if isinstance(e, RulebookError) else None
            if named is not None:
                # the name is not on the command line: say where it came from
                lines = [f"{line} (from {named})" for line in lines]
            raise BadInput(lines) from None
        except LedgerDamaged as e:
            raise Damaged([str(e)]) from None
        except LedgerMissing as e:
            named = named_elsewhere(ctx, "db")  # not on the command line: say where it came from
            raise BadInput([f"{e.location} (from {named}): {e.what}" if named else str(e)]) from None
        except (EngineUnavailable, LedgerError) as e:
            raise BadInput([str(e)]) from None
        except LaunchtierError as e:
            raise click.ClickException(one_line(e)) from None

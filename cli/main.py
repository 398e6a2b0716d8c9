"""The ``launchtier`` command: the click group, and the commands added to it.

Each command (``commands/``) parses its options, calls one engine function, and renders the
result (``render/``); ``errors.py`` turns the engine's exceptions into exit codes. The command
modules do not import this one, so each imports on its own; this one imports a command's module
when the command is run or listed (click's lazy group), so that a one-off ``classify`` does not
load the ledger's, the review's and the rulebook's commands.
"""

from __future__ import annotations

from importlib import import_module

import click

from launchtier.engine.runtime import freeze_for_exit

from .errors import Group

# Each command's module (under commands/) and name there. ``launchtier --help`` lists them by name,
# as click always sorted them.
COMMANDS: dict[str, tuple[str, str]] = {
    "rules": ("rules", "rules"), "template": ("rules", "template"),
    "classify": ("items", "classify"), "explain": ("items", "explain"), "artifacts": ("items", "artifacts"),
    "review": ("review", "review"), "meeting": ("meeting", "meeting"),
    "record": ("ledger", "record"), "override": ("ledger", "override"), "decisions": ("ledger", "decisions"),
    "audit": ("ledger", "audit"), "ledger": ("ledger", "ledger_group"),
    "schema": ("schema", "schema"), "completion": ("completion", "completion"),
    "config": ("config", "config"),
}


class LazyGroup(Group):
    """The group whose commands are imported when first looked up (click's documented pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        # an unknown name loads them all: click suggests the closest among those it has
        for name in [cmd_name] if cmd_name in COMMANDS else COMMANDS:
            if name not in self.commands:
                module, attr = COMMANDS[name]
                self.add_command(getattr(import_module(f"{__package__}.commands.{module}"), attr), name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="launchtier", prog_name="launchtier")
def cli() -> None:
    """Classify roadmap items into launch tiers, explain why, and list the artifacts that follow.

    \b
    Example:
      launchtier classify examples/roadmap.yaml
      launchtier explain examples/roadmap.yaml --item PAY-12 --set customer_reach=20
    """


def main() -> None:
    try:
        cli(prog_name="launchtier")
    finally:
        freeze_for_exit()

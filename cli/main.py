"""The ``launchtier`` command: the click group, and the commands added to it.

Each command (``commands/``) parses its options, calls one engine function, and renders the
result (``render/``); ``errors.py`` turns the engine's exceptions into exit codes. The command
modules do not import this one, so each imports on its own.
"""

from __future__ import annotations

import click

from launchtier.engine.runtime import freeze_for_exit

from .commands import items, ledger, review, rules
from .errors import Group


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="launchtier", prog_name="launchtier")
def cli() -> None:
    """Classify roadmap items into launch tiers, explain why, and list the artifacts that follow.

    \b
    Example:
      launchtier classify examples/roadmap.yaml
      launchtier explain examples/roadmap.yaml --item PAY-12 --set customer_reach=20
    """


# in the order ``launchtier --help`` has always listed them (click sorts them by name)
for command in (rules.rules, rules.template, items.classify, items.explain, items.artifacts, review.review,
                ledger.record, ledger.override, ledger.decisions, ledger.audit):
    cli.add_command(command)


def main() -> None:
    try:
        cli(prog_name="launchtier")
    finally:
        freeze_for_exit()

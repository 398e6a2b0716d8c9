"""The ``completion`` command: the shell completion script of launchtier, as click writes it."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
PROG = "launchtier"
# the variable click's main() reads to complete a command line (``_{PROG}_COMPLETE``, as click
# names it for the program)
COMPLETE_VAR = "_LAUNCHTIER_COMPLETE"


def completion_script(command: click.Command, shell: str) -> str:
    """Click's completion script of ``command`` for ``shell``, for the ``launchtier`` executable."""
    from click.shell_completion import get_completion_class

    return get_completion_class(shell)(command, {}, PROG, COMPLETE_VAR).source()


@click.command()
@click.argument("shell", type=click.Choice(SHELLS, case_sensitive=False))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script of launchtier for bash (4.4 or later), zsh or fish:
    commands, options and their choices complete with Tab. See the README for where each shell
    reads it.

    \b
    Example:
      launchtier completion bash > ~/.launchtier-complete.bash   # sourced from ~/.bashrc
      launchtier completion zsh > ~/.launchtier-complete.zsh     # sourced from ~/.zshrc
      launchtier completion fish > ~/.config/fish/completions/launchtier.fish
    """
    click.echo(completion_script(ctx.find_root().command, shell.lower()))

"""``launchtier completion SHELL`` loaded into the real shell, which then completes a command line
through the installed ``launchtier``: bash by its completion function, fish by ``complete -C``,
zsh by its completion function with zsh's two builtins that show candidates (``_describe`` and
``compadd``, which work only inside the line editor) replaced by functions that print them.

zsh and fish are Debian packages; `.ci/run` installs them where it can, and where one is missing
its tests skip, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BIN = str(Path(sys.executable).parent)  # where the launchtier the shells run is installed


def _shell(name: str, script: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {name}); .ci/run installs it")
    env = {k: v for k, v in os.environ.items() if not k.startswith("_LAUNCHTIER")}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    run = subprocess.run([path, *(["-f"] if name == "zsh" else []), "-c", script], env=env, capture_output=True,
                         text=True, timeout=120)
    assert (run.returncode, run.stderr) == (0, ""), run.stdout
    return run.stdout


def test_bash_completes_a_command_an_option_value_and_registers_for_launchtier():
    out = _shell("bash", """
        source <(launchtier completion bash)
        complete -p launchtier
        COMP_WORDS=(launchtier sch); COMP_CWORD=1; _launchtier_completion launchtier; printf '%s\\n' "${COMPREPLY[@]}"
        COMPREPLY=(); COMP_WORDS=(launchtier classify x.yaml --format j); COMP_CWORD=4; _launchtier_completion launchtier
        printf '%s\\n' "${COMPREPLY[@]}"
    """)
    assert out == "complete -o nosort -F _launchtier_completion launchtier\nschema\njson\njsonl\n"


def test_fish_completes_a_command_and_an_option_value():
    out = _shell("fish", """
        launchtier completion fish | source
        complete -C 'launchtier sch'
        complete -C 'launchtier classify x.yaml --format j'
    """)
    assert out == "schema\tPrint the JSON Schema of a format\njson\njsonl\n"


def test_zsh_registers_the_function_and_it_completes_a_command_and_an_option_value():
    out = _shell("zsh", """
        autoload -U compinit && compinit -u -D
        source <(launchtier completion zsh)
        print -r -- $_comps[launchtier]
        _describe() { print -rl -- "${(@P)3}"; }
        compadd() { print -rl -- "${(@P)${@[-1]}}"; }
        words=(launchtier sch); CURRENT=2; _launchtier_completion
        words=(launchtier classify x.yaml --format j); CURRENT=5; _launchtier_completion
    """)
    assert out == "_launchtier_completion\nschema:Print the JSON Schema of a format, made...\njson\njsonl\n"

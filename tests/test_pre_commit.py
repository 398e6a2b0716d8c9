"""The pre-commit hooks (.pre-commit-hooks.yaml), run by pre-commit itself.

A temporary Git repository holds a team's rulebook, its rule tests and a .launchtier.toml naming
the rulebook. ``pre-commit try-repo`` installs this checkout into a hook environment, as a team's
``.pre-commit-config.yaml`` would, and runs both hooks: they pass on the rulebook as shipped and
fail, showing launchtier's own report, on a rulebook whose tier-2 no item can reach.

Slow: pre-commit builds a virtualenv and pip installs launchtier (and durable-rules) into it, from
PyPI, as it does for every user of the hooks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import DEFAULT_RULEBOOK, ROOT

pytestmark = pytest.mark.slow

HOOKS = ROOT / ".pre-commit-hooks.yaml"
LAUNCHTIER = Path(sys.executable).parent / "launchtier"
UNREACHABLE_TIER_2 = ("when: {launch: {gte: 2}}", "when: {launch: {gte: 99}}")


def test_the_hooks_file_offers_lint_and_test_on_the_whole_rulebook():
    hooks = yaml.safe_load(HOOKS.read_text())
    assert [(h["id"], h["entry"], h["language"], h["pass_filenames"], h["files"]) for h in hooks] == [
        ("launchtier-lint", "launchtier rules lint", "python", False, r"\.(ya?ml|toml)$"),
        ("launchtier-test", "launchtier rules test", "python", False, r"\.(ya?ml|toml)$"),
    ]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=PMM", "-c", "user.email=pmm@example.com", *args],
                   cwd=repo, check=True, capture_output=True)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAUNCHTIER_", "PRE_COMMIT"))}
    env.pop("COLUMNS", None)
    env["PRE_COMMIT_HOME"] = str(home)  # the hook environment, kept for the session's second run
    return env


@pytest.fixture(scope="module")
def team_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git is needed to test the pre-commit hooks")
    repo = tmp_path_factory.mktemp("team-rules")
    (repo / "rules" / "tests").mkdir(parents=True)
    shutil.copy(DEFAULT_RULEBOOK, repo / "rules" / "launch.yaml")
    for case_file in (DEFAULT_RULEBOOK.parent / "tests").glob("*.yaml"):
        shutil.copy(case_file, repo / "rules" / "tests" / case_file.name)
    (repo / ".launchtier.toml").write_text('rules = "rules/launch.yaml"\n')
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "the team's rulebook")
    return repo


def _try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess:
    """pre-commit try-repo on this checkout (its uncommitted changes too), every hook, all files."""
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "--all-files",
                           "--color", "never"], cwd=repo, env=_env(home), capture_output=True,
                          text=True, timeout=900)


def _hook_report(stdout: str) -> str:
    """What pre-commit says of the hooks: what follows its "Using config" block and its notes on
    installing the hook environment."""
    after_config = re.split(r"^=+$\n", stdout, flags=re.MULTILINE)[-1]
    return re.sub(r"\A(?:\[INFO\] .*\n)*", "", after_config)


def _launchtier(repo: Path, *args: str) -> str:
    run = subprocess.run([str(LAUNCHTIER), *args], cwd=repo, env=_env(repo), capture_output=True,
                         text=True, timeout=120)
    return run.stdout + run.stderr


def test_pre_commit_runs_both_hooks_and_they_pass_on_a_sound_rulebook(team_repo, tmp_path_factory):
    home = tmp_path_factory.mktemp("pre-commit-home")
    run = _try_repo(team_repo, home)
    assert (run.returncode, _hook_report(run.stdout)) == (0, (
        "launchtier rules lint....................................................Passed\n"
        "launchtier rules test....................................................Passed\n"
    )), run.stdout + run.stderr


def test_pre_commit_fails_with_launchtiers_report_when_a_tier_cannot_be_reached(team_repo, tmp_path_factory):
    rulebook = team_repo / "rules" / "launch.yaml"
    text = rulebook.read_text()
    assert text.count(UNREACHABLE_TIER_2[0]) == 1
    rulebook.write_text(text.replace(*UNREACHABLE_TIER_2))
    _git(team_repo, "commit", "-q", "-am", "tier-2 needs a launch score of 99")

    lint = _launchtier(team_repo, "rules", "lint")
    test = _launchtier(team_repo, "rules", "test")
    assert "tier-2" in lint and "FAIL" in test  # the edit breaks both, as the expectation below needs

    run = _try_repo(team_repo, tmp_path_factory.mktemp("pre-commit-home"))
    assert (run.returncode, _hook_report(run.stdout)) == (1, (
        "launchtier rules lint....................................................Failed\n"
        "- hook id: launchtier-lint\n"
        "- exit code: 1\n"
        "\n"
        f"{lint}\n"
        "launchtier rules test....................................................Failed\n"
        "- hook id: launchtier-test\n"
        "- exit code: 1\n"
        "\n"
        f"{test}\n"
    )), run.stdout + run.stderr

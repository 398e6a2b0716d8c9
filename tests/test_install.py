"""What a fresh machine installs: the locks agree with pyproject.toml, the wheel ships every module,
and the README's commands are the ones CI runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCKS = ROOT / "requirements"
REFRESH = "pip install uv && sh requirements/lock"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?: ; (?P<marker>[^\\]+?))? \\$", re.M)


def pins(lock: str) -> dict[str, tuple[str, str | None]]:
    """name -> (version, environment marker) of every package pinned in a lock file."""
    text = (LOCKS / lock).read_text(encoding="utf-8")
    found = {canonicalize_name(m["name"]): (m["version"], m["marker"]) for m in PIN.finditer(text)}
    assert found, f"requirements/{lock} pins nothing"
    return found


def requirements(group: str | None) -> list[Requirement]:
    project = PYPROJECT["project"]
    return [Requirement(r) for r in (project["dependencies"] if group is None else project["optional-dependencies"][group])]


@pytest.mark.parametrize(
    "lock, wanted",
    [("run.txt", requirements(None)),
     # CI tests the PostgreSQL store too: its extra is in the test lock
     ("test.txt", requirements(None) + requirements("test") + requirements("postgres")),
     ("build.txt", [Requirement(r) for r in PYPROJECT["build-system"]["requires"]])],
)
def test_every_requirement_of_pyproject_is_pinned_in_range_in_the_lock(lock, wanted):
    pinned = pins(lock)
    wrong = []
    for req in wanted:
        got = pinned.get(canonicalize_name(req.name))
        if got is None:
            wrong.append(f"{req} is not in requirements/{lock}")
        elif not req.specifier.contains(got[0], prereleases=True):
            wrong.append(f"{req.name}=={got[0]} in requirements/{lock} is outside pyproject.toml's {req}")
    assert not wrong, "\n".join(wrong) + f"\nthe lock and pyproject.toml disagree: refresh it with `{REFRESH}`"


def test_the_run_lock_has_the_versions_the_tests_ran_with():
    tested = pins("test.txt")
    different = {name: (pin, tested.get(name)) for name, pin in pins("run.txt").items() if tested.get(name) != pin}
    assert not different, f"run.txt pins what test.txt does not: {different}; refresh with `{REFRESH}`"


def test_every_pin_of_the_locks_has_hashes():
    for lock in ("run.txt", "test.txt", "build.txt"):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", (LOCKS / lock).read_text(encoding="utf-8").split("\n", 2)[2])
        unhashed = [block.split(" ", 1)[0] for block in blocks if "==" in block and "--hash=sha256:" not in block]
        assert not unhashed, f"requirements/{lock} pins without a hash: {unhashed}"


def readme_command(marker: str) -> str:
    """The one line of the README's shell blocks that contains ``marker``."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    lines = [line for block in blocks for line in block.splitlines(keepends=True) if marker in line]
    assert len(lines) == 1, f"README: {len(lines)} command lines with {marker!r}"
    return lines[0].rstrip("\n")


def test_ci_runs_the_readme_test_command_as_written():
    command = readme_command("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"README_TESTS='{command}'" in ci


@pytest.mark.parametrize("marker", ["python -m pytest", "launchtier review examples/roadmap.yaml\n"])
def test_the_readme_set_up_commands_install_from_the_locks(marker):
    command = readme_command(marker)
    lock = "test.txt" if "pytest" in marker else "run.txt"
    assert command.startswith(
        "python3 -m venv .venv && .venv/bin/pip install -q -r requirements/build.txt && "
        f".venv/bin/pip install -q --no-build-isolation -r requirements/{lock} && "
        ".venv/bin/pip install -q --no-build-isolation --no-deps "
    ), command


def source_files() -> set[str]:
    """Every file of the installed package as it sits in the checkout, as wheel paths."""
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    files = set()
    for package, folder in mapping.items():
        base = ROOT / folder
        for path in base.rglob("*"):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            relative = path.relative_to(base).as_posix()
            if path.suffix == ".py" or any(Path(relative).match(pattern) for pattern in data.get(package, [])):
                files.add(f"{package.replace('.', '/')}/{relative}")
            elif path.suffix in (".yaml", ".json", ".html", ".css", ".js", ".sql"):
                files.add(f"{package.replace('.', '/')}/{relative}")  # data the package-data patterns missed
    return files


@pytest.mark.slow
def test_the_wheel_ships_every_module_and_data_file(tmp_path):
    """A subpackage or data file left out of pyproject.toml works from a checkout and fails from
    an install: build the wheel and compare it with the folders."""
    source = tmp_path / "source"  # a copy: the build writes build/ and *.egg-info beside the sources
    for name in ("pyproject.toml", "README.md"):
        (source / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    for folder in PYPROJECT["tool"]["setuptools"]["package-dir"].values():
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = tmp_path.glob("launchtier-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if not name.startswith("launchtier-")}
        entry_points = next(archive.read(n) for n in archive.namelist() if n.endswith("entry_points.txt")).decode()
    expected = source_files()
    assert "launchtier/rules/default.yaml" in expected and "launchtier/engine/decide/classify.py" in expected
    assert sorted(expected - shipped) == [], "in the checkout, not in the wheel: list it in pyproject.toml"
    assert sorted(shipped - expected) == [], "in the wheel, not in the checkout"
    assert "launchtier = launchtier.cli.main:main" in entry_points

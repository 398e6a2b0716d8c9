"""The layout: every module of engine/ and cli/ imports on its own (no import cycle hides behind
the order a command happens to import them in), no two modules import each other, even inside a
function, no module borrows another's private names, and engine/ knows nothing of click."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"engine": "launchtier.engine", "cli": "launchtier.cli"}


def modules() -> list[tuple[str, Path]]:
    """(dotted name, path) of every module of engine/ and cli/."""
    found = []
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found.append((".".join([package, *parts]), path))
    return found


def test_the_layout_is_what_the_tests_walk():
    names = {name for name, _ in modules()}
    assert {"launchtier.cli.main", "launchtier.cli.commands.rules", "launchtier.cli.render.text",
            "launchtier.engine.roadmap.batch", "launchtier.engine.decide.pipeline"} <= names


@pytest.mark.slow
def test_every_module_imports_alone_in_one_process():
    """Each module imported with no launchtier module loaded before it (the quick check)."""
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    for loaded in [m for m in sys.modules if m == 'launchtier' or m.startswith('launchtier.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as e:\n"
        "        failed.append(f'{name}: {type(e).__name__}: {e}')\n"
        "print('\\n'.join(failed))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, *(name for name, _ in modules())],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name, _ in modules()])
def test_every_module_imports_alone_in_a_fresh_process(name):
    result = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def _source(node: ast.ImportFrom, path: Path, name: str) -> str:
    """The absolute name of the module a ``from X import ...`` of module ``name`` reads."""
    if not node.level:
        return node.module or ""
    package = (name if path.name == "__init__.py" else name.rpartition(".")[0]).split(".")
    return ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))


def _imports(path: Path, name: str) -> list[tuple[str, list[str], int]]:
    """(module, names, line) of each ``from X import names`` of a launchtier module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        module = _source(node, path, name)
        if module == "launchtier" or module.startswith("launchtier."):
            out.append((module, [a.name for a in node.names], node.lineno))
    return out


def test_no_module_imports_a_private_name_of_another():
    borrowed = []
    for name, path in modules():
        for module, names, line in _imports(path, name):
            parts = module.split(".")
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            private += [p for p in parts if p.startswith("_") and not p.startswith("__")]
            if private:
                borrowed.append(f"{path.relative_to(ROOT)}:{line}: {', '.join(private)} from {module}")
    assert borrowed == [], "make the name public, or move it where it is used:\n" + "\n".join(borrowed)


def test_the_engine_knows_nothing_of_click():
    offenders = []
    for name, path in modules():
        if not name.startswith("launchtier.engine"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "click" for a in node.names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "click" and not node.level:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_command_module_imports_the_group():
    """main.py adds the commands to the group; a command module importing it back is a cycle."""
    for name, path in modules():
        if name.startswith("launchtier.cli.commands"):
            assert all(module != "launchtier.cli.main" for module, _, _ in _imports(path, name)), name


def _runtime_imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The launchtier modules ``path`` imports when it runs: at the top or inside a function,
    but not under ``if TYPE_CHECKING:`` (annotations only)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            module = _source(node, path, name)
            for alias in node.names:  # ``from package import module`` imports the module
                found.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in known and m != name}


def test_no_import_cycle_even_through_imports_inside_functions():
    paths = dict(modules())
    graph = {name: _runtime_imports(path, name, set(paths)) for name, path in paths.items()}
    cycles, done, stack = [], set(), []

    def walk(name: str) -> None:
        if name in stack:
            cycles.append(" -> ".join(stack[stack.index(name):] + [name]))
            return
        if name in done:
            return
        stack.append(name)
        for other in sorted(graph[name]):
            walk(other)
        stack.pop()
        done.add(name)

    for name in sorted(graph):
        walk(name)
    assert cycles == []

"""The project config: ``.launchtier.toml``, or the ``[tool.launchtier]`` table of
``pyproject.toml``, in the current directory or the nearest folder above it that has one.

It gives the defaults of a project's commands: the rulebook, the ledger, the output format
and the mapping of CSV exports (its paths relative to the config file). Commands look for it
on every run, so finding it is a few ``stat`` calls per folder, and a ``pyproject.toml`` is
parsed (with ``tomllib``) only when it has a ``[tool.launchtier]`` header: a folder without a
config file costs no TOML parser, and no validation model.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from .errors import ConfigError, Problem

CONFIG_FILE = ".launchtier.toml"
PYPROJECT = "pyproject.toml"
# the settings, each the long option it is the default of
KEYS = ("rules", "db", "format", "mapping")
PATHS = ("rules", "db", "mapping")  # relative to the config file
# every command's --format values: a setting applies to the commands that offer it
FORMATS = ("table", "text", "json", "jsonl", "markdown", "csv", "yaml")

_TOOL_TABLE = re.compile(rb"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*launchtier[ \t]*[\].]", re.M)


class ProjectConfig(NamedTuple):
    file: str  # the config file, as found (absolute)
    values: dict[str, str]  # the settings given, paths resolved against the config file's folder


def find_config_file(start: str | os.PathLike | None = None) -> tuple[str, bool] | None:
    """The nearest config file from ``start`` (the current directory) upwards, and whether it
    is a ``pyproject.toml``; ``.launchtier.toml`` comes first in a folder that has both."""
    try:
        folder = os.path.abspath(start if start is not None else os.getcwd())
    except OSError:  # the current directory was removed: no folder to look in
        return None
    while True:
        candidate = os.path.join(folder, CONFIG_FILE)
        if os.path.isfile(candidate):
            return candidate, False
        candidate = os.path.join(folder, PYPROJECT)
        if os.path.isfile(candidate) and _has_tool_table(candidate):
            return candidate, True
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _has_tool_table(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return _TOOL_TABLE.search(f.read(4 * 1024 * 1024)) is not None
    except OSError:
        return False


def find_project_config(start: str | os.PathLike | None = None) -> ProjectConfig | None:
    """The project config that applies in ``start`` (the current directory), checked; None
    when there is none. A config that cannot be used is a :class:`ConfigError`."""
    found = find_config_file(start)
    if found is None:
        return None
    path, in_pyproject = found
    return load_config(path, in_pyproject=in_pyproject)


def load_config(path: str, *, in_pyproject: bool = False) -> ProjectConfig:
    import tomllib

    from .files.yamlio import EmptyFile, FileProblem, read_text

    try:
        text = read_text(path, kind="a config file", advice="keep only launchtier's settings in it")
    except EmptyFile:
        return ProjectConfig(path, {})
    except FileProblem as e:
        raise ConfigError([e.problem]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        found = re.fullmatch(r"(?s)(.*) \(at line (\d+), column (\d+)\)", str(e))
        message, line = (f"{found[1]} (column {found[3]})", int(found[2])) if found else (str(e), None)
        raise ConfigError([Problem(f"invalid TOML: {message}", file=path, line=line)]) from None
    table: tuple[str, ...] = ()
    if in_pyproject:
        table = ("tool", "launchtier")
        tool = data.get("tool", {})
        data = tool.get("launchtier", {}) if isinstance(tool, dict) else {}
        if not isinstance(data, dict):
            raise ConfigError([Problem("[tool.launchtier] must be a table of settings "
                                       f"({', '.join(KEYS)})", file=path, line=_line_of(text, ("tool",), "launchtier"))])
    settings = _validated(data, path, text, table)
    folder = os.path.dirname(path)
    values = {key: _resolved(folder, value) if key in PATHS and "://" not in value else value
              for key, value in settings.items() if value is not None}
    return ProjectConfig(path, values)


def _resolved(folder: str, value: str) -> str:
    return str(Path(folder, value))


def _validated(data: dict, path: str, text: str, table: tuple[str, ...]) -> dict[str, str | None]:
    """The settings, checked: every problem at once, each naming the key and what it allows."""
    from pydantic import ValidationError

    from .files.validation import problems_from

    model = _model()
    try:
        return model.model_validate(data).model_dump()
    except ValidationError as err:
        problems = problems_from(err, model=model, raw=data, file=path, prefix=table)
    raise ConfigError([replace(p, line=_line_of(text, table, p.field.split(".")[len(table)])) if p.field else p
                       for p in problems])


_MODEL = None


def _model():
    """The settings model, built when a config is read: a run without one needs no pydantic model."""
    global _MODEL
    if _MODEL is None:
        from typing import Literal

        from pydantic import BaseModel, ConfigDict, Field

        class Settings(BaseModel):
            model_config = ConfigDict(extra="forbid", strict=True)

            rules: str | None = Field(default=None, min_length=1, description="the rulebook file or directory")
            db: str | None = Field(default=None, min_length=1, description="the ledger")
            format: Literal[FORMATS] | None = Field(default=None, description="the default --format")  # type: ignore[valid-type]
            mapping: str | None = Field(default=None, min_length=1, description="the mapping of CSV exports")

        _MODEL = Settings
    return _MODEL


def _line_of(text: str, table: tuple[str, ...], key: str) -> int | None:
    """The line of ``key`` in the TOML ``table`` (``()``: at the top), found in the text
    (tomllib keeps no lines); None when it is not written as ``key = ...`` there."""
    current: tuple[str, ...] = ()
    header = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    for number, line in enumerate(text.splitlines(), 1):
        found = header.match(line)
        if found:
            current = tuple(part.strip().strip("\"'") for part in found[1].split("."))
            if current == (*table, key):  # a table of its own, where a value belongs
                return number
            continue
        if current == table and re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
    return None

"""Roadmap exports as item files: a CSV export of a roadmap tool, read through a mapping file.

Teams already keep their roadmap in a tool (Jira, Productboard, ...) and should not retype it. A
mapping file (YAML) says which export column is the item's key, title, quarter, and where each
signal's answer comes from:

```yaml
key: Issue key
title: Summary
pm: Assignee
quarter: {column: Fix Version/s, from: version}      # "Billing 2027.Q1" -> 2027-Q1
signals:
  customer_reach: Custom field (Customer reach %)    # the cell is the value
  audience:                                          # cell texts mapped to values
    column: Custom field (Audience)
    values: {Admins: admin, End users: end_user, Buyers: buyer}
  new_market: {column: Labels, contains: new-market} # yes when the list holds the text
  exec_priority: {value: false}                      # the same for every row
skip: {column: Status, values: ["Won't Do"]}         # rows that are not on the roadmap
```

The mapping is checked against the rulebook (signal names, the values it maps to) and against the
export's header (every column it names) before any row is read, so that a typo in the mapping is
one error, not one per row. A row's mistakes then name the CSV file, the row's line, the item key
and the *column*: the person fixing them looks at the export, not at the rulebook's signal names.

Real exports repeat a header for a multi-value field (Jira writes one ``Labels`` column per
label). Every column is kept, and a repeated header is read as the list of its cells.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from ..rulebook.conditions import suggest
from ..errors import ItemError, Problem
from .model import FALSE_WORDS, TRUE_WORDS, ItemBase, ItemReader
from ..rulebook.model import EnumSignal, IntSignal, Rulebook
from ..files.validation import problems_from
from ..files.yamlio import MAX_BYTES, FileProblem, LineDict, line_of, parse_yaml, read_text

__all__ = ["ExportMapping", "load_mapping", "quarter_from_date", "quarter_from_version", "read_mapped"]

VERSION_FORMS = "2027-Q1, 2027 Q1, Q1 2027, Q1-2027 or Release 2027.Q1"
DATE_FORMS = "2027-02-15, 15/02/2027 (day first), 15/Feb/27, or a timeframe like 2027-01-01 - 2027-03-31"


# ---- the mapping file ---------------------------------------------------------------------


def _cell_text(v: Any) -> Any:
    """A cell text written in YAML: numbers are fine as text, but yes/no/true/false are not.

    YAML reads an unquoted ``yes`` or ``No`` as a boolean, and then which word the export writes
    is lost; asking for quotes is the only way to match the cell the user meant.
    """
    if isinstance(v, bool):
        raise ValueError("YAML reads this as true/false, so the cell text is lost; quote it, e.g. 'Yes'")
    if isinstance(v, (int, float)):
        return str(v)
    return v


Column = Annotated[StrictStr, Field(min_length=1, description="A column name of the export's header")]
CellText = Annotated[StrictStr, BeforeValidator(_cell_text), Field(min_length=1)]
Value = StrictBool | StrictInt | StrictStr  # strict: `value: 1` must not become true, or "1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _column_shorthand(v: Any, shapes: str) -> Any:
    """A plain column name stands for ``{column: name}``; anything else but a mapping is refused
    with ``shapes``, the forms allowed."""
    if isinstance(v, str):
        return {"column": v}
    if not isinstance(v, dict):
        raise ValueError(shapes)
    return v


class QuarterSpec(_Model):
    """Where the planned quarter comes from; a plain column name means ``from: version``."""

    column: Column
    from_: Literal["version", "date"] = Field(default="version", alias="from")

    @model_validator(mode="before")
    @classmethod
    def _column_name(cls, v: Any) -> Any:
        return _column_shorthand(v, "a quarter comes from a column name, or {column: ..., from: version or date}")


class SignalSpec(_Model):
    """Where one signal's answer comes from: a column, a column's texts, a list entry, or a constant."""

    column: Column | None = None
    values: dict[CellText, Value] | None = Field(default=None, min_length=1)
    default: Value | None = None
    contains: CellText | None = None
    value: Value | None = None

    @model_validator(mode="before")
    @classmethod
    def _column_name(cls, v: Any) -> Any:
        return _column_shorthand(v, "a signal comes from a column name, {column: ..., values: {...}}, "
                                    "{column: ..., contains: ...} or {value: ...}")

    @field_validator("values", mode="before")
    @classmethod
    def _text_keys(cls, v: Any) -> Any:
        if isinstance(v, dict):
            words = [k for k in v if isinstance(k, bool)]
            if words:
                raise ValueError(
                    "a cell text is read by YAML as true/false (an unquoted Yes, No, On, Off, True or False), "
                    "so the text the export writes is lost; quote it, e.g. 'Yes': ..."
                )
        return v

    @model_validator(mode="after")
    def _one_form(self) -> "SignalSpec":
        if self.value is not None:
            others = [f for f in ("column", "values", "default", "contains") if getattr(self, f) is not None]
            if others:
                raise ValueError(f"a constant {{value: ...}} takes nothing else (remove {', '.join(others)})")
        elif self.column is None:
            raise ValueError("missing 'column'; a signal comes from a column, or is a constant {value: ...}")
        elif self.contains is not None and (self.values is not None or self.default is not None):
            raise ValueError("'contains' answers yes or no by itself; it takes no values or default")
        if self.values is not None:
            seen: dict[str, str] = {}
            for text in self.values:
                folded = _fold(text)
                if folded in seen:
                    raise ValueError(f"cell texts {seen[folded]!r} and {text!r} are the same (cells match ignoring case)")
                seen[folded] = text
        return self

    @property
    def form(self) -> str:
        if self.value is not None:
            return "value"
        if self.contains is not None:
            return "contains"
        return "values" if self.values is not None else "column"

    def lookup(self, cell: str) -> tuple[bool, Any]:
        """The value a ``values`` table gives a cell (case and surrounding spaces ignored)."""
        folded = _fold(cell)
        for text, value in (self.values or {}).items():
            if _fold(text) == folded:
                return True, value
        return False, None


class SkipSpec(_Model):
    """Rows to leave out, e.g. issues closed as Won't Do."""

    column: Column
    values: list[CellText] = Field(min_length=1)


class ExportMapping(_Model):
    """A mapping file: which export columns make an item (see the module docstring)."""

    key: Column
    title: Column
    description: Column | None = None
    pm: Column | None = None
    pmm: Column | None = None
    quarter: QuarterSpec | None = None
    links: Column | None = None
    signals: dict[str, SignalSpec] = Field(default_factory=dict)
    skip: SkipSpec | None = None


# Which model reads each part of a mapping file, to list the allowed fields of an unknown one.
_FIELDS_AT = {"": ExportMapping, "quarter": QuarterSpec, "skip": SkipSpec, "signals.*": SignalSpec}


@dataclass
class _LoadedMapping:
    mapping: ExportMapping | None  # None when the file has structural problems
    raw: Any
    problems: list[Problem]


def load_mapping(path: str, rulebook: Rulebook) -> ExportMapping:
    """A mapping file, checked against the rulebook; every problem of the file in one ItemError."""
    loaded = _load(str(path), rulebook)
    if loaded.problems or loaded.mapping is None:
        raise ItemError(loaded.problems)
    return loaded.mapping


def _load(name: str, book: Rulebook) -> _LoadedMapping:
    """The mapping and all its problems: structure, and (as far as the structure allows) rulebook."""
    try:
        raw = parse_yaml(read_text(name), name)
    except FileProblem as e:
        return _LoadedMapping(None, None, [e.problem])
    if not isinstance(raw, dict):
        return _LoadedMapping(None, raw, [Problem("a mapping file is a mapping with key, title, quarter and signals", file=name)])
    mapping = None
    problems: list[Problem] = []
    try:
        mapping = ExportMapping.model_validate(raw)
    except ValidationError as err:
        problems = [_readable(p) for p in problems_from(err, model=ExportMapping, raw=raw, file=name)]
    # the signals are checked one by one, so that a typo elsewhere does not hide their problems
    problems.extend(_rulebook_problems(raw, book, name))
    return _LoadedMapping(mapping, raw, sorted(problems, key=lambda p: p.line or 0))


def _readable(p: Problem) -> Problem:
    message = p.message
    if message.startswith("unknown field") and "(allowed" not in message:
        # pydantic cannot see through `QuarterSpec | None`; the mapping's own table can
        parts = (p.field or "").split(".")[:-1]
        at = "signals.*" if len(parts) == 2 and parts[0] == "signals" else ".".join(parts)
        model = _FIELDS_AT.get(at)
        if model is not None:
            allowed = [f.alias or n for n, f in model.model_fields.items()]  # `from`, not from_
            unknown = (p.field or "").split(".")[-1]
            message = f"unknown field '{unknown}'{suggest(unknown, allowed)} (allowed: {', '.join(allowed)})"
    return Problem(message, file=p.file, line=p.line, field=p.field)


def _rulebook_problems(raw: dict, book: Rulebook, name: str) -> list[Problem]:
    """Signal names, the values a mapping gives them, and the signals it must not leave out."""
    problems: list[Problem] = []
    names = list(book.signals)

    def report(path: tuple, message: str) -> None:
        problems.append(Problem(message, file=name, line=_line(raw, path), field=_path_text(path)))

    signals = raw.get("signals", {})
    if not isinstance(signals, dict):
        return problems  # the model says what a signals section is
    for signal, entry in signals.items():
        if signal not in book.signals:
            report(("signals", signal), f"unknown signal '{signal}'{suggest(str(signal), names)} (signals: {', '.join(names)})")
            continue
        try:
            spec = SignalSpec.model_validate(entry)
        except ValidationError:
            continue  # the model's problem is reported already
        sig = book.signals[signal]
        if spec.form == "contains" and sig.type != "bool":
            report(
                ("signals", signal, "contains"),
                f"'contains' answers yes or no, but {signal} is {book.signal_info(signal).describe()}; "
                "map the column's texts with 'values' instead",
            )
        for text, value in (spec.values or {}).items():
            wrong = _not_a_value(book, signal, value)
            if wrong:
                report(("signals", signal, "values", text), wrong)
        for field in ("default", "value"):
            value = getattr(spec, field)
            wrong = _not_a_value(book, signal, value) if value is not None else None
            if wrong:
                report(("signals", signal, field), wrong)
    for signal, sig in book.signals.items():
        if sig.default is None and signal not in signals:
            report(
                ("signals",),
                f"signal '{signal}' has no default, so the mapping must say where it comes from "
                f"(a column, or a constant {{value: ...}}); it is {book.signal_info(signal).describe()}",
            )
    return problems


def _columns_named(raw: dict) -> list[tuple[tuple, str]]:
    """Every column a mapping file names, with the path of the entry: read from the file as
    written, so that columns are checked even when another part of the file is wrong."""
    found: list[tuple[tuple, str]] = []

    def column_of(path: tuple, entry: Any) -> None:
        if isinstance(entry, str):
            found.append((path, entry))
        elif isinstance(entry, dict) and isinstance(entry.get("column"), str):
            found.append((path + ("column",), entry["column"]))

    for field in ("key", "title", "description", "pm", "pmm", "links", "quarter", "skip"):
        column_of((field,), raw.get(field))
    signals = raw.get("signals")
    for signal, entry in (signals.items() if isinstance(signals, dict) else ()):
        column_of(("signals", signal), entry)
    return found


def _not_a_value(book: Rulebook, signal: str, value: Any) -> str | None:
    """Why ``value`` is not an answer the signal allows, or None when it is."""
    sig = book.signals[signal]
    allowed = book.signal_info(signal).describe()
    if isinstance(sig, EnumSignal):
        if isinstance(value, str) and value in sig.values:
            return None
        hint = suggest(value, sig.values) if isinstance(value, str) else ""
        return f"{_show(value)} is not a value of signal {signal} (expected {allowed}){hint}"
    if isinstance(sig, IntSignal):
        if isinstance(value, int) and not isinstance(value, bool) and sig.allows(value):
            return None
        return f"{_show(value)} is not allowed for signal {signal}; expected {allowed}"
    if isinstance(value, bool):
        return None
    return f"{_show(value)} is not allowed for signal {signal}; expected {allowed}"


# ---- quarters -----------------------------------------------------------------------------

# A year of four digits next to Q1-Q4, in either order, with an optional separator. The year must
# not follow a letter: "FY2027 Q1" is a fiscal quarter, and reading it as a calendar one would be
# silently wrong for every company whose fiscal year does not start in January.
_VERSION = re.compile(
    r"(?<![A-Za-z0-9])(?:(?P<y1>\d{4})\s*[-./_ ]?\s*Q(?P<q1>[1-4])|Q(?P<q2>[1-4])\s*[-./_ ]?\s*(?P<y2>\d{4}))(?![0-9])",
    re.IGNORECASE,
)
_RANGE = re.compile(r"\s+(?:[-–—]|to)\s+", re.IGNORECASE)
_ISO_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?![0-9])")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?![0-9])")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})[/ -]([A-Za-z]{3})[A-Za-z]*[/ -](\d{4}|\d{2})(?![0-9])")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def quarter_from_version(text: str) -> str | None:
    """The quarter a release or version name mentions: "Release 2027.Q1" -> "2027-Q1"; else None."""
    m = _VERSION.search(text)
    if m is None:
        return None
    year, quarter = (m["y1"], m["q1"]) if m["y1"] else (m["y2"], m["q2"])
    return f"{year}-Q{quarter}"


def quarter_from_date(text: str) -> str | None:
    """The quarter of a date, or of a timeframe's start date: "2027-01-01 - 2027-03-31" -> "2027-Q1".

    A timeframe that spans quarters counts from its start, when the work is planned to ship first.
    Slashed numeric dates are read day first (15/02/2027): month-first dates are ambiguous for
    the first twelve days of every month, and a quarter silently off by one is worse than an error.
    """
    start = _RANGE.split(text.strip(), maxsplit=1)[0].strip()
    date = _date(start)
    if date is None:
        return None
    return f"{date.year}-Q{(date.month - 1) // 3 + 1}"


def _date(text: str) -> dt.date | None:
    if m := _ISO_DATE.match(text):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := _DAY_FIRST.match(text):
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    elif (m := _DAY_MONTH_NAME.match(text)) and m[2].lower() in _MONTHS:
        # Jira's own date format, e.g. 15/Feb/27 9:30 AM
        d, mo, y = int(m[1]), _MONTHS[m[2].lower()], int(m[3])
        y += 2000 if y < 100 else 0
    else:
        return None
    try:
        return dt.date(y, mo, d)
    except ValueError:
        return None


# ---- reading an export --------------------------------------------------------------------


def read_mapped(csv_path: str, mapping_path: str, rulebook: Rulebook, data: bytes | None = None) -> list[ItemBase]:
    """The items of a roadmap tool's CSV export, read through a mapping file.

    Problems of the mapping and of the export's header are reported first, together (rows cannot
    be read without them); then every row's problems at once. ``-`` reads the export from
    standard input, like the item files.
    """
    name = "<stdin>" if csv_path == "-" else str(csv_path)
    if csv_path == "-" and data is None:
        data = sys.stdin.buffer.read(MAX_BYTES + 1)  # past the limit, read_text refuses it
    loaded = _load(str(mapping_path), rulebook)
    problems = list(loaded.problems)
    export: _Export | None = None
    try:
        export = _Export.parse(read_text(name, data), name)
    except FileProblem as e:
        problems.append(e.problem)
    if isinstance(loaded.raw, dict) and export is not None:
        problems.extend(_column_problems(loaded.raw, str(mapping_path), export))
        # the mapping file's problems in the order of its lines, then the export's
        problems.sort(key=lambda p: (p.file != str(mapping_path), p.line or 0))
    if problems or loaded.mapping is None or export is None:
        raise ItemError(problems)
    return _Rows(loaded.mapping, rulebook, export, str(mapping_path)).items()


def _column_problems(raw: dict, mapping_name: str, export: "_Export") -> list[Problem]:
    """Columns the mapping names that the export lacks: reported once, at the mapping's line."""
    problems = []
    header = export.names()
    for path, column in _columns_named(raw):
        if column not in export.columns:
            problems.append(Problem(
                f"no column '{column}' in {export.name}{suggest(column, header)} (columns: {', '.join(header)})",
                file=mapping_name, line=_line(raw, path), field=_path_text(path),
            ))
    return problems


@dataclass
class _Export:
    """A CSV export: its header (repeated names kept as lists of positions) and its rows."""

    name: str
    columns: dict[str, list[int]]
    width: int
    rows: list[tuple[int, list[str]]]  # (line where the row starts, cells)

    @classmethod
    def parse(cls, text: str, name: str) -> "_Export":
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise FileProblem(Problem("is empty", file=name)) from None
        except csv.Error as e:
            raise FileProblem(Problem(f"invalid CSV: {e}", file=name, line=1)) from None
        columns: dict[str, list[int]] = {}
        for i, column in enumerate(header):
            columns.setdefault(column, []).append(i)
        rows = []
        end = reader.line_num
        try:
            for row in reader:
                # a quoted cell may span lines: a row starts just after the previous one ends
                start, end = end + 1, reader.line_num
                if any(cell.strip() for cell in row):
                    rows.append((start, row))
        except csv.Error as e:
            raise FileProblem(Problem(f"invalid CSV: {e}", file=name, line=reader.line_num)) from None
        if not rows:
            raise FileProblem(Problem("holds no items (a header but no rows)", file=name))
        return cls(name, columns, len(header), rows)

    def names(self) -> list[str]:
        return [c for c in self.columns if c]

    def cells(self, row: list[str], column: str) -> list[str]:
        """The non-empty cells of a column in a row; several when the header repeats the column."""
        return [row[i].strip() for i in self.columns.get(column, []) if i < len(row) and row[i].strip()]


class _Rows:
    """Turns each row of an export into an item, collecting every problem of the file."""

    def __init__(self, mapping: ExportMapping, book: Rulebook, export: _Export, mapping_name: str):
        self.mapping = mapping
        self.book = book
        self.export = export
        self.mapping_name = mapping_name
        self.reader = ItemReader(book)

    def items(self) -> list[ItemBase]:
        items: list[ItemBase] = []
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        skipped = 0
        for line, row in self.export.rows:
            key = self._one(row, self.mapping.key, line, None, [])
            if len(row) != self.export.width:
                problems.append(Problem(
                    f"row has {len(row)} cells but the header has {self.export.width} columns",
                    file=self.export.name, line=line, item=key,
                ))
                continue
            if self._skipped(row):
                skipped += 1
                continue
            if key is not None and key in seen:
                problems.append(Problem(
                    f"duplicate key (also on line {seen[key]}); keys are unique in an export",
                    file=self.export.name, line=line, item=key, field=self.mapping.key,
                ))
                continue
            if key is not None:
                seen[key] = line
            item = self._item(row, line, key, problems)
            if item is not None:
                items.append(item)
        if not items and not problems:
            problems.append(Problem(
                f"holds no items: all {skipped} rows are skipped by the mapping's skip", file=self.export.name,
            ))
        if problems:
            raise ItemError(problems)
        return items

    def _skipped(self, row: list[str]) -> bool:
        skip = self.mapping.skip
        if skip is None:
            return False
        drop = {_fold(v) for v in skip.values}
        return any(_fold(cell) in drop for cell in self.export.cells(row, skip.column))

    # ---- one row ------------------------------------------------------------------------
    def _item(self, row: list[str], line: int, key: str | None, problems: list[Problem]) -> ItemBase | None:
        """One row as an item, validated by the item model; the model's problems are re-pointed
        from item fields (signals.audience) to the columns they came from, which the user edits."""
        m = self.mapping
        found: list[Problem] = []
        raw: dict[str, Any] = {}
        where: dict[str, str] = {}  # item field -> the column it came from, for the model's errors
        for field in ("key", "title", "description", "pm", "pmm"):
            column = getattr(m, field)
            if column is not None:
                where[field] = column
                value = self._one(row, column, line, key, found)
                if value is not None:
                    raw[field] = value
        if m.links is not None:
            where["links"] = m.links
            raw["links"] = [p for cell in self.export.cells(row, m.links) for p in re.split(r"[\s,;]+", cell) if p]
        if m.quarter is not None:
            where["quarter"] = m.quarter.column
            quarter = self._quarter(m.quarter, row, line, key, found)
            if quarter is not None:
                raw["quarter"] = quarter
        signals: dict[str, Any] = {}
        for name, spec in m.signals.items():
            if spec.column is not None:
                where[f"signals.{name}"] = spec.column
            before = len(found)
            value = self._signal(name, spec, row, line, key, found)
            if value is not _UNSET:
                signals[name] = value
            elif len(found) > before:
                # already reported; a placeholder keeps the model from also calling it missing
                signals[name] = self._placeholder(name)
        raw["signals"] = signals
        try:
            item = self.reader.validate(raw, self.export.name)
        except ItemError as e:
            reported = {p.field for p in found}
            for p in e.problems:
                column = where.get(p.field or "", p.field)
                if column in reported:
                    continue
                message = p.message
                if p.field and p.field.startswith("signals."):
                    message = f"signal {p.field.removeprefix('signals.')}: {message}"
                found.append(Problem(message, file=self.export.name, line=line, item=key, field=column))
            item = None
        problems.extend(found)
        return item if not found else None

    def _one(self, row: list[str], column: str, line: int, key: str | None, found: list[Problem]) -> str | None:
        """The cell of a single-value column; a repeated column holding several values is an error."""
        cells = self.export.cells(row, column)
        if len(cells) > 1:
            found.append(Problem(
                f"holds {len(cells)} values ({', '.join(repr(c) for c in cells)}) in its repeated columns; expected one",
                file=self.export.name, line=line, item=key, field=column,
            ))
            return None
        return cells[0] if cells else None

    def _quarter(self, spec: QuarterSpec, row: list[str], line: int, key: str | None, found: list[Problem]) -> str | None:
        if spec.from_ == "version":
            parse, expected = quarter_from_version, f"no quarter in {{!r}}; expected a version naming one, like {VERSION_FORMS}"
        else:
            parse, expected = quarter_from_date, f"no date in {{!r}}; expected a date like {DATE_FORMS}"
        quarters = []
        for cell in self.export.cells(row, spec.column):
            quarter = parse(cell)
            if quarter is None:
                fiscal = " (fiscal years are not read: they differ from calendar quarters)" if re.search(r"\bFY", cell, re.I) else ""
                found.append(Problem(
                    expected.format(cell) + fiscal,
                    file=self.export.name, line=line, item=key, field=spec.column,
                ))
                return None
            quarters.append(quarter)
        # several fix versions: the item ships first in the earliest
        return min(quarters) if quarters else None

    def _signal(self, name: str, spec: SignalSpec, row: list[str], line: int, key: str | None, found: list[Problem]) -> Any:
        if spec.form == "value":
            return spec.value
        column = spec.column or ""  # every form but a constant has one
        cells = self.export.cells(row, column)
        if spec.form == "contains":
            wanted = _fold(spec.contains or "")
            return any(_fold(part) == wanted for cell in cells for part in re.split(r"[,;]", cell))

        def problem(message: str) -> Any:
            found.append(Problem(f"signal {name}: {message}", file=self.export.name, line=line, item=key, field=column))
            return _UNSET

        if not cells:
            return spec.default if spec.default is not None else _UNSET  # _UNSET: the rulebook's default
        if len(cells) > 1:
            return problem(f"holds {len(cells)} values ({', '.join(repr(c) for c in cells)}) in its repeated columns; expected one")
        cell = cells[0]
        if spec.form == "values":
            known, value = spec.lookup(cell)
            if not known:
                texts = ", ".join(repr(t) for t in spec.values or {})
                empty = ", or an empty cell" if spec.default is not None or self.book.signals[name].default is not None else ""
                hint = suggest(cell, list(spec.values or {}))
                fix = f"add it to signals.{name}.values of {self.mapping_name}"
                return problem(
                    f"{cell!r} is not a cell text the mapping knows (allowed: {texts}{empty})"
                    + (f"{hint} Or {fix}" if hint else f"; {fix}")
                )
            return value
        return self._typed(name, cell, problem)

    def _typed(self, name: str, cell: str, problem: Any) -> Any:
        """A cell that is the value itself, read as the signal's type."""
        sig = self.book.signals[name]
        info = self.book.signal_info(name)
        if sig.type == "bool":
            word = cell.lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            return problem(f"{cell!r} is not allowed; expected true/false, yes/no, y/n or 1/0")
        if sig.type == "int":
            number = _whole_number(cell)
            if number is None:
                return problem(f"{cell!r} is not a whole number; expected {info.describe()}")
            return number
        # enum: "End user" finds end_user; anything else goes to the model, which suggests a value
        wanted = _fold(cell).replace(" ", "_").replace("-", "_")
        for value in info.values:
            if _fold(value) == wanted:
                return value
        return cell

    def _placeholder(self, name: str) -> Any:
        sig = self.book.signals[name]
        if isinstance(sig, EnumSignal):
            return sig.values[0]
        if isinstance(sig, IntSignal):
            return sig.min if sig.min is not None else 0
        return False


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


def _whole_number(text: str) -> int | None:
    """ "40", "40.0" (Jira writes number fields so) and "40%" are 40; anything else is not a number."""
    t = text.strip().removesuffix("%").strip()
    m = re.fullmatch(r"([+-]?\d+)(?:\.0*)?", t)
    return int(m[1]) if m else None


def _fold(text: str) -> str:
    return text.strip().casefold()


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def _line(raw: Any, path: tuple) -> int | None:
    """The line of the deepest entry of ``path`` found in the mapping file as read."""
    line = None
    node = raw
    for part in path:
        if not isinstance(node, dict) or part not in node:
            break
        line = line_of(node, part) or line
        node = node[part]
    if isinstance(node, LineDict) and node.line and line is None:
        line = node.line
    return line


def _path_text(path: tuple) -> str:
    return ".".join(str(p) for p in path)

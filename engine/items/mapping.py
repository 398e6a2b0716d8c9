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
  positioning: {column: Labels, prefix: "positioning:"}  # the label positioning:changes gives changes
  exec_priority: {value: false}                      # the same for every row
skip: {column: Status, values: ["Won't Do"]}         # rows that are not on the roadmap
date_order: month-first                              # 3/4/2027 is March 4 (else refused: ambiguous)
fiscal_year_start: 7                                 # FY2027 runs July 2026 - June 2027
fiscal_year_named_by: end                            # the default; start: FY2027 runs July 2027 - June 2028
```

The mapping is checked against the rulebook (signal names, the values it maps to) and against the
export's header (every column it names) before any row is read, so that a typo in the mapping is
one error, not one per row. A row's mistakes then name the CSV file, the row's line, the item key
and the *column*: the person fixing them looks at the export, not at the rulebook's signal names.

Real exports repeat a header for a multi-value field (Jira writes one ``Labels`` column per
label). Every column is kept, and a repeated header is read as the list of its cells. Other tools
join a list into one cell ("new-market, payouts"): where a mapping reads labels (``contains``,
``prefix``, ``labels``), each cell is split at commas and semicolons.

Nothing is guessed that could land an item in the wrong quarter without a word: a slashed date
both of whose parts could be the month (3/4/2027) is refused until the mapping says
``date_order``, and a fiscal quarter (FY27 Q1) until it says ``fiscal_year_start``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Callable, Literal

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

VERSION_FORMS = "2027-Q1, 2027 Q1, Q1 2027, Q1-2027, Release 2027.Q1, or a fiscal quarter like FY27 Q1"
DATE_FORMS = "2027-02-15, 15/02/2027, 15/Feb/27, or a timeframe like 2027-01-01 - 2027-03-31"


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


def _month(v: Any) -> Any:
    """A month number 1-12, the first month of the fiscal year."""
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 12:
        raise ValueError("expected the month the fiscal year starts in, 1 (January) to 12 (December), "
                         "e.g. 7 when FY2027 runs from July 2026 to June 2027")
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
    # the labels (of a Labels column, say) that name the quarter; the others are not read
    prefix: CellText | None = None

    @model_validator(mode="before")
    @classmethod
    def _column_name(cls, v: Any) -> Any:
        return _column_shorthand(v, "a quarter comes from a column name, or {column: ..., from: version or date}")


class SignalSpec(_Model):
    """Where one signal's answer comes from: a column, a column's texts, a list entry, or a constant.

    Three forms read a list of labels: ``contains`` (yes when the list holds a label), ``prefix``
    (the one label starting with it; the rest of the label is the answer, read through ``values``
    when there are values) and ``labels`` (the one label the table knows, mapped to its value).
    Labels neither form knows are left alone: a label list holds labels for every purpose.
    """

    column: Column | None = None
    values: dict[CellText, Value] | None = Field(default=None, min_length=1)
    default: Value | None = None
    contains: CellText | None = None
    prefix: CellText | None = None
    labels: dict[CellText, Value] | None = Field(default=None, min_length=1)
    value: Value | None = None

    @model_validator(mode="before")
    @classmethod
    def _column_name(cls, v: Any) -> Any:
        return _column_shorthand(v, "a signal comes from a column name, {column: ..., values: {...}}, "
                                    "{column: ..., contains: ...}, {column: ..., prefix: ...}, "
                                    "{column: ..., labels: {...}} or {value: ...}")

    @field_validator("values", "labels", mode="before")
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
            others = [f for f in ("column", "values", "default", "contains", "prefix", "labels") if getattr(self, f) is not None]
            if others:
                raise ValueError(f"a constant {{value: ...}} takes nothing else (remove {', '.join(others)})")
        elif self.column is None:
            raise ValueError("missing 'column'; a signal comes from a column, or is a constant {value: ...}")
        picks = [f for f in ("contains", "prefix", "labels") if getattr(self, f) is not None]
        if len(picks) > 1:
            raise ValueError(f"'{picks[0]}' and '{picks[1]}' are two ways to read a list of labels; use one")
        if self.contains is not None and (self.values is not None or self.default is not None):
            raise ValueError("'contains' answers yes or no by itself; it takes no values or default")
        if self.labels is not None and self.values is not None:
            raise ValueError("'labels' maps each label to its value by itself; it takes no values (put them in labels)")
        for field in ("values", "labels"):
            seen: dict[str, str] = {}
            for text in getattr(self, field) or {}:
                folded = _fold(text)
                if folded in seen:
                    kind = "cell texts" if field == "values" else "labels"
                    raise ValueError(f"{kind} {seen[folded]!r} and {text!r} are the same (cells match ignoring case)")
                seen[folded] = text
        return self

    @property
    def form(self) -> str:
        if self.value is not None:
            return "value"
        for form in ("contains", "prefix", "labels", "values"):
            if getattr(self, form) is not None:
                return form
        return "column"

    def lookup(self, cell: str, table: str = "values") -> tuple[bool, Any]:
        """The value a ``values`` (or ``labels``) table gives a cell (case and surrounding spaces ignored)."""
        folded = _fold(cell)
        for text, value in (getattr(self, table) or {}).items():
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
    # how the export writes a slashed date: 3/4/2027 is 3 April (day-first) or March 4 (month-first)
    date_order: Literal["day-first", "month-first"] | None = None
    # the calendar month (1-12) the fiscal year starts in
    fiscal_year_start: Annotated[int, BeforeValidator(_month)] | None = None
    # which calendar year names a fiscal year: the one it ends in (FY2027 runs July 2026 - June
    # 2027, as most US companies name theirs) or the one it starts in (FY2027: July 2027 - June 2028)
    fiscal_year_named_by: Literal["end", "start"] = "end"
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
        for table in ("values", "labels"):
            for text, value in (getattr(spec, table) or {}).items():
                wrong = _not_a_value(book, signal, value)
                if wrong:
                    report(("signals", signal, table, text), wrong)
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
# A fiscal quarter: FY27 Q1, FY2027-Q1, Q1 FY2027, or inside a label like whl-fy27q1.
_FISCAL = re.compile(
    r"(?<![A-Za-z0-9])(?:FY\s*(?P<y1>\d{4}|\d{2})\s*[-./_ ]?\s*Q(?P<q1>[1-4])|Q(?P<q2>[1-4])\s*[-./_ ]?\s*FY\s*(?P<y2>\d{4}|\d{2}))(?![0-9])",
    re.IGNORECASE,
)
_RANGE = re.compile(r"\s+(?:[-–—]|to)\s+", re.IGNORECASE)
_ISO_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?![0-9])")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})(?![0-9])")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})[/ -]([A-Za-z]{3})[A-Za-z]*[/ -](\d{4}|\d{2})(?![0-9])")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")


class _Refused(ValueError):
    """A cell that names a quarter, but not one that can be read without a mapping option. The
    message names the option and the mapping file it goes in, which the caller knows."""

    def __init__(self, before: str, after: str = ""):
        self.before, self.after = before, after
        super().__init__(self.message("the mapping file"))

    def message(self, mapping_name: str) -> str:
        return f"{self.before}{mapping_name}{self.after}"


def quarter_from_version(text: str, fiscal_year_start: int | None = None, named_by: str = "end") -> str | None:
    """The quarter a release or version name mentions: "Release 2027.Q1" -> "2027-Q1"; else None.

    A fiscal quarter ("FY27 Q1", "Q1 FY2027", "whl-fy27q1") is the calendar quarter in which it
    starts, with FY2027 the fiscal year that starts in month ``fiscal_year_start`` and ends in
    2027 (``named_by`` "end": it starts in 2026, unless that month is January) or starts in 2027
    (``named_by`` "start"). Without ``fiscal_year_start`` a fiscal quarter raises ValueError:
    which calendar quarter it is depends on the company.
    """
    if f := _FISCAL.search(text):
        year, quarter = (f["y1"], f["q1"]) if f["y1"] else (f["y2"], f["q2"])
        fiscal_year = int(year) + (2000 if len(year) == 2 else 0)
        if fiscal_year_start is None:
            raise _Refused(
                f"{text!r} is a fiscal quarter (Q{quarter} of FY{fiscal_year}), and its calendar quarter depends "
                "on the month the fiscal year starts in; set fiscal_year_start: 1-12 in ",
                f" (FY{fiscal_year} is the fiscal year that ends in {fiscal_year})",
            )
        return _calendar_quarter(fiscal_year, int(quarter), fiscal_year_start, named_by)
    m = _VERSION.search(text)
    if m is None:
        return None
    year, quarter = (m["y1"], m["q1"]) if m["y1"] else (m["y2"], m["q2"])
    return f"{year}-Q{quarter}"


def _calendar_quarter(fiscal_year: int, fiscal_quarter: int, start: int, named_by: str = "end") -> str:
    """The calendar quarter in which a fiscal quarter starts. Named by the year it ends in,
    FY2027 starting in July runs July 2026 - June 2027, so its Q1 is 2026-Q3; named by the year
    it starts in, it runs July 2027 - June 2028 and its Q1 is 2027-Q3. A fiscal year starting in
    a month that begins no calendar quarter (February, say) has quarters straddling two; like a
    timeframe, such a quarter counts in the one where it starts."""
    month = start + 3 * (fiscal_quarter - 1)  # counted from January of the fiscal year's first year
    first_year = fiscal_year - (1 if start > 1 and named_by == "end" else 0)
    year = first_year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return f"{year}-Q{(month - 1) // 3 + 1}"


def quarter_from_date(text: str, date_order: str | None = None) -> str | None:
    """The quarter of a date, or of a timeframe's start date: "2027-01-01 - 2027-03-31" -> "2027-Q1".

    A timeframe that spans quarters counts from its start, when the work is planned to ship first.
    A slashed numeric date is read in ``date_order`` ("day-first" or "month-first"). Without it,
    a date with a part above 12 shows its own order (15/02/2027, 02/15/2027), and the end of a
    timeframe shows its start's; a date both of whose parts could be the month (3/4/2027) raises
    ValueError: a quarter silently read wrong is worse than an error.
    """
    start, *end = [part.strip() for part in _RANGE.split(text.strip(), maxsplit=1)]
    hint = _order_of(end[0]) if end else None
    date = _date(start, date_order, hint, text)
    if date is None:
        return None
    return f"{date.year}-Q{(date.month - 1) // 3 + 1}"


def _order_of(text: str) -> str | None:
    """The order a numeric date shows by itself: day-first when only its first part can be no
    month, month-first when only its second; None otherwise."""
    m = _NUMERIC_DATE.match(text)
    if m is None:
        return None
    a, b = int(m[1]), int(m[2])
    if a > 12 >= b:
        return "day-first"
    if b > 12 >= a:
        return "month-first"
    return None


def _date(text: str, date_order: str | None, hint: str | None, cell: str) -> dt.date | None:
    if m := _ISO_DATE.match(text):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := _NUMERIC_DATE.match(text):
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        y += 2000 if y < 100 else 0
        if (a > 12 and b > 12) or 0 in (a, b):
            return None  # no month either way, or no day
        order = date_order or _order_of(text) or hint
        if order is None:
            if a != b:  # 5/5/2027 is the same day either way
                raise _Refused(
                    f"{cell!r} could be {a} {_MONTH_NAMES[b - 1]} {y} (day-first) or {_MONTH_NAMES[a - 1]} {b} {y} "
                    "(month-first); set date_order: day-first or month-first in "
                )
            order = "day-first"
        d, mo = (b, a) if order == "month-first" else (a, b)
        if mo > 12:  # only when the mapping's date_order says so: a date's own order never contradicts it
            raise _Refused(f"{cell!r} is not a {order} date (there is no month {mo}), as date_order says in ")
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
        m = self.mapping
        parse: Callable[[str], str | None]
        if spec.from_ == "version":
            parse = partial(quarter_from_version, fiscal_year_start=m.fiscal_year_start, named_by=m.fiscal_year_named_by)
            expected = f"no quarter in {{!r}}; expected a version naming one, like {VERSION_FORMS}"
        else:
            parse = partial(quarter_from_date, date_order=m.date_order)
            expected = f"no date in {{!r}}; expected a date like {DATE_FORMS}"
        cells = self.export.cells(row, spec.column)
        if spec.prefix is not None:
            # the whole label is read: the prefix picks the labels, "whl-fy27q1" names the quarter
            cells = [label for label in _labels(cells) if _starts(label, spec.prefix)]
        quarters = []
        for cell in cells:
            try:
                quarter = parse(cell)
            except _Refused as e:
                quarter, message = None, e.message(self.mapping_name)
            else:
                message = expected.format(cell)
            if quarter is None:
                found.append(Problem(message, file=self.export.name, line=line, item=key, field=spec.column))
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
            return any(_fold(label) == wanted for label in _labels(cells))

        def problem(message: str) -> Any:
            found.append(Problem(f"signal {name}: {message}", file=self.export.name, line=line, item=key, field=column))
            return _UNSET

        if spec.form in ("prefix", "labels"):
            return self._chosen_label(name, spec, _labels(cells), problem)
        if not cells:
            return spec.default if spec.default is not None else _UNSET  # _UNSET: the rulebook's default
        if len(cells) > 1:
            return problem(f"holds {len(cells)} values ({', '.join(repr(c) for c in cells)}) in its repeated columns; expected one")
        cell = cells[0]
        if spec.form == "values":
            return self._looked_up(name, spec, cell, problem)
        return self._typed(name, cell, problem)

    def _chosen_label(self, name: str, spec: SignalSpec, labels: list[str], problem: Any) -> Any:
        """The answer one label of a list gives: the label starting with the prefix, or the label
        the labels table knows. The other labels are for other purposes and are left alone."""
        if spec.prefix is not None:
            chosen = [label for label in labels if _starts(label, spec.prefix)]
            how = f"start with {spec.prefix!r} (signals.{name}.prefix in {self.mapping_name})"
        else:
            chosen = [label for label in labels if spec.lookup(label, "labels")[0]]
            how = f"are in signals.{name}.labels of {self.mapping_name}"
        distinct = list({_fold(label): label for label in chosen}.values())  # a label repeated is one
        if not distinct:
            return spec.default if spec.default is not None else _UNSET
        if spec.labels is not None:
            values = {_show(spec.lookup(label, "labels")[1]) for label in distinct}
            if len(values) == 1:  # two labels that say the same are no contradiction
                return spec.lookup(distinct[0], "labels")[1]
        if len(distinct) > 1:
            return problem(f"{len(distinct)} labels {how}: {', '.join(repr(c) for c in distinct)}; expected one")
        rest = distinct[0][len(spec.prefix or ""):].strip()
        if not rest:
            return problem(f"label {distinct[0]!r} has nothing after the prefix {spec.prefix!r}")
        if spec.values is not None:
            return self._looked_up(name, spec, rest, problem)
        return self._typed(name, rest, problem)

    def _looked_up(self, name: str, spec: SignalSpec, cell: str, problem: Any) -> Any:
        """The value the ``values`` table gives a cell; a cell it does not know is an error."""
        known, value = spec.lookup(cell)
        if known:
            return value
        texts = ", ".join(repr(t) for t in spec.values or {})
        empty = ", or an empty cell" if spec.default is not None or self.book.signals[name].default is not None else ""
        hint = suggest(cell, list(spec.values or {}))
        fix = f"add it to signals.{name}.values of {self.mapping_name}"
        return problem(
            f"{cell!r} is not a cell text the mapping knows (allowed: {texts}{empty})"
            + (f"{hint} Or {fix}" if hint else f"; {fix}")
        )

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


def _labels(cells: list[str]) -> list[str]:
    """The labels of a list column: Jira writes one per repeated column, other tools join them
    in one cell ("new-market, payouts")."""
    return [part.strip() for cell in cells for part in re.split(r"[,;]", cell) if part.strip()]


def _starts(label: str, prefix: str) -> bool:
    return label[:len(prefix)].casefold() == prefix.casefold()


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

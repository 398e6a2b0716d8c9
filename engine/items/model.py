"""Item files: YAML, JSON or CSV, validated against the rulebook's signal definitions."""

from __future__ import annotations

import csv
import io
import sys
from typing import Annotated, Any, Callable, Iterable, Iterator, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError, create_model, field_validator

from ..rulebook.conditions import suggest
from ..errors import ItemError, Problem, shown
from ..runtime import gc_paused
from ..rulebook.model import MAX_INT, EnumSignal, IntSignal, Rulebook
from ..files.validation import pattern, problems_from
from .keys import BatchKeys
from ..files.yamlio import MAX_BYTES, MAX_YAML_BYTES, FileProblem, line_of, parse_json, parse_yaml, read_text

QUARTER = pattern(r"^\d{4}-Q[1-4]$", "a quarter like 2027-Q1")
# A key is printed at the start of messages and table rows: a control character in it could
# move the cursor, erase the line it starts or begin a forged one (C0, DEL and C1 are refused).
KEY = pattern(r"^[^\x00-\x1f\x7f-\x9f]+$", "text without control characters (no escape, tab, line break or NUL)")
ITEM_FIELDS = ("key", "title", "description", "pm", "pmm", "quarter", "links")
CSV_FIELDS = ("key", "title", "description", "pm", "pmm", "quarter", "links")
# what to do with an item file over the size limits of yamlio
TOO_LARGE_YAML = f"split it, or write a batch this large as JSON or CSV (read up to {MAX_BYTES // 2**20} MB)"
TOO_LARGE = "split it into several files (given together, they are still one batch)"
TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0"}


class ItemBase(BaseModel):
    """The fields every item has, whatever the rulebook; ``signals`` is added per rulebook."""

    model_config = ConfigDict(extra="forbid", frozen=True)  # a number is no text: NaN would read as "nan"

    key: str = Field(min_length=1, max_length=200, pattern=KEY, description="Unique key, e.g. the roadmap tool's issue key")
    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=20_000)
    pm: str | None = Field(default=None, max_length=200, description="The product manager")
    pmm: str | None = Field(default=None, max_length=200, description="The product marketing manager")
    quarter: str | None = Field(default=None, pattern=QUARTER, description="Planned quarter, like 2027-Q1")
    links: list[str] | dict[str, str] = Field(default_factory=lambda: [])  # (not the builtin: see decide/decision.py)

    @field_validator("description", "pm", "pmm", "quarter", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        # a template's `quarter: ""` left blank means "not set", not a malformed quarter
        return None if isinstance(v, str) and not v.strip() else v

    def signal_values(self) -> dict[str, Any]:
        """The signals as a new dict (the fields of the validated model, read directly: iterating
        a pydantic model is several times slower, and this is on every item's path)."""
        return dict(self.signals.__dict__)  # type: ignore[attr-defined]


def _not_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("a whole number, not true/false")
    return v


_models: dict[str, type[ItemBase]] = {}


def item_model(rulebook: Rulebook) -> type[ItemBase]:
    """The pydantic model of an item under ``rulebook`` (cached per rulebook content)."""
    model = _models.get(rulebook.hash)
    if model is not None:
        return model
    fields: dict[str, Any] = {}
    for name, sig in rulebook.signals.items():
        bounds: dict[str, int] = {}
        if isinstance(sig, EnumSignal):
            tp: Any = Literal[tuple(sig.values)]  # type: ignore[valid-type]
        elif isinstance(sig, IntSignal):
            bounds = {"ge": sig.min if sig.min is not None else -MAX_INT,
                      "le": sig.max if sig.max is not None else MAX_INT}
            tp = Annotated[int, BeforeValidator(_not_bool)]
        else:
            tp = bool
        default = sig.default if sig.default is not None else ...
        fields[name] = (tp, Field(default=default, description=sig.question, **bounds))
    signals = create_model(
        "Signals", __config__=ConfigDict(extra="forbid", frozen=True), **fields
    )
    model = create_model(
        "Item", __base__=ItemBase, signals=(signals, Field(description="The answers to the rulebook's questions"))
    )
    _models[rulebook.hash] = model
    return model


def item_file_schema(rulebook: Rulebook) -> dict:
    """JSON Schema of an item file: one item, a list of items, or ``{items: [...]}``."""
    model = item_model(rulebook)
    file_model = create_model("ItemFile", __config__=ConfigDict(extra="forbid"), items=(list[model], ...))
    schema = TypeAdapter(model | list[model] | file_model).json_schema()
    schema["title"] = f"launchtier item file (rulebook {rulebook.name} {rulebook.version})"
    schema["$comment"] = f"rulebook hash {rulebook.hash}"
    return schema


class ItemReader:
    """Reads item files for one rulebook, collecting every problem of a file before failing."""

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook
        self.model = item_model(rulebook)
        self._file_adapter: TypeAdapter | None = None
        # what validation keeps of a signal's value as it is: the signals in the model's order,
        # the type of a value kept as it is, the defaults of those that have one
        self._signals = tuple(rulebook.signals)
        self._kept = [bool if s.type == "bool" else int if s.type == "int" else str for s in rulebook.signals.values()]
        self._defaults = {n: s.default for n, s in rulebook.signals.items() if s.default is not None}

    # ---- public -------------------------------------------------------------------------
    def read(self, path: str, data: bytes | None = None) -> list[ItemBase]:
        """All items of one file; ``-`` reads standard input."""
        with gc_paused():  # a large batch is a heap of acyclic models: see runtime.py
            return self._read(path, data)

    def _read(self, path: str, data: bytes | None) -> list[ItemBase]:
        name = "<stdin>" if path == "-" else str(path)
        if data is None and name.lower().endswith((".jsonl", ".ndjson")):
            from . import stream  # it reads items with this class

            stream.check(self, name)
            return list(stream.items(self, name))
        if path == "-" and data is None:
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        try:
            if name.lower().endswith((".yaml", ".yml")):
                # refused before it is read: YAML this large would take minutes to parse
                text = read_text(name, data, limit=MAX_YAML_BYTES, kind="YAML files", advice=TOO_LARGE_YAML)
            else:
                text = read_text(name, data, kind="item files", advice=TOO_LARGE)
            fmt = _format_of(name, text)
            if fmt == "csv":
                return self._read_csv(text, name)
            raw = parse_yaml(text, name, advice=TOO_LARGE_YAML) if fmt == "yaml" else parse_json(text, name)
        except FileProblem as e:
            raise ItemError([e.problem]) from None
        if fmt == "json":
            valid = self.valid_at_once(raw)
            if valid is not None:
                return valid
        return self._validate_all(self._entries(raw, name), name)

    def valid_at_once(self, raw: Any) -> list[ItemBase] | None:
        """A JSON item file validated by pydantic-core in one call: several times faster on large
        batches than item by item. None when anything is wrong: the item-by-item path then finds
        the problems and words them (file, line, item, field)."""
        if isinstance(raw, dict):
            if set(raw) != {"items"}:
                return None  # one item: nothing to gain
            raw = raw["items"]
        if not isinstance(raw, list):
            return None
        adapter = self._file_adapter
        if adapter is None:
            adapter = self._file_adapter = TypeAdapter(list[self.model])
        try:
            items = adapter.validate_python(raw)
        except (ValidationError, ValueError, RecursionError):
            return None
        if not items or len({i.key for i in items}) != len(items):
            return None  # empty, or a duplicate key: worded by the item-by-item path
        return items

    def trusted(self, raw: dict) -> tuple[str, str, dict[str, Any]] | None:
        """(key, title, signal values) of an item validated before, exactly as
        :meth:`validate` would give them, from its parsed JSON without validating it again (the
        second pass over a JSON Lines block whose bytes the first pass accepted). None when
        validation would change a value (a whole number written 3.0, a yes/no written as text):
        then validate it."""
        given = raw["signals"]
        names = self._signals
        if len(given) == len(names):  # every signal given (there are no others: validated)
            signals = {n: given[n] for n in names}
        else:
            defaults = self._defaults
            signals = {n: given[n] if n in given else defaults[n] for n in names}
        if list(map(type, signals.values())) != self._kept:
            return None
        return raw["key"], raw["title"], signals

    def read_many(self, paths: Iterable[str], read: Callable[[str], list[ItemBase]] | None = None) -> list[ItemBase]:
        """Items of several files (each read by ``read``, by default :meth:`read`); problems of
        every file are reported together."""
        items: list[ItemBase] = []
        problems: list[Problem] = []
        batch = BatchKeys()
        for path in paths:
            try:
                found = (read or self.read)(path)
            except ItemError as e:
                problems.extend(e.problems)
                continue
            items.extend(found)
            batch.add(path, found)
        problems.extend(batch.problems())
        if problems:
            raise ItemError(problems)
        return items

    def validate(self, raw: Any, file: str = "<item>") -> ItemBase:
        try:
            return self.model.model_validate(raw)  # the common case: valid, nothing to word
        except ValidationError:
            return self._validate_all([(raw, None)], file)[0]  # raises, every problem worded

    def with_signals(self, item: ItemBase, changes: dict[str, str], source: str = "--set") -> ItemBase:
        """The item with some signals changed (values as typed on a command line), validated."""
        book = self.rulebook
        problems = []
        for name in changes:
            if name not in book.signals:
                problems.append(Problem(f"unknown signal '{name}'{suggest(name, list(book.signals))} (signals: {', '.join(book.signals)})", file=source, item=item.key, field=name))
        signals = item.signal_values()
        for name, text in changes.items():
            if name in book.signals:  # the values of the known ones are checked beside the unknown
                signals[name] = _typed(book.signals[name].type, text)
        raw = item.model_dump()
        raw["signals"] = signals
        try:
            changed = self.model.model_validate(raw)
        except ValidationError as err:
            problems += [Problem(p.message, file=source, item=item.key, field=p.field)
                         for p in self._problems(err, raw, source, item.key, None)]
        if problems:
            raise ItemError(problems)
        return changed

    # ---- structure ----------------------------------------------------------------------
    def _entries(self, raw: Any, name: str) -> list[tuple[Any, int | None]]:
        if isinstance(raw, list):
            entries = raw
        elif isinstance(raw, dict) and "items" in raw and "key" not in raw:
            others = [k for k in raw if k != "items"]
            if others:
                raise ItemError([Problem(f"unknown field '{others[0]}' beside 'items'; an item file is one item, a list of items, or {{items: [...]}}", file=name, line=line_of(raw, others[0]))])
            entries = raw["items"]
            if not isinstance(entries, list):
                raise ItemError([Problem("'items' must be a list of items", file=name, line=line_of(raw, "items"))])
        elif isinstance(raw, dict):
            entries = [raw]
        else:
            raise ItemError([Problem("an item file is one item (a mapping with key, title and signals), a list of items, or {items: [...]}", file=name)])
        if not entries:
            raise ItemError([Problem("holds no items", file=name)])
        return [(e, None) for e in entries]

    def _validate_all(self, entries: list[tuple[Any, int | None]], name: str) -> list[ItemBase]:
        items: list[ItemBase] = []
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        for index, (raw, row_line) in enumerate(entries):
            label = _label(raw, index)
            if not isinstance(raw, dict):
                problems.append(Problem("an item is a mapping with key, title and signals", file=name, line=row_line, item=label))
                continue
            if not label.startswith("#"):
                if label in seen:
                    # its other problems are still reported below: fixing the key would not fix them
                    problems.append(Problem(f"duplicate key (also item #{seen[label] + 1} of this file); keys are unique in a file", file=name, line=row_line or line_of(raw, "key"), item=label, field="key"))
                else:
                    seen[label] = index
            try:
                items.append(self.model.model_validate(raw))
            except ValidationError as err:
                problems.extend(self._problems(err, raw, name, label, row_line))
        if problems:
            raise ItemError(problems)
        return items

    def _problems(self, err: ValidationError, raw: dict, name: str, label: str, row_line: int | None) -> list[Problem]:
        book = self.rulebook
        out = []
        for p in problems_from(err, model=self.model, raw=raw, file=name, item=label, describe=self._describe):
            field = p.field or ""
            message = p.message
            if field.startswith("signals."):
                signal = field.split(".", 1)[1]
                if message.startswith("unknown field"):
                    message = f"unknown signal '{signal}'{suggest(signal, list(book.signals))} (signals: {', '.join(book.signals)})"
                elif signal in book.signals and (message.startswith("missing") or _blank(raw, signal)):
                    message = f"missing; answer \"{book.signals[signal].question}\" ({book.signal_info(signal).describe()})"
                elif signal in book.signals and isinstance(book.signals[signal], EnumSignal):
                    value = raw.get("signals", {}).get(signal) if isinstance(raw.get("signals"), dict) else None
                    if isinstance(value, str):
                        message += suggest(value, book.signals[signal].values)
            out.append(Problem(message, file=p.file, line=row_line or p.line, item=p.item, field=p.field))
        return out

    def _describe(self, loc: tuple) -> str | None:
        if len(loc) == 2 and loc[0] == "signals" and loc[1] in self.rulebook.signals:
            return self.rulebook.signal_info(loc[1]).describe()
        return None

    # ---- CSV ----------------------------------------------------------------------------
    def _read_csv(self, text: str, name: str) -> list[ItemBase]:
        book = self.rulebook
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ItemError([Problem("is empty", file=name)]) from None
        except csv.Error as e:
            raise ItemError([Problem(f"invalid CSV: {e}", file=name, line=1)]) from None
        problems = []
        allowed = list(CSV_FIELDS) + list(book.signals)
        if _foreign(header, list(book.signals)):
            raise ItemError([_export_problem(header, allowed, name)])
        unknown = [c for c in header if c not in allowed]
        for n, column in enumerate(unknown, 1):
            # the columns allowed are listed once, on the last unknown column's line
            listed = f" (columns: {', '.join(allowed)})" if n == len(unknown) else ""
            problems.append(Problem(f"unknown column '{column}'{suggest(column, allowed)}{listed}", file=name, line=1, field=column))
        dupes = sorted({c for c in header if header.count(c) > 1})
        for column in dupes:
            problems.append(Problem("column appears twice in the header", file=name, line=1, field=column))
        for required in ("key", "title"):
            if required not in header:
                problems.append(Problem(f"missing column '{required}'", file=name, line=1, field=required))
        if problems:
            raise ItemError(problems)
        entries: list[tuple[Any, int | None]] = []
        try:
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    problems.append(Problem(f"row has {len(row)} cells but the header has {len(header)} columns", file=name, line=line, item=_cell(row, header, "key")))
                    continue
                entries.append((self._csv_item(dict(zip(header, row)), name, line, problems), line))
        except csv.Error as e:
            problems.append(Problem(f"invalid CSV: {e}", file=name, line=reader.line_num))
        if not entries and not problems:
            problems.append(Problem("holds no items (a header but no rows)", file=name))
        try:
            items = self._validate_all(entries, name) if entries else []
        except ItemError as e:
            problems.extend(e.problems)
        if problems:
            raise ItemError(problems)
        return items

    def _csv_item(self, row: dict[str, str], name: str, line: int, problems: list[Problem]) -> dict:
        item: dict[str, Any] = {}
        signals: dict[str, Any] = {}
        key = row.get("key", "").strip() or None
        for column, cell in row.items():
            cell = cell.strip()
            if cell == "":
                continue
            if column == "links":
                item["links"] = [part for part in cell.replace(";", " ").split() if part]
            elif column in CSV_FIELDS:
                item[column] = cell
            else:
                sig = self.rulebook.signals[column]
                if sig.type == "bool":
                    word = cell.lower()
                    if word in TRUE_WORDS:
                        signals[column] = True
                    elif word in FALSE_WORDS:
                        signals[column] = False
                    else:
                        problems.append(Problem(f"{cell!r} is not allowed; expected true/false or yes/no", file=name, line=line, item=key, field=f"signals.{column}"))
                        signals[column] = False  # keep validating the rest of the row
                else:
                    signals[column] = cell
        item["signals"] = signals
        return item


def _foreign(header: list[str], signals: list[str]) -> bool:
    """A header with no key column (even ignoring case) and no signal column: another tool's CSV
    (most often a roadmap tool's export, whose Title, Description or Audience matches by chance;
    Linear's has a Title), to be read through a mapping rather than refused column by column."""
    return (any(header) and not any(c.casefold() == "key" for c in header)
            and not any(c in signals for c in header))


# the example mappings of launchtier's source, one per roadmap tool (examples/exports/)
EXAMPLE_MAPPINGS = ("jira-mapping.yaml", "jira-cloud-mapping.yaml", "linear-mapping.yaml", "aha-mapping.yaml",
                    "productboard-mapping.yaml")


def _export_problem(header: list[str], allowed: list[str], name: str) -> Problem:
    """One problem for a CSV that looks like an export, instead of one per column."""
    named = [c for c in header if c]
    like = ", ".join(repr(c) for c in named[:3]) + (", ..." if len(named) > 3 else "")
    return Problem(
        f"looks like an export of a roadmap tool: its header has columns like {like} but no key, title "
        f"or signal column of an item file (columns: {', '.join(allowed)}); read it through a mapping "
        f"file with --mapping FILE (examples/exports/ in launchtier's source has "
        f"{', '.join(EXAMPLE_MAPPINGS[:-1])} and {EXAMPLE_MAPPINGS[-1]} to start from)",
        file=name, line=1)


def _blank(raw: dict, signal: str) -> bool:
    """A signal written but left without a value (``customer_reach:``), as in a template."""
    signals = raw.get("signals")
    return isinstance(signals, dict) and signal in signals and signals[signal] is None


def _typed(kind: str, text: str) -> Any:
    """A value typed on a command line, read as the signal's type where it clearly is one."""
    word = text.strip()
    if kind == "bool":
        if word.lower() in TRUE_WORDS:
            return True
        if word.lower() in FALSE_WORDS:
            return False
    return word


def _cell(row: list[str], header: list[str], column: str) -> str | None:
    if column in header:
        i = header.index(column)
        if i < len(row) and row[i].strip():
            return row[i].strip()
    return None


def _label(raw: Any, index: int) -> str:
    if isinstance(raw, dict):
        key = raw.get("key")
        if isinstance(key, (str, int)) and not isinstance(key, bool) and str(key).strip():
            return str(key)
    return f"#{index + 1}"


def _format_of(name: str, text: str) -> str:
    lower = name.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    first = text.lstrip()[:1]
    if first in "[{":
        return "json"
    head = text.splitlines()[0] if text else ""
    if "," in head and ":" not in head and "key" in [c.strip() for c in head.split(",")]:
        return "csv"
    return "yaml"

"""The rulebook: its file format (pydantic models), loading, merging, linking and hashing."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_serializer,
                      model_validator)

from . import conditions as cond
from .conditions import NameInfo, suggest
from ..errors import Problem, RulebookError
from ..files.validation import pattern, problems_from
from ..files.yamlio import MAX_YAML_BYTES, FileProblem, LineDict, line_of, parse_yaml, read_text

NAME = r"^[a-z][a-z0-9_]*$"
RULE_ID = pattern(r"^[a-z0-9]+(-[a-z0-9]+)*$", "an id of lower case letters and digits joined by single hyphens, like wide-reach")
TIER_ID = pattern(r"^[a-z0-9]+([-_][a-z0-9]+)*$", "an id of lower case letters and digits joined by single - or _, like tier-1")
VALUE_PHRASE = pattern(r"\{value\}", "text with {value} where the number goes, like: it reached {value}% of customers")
LABEL = pattern(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", "letters, digits, _ . and -, starting with a letter or digit")
RESERVED = {
    "id": "durable-rules hangs on any rule that reads a field named 'id'",
    "sid": "durable-rules uses 'sid' for its sessions and hangs on rules that read it",
    "key": "'key' is the item's own key, not a signal",
    "title": "'title' is the item's own title, not a signal",
    "all": "'all' combines conditions",
    "any": "'any' combines conditions",
    "not": "'not' negates a condition",
}
MAX_INT = 2**53  # every number survives a JSON round trip and durable-rules' doubles

Int = Annotated[int, Field(ge=-MAX_INT, le=MAX_INT, strict=True)]


class _Model(BaseModel):
    # Each model is built when first used, not on import: the rulebook's validator (built on the
    # first load) holds the sections' schemas itself, and what a command never validates or
    # dumps on its own (a Rule, a Tier, ...) is never built.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# Who can change a signal's value, for the close calls of a review and explain's "what the team
# could change": a decision the team can make either way (scope, pricing, positioning, reach,
# sponsorship), a decision only forward (a later value of an enum, a higher number, no to yes:
# shipping at GA rather than in beta), or a fact about the item or its market, which a meeting does
# not change by deciding (a new market, being first or on par, who notices it first).
Moves = Literal["decision", "forward", "fact"]
MOVES_DEFAULT = "decision"


class _Signal(_Model):
    # Each signal type declares its fields itself (type and question first, moves last), so that
    # an error lists them in the order a rulebook writes them; every one has ``moves``.

    @model_serializer(mode="wrap")
    def _without_default(self, handler: Any) -> Any:
        # Left out unless set: a rulebook that does not use them keeps its content hash, so the
        # ledgers that stored it still verify and replay under it.
        data = handler(self)
        if self.moves == MOVES_DEFAULT:
            data.pop("moves", None)
        for name in ("phrases", "phrase"):
            if data.get(name, 0) is None:
                data.pop(name)
        return data

    def may_move(self, old: Any, new: Any) -> bool:
        """Whether the team can decide to change the value from ``old`` to ``new``."""
        if self.moves == "fact":
            return False
        return self.moves == "decision" or self.rank(new) > self.rank(old)

    def rank(self, value: Any) -> Any:
        return value

    def phrase_of(self, name: str, value: Any) -> str:
        """The clause after "if" that says the signal has ``value``, in the rulebook's words:
        "it also changed pricing or packaging" (or "pricing_change were true" without them)."""
        return f"{name} were {cond.literal(value)}"


class BoolSignal(_Signal):
    type: Literal["bool"]
    question: str = Field(min_length=1)
    default: bool | None = None
    moves: Moves = Field(default=MOVES_DEFAULT, description="who can change it: decision, forward or fact")
    phrases: dict[Literal["true", "false"], str] | None = Field(
        default=None, description="the clause after 'if' for each value: {true: it also changed pricing or packaging}")

    @field_validator("phrases", mode="before")
    @classmethod
    def _bool_keys(cls, v: Any) -> Any:
        # YAML reads `true:` as a boolean key
        return {cond.literal(k) if isinstance(k, bool) else k: t for k, t in v.items()} if isinstance(v, dict) else v

    def rank(self, value: Any) -> Any:
        return bool(value)

    def phrase_of(self, name: str, value: Any) -> str:
        return (self.phrases or {}).get(cond.literal(value)) or super().phrase_of(name, value)


class IntSignal(_Signal):
    type: Literal["int"]
    question: str = Field(min_length=1)
    min: Int | None = None
    max: Int | None = None
    default: Int | None = None
    moves: Moves = Field(default=MOVES_DEFAULT, description="who can change it: decision, forward or fact")
    phrase: str | None = Field(default=None, pattern=VALUE_PHRASE,
                               description="the clause after 'if', with {value}: it reached {value}% of customers")

    @model_validator(mode="after")
    def _bounds(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        if self.default is not None and not self.allows(self.default):
            raise ValueError(f"default {self.default} is outside {self.min}..{self.max}")
        return self

    def allows(self, v: int) -> bool:
        return (self.min is None or v >= self.min) and (self.max is None or v <= self.max)

    def phrase_of(self, name: str, value: Any) -> str:
        return self.phrase.replace("{value}", str(value)) if self.phrase else super().phrase_of(name, value)


class EnumSignal(_Signal):
    type: Literal["enum"]
    question: str = Field(min_length=1)
    values: list[Annotated[str, Field(pattern=LABEL)]] = Field(min_length=1)
    default: str | None = None
    moves: Moves = Field(default=MOVES_DEFAULT, description="who can change it: decision, forward or fact")
    phrases: dict[str, str] | None = Field(
        default=None, description="the clause after 'if' for each value: {ga: it waited for general availability}")

    @model_validator(mode="after")
    def _values(self):
        if len(set(self.values)) != len(self.values):
            dupes = sorted({v for v in self.values if self.values.count(v) > 1})
            raise ValueError(f"values listed twice: {', '.join(dupes)}")
        if self.default is not None and self.default not in self.values:
            raise ValueError(f"default '{self.default}' is not one of its values ({', '.join(self.values)})")
        unknown = [k for k in self.phrases or {} if k not in self.values]
        if unknown:
            raise ValueError(f"phrases for values it does not have: {', '.join(unknown)} (values: {', '.join(self.values)})")
        return self

    def rank(self, value: Any) -> Any:
        return self.values.index(value)

    def phrase_of(self, name: str, value: Any) -> str:
        return (self.phrases or {}).get(value) or super().phrase_of(name, value)


Signal = Annotated[Union[BoolSignal, IntSignal, EnumSignal], Field(discriminator="type")]


class Dimension(_Model):
    label: str = Field(min_length=1)
    min: Int = 0
    max: Int = 3
    description: str | None = None

    @model_validator(mode="after")
    def _bounds(self):
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Rule(_Model):
    id: str = Field(pattern=RULE_ID)
    because: str = Field(min_length=1)
    when: dict[str, Any] = Field(min_length=1)
    score: dict[str, Int] = Field(min_length=1)

    _condition: cond.Condition = PrivateAttr(default=cond.ALWAYS)

    @property
    def condition(self) -> cond.Condition:
        return self._condition


class Tier(_Model):
    id: str = Field(pattern=TIER_ID)
    label: str = Field(min_length=1)
    kind: Literal["launch", "release"]
    when: dict[str, Any] | None = None
    description: str | None = None

    _condition: cond.Condition = PrivateAttr(default=cond.ALWAYS)

    @property
    def condition(self) -> cond.Condition:
        return self._condition


class Artifact(_Model):
    id: str = Field(pattern=TIER_ID)
    name: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    category: str = Field(min_length=1)
    tiers: list[str] = Field(min_length=1)
    when: dict[str, Any] | None = None
    effort: float | None = Field(default=None, ge=0, le=1000, description="days of work")
    description: str | None = None

    _condition: cond.Condition = PrivateAttr(default=cond.ALWAYS)

    @property
    def condition(self) -> cond.Condition:
        return self._condition


class Capacity(_Model):
    max: int = Field(ge=0, le=10_000)
    per: Literal["quarter"] = "quarter"
    rank: list[str] | None = Field(
        default=None,
        description="scores that rank the candidates, highest first (default: the totals, then the dimensions); ties by key",
    )


class OverridePolicy(_Model):
    approvals: int = Field(ge=0, le=100)
    self_approval: bool = Field(
        default=False, strict=True,
        description="whether the person overriding may count among the approvers of an override into or out of the tier",
    )

    @model_serializer(mode="wrap")
    def _without_default(self, handler: Any) -> Any:
        # Left out unless set: a rulebook that does not use it keeps its content hash, so the
        # ledgers that stored it still verify and replay under it.
        data = handler(self)
        if not self.self_approval:
            data.pop("self_approval", None)
        return data


class SuggestPolicy(_Model):
    circumstances: list[Annotated[str, Field(min_length=1)]] | None = Field(
        default=None,
        description="words that, in an override's reason, make it about circumstances (capacity, budget), not the "
                    "rules: `rules suggest` leaves such overrides out (default: capacity, budget)",
    )


def _absent(v: Any) -> bool:
    return v is None


class Rulebook(_Model):
    """A validated, linked rulebook. Build it with :func:`load_rulebook` or :func:`rulebook_from_data`."""

    rulebook: str = Field(min_length=1, pattern=LABEL)
    version: str = Field(min_length=1)
    description: str | None = None
    signals: dict[str, Signal] = Field(min_length=1)
    dimensions: dict[str, Dimension] = Field(min_length=1)
    totals: dict[str, dict[str, Int]] = Field(default_factory=dict)
    rules: list[Rule] = Field(min_length=1)
    tiers: list[Tier] = Field(min_length=1)
    # a Python function, not the builtin list: pydantic reads each factory's signature, and the
    # builtin's is parsed from text by tokenize, whose patterns compile on first use (a cold
    # start's ~2%, once every model of the process avoids it)
    artifacts: list[Artifact] = Field(default_factory=lambda: [])
    capacity: dict[str, Capacity] = Field(default_factory=dict)
    overrides: dict[str, OverridePolicy] = Field(default_factory=dict)
    # left out of the data unless given: a rulebook without it keeps its content hash
    suggest: SuggestPolicy | None = Field(default=None, exclude_if=_absent)

    _source: str = PrivateAttr(default="")
    _locations: dict = PrivateAttr(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        # `version: 2026.11` unquoted is a float in YAML; the label is text either way.
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    # ---- derived, read-only views -------------------------------------------------------
    @cached_property
    def hash(self) -> str:
        return rulebook_hash(self.model_dump(mode="json"))

    @property
    def name(self) -> str:
        return self.rulebook

    @property
    def source(self) -> str:
        return self._source

    def location(self, section: str, key: Any = None) -> tuple[str | None, int | None]:
        """The file and line where a rulebook entry is written: ``("rules", 3)``, ``("signals", "stage")``."""
        return self._locations.get((section, key), self._locations.get((section,), (self._source or None, None)))

    @cached_property
    def score_names(self) -> tuple[str, ...]:
        return tuple(self.dimensions) + tuple(self.totals)

    @cached_property
    def tier_index(self) -> dict[str, int]:
        return {t.id: i for i, t in enumerate(self.tiers)}

    @cached_property
    def tier_by_id(self) -> dict[str, Tier]:
        return {t.id: t for t in self.tiers}

    def signal_info(self, name: str) -> NameInfo:
        s = self.signals[name]
        if isinstance(s, EnumSignal):
            return NameInfo("signal", "enum", tuple(s.values))
        if isinstance(s, IntSignal):
            return NameInfo("signal", "int", (), s.min, s.max)
        return NameInfo("signal", "bool")

    @cached_property
    def namespace(self) -> dict[str, NameInfo]:
        """Every name a tier or artifact condition may read, with what it is."""
        ns = {name: self.signal_info(name) for name in self.signals}
        for name, d in self.dimensions.items():
            ns[name] = NameInfo("dimension", "int", (), d.min, d.max)
        for name, weights in self.totals.items():
            lo = sum(w * (self.dimensions[d].min if w >= 0 else self.dimensions[d].max) for d, w in weights.items() if d in self.dimensions)
            hi = sum(w * (self.dimensions[d].max if w >= 0 else self.dimensions[d].min) for d, w in weights.items() if d in self.dimensions)
            ns[name] = NameInfo("total", "int", (), lo, hi)
        return ns

    def summary(self) -> dict[str, str]:
        return {"name": self.rulebook, "version": self.version, "hash": self.hash}


def rulebook_hash(data: Any) -> str:
    """The hash of a rulebook given as JSON data (its ``model_dump(mode="json")``, or that read
    back from its JSON text): what :attr:`Rulebook.hash` is, computed without building one, so
    that a stored copy can be checked before it is trusted."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ---- loading ------------------------------------------------------------------------------

TOO_LARGE = "a rulebook is a few kilobytes of YAML: is this the right file?"
SECTIONS_MAPPING = ("signals", "dimensions", "totals", "capacity", "overrides", "suggest")
SECTIONS_LIST = ("rules", "tiers", "artifacts")
SECTIONS_SCALAR = ("rulebook", "version", "description")


def default_rulebook_path() -> Path:
    from importlib.resources import files

    return Path(str(files("launchtier.rules") / "default.yaml"))


def load_rulebook(path: str | Path | None = None) -> Rulebook:
    """Load a rulebook file, or a directory of ``*.yaml`` files merged; the default without a path."""
    path = Path(path) if path is not None else default_rulebook_path()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise RulebookError([Problem("directory holds no .yaml rulebook files", file=str(path))])
    else:
        files = [path]
    parts = []
    problems = []
    for f in files:
        try:
            data = parse_yaml(read_text(f, limit=MAX_YAML_BYTES, kind="rulebook files", advice=TOO_LARGE), str(f), advice=TOO_LARGE)
        except FileProblem as e:
            problems.append(e.problem)
            continue
        if not isinstance(data, dict):
            problems.append(Problem("a rulebook file is a mapping with rulebook, signals, dimensions, rules, tiers ...", file=str(f)))
            continue
        parts.append((str(f), data))
    if problems:
        raise RulebookError(problems)
    return rulebook_from_parts(parts, source=str(path))


def rulebook_from_data(data: dict, file: str = "<rulebook>") -> Rulebook:
    return rulebook_from_parts([(file, data)], source=file)


def rulebook_from_parts(parts: list[tuple[str, dict]], source: str) -> Rulebook:
    merged, origin, problems = _merge(parts)
    if problems:
        raise RulebookError(problems)

    def where(loc: tuple) -> tuple[str, Any]:
        head = loc[:2] if loc and loc[0] in SECTIONS_LIST + SECTIONS_MAPPING else loc[:1]
        return origin.get(head, origin.get(loc[:1], (parts[0][0], None)))

    try:
        book = Rulebook.model_validate(merged)
    except ValidationError as err:
        found = []
        for p in problems_from(err, model=Rulebook, raw=merged, file=None):
            loc = _loc_of(p.field)
            file, _ = where(loc)
            found.append(Problem(p.message, file=file, line=p.line, field=_label(merged, p.field)))
        raise RulebookError(found) from None
    book._source = source
    book._locations = _locations(merged, origin)
    problems = _link(book, merged, where)
    if problems:
        raise RulebookError(problems)
    return book


def _locations(merged: dict, origin: dict) -> dict[tuple, tuple[str, int | None]]:
    found: dict[tuple, tuple[str, int | None]] = {}
    for key, (file, entry) in origin.items():
        section = key[0]
        if len(key) == 1:
            found[key] = (file, line_of(merged, section))
        elif section in SECTIONS_LIST:
            found[key] = (file, line_of(entry))
        else:
            found[key] = (file, line_of(merged.get(section), key[1]))
    return found


def _loc_of(field: str | None) -> tuple:
    if not field:
        return ()
    out: list[Any] = []
    for part in re.split(r"\.|(?=\[)", field):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isascii() and part[1:-1].isdigit():
            out.append(int(part[1:-1]))
        elif part:
            out.append(part)
    return tuple(out)


def _label(merged: dict, field: str | None) -> str | None:
    """Name list entries by their id: ``rules[3] (revenue-new-logo).when`` reads better than an index."""
    if not field:
        return field
    m = re.match(r"^(rules|tiers|artifacts)\[(\d+)\](.*)$", field)
    if m:
        entries = merged.get(m.group(1))
        i = int(m.group(2))
        if isinstance(entries, list) and i < len(entries) and isinstance(entries[i], dict) and isinstance(entries[i].get("id"), str):
            return f"{m.group(1)}[{i}] ({entries[i]['id']}){m.group(3)}"
    return field


def _merge(parts: list[tuple[str, dict]]) -> tuple[dict, dict, list[Problem]]:
    """Merge rulebook files: mappings by key (a key defined twice is an error), lists appended."""
    merged: dict[str, Any] = LineDict()
    origin: dict[tuple, tuple[str, Any]] = {}
    problems: list[Problem] = []
    for file, data in parts:
        for key, value in data.items():
            line = line_of(data, key)
            if key in SECTIONS_LIST:
                if not isinstance(value, list):
                    problems.append(Problem(f"'{key}' is a list", file=file, line=line, field=key))
                    continue
                entries = merged.setdefault(key, [])
                for entry in value:
                    origin[(key, len(entries))] = (file, entry)
                    entries.append(entry)
            elif key in SECTIONS_MAPPING:
                if not isinstance(value, dict):
                    problems.append(Problem(f"'{key}' is a mapping", file=file, line=line, field=key))
                    continue
                section = merged.setdefault(key, LineDict())
                for name, entry in value.items():
                    if name in section:
                        first = origin[(key, name)][0]
                        problems.append(Problem(f"defined twice (also in {first})", file=file, line=line_of(value, name), field=f"{key}.{name}"))
                        continue
                    section[name] = entry
                    if line_of(value, name) is not None:  # data built in Python has no lines
                        section.lines[name] = line_of(value, name)
                    origin[(key, name)] = (file, entry)
            else:
                if key in merged and merged[key] != value:
                    problems.append(Problem(f"'{key}' differs between files ({origin[(key,)][0]} says {merged[key]!r})", file=file, line=line, field=key))
                    continue
                if key not in SECTIONS_SCALAR:
                    allowed = SECTIONS_SCALAR + SECTIONS_MAPPING + SECTIONS_LIST
                    problems.append(Problem(f"unknown section '{key}'{suggest(key, allowed)} (allowed: {', '.join(allowed)})", file=file, line=line, field=str(key)))
                    continue
                merged[key] = value
                if line is not None:
                    merged.lines[key] = line
                origin[(key,)] = (file, value)
    return merged, origin, problems


def _deepest_line(node: Any, path: tuple) -> int | None:
    """The line of the deepest part of ``path`` found below ``node`` (through mappings and lists):
    a condition nested in ``any`` is named at its own line, not at its tier's."""
    line = None
    for step in path:
        if isinstance(node, dict) and step in node:
            line = line_of(node, step) or line
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            line = line_of(node) or line
        else:
            break
    return line


def _link(book: Rulebook, raw: dict, where) -> list[Problem]:
    """Cross-references: names, ids, conditions. Every problem is collected, none stops the rest."""
    problems: list[Problem] = []

    def report(loc: tuple, message: str, field: str | None = None) -> None:
        file, entry = where(loc)
        line = _deepest_line(entry, loc[2:]) if isinstance(entry, dict) else None
        if line is None:
            line = line_of(entry) if isinstance(entry, dict) else line_of(raw.get(loc[0]), loc[1] if len(loc) > 1 else None)
        problems.append(Problem(message, file=file, line=line, field=field or _label(raw, _field(loc))))

    # names: one namespace, none reserved
    seen: dict[str, str] = {}
    for section in ("signals", "dimensions", "totals"):
        for name in getattr(book, section):
            if name in RESERVED or name.startswith("_"):
                why = RESERVED.get(name, "names starting with '_' are reserved for the engine")
                report((section, name), f"'{name}' is a reserved name ({why}); rename it")
            elif not re.match(NAME, name):
                report((section, name), f"'{name}' is not a valid name: use lower case letters, digits and _ , starting with a letter")
            if name in seen:
                report((section, name), f"'{name}' is already a {seen[name][:-1]}; signals, dimensions and totals share one namespace")
            seen.setdefault(name, section)

    for name, weights in book.totals.items():
        for dim in weights:
            if dim not in book.dimensions:
                report(("totals", name, dim), f"unknown dimension '{dim}'{suggest(dim, list(book.dimensions))} (dimensions: {', '.join(book.dimensions)})")

    signal_ns = {n: book.signal_info(n) for n in book.signals}
    full_ns = book.namespace

    def parse(raw_when: Any, ns: dict, loc: tuple) -> cond.Condition:
        found: list[cond.ConditionProblem] = []
        prefix = _label(raw, _field(loc)) or ""
        parsed = cond.parse(raw_when, ns, prefix, found)
        for p in found:
            extra = ""
            if ns is signal_ns and p.message.startswith("unknown name") and p.path.split(".")[-1] in full_ns:
                extra = " (a rule's condition reads signals only: dimensions and totals are computed from the rules)"
            inner = p.path[len(prefix):] if p.path.startswith(prefix) else ""
            report(loc + _loc_of(inner), p.message + extra, field=p.path)
        return parsed

    ids: dict[str, int] = {}
    for i, rule in enumerate(book.rules):
        if rule.id in ids:
            report(("rules", i, "id"), f"duplicate rule id '{rule.id}' (also rules[{ids[rule.id]}])")
        ids.setdefault(rule.id, i)
        rule._condition = parse(rule.when, signal_ns, ("rules", i, "when"))
        for dim in rule.score:
            if dim not in book.dimensions:
                hint = " (totals are computed from dimensions; score a dimension)" if dim in book.totals else suggest(dim, list(book.dimensions))
                report(("rules", i, "score"), f"unknown dimension '{dim}'{hint} (dimensions: {', '.join(book.dimensions)})", field=f"{_label(raw, _field(('rules', i)))}.score.{dim}")

    tier_ids: dict[str, int] = {}
    for i, tier in enumerate(book.tiers):
        if tier.id in tier_ids:
            report(("tiers", i, "id"), f"duplicate tier id '{tier.id}' (also tiers[{tier_ids[tier.id]}])")
        tier_ids.setdefault(tier.id, i)
        last = i == len(book.tiers) - 1
        if tier.when is None and not last:
            report(("tiers", i), "only the last tier may have no 'when'; give this tier a condition or move it last")
        if tier.when is not None and last:
            report(("tiers", i, "when"), "the last tier is the default and has no 'when': add a last tier without 'when' for the items no other tier takes")
        if tier.when is not None:
            if not tier.when:
                report(("tiers", i, "when"), "empty condition; remove 'when' only on the last (default) tier")
            tier._condition = parse(tier.when, full_ns, ("tiers", i, "when"))

    art_ids: dict[str, int] = {}
    for i, art in enumerate(book.artifacts):
        if art.id in art_ids:
            report(("artifacts", i, "id"), f"duplicate artifact id '{art.id}' (also artifacts[{art_ids[art.id]}])")
        art_ids.setdefault(art.id, i)
        for t in art.tiers:
            if t not in tier_ids:
                report(("artifacts", i, "tiers"), f"unknown tier '{t}'{suggest(t, list(tier_ids))} (tiers: {', '.join(tier_ids)})")
        if art.when is not None:
            art._condition = parse(art.when, full_ns, ("artifacts", i, "when"))

    for section in ("capacity", "overrides"):
        for t in getattr(book, section):
            if t not in tier_ids:
                report((section, t), f"unknown tier '{t}'{suggest(t, list(tier_ids))} (tiers: {', '.join(tier_ids)})")
    scores = list(book.score_names)
    for t, cap in book.capacity.items():
        if t in tier_ids and tier_ids[t] == len(book.tiers) - 1:
            report(("capacity", t), f"the default tier '{t}' cannot have a capacity: there is no tier below it to move items to")
        for name in cap.rank or []:
            if name not in scores:
                report(("capacity", t), f"unknown score '{name}' in rank{suggest(name, scores)} (scores: {', '.join(scores)})",
                       field=f"capacity.{t}.rank")
    return problems


def _field(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out

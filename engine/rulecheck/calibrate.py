"""Calibration: the rulebook against real launches whose tier the company published.

A calibration set (``calibration/*.yaml`` beside the rulebook, or files given) holds launches:
what shipped, where it is published (``source``), the facts, the tier the company gave it
(``published``, mapped to the rulebook's tiers in ``tier`` with the ``mapping`` stated), and the
rulebook's signals chosen from the facts, each with the reason (``why``). :func:`calibrate`
classifies every launch and reports the agreement: exact, within one tier, and for each miss
what decided it (the tier condition that held, with the rules whose points carried it, or the
conditions of the published tier that failed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..decide.classify import Classifier
from ..decide.decision import Decision, check_text
from ..errors import ItemError, Problem
from ..files.validation import problems_from
from ..files.yamlio import line_of, yaml_files
from ..items.model import ItemReader
from ..rulebook.conditions import suggest
from ..rulebook.model import Rulebook


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Answer(_Model):
    """A signal's value for a launch, and why the facts give it."""

    value: Any
    why: str = Field(min_length=1)


class Launch(_Model):
    """A real launch with its published tier."""

    key: str = Field(min_length=1, pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    title: str = Field(min_length=1)
    company: str = Field(min_length=1)
    kind: str = Field(min_length=1, description="the kind of company: developer tools, B2B SaaS, fintech, ...")
    date: str | None = None
    source: str = Field(min_length=1, description="where the tier is published: a page, or owner/repo:path")
    facts: str = Field(min_length=1, description="what the source says, quoted or summarised")
    published: str = Field(min_length=1, description="the tier as the company names it")
    evidence: Literal["published", "inferred", "mapped"] = Field(description=(
        "published: the company names this launch's tier; inferred: the company's published tiering rule or "
        "example gives it, the launch itself is not labelled; mapped: mapped from the launch program the "
        "company published (a keynote and press, a blog post, a changelog entry only)"))
    mapping: str = Field(min_length=1, description="how the published tier maps to the rulebook's tiers")
    tier: str = Field(min_length=1, description="the published tier, mapped: a tier of the rulebook")
    signals: dict[str, Answer] = Field(min_length=1)

    def item_data(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "signals": {n: a.value for n, a in self.signals.items()}}


class CalibrationFile(_Model):
    launches: list[Launch] = Field(min_length=1)


class Agreement(_Model):
    """One launch: its published tier against the rulebook's, and what decided the rulebook's."""

    item: str
    title: str
    company: str
    file: str
    published: str
    evidence: str
    expected: str
    got: str
    off_by: int = Field(description="tiers between the two: 0 agrees; positive when the rules give a lower tier")
    deciding: str = Field(description="the condition of the tier the rules give that held, or 'default'")
    causes: list[str] = Field(default_factory=list, description="for a miss: the rules and conditions that decided it")


class Tally(_Model):
    launches: int
    exact: int
    within_one: int


class CalibrationReport(_Model):
    rulebook: dict[str, str]
    files: list[str]
    launches: int
    exact: int
    within_one: int
    by_evidence: dict[str, Tally] = Field(description="the agreement over the launches of each kind of evidence")
    rows: list[Agreement]

    @property
    def misses(self) -> list[Agreement]:
        return [r for r in self.rows if r.off_by]

    def rate(self, count: int, of: int | None = None) -> float:
        of = self.launches if of is None else of
        return round(100 * count / of, 1) if of else 0.0


def default_set_files(rules_path: str | Path | None, book: Rulebook) -> list[Path]:
    """``calibration/*.yaml`` beside the rulebook file (or inside the rulebook directory)."""
    source = Path(rules_path) if rules_path else Path(book.source)
    folder = (source if source.is_dir() else source.parent) / "calibration"
    return sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))


def set_files(paths: list[Path]) -> list[Path]:
    """Files given, a folder given as its ``*.yaml`` files."""
    out: list[Path] = []
    for p in paths:
        out += sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")) if p.is_dir() else [p]
    return out


def load_set(paths: list[Path], book: Rulebook) -> list[tuple[str, Launch, Any]]:
    """(file, launch, validated item) for every launch of the set; every problem at once."""
    if not paths:
        raise ItemError([Problem("no calibration set found; give SET or put *.yaml files in calibration/ beside the rulebook")])
    reader = ItemReader(book)
    problems: list[Problem] = []
    out: list[tuple[str, Launch, Any]] = []
    seen: dict[str, str] = {}
    for name, raw in yaml_files(paths, problems):
        try:
            data = CalibrationFile.model_validate(raw)
        except ValidationError as err:
            problems += problems_from(err, model=CalibrationFile, raw=raw, file=name)
            continue
        for i, launch in enumerate(data.launches):
            entry = raw["launches"][i]
            line = line_of(entry, "key")
            if launch.key in seen:
                problems.append(Problem(f"key {launch.key} is already a launch of {seen[launch.key]}", file=name,
                                        line=line, item=launch.key, field="key"))
            seen.setdefault(launch.key, name)
            if launch.tier not in book.tier_by_id:
                known = list(book.tier_by_id)
                problems.append(Problem(f"unknown tier '{launch.tier}'{suggest(launch.tier, known)} "
                                        f"(tiers of rulebook {book.name}: {', '.join(known)})",
                                        file=name, line=line_of(entry, "tier") or line, item=launch.key, field="tier"))
            # a signal without a default is reported missing by the item's own validation
            missing = [n for n, s in book.signals.items() if n not in launch.signals and s.default is not None]
            if missing:
                problems.append(Problem(f"no answer for {', '.join(missing)}: a calibration launch answers every signal, "
                                        "each with why", file=name, line=line_of(entry, "signals") or line,
                                        item=launch.key, field="signals"))
            try:
                item = reader.validate(launch.item_data(), file=name)
            except ItemError as err:
                problems += [Problem(p.message, file=name, line=line_of(entry, "signals") or line, item=launch.key,
                                     field=p.field) for p in err.problems]
                continue
            out.append((name, launch, item))
    if problems:
        raise ItemError(problems)
    return out


def calibrate(book: Rulebook, paths: list[Path], *, engine: str = "durable") -> CalibrationReport:
    """The agreement of ``book`` with the calibration set in ``paths``."""
    launches = load_set(paths, book)
    classifier = Classifier(book, engine)
    rows = []
    for file, launch, item in launches:
        d = classifier.decide(item)
        off_by = book.tier_index[d.tier] - book.tier_index[launch.tier]
        rows.append(Agreement(item=launch.key, title=launch.title, company=launch.company, file=file,
                              published=launch.published, evidence=launch.evidence, expected=launch.tier, got=d.tier,
                              off_by=off_by,
                              deciding=_held(d), causes=_causes(book, d, launch.tier) if off_by else []))
    by_evidence = {}
    for kind in ("published", "inferred", "mapped"):
        some = [r for r in rows if r.evidence == kind]
        if some:
            by_evidence[kind] = _tally(some)
    return CalibrationReport(
        rulebook=book.summary(), files=list(dict.fromkeys(f for f, _, _ in launches)), **_tally(rows).model_dump(),
        by_evidence=by_evidence, rows=rows)


def _tally(rows: list[Agreement]) -> Tally:
    return Tally(launches=len(rows), exact=sum(not r.off_by for r in rows), within_one=sum(abs(r.off_by) <= 1 for r in rows))


def _held(d: Decision) -> str:
    return "; ".join(check_text(c) for c in d.tier_reason.conditions) or "default"


def _causes(book: Rulebook, d: Decision, expected: str) -> list[str]:
    """What decided a miss. Rules giving a higher tier than published: the condition that held,
    and the rules whose points count in it. A lower tier: each condition of the published tier
    that failed, and the rules that fired against it (negative points, or points to a score
    the condition caps)."""
    causes = []
    if book.tier_index[d.tier] < book.tier_index[expected]:
        read = {x.name for c in d.tier_reason.conditions for x in _deciding_leaves(c)}
        causes.append(f"{d.tier} because {_held(d)}")
        causes += [f"rule {f.rule} ({', '.join(f'{s} {p:+d}' for s, p in f.score.items())})"
                   for f in d.fired if _counts_in(book, f.score, read)]
        return causes
    failed = next((h.failed for h in d.higher_tiers if h.tier == expected), [])
    for c in failed:
        causes.append(f"not {expected}: {check_text(c)}")
        capped = {x.name for x in _deciding_leaves(c) if x.op in ("lte", "lt")}
        causes += [f"  rule {f.rule} ({', '.join(f'{s} {p:+d}' for s, p in f.score.items())})"
                   for f in d.fired if capped and _counts_in(book, f.score, capped)]
    return causes


def _deciding_leaves(c: Any) -> list[Any]:
    """The simple conditions that decide ``c``, from the side it falls: what held of one that
    holds (the alternatives of an ``any`` that held), what failed of one that fails."""
    if not c.of:
        return [c]
    if c.op == "not":
        return []
    return [x for p in c.of if p.holds == c.holds for x in _deciding_leaves(p)]


def _counts_in(book: Rulebook, score: dict[str, int], names: set[str]) -> bool:
    """Whether points to these dimensions count in a condition reading ``names`` (directly, or
    through a total)."""
    for dim in score:
        if dim in names or any(dim in book.totals.get(n, {}) for n in names):
            return True
    return False

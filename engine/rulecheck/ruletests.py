"""Rule tests: cases that pin what a rulebook decides, with coverage (like ``opa test``).

A case file holds one case, a list of cases, or ``{cases: [...]}``. A case is
``{name?, item: {...}, expect: {tier?, kind?, fired?, not_fired?, artifacts?, not_artifacts?, scores?}}``;
``item`` is an item as in an item file (``key`` and ``title`` may be left out).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..decide.classify import Classifier
from ..errors import ItemError, Problem
from ..items.model import ItemReader
from ..rulebook.conditions import suggest
from ..rulebook.model import Rulebook
from ..files.validation import problems_from
from ..files.yamlio import line_of, yaml_files


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tier: str | None = None
    kind: str | None = None
    fired: list[str] = Field(default_factory=list, description="rules that must fire")
    not_fired: list[str] = Field(default_factory=list, description="rules that must not fire")
    artifacts: list[str] = Field(default_factory=list, description="artifacts that must follow")
    not_artifacts: list[str] = Field(default_factory=list, description="artifacts that must not follow")
    scores: dict[str, int] = Field(default_factory=dict, description="scores that must have these values")


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    item: dict[str, Any]
    expect: Expect = Field(default_factory=Expect)


class CaseResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    name: str
    passed: bool
    differences: list[str] = Field(default_factory=list)
    tier: str


class Coverage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules_total: int
    rules_fired: int
    percent: float
    never_fired: list[str]
    tiers_reached: list[str]
    tiers_never_reached: list[str]
    artifacts_produced: list[str]
    artifacts_never_produced: list[str]


class TestReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    __test__ = False  # not a pytest class

    rulebook: dict[str, str]
    files: list[str]
    cases: int
    failed: int
    results: list[CaseResult]
    coverage: Coverage
    min_coverage: float | None = None

    @property
    def below_minimum(self) -> bool:
        """Whether the rule coverage is below ``min_coverage`` (never, without one)."""
        c = self.coverage
        # compare unrounded: 1999 of 2000 rules is not 100 %
        return self.min_coverage is not None and c.rules_fired * 100 < self.min_coverage * c.rules_total

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.below_minimum


def default_case_files(rules_path: str | Path | None, book: Rulebook) -> list[Path]:
    """``tests/*.yaml`` beside the rulebook file (or inside the rulebook directory)."""
    source = Path(rules_path) if rules_path else Path(book.source)
    folder = (source if source.is_dir() else source.parent) / "tests"
    return sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))


def load_cases(paths: list[Path], book: Rulebook) -> list[tuple[str, str, Any]]:
    """(file, case name, validated item + expectations) for every case; all problems at once."""
    reader = ItemReader(book)
    problems: list[Problem] = []
    cases = []
    for name, raw in yaml_files(paths, problems):
        path = Path(name)
        entries = raw
        if isinstance(raw, dict) and "cases" in raw:
            entries = raw["cases"]
            problems += [Problem(f"unknown field '{k}' beside 'cases'; a case file is one case, a list of cases, "
                                 "or {cases: [...]}", file=name, line=line_of(raw, k)) for k in raw if k != "cases"]
            if not isinstance(entries, list):
                problems.append(Problem("'cases' must be a list of cases", file=name, line=line_of(raw, "cases")))
                continue
        entries = entries if isinstance(entries, list) else [entries]
        for i, entry in enumerate(entries):
            found, case = _case(entry, i, path, book, reader)
            problems += found
            if case is not None:
                cases.append(case)
    if problems:
        raise ItemError(problems)
    return cases


def _case(entry: Any, i: int, path: Path, book: Rulebook, reader: ItemReader) -> tuple[list[Problem], Any]:
    """Every problem of one case: its shape, its item and its expectations, each checked even
    when another is wrong; and the case, when it has none."""
    name = str(path)
    given = entry.get("name") if isinstance(entry, dict) and isinstance(entry.get("name"), str) else None
    label = given or f"case #{i + 1}"
    problems: list[Problem] = []
    try:
        case = Case.model_validate(entry)
    except ValidationError as err:
        case = None
        problems += [Problem(p.message, file=name, line=p.line, item=label, field=p.field)
                     for p in problems_from(err, model=Case, raw=entry, file=name)]
    if not isinstance(entry, dict):
        return problems, None
    item = None
    if isinstance(entry.get("item"), dict):
        item_raw = dict(entry["item"])
        item_raw.setdefault("key", given or f"{path.stem}-{i + 1}")
        item_raw.setdefault("title", given or item_raw["key"])
        try:
            item = reader.validate(item_raw, file=name)
        except ItemError as err:
            problems += [Problem(p.message, file=name, line=line_of(entry, "item"), item=label, field=f"item.{p.field}")
                         for p in err.problems]
    expect = entry.get("expect")
    problems += _unknown_ids(_valid_fields(expect), book, name, label,
                             lambda field: line_of(expect, field) or line_of(entry, "expect"))
    if problems or case is None or item is None:
        return sorted(problems, key=lambda p: p.line or 0), None
    return [], (name, case.name or label, item, case.expect)


def _valid_fields(expect: Any) -> Expect:
    """The expectations that are valid on their own (the others are reported by the Case model),
    so that an unknown rule is reported beside a misspelt field."""
    valid: dict[str, Any] = {}
    for field, value in (expect.items() if isinstance(expect, dict) else ()):
        if field in Expect.model_fields:
            try:
                Expect.model_validate({field: value})
            except ValidationError:
                continue
            valid[field] = value
    return Expect.model_validate(valid)


def _unknown_ids(e: Expect, book: Rulebook, file: str, label: str, line: Callable[[str], int | None]) -> list[Problem]:
    """Expected tiers, kinds, rules, artifacts and scores the rulebook does not have."""
    kinds = list(dict.fromkeys(t.kind for t in book.tiers))
    vocabularies = (
        ("tier", "tier", "tiers", list(book.tier_by_id), [e.tier] if e.tier else []),
        ("kind", "kind", "kinds", kinds, [e.kind] if e.kind else []),
        ("fired", "rule", "rules", [r.id for r in book.rules], e.fired),
        ("not_fired", "rule", "rules", [r.id for r in book.rules], e.not_fired),
        ("artifacts", "artifact", "artifacts", [a.id for a in book.artifacts], e.artifacts),
        ("not_artifacts", "artifact", "artifacts", [a.id for a in book.artifacts], e.not_artifacts),
        ("scores", "score", "scores", list(book.score_names), list(e.scores)),
    )
    problems = []
    for field, what, plural, known, values in vocabularies:
        for v in values:
            if v not in known:
                problems.append(Problem(
                    f"unknown {what} '{v}'{suggest(v, known)} ({plural} of rulebook {book.name}: {', '.join(known)})",
                    file=file, line=line(field), item=label, field=f"expect.{field}"))
    return problems


def run_tests(book: Rulebook, paths: list[Path], *, engine: str = "durable", min_coverage: float | None = None) -> TestReport:
    if not paths:
        raise ItemError([Problem("no rule-test case files found; give CASES or put *.yaml files in tests/ beside the rulebook")])
    cases = load_cases(paths, book)
    classifier = Classifier(book, engine)
    results = []
    fired_ever: set[str] = set()
    tiers_ever: set[str] = set()
    artifacts_ever: set[str] = set()
    for file, name, item, e in cases:
        d = classifier.decide(item)
        fired = [f.rule for f in d.fired]
        produced = [a.id for a in d.artifacts]
        fired_ever.update(fired)
        tiers_ever.add(d.tier)
        artifacts_ever.update(produced)
        diffs = []
        if e.tier and d.tier != e.tier:
            diffs.append(f"tier: expected {e.tier}, got {d.tier} {d.label}")
        if e.kind and d.kind != e.kind:
            diffs.append(f"kind: expected {e.kind}, got {d.kind}")
        missing = [r for r in e.fired if r not in fired]
        if missing:
            diffs.append(f"fired: expected {', '.join(missing)} to fire; fired: {', '.join(fired) or 'none'}")
        unwanted = [r for r in e.not_fired if r in fired]
        if unwanted:
            diffs.append(f"not_fired: {', '.join(unwanted)} fired")
        absent = [a for a in e.artifacts if a not in produced]
        if absent:
            diffs.append(f"artifacts: expected {', '.join(absent)}; produced: {', '.join(produced) or 'none'}")
        extra = [a for a in e.not_artifacts if a in produced]
        if extra:
            diffs.append(f"not_artifacts: {', '.join(extra)} produced")
        for score, value in e.scores.items():
            if d.scores[score] != value:
                diffs.append(f"scores.{score}: expected {value}, got {d.scores[score]}")
        results.append(CaseResult(file=file, name=name, passed=not diffs, differences=diffs, tier=d.tier))
    rule_ids = [r.id for r in book.rules]
    covered = [r for r in rule_ids if r in fired_ever]
    coverage = Coverage(
        rules_total=len(rule_ids),
        rules_fired=len(covered),
        percent=round(100.0 * len(covered) / len(rule_ids), 1) if rule_ids else 100.0,
        never_fired=[r for r in rule_ids if r not in fired_ever],
        tiers_reached=[t for t in book.tier_by_id if t in tiers_ever],
        tiers_never_reached=[t for t in book.tier_by_id if t not in tiers_ever],
        artifacts_produced=[a.id for a in book.artifacts if a.id in artifacts_ever],
        artifacts_never_produced=[a.id for a in book.artifacts if a.id not in artifacts_ever],
    )
    return TestReport(rulebook=book.summary(), files=[str(p) for p in paths], cases=len(results),
                      failed=sum(not r.passed for r in results), results=results, coverage=coverage,
                      min_coverage=min_coverage)

"""Validation messages are launchtier's words, made from pydantic's error *types* and their ctx
(pydantic's documented identifiers), never its ``msg`` text, which changes between releases.

Each test here names the pydantic assumption it guards, so that a pydantic update that breaks
one fails with a message saying what changed.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from launchtier.engine import ItemError, ItemReader, RulebookError, load_rulebook, rulebook_from_data
from launchtier.engine.files import validation
from launchtier.engine.items.model import item_model
from launchtier.engine.items.mapping import ExportMapping, load_mapping
from launchtier.engine.rulebook.model import Rulebook
from launchtier.engine.rulecheck.ruletests import load_cases
from launchtier.engine.files.validation import EXPECTED, OWN_WORDS, _drop_tags, _is_type_label, problems_from

BOOK = load_rulebook()
READER = ItemReader(BOOK)
SIGNALS = {"revenue_motion": "none", "differentiation": "none", "customer_reach": 5, "audience": "admin"}


def rulebook(change: Callable[[dict], Any]) -> Callable[[Any], list[str]]:
    def problems(tmp_path) -> list[str]:
        data = BOOK.model_dump(mode="json")
        change(data)
        with pytest.raises(RulebookError) as info:
            rulebook_from_data(data, file="book.yaml")
        return [f"{p.field}: {p.message}" for p in info.value.problems]
    return problems


def item(change: Callable[[dict], Any]) -> Callable[[Any], list[str]]:
    def problems(tmp_path) -> list[str]:
        raw = {"key": "A-1", "title": "Audit log", "signals": dict(SIGNALS)}
        change(raw)
        with pytest.raises(ItemError) as info:
            READER.validate(raw, file="items.yaml")
        return [f"{p.field}: {p.message}" for p in info.value.problems]
    return problems


def mapping(text: str) -> Callable[[Any], list[str]]:
    def problems(tmp_path) -> list[str]:
        path = tmp_path / "mapping.yaml"
        path.write_text(f"key: Key\ntitle: Summary\n{text}", encoding="utf-8")
        with pytest.raises(ItemError) as info:
            load_mapping(str(path), BOOK)
        # the signals this mapping leaves out are the mapping's own check, not pydantic's
        return [f"{p.field}: {p.message}" for p in info.value.problems if p.field != "signals"]
    return problems


def case(text: str) -> Callable[[Any], list[str]]:
    def problems(tmp_path) -> list[str]:
        path = tmp_path / "cases.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ItemError) as info:
            load_cases([path], BOOK)
        return [f"{p.field}: {p.message}" for p in info.value.problems]
    return problems


def _set(data: dict, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def at(*path_and_value: Any) -> Callable[[dict], None]:
    *path, value = path_and_value
    return lambda data: _set(data, tuple(path), value)


# (the pydantic error type the input makes, the input, every problem it gives, whole)
KNOWN_BAD = [
    ("int_type", rulebook(at("rules", 0, "score", {"market_impact": "three"})),
     ["rules[0] (new-market).score.market_impact: 'three' is not allowed; expected a whole number"]),
    ("int_parsing", rulebook(at("capacity", "tier-1", "max", "lots")),
     ["capacity.tier-1.max: 'lots' is not allowed; expected a whole number"]),
    ("int_parsing_size", rulebook(at("capacity", "tier-1", "max", "1" * 5000)),
     ["capacity.tier-1.max: '" + "1" * 57 + "...' is not allowed; expected a whole number"]),
    ("int_from_float", rulebook(at("overrides", "tier-1", "approvals", 2.5)),
     ["overrides.tier-1.approvals: 2.5 is not allowed; expected a whole number"]),
    ("finite_number", case("item: {signals: {revenue_motion: none, differentiation: none, customer_reach: 5, audience: admin}}\n"
                           "expect: {scores: {launch: .inf}}\n"),
     ["expect.scores.launch: inf is not allowed; expected a finite number"]),
    ("float_type", rulebook(at("artifacts", 0, "effort", [2])),
     ["artifacts[0] (launch-plan).effort: a list is not allowed; expected a number"]),
    ("float_parsing", rulebook(at("artifacts", 0, "effort", "two days")),
     ["artifacts[0] (launch-plan).effort: 'two days' is not allowed; expected a number"]),
    ("bool_type", rulebook(at("signals", "new_market", "default", [True])),
     ["signals.new_market.default: a list is not allowed; expected true or false"]),
    ("bool_parsing", rulebook(at("signals", "new_market", "default", "maybe")),
     ["signals.new_market.default: 'maybe' is not allowed; expected true or false"]),
    ("string_type", item(at("key", None)),
     ["key: nothing is not allowed; expected text"]),
    ("string_type", item(at("title", ["Audit", "log"])),
     ["title: a list is not allowed; expected text"]),
    ("string_pattern_mismatch", item(at("quarter", "Q1-2027")),
     ["quarter: 'Q1-2027' is not allowed; expected a quarter like 2027-Q1"]),
    ("string_pattern_mismatch", rulebook(at("rules", 0, "id", "New Market")),
     ["rules[0] (New Market).id: 'New Market' is not allowed; expected an id of lower case letters and digits joined by single hyphens, like wide-reach"]),
    ("string_pattern_mismatch", rulebook(at("tiers", 0, "id", "Tier 1")),
     ["tiers[0] (Tier 1).id: 'Tier 1' is not allowed; expected an id of lower case letters and digits joined by single - or _, like tier-1"]),
    ("string_pattern_mismatch", rulebook(lambda d: d["signals"]["audience"]["values"].append("$x")),
     ["signals.audience.values[3]: '$x' is not allowed; expected letters, digits, _ . and -, starting with a letter or digit"]),
    ("string_too_short", rulebook(at("rules", 0, "because", "")),
     ["rules[0] (new-market).because: is empty; it is required"]),
    ("string_too_short", item(at("key", "")),
     ["key: is empty; it is required"]),
    ("string_too_long", item(at("title", "x" * 501)),
     ["title: a text of 501 characters is not allowed; expected at most 500 characters"]),
    ("too_short", rulebook(at("tiers", [])),
     ["tiers: is empty; it is required"]),
    ("too_short", rulebook(at("rules", 0, "when", {})),
     ["rules[0] (new-market).when: is empty; it is required"]),
    ("too_short", mapping("skip: {column: Status, values: []}\n"),
     ["skip.values: is empty; it is required"]),
    ("too_short", mapping("signals:\n  stage: {column: Labels, contains: ''}\n"),  # a text checked after a validator of ours
     ["signals.stage.contains: is empty; it is required"]),
    ("string_too_short", mapping("pm: ''\n"),
     ["pm: is empty; it is required"]),
    ("dict_type", rulebook(at("tiers", 0, "when", 5)),
     ["tiers[0] (tier-1).when: 5 is not allowed; expected a mapping"]),
    ("dict_type", item(at("links", 5)),  # each member of a union: one problem, each option
     ["links: 5 is not allowed; expected a list or a mapping"]),
    ("model_type", rulebook(at("rules", 0, "a rule")),
     ["rules[0]: 'a rule' is not allowed; expected a mapping"]),
    ("model_type", item(at("signals", ["none", "none", 5, "admin"])),
     ["signals: a list is not allowed; expected a mapping"]),
    ("model_attributes_type", rulebook(at("signals", "new_market", 5)),
     ["signals.new_market: 5 is not allowed; expected a mapping"]),
    ("list_type", rulebook(at("artifacts", 0, "tiers", "tier-1")),
     ["artifacts[0] (launch-plan).tiers: 'tier-1' is not allowed; expected a list"]),
    ("invalid_key", item(at(2, "two")),
     ["[2]: 2 is not allowed as a key; expected text"]),
    ("string_type", rulebook(at("dimensions", 1, {"label": "One"})),  # a key that is not text
     ["dimensions[1]: 1 is not allowed as a key; expected text"]),
    ("too_short", mapping("signals:\n  stage: {column: Stage, values: {'': beta}}\n"),
     ["signals.stage.values.: '' is not allowed as a key; expected at least 1 character"]),
    ("literal_error", rulebook(at("tiers", 0, "kind", "LAUNCH")),
     ["tiers[0] (tier-1).kind: 'LAUNCH' is not allowed; expected one of launch, release; did you mean 'launch'?"]),
    ("literal_error", rulebook(at("capacity", "tier-1", "per", "year")),
     ["capacity.tier-1.per: 'year' is not allowed; expected quarter"]),
    ("literal_error", mapping("quarter: {column: Sprint, from: week}\n"),
     ["quarter.from: 'week' is not allowed; expected one of version, date"]),
    ("less_than_equal", rulebook(at("signals", "demand_votes", "max", 2**60)),
     ["signals.demand_votes.max: 1152921504606846976 is not allowed; expected at most 9007199254740992"]),
    ("less_than_equal", rulebook(at("artifacts", 0, "effort", 1001.5)),
     ["artifacts[0] (launch-plan).effort: 1001.5 is not allowed; expected at most 1000"]),
    ("greater_than_equal", rulebook(at("capacity", "tier-1", "max", -1)),
     ["capacity.tier-1.max: -1 is not allowed; expected at least 0"]),
    ("union_tag_invalid", rulebook(at("signals", "new_market", "type", "boolean")),
     ["signals.new_market: type 'boolean' is not allowed; expected one of bool, int, enum; did you mean 'bool'?"]),
    ("union_tag_not_found", rulebook(lambda d: d["signals"]["new_market"].pop("type")),
     ["signals.new_market: missing 'type'; expected one of bool, int, enum"]),
    ("value_error", rulebook(at("dimensions", "parity", "min", 5)),  # a check of the whole mapping
     ["dimensions.parity: min 5 is above max 3"]),
    ("value_error", mapping("signals:\n  stage: {column: Stage, contains: yes}\n"),
     ["signals.stage.contains: YAML reads this as true/false, so the cell text is lost; quote it, e.g. 'Yes' (got true)"]),
    ("missing", rulebook(lambda d: d["rules"][0].pop("because")),
     ["rules[0] (new-market).because: missing; this field is required"]),
    ("extra_forbidden", rulebook(at("rules", 0, "becuase", "Typo.")),
     ["rules[0] (new-market).becuase: unknown field 'becuase'; did you mean 'because'? (allowed: id, because, when, score)"]),
    ("bool_type", mapping("signals:\n  stage: {value: 1.5}\n"),  # and int_type, string_type: each member of a union
     ["signals.stage.value: 1.5 is not allowed; expected true or false, a whole number or text"]),
]


def _id(entry: tuple) -> str:
    return f"{entry[0]}-{KNOWN_BAD.index(entry)}"


def recording(monkeypatch) -> list[dict]:
    """Every pydantic error that reaches launchtier's wording, as it arrives."""
    met: list[dict] = []
    wording = validation.message_for

    def message_for(error: dict, *args: Any, **kwargs: Any) -> str:
        met.append(error)
        return wording(error, *args, **kwargs)

    monkeypatch.setattr(validation, "message_for", message_for)
    return met


@pytest.mark.parametrize("entry", KNOWN_BAD, ids=_id)
def test_each_kind_of_pydantic_error_is_said_in_launchtiers_words(entry, tmp_path, monkeypatch):
    kind, problems_of, expected = entry
    met = recording(monkeypatch)
    assert problems_of(tmp_path) == expected
    assert kind in {e["type"] for e in met}, f"pydantic no longer reports this input as {kind!r}: {[e['type'] for e in met]}"


def test_every_pydantic_error_type_the_known_bad_inputs_meet_has_launchtiers_words(tmp_path, monkeypatch):
    met = recording(monkeypatch)
    for _, problems_of, _ in KNOWN_BAD:
        problems_of(tmp_path)
    unknown = sorted({e["type"] for e in met} - set(EXPECTED) - OWN_WORDS)
    assert not unknown, (f"pydantic reports error types launchtier has no words for: {unknown}; "
                         "add them to EXPECTED in engine/files/validation.py")


def test_error_types_our_models_cannot_make_are_worded_too():
    # less_than, greater_than and too_long are in the table for the day a model uses them
    class Limits(BaseModel):
        model_config = ConfigDict(extra="forbid")
        below: int = Field(lt=5)
        above: int = Field(gt=5)
        few: list[int] = Field(max_length=2)
        code: str = Field(pattern=r"^[A-Z]+$")

    with pytest.raises(ValidationError) as info:
        Limits.model_validate({"below": 5, "above": 5, "few": [1, 2, 3], "code": "abc"})
    problems = problems_from(info.value, model=Limits, raw={}, file="limits.yaml")
    assert [f"{p.field}: {p.message}" for p in problems] == [
        "below: 5 is not allowed; expected less than 5",
        "above: 5 is not allowed; expected more than 5",
        "few: a list of 3 entries is not allowed; expected at most 2 entries",
        "code: 'abc' is not allowed; expected text matching ^[A-Z]+$",  # a pattern without words
    ]


def test_a_pydantic_error_type_launchtier_does_not_know_falls_back_to_pydantics_words():
    error = {"type": "uuid_parsing", "loc": ("id",), "input": "x", "msg": "Input should be a valid UUID"}
    assert validation.message_for(error, None) == "Input should be a valid UUID (got 'x')"


# ---- pydantic's labels in error locations ------------------------------------------------------

ITEM = item_model(BOOK)
LABELLED = [
    # (model, input, pydantic's loc of each error, the loc launchtier shows)
    (ITEM, {"key": "A-1", "title": "t", "links": 5, "signals": SIGNALS},
     [("links", "list[str]"), ("links", "dict[str,str]")], [("links",), ("links",)]),
    (ExportMapping, {"key": "K", "title": "T", "signals": {"stage": {"value": 1.5}}},
     [("signals", "stage", "value", "bool"), ("signals", "stage", "value", "int"), ("signals", "stage", "value", "str")],
     [("signals", "stage", "value")] * 3),
    (ExportMapping, {"key": "K", "title": "T", "signals": {"stage": {"column": "S", "values": {"": "beta"}}}},
     [("signals", "stage", "values", "", "[key]")], [("signals", "stage", "values", "")]),
    (Rulebook, {**BOOK.model_dump(mode="json"), "dimensions": {1: {"label": "One"}}},
     [("dimensions", 1, "[key]")], [("dimensions", 1)]),
    # a discriminated union's tag: the member's literal, not a label
    (Rulebook, {**BOOK.model_dump(mode="json"), "signals": {"reach": {"type": "int", "question": "?", "min": "zero"}}},
     [("signals", "reach", "int", "min")], [("signals", "reach", "min")]),
]


@pytest.mark.parametrize("model, raw, pydantic_locs, shown_locs", LABELLED, ids=[str(loc[0]) for _, _, loc, _ in LABELLED])
def test_pydantics_loc_labels_for_unions_and_validators_are_the_ones_drop_tags_removes(model, raw, pydantic_locs, shown_locs):
    with pytest.raises(ValidationError) as info:
        model.model_validate(raw)
    locs = [e["loc"] for e in info.value.errors()]
    assert locs == pydantic_locs, (
        "pydantic's loc labels for unions/validators changed: _drop_tags and _is_type_label in "
        f"engine/files/validation.py read them to show the fields the user wrote (now {locs})")
    assert [_drop_tags(model, loc, raw) for loc in locs] == shown_locs


def test_every_loc_part_dropped_from_the_known_bad_inputs_is_a_label_or_a_tag(tmp_path, monkeypatch):
    met = recording(monkeypatch)
    for _, problems_of, _ in KNOWN_BAD:
        problems_of(tmp_path)
    tags = {"bool", "int", "enum"}  # the signal types: a discriminated union's tags
    for error in met:
        shown, dropped = list(error["loc"]), []
        for part in error.get("tagged_loc", error["loc"]):
            if shown and shown[0] == part:
                shown.pop(0)
            else:
                dropped.append(part)
        for part in dropped:
            assert part in tags or (isinstance(part, str) and _is_type_label(part)), (
                f"pydantic's loc labels for unions/validators changed: {part!r} in {error['tagged_loc']}")

"""Bad item files and bad rulebooks: every problem names the file, the item and the field, and
says what is allowed. Engine level only (no command line)."""

from __future__ import annotations

import copy
import time

import pytest
import yaml

from launchtier.engine import ItemError, Problem, RulebookError, default_rulebook_path, load_rulebook, rulebook_from_data

SIGNAL_LIST = (
    "new_market, positioning, revenue_motion, differentiation, customer_reach, demand_votes, "
    "user_action_required, pricing_change, audience, stage, exec_priority"
)

GOOD = """\
- key: A-1
  title: Audit log
  signals:
    revenue_motion: none
    differentiation: none
    customer_reach: 5
    audience: admin
"""
# lines:  1 key, 2 title, 3 signals, 4 revenue_motion, 5 differentiation, 6 customer_reach, 7 audience

CSV_HEADER = "key,title,revenue_motion,differentiation,customer_reach,audience"


@pytest.fixture
def problems(reader):
    """The problems of reading ``data`` as the file ``name``; fails if the file reads."""

    def problems(name: str, data: str | bytes) -> list[Problem]:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        with pytest.raises(ItemError) as info:
            reader.read(name, data=raw)
        assert info.value.problems, "an ItemError carries its problems"
        assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
        return info.value.problems

    return problems


@pytest.fixture
def one(problems):
    def one(name: str, data: str | bytes) -> Problem:
        found = problems(name, data)
        assert len(found) == 1, found
        return found[0]

    return one


# ---- items: fields and values ---------------------------------------------------------------


def test_the_good_item_reads(reader):
    [item] = reader.read("good.yaml", data=GOOD.encode())
    assert item.key == "A-1"
    assert item.signals.stage == "ga"  # a default fills what the file leaves out


def test_unknown_item_field_lists_the_allowed_fields(one):
    p = one("roadmap.yaml", GOOD.replace("  title: Audit log\n", "  title: Audit log\n  owner: bob\n"))
    assert (p.file, p.item, p.field, p.line) == ("roadmap.yaml", "A-1", "owner", 3)
    assert "unknown field 'owner'" in p.message
    assert "allowed: key, title, description, pm, pmm, quarter, links, signals" in p.message
    assert str(p).startswith("roadmap.yaml:3: item A-1: owner: unknown field")


def test_misspelt_item_field_suggests_the_closest(reader):
    with pytest.raises(ItemError) as info:
        reader.validate({"key": "A-1", "ttle": "x", "signals": {}}, file="x.yaml")
    [p] = [p for p in info.value.problems if p.field == "ttle"]
    assert "did you mean 'title'?" in p.message
    assert (p.file, p.item) == ("x.yaml", "A-1")


def test_misspelt_signal_suggests_the_closest_name(one):
    p = one("roadmap.yaml", GOOD.replace("    audience: admin\n", "    audience: admin\n    custmer_reach: 3\n"))
    assert (p.file, p.item, p.field, p.line) == ("roadmap.yaml", "A-1", "signals.custmer_reach", 8)
    assert "unknown signal 'custmer_reach'; did you mean 'customer_reach'?" in p.message
    assert f"(signals: {SIGNAL_LIST})" in p.message


@pytest.mark.parametrize("value, shown", [("lots", "'lots'"), ("true", "true"), ("5.5", "5.5"), ("[5]", "a list")])
def test_wrong_type_of_an_int_signal_says_what_is_expected(one, value, shown):
    p = one("roadmap.yaml", GOOD.replace("customer_reach: 5", f"customer_reach: {value}"))
    assert (p.file, p.item, p.field, p.line) == ("roadmap.yaml", "A-1", "signals.customer_reach", 6)
    assert p.message == f"{shown} is not allowed; expected a whole number from 0 to 100"


def test_wrong_type_of_a_bool_signal(one):
    p = one("roadmap.yaml", GOOD + "    pricing_change: maybe\n")
    assert (p.item, p.field, p.line) == ("A-1", "signals.pricing_change", 8)
    assert p.message == "'maybe' is not allowed; expected true or false"


def test_wrong_type_of_an_item_field(one):
    p = one("roadmap.yaml", GOOD.replace("title: Audit log", "title: [Audit, log]"))
    assert (p.item, p.field, p.line) == ("A-1", "title", 2)
    assert p.message == "a list is not allowed; expected text"


def test_links_of_the_wrong_type_give_one_problem_naming_both_forms(reader):
    with pytest.raises(ItemError) as info:
        reader.validate({"key": "A-1", "title": "t", "links": 5, "signals": {"revenue_motion": "none", "differentiation": "none", "customer_reach": 1, "audience": "buyer"}}, file="x.yaml")
    [p] = info.value.problems
    assert p.field == "links"
    assert p.message == "5 is not allowed; expected a list or a mapping"


@pytest.mark.parametrize("value", [101, 150, -1])
def test_value_out_of_range(one, value):
    p = one("roadmap.yaml", GOOD.replace("customer_reach: 5", f"customer_reach: {value}"))
    assert (p.item, p.field, p.line) == ("A-1", "signals.customer_reach", 6)
    assert p.message == f"{value} is not allowed; expected a whole number from 0 to 100"


def test_value_not_in_the_enum_lists_the_allowed_values(one):
    p = one("roadmap.yaml", GOOD.replace("audience: admin", "audience: everyone"))
    assert (p.file, p.item, p.field, p.line) == ("roadmap.yaml", "A-1", "signals.audience", 7)
    assert p.message == "'everyone' is not allowed; expected one of admin, end_user, buyer"


def test_value_close_to_an_enum_value_suggests_it(one):
    p = one("roadmap.yaml", GOOD.replace("audience: admin", "audience: admins"))
    assert p.message.endswith("expected one of admin, end_user, buyer; did you mean 'admin'?")


def test_missing_signal_asks_the_question(one):
    p = one("roadmap.yaml", GOOD.replace("    customer_reach: 5\n", ""))
    assert (p.item, p.field) == ("A-1", "signals.customer_reach")
    assert p.message == 'missing; answer "What percent of customers does it touch?" (a whole number from 0 to 100)'


def test_quarter_in_the_wrong_form(one):
    p = one("roadmap.yaml", GOOD.replace("  title: Audit log\n", "  title: Audit log\n  quarter: Q1-2027\n"))
    assert (p.item, p.field, p.line) == ("A-1", "quarter", 3)
    assert p.message == "'Q1-2027' is not allowed; expected a quarter like 2027-Q1"


def test_duplicate_key_points_at_the_second_item(one):
    p = one("roadmap.yaml", GOOD + GOOD.replace("title: Audit log", "title: Audit log again"))
    assert (p.file, p.item, p.field, p.line) == ("roadmap.yaml", "A-1", "key", 8)
    assert p.message == "duplicate key (also item #1 of this file); keys are unique in a file"


def test_an_item_without_a_key_is_named_by_its_position(problems):
    found = problems("roadmap.yaml", GOOD + "- title: No key\n  signals: {}\n")
    assert {(p.item, p.field) for p in found} >= {("#2", "key")}
    assert all(p.item == "#2" for p in found)


def test_every_problem_of_a_file_is_reported_at_once(problems):
    text = (
        GOOD.replace("  title: Audit log\n", "  title: Audit log\n  owner: bob\n")
        .replace("customer_reach: 5", "customer_reach: 500")
        .replace("audience: admin", "audience: nobody")
        + GOOD.replace("A-1", "A-2").replace("differentiation: none", "differentiation: unique")
        + GOOD.replace("A-1", "A-3")  # a good item among bad ones
        + GOOD.replace("A-1", "A-4").replace("    customer_reach: 5\n", "")
    )
    found = problems("roadmap.yaml", text)
    assert sorted((p.item, p.field) for p in found) == [
        ("A-1", "owner"),
        ("A-1", "signals.audience"),
        ("A-1", "signals.customer_reach"),
        ("A-2", "signals.differentiation"),
        ("A-4", "signals.customer_reach"),
    ]
    assert all(p.file == "roadmap.yaml" for p in found)
    [diff] = [p for p in found if p.item == "A-2"]
    assert diff.line == 13
    assert "expected one of none, parity, better, first" in diff.message


def test_problems_of_several_files_are_reported_together(reader, tmp_path):
    bad_a = tmp_path / "a.yaml"
    bad_a.write_text(GOOD.replace("audience: admin", "audience: nobody"), encoding="utf-8")
    bad_b = tmp_path / "b.yaml"
    bad_b.write_text("", encoding="utf-8")
    with pytest.raises(ItemError) as info:
        reader.read_many([str(bad_a), str(bad_b)])
    assert [(p.file, p.field) for p in info.value.problems] == [(str(bad_a), "signals.audience"), (str(bad_b), None)]


# ---- items: the file itself -----------------------------------------------------------------


def test_yaml_syntax_error_has_a_line_number(one):
    p = one("roadmap.yaml", GOOD.replace("title: Audit log", "title: [Audit log"))
    assert (p.file, p.line) == ("roadmap.yaml", 3)
    assert p.message.startswith("invalid YAML: ")
    assert str(p).startswith("roadmap.yaml:3: invalid YAML")


@pytest.mark.parametrize(
    "nesting",
    [
        "[" * 250 + "]" * 250,  # read event by event: launchtier's check
        "{a: " * 250 + "1" + "}" * 250,
        "[" * 3000,  # past libyaml's own limit (PyYAML 6.0.4 and newer): mapped to the same words
        "{a: " * 3000,
    ],
)
def test_deep_nesting_is_refused_in_launchtiers_words_whatever_libyaml_says(one, nesting):
    p = one("roadmap.yaml", GOOD.replace("title: Audit log", f"title: {nesting}"))
    assert str(p) == "roadmap.yaml:2: invalid YAML: nested deeper than 200 levels"


def test_a_syntax_error_after_a_few_brackets_is_not_called_deep_nesting(one):
    p = one("roadmap.yaml", GOOD.replace("title: Audit log", "title: [[[[ x }"))
    assert (p.file, p.line) == ("roadmap.yaml", 2)
    assert p.message.startswith("invalid YAML: ") and "nested" not in p.message  # the parser's own words


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n", "---\n"])
def test_empty_file(one, text):
    p = one("roadmap.yaml", text)
    assert (p.file, p.message) == ("roadmap.yaml", "is empty")


def test_binary_file(one):
    p = one("roadmap.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert p.file == "roadmap.yaml"
    assert p.message == "is a binary file, expected UTF-8 text (YAML, JSON or CSV)"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_is_named_as_such(one, encoding):
    p = one("roadmap.yaml", GOOD.encode(encoding))
    assert p.file == "roadmap.yaml"
    assert p.message == "is UTF-16 text, expected UTF-8; save it as UTF-8 and try again"


def test_latin1_file_points_at_the_first_bad_byte(one):
    p = one("roadmap.yaml", GOOD.replace("title: Audit log", "title: Café log").encode("latin-1"))
    assert (p.file, p.line) == ("roadmap.yaml", 2)
    assert "is not UTF-8 text (byte 0xe9" in p.message
    assert "save it as UTF-8" in p.message


def test_utf8_with_a_byte_order_mark_reads(reader):
    [item] = reader.read("roadmap.yaml", data=GOOD.encode("utf-8-sig"))
    assert item.key == "A-1"


@pytest.mark.parametrize(
    "text, line",
    [
        ("!!python/object:os.system {}\n", 1),
        (GOOD.replace("title: Audit log", "title: !!python/object/apply:os.system ['echo pwned']"), 2),
        ("- !!python/name:builtins.exit\n", 1),
    ],
)
def test_python_tags_are_refused(one, text, line):
    p = one("roadmap.yaml", text)
    assert (p.file, p.line) == ("roadmap.yaml", line)
    assert p.message.startswith("invalid YAML: unsupported YAML tag 'tag:yaml.org,2002:python/")
    assert "only plain YAML is read (no tags)" in p.message


def test_alias_bomb_is_refused_quickly(one):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdef", "bcdefg"):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    start = time.monotonic()
    p = one("bomb.yaml", "\n".join(levels) + "\n")
    assert time.monotonic() - start < 10
    assert p.file == "bomb.yaml"
    assert p.message == "invalid YAML: expands to more than 2,000,000 values (an alias bomb?)"
    assert p.line == 7


def test_duplicate_yaml_keys_are_refused(one):
    p = one("roadmap.yaml", GOOD.replace("  title: Audit log\n", "  title: Audit log\n  title: Audit trail\n"))
    assert (p.file, p.line) == ("roadmap.yaml", 3)
    assert p.message == "invalid YAML: duplicate key 'title' (first on line 2)"


def test_duplicate_signal_keys_are_refused(one):
    p = one("roadmap.yaml", GOOD + "    audience: buyer\n")
    assert p.line == 8
    assert "duplicate key 'audience' (first on line 7)" in p.message


@pytest.mark.parametrize(
    "text, message, line",
    [
        ("just a string\n", "an item file is one item (a mapping with key, title and signals), a list of items, or {items: [...]}", None),
        ("42\n", "an item file is one item (a mapping with key, title and signals), a list of items, or {items: [...]}", None),
        ("items: {a: 1}\n", "'items' must be a list of items", 1),
        ("items: []\nversion: 2\n", "unknown field 'version' beside 'items'; an item file is one item, a list of items, or {items: [...]}", 2),
        ("items: []\n", "holds no items", None),
        ("[]\n", "holds no items", None),
    ],
)
def test_wrong_top_level_shape(one, text, message, line):
    p = one("roadmap.yaml", text)
    assert (p.file, p.message, p.line) == ("roadmap.yaml", message, line)


def test_an_entry_that_is_not_a_mapping(problems):
    found = problems("roadmap.yaml", "- 1\n" + GOOD)
    assert [(p.item, p.message) for p in found] == [("#1", "an item is a mapping with key, title and signals")]


def test_items_form_and_single_item_form_read(reader):
    nested = "items:\n" + "".join("  " + line + "\n" for line in GOOD.splitlines())
    assert [i.key for i in reader.read("roadmap.yaml", data=nested.encode())] == ["A-1"]
    single = "\n".join(line[2:] for line in GOOD.splitlines()) + "\n"
    assert [i.key for i in reader.read("roadmap.yaml", data=single.encode())] == ["A-1"]


def test_json_syntax_error_has_a_line_number(one):
    p = one("roadmap.json", '{"key": "A-1", "title": "T",\n "signals": {,}}')
    assert (p.file, p.line) == ("roadmap.json", 2)
    assert p.message == "invalid JSON: a key must be in double quotes (column 14)"


def test_json_duplicate_keys_are_refused(one):
    p = one("roadmap.json", '{"key": "A-1", "key": "A-2", "title": "T", "signals": {}}')
    assert (p.file, p.message) == ("roadmap.json", "invalid JSON: duplicate key 'key' (column 22)")


def test_json_problems_name_the_item_and_field(one):
    text = '[{"key": "J-1", "title": "T", "signals": {"revenue_motion": "none", "differentiation": "none", "customer_reach": 5, "audience": "root"}}]'
    p = one("roadmap.json", text)
    assert (p.file, p.item, p.field) == ("roadmap.json", "J-1", "signals.audience")
    assert "expected one of admin, end_user, buyer" in p.message


# ---- items: CSV -----------------------------------------------------------------------------


def test_csv_reads(reader):
    text = f"{CSV_HEADER},pricing_change\nC-1,Seats,expansion,better,40,buyer,yes\nC-2,Logs,none,parity,3,admin,no\n"
    items = reader.read("roadmap.csv", data=text.encode())
    assert [(i.key, i.signals.pricing_change, i.signals.customer_reach) for i in items] == [("C-1", True, 40), ("C-2", False, 3)]


def test_csv_unknown_column_suggests_the_closest(one):
    p = one("roadmap.csv", "key,title,custmer_reach\nC-1,T,3\n")
    assert (p.file, p.line, p.field) == ("roadmap.csv", 1, "custmer_reach")
    assert p.message.startswith("unknown column 'custmer_reach'; did you mean 'customer_reach'? (columns: key, title, ")
    assert SIGNAL_LIST in p.message


def test_csv_missing_key_column(one):
    p = one("roadmap.csv", "title,revenue_motion,differentiation,customer_reach,audience\nT,none,none,5,admin\n")
    assert (p.file, p.line, p.field, p.message) == ("roadmap.csv", 1, "key", "missing column 'key'")


def test_csv_duplicate_column(one):
    p = one("roadmap.csv", "key,title,key\nC-1,T,C-1\n")
    assert (p.line, p.field, p.message) == (1, "key", "column appears twice in the header")


def test_csv_bad_bool_says_what_is_allowed(one):
    p = one("roadmap.csv", f"{CSV_HEADER},pricing_change\nC-1,T,none,none,5,admin,maybe\n")
    assert (p.file, p.line, p.item, p.field) == ("roadmap.csv", 2, "C-1", "signals.pricing_change")
    assert p.message == "'maybe' is not allowed; expected true/false or yes/no"


def test_csv_bad_int(one):
    p = one("roadmap.csv", f"{CSV_HEADER}\nC-1,T,none,none,five,admin\n")
    assert (p.line, p.item, p.field) == (2, "C-1", "signals.customer_reach")
    assert p.message == "'five' is not allowed; expected a whole number from 0 to 100"


def test_csv_ragged_row(one):
    p = one("roadmap.csv", f"{CSV_HEADER}\nC-1,T,none,none,5,admin\nC-2,T,none,none,5\n")
    assert (p.file, p.line, p.item) == ("roadmap.csv", 3, "C-2")
    assert p.message == "row has 5 cells but the header has 6 columns"


def test_csv_header_without_rows(one):
    p = one("roadmap.csv", f"{CSV_HEADER}\n")
    assert p.message == "holds no items (a header but no rows)"


def test_csv_reports_every_bad_row_at_once(problems):
    text = (
        f"{CSV_HEADER},pricing_change\n"
        "C-1,T,none,none,5,admin,maybe\n"
        "C-2,T,none,none,5\n"
        "C-3,T,none,none,5,admin,no\n"
        "C-4,T,none,unique,5,admin,no\n"
    )
    found = problems("roadmap.csv", text)
    assert [(p.line, p.item, p.field) for p in found] == [
        (2, "C-1", "signals.pricing_change"),
        (3, "C-2", None),
        (5, "C-4", "signals.differentiation"),
    ]


# ---- rulebooks ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_data():
    return yaml.safe_load(default_rulebook_path().read_text(encoding="utf-8"))


@pytest.fixture
def rulebook_problems(default_data):
    """The problems of the default rulebook after ``change`` edits a copy of its data."""

    def rulebook_problems(change) -> list[Problem]:
        data = copy.deepcopy(default_data)
        change(data)
        with pytest.raises(RulebookError) as info:
            rulebook_from_data(data, file="book.yaml")
        found = info.value.problems
        assert found and all(p.file == "book.yaml" for p in found)
        assert all(p.line is None for p in found)  # data built in Python has no lines
        return found

    return rulebook_problems


@pytest.fixture
def rulebook_problem(rulebook_problems):
    def rulebook_problem(change) -> Problem:
        found = rulebook_problems(change)
        assert len(found) == 1, found
        return found[0]

    return rulebook_problem


def _rule(data: dict, rule_id: str) -> dict:
    [rule] = [r for r in data["rules"] if r["id"] == rule_id]
    return rule


def test_the_default_data_loads(default_data):
    assert rulebook_from_data(copy.deepcopy(default_data)).hash == load_rulebook().hash


def test_unknown_signal_in_a_rule_condition(rulebook_problem):
    p = rulebook_problem(lambda d: _rule(d, "new-market").update(when={"new_markt": True}))
    assert p.field == "rules[0] (new-market).when.new_markt"
    assert p.message.startswith("unknown name 'new_markt'; did you mean 'new_market'? (allowed: audience, customer_reach, ")
    assert p.message.endswith("or all / any / not)")


def test_unknown_dimension_in_a_score(rulebook_problem):
    p = rulebook_problem(lambda d: _rule(d, "revenue-new-logo").update(score={"lead_generaton": 3}))
    assert p.field == "rules[6] (revenue-new-logo).score.lead_generaton"
    assert p.message == (
        "unknown dimension 'lead_generaton'; did you mean 'lead_generation'? "
        "(dimensions: market_impact, lead_generation, parity, customer_impact)"
    )


def test_a_total_in_a_score_is_explained(rulebook_problem):
    p = rulebook_problem(lambda d: _rule(d, "new-market").update(score={"launch": 3}))
    assert "totals are computed from dimensions; score a dimension" in p.message


def test_last_tier_with_a_condition_means_no_default(rulebook_problem):
    p = rulebook_problem(lambda d: d["tiers"][-1].update(when={"parity": {"gte": 0}}))
    assert p.field == "tiers[3] (tier-4).when"
    assert "the last tier is the default and has no 'when'" in p.message


def test_a_tier_without_a_condition_before_the_last(rulebook_problem):
    p = rulebook_problem(lambda d: d["tiers"][1].pop("when"))
    assert p.field == "tiers[1] (tier-2)"
    assert p.message == "only the last tier may have no 'when'; give this tier a condition or move it last"


@pytest.mark.parametrize(
    "section, change, field, message",
    [
        ("rules", lambda d: d["rules"].append(dict(d["rules"][0])), "rules[18] (new-market).id", "duplicate rule id 'new-market' (also rules[0])"),
        ("tiers", lambda d: d["tiers"].insert(1, dict(d["tiers"][0])), "tiers[1] (tier-1).id", "duplicate tier id 'tier-1' (also tiers[0])"),
        ("artifacts", lambda d: d["artifacts"].append(dict(d["artifacts"][0])), "artifacts[21] (launch-plan).id", "duplicate artifact id 'launch-plan' (also artifacts[0])"),
    ],
)
def test_duplicate_ids(rulebook_problem, section, change, field, message):
    p = rulebook_problem(change)
    assert (p.field, p.message) == (field, message)


@pytest.mark.parametrize(
    "name, why",
    [
        ("id", "durable-rules hangs"),
        ("sid", "durable-rules uses 'sid'"),
        ("key", "the item's own key"),
        ("title", "the item's own title"),
        ("_x", "names starting with '_' are reserved"),
    ],
)
def test_reserved_signal_names(rulebook_problem, name, why):
    p = rulebook_problem(lambda d: d["signals"].update({name: {"type": "bool", "question": "Is it?"}}))
    assert p.field == f"signals.{name}"
    assert p.message.startswith(f"'{name}' is a reserved name (")
    assert why in p.message
    assert p.message.endswith("rename it")


def test_reserved_dimension_name(rulebook_problem):
    p = rulebook_problem(lambda d: d["dimensions"].update({"sid": {"label": "Session"}}))
    assert p.field == "dimensions.sid"
    assert "'sid' is a reserved name" in p.message


def test_a_name_shared_by_a_signal_and_a_dimension(rulebook_problems):
    found = rulebook_problems(lambda d: d["dimensions"].update({"stage": {"label": "Stage"}}))
    assert found[0].field == "dimensions.stage"
    assert found[0].message == "'stage' is already a signal; signals, dimensions and totals share one namespace"


def test_a_rule_reading_a_dimension(rulebook_problem):
    p = rulebook_problem(lambda d: _rule(d, "new-market").update(when={"market_impact": {"gte": 1}}))
    assert p.field == "rules[0] (new-market).when.market_impact"
    assert "unknown name 'market_impact'" in p.message
    assert "a rule's condition reads signals only: dimensions and totals are computed from the rules" in p.message


def test_an_enum_value_that_does_not_exist(rulebook_problem):
    p = rulebook_problem(lambda d: _rule(d, "positioning-changes").update(when={"positioning": "change"}))
    assert p.field == "rules[1] (positioning-changes).when.positioning"
    assert p.message == "change is not a value of signal positioning; did you mean 'changes'? (allowed: one of none, strengthens, changes)"


def test_an_enum_value_in_a_list_that_does_not_exist(rulebook_problem):
    p = rulebook_problem(lambda d: d["artifacts"][10].update(when={"differentiation": {"in": ["better", "fist"]}}))
    assert p.field == "artifacts[10] (battlecard).when.differentiation.in"
    assert "fist is not a value of signal differentiation; did you mean 'first'?" in p.message


def test_gte_on_an_enum(rulebook_problem):
    p = rulebook_problem(lambda d: _rule(d, "positioning-changes").update(when={"positioning": {"gte": "strengthens"}}))
    assert p.field == "rules[1] (positioning-changes).when.positioning.gte"
    assert p.message == "'gte' compares numbers, but positioning is one of none, strengthens, changes; use eq, ne, in or not_in"


def test_unknown_operator(rulebook_problem):
    p = rulebook_problem(lambda d: _rule(d, "reach-some").update(when={"customer_reach": {"gte": 10, "below": 50}}))
    assert p.field == "rules[14] (reach-some).when.customer_reach.below"
    assert p.message == "unknown operator 'below' (allowed: eq, ne, lt, lte, gt, gte, in, not_in)"


def test_wrong_type_of_a_score(rulebook_problem):
    p = rulebook_problem(lambda d: _rule(d, "new-market").update(score={"market_impact": "three"}))
    assert p.field == "rules[0] (new-market).score.market_impact"
    assert p.message == "'three' is not allowed; expected a whole number"


def test_wrong_type_of_a_signal_bound_names_the_field_the_user_wrote(rulebook_problem):
    p = rulebook_problem(lambda d: d["signals"]["customer_reach"].update(min="zero"))
    assert p.field == "signals.customer_reach.min"  # not the union tag "signals.customer_reach.int.min"
    assert p.message == "'zero' is not allowed; expected a whole number"


def test_wrong_type_of_a_condition_value(rulebook_problem):
    p = rulebook_problem(lambda d: _rule(d, "new-market").update(when={"new_market": "yes"}))
    assert p.message == "yes is not a value of signal new_market (allowed: true or false)"


def test_unknown_signal_type_lists_the_types(rulebook_problem):
    p = rulebook_problem(lambda d: d["signals"]["new_market"].update(type="boolean"))
    assert p.field == "signals.new_market"
    assert p.message == "type 'boolean' is not allowed; expected one of bool, int, enum; did you mean 'bool'?"


def test_unknown_field_of_a_signal_lists_that_signal_types_fields(rulebook_problem):
    p = rulebook_problem(lambda d: d["signals"]["stage"].update(qestion="Beta?"))
    assert p.field == "signals.stage.qestion"
    assert p.message == "unknown field 'qestion'; did you mean 'question'? (allowed: type, question, values, default, moves, phrases)"


def test_moves_of_a_signal_is_decision_forward_or_fact(rulebook_problem):
    p = rulebook_problem(lambda d: d["signals"]["stage"].update(moves="sometimes"))
    assert (p.field, p.message) == ("signals.stage.moves", "'sometimes' is not allowed; expected one of decision, forward, fact")


def test_phrases_name_values_of_their_signal(rulebook_problem):
    p = rulebook_problem(lambda d: d["signals"]["stage"].update(phrases={"ga": "it waited for GA", "alpha": "it was early"}))
    assert (p.field, p.message) == ("signals.stage", "phrases for values it does not have: alpha (values: beta, ga)")


def test_an_int_signal_phrase_holds_its_value(rulebook_problem):
    p = rulebook_problem(lambda d: d["signals"]["customer_reach"].update(phrase="it reached more customers"))
    assert (p.field, p.message) == ("signals.customer_reach.phrase", "'it reached more customers' is not allowed; expected "
                                    "text with {value} where the number goes, like: it reached {value}% of customers")


def test_moves_and_phrases_left_out_keep_a_rulebooks_hash():
    """A rulebook written before signals had ``moves`` and ``phrases`` keeps its content hash."""
    data = yaml.safe_load(default_rulebook_path().read_text(encoding="utf-8"))
    bare = copy.deepcopy(data)
    for sig in bare["signals"].values():
        for field in ("moves", "phrases", "phrase"):
            sig.pop(field, None)
    with_defaults = copy.deepcopy(bare)
    for sig in with_defaults["signals"].values():
        sig["moves"] = "decision"
    assert rulebook_from_data(bare).hash == rulebook_from_data(with_defaults).hash != rulebook_from_data(data).hash
    dumped = rulebook_from_data(bare).model_dump(mode="json")
    assert all(set(s) <= {"type", "question", "values", "min", "max", "default"} for s in dumped["signals"].values())


def test_missing_because(rulebook_problem):
    p = rulebook_problem(lambda d: _rule(d, "new-market").pop("because"))
    assert (p.field, p.message) == ("rules[0] (new-market).because", "missing; this field is required")


@pytest.mark.parametrize("section, hint", [("tier", "; did you mean 'tiers'?"), ("extras", "")])
def test_unknown_top_level_section(rulebook_problem, section, hint):
    p = rulebook_problem(lambda d: d.update({section: {}}))
    assert p.field == section
    assert p.message == (
        f"unknown section '{section}'{hint} (allowed: rulebook, version, description, signals, dimensions, "
        "totals, capacity, overrides, suggest, rules, tiers, artifacts)"
    )


@pytest.mark.parametrize("default", [101, -1])
def test_a_default_outside_the_int_range(rulebook_problem, default):
    p = rulebook_problem(lambda d: d["signals"]["customer_reach"].update(default=default))
    assert p.field == "signals.customer_reach"
    assert p.message == f"default {default} is outside 0..100"


def test_an_enum_default_that_is_not_a_value(rulebook_problem):
    p = rulebook_problem(lambda d: d["signals"]["stage"].update(default="GA"))
    assert (p.field, p.message) == ("signals.stage", "default 'GA' is not one of its values (beta, ga)")


def test_an_int_beyond_what_json_keeps_exactly(rulebook_problem):
    p = rulebook_problem(lambda d: d["signals"]["demand_votes"].update(max=2**60))
    assert p.field == "signals.demand_votes.max"
    assert p.message == "1152921504606846976 is not allowed; expected at most 9007199254740992"


@pytest.mark.parametrize("tier, hint", [("tier-9", "; did you mean 'tier-4'?"), ("tier1", "; did you mean 'tier-1'?"), ("gold", "")])
def test_an_artifact_naming_an_unknown_tier(rulebook_problem, tier, hint):
    p = rulebook_problem(lambda d: d["artifacts"][0].update(tiers=["tier-1", tier]))
    assert p.field == "artifacts[0] (launch-plan).tiers"
    assert p.message == f"unknown tier '{tier}'{hint} (tiers: tier-1, tier-2, tier-3, tier-4)"


def test_capacity_for_an_unknown_tier(rulebook_problem):
    p = rulebook_problem(lambda d: d["capacity"].update({"tier-0": {"max": 1}}))
    assert p.field == "capacity.tier-0"
    assert p.message.startswith("unknown tier 'tier-0'")


def test_every_problem_of_a_rulebook_at_once(rulebook_problems):
    def change(d):
        _rule(d, "new-market").update(when={"new_markt": True})
        _rule(d, "revenue-new-logo").update(score={"lead_generaton": 3})
        d["artifacts"][0].update(tiers=["tier-9"])

    found = rulebook_problems(change)
    assert [p.field for p in found] == [
        "rules[0] (new-market).when.new_markt",
        "rules[6] (revenue-new-logo).score.lead_generaton",
        "artifacts[0] (launch-plan).tiers",
    ]


# ---- rulebook files -------------------------------------------------------------------------


def _line_of(text: str, needle: str) -> int:
    [line] = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return line


def test_rulebook_file_problems_have_lines(tmp_path):
    text = (
        default_rulebook_path()
        .read_text(encoding="utf-8")
        .replace("when: {new_market: true}", "when: {new_markt: true}")
        .replace("score: {lead_generation: 3}", "score: {lead_generaton: 3}")
        .replace("tiers: [tier-1], effort: 3}", "tiers: [tier-9], effort: 3}", 1)
        .replace("    description: A changelog entry.\n", "    description: A changelog entry.\n    when: {parity: {gte: 0}}\n")
    )
    path = tmp_path / "book.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulebookError) as info:
        load_rulebook(path)
    got = [(p.file, p.line, p.field) for p in info.value.problems]
    assert got == [
        (str(path), _line_of(text, "new_markt"), "rules[0] (new-market).when.new_markt"),
        (str(path), _line_of(text, "lead_generaton"), "rules[6] (revenue-new-logo).score.lead_generaton"),
        (str(path), _line_of(text, "when: {parity: {gte: 0}}"), "tiers[3] (tier-4).when"),
        (str(path), _line_of(text, "tier-9"), "artifacts[0] (launch-plan).tiers"),
    ]


def test_rulebook_file_model_problem_has_the_line_of_its_signal(tmp_path):
    text = default_rulebook_path().read_text(encoding="utf-8").replace("    default: 0\n", "    default: -1\n")
    path = tmp_path / "book.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulebookError) as info:
        load_rulebook(path)
    [p] = info.value.problems
    assert (p.file, p.line, p.field) == (str(path), _line_of(text, "  demand_votes:"), "signals.demand_votes")
    assert p.message == "default -1 is outside 0..1000000"


@pytest.mark.parametrize(
    "text, message, line",
    [
        ("rulebook: x\nsignals: {a: [\n", "invalid YAML", 3),
        ("- a\n- b\n", "a rulebook file is a mapping with rulebook, signals, dimensions, rules, tiers ...", None),
        ("rulebook: x\nrulebook: y\n", "invalid YAML: duplicate key 'rulebook' (first on line 1)", 2),
        ("rules: !!python/object:os.system {}\n", "invalid YAML: unsupported YAML tag", 1),
        ("", "is empty", None),
    ],
)
def test_unreadable_rulebook_files(tmp_path, text, message, line):
    path = tmp_path / "book.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulebookError) as info:
        load_rulebook(path)
    [p] = info.value.problems
    assert (p.file, p.line) == (str(path), line)
    assert p.message.startswith(message)


def test_missing_rulebook_file(tmp_path):
    with pytest.raises(RulebookError) as info:
        load_rulebook(tmp_path / "nope.yaml")
    [p] = info.value.problems
    assert (p.file, p.message) == (str(tmp_path / "nope.yaml"), "no such file")


def test_a_rulebook_directory_without_rulebook_files(tmp_path):
    (tmp_path / "README.md").write_text("rules live elsewhere\n", encoding="utf-8")
    with pytest.raises(RulebookError) as info:
        load_rulebook(tmp_path)
    assert [(p.file, p.message) for p in info.value.problems] == [(str(tmp_path), "directory holds no .yaml rulebook files")]


def test_a_signal_defined_in_two_rulebook_files(tmp_path, default_data):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(default_data, sort_keys=False), encoding="utf-8")
    (tmp_path / "b.yaml").write_text("signals:\n  stage:\n    type: bool\n    question: Shipped?\n", encoding="utf-8")
    with pytest.raises(RulebookError) as info:
        load_rulebook(tmp_path)
    [p] = info.value.problems
    assert (p.file, p.line, p.field) == (str(tmp_path / "b.yaml"), 2, "signals.stage")
    assert p.message == f"defined twice (also in {tmp_path / 'a.yaml'})"


def test_a_scalar_that_differs_between_rulebook_files(tmp_path, default_data):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(default_data, sort_keys=False), encoding="utf-8")
    (tmp_path / "b.yaml").write_text("version: '2027.01'\n", encoding="utf-8")
    with pytest.raises(RulebookError) as info:
        load_rulebook(tmp_path)
    [p] = info.value.problems
    assert (p.file, p.line, p.field) == (str(tmp_path / "b.yaml"), 1, "version")
    assert p.message == f"'version' differs between files ({tmp_path / 'a.yaml'} says '2026.11.2')"

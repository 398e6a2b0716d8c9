"""Hostile text: control sequences, spreadsheet formulas and HTML never reach an output as such.

A key is refused if it holds a control character (C0, DEL, C1). Every other text (a title, a
PM, a rule's reason, a label, an artifact's name, --by, --reason) is accepted and shown escaped
on the terminal (``\\x1b``, ``\\u009b``), neutralised in CSV (a leading ``'`` before a formula) and
HTML-escaped in Markdown. JSON output is left to JSON's own escaping.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from launchtier.engine import load_rulebook

ESC = "\x1b"
KEY_RULE = "expected text without control characters (no escape, tab, line break or NUL)"

BOOK = {
    "rulebook": "hostile",
    "version": "1" + ESC + "]0;owned\x07",  # retitles the window
    "signals": {
        "reach": {"type": "int", "min": 0, "max": 100, "question": "Reach?", "phrase": "it reached {value}% <i>" + ESC + "[2J"},
        "motion": {"type": "enum", "values": ["none", "new_logo"], "question": "Motion?"},
    },
    "dimensions": {"impact": {"label": "Impact", "min": -5, "max": 5}},
    "rules": [
        {"id": "wide", "because": ESC + "[2JWide <script>alert(1)</script>", "when": {"reach": {"gte": 50}},
         "score": {"impact": 2}},
        {"id": "narrow", "because": "Narrow\u009b2J.", "when": {"reach": {"lt": 10}}, "score": {"impact": -2}},
    ],
    "tiers": [{"id": "up", "label": "Up <b>", "kind": "launch", "when": {"impact": {"gte": 2}}},
              {"id": "down", "label": "Down", "kind": "release"}],
    "artifacts": [{"id": "brief", "name": '=HYPERLINK("http://evil","Brief")', "owner": "PMM" + ESC + "[2K",
                   "category": "<img src=x onerror=alert(1)>", "tiers": ["up", "down"]}],
}
ITEMS = [
    {"key": "A-1", "title": "Minor fix\r=cmd|' /C calc'!A0", "pm": '=HYPERLINK("http://x","y")', "pmm": "@SUM(A1)",
     "quarter": "2027-Q1", "signals": {"reach": 52, "motion": "none"}},
    {"key": "A-2", "title": ESC + "]0;pwned\x07" + ESC + "[2J<img src=x onerror=alert(1)>",
     "signals": {"reach": 5, "motion": "none"}},
    {"key": "A-3", "title": "+cmd|x\nerror: forged & more", "signals": {"reach": 30, "motion": "new_logo"}},
]
# how the terminal shows them
VERSION = "1\\x1b]0;owned\\x07"
TITLE_2 = "\\x1b]0;pwned\\x07\\x1b[2J<img src=x onerror=alert(1)>"


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    book = tmp_path / "book.yaml"
    book.write_text(json.dumps(BOOK), encoding="utf-8")  # JSON is YAML
    items = tmp_path / "items.json"
    items.write_text(json.dumps(ITEMS), encoding="utf-8")
    return book, items


def short_hash(book: Path) -> str:
    return load_rulebook(book).hash[:19] + "…"


# ---- keys ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, text, shown, quoted", [
    ("a.json", '{"key": "A\\u001b[2K\\r", "title": "T", "signals": {"reach": 1, "motion": "none"}}',
     "a.json: item " + "'A\\x1b[2K\\r'", "'A\\x1b[2K\\r'"),
    ("a.json", '{"key": "B\\u009b2J", "title": "T", "signals": {"reach": 1, "motion": "none"}}',
     "a.json: item " + "'B\\x9b2J'", "'B\\x9b2J'"),
    ("a.json", '{"key": "C\\u0000", "title": "T", "signals": {"reach": 1, "motion": "none"}}',
     "a.json: item " + "'C\\x00'", "'C\\x00'"),
    ("a.json", '{"key": "D\\nerror: forged", "title": "T", "signals": {"reach": 1, "motion": "none"}}',
     "a.json: item " + "'D\\nerror: forged'", "'D\\nerror: forged'"),
    ("a.json", '{"key": "E\\u007f", "title": "T", "signals": {"reach": 1, "motion": "none"}}',
     "a.json: item " + "'E\\x7f'", "'E\\x7f'"),
    ("a.json", '{"key": "F\\tG", "title": "T", "signals": {"reach": 1, "motion": "none"}}',
     "a.json: item " + "'F\\tG'", "'F\\tG'"),
    ("a.yaml", 'key: "H\\e[2J"\ntitle: T\nsignals: {reach: 1, motion: none}\n',
     "a.yaml:1: item " + "'H\\x1b[2J'", "'H\\x1b[2J'"),
    ("a.yaml", 'key: "I\\x00"\ntitle: T\nsignals: {reach: 1, motion: none}\n',
     "a.yaml:1: item " + "'I\\x00'", "'I\\x00'"),
    ("a.csv", 'key,title,reach,motion\nJ\x1b[2JK,T,1,none\n',
     "a.csv:2: item " + "'J\\x1b[2JK'", "'J\\x1b[2JK'"),
    ("a.jsonl", '{"key": "L\\u001b]0;x\\u0007", "title": "T", "signals": {"reach": 1, "motion": "none"}}\n',
     "a.jsonl:1: item " + "'L\\x1b]0;x\\x07'", "'L\\x1b]0;x\\x07'"),
])
def test_a_control_character_in_a_key_is_refused_on_one_line(runner, hostile, tmp_path, name, text, shown, quoted):
    """The key is named quoted and escaped (engine.errors.shown), in the item and in the value."""
    book, _ = hostile
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = runner("classify", path, "--rules", book)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: {tmp_path}/{shown}: key: {quoted} is not allowed; {KEY_RULE}\n"


def test_a_key_that_is_not_there_is_named_escaped(runner, hostile):
    book, items = hostile
    result = runner("explain", items, "--rules", book, "--item", "A-1\x1b[2K\rerror: forged")
    assert result.exit_code == 2
    assert result.stderr == f"error: {items}: no item with key 'A-1\\x1b[2K\\rerror: forged' (keys: A-1, A-2, A-3)\n"


# ---- terminal --------------------------------------------------------------------------------
def test_classify_table_shows_control_characters_escaped(runner, hostile):
    book, items = hostile
    result = runner("classify", items, "--rules", book)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "KEY  TITLE                                                TIER       KIND    IMP\n"
        "A-1  Minor fix\\r=cmd|' /C calc'!A0                        up Up <b>  launch    2\n"
        "     fired: wide\n"
        f"A-2  {TITLE_2}  down Down  release  -2\n"
        "     fired: narrow\n"
        "A-3  +cmd|x\\nerror: forged & more                         down Down  release   0\n"
        "     fired: (none)\n"
        "\n"
        "Scores: IMP impact.\n"
        "3 items: up 1, down 2.\n")


def test_explain_text_shows_control_characters_escaped(runner, hostile):
    book, items = hostile
    result = runner("explain", items, "--item", "A-2", "--rules", book)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"A-2  {TITLE_2}\n"
        "Tier: down Down (release)\n"
        "Set by the rules.\n"
        "\n"
        "Rules fired:\n"
        "  narrow                       impact -2\n"
        "      Narrow\\u009b2J.\n"
        "\n"
        "Scores:\n"
        "  Impact                -2   (range -5..5)\n"
        "\n"
        "Why down:\n"
        "  no higher tier's conditions hold, so the default tier applies\n"
        "\n"
        "Why not up Up <b>:\n"
        "  ✗ impact ≥ 2: has -2 (4 short)\n"
        "\n"
        "What the team could change (one decision at a time):\n"
        "  if it reached 50% <i>\\x1b[2J → up Up <b> (Impact -2 → 2)\n"
        "  Every signal is a decision of the team.\n"
        "\n"
        "Artifacts (1 artifact):\n"
        "  PMM\\x1b[2K\n"
        '    [ ] =HYPERLINK("http://evil","Brief")  <img src=x onerror=alert(1)>\n'
        "\n"
        f"Rulebook hostile {VERSION} ({short_hash(book)})\n")


def test_explain_text_shows_a_because_escaped(runner, hostile):
    book, items = hostile
    result = runner("explain", items, "--item", "A-1", "--rules", book)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split("\n")[:7] == [
        "A-1  Minor fix\\r=cmd|' /C calc'!A0",
        "Tier: up Up <b> (launch)",
        "Set by the rules.",
        "",
        "Rules fired:",
        "  wide                         impact +2",
        "      \\x1b[2JWide <script>alert(1)</script>",
    ]


def test_review_table_shows_control_characters_escaped(runner, hostile):
    book, items = hostile
    result = runner("review", items, "--rules", book)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Roadmap review\n"
        f"3 items, all quarters; 1 disputed. Rulebook hostile {VERSION} ({short_hash(book)}).\n"
        "\n"
        "KEY  QUARTER     TIER                     IMP  SINCE LAST\n"
        "A-1! 2027-Q1     up Up <b>                  2  new\n"
        "     Minor fix =cmd|' /C calc'!A0\n"
        "     close: if it reached 49% <i>\\x1b[2J → down Down (Impact 2 → 0)\n"
        "A-2  -           down Down                 -2  new\n"
        f"     {TITLE_2}\n"
        "A-3  -           down Down                  0  new\n"
        "     +cmd|x error: forged & more\n"
        "\n"
        "2027-Q1: up 1. Workload: PMM\\x1b[2K 1 artifact, 0 days.\n"
        "  PMM\\x1b[2K unassigned: 1 item, 1 artifact, 0 days\n"
        "unscheduled: down 2. Workload: PMM\\x1b[2K 2 artifacts, 0 days.\n"
        "  PMM\\x1b[2K unassigned: 2 items, 2 artifacts, 0 days\n"
        "! disputed: the quarter's capacity moved it, or a small change the team could decide (the rulebook's\n"
        "  moves: a yes/no, the next value, a number within a twentieth of its range) gives it another tier.\n")


def recorded(runner, book: Path, items: Path) -> list[dict]:
    """The hostile items recorded by a hostile name, A-2 overridden with a hostile reason; the
    ledger's decisions as JSON."""
    result = runner("record", items, "--rules", book, "--by", "Eve\x1b[2J", "--note", "=note\nerror: x")
    assert result.exit_code == 0, result.stderr
    result = runner("override", "A-2", "--tier", "up", "--reason", "@SUM(1)\x1b]0;x\x07 red", "--by", "+Mallory",
                    "--approved-by", "-Bob\u009b2J")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "overridden A-2: down → up (#4) by +Mallory; approved by -Bob\\u009b2J\n"
    return json.loads(runner("decisions", "--format", "json").stdout)["decisions"]


def test_record_and_decisions_table_show_names_and_reasons_escaped(runner, hostile):
    book, items = hostile
    result = runner("record", items, "--rules", book, "--by", "Eve\x1b[2J", "--note", "=note\nerror: x")
    assert result.exit_code == 0, result.stderr
    head = load_rulebook(book).hash
    assert result.stdout.split("\n")[:2] == [f"recorded 3 decisions (#1-#3) in {runner.ledger}: up 1, down 2",
                                             f"rulebook hostile {VERSION} {head}"]
    runner("override", "A-2", "--tier", "up", "--reason", "@SUM(1)\x1b]0;x\x07 red", "--by", "+Mallory")
    at = [r["recorded_at"] for r in json.loads(runner("decisions", "--format", "json").stdout)["decisions"]]
    over = json.loads(runner("decisions", "--format", "json").stdout)["decisions"][1]["overrides"][0]["at"]
    result = runner("decisions")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "    #  RECORDED              ITEM       QUARTER     COMPUTED  FINAL     SET BY    BY\n"
        f"    1  {at[0]:<20}  A-1        2027-Q1     up        up        rules     Eve\\x1b[2J\n"
        "       note: =note error: x\n"
        f"    2  {at[1]:<20}  A-2        -           down      up*       override  Eve\\x1b[2J\n"
        "       note: =note error: x\n"
        f"       * override #4 {over}: down → up by +Mallory: @SUM(1)\\x1b]0;x\\x07 red\n"
        f"    3  {at[2]:<20}  A-3        -           down      down      rules     Eve\\x1b[2J\n"
        "       note: =note error: x\n")


def test_audit_text_shows_names_and_reasons_escaped(runner, hostile):
    book, items = hostile
    records = recorded(runner, book, items)
    over = records[1]["overrides"][0]["at"]
    head = json.loads(runner("audit", "--rules", book, "--format", "json").stdout)["integrity"]["head"]
    result = runner("audit", "--rules", book)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"Audit of {runner.ledger}\n"
        "\n"
        "1. Integrity: ok\n"
        f"  4 entries; chain head {head}\n"
        "\n"
        "2. Reproducibility: ok\n"
        "  3 decisions replayed under their own rulebooks; 0 differ\n"
        "\n"
        "3. Drift: ok\n"
        f"  3 items' latest decisions under rulebook hostile {VERSION} ({short_hash(book)}): 0 would\n"
        "    change tier\n"
        "\n"
        "4. Overrides: ok\n"
        "  1 override; 0 below the approval policy\n"
        f"  #4 {over} A-2: down → up by +Mallory (-Bob\\u009b2J): @SUM(1)\\x1b]0;x\\x07 red\n"
        "\n"
        "5. Tiers per quarter (final tiers, latest decisions): ok\n"
        "  2027-Q1: up 1\n"
        "  unscheduled: up 1, down 1\n"
        "\n"
        "integrity: ok\n")


def test_json_keeps_the_text_as_it_is(runner, hostile):
    book, items = hostile
    result = runner("classify", items, "--rules", book, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [d["title"] for d in json.loads(result.stdout)["decisions"]] == [i["title"] for i in ITEMS]
    result = runner("explain", items, "--item", "A-2", "--rules", book, "--format", "json")
    assert json.loads(result.stdout)["decision"]["fired"][0]["because"] == "Narrow\u009b2J."


# ---- Markdown ----------------------------------------------------------------------------------
def test_classify_markdown_escapes_html(runner, hostile):
    book, items = hostile
    result = runner("classify", items, "--rules", book, "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "| Key | Title | Tier | Set by | Kind | impact | Rules fired |\n"
        "|---|---|---|---|---|---|---|\n"
        "| A-1 | Minor fix\\r=cmd\\|' /C calc'!A0 | up Up &lt;b&gt; | rules | launch | 2 | wide |\n"
        "| A-2 | \\x1b]0;pwned\\x07\\x1b[2J&lt;img src=x onerror=alert(1)&gt; | down Down | rules | release | -2 | narrow |\n"
        "| A-3 | +cmd\\|x error: forged &amp; more | down Down | rules | release | 0 | - |\n")


def test_explain_markdown_escapes_html(runner, hostile):
    book, items = hostile
    result = runner("explain", items, "--item", "A-1", "--rules", book, "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "## A-1: Minor fix\\r=cmd\\|' /C calc'!A0\n"
        "\n"
        "**Tier:** up Up &lt;b&gt; (launch)\n"
        "\n"
        "Set by the rules.\n"
        "\n"
        "### Rules fired\n"
        "\n"
        "| Rule | Points | Because |\n"
        "|---|---|---|\n"
        "| wide | impact +2 | \\x1b[2JWide &lt;script&gt;alert(1)&lt;/script&gt; |\n"
        "\n"
        "### Scores\n"
        "\n"
        "| Score | Value |\n"
        "|---|---|\n"
        "| impact | 2 |\n"
        "\n"
        "### Why up\n"
        "\n"
        "- ✓ impact ≥ 2: has 2\n"
        "\n"
        "### What the team could change\n"
        "\n"
        "- if it reached 49% &lt;i&gt;\\x1b[2J → down Down (Impact 2 → 0)\n"
        "\n"
        "Every signal is a decision of the team.\n"
        "\n"
        "### Artifacts\n"
        "\n"
        "**PMM\\x1b[2K**\n"
        "\n"
        '- [ ] =HYPERLINK("http://evil","Brief") (&lt;img src=x onerror=alert(1)&gt;)\n')


def test_review_markdown_escapes_html(runner, hostile):
    book, items = hostile
    result = runner("review", items, "--rules", book, "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    close = "if it reached 49% &lt;i&gt;\\x1b[2J → down Down (Impact 2 → 0)"
    brief = '  - [ ] =HYPERLINK("http://evil","Brief") (&lt;img src=x onerror=alert(1)&gt;)'
    assert result.stdout == "\n".join([
        "# Roadmap review", "",
        f"3 items, all quarters; 1 disputed. Rulebook hostile {VERSION} ({short_hash(book)}).", "",
        "## Disputed items (1)", "",
        "| Key | Title | Quarter | Tier | Why it is close |", "|---|---|---|---|---|",
        f"| A-1 | Minor fix\\r=cmd\\|' /C calc'!A0 | 2027-Q1 | up Up &lt;b&gt; | {close} |", "",
        "## Tiers", "",
        "| Key | Title | Quarter | Tier | Kind | Impact | PM | PMM | Since last review |", "|---|---|---|---|---|---|---|---|---|",
        "| A-1 | Minor fix\\r=cmd\\|' /C calc'!A0 | 2027-Q1 | up Up &lt;b&gt; | launch | 2 | "
        '=HYPERLINK("http://x","y") | @SUM(A1) | new |',
        "| A-2 | \\x1b]0;pwned\\x07\\x1b[2J&lt;img src=x onerror=alert(1)&gt; | unscheduled | down Down | release | -2 |  |  | new |",
        "| A-3 | +cmd\\|x error: forged &amp; more | unscheduled | down Down | release | 0 |  |  | new |", "",
        "## Quarters", "",
        "### 2027-Q1", "", "- Tiers: up: 1", "- Workload PMM\\x1b[2K: 1 artifact, about 0 days",
        "  - unassigned: 1 item, 1 artifact, about 0 days", "",
        "### unscheduled", "", "- Tiers: down: 2", "- Workload PMM\\x1b[2K: 2 artifacts, about 0 days",
        "  - unassigned: 2 items, 2 artifacts, about 0 days", "",
        "## Items", "",
        "### A-1: Minor fix\\r=cmd\\|' /C calc'!A0", "",
        '**up Up &lt;b&gt;** (launch), 2027-Q1; PM =HYPERLINK("http://x","y"), PMM @SUM(A1)', "",
        "- wide (impact +2): \\x1b[2JWide &lt;script&gt;alert(1)&lt;/script&gt;",
        f"- Close: {close}",
        "- PMM\\x1b[2K checklist:", brief, "",
        "### A-2: \\x1b]0;pwned\\x07\\x1b[2J&lt;img src=x onerror=alert(1)&gt;", "",
        "**down Down** (release), unscheduled", "",
        "- narrow (impact -2): Narrow\\u009b2J.",
        "- Not up: impact ≥ 2: has -2 (4 short)",
        "- PMM\\x1b[2K checklist:", brief, "",
        "### A-3: +cmd\\|x error: forged &amp; more", "",
        "**down Down** (release), unscheduled", "",
        "- No rule fired.",
        "- Not up: impact ≥ 2: has 0 (2 short)",
        "- PMM\\x1b[2K checklist:", brief, "",
    ])


# ---- CSV ---------------------------------------------------------------------------------------
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_cells(rows: list[list[str]], numbers: set[int] = frozenset()) -> list[str]:
    """The cells a spreadsheet would read as a formula (a column of numbers aside)."""
    return [c for row in rows for i, c in enumerate(row) if c.startswith(FORMULA_START) and i not in numbers]


def test_classify_csv_neutralises_formulas_and_quotes_carriage_returns(runner, hostile):
    book, items = hostile
    result = runner("classify", items, "--rules", book, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "key,title,tier,label,set_by,rules_tier,kind,impact,fired,artifacts\n"
        "A-1,\"Minor fix\r=cmd|' /C calc'!A0\",up,Up <b>,rules,up,launch,2,wide,brief\n"
        "A-2,\\x1b]0;pwned\\x07\\x1b[2J<img src=x onerror=alert(1)>,down,Down,rules,down,release,-2,narrow,brief\n"
        "A-3,\"'+cmd|x\nerror: forged & more\",down,Down,rules,down,release,0,,brief\n")
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert [r[0] for r in rows] == ["key", "A-1", "A-2", "A-3"]  # one row per item
    assert [r[7] for r in rows] == ["impact", "2", "-2", "0"]  # a negative score is still a number
    assert formula_cells(rows, numbers={7}) == []


def test_csv_raw_writes_cells_as_they_are(runner, hostile):
    book, items = hostile
    result = runner("classify", items, "--rules", book, "--format", "csv", env={"LAUNCHTIER_CSV_RAW": "1"})
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert [r[1] for r in rows] == ["title", ITEMS[0]["title"], "\x1b]0;pwned\x07<img src=x onerror=alert(1)>",
                                    ITEMS[2]["title"]]  # (click drops the CSI sequence when not on a terminal)


def test_decisions_csv_neutralises_names_reasons_and_notes(runner, hostile):
    book, items = hostile
    records = recorded(runner, book, items)
    result = runner("decisions", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    at = [r["recorded_at"] for r in records]
    head = load_rulebook(book).hash
    assert result.stdout == (
        "seq,recorded_at,item,title,quarter,computed_tier,final_tier,set_by,recorded_by,note,capacity_reason,"
        "override_reason,override_by,approved_by,rulebook_hash\n"
        f"1,{at[0]},A-1,\"Minor fix\r=cmd|' /C calc'!A0\",2027-Q1,up,up,rules,Eve\\x1b[2J,\"'=note\nerror: x\",,,,,{head}\n"
        f"2,{at[1]},A-2,{TITLE_2},,down,up,override,Eve\\x1b[2J,\"'=note\nerror: x\",,'@SUM(1)\\x1b]0;x\\x07 red,"
        f"'+Mallory,'-Bob\\u009b2J,{head}\n"
        f"3,{at[2]},A-3,\"'+cmd|x\nerror: forged & more\",,down,down,rules,Eve\\x1b[2J,\"'=note\nerror: x\",,,,,{head}\n")
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert [r[0] for r in rows] == ["seq", "1", "2", "3"]
    assert formula_cells(rows) == []


def test_artifacts_csv_neutralises_a_formula_in_a_name(runner, hostile):
    book, _ = hostile
    result = runner("artifacts", "--tier", "up", "--rules", book, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("tier,owner,artifact,name,category,only_when,effort\n"
                             "up,PMM\\x1b[2K,brief,\"'=HYPERLINK(\"\"http://evil\"\",\"\"Brief\"\")\",<img src=x onerror=alert(1)>,,\n")


def test_artifacts_text_and_markdown_show_a_hostile_rulebook_escaped(runner, hostile):
    book, _ = hostile
    result = runner("artifacts", "--tier", "up", "--rules", book)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("up Up <b> (launch)\n"
                             "  PMM\\x1b[2K (1 artifact)\n"
                             '    [ ] =HYPERLINK("http://evil","Brief")  <img src=x onerror=alert(1)>\n')
    result = runner("artifacts", "--tier", "up", "--rules", book, "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("### up Up &lt;b&gt; (launch)\n"
                             "\n"
                             "**PMM\\x1b[2K**\n"
                             "\n"
                             '- [ ] =HYPERLINK("http://evil","Brief") (&lt;img src=x onerror=alert(1)&gt;)\n')

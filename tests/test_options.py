"""One vocabulary for the options of every command (issue 19).

An item is chosen the same way everywhere: its file as the argument, ``--item KEY`` for its key;
a tier with ``--tier TIER``; a roadmap tool's CSV export is read through ``--mapping FILE``
wherever item files are read. The old spellings still work, each with a one-line note of the
new one on standard error. Whole outputs are compared: a command's output for an export read
through its mapping is the output for the same items written as an item file, and its decisions
are review's.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest

from conftest import DEFAULT_RULEBOOK, EXAMPLES, document, normalise
from launchtier.cli.main import cli

JIRA = EXAMPLES / "exports" / "jira.csv"
JIRA_MAPPING = EXAMPLES / "exports" / "jira-mapping.yaml"
JIRA_KEYS = ["BILL-101", "BILL-114", "BILL-120", "BILL-127", "BILL-133", "BILL-140", "BILL-152", "BILL-158", "BILL-165"]
ROADMAP_KEYS = "PAY-12, PAY-31, PAY-38, PAY-41, PAY-44, PAY-47, PAY-52, PAY-57, PAY-60, PAY-63, PAY-70, PAY-74"
NO_LEDGER = "notice: no ledger at {ledger} (from $LAUNCHTIER_DB); explaining without its overrides, recorded items or precedents\n"


@pytest.fixture(scope="module")
def jira_items(tmp_path_factory) -> Path:
    """The export's items, as its mapping reads them, written as an item file."""
    from launchtier.engine import load_rulebook
    from launchtier.engine.items.mapping import read_mapped

    items = read_mapped(str(JIRA), str(JIRA_MAPPING), load_rulebook())
    path = tmp_path_factory.mktemp("items") / "jira-items.json"
    path.write_text(json.dumps({"items": [i.model_dump(mode="json", exclude_none=True) for i in items]}), encoding="utf-8")
    return path


@pytest.fixture
def stricter(edited_rulebook) -> Path:
    """The default rulebook with a higher bar for tier-2: BILL-140 falls to tier-3."""
    return edited_rulebook(("when: {launch: {gte: 2}}", "when: {launch: {gte: 5}}"), name="stricter.yaml")


@pytest.fixture
def reviewed(runner) -> dict[str, dict]:
    """Review's decision of each item of the export, by key."""
    result = runner("review", JIRA, "--mapping", JIRA_MAPPING, "--format", "json")
    assert (result.exit_code, result.stderr) == (0, f"notice: no ledger at {runner.ledger} (from $LAUNCHTIER_DB); reviewing "
                                                    "without the changes since the last recorded decisions\n")
    return {i["decision"]["item"]: i["decision"] for i in json.loads(result.stdout)["items"]}


def _mapped(args: list, source: Path) -> list:
    """``args`` with the export (and its mapping) in place of {items}, or the item file."""
    out = []
    for a in args:
        out.extend([JIRA, "--mapping", JIRA_MAPPING] if a == "{items}" and source == JIRA else [source] if a == "{items}" else [a])
    return out


# ---- --mapping FILE wherever item files are read -------------------------------------------------
@pytest.mark.parametrize("args", [
    ["classify", "{items}"],
    ["classify", "{items}", "--format", "csv"],
    ["explain", "{items}", "--item", "BILL-114"],
    ["explain", "{items}", "--item", "BILL-101", "--set", "stage=beta", "--format", "json"],
    ["artifacts", "{items}", "--item", "BILL-158"],
    ["rules", "diff", DEFAULT_RULEBOOK, "{stricter}", "{items}"],
    ["review", "{items}", "--format", "markdown"],
], ids=["classify", "classify-csv", "explain", "explain-what-if", "artifacts", "rules-diff", "review"])
def test_an_export_through_its_mapping_is_read_as_the_same_items_in_an_item_file(runner, jira_items, stricter, args):
    args = [stricter if a == "{stricter}" else a for a in args]
    through_mapping = runner(*_mapped(args, JIRA))
    as_item_file = runner(*_mapped(args, jira_items))
    assert through_mapping.exit_code == as_item_file.exit_code == 0, through_mapping.output
    assert (through_mapping.stdout, through_mapping.stderr) == (as_item_file.stdout, as_item_file.stderr)
    assert through_mapping.stdout != ""


def test_rules_diff_of_an_export_names_the_item_that_changes(runner, stricter):
    result = runner("rules", "diff", DEFAULT_RULEBOOK, stricter, JIRA, "--mapping", JIRA_MAPPING)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.split("\n", 1)[1] == (  # after the rulebooks' names and hashes
        "  tier tier-2 condition changed: when launch ≥ 2 → when launch ≥ 5\n"
        "\n"
        "1 of 9 items change tier\n"
        "  BILL-140 Multi-entity invoicing for enterprise groups: tier-2 → tier-3\n"
        "      because tier tier-2 condition changed: when launch ≥ 2 → when launch ≥ 5\n")


def test_classify_of_an_export_gives_reviews_decisions(runner, reviewed):
    result = runner("classify", JIRA, "--mapping", JIRA_MAPPING, "--format", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert document(result.stdout)["decisions"] == [reviewed[k] for k in JIRA_KEYS]


def test_classify_with_jobs_reads_an_export_whole_beside_streamed_files(runner, roadmap, tmp_path):
    lines = tmp_path / "roadmap.jsonl"  # a streamed file beside the export
    lines.write_text("".join(json.dumps(i) + "\n" for i in _items_of(roadmap)), encoding="utf-8")
    one = runner("classify", lines, JIRA, "--mapping", JIRA_MAPPING, "--format", "jsonl")
    two = runner("classify", lines, JIRA, "--mapping", JIRA_MAPPING, "--format", "jsonl", "--jobs", "2")
    assert (one.exit_code, one.stderr) == (two.exit_code, two.stderr) == (0, "")
    assert two.stdout == one.stdout
    assert [json.loads(line)["item"] for line in one.stdout.splitlines()] == ROADMAP_KEYS.split(", ") + JIRA_KEYS


def _items_of(path: Path) -> list[dict]:
    from launchtier.engine import load_rulebook
    from launchtier.engine.items.model import ItemReader

    return [i.model_dump(mode="json", exclude_none=True) for i in ItemReader(load_rulebook()).read(str(path))]


def test_explain_and_artifacts_of_an_exported_item_are_reviews(runner, reviewed):
    for key in JIRA_KEYS:
        explained = runner("explain", JIRA, "--mapping", JIRA_MAPPING, "--item", key, "--format", "json")
        assert (explained.exit_code, explained.stderr) == (0, NO_LEDGER.format(ledger=runner.ledger))
        assert json.loads(explained.stdout)["decision"] == reviewed[key]
        listed = runner("artifacts", JIRA, "--mapping", JIRA_MAPPING, "--item", key, "--format", "csv")
        assert (listed.exit_code, listed.stderr) == (0, "")
        rows = list(csv.DictReader(io.StringIO(listed.stdout)))
        assert sorted(r["artifact"] for r in rows) == sorted(a["id"] for a in reviewed[key]["artifacts"])
        assert {r["tier"] for r in rows} == {reviewed[key]["tier"]}


def test_record_of_an_export_records_reviews_decisions(runner, reviewed):
    result = runner("record", JIRA, "--mapping", JIRA_MAPPING, "--by", "Priya N.")
    assert (result.exit_code, result.stderr) == (0, "")
    assert normalise(result.stdout, paths={"ledger": runner.ledger}, hashes=True) == (
        "recorded 9 decisions (#1-#9) in <ledger>: tier-1 2, tier-2 2, tier-3 3, tier-4 2\n"
        "rulebook default 2026.11.2 sha256:<hash>\n"
        "chain head sha256:<hash>\n")
    history = document(runner("decisions", "--format", "json").stdout)["decisions"]
    assert [d["decision"] for d in history] == [reviewed[k] for k in JIRA_KEYS]
    one = runner("decisions", "--item", "BILL-114", "--format", "json")
    assert [d["item"] for d in document(one.stdout)["decisions"]] == ["BILL-114"]


@pytest.mark.parametrize("args", [
    ["classify", JIRA],
    ["explain", JIRA, "--item", "BILL-101"],
    ["artifacts", JIRA, "--item", "BILL-101"],
    ["record", JIRA, "--by", "Priya N."],
    ["rules", "diff", DEFAULT_RULEBOOK, DEFAULT_RULEBOOK, JIRA],
    ["review", JIRA],
], ids=["classify", "explain", "artifacts", "record", "rules-diff", "review"])
def test_a_mistake_in_the_mapping_is_the_same_line_for_every_command(runner, tmp_path, args):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(JIRA_MAPPING.read_text(encoding="utf-8").replace("Expansion: expansion", "Expansion: expanson"),
                       encoding="utf-8")
    result = runner(*args, "--mapping", mapping)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", (
        f"error: {mapping}:18: signals.revenue_motion.values.Expansion: 'expanson' is not a value of signal revenue_motion "
        "(expected one of none, retention, deal_acceleration, expansion, new_logo); did you mean 'expansion'?\n"))
    assert not runner.ledger.exists()  # record made none


# ---- --item KEY chooses the item, in every command that takes one -----------------------------------
@pytest.mark.parametrize("command", ["explain", "artifacts"])
def test_a_file_of_several_items_needs_item_key_in_each_commands_words(runner, roadmap, command):
    result = runner(command, JIRA, "--mapping", JIRA_MAPPING)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"error: {JIRA}: holds 9 items; choose one with --item KEY (keys: {', '.join(JIRA_KEYS)})\n")
    result = runner(command, roadmap, "--item", "PAY-121")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"error: {roadmap}: no item with key 'PAY-121'; did you mean 'PAY-12'? (keys: {ROADMAP_KEYS})\n")


def test_every_option_is_spelled_and_shown_the_same_in_every_command():
    """One name, one metavar: ``--item KEY``, ``--tier TIER``, ``--mapping FILE``, ``--db FILE``...
    (``--format`` lists each command's own formats); the old spellings are hidden from help."""
    shown: dict[str, set[str]] = {}
    hidden: set[tuple[str, str]] = set()

    def walk(group: click.Group, prefix: tuple[str, ...] = ()):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, prefix + (name,))
                continue
            cctx = click.Context(command, info_name=name)
            for p in command.params:
                if not isinstance(p, click.Option) or p.opts[0] in ("--format", "--help"):
                    continue
                record = p.get_help_record(cctx)
                if record is None:
                    hidden.add((" ".join(prefix + (name,)), p.opts[0]))
                else:
                    shown.setdefault(p.opts[-1], set()).add(record[0])

    walk(cli)
    assert {name: forms for name, forms in shown.items() if len(forms) > 1} == {}
    assert {shown[n].pop() for n in ("--item", "--tier", "--mapping", "--db", "--rules", "--quarter", "--by")} == {
        "--item KEY", "--tier TIER", "--mapping FILE", "--db PATH|URL", "--rules PATH", "--quarter Q", "--by NAME"}
    assert hidden == {("artifacts", "--item-key"), ("rules diff", "--items")}


# ---- artifacts: FILE [--item KEY], or --tier TIER ---------------------------------------------------
ITEM_KEY_NOTE = "note: --item-key is deprecated; use launchtier artifacts FILE --item KEY\n"
ITEM_FILE_NOTE = "note: --item FILE is deprecated; use launchtier artifacts FILE\n"
TIER_NOTE = "note: a TIER argument is deprecated; use launchtier artifacts --tier TIER\n"
ITEMS_NOTE = "note: --items FILE is deprecated; use launchtier rules diff OLD NEW FILE...\n"


@pytest.fixture
def one_item(tmp_path) -> Path:
    path = tmp_path / "pay12.yaml"
    path.write_text("key: PAY-12\ntitle: Usage-based pricing\nquarter: 2027-Q1\nsignals: {revenue_motion: expansion, "
                    "differentiation: better, customer_reach: 60, audience: buyer, pricing_change: true}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("old,new,note", [
    (["artifacts", "--item", "{roadmap}", "--item-key", "PAY-38"], ["artifacts", "{roadmap}", "--item", "PAY-38"], ITEM_KEY_NOTE),
    (["artifacts", "{roadmap}", "--item-key", "PAY-38"], ["artifacts", "{roadmap}", "--item", "PAY-38"], ITEM_KEY_NOTE),
    (["artifacts", "--item", "{one}", "--format", "csv"], ["artifacts", "{one}", "--format", "csv"], ITEM_FILE_NOTE),
    (["artifacts", "--item", JIRA, "--item-key", "BILL-101", "--mapping", JIRA_MAPPING],
     ["artifacts", JIRA, "--mapping", JIRA_MAPPING, "--item", "BILL-101"], ITEM_KEY_NOTE),
    (["artifacts", "tier-2"], ["artifacts", "--tier", "tier-2"], TIER_NOTE),
    (["artifacts", "tier-4", "--format", "markdown"], ["artifacts", "--tier", "tier-4", "--format", "markdown"], TIER_NOTE),
    (["rules", "diff", DEFAULT_RULEBOOK, "{stricter}", "--items", "{roadmap}"],
     ["rules", "diff", DEFAULT_RULEBOOK, "{stricter}", "{roadmap}"], ITEMS_NOTE),
    (["rules", "diff", DEFAULT_RULEBOOK, "{stricter}", "{roadmap}", "--items", JIRA, "--mapping", JIRA_MAPPING],
     ["rules", "diff", DEFAULT_RULEBOOK, "{stricter}", "{roadmap}", JIRA, "--mapping", JIRA_MAPPING], ITEMS_NOTE),
], ids=["item-file-and-item-key", "item-key", "item-file", "item-key-mapped", "tier", "tier-markdown", "items",
        "items-mapped"])
def test_an_old_spelling_works_with_a_note_of_the_new_one(runner, roadmap, one_item, stricter, old, new, note):
    values = {"{roadmap}": roadmap, "{one}": one_item, "{stricter}": stricter}
    before = runner(*[values.get(a, a) if isinstance(a, str) else a for a in old])
    now = runner(*[values.get(a, a) if isinstance(a, str) else a for a in new])
    assert now.exit_code == before.exit_code == 0, before.output
    assert (before.stdout, before.stderr) == (now.stdout, note + now.stderr)
    assert now.stdout != "" and not now.stderr.startswith("note:")


def test_the_old_item_file_spelling_is_told_the_new_syntax_when_a_key_is_needed(runner, roadmap):
    result = runner("artifacts", "--item", roadmap)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", ITEM_FILE_NOTE + (
        f"error: {roadmap}: holds 12 items; choose one with --item KEY (keys: {ROADMAP_KEYS})\n"))


def _usage(message: str) -> str:
    return f"Usage: cli artifacts [OPTIONS] [FILE]\nTry 'cli artifacts --help' for help.\n\nError: {message}\n"


@pytest.mark.parametrize("args,stderr", [
    (["--item", "PAY-12"], _usage("--item KEY chooses an item of FILE; give the file: launchtier artifacts FILE --item KEY")),
    (["--item-key", "PAY-12"],
     _usage("--item-key KEY chooses an item of FILE; give the file: launchtier artifacts FILE --item KEY")),
    (["{roadmap}", "--item", "PAY-12", "--item-key", "PAY-38"],
     _usage("--item-key is the old spelling of --item; give only --item KEY (launchtier artifacts FILE --item KEY)")),
    (["{roadmap}", "--tier", "tier-1"], _usage("give FILE or --tier TIER, not both")),
    (["tier-one"], "error: tier-one: no such file, nor a tier of the rulebook; did you mean 'tier-4'? "
                   "(tiers: tier-1, tier-2, tier-3, tier-4; choose one with --tier TIER)\n"),
    (["--tier", "tier-one"], "error: unknown tier 'tier-one'; did you mean 'tier-4'? (tiers: tier-1, tier-2, tier-3, tier-4)\n"),
    (["missing.yaml", "--item", "PAY-12"], "error: missing.yaml: no such file\n"),
], ids=["key-without-file", "item-key-without-file", "both-keys", "file-and-tier", "neither-file-nor-tier",
        "unknown-tier", "missing-file"])
def test_artifacts_mistakes_say_the_artifacts_syntax(runner, roadmap, args, stderr):
    result = runner("artifacts", *[roadmap if a == "{roadmap}" else a for a in args])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", stderr)


def test_a_file_named_like_a_tier_is_a_file(runner, tmp_path, monkeypatch, one_item):
    monkeypatch.chdir(tmp_path)
    Path("tier-2").write_text(one_item.read_text(encoding="utf-8"), encoding="utf-8")
    by_name = runner("artifacts", "tier-2")
    assert (by_name.exit_code, by_name.stderr) == (0, "")
    assert by_name.stdout == runner("artifacts", one_item).stdout

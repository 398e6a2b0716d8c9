"""The roadmap review: capacity, disputed items, changes since last time, workload, reports."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import DEFAULT_RULEBOOK as DEFAULT
from conftest import ROOT, normalise
from launchtier.engine import ItemReader, load_rulebook, rulebook_from_data
from launchtier.engine.ledger import open_ledger
from launchtier.engine.decide.classify import Classifier
from launchtier.engine.roadmap.review import review

@pytest.fixture
def runner(backend_runner):
    """Every test of this module on an SQLite ledger and on a PostgreSQL one."""
    return backend_runner


EXAMPLES = ROOT / "examples"


TIER1 = {"revenue_motion": "new_logo", "differentiation": "first", "customer_reach": 20, "audience": "buyer",
         "new_market": True}


def item(key: str, quarter: str | None, **signals) -> dict:
    return {"key": key, "title": f"Item {key}", "quarter": quarter, "signals": {**TIER1, **signals}}


def run(items: list[dict], book=None, **kw):
    book = book or load_rulebook()
    return review(book, [ItemReader(book).validate(i) for i in items], **kw)


def by_key(report) -> dict:
    return {i.decision.item: i for i in report.items}


def test_capacity_keeps_the_best_ranked_and_moves_the_rest_with_the_reason():
    # launch totals: A 6, B 6 with more customer impact, C 5; all tier-1 candidates in 2027-Q1
    items = [item("A", "2027-Q1"), item("B", "2027-Q1", customer_reach=60),
             item("C", "2027-Q1", new_market=False, positioning="changes", differentiation="better"),
             item("D", "2027-Q2"), item("E", None), item("F", None)]
    report = run(items)
    got = by_key(report)
    assert got["B"].decision.tier == "tier-1" and got["B"].decision.capacity is None
    for key in ("A", "C"):
        d = got[key].decision
        assert (d.tier, d.label, d.kind) == ("tier-2", "Launch", "launch")
        assert d.capacity.computed_tier == "tier-1"
        assert d.capacity.reason == "tier-1 capacity of 1 for 2027-Q1 taken by B; moved to tier-2"
        assert "press-release" not in {a.id for a in d.artifacts}  # the artifacts of the tier it lands in
        assert "blog-post" in {a.id for a in d.artifacts}
    assert got["D"].decision.tier == "tier-1"  # another quarter has its own place
    assert got["E"].decision.tier == got["F"].decision.tier == "tier-1"  # unscheduled: no capacity
    q1 = next(q for q in report.quarters if q.quarter == "2027-Q1")
    assert q1.capacity == ["tier-1: 3 candidates for 1 place; moved down: A, C"]
    assert report.ranking == {"tier-1": "by launch, then customer_impact (highest first), then key"}


def test_capacity_ties_are_broken_by_key_and_cascade_to_the_next_tier():
    data = yaml.safe_load(DEFAULT.read_text())
    data["capacity"]["tier-2"] = {"max": 1}
    book = rulebook_from_data(data)
    report = run([item("Z", "2027-Q1"), item("Y", "2027-Q1"), item("X", "2027-Q1")], book)
    got = by_key(report)
    assert got["X"].decision.tier == "tier-1"
    assert got["Y"].decision.tier == "tier-2"
    assert got["Z"].decision.tier == "tier-3"
    assert got["Z"].decision.capacity.computed_tier == "tier-1"
    assert got["Z"].decision.capacity.reason == "tier-2 capacity of 1 for 2027-Q1 taken by Y; moved to tier-3"
    # the default ranking without `rank`: totals, then dimensions
    assert report.ranking["tier-2"] == "by launch, then market_impact, then lead_generation, then parity, then customer_impact (highest first), then key"


def test_disputed_items_come_first_and_say_what_makes_them_close(roadmap):
    book = load_rulebook()
    report = review(book, ItemReader(book).read(str(roadmap)))
    disputed = [i.decision.item for i in report.items if i.disputed]
    assert [i.decision.item for i in report.items[: len(disputed)]] == disputed
    got = by_key(report)
    # only changes the team could decide, in the rulebook's words; the scores they move as context
    assert {key: got[key].close for key in disputed} == {
        "PAY-12": ["if it changed how we position the product → tier-1 Marketing launch (Market impact 2 → 3, launch 5 → 6); "
                   "but tier-1's place in 2027-Q1 is taken by PAY-41: capacity would decide",
                   "if leadership made it part of a campaign → tier-1 Marketing launch (Market impact 2 → 3, launch 5 → 6); "
                   "but tier-1's place in 2027-Q1 is taken by PAY-41: capacity would decide"],
        "PAY-31": ["moved by capacity: tier-1 capacity of 1 for 2027-Q2 taken by PAY-38; moved to tier-2"],
        "PAY-47": ["if it also changed pricing or packaging → tier-1 Marketing launch (Lead generation 1 → 2, launch 4 → 5); "
                   "but tier-1's place in 2027-Q1 is taken by PAY-41: capacity would decide"],
        # a pricing change is a sales story: a product release with its pricing work
        "PAY-57": ["if it also changed pricing or packaging → tier-3 Product release (Lead generation 0 → 1, launch -3 → -2)"],
        "PAY-63": ["if it also changed pricing or packaging → tier-3 Product release (Lead generation 0 → 1, launch -1 → 0)"],
    }


def test_close_calls_of_a_second_roadmap_are_decisions_a_team_could_make():
    """No new market, no less differentiation, no move back to beta is offered as a way to another
    tier: a dashboard speed-up, parity and admin features are not disputed (the tooltip change is
    only if it also changed pricing, which would need its pricing work)."""
    book = load_rulebook()
    report = review(book, ItemReader(book).read(str(EXAMPLES / "analytics-roadmap.yaml")))
    assert {i.decision.item: i.close for i in report.items if i.disputed} == {
        "ANA-104": ["if it waited for general availability → tier-1 Marketing launch; but tier-1's place in 2027-Q1 is taken "
                    "by ANA-101: capacity would decide",
                    "if leadership made it part of a campaign → tier-1 Marketing launch; but tier-1's place in 2027-Q1 is "
                    "taken by ANA-101: capacity would decide"],
        "ANA-115": ["if it also changed pricing or packaging → tier-3 Product release (Lead generation 0 → 1, launch -1 → 0)"],
        "ANA-121": ["moved by capacity: tier-1 capacity of 1 for 2027-Q2 taken by ANA-136; moved to tier-2"],
        "ANA-124": ["if leadership made it part of a campaign → tier-1 Marketing launch (Market impact 1 → 2, launch 4 → 5); "
                    "but tier-1's place in 2027-Q2 is taken by ANA-136: capacity would decide"],
        "ANA-133": ["if leadership made it part of a campaign → tier-1 Marketing launch (Market impact 1 → 2, launch -1 → 0); "
                    "but tier-1's place in 2027-Q2 is taken by ANA-136: capacity would decide"],
    }


def test_a_close_call_into_a_full_tier_says_capacity_would_decide(roadmap, tmp_path):
    extra = tmp_path / "x.yaml"
    extra.write_text("key: X-1\ntitle: A tier-2 item in a full quarter\nquarter: 2027-Q2\nsignals: {positioning: strengthens, "
                     "revenue_motion: expansion, differentiation: better, customer_reach: 60, audience: buyer}\n")
    book = load_rulebook()
    items = ItemReader(book).read(str(roadmap)) + ItemReader(book).read(str(extra))
    assert by_key(review(book, items))["X-1"].close == [
        "if it changed how we position the product → tier-1 Marketing launch (Market impact 2 → 3, launch 4 → 5); "
        "but tier-1's place in 2027-Q2 is taken by PAY-38: capacity would decide",
        "if leadership made it part of a campaign → tier-1 Marketing launch (Market impact 2 → 3, launch 4 → 5); "
        "but tier-1's place in 2027-Q2 is taken by PAY-38: capacity would decide"]


def test_facts_and_moves_back_are_never_offered(roadmap):
    """Whatever the item, the team's changes leave facts alone and move forward-only signals forward."""
    book = load_rulebook()
    classifier = Classifier(book, "reference")
    for item in ItemReader(book).read(str(roadmap)) + ItemReader(book).read(str(EXAMPLES / "analytics-roadmap.yaml")):
        signals = item.signal_values()
        every = classifier.what_would_change(signals)
        decided = classifier.what_would_change(signals, moves_only=True)
        assert decided == [c for c in every if book.signals[c.signal].may_move(c.from_, c.to)]
        for c in decided:
            sig = book.signals[c.signal]
            assert sig.moves != "fact"
            assert sig.moves == "decision" or sig.rank(c.to) > sig.rank(c.from_)


def test_workload_sums_the_artifacts_of_each_owner_per_quarter():
    report = run([item("A", "2027-Q1"), item("B", "2027-Q1", revenue_motion="none", differentiation="parity",
                                              new_market=False, audience="admin", customer_reach=0)])
    q1 = report.quarters[0]
    decisions = [i.decision for i in report.items]
    for owner in ("PM", "PMM"):
        arts = [a for d in decisions for a in d.artifacts if a.owner == owner]
        w = next(w for w in q1.workload if w.owner == owner)
        assert (w.artifacts, w.days) == (len(arts), round(sum(a.effort or 0 for a in arts), 2))
    assert q1.tiers == {"tier-1": 1, "tier-4": 1}
    assert {d.tier for d in decisions} == {"tier-1", "tier-4"}


def test_changes_since_the_last_recorded_decisions(runner, golden, roadmap, tmp_path):
    data = yaml.safe_load(roadmap.read_text())
    pay41 = next(i for i in data["items"] if i["key"] == "PAY-41")
    pay41["signals"]["exec_priority"] = False  # no campaign: a beta waits for GA to be tier-1
    path = tmp_path / "roadmap.yaml"
    path.write_text(yaml.safe_dump(data))
    runner("record", path, "--by", "Priya")
    pay41["signals"]["stage"] = "ga"
    path.write_text(yaml.safe_dump(data))
    result = runner("review", path, "--quarter", "2027-Q1", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    items = {i["decision"]["item"]: i for i in report["items"]}
    assert set(items) == {"PAY-12", "PAY-41", "PAY-44", "PAY-47", "PAY-63"}  # only the quarter asked for
    prev = items["PAY-41"]["previous"]
    assert (prev["final_tier"], prev["tier_changed"], prev["stage_moved"]) == ("tier-2", True, "beta → ga")
    assert items["PAY-41"]["decision"]["tier"] == "tier-1"
    assert items["PAY-12"]["previous"]["tier_changed"] is False
    table = runner("review", path, "--quarter", "2027-Q1")
    assert (table.exit_code, table.stderr) == (0, "")
    golden("review-since-last-2027-Q1.txt", table.stdout)  # PAY-41: "was tier-2, stage beta → ga"


def test_review_record_records_the_meetings_decisions(runner, roadmap):
    result = runner("review", roadmap, "--record", "--by", "Priya", "--format", "json")
    assert result.exit_code == 0, result.output
    with open_ledger(str(runner.ledger), readonly=True) as ledger:
        latest = {r.item: r for r in ledger.latest()}
        head = ledger.head()
    assert result.stderr == f"recorded 12 decisions in {runner.ledger}\nchain head {head}\n"
    assert latest["PAY-31"].final_tier == "tier-2"
    assert latest["PAY-31"].decision.capacity.computed_tier == "tier-1"
    audit = runner("audit", "--format", "json")
    assert audit.exit_code == 0
    assert json.loads(audit.output)["reproducibility"]["ok"]  # a capacity move replays as such
    usage = runner("review", roadmap, "--record")
    assert (usage.exit_code, usage.stdout, usage.stderr) == (
        2, "", "Usage: cli review [OPTIONS] ROADMAP...\nTry 'cli review --help' for help.\n\nError: --record needs --by NAME\n")


def test_review_markdown_matches_the_golden_file(runner, roadmap, golden, monkeypatch):
    monkeypatch.chdir(roadmap.parent.parent)
    result = runner("review", "examples/roadmap.yaml", "--format", "markdown")
    assert result.exit_code == 0, result.output
    golden("review.md", result.stdout)


def test_review_report_file_takes_its_format_from_the_extension(runner, roadmap, tmp_path):
    path = tmp_path / "review.md"
    result = runner("review", roadmap, "--report", path)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == (
        f"notice: no ledger at {runner.ledger} (from $LAUNCHTIER_DB); reviewing without the changes since the last "
        f"recorded decisions\nwrote markdown report of 12 items (5 disputed) to {path}\n")
    assert path.read_text().startswith("# Roadmap review\n")


def test_review_bad_input(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: X\ntitle: y\nquarter: Q1\nsignals: {}\n")
    result = runner("review", bad)
    assert (result.exit_code, result.stdout) == (2, "")
    missing = [("revenue_motion", "Which revenue does it drive?", "one of none, retention, deal_acceleration, expansion, new_logo"),
               ("differentiation", "Against competitors, is it parity, better, or first in market?", "one of none, parity, better, first"),
               ("customer_reach", "What percent of customers does it touch?", "a whole number from 0 to 100"),
               ("audience", "Who notices it first?", "one of admin, end_user, buyer")]
    assert result.stderr == "".join([
        f"error: {bad}:3: item X: quarter: 'Q1' is not allowed; expected a quarter like 2027-Q1\n",
        *[f'error: {bad}:4: item X: signals.{name}: missing; answer "{question}" ({allowed})\n' for name, question, allowed in missing],
        "5 problems; nothing was done.\n"])


@pytest.mark.parametrize("export,mapping,keys", [
    ("jira.csv", "jira-mapping.yaml", 9),
    ("productboard.csv", "productboard-mapping.yaml", 7),
    ("jira-cloud.csv", "jira-cloud-mapping.yaml", 6),
    ("linear.csv", "linear-mapping.yaml", 5),
    ("aha.csv", "aha-mapping.yaml", 4),
])
def test_review_reads_roadmap_tool_exports_through_a_mapping(runner, roadmap, export, mapping, keys):
    folder = roadmap.parent / "exports"
    result = runner("review", folder / export, "--mapping", folder / mapping, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["items"]) == keys
    # capacity holds per quarter across the export
    for quarter in {i["quarter"] for i in report["items"] if i["quarter"]}:
        assert sum(i["decision"]["tier"] == "tier-1" for i in report["items"] if i["quarter"] == quarter) <= 1


def test_review_of_an_export_without_its_mapping_says_what_is_wrong(runner, golden, roadmap):
    result = runner("review", roadmap.parent / "exports" / "jira.csv")
    assert (result.exit_code, result.stdout) == (2, "")
    # one problem: it looks like an export; read it through a mapping (the columns listed once)
    golden("review-jira-without-mapping.stderr", normalise(result.stderr, paths={"repo": ROOT}))

"""What the review meeting works from: the workload of each PM and PMM, the meeting's note with
its decisions, the reason capacity moved a decision, and the precedents most like an item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import backend_tamper, document, normalise, write_items
from launchtier.engine import ItemReader, load_rulebook, rulebook_from_data
from launchtier.engine.decide import precedents as precedents_module
from launchtier.engine.decide.precedents import SignalDistance
from launchtier.engine.ledger import ledger_if_present, open_ledger
from launchtier.engine.roadmap.review import PersonLoad, review


# ---- workload per person --------------------------------------------------------------------

@pytest.fixture
def runner(backend_runner):
    """Every test of this module on an SQLite ledger and on a PostgreSQL one."""
    return backend_runner


def test_the_review_table_shows_the_workload_of_each_person_beside_the_role_totals(runner, roadmap):
    result = runner("review", roadmap, env={"COLUMNS": None})  # piped: each line whole
    assert result.exit_code == 0, result.stderr
    quarters = result.stdout[result.stdout.index("\n2027-Q1: "):]
    assert quarters == (
        "\n"
        "2027-Q1: tier-1 1, tier-2 2, tier-3 1, tier-4 1. Workload: PM 30 artifacts, 44.25 days; PMM 22 artifacts, 42.5 days.\n"
        "  PM Priya Natarajan: 3 items, 17 artifacts, 26.75 days\n"
        "  PM Daniel Hoffmann: 1 item, 7 artifacts, 9.75 days\n"
        "  PM Lena Varga: 1 item, 6 artifacts, 7.75 days\n"
        "  PMM Tom Okafor: 2 items, 16 artifacts, 34 days\n"
        "  PMM Jonas Berg: 2 items, 6 artifacts, 8.5 days\n"
        "2027-Q2: tier-1 1, tier-2 2, tier-3 1, tier-4 1. Workload: PM 29 artifacts, 39.25 days; PMM 22 artifacts, 42.5 days.\n"
        "  PM Daniel Hoffmann: 2 items, 14 artifacts, 19.5 days\n"
        "  PM Lena Varga: 2 items, 8 artifacts, 10 days\n"
        "  PM Priya Natarajan: 1 item, 7 artifacts, 9.75 days\n"
        "  PMM Amara Mensah: 2 items, 16 artifacts, 34 days\n"
        "  PMM Tom Okafor: 1 item, 5 artifacts, 8 days\n"
        "  PMM Jonas Berg: 1 item, 1 artifact, 0.5 days\n"
        "  capacity: tier-1: 2 candidates for 1 place; moved down: PAY-31\n"
        "unscheduled: tier-1 1, tier-3 1. Workload: PM 13 artifacts, 17.5 days; PMM 11 artifacts, 25.5 days.\n"
        "  PM Daniel Hoffmann: 1 item, 7 artifacts, 9.75 days\n"
        "  PM Lena Varga: 1 item, 6 artifacts, 7.75 days\n"
        "  PMM Amara Mensah: 1 item, 10 artifacts, 25 days\n"
        "  PMM unassigned: 1 item, 1 artifact, 0.5 days\n"
        "! disputed: the quarter's capacity moved it, or a small change the team could decide (the rulebook's\n"
        "  moves: a yes/no, the next value, a number within a twentieth of its range) gives it another tier.\n")


def test_each_persons_share_adds_up_to_the_role_total(runner, roadmap):
    result = runner("review", roadmap, "--format", "json")
    for q in json.loads(result.stdout)["quarters"]:
        for w in q["workload"]:
            mine = [p for p in q["people"] if p["role"] == w["owner"]]
            assert sum(p["artifacts"] for p in mine) == w["artifacts"]
            assert round(sum(p["days"] for p in mine), 2) == w["days"]


def test_an_artifact_falls_to_the_items_pm_or_pmm_and_to_unassigned_without_one():
    book = load_rulebook()
    reader = ItemReader(book)
    signals = {"revenue_motion": "expansion", "differentiation": "better", "customer_reach": 60, "audience": "buyer",
               "positioning": "strengthens"}
    items = [reader.validate({"key": k, "title": k, "quarter": "2027-Q1", "signals": signals, **names})
             for k, names in [("A", {"pm": "Ana", "pmm": "Bo"}), ("B", {"pm": "Ana"}), ("C", {"pmm": "Bo"})]]
    report = review(book, items, engine="reference")
    (q,) = report.quarters
    each = {d.decision.item: d.decision for d in report.items}
    pm, pmm = ({k: sum(a.owner == role for a in d.artifacts) for k, d in each.items()} for role in ("PM", "PMM"))
    assert [(p.role, p.name, p.items, p.artifacts) for p in q.people] == [
        ("PM", "Ana", 2, pm["A"] + pm["B"]), ("PM", "unassigned", 1, pm["C"]),
        ("PMM", "Bo", 2, pmm["A"] + pmm["C"]), ("PMM", "unassigned", 1, pmm["B"])]
    assert all(isinstance(p, PersonLoad) for p in q.people)


# ---- review --record --note -------------------------------------------------------------------

def test_review_record_stores_the_note_and_prints_the_chain_head(runner, roadmap):
    result = runner("review", roadmap, "--quarter", "2027-Q2", "--record", "--by", "Priya",
                    "--note", "agreed: PAY-31 waits for Q3", "--format", "json")
    assert result.exit_code == 0, result.stderr
    with open_ledger(str(runner.ledger), readonly=True) as ledger:
        head = ledger.head()
    assert json.loads(result.stdout)["head"] == head
    assert result.stderr == f"recorded 12 decisions in {runner.ledger}\nchain head {head}\n"
    shown = runner("decisions", "--item", "PAY-38")
    assert normalise(shown.stdout, times=True) == (
        "    #  RECORDED              ITEM       QUARTER     COMPUTED  FINAL     SET BY    BY\n"
        "    3  <time>  PAY-38     2027-Q2     tier-1    tier-1    rules     Priya\n"
        "       note: review 2027-Q2: agreed: PAY-31 waits for Q3\n")


def test_review_without_a_note_records_its_scope_alone(runner, roadmap):
    runner("review", roadmap, "--record", "--by", "Priya")
    with open_ledger(str(runner.ledger), readonly=True) as ledger:
        assert {r.note for r in ledger.latest()} == {"review all quarters"}


def test_a_note_without_record_is_refused_and_records_nothing(runner, roadmap):
    result = runner("review", roadmap, "--note", "x")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "Usage: cli review [OPTIONS] ROADMAP...\nTry 'cli review --help' for help.\n\n"
               "Error: --note goes with --record: it is stored with the recorded decisions\n")
    assert ledger_if_present(str(runner.ledger)) is None


# ---- decisions: the reason capacity moved a decision ------------------------------------------

CAPACITY_REASON = "tier-1 capacity of 1 for 2027-Q2 taken by PAY-38; moved to tier-2"


def test_decisions_show_why_capacity_moved_a_decision(runner, roadmap):
    # 2027-Q2 has two tier-1 candidates for one place: record moves PAY-31 down
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    table = runner("decisions", "--item", "PAY-31")
    assert (table.exit_code, table.stderr) == (0, "")
    assert normalise(table.stdout, times=True) == (
        "    #  RECORDED              ITEM       QUARTER     COMPUTED  FINAL     SET BY    BY\n"
        "    2  <time>  PAY-31     2027-Q2     tier-2    tier-2    capacity  Priya\n"
        f"       capacity: {CAPACITY_REASON} (its rules give\n"
        "         tier-1)\n")
    csv = runner("decisions", "--item", "PAY-31", "--format", "csv")
    assert normalise(csv.stdout, times=True, hashes=True) == (
        "seq,recorded_at,item,title,quarter,computed_tier,final_tier,set_by,recorded_by,note,capacity_reason,"
        "override_reason,override_by,approved_by,rulebook_hash\n"
        f"2,<time>,PAY-31,Embedded payments for marketplaces,2027-Q2,tier-2,tier-2,capacity,Priya,,{CAPACITY_REASON},"
        ",,,sha256:<hash>\n")
    (record,) = document(runner("decisions", "--item", "PAY-31", "--format", "json").stdout)["decisions"]
    assert record["decision"]["capacity"] == {"computed_tier": "tier-1", "reason": CAPACITY_REASON}


def test_the_capacity_reason_stays_when_an_override_follows(runner, roadmap):
    runner("record", roadmap, "--by", "Priya")
    runner("override", "PAY-31", "--tier", "tier-1", "--reason", "anchor of the marketplace campaign", "--by", "Tom",
           "--approved-by", "Ana", "--approved-by", "Lee")
    csv = runner("decisions", "--item", "PAY-31", "--format", "csv")
    assert normalise(csv.stdout.splitlines()[1], times=True, hashes=True) == (
        f"2,<time>,PAY-31,Embedded payments for marketplaces,2027-Q2,tier-2,tier-1,override,Priya,,{CAPACITY_REASON},"
        "anchor of the marketplace campaign,Tom,Ana;Lee,sha256:<hash>")


# ---- precedents: the earlier decisions most like the item ------------------------------------

# The item explained (tier-2 under the default rulebook), and earlier items recorded one batch
# at a time, oldest first: NEAR differs in one signal, FAR (recorded later) in five, TWIN has the
# same signals but was overridden into tier-3.
TARGET = {"positioning": "strengthens", "revenue_motion": "expansion", "differentiation": "better", "customer_reach": 60,
          "demand_votes": 34, "user_action_required": True, "pricing_change": True, "audience": "buyer"}


def _item(key: str, title: str, quarter: str, **signals) -> dict:
    return {"key": key, "title": title, "quarter": quarter, "signals": {**TARGET, **signals}}


@pytest.fixture
def precedents_ledger(runner, tmp_path) -> Path:
    batches = [
        [_item("NEAR-1", "Metered plans for agencies", "2026-Q3", demand_votes=30, pricing_change=False)],
        [_item("FAR-1", "Partner referral API", "2026-Q4", revenue_motion="deal_acceleration", customer_reach=4,
               demand_votes=0, user_action_required=False, pricing_change=False, exec_priority=True)],
        [_item("TWIN-1", "Seat-based pricing", "2026-Q4")],
    ]
    for n, batch in enumerate(batches):
        assert runner("record", write_items(tmp_path / f"batch-{n}.json", batch), "--by", "Ana").exit_code == 0
    assert runner("override", "TWIN-1", "--tier", "tier-3", "--reason", "pricing team launches it quietly",
                  "--by", "Tom", "--approved-by", "Ana", "--approved-by", "Lee").exit_code == 0
    return write_items(tmp_path / "target.json", [_item("NEW-1", "Usage-based pricing", "2027-Q1")])


def test_precedents_are_the_same_tier_first_then_the_nearest_signals(runner, precedents_ledger):
    result = runner("explain", precedents_ledger, "--item", "NEW-1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(normalise(result.stdout, times=True))["precedents"]
    # FAR-1 is the latest tier-2 decision, but NEAR-1 is nearer; TWIN-1 is nearest of all, but
    # its final tier is another
    assert found == [
        {"item": "NEAR-1", "title": "Metered plans for agencies", "tier": "tier-2", "quarter": "2026-Q3",
         "recorded_at": "<time>", "computed_tier": None, "override_reason": None, "distance": 1.0},
        {"item": "FAR-1", "title": "Partner referral API", "tier": "tier-2", "quarter": "2026-Q4",
         "recorded_at": "<time>", "computed_tier": None, "override_reason": None, "distance": 5.0},
        {"item": "TWIN-1", "title": "Seat-based pricing", "tier": "tier-3", "quarter": "2026-Q4",
         "recorded_at": "<time>", "computed_tier": "tier-2", "override_reason": "pricing team launches it quietly",
         "distance": 0.0}]


def test_explain_shows_each_precedents_final_tier_and_override_reason(runner, precedents_ledger):
    text = runner("explain", precedents_ledger, "--item", "NEW-1", env={"COLUMNS": None}).stdout  # piped: lines whole
    block = text[text.index("Precedents"):text.index("\n\n", text.index("Precedents"))]
    date = text[text.index("recorded ") + 9:][:10]
    assert block == (
        "Precedents (the earlier decisions most like it in the ledger, the same tier first):\n"
        f"  NEAR-1     tier-2 Metered plans for agencies (2026-Q3, recorded {date})\n"
        f"  FAR-1      tier-2 Partner referral API (2026-Q4, recorded {date})\n"
        f"  TWIN-1     tier-3 Seat-based pricing (2026-Q4, recorded {date}); overridden from tier-2: "
        "pricing team launches it quietly")
    md = runner("explain", precedents_ledger, "--item", "NEW-1", "--format", "markdown").stdout
    block = md[md.index("### Precedents"):md.index("\n\n###", md.index("### Precedents"))]
    assert block == (
        "### Precedents (the earlier decisions most like it, the same tier first)\n\n"
        f"- NEAR-1 tier-2 Metered plans for agencies (2026-Q3, recorded {date})\n"
        f"- FAR-1 tier-2 Partner referral API (2026-Q4, recorded {date})\n"
        f"- TWIN-1 tier-3 Seat-based pricing (2026-Q4, recorded {date}); overridden from tier-2: "
        "pricing team launches it quietly")


def test_only_the_most_recent_candidates_are_compared(runner, precedents_ledger, monkeypatch):
    monkeypatch.setattr(precedents_module, "CANDIDATES", 2)
    result = runner("explain", precedents_ledger, "--item", "NEW-1", "--format", "json")
    assert [p["item"] for p in json.loads(result.stdout)["precedents"]] == ["FAR-1", "TWIN-1"]


def test_the_signal_distance_counts_thresholds_crossed_for_an_int_and_its_range_without_any():
    book = rulebook_from_data({
        "rulebook": "t", "version": "1",
        "signals": {"reach": {"type": "int", "min": 0, "max": 100, "question": "?"},
                    "votes": {"type": "int", "min": 0, "max": 1000, "question": "?"},
                    "kind": {"type": "enum", "values": ["a", "b", "c"], "question": "?"},
                    "flag": {"type": "bool", "default": False, "question": "?"}},
        "dimensions": {"impact": {"label": "Impact", "min": 0, "max": 3}},
        "rules": [{"id": "wide", "when": {"reach": {"gte": 10}}, "score": {"impact": 1}, "because": "wide"},
                  {"id": "wider", "when": {"reach": {"gt": 49}}, "score": {"impact": 1}, "because": "wider"}],
        "tiers": [{"id": "up", "label": "Up", "kind": "launch", "when": {"impact": {"gte": 1}}},
                  {"id": "down", "label": "Down", "kind": "release"}],
    })
    distance = SignalDistance(book)
    base = {"reach": 20, "votes": 0, "kind": "a", "flag": False}
    assert distance(base, {**base, "reach": 49}) == 0  # no threshold between 20 and 49
    assert distance(base, {**base, "reach": 50}) == 0.5  # one of the two (10 and 50) between
    assert distance(base, {**base, "reach": 5}) == 0.5
    assert distance({**base, "reach": 5}, {**base, "reach": 80}) == 1
    assert distance(base, {**base, "votes": 250}) == 0.25  # no rule compares votes: by its range
    assert distance(base, {**base, "kind": "c", "flag": True}) == 2
    assert distance(base, {k: v for k, v in base.items() if k != "flag"}) == 0  # the default
    assert distance(base, {k: v for k, v in base.items() if k != "kind"}) == 1  # no default: unknown


@pytest.mark.parametrize("item_json", ["{not json", '{"key": "FAR-1"}', '{"signals": [1]}'])
def test_a_precedent_whose_recorded_item_does_not_read_is_refused(runner, precedents_ledger, item_json):
    backend_tamper(runner.ledger, ("UPDATE entries SET item_json = ? WHERE seq = 2", (item_json,)))
    result = runner("explain", precedents_ledger, "--item", "NEW-1")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (f"error: {runner.ledger} was changed outside launchtier (entry #2 (item FAR-1): the recorded "
                             "item cannot be read); run launchtier audit to see every change\n")

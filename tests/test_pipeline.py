"""One decision per item: rules, then capacity, then override, the same in every command.

End to end through the CLI on the example roadmap and a ledger, and a property test: random
roadmaps recorded in random batches (record and review --record, with overrides between them)
audit clean under the same rulebook.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import document, make_items, write_items
from launchtier.engine import ItemReader, load_rulebook
from launchtier.engine.ledger.audit import audit
from launchtier.engine.ledger.sqlite import Ledger
from launchtier.engine.decide.pipeline import decide_roadmap, record_roadmap
from launchtier.engine.roadmap.review import review

KEYS = ["PAY-12", "PAY-31", "PAY-38", "PAY-41", "PAY-44", "PAY-47", "PAY-52", "PAY-57", "PAY-60", "PAY-63", "PAY-70", "PAY-74"]


def tiers_everywhere(runner, roadmap) -> dict[str, dict[str, str]]:
    """Each command's tier for each item of the roadmap, with the runner's ledger."""
    found: dict[str, dict[str, str]] = {}
    found["classify"] = {d["item"]: d["tier"] for d in document(runner("classify", roadmap, "--format", "json").stdout)["decisions"]}
    found["classify --jobs 2"] = {d["item"]: d["tier"] for d in document(
        runner("classify", roadmap, "--format", "json", "--jobs", "2").stdout)["decisions"]}
    found["explain"] = {k: json.loads(runner("explain", roadmap, "--item", k, "--format", "json").stdout)["decision"]["tier"]
                        for k in KEYS}
    artifacts = {}
    for k in KEYS:
        rows = list(csv.DictReader(io.StringIO(runner("artifacts", roadmap, "--item", k, "--format", "csv").stdout)))
        artifacts[k] = {r["tier"] for r in rows}.pop()
    found["artifacts"] = artifacts
    found["review"] = {i["decision"]["item"]: i["decision"]["tier"]
                       for i in json.loads(runner("review", roadmap, "--format", "json").stdout)["items"]}
    return found


@pytest.mark.slow  # every command over a recorded ledger
def test_every_command_names_the_same_final_tier_as_the_ledger(runner, roadmap):
    before = tiers_everywhere(runner, roadmap)  # no ledger yet: rules and capacity
    expected = {k: "tier-2" if k == "PAY-31" else before["classify"][k] for k in KEYS}
    assert before["classify"]["PAY-31"] == "tier-2"  # 2027-Q2's one tier-1 place went to PAY-38
    assert before == {command: expected for command in before}

    assert runner("review", roadmap, "--record", "--by", "Priya").exit_code == 0
    for key, tier in (("PAY-12", "tier-1"), ("PAY-31", "tier-1"), ("PAY-63", "tier-3")):
        done = runner("override", key, "--tier", tier, "--reason", "The meeting decided", "--by", "Tom",
                      "--approved-by", "Priya", "--approved-by", "Ana")
        assert done.exit_code == 0, done.output
    committed = {**expected, "PAY-12": "tier-1", "PAY-31": "tier-1", "PAY-63": "tier-3"}
    after = tiers_everywhere(runner, roadmap)
    assert after == {command: committed for command in after}
    latest = {r["item"]: r["final_tier"] for r in document(runner("decisions", "--format", "json").stdout)["decisions"]}
    assert latest == committed

    # recorded again (record this time): the overrides stand, the ledger says the same
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    history = document(runner("decisions", "--format", "json").stdout)["decisions"]
    latest = {r["item"]: (r["final_tier"], r["decision"]["override"]["seq"] if "override" in r["decision"] else None)
              for r in history if r["seq"] > 15}
    assert latest == {k: (t, {"PAY-12": 13, "PAY-31": 14, "PAY-63": 15}.get(k)) for k, t in committed.items()}
    report = runner("audit", "--format", "json")
    data = json.loads(report.stdout)
    assert (report.exit_code, data["drift"]["changed"], data["reproducibility"]["mismatches"]) == (0, [], [])


def test_the_stage_that_set_the_tier_is_named(runner, roadmap):
    runner("record", roadmap, "--by", "Priya")
    runner("override", "PAY-63", "--tier", "tier-3", "--reason", "Support asked for notes", "--by", "Tom")
    csv_out = list(csv.DictReader(io.StringIO(runner("classify", roadmap, "--format", "csv").stdout)))
    stages = {r["key"]: (r["tier"], r["set_by"], r["rules_tier"]) for r in csv_out if r["set_by"] != "rules"}
    assert stages == {"PAY-31": ("tier-2", "capacity", "tier-1"), "PAY-63": ("tier-3", "override", "tier-4")}
    explained = runner("explain", roadmap, "--item", "PAY-63").stdout.splitlines()[:4]
    assert explained == [
        "PAY-63  Faster invoice PDF rendering",
        "Tier: tier-3 Product release (release)",
        "Set by override #13 (tier-4 → tier-3) by Tom, approved by no approver: Support asked for notes; its",
        "  rules give tier-4.",
    ]


def test_a_quarter_recorded_in_two_batches_ends_as_in_one(runner, roadmap, tmp_path):
    items = make_items(40, seed=3)
    first, second = write_items(tmp_path / "a.json", items[:20]), write_items(tmp_path / "b.json", items[20:])
    whole = write_items(tmp_path / "all.json", items)
    assert runner("record", first, "--by", "Priya").exit_code == 0
    assert runner("record", second, "--by", "Priya").exit_code == 0
    # the history in order: an item's later decision replaces its earlier one
    two = {r["item"]: (r["final_tier"], r["decision"].get("capacity")) for r in document(runner("decisions", "--format", "json").stdout)["decisions"]}
    one_db = tmp_path / "one.db"
    assert runner("record", whole, "--by", "Priya", "--db", one_db).exit_code == 0
    one = {r["item"]: (r["final_tier"], r["decision"].get("capacity"))
           for r in document(runner("decisions", "--format", "json", "--db", one_db).stdout)["decisions"]}
    assert two == one and len(one) == 40
    assert any(capacity for _, capacity in one.values())  # the scenario moves some items


def test_rules_diff_counts_an_item_that_capacity_moves(runner, roadmap, tmp_path):
    from conftest import ROOT

    wider = tmp_path / "wider.yaml"
    wider.write_text((ROOT / "rules" / "default.yaml").read_text().replace(
        "tier-1: {max: 1, per: quarter,", "tier-1: {max: 2, per: quarter,"))
    result = runner("rules", "diff", ROOT / "rules" / "default.yaml", wider, roadmap, "--format", "json")
    data = json.loads(result.stdout)
    assert [(c["item"], c["old_tier"], c["new_tier"], [(x["part"], x["change"]) for x in c["causes"]])
            for c in data["items_changed"]] == [("PAY-31", "tier-2", "tier-1", [("capacity", "changed")])]


# ---- property: the documented flows audit clean ---------------------------------------------

BOOK = load_rulebook()
READER = ItemReader(BOOK)


@st.composite
def flows(draw):
    n = draw(st.integers(4, 24))
    items = [READER.validate(raw) for raw in make_items(n, seed=draw(st.integers(0, 10_000)))]
    cuts = sorted(draw(st.lists(st.integers(1, n - 1), max_size=3, unique=True)))
    batches = [items[a:b] for a, b in zip([0, *cuts], [*cuts, n])]
    steps = []
    for batch in batches:
        steps.append(("review" if draw(st.booleans()) else "record", batch))
        if draw(st.booleans()):
            steps.append(("override", draw(st.sampled_from(batch)).key, draw(st.sampled_from([t.id for t in BOOK.tiers]))))
    if draw(st.booleans()):  # the whole roadmap once more, as the next meeting would
        steps.append(("record", items))
    return steps


@pytest.mark.slow  # many hypothesis examples, each a ledger
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=flows())
def test_random_roadmaps_recorded_in_batches_audit_clean_under_the_same_rulebook(tmp_path_factory, steps):
    db = tmp_path_factory.mktemp("flow") / "ledger.db"
    with Ledger(db) as ledger:
        for step in steps:
            if step[0] == "record":
                record_roadmap(ledger, BOOK, step[1], by="Priya")
            elif step[0] == "review":
                review(BOOK, step[1], ledger=ledger, record_by="Priya")
            else:
                _, key, tier = step
                if {r.item: r.final_tier for r in ledger.latest()}[key] != tier:
                    ledger.override(key, tier, reason="the meeting", by="Tom", approved_by=["Priya", "Ana"])
        report = audit(ledger, BOOK)
        assert report.integrity.ok and report.reproducibility.ok, report.reproducibility.mismatches
        assert report.drift.changed == []
        # and the ledger's latest decisions are what the pipeline gives the roadmap now
        latest = ledger.latest()
        items = [READER.validate(json.loads(ledger.entry(r.seq).item_json)) for r in latest]
        now, _ = decide_roadmap(BOOK, items, ledger=ledger)
        assert [(r.item, r.final_tier) for r in latest] == [(d.item, d.tier) for d in now]


def test_the_audit_names_a_capacity_change_not_the_rules_as_the_cause(runner, roadmap, tmp_path):
    from conftest import ROOT

    assert runner("review", roadmap, "--record", "--by", "Priya").exit_code == 0
    same = json.loads(runner("audit", "--format", "json").stdout)
    assert (same["drift"]["changed"], same["reproducibility"]["mismatches"]) == ([], [])
    wider = tmp_path / "wider.yaml"
    wider.write_text((ROOT / "rules" / "default.yaml").read_text().replace(
        "tier-1: {max: 1, per: quarter,", "tier-1: {max: 2, per: quarter,"))
    report = json.loads(runner("audit", "--rules", wider, "--format", "json").stdout)
    assert [(d["item"], d["final_tier"], d["new_tier"], [(c["part"], c["id"], c["change"]) for c in d["causes"]])
            for d in report["drift"]["changed"]] == [("PAY-31", "tier-2", "tier-1", [("capacity", "tier-1", "changed")])]


# ---- record streams the pipeline's decisions ------------------------------------------------

def test_record_writes_the_pipelines_decisions_entry_for_entry(tmp_path):
    """``record`` streams its decisions into the ledger, encoded by the fast paths: the entries
    are those of the pipeline's decisions, byte for byte (capacity moves, a standing override and
    the earlier items decided again with the batch), chained as ever."""
    import shutil

    from launchtier.engine.decide.tally import tier_counts
    from launchtier.engine.ledger.chain import verify_chain
    from launchtier.engine.ledger.records import encode_pairs
    from launchtier.engine.roadmap.record import Staged, record_files

    db = str(tmp_path / "ledger.db")
    raw = make_items(90, seed=11)
    record_files(BOOK, [str(write_items(tmp_path / "first.json", raw[:60]))], db, by="Priya")
    with Ledger(db) as ledger:  # a standing override on an item recorded again below
        target = next(r for r in ledger.iter_latest() if r.item in {i["key"] for i in raw[20:60]})
        tier = "tier-4" if target.final_tier != "tier-4" else "tier-3"
        ledger.override(target.item, tier, reason="committed", by="Tom", approved_by=["Ana", "Lee"])
    # the second batch: items 20-89 over a JSON Lines file and a JSON file; items 0-19 stay recorded
    lines = tmp_path / "second.jsonl"
    lines.write_text("".join(json.dumps(i) + "\n" for i in raw[20:70]), encoding="utf-8")
    files = [str(lines), str(write_items(tmp_path / "third.json", raw[70:]))]
    items = [READER.validate(i) for i in raw[20:]]
    shutil.copy(db, tmp_path / "before.db")  # (closed: no WAL left beside it)
    with Ledger(tmp_path / "before.db") as before:
        decisions, made = decide_roadmap(BOOK, items, ledger=before)
    expected = list(encode_pairs([*zip(items, decisions), *made.context]))
    assert any(d.set_by == "capacity" for d in decisions) and any(d.set_by == "override" for d in decisions)

    done = record_files(BOOK, files, db, by="Priya", note="second")
    with Ledger(db, readonly=True) as ledger:
        first, last = ledger.seq_bounds()
        assert list(done.seqs) == list(range(first + 60 + 1, last + 1)) and done.head == ledger.head()
        entries = list(ledger.entries(seq_range=(done.seqs[0], done.seqs[-1])))
        assert verify_chain(ledger.entries()) == []
    assert [(e.item_key, e.quarter, e.computed_tier, e.final_tier, e.item_json, e.decision_json) for e in entries] \
        == [tuple(r)[:6] for r in expected]
    assert {(e.kind, e.recorded_by, e.note, e.rulebook_hash) for e in entries} == {("decision", "Priya", "second", BOOK.hash)}
    assert done.counts == tier_counts(BOOK, (d.tier for d in decisions))
    assert done.staged == [Staged.of(d) for d in decisions if d.set_by != "rules"]
    assert [(i.key, d) for i, d in done.plan.context] == [(i.key, d) for i, d in made.context]

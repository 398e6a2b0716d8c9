"""The engine functions the commands call, called directly, as a web page would: each returns
data, and the command's output is that data rendered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from launchtier.engine import FORMAT_VERSION, load_rulebook
from launchtier.engine.decide.checklist import item_checklist, tier_checklists
from launchtier.engine.decide.pipeline import decide_roadmap
from launchtier.engine.decide.tally import tier_counts
from launchtier.engine.errors import InputError, ItemError
from launchtier.engine.roadmap.batch import classify_batch
from launchtier.engine.roadmap.read import pick_item, read_roadmap
from launchtier.engine.roadmap.review import review, signals_moved
from launchtier.engine.rulecheck.diff import diff_roadmap


@pytest.fixture(scope="module")
def book():
    return load_rulebook(None)


def test_a_batch_gives_the_roadmaps_decisions_in_order(book, roadmap):
    items = read_roadmap(book, [str(roadmap)])
    expected, _ = decide_roadmap(book, items, engine="reference")
    with classify_batch(book, [str(roadmap)], engine="reference") as batch:
        assert batch.count == len(items) and batch.written is None
        got = list(batch.results)
    assert got == expected
    with classify_batch(book, [str(roadmap)], engine="reference", as_json=True) as batch:
        assert [json.loads(r) for r in batch.results] == [d.model_dump(mode="json") for d in expected]


def test_a_batch_reports_every_files_problems_before_any_result(book, roadmap, tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ItemError) as e:
        with classify_batch(book, [str(roadmap), str(missing), str(roadmap)]):
            pytest.fail("entered despite the problems")
    messages = [str(p) for p in e.value.problems]
    assert any(str(missing) in m for m in messages) and any("duplicate key" in m for m in messages)


@pytest.mark.slow
def test_a_batch_over_workers_writes_json_lines_to_the_descriptor_given(book, roadmap, tmp_path):
    items = read_roadmap(book, [str(roadmap)])
    expected, _ = decide_roadmap(book, items, engine="reference")
    out = tmp_path / "out.jsonl"
    with open(out, "wb") as f:
        with classify_batch(book, [str(roadmap)], engine="reference", jobs=2, as_json=True, fd=f.fileno()) as batch:
            assert list(batch.results) == []
            assert sum(batch.written) == len(items)
    # JSON Lines output: each line a document, with its format version first
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"format_version": FORMAT_VERSION, **d.model_dump(mode="json")} for d in expected]
    assert all(line.startswith('{"format_version":') for line in out.read_text().splitlines())


def test_tier_counts_follow_the_rulebooks_order_then_unknown_tiers(book):
    assert tier_counts(book, ["tier-3", "old-tier", "tier-1", "tier-3"]) == {"tier-1": 1, "tier-3": 2, "old-tier": 1}
    assert list(tier_counts(book, ["tier-4", "tier-2"])) == ["tier-2", "tier-4"]
    assert tier_counts(book, []) == {}


def test_picking_an_item(book, roadmap):
    picked = pick_item(book, str(roadmap), "PAY-12", {"positioning": "changes"})
    assert picked.item.key == picked.original.key == "PAY-12"
    assert picked.item.signals.positioning == "changes" and picked.original.signals.positioning != "changes"
    assert pick_item(book, str(roadmap), "PAY-12").original is None
    with pytest.raises(ItemError, match="no item with key 'PAY-13'; did you mean 'PAY-63'"):
        pick_item(book, str(roadmap), "PAY-13")
    with pytest.raises(ItemError, match="holds 12 items; choose one"):
        pick_item(book, str(roadmap))


def test_checklists(book, roadmap):
    assert [c.tier for c in tier_checklists(book)] == [t.id for t in book.tiers]
    [one] = tier_checklists(book, "tier-2")
    assert one.decision is None and {t for t, _, _ in one.rows} == {"tier-2"}
    with pytest.raises(InputError, match="unknown tier 'tier-9'"):
        tier_checklists(book, "tier-9")
    picked = pick_item(book, str(roadmap), "PAY-38")
    checklist = item_checklist(book, picked.items, picked.item, engine="reference")
    assert checklist.decision.item == "PAY-38" and checklist.tier == checklist.decision.tier
    assert [a.id for _, a, _ in checklist.rows] == [a.id for a in checklist.decision.artifacts]
    assert all(when == "" for _, _, when in checklist.rows)


def test_a_rulebook_diff_with_a_roadmap(book, roadmap, tmp_path):
    same = diff_roadmap(book, book, [str(roadmap)], engine="reference")
    assert (same.changes, same.items_checked, same.items_changed) == ([], 12, [])
    data = yaml.safe_load(Path(book.source).read_text(encoding="utf-8"))
    data["version"] = "next"
    data["rules"] = data["rules"][:1]  # the other rules' points gone: items fall to lower tiers
    (tmp_path / "one.yaml").write_text(yaml.safe_dump(data))
    after = load_rulebook(str(tmp_path / "one.yaml"))
    result = diff_roadmap(book, after, [str(roadmap)], engine="reference")
    assert result.items_checked == 12 and result.changes
    assert result.items_changed and all(after.tier_index[c.new_tier] > after.tier_index[c.old_tier]
                                        for c in result.items_changed)
    assert all(c.causes for c in result.items_changed)


def test_a_rulebook_diff_names_for_each_item_the_changes_that_matter_to_it(book, roadmap, tmp_path):
    data = yaml.safe_load(Path(book.source).read_text(encoding="utf-8"))
    data["dimensions"]["market_impact"]["max"] = 1
    data["rules"] = [r for r in data["rules"] if r["id"] != "exec-priority"]
    (tmp_path / "capped.yaml").write_text(yaml.safe_dump(data))
    after = load_rulebook(str(tmp_path / "capped.yaml"))
    result = diff_roadmap(book, after, [str(roadmap)], engine="reference")
    assert [(c.part, c.id, c.change) for c in result.changes] == [
        ("rule", "exec-priority", "removed"), ("dimension", "market_impact", "changed")]
    # the removed rule fired for PAY-41 (and PAY-31, which the cap leaves in tier-1 and so takes
    # 2027-Q2's place from PAY-38), not for PAY-38 or PAY-70; the cap lowers the market impact of all
    assert {t.item: (t.old_tier, t.new_tier, [c.id for c in t.causes]) for t in result.items_changed} == {
        "PAY-38": ("tier-1", "tier-2", ["market_impact"]),
        "PAY-41": ("tier-1", "tier-2", ["exec-priority", "market_impact"]),
        "PAY-70": ("tier-1", "tier-2", ["market_impact"])}


def test_every_signal_that_moved_since_the_last_decision(book):
    before = {"stage": "beta", "customer_reach": 20, "new_market": False}
    now = {"stage": "ga", "customer_reach": 40, "new_market": False, "pricing_change": True}
    assert signals_moved(book, before, now) == {"customer_reach": "20 → 40", "stage": "beta → ga"}
    assert signals_moved(book, {"new_market": True}, {"new_market": False}) == {"new_market": "true → false"}


def test_a_review_reports_every_moved_signal(book, roadmap, tmp_path):
    from launchtier.engine.ledger import open_ledger

    items = read_roadmap(book, [str(roadmap)])
    with open_ledger(str(tmp_path / "l.db"), create=True) as ledger:
        review(book, items, engine="reference", ledger=ledger, record_by="Priya")
    data = yaml.safe_load(roadmap.read_text())
    pay41 = next(i for i in data["items"] if i["key"] == "PAY-41")
    pay41["signals"].update(stage="ga", customer_reach=pay41["signals"]["customer_reach"] + 1, exec_priority=False)
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(data))
    with open_ledger(str(tmp_path / "l.db"), readonly=True) as ledger:
        report = review(book, read_roadmap(book, [str(tmp_path / "r.yaml")]), engine="reference", ledger=ledger)
    prev = next(i for i in report.items if i.decision.item == "PAY-41").previous
    reach = pay41["signals"]["customer_reach"]
    assert prev.moved == {"customer_reach": f"{reach - 1} → {reach}", "exec_priority": "true → false",
                          "stage": "beta → ga"}
    assert prev.stage_moved == "beta → ga"
    from launchtier.cli.render.review import since_last

    # at GA it needs no campaign to stay tier-1
    assert since_last(next(i for i in report.items if i.decision.item == "PAY-41")) == \
        f"unchanged, customer_reach {reach - 1} → {reach}, stage beta → ga, exec_priority true → false"


def test_the_commands_engine_functions_open_the_ledger_by_its_location(book, roadmap, tmp_path):
    from launchtier.engine.roadmap.item import checklist_in_file, explain_in_file
    from launchtier.engine.roadmap.record import record_files
    from launchtier.engine.roadmap.review import review_files

    db = str(tmp_path / "ledger.db")
    ex, where = explain_in_file(book, str(roadmap), "PAY-12", engine="reference", ledger_location=db)
    assert where is None and ex.precedents == [] and not (tmp_path / "ledger.db").exists()
    assert review_files(book, [str(roadmap)], engine="reference", ledger_location=db).ledger is None
    with pytest.raises(ItemError):
        record_files(book, [str(tmp_path / "missing.yaml")], db, engine="reference", by="Priya")
    assert not (tmp_path / "ledger.db").exists()  # a roadmap with a problem creates no ledger
    done = record_files(book, [str(roadmap)], db, engine="reference", by="Priya")
    assert len(done.seqs) == sum(done.counts.values()) == 12 and done.head.startswith("sha256:")
    ex, where = explain_in_file(book, str(roadmap), "PAY-12", engine="reference", ledger_location=db)
    assert where == db and ex.precedents
    report = review_files(book, [str(roadmap)], engine="reference", ledger_location=db, quarter="2027-Q1")
    assert report.ledger == db and all(i.previous is not None for i in report.items)
    checklist = checklist_in_file(book, str(roadmap), "PAY-38", engine="reference", ledger_location=db)
    assert checklist.decision.item == "PAY-38"

"""The decision ledger and the audit, end to end on temporary databases."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import backend_rows, backend_tamper, document, make_items, write_items, tamper

from launchtier.engine import Classifier, ItemReader, load_rulebook
from launchtier.engine.errors import LedgerError
from launchtier.engine.ledger import open_ledger
from launchtier.engine.ledger.chain import entry_hash, verify_chain
from launchtier.engine.ledger.records import encode_pairs
from launchtier.engine.ledger.sqlite import SCHEMA_VERSION, Ledger
from launchtier.engine.decide.pipeline import decide_roadmap

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "rules" / "default.yaml"


def rows(db: Path, sql: str = "SELECT COUNT(*) FROM entries") -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_record_override_history_audit_end_to_end(backend_runner, roadmap):
    runner = backend_runner  # on SQLite and on PostgreSQL
    rec = runner("record", roadmap, "--by", "Priya", "--note", "2027-Q1 review")
    assert rec.exit_code == 0, rec.output
    assert rec.output.startswith(f"recorded 12 decisions (#1-#12) in {runner.ledger}")
    assert "chain head sha256:" in rec.output

    refused = runner("override", "PAY-12", "--tier", "tier-1", "--reason", "Anchor of the campaign", "--by", "Tom", "--approved-by", "Priya")
    assert refused.exit_code == 2
    assert "overriding PAY-12 from tier-2 to tier-1 needs 2 approvals" in refused.stderr
    assert "got 1: add --approved-by NAME" in refused.stderr

    ok = runner("override", "PAY-12", "--tier", "tier-1", "--reason", "Anchor of the campaign", "--by", "Tom",
                "--approved-by", "Priya", "--approved-by", "Ana")
    assert (ok.exit_code, ok.stdout, ok.stderr) == (
        0, "overridden PAY-12: tier-2 → tier-1 (#13) by Tom; approved by Priya, Ana\n",
        "warning: 2027-Q1 has 2 tier-1 items, over its capacity of 1: PAY-12 (override), PAY-41\n")

    hist = runner("decisions", "--item", "PAY-12", "--format", "json")
    assert hist.exit_code == 0
    (record,) = document(hist.output)["decisions"]
    assert (record["computed_tier"], record["final_tier"]) == ("tier-2", "tier-1")
    assert record["overrides"][0]["reason"] == "Anchor of the campaign"
    assert record["decision"]["tier"] == "tier-2" and record["note"] == "2027-Q1 review"

    table = runner("decisions")
    assert "tier-2    tier-1*   override  Priya" in table.output
    flat = " ".join(table.output.split())  # long lines wrap at 100 columns
    assert "* override #13" in flat and "tier-2 → tier-1 by Tom, approved by Priya, Ana: Anchor of the campaign" in flat

    # record applied 2027-Q2's capacity (PAY-38 keeps the one tier-1 place, PAY-31 went to
    # tier-2); the team commits PAY-31 to tier-1 anyway: a warning, and the audit says so
    past = runner("override", "PAY-31", "--tier", "tier-1", "--reason", "Launch with the marketplace partners",
                  "--by", "Tom", "--approved-by", "Priya", "--approved-by", "Ana")
    assert (past.exit_code, past.stdout, past.stderr) == (
        0, "overridden PAY-31: tier-2 → tier-1 (#14) by Tom; approved by Priya, Ana\n",
        "warning: 2027-Q2 has 2 tier-1 items, over its capacity of 1: PAY-31 (override), PAY-38\n")

    report = runner("audit", "--format", "json")
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert data["integrity"]["ok"] and data["integrity"]["entries"] == 14
    assert data["reproducibility"] == {"ok": True, "checked": 12, "mismatches": []}
    assert data["drift"]["changed"] == []
    assert [(o["item"], o["below_policy"]) for o in data["overrides"]] == [("PAY-12", False), ("PAY-31", False)]
    over = {q["quarter"]: q["over_capacity"] for q in data["distribution"] if q["over_capacity"]}
    assert over == {"2027-Q1": ["tier-1: 2 of at most 1 (by override: PAY-12)"],
                    "2027-Q2": ["tier-1: 2 of at most 1 (by override: PAY-31)"]}


def test_override_needs_a_recorded_decision_and_a_reason(backend_runner, roadmap):
    runner = backend_runner  # on SQLite and on PostgreSQL
    none = runner("override", "PAY-12", "--tier", "tier-3", "--reason", "x", "--by", "Tom")
    assert none.exit_code == 2
    assert "no ledger here yet" in none.stderr
    runner("record", roadmap, "--by", "Priya")
    missing = runner("override", "PAY-99", "--tier", "tier-3", "--reason", "x", "--by", "Tom")
    assert missing.exit_code == 2 and "no decision recorded for item PAY-99" in missing.stderr
    blank = runner("override", "PAY-63", "--tier", "tier-3", "--reason", "  ", "--by", "Tom")
    assert blank.exit_code == 2 and "an override needs a reason" in blank.stderr
    no_reason = runner("override", "PAY-63", "--tier", "tier-3", "--by", "Tom")
    assert no_reason.exit_code == 2 and "'--reason'" in no_reason.stderr.splitlines()[-1]  # click's words around it
    bad_tier = runner("override", "PAY-63", "--tier", "tier-9", "--reason", "x", "--by", "Tom")
    assert bad_tier.exit_code == 2 and "unknown tier 'tier-9'" in bad_tier.stderr
    # a demotion between tiers without a policy needs no approval
    demoted = runner("override", "PAY-63", "--tier", "tier-3", "--reason", "Support asked for notes", "--by", "Tom")
    assert demoted.exit_code == 0


def test_decisions_filters_and_csv(backend_runner, roadmap):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    q1 = document(runner("decisions", "--quarter", "2027-Q1", "--format", "json").output)["decisions"]
    assert q1 and {r["quarter"] for r in q1} == {"2027-Q1"}
    unscheduled = document(runner("decisions", "--quarter", "unscheduled", "--format", "json").output)["decisions"]
    assert {r["item"] for r in unscheduled} == {"PAY-70", "PAY-74"}
    t4 = runner("decisions", "--tier", "tier-4", "--format", "csv")
    lines = t4.output.splitlines()
    assert lines[0].startswith("seq,recorded_at,item,title,quarter,computed_tier,final_tier")
    assert {line.split(",")[2] for line in lines[1:]} == {"PAY-57", "PAY-63"}


def test_a_rescore_is_a_new_decision(backend_runner, roadmap, tmp_path):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    items = json.loads(json.dumps(__import__("yaml").safe_load(roadmap.read_text())))
    pay41 = next(i for i in items["items"] if i["key"] == "PAY-41")
    pay41["signals"]["exec_priority"] = False
    write_items(tmp_path / "no-campaign.json", [pay41])
    assert runner("record", tmp_path / "no-campaign.json", "--by", "Priya", "--note", "no campaign").exit_code == 0
    pay41["signals"]["stage"] = "ga"
    write_items(tmp_path / "ga.json", [pay41])
    assert runner("record", tmp_path / "ga.json", "--by", "Priya", "--note", "GA").exit_code == 0
    history = document(runner("decisions", "--item", "PAY-41", "--format", "json").output)["decisions"]
    assert [(r["final_tier"], r["note"]) for r in history] == [("tier-1", None), ("tier-2", "no campaign"), ("tier-1", "GA")]


def test_a_batch_with_one_bad_item_records_nothing(backend_runner, roadmap, tmp_path):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    items = make_items(30)
    items[17]["signals"]["customer_reach"] = 170
    bad = write_items(tmp_path / "bad.json", items)
    result = runner("record", bad, "--by", "Priya")
    assert result.exit_code == 2
    assert "item GEN-17: signals.customer_reach: 170 is not allowed" in result.stderr
    assert backend_rows(runner.ledger) == 12
    assert runner("audit").exit_code == 0


@pytest.mark.parametrize("tamper,expected", [
    ("UPDATE entries SET final_tier = 'tier-1' WHERE seq = 5", "BROKEN at #5 (item PAY-44): its content does not match its hash"),
    ("DELETE FROM entries WHERE seq = 4", "BROKEN at #5 (item PAY-44): sequence jumps from 3 to 5"),
    ("UPDATE entries SET seq = seq + 100 WHERE seq = 12", "BROKEN at #112"),
    ("UPDATE entries SET recorded_by = 'Mallory' WHERE seq = 1", "BROKEN at #1 (item PAY-12): its content does not match its hash"),
    ("UPDATE rulebooks SET content = replace(content, '\"max\":1,', '\"max\":5,')", "stored rulebook {hash}… was changed"),
])
def test_a_tampered_ledger_fails_the_audit_and_names_the_entry(backend_runner, roadmap, tamper, expected):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    backend_tamper(runner.ledger, tamper)
    result = runner("audit")
    assert result.exit_code == 1
    assert expected.format(hash=load_rulebook().hash[:19]) in result.output
    assert "integrity: FAILED" in result.output


def _rechain(location: str | Path) -> None:
    """What a careful forger does: recompute every hash after changing rows."""
    location = str(location)
    with open_ledger(location, readonly=True) as ledger:
        entries = list(ledger.entries())
    prev, updates = "sha256:" + "0" * 64, []
    for e in entries:
        row = e.row()
        row["prev_hash"] = prev
        prev = entry_hash(prev, row)
        updates.append(("UPDATE entries SET prev_hash = ?, entry_hash = ? WHERE seq = ?", (row["prev_hash"], prev, e.seq)))
    backend_tamper(location, *updates)


@pytest.mark.parametrize("tamper,expected", [
    # two entries swapped: each chain link breaks where the order changed
    ("UPDATE entries SET seq = -2 WHERE seq = 2; UPDATE entries SET seq = 2 WHERE seq = 3;"
     " UPDATE entries SET seq = 3 WHERE seq = -2", "BROKEN at #2"),
    # an entry inserted in the middle of the chain, copying a neighbour's hashes
    ("INSERT INTO entries SELECT 13, kind, 'FORGED-1', quarter, computed_tier, final_tier, rulebook_hash, item_json,"
     " decision_json, recorded_by, recorded_at, note, reason, approved_by, overrides_seq, entry_hash, entry_hash || 'x'"
     " FROM entries WHERE seq = 12; UPDATE entries SET seq = 14 WHERE seq = 12; UPDATE entries SET seq = 12 WHERE seq = 13;"
     " UPDATE entries SET seq = 13 WHERE seq = 14", "BROKEN at #12 (item FORGED-1)"),
])
def test_reordered_and_inserted_entries_are_detected(backend_runner, roadmap, tamper, expected):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    backend_tamper(runner.ledger, *tamper.split("; "))
    result = runner("audit")
    assert result.exit_code == 1
    assert expected in result.output


def test_a_rechained_forgery_is_caught_by_the_replay(backend_runner, roadmap):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    backend_tamper(runner.ledger, "UPDATE entries SET computed_tier = 'tier-1', final_tier = 'tier-1' WHERE item_key = 'PAY-63'")
    _rechain(runner.ledger)
    result = runner("audit", "--format", "json")
    data = json.loads(result.output)
    assert data["integrity"]["ok"]  # the chain itself was rebuilt ...
    (mismatch,) = data["reproducibility"]["mismatches"]  # ... but the decision does not replay
    assert (mismatch["item"], mismatch["recorded_tier"], mismatch["replayed_tier"]) == ("PAY-63", "tier-1", "tier-4")
    assert result.exit_code == 1  # and that fails the audit


def test_drift_names_the_items_and_the_rule_changes(backend_runner, roadmap, tmp_path):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    text = DEFAULT.read_text()
    changed = tmp_path / "rules.yaml"
    changed.write_text(text.replace("when: {launch: {gte: 2}}", "when: {launch: {gte: 5}}")
                       .replace("score: {lead_generation: 2}", "score: {lead_generation: 1}"))
    result = runner("audit", "--rules", changed, "--format", "json")
    assert result.exit_code == 0
    drift = json.loads(result.output)["drift"]
    moved = {c["item"]: (c["recorded_tier"], c["new_tier"]) for c in drift["changed"]}
    assert moved == {"PAY-12": ("tier-2", "tier-3"), "PAY-47": ("tier-2", "tier-3"), "PAY-52": ("tier-2", "tier-3")}
    pay12 = next(c for c in drift["changed"] if c["item"] == "PAY-12")
    assert {(c["id"], c["change"]) for c in pay12["causes"]} == {("revenue-expansion", "re-weighted"), ("tier-2", "condition changed")}
    pay47 = next(c for c in drift["changed"] if c["item"] == "PAY-47")
    assert [(c["id"], c["change"]) for c in pay47["causes"]] == [("tier-2", "condition changed")]
    text_out = runner("audit", "--rules", changed).output
    assert "PAY-12 Usage-based pricing: tier-2 → tier-3 (decision #1)" in text_out
    assert "because rule revenue-expansion re-weighted: lead_generation +2 → lead_generation +1" in text_out


def test_past_decisions_replay_after_the_rule_files_are_gone(backend_runner, roadmap, tmp_path):
    runner = backend_runner  # on SQLite and on PostgreSQL
    custom = tmp_path / "team-rules.yaml"
    custom.write_text(DEFAULT.read_text().replace("rulebook: default", "rulebook: team"))
    assert runner("record", roadmap, "--by", "Priya", "--rules", custom).exit_code == 0
    custom.unlink()
    result = runner("audit", "--format", "json")
    data = json.loads(result.output)
    assert data["reproducibility"]["checked"] == 12 and data["reproducibility"]["ok"]


def test_audit_since_limits_replay_and_overrides(backend_runner, roadmap):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    data = json.loads(runner("audit", "--since", "2999-01-01", "--format", "json").output)
    assert data["reproducibility"]["checked"] == 0 and data["integrity"]["entries"] == 12
    bad = runner("audit", "--since", "last week")
    assert bad.exit_code == 2 and "'last week' is not a date" in bad.stderr


def test_audit_markdown(backend_runner, roadmap):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    result = runner("audit", "--format", "markdown")
    assert result.exit_code == 0
    assert result.output.startswith(f"# Audit of {str(runner.ledger).replace('&', '&amp;')}")  # Markdown's escape
    assert "## 1. Integrity: ok" in result.output and "**Integrity: ok**" in result.output


def test_explain_shows_precedents_from_the_ledger(backend_runner, roadmap):
    runner = backend_runner  # on SQLite and on PostgreSQL
    without = runner("explain", roadmap, "--item", "PAY-47")
    assert "Precedents" not in without.output
    runner("record", roadmap, "--by", "Priya")
    result = runner("explain", roadmap, "--item", "PAY-47", "--format", "json")
    precedents = json.loads(result.output)["precedents"]
    # the tier-2 decisions nearest PAY-47's signals (PAY-31 is one by 2027-Q2's capacity)
    assert [p["item"] for p in precedents] == ["PAY-52", "PAY-31", "PAY-12"]
    assert all(p["tier"] == "tier-2" for p in precedents)


def test_a_newer_schema_is_refused_and_an_empty_file_is_migrated(tmp_path):
    db = tmp_path / "l.db"
    with Ledger(db) as ledger:
        assert ledger.schema_version() == SCHEMA_VERSION
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(LedgerError, match=rf"schema version {SCHEMA_VERSION + 1} is newer than this launchtier understands \({SCHEMA_VERSION}\); upgrade"):
        Ledger(db)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with Ledger(empty) as ledger:
        assert ledger.schema_version() == SCHEMA_VERSION
        assert list(ledger.entries()) == []


def test_not_a_database(runner, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_text("this is not sqlite " * 100)
    result = runner("decisions", "--db", junk)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: {junk} is not a ledger: SQLite cannot read it (file is not a database)\n"
    assert junk.read_text() == "this is not sqlite " * 100


RECORD = [sys.executable, "-m", "launchtier.cli", "record"]


def _record_cmd(files, db, by):
    return [sys.executable, "-c", "from launchtier.cli.main import main; main()", "record", *map(str, files), "--by", by, "--db", str(db)]


@pytest.mark.slow  # four child processes
def test_four_processes_recording_at_once_lose_nothing(tmp_path):
    db = tmp_path / "shared.db"
    files = [write_items(tmp_path / f"w{i}.json", make_items(50, seed=i, prefix=f"W{i}")) for i in range(4)]
    procs = [subprocess.Popen(_record_cmd([f], db, f"writer-{i}"), stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i, f in enumerate(files)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    with Ledger(db) as ledger:
        entries = list(ledger.entries())
        assert verify_chain(entries) == []
        assert len({e.item_key for e in entries}) == 200
        # each batch is contiguous: a batch is one transaction (its 50 items, and the items of
        # earlier batches whose place in a quarter's capacity it changed, decided again)
        by_writer = {}
        for e in entries:
            by_writer.setdefault(e.recorded_by, []).append(e.seq)
        assert all(seqs == list(range(seqs[0], seqs[0] + len(seqs))) and len(seqs) >= 50 for seqs in by_writer.values())
        latest = {r.item: (r.final_tier, r.decision.capacity) for r in ledger.latest()}
    # four batches at once end as one batch of all 200 would: capacity counted what was recorded
    book = load_rulebook()
    reader = ItemReader(book)
    items = [reader.validate(raw) for i in range(4) for raw in make_items(50, seed=i, prefix=f"W{i}")]
    decisions, _ = decide_roadmap(book, items)
    assert latest == {d.item: (d.tier, d.capacity) for d in decisions}


@pytest.mark.slow  # a child process killed mid-record
def test_a_killed_record_leaves_the_ledger_as_it_was(tmp_path):
    db = tmp_path / "killed.db"
    first = write_items(tmp_path / "first.json", make_items(20, seed=1, prefix="A"))
    assert subprocess.run(_record_cmd([first], db, "setup"), capture_output=True).returncode == 0
    big = write_items(tmp_path / "big.json", make_items(6000, seed=2, prefix="B"))
    wal = Path(str(db) + "-wal")
    wal_before = wal.stat().st_size if wal.exists() else 0
    proc = subprocess.Popen(_record_cmd([big], db, "victim"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    # kill it once it is writing its transaction (the WAL grows), not before
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > wal_before + 64 * 1024:
            break
        time.sleep(0.005)
    killed_midway = proc.poll() is None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    count = rows(db)
    assert count in (20, 6020)
    if killed_midway:
        assert count == 20
    with Ledger(db) as ledger:
        assert verify_chain(ledger.entries()) == []
    audit = subprocess.run([sys.executable, "-c", "from launchtier.cli.main import main; main()", "audit", "--db", str(db)],
                           capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "integrity: ok" in audit.stdout


@pytest.mark.slow  # worker processes
@pytest.mark.parametrize("jobs", ["2", "3"])
def test_audit_over_several_processes_gives_the_single_process_report(backend_runner, roadmap, tmp_path, monkeypatch, jobs):
    runner = backend_runner  # on SQLite and on PostgreSQL
    from launchtier.engine.ledger import audit as audit_module

    monkeypatch.setattr(audit_module, "RANGE", 7)  # many ranges, the last one short
    team = tmp_path / "team.yaml"
    team.write_text(DEFAULT.read_text().replace("rulebook: default", "rulebook: team"))
    assert runner("record", roadmap, "--by", "Priya").exit_code == 0
    assert runner("record", write_items(tmp_path / "gen.json", make_items(40)), "--by", "Priya", "--rules", team).exit_code == 0
    assert runner("override", "PAY-12", "--tier", "tier-1", "--reason", "Anchor of the campaign", "--by", "Tom",
                  "--approved-by", "Priya", "--approved-by", "Ana").exit_code == 0
    backend_tamper(runner.ledger, "UPDATE entries SET recorded_by = 'Mallory' WHERE seq = 20",  # content against its hash
                   "UPDATE entries SET item_json = '{not json' WHERE seq = 30")
    changed = tmp_path / "rules.yaml"
    changed.write_text(DEFAULT.read_text().replace("when: {launch: {gte: 2}}", "when: {launch: {gte: 5}}"))
    one = runner("audit", "--rules", changed, "--format", "json")
    many = runner("audit", "--rules", changed, "--format", "json", "--jobs", jobs)
    assert one.exit_code == many.exit_code == 1
    assert many.output == one.output
    report = json.loads(one.output)
    assert [b["seq"] for b in report["integrity"]["breaks"]] == [20, 30]
    assert [m["seq"] for m in report["reproducibility"]["mismatches"]] == [30]
    # 12 + 40 decisions, and PAY-31 and PAY-38 decided again: a generated item ranks first in 2027-Q2
    assert report["reproducibility"]["checked"] == 54 and report["drift"]["changed"]
    assert len(report["overrides"]) == 1


def _busy_ledger(path: Path | str, tmp_path: Path) -> Ledger:
    """A ledger with a history to audit: items decided twice under two rulebooks, chains of
    overrides, an override of a decision that was decided again later, three recording dates."""
    book = load_rulebook()
    team_file = tmp_path / "team.yaml"
    team_file.write_text(DEFAULT.read_text().replace("rulebook: default", "rulebook: team"))
    team = load_rulebook(team_file)
    items = make_items(30)
    later = [dict(i, quarter="2027-Q3") for i in items[10:30]]  # decided again, moved to another quarter
    ledger = open_ledger(str(path), create=True)
    for rulebook, batch, at in [(book, items[:20], "2027-01-05T09:00:00Z"), (team, later, "2027-02-01T09:00:00Z")]:
        reader, classifier = ItemReader(rulebook), Classifier(rulebook)
        ledger.record(rulebook, encode_pairs((i, classifier.decide(i)) for i in map(reader.validate, batch)), by="Priya", at=at)
        approvers = ["Ana", "Lee"]  # not Tom, who overrides
        for key, tiers, day in [("GEN-3", ["tier-1", "tier-4"], "01-10"), ("GEN-15", ["tier-3"], "01-12"),
                                ("GEN-25", ["tier-1"], "02-03"), ("GEN-12", ["tier-4", "tier-3"], "02-04")]:
            if at[5:7] == day[:2]:
                for tier in tiers:
                    if list(ledger.history(item=key))[-1].final_tier != tier:
                        ledger.override(key, tier, reason="review call", by="Tom", approved_by=approvers,
                                        at=f"2027-{day}T10:00:00Z")
    return ledger


@pytest.mark.slow  # 8 ledgers audited, some in several processes
@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("size", [3, 1000])  # ranges of 3 entries (many, overrides across them) or one
@pytest.mark.parametrize("since", [None, "2027-01-11T00:00:00Z"])
def test_the_audit_of_history_agrees_with_the_ledgers_own_history(ledger_db, tmp_path, monkeypatch, jobs, size, since):
    """The audit keeps only what it needs of each entry; what it reports of the history must be
    what Ledger.history() (full records, overrides attached) gives."""
    from launchtier.engine.ledger import audit as audit_module
    from launchtier.engine.ledger.records import latest_of

    monkeypatch.setattr(audit_module, "RANGE", size)
    ledger = _busy_ledger(ledger_db, tmp_path)  # on SQLite and on PostgreSQL
    changed = tmp_path / "changed.yaml"
    changed.write_text(DEFAULT.read_text().replace("when: {launch: {gte: 2}}", "when: {launch: {gte: 5}}"))
    current = load_rulebook(changed)
    report = audit_module.audit(ledger, current, since=since, jobs=jobs)

    history = list(ledger.history())
    latest = latest_of(r for r in history if since is None or r.recorded_at >= since)  # drift and tiers: the window's
    assert report.integrity.ok and report.integrity.entries == len(list(ledger.entries()))
    assert report.reproducibility.ok
    assert report.reproducibility.checked == sum(since is None or r.recorded_at >= since for r in history)
    expected = [(o.seq, o.item, o.from_tier, o.tier, o.required_approvals)
                for r in history for o in r.overrides if since is None or o.at >= since]
    assert [(o.seq, o.item, o.from_tier, o.tier, o.required_approvals) for o in report.overrides] == expected
    assert len(expected) >= (3 if since else 6)  # the scenario has overrides on both sides of `since`
    # drift is final tier against final tier: the pipeline now (the ledger's latest items as the
    # roadmap, with its standing overrides) against what was recorded, overrides included
    reader = ItemReader(current)
    now, _ = decide_roadmap(current, [reader.validate(json.loads(ledger.entry(r.seq).item_json)) for r in latest],
                            ledger=ledger)
    moved = [(r.seq, r.item, r.title, r.computed_tier, r.final_tier, d.tier) for r, d in zip(latest, now)
             if d.tier != r.final_tier]
    assert moved, "the changed rulebook moves some items"
    assert [(d.seq, d.item, d.title, d.recorded_tier, d.final_tier, d.new_tier) for d in report.drift.changed] == moved
    assert report.drift.items_checked == len(latest) == (20 if since else 30)
    counts: dict[str, dict[str, int]] = {}
    for r in latest:
        per = counts.setdefault(r.quarter or "unscheduled", {})
        per[r.final_tier] = per.get(r.final_tier, 0) + 1
    assert {q.quarter: q.tiers for q in report.distribution} == counts
    assert "2027-Q3" in counts and any(r.overrides for r in latest) and any(r.overrides for r in history if r not in latest)
    ledger.close()



@pytest.mark.slow  # 14 ledgers checked in one and in several processes
@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("tampering", [
    ["DELETE FROM entries WHERE seq = 13"],  # the first entry of a range of 4
    ["DELETE FROM entries WHERE seq BETWEEN 13 AND 16"],  # a whole range
    ["DELETE FROM entries WHERE seq = 16"],  # the last of a range
    ["UPDATE entries SET recorded_by = 'Mallory' WHERE seq = 9"],  # content, first of a range
    [f"UPDATE entries SET prev_hash = 'sha256:{'0' * 64}' WHERE seq = 17"],  # a link into a range
    ["UPDATE entries SET seq = 100 WHERE seq = 5", "UPDATE entries SET seq = 5 WHERE seq = 6",
     "UPDATE entries SET seq = 6 WHERE seq = 100"],  # two entries swapped across a range boundary
    ["UPDATE entries SET seq = seq + 1000 WHERE seq > 20"],  # a gap: the ranges between are empty
], ids=["first-of-range", "whole-range", "last-of-range", "content", "link", "swap", "gap"])
def test_the_chain_checked_a_range_at_a_time_finds_what_the_whole_chain_check_finds(ledger_db, tmp_path, monkeypatch, jobs,
                                                                                   tampering):
    from launchtier.engine.ledger import audit as audit_module

    monkeypatch.setattr(audit_module, "RANGE", 4)
    db = ledger_db  # on SQLite and on PostgreSQL
    _busy_ledger(db, tmp_path).close()
    backend_tamper(db, *tampering)
    with open_ledger(db, readonly=True, audit=True) as ledger:
        expected = [(e.seq, e.item_key, why) for e, why in verify_chain(ledger.entries())]
        report = audit_module.audit(ledger, load_rulebook(), jobs=jobs)
        assert expected and not report.integrity.ok
        assert [(b.seq, b.item, b.problem) for b in report.integrity.breaks] == expected
        assert report.integrity.entries == len(list(ledger.entries()))
        assert report.integrity.head == list(ledger.entries())[-1].entry_hash


@pytest.mark.slow  # four child processes
def test_the_audit_lists_changed_rulebooks_in_the_order_they_were_stored_whatever_the_process(tmp_path):
    db = tmp_path / "busy.db"
    _busy_ledger(db, tmp_path).close()  # two rulebooks, stored a month apart
    tamper(db, "UPDATE rulebooks SET content = replace(content, '\"max\":1,', '\"max\":5,')")
    conn = sqlite3.connect(db)
    stored = [h for (h,) in conn.execute("SELECT hash FROM rulebooks ORDER BY stored_at, hash")]
    conn.close()
    outputs = set()
    for seed in range(4):  # each process orders a set of strings its own way
        result = subprocess.run([sys.executable, "-c", "from launchtier.cli.main import main; main()", "audit",
                                 "--db", str(db), "--format", "json"], capture_output=True, text=True,
                                env={**os.environ, "PYTHONHASHSEED": str(seed)})
        assert result.returncode == 1, result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1
    breaks = json.loads(outputs.pop())["integrity"]["breaks"]
    assert [b["problem"][16:35] for b in breaks if b["seq"] == 0] == [h[:19] for h in stored]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_entry_that_no_longer_reads_as_text_is_a_broken_entry_not_a_traceback(runner, roadmap, jobs):
    runner("record", roadmap, "--by", "Priya")
    conn = sqlite3.connect(runner.ledger)
    conn.execute("UPDATE entries SET item_json = x'00ff' WHERE seq = 4")  # a blob, not UTF-8 text
    conn.commit()
    conn.close()
    result = runner("audit", "--jobs", jobs, env={"COLUMNS": None})
    assert (result.exit_code, result.stderr) == (1, "")
    assert ("  BROKEN at #4 (item PAY-41): it cannot be read (item_json: binary data is not allowed; expected UTF-8 text): "
            "the entry was changed\n") in result.output
    decisions = runner("decisions")
    assert (decisions.exit_code, decisions.stdout) == (1, "")
    assert decisions.stderr == (f"error: {runner.ledger} was changed outside launchtier (entry #4 cannot be read: item_json: "
                                "binary data is not allowed; expected UTF-8 text); run launchtier audit to see every change\n")


@pytest.mark.slow  # six ledgers recorded and audited, some with worker processes
@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("decision", ["{not json", '{"tier": "tier-1"}', "[]"])
def test_a_recorded_decision_that_no_longer_reads_is_a_mismatch_not_a_crash(backend_runner, roadmap, tmp_path, jobs, decision):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    backend_tamper(runner.ledger, ("UPDATE entries SET decision_json = ? WHERE seq = 1", (decision,)))
    changed = tmp_path / "rules.yaml"  # the current rulebook moves PAY-12 (launch 5): its drift reads the decision too
    changed.write_text(DEFAULT.read_text().replace("when: {launch: {gte: 2}}", "when: {launch: {gte: 6}}"))
    result = runner("audit", "--rules", changed, "--format", "json", "--jobs", jobs)
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.output)
    assert [b["seq"] for b in report["integrity"]["breaks"]] == [1]
    (mismatch,) = report["reproducibility"]["mismatches"]
    assert mismatch["seq"] == 1 and "recorded decision" in mismatch["problem"]
    assert "PAY-12" in {c["item"] for c in report["drift"]["changed"]}


# each command reads only what it needs of the ledger: the decision damaged is one it reads
# (explain PAY-12 reads its precedents, the latest tier-2 decisions: PAY-70's is #11)
@pytest.mark.parametrize("command, seq, key", [(["decisions"], 2, "PAY-31"), (["review", "{roadmap}"], 2, "PAY-31"),
                                               (["explain", "{roadmap}", "--item", "PAY-12"], 11, "PAY-70")])
def test_commands_reading_a_ledger_with_an_unreadable_decision_name_it(backend_runner, roadmap, command, seq, key):
    runner = backend_runner  # on SQLite and on PostgreSQL
    runner("record", roadmap, "--by", "Priya")
    backend_tamper(runner.ledger, ("UPDATE entries SET decision_json = '{not json' WHERE seq = ?", (seq,)))
    result = runner(*[a.format(roadmap=roadmap) for a in command])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (f"error: {runner.ledger} was changed outside launchtier (entry #{seq} (item {key}): the recorded "
                             "decision cannot be read); run launchtier audit to see every change\n")


# ---- record in flat memory --------------------------------------------------------------------

_PEAK = """
import resource, sys
from launchtier.cli.main import main
sys.argv = ["launchtier", "record", sys.argv[1], "--by", "Priya", "--db", sys.argv[2]]
try:
    main()
except SystemExit as e:
    assert not e.code, e.code
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _record_peak_kb(tmp_path: Path, n: int) -> int:
    """The peak memory (KB) of a process recording n items from a JSON Lines file."""
    path = tmp_path / f"items-{n}.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in make_items(n, seed=5)), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", _PEAK, str(path), str(tmp_path / f"ledger-{n}.db")],
                          capture_output=True, text=True, check=True)
    return int(done.stdout.splitlines()[-1])


@pytest.mark.slow  # two child processes recording thousands of items
def test_record_streams_a_large_batch_in_flat_memory(tmp_path):
    """``record`` holds no decision of the batch beyond the one being written: four times the
    items cost far less than the decisions would (about 4 KB each, when all were kept)."""
    small, large = _record_peak_kb(tmp_path, 5_000), _record_peak_kb(tmp_path, 20_000)
    kept = 15_000 * 4  # KB: what the extra decisions alone would hold
    assert large - small < kept / 3, (small, large)

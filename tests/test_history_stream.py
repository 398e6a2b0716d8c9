"""The ledger's history read as a stream: every command reads only what it needs, a batch at a
time, and gives what reading the whole history into memory gave."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, document, make_items
from launchtier.engine import Classifier, ItemReader, load_rulebook
from launchtier.engine.ledger import sql as ledger_module
from launchtier.engine.decide.decision import FORMAT_VERSION, Decision
from launchtier.engine.decide.precedents import CANDIDATES, SignalDistance
from launchtier.engine.ledger.policy import add_override
from launchtier.engine.ledger.records import encode_pairs, latest_of
from launchtier.engine.ledger.sqlite import Ledger

DEFAULT = ROOT / "rules" / "default.yaml"


def fill_ledger(path: Path, entries: int, batch: int = 10_000) -> None:
    """A ledger of ``entries`` decisions, written through Ledger.record in large batches: items
    OLD-0... each decided twice, most in past quarters, one in a hundred in 2027-Q1 (the
    example roadmap's), then overrides of three of them."""
    book = load_rulebook(DEFAULT)
    reader, classifier = ItemReader(book), Classifier(book)
    templates = [(i, classifier.decide(i)) for i in map(reader.validate, make_items(500, seed=16))]
    keys = entries // 2
    with Ledger(path) as ledger:
        for start in range(0, entries, batch):
            pairs = []
            for n in range(start, min(start + batch, entries)):
                item, decision = templates[n % len(templates)]
                k = n % keys
                key, quarter = f"OLD-{k}", "2027-Q1" if k % 100 == 0 else f"2026-Q{k % 4 + 1}"
                pairs.append((item.model_copy(update={"key": key, "quarter": quarter}),
                              decision.model_copy(update={"item": key})))
            ledger.record(book, encode_pairs(pairs), by="Gen", at=f"2026-{1 + start * 11 // entries:02d}-01T09:00:00Z")
        for key in ["OLD-0", "OLD-1", f"OLD-{keys - 1}"]:
            (rec, _), = ledger.latest_of_items([key])
            tier = "tier-4" if rec.final_tier == "tier-1" else "tier-1"
            ledger.override(key, tier, reason="review call", by="Tom", approved_by=["Ana", "Lee"],
                            at="2026-12-01T09:00:00Z")


def reference_history(path: Path) -> list[dict]:
    """The history as the whole-history reader built it: every entry in order, each override
    folded into the decision it follows (the records as ``decisions --format json`` writes them)."""
    with Ledger(path) as ledger:
        records, overrides = {}, {}
        for e in ledger.entries():
            book = ledger.rulebook(e.rulebook_hash)
            if e.kind == "override":
                add_override(overrides, e, book)
                continue
            decision = Decision.model_validate_json(e.decision_json)
            records[e.seq] = dict(
                seq=e.seq, item=e.item_key, title=decision.title, quarter=e.quarter, computed_tier=e.computed_tier,
                final_tier=e.final_tier, recorded_by=e.recorded_by, recorded_at=e.recorded_at, note=e.note,
                rulebook={"name": book.name, "version": book.version, "hash": e.rulebook_hash}, overrides=[],
                decision=decision.model_dump(mode="json"))
        for seq, ovs in overrides.items():
            if seq in records:
                records[seq].update(overrides=[o.model_dump(mode="json") for o in ovs], final_tier=ovs[-1].tier)
        return list(records.values())


def ledger_items(path: Path) -> list:
    """(latest decision, its item as recorded) of each item, read by another query of the store."""
    with Ledger(path) as ledger:
        return list(ledger.latest_of_items(ledger.latest_keys()))


def reference_candidates(history: list[dict], exclude: str, limit: int) -> list[str]:
    return [r["item"] for r in reversed(latest_of(_Rec(r) for r in history)) if r["item"] != exclude][:limit]


class _Rec(dict):
    @property
    def item(self) -> str:
        return self["item"]


@pytest.fixture
def small(runner, monkeypatch):
    """A ledger of 120 decisions and 3 overrides, read in batches of 7: batches end between a
    decision and its overrides."""
    fill_ledger(runner.ledger, 120, batch=50)
    monkeypatch.setattr(ledger_module, "BATCH", 7)
    return runner


def test_decisions_streamed_are_the_whole_history_in_order(small):
    expected = reference_history(small.ledger)
    assert len(expected) == 120 and sum(bool(r["overrides"]) for r in expected) == 3
    result = small("decisions", "--format", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == json.dumps({"format_version": FORMAT_VERSION, "decisions": expected}, indent=2,
                                       ensure_ascii=False) + "\n"
    q1 = small("decisions", "--format", "json", "--quarter", "2027-Q1", "--tier", "tier-4")
    assert document(q1.stdout)["decisions"] == [r for r in expected if r["quarter"] == "2027-Q1" and r["final_tier"] == "tier-4"]
    assert small("decisions", "--format", "json", "--item", "NONE-1").stdout == (
        f'{{\n  "format_version": {FORMAT_VERSION},\n  "decisions": []\n}}\n')  # nothing found still has its version


def test_the_precedent_candidates_are_the_latest_decisions_newest_first_final_tier_after_overrides(small):
    history = reference_history(small.ledger)
    latest = {r["item"]: r for r in latest_of(_Rec(r) for r in history)}
    for limit in [1, 10, 59, 1000]:
        with Ledger(small.ledger) as ledger:
            found = list(ledger.precedent_candidates(exclude="OLD-1", limit=limit))
        assert [r.item for r, _ in found] == reference_candidates(history, "OLD-1", limit)
        assert [r.final_tier for r, _ in found] == [latest[r.item]["final_tier"] for r, _ in found]
        items = {r.item: json.loads(item)["signals"] for r, item in ledger_items(small.ledger)}
        assert [signals for _, signals in found] == [items[r.item] for r, _ in found]


def test_the_latest_decisions_are_those_of_the_whole_history(small):
    history = reference_history(small.ledger)
    with Ledger(small.ledger) as ledger:
        assert [r.model_dump(mode="json") for r in ledger.latest()] == list(latest_of(_Rec(r) for r in history))
        assert [r.item for r, _ in ledger.latest_of_items(["OLD-3", "NONE", "OLD-1"])] == ["OLD-1", "OLD-3"]


# ---- a large ledger, in a child process whose peak memory is measured -----------------------
ENTRIES = 100_000
# Peak resident memory of a command on a ledger of 100,000 entries. Reading the whole history
# took about 24 KB an entry (2.4 GB here). Read in batches it is what the command takes without
# a ledger (the interpreter, pydantic, the rulebook: 40 to 50 MB) plus one batch and the item
# keys the pipeline knows: 100 MB leaves 50 MB for the allocator and fails as soon as a command
# keeps half a kilobyte per entry.
PEAK_MB = 100


# Runs launchtier with the arguments after the first, and writes the peak memory of that process
# (KB) to the file named first. Linux counts in a child's peak what it had before exec, a copy of
# its parent: launchtier is started from this small process, not from the test's, much larger.
MEASURE = """
import os, subprocess, sys
with subprocess.Popen([sys.executable, "-c", "from launchtier.cli.main import main; main()", *sys.argv[2:]]) as child:
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(child.returncode)
"""


def run_measured(args: list[str], out: Path) -> tuple[int, float, str]:
    """Exit code, peak memory (MB) and stderr of launchtier ``args`` in a child process, its
    stdout written to ``out``."""
    peak = out.with_suffix(".peak")
    with out.open("wb") as stdout:
        done = subprocess.run([sys.executable, "-c", MEASURE, str(peak), *args], stdout=stdout, stderr=subprocess.PIPE,
                              env={**os.environ, "COLUMNS": "100"}, timeout=600)
    mb = int(peak.read_text()) / 1024
    return done.returncode, mb, done.stderr.decode()


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.db"
    fill_ledger(path, ENTRIES)
    return path


def _reference_precedents(path: Path, explained: dict, key: str) -> list[str]:
    """The precedents of the item ``key`` explained, from the raw rows: of the latest decisions of
    the CANDIDATES most recently decided other items, the same final tier first, then the nearest
    signals, then the most recent."""
    book = load_rulebook(DEFAULT)
    conn = sqlite3.connect(path)
    items = dict(conn.execute("SELECT item_key, item_json FROM entries WHERE kind = 'decision' ORDER BY seq"))
    conn.close()
    roadmap = ItemReader(book).read(str(EXAMPLES / "roadmap.yaml"))
    signals = next(i for i in roadmap if i.key == key).signal_values()
    distance, tier = SignalDistance(book), explained["decision"]["tier"]
    latest = [(n, k, t) for n, (k, t) in enumerate(_latest_final_tiers(path)) if k != key][-CANDIDATES:]
    ranked = sorted(latest, key=lambda c: (c[2] != tier, round(distance(signals, json.loads(items[c[1]])["signals"]), 4), -c[0]))
    return [k for _, k, _ in ranked[:3]]


def _latest_final_tiers(path: Path) -> list[tuple[str, str]]:
    """(item, final tier) of each item's latest decision, in order of recording, from the raw rows."""
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT seq, kind, item_key, final_tier, overrides_seq FROM entries ORDER BY seq").fetchall()
    conn.close()
    final = {seq: tier for seq, kind, _, tier, _ in rows if kind == "decision"}
    for _, kind, _, tier, of in rows:
        if kind == "override":
            final[of] = tier
    latest = {}
    for seq, kind, key, _, _ in rows:
        if kind == "decision":
            latest.pop(key, None)
            latest[key] = final[seq]
    return list(latest.items())


@pytest.mark.slow
def test_every_command_reads_a_large_ledger_in_bounded_memory(big, tmp_path):
    roadmap = EXAMPLES / "roadmap.yaml"
    db = ["--db", str(big)]

    code, peak, err = run_measured(["explain", str(roadmap), "--item", "PAY-12", "--format", "json", *db], tmp_path / "x")
    assert (code, err) == (0, "")
    assert peak < PEAK_MB, f"explain: {peak:.0f} MB"
    explained = json.loads((tmp_path / "x").read_text())
    assert [p["item"] for p in explained["precedents"]] == _reference_precedents(big, explained, "PAY-12")

    code, peak, err = run_measured(["decisions", "--format", "csv", *db], tmp_path / "csv")
    assert (code, err) == (0, "")
    assert peak < PEAK_MB, f"decisions: {peak:.0f} MB"
    lines = (tmp_path / "csv").read_text().splitlines()
    assert lines[0] == ("seq,recorded_at,item,title,quarter,computed_tier,final_tier,set_by,recorded_by,note,"
                        "capacity_reason,override_reason,override_by,approved_by,rulebook_hash")
    assert len(lines) == 1 + ENTRIES
    assert [line.split(",")[0] for line in lines[1:]] == [str(s) for s in range(1, ENTRIES + 1)]

    # the ledger's 2027-Q1 items rank with the roadmap's: OLD-0's override takes it past capacity
    warning = "warning: 2027-Q1 has 2 tier-1 items, over its capacity of 1: OLD-0 (override), OLD-100\n"
    for command in (["review", str(roadmap)], ["classify", str(roadmap)]):
        code, peak, err = run_measured([*command, *db], tmp_path / "out")
        assert (code, err) == (0, warning), command
        assert peak < PEAK_MB, f"{command[0]}: {peak:.0f} MB"

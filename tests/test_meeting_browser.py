"""The meeting page in a real browser: ``launchtier meeting --no-open --port 0`` as a child process
on a temporary ledger, driven by Playwright for Python in Debian's headless chromium (no browser
download: ``executable_path`` is the system's). A whole review: see the quarter, change a signal,
see the tier and artifacts follow, reset, record, override with approvers; then ``audit`` and
``decisions`` on that ledger show exactly what the page recorded. Screenshots at 1280 and 1920
pixels wide are kept in the test's folder, their paths printed (``pytest -rA``) and recorded as
properties."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, document, normalise

ROADMAP = EXAMPLES / "roadmap.yaml"
AUDIT = """Audit of <ledger>

1. Integrity: ok
  13 entries; chain head <head>

2. Reproducibility: ok
  12 decisions replayed under their own rulebooks; 0 differ

3. Drift: ok
  12 items' latest decisions under rulebook default 2026.11.2 (sha256:4f1b23966785…): 0 would change
    tier

4. Overrides: ok
  1 override; 0 below the approval policy
  #13 <time> PAY-41: tier-1 → tier-2 by Tom O. (Priya N., Ana L.): Budget is short
    this quarter

5. Tiers per quarter (final tiers, latest decisions): ok
  2027-Q1: tier-2 3, tier-3 1, tier-4 1
  2027-Q2: tier-1 1, tier-2 2, tier-3 1, tier-4 1
  unscheduled: tier-1 1, tier-3 1

integrity: ok
"""
CHILD = "import sys; from launchtier.cli.main import main; sys.argv[0] = 'launchtier'; main()"


def find_chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless chromium installed (apt-get install chromium)")
    return browser


@pytest.fixture
def chromium():
    pytest.importorskip("playwright", reason="Playwright for Python is not installed (it is in requirements/test.txt)")
    pytest.importorskip("werkzeug", reason="the meeting extra (werkzeug) is not installed: pip install 'launchtier[meeting]'")
    from playwright.sync_api import sync_playwright

    path = find_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def served(tmp_path):
    """``launchtier meeting`` on a temporary ledger: (its URL, the ledger, the process)."""
    ledger = tmp_path / "meeting.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHTIER_")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, "meeting", str(ROADMAP), "--db", str(ledger), "--no-open",
                              "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             cwd=tmp_path)
    try:
        line = child.stdout.readline()
        assert line.startswith("launchtier meeting: http://127.0.0.1:"), (line, child.stderr.read() if child.poll() else "")
        yield line.split(": ", 1)[1].strip(), ledger, child
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=30)  # and its pipes closed


def test_skips_without_chromium(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match=r"no headless chromium installed \(apt-get install chromium\)"):
        find_chromium()


def tier_of(page, key: str) -> str:
    return page.locator(f'tr[data-key="{key}"] span.tier').inner_text()


def artifacts_of(page) -> list[str]:
    return sorted(page.locator("section.item li[data-artifact]").evaluate_all("els => els.map(e => e.dataset.artifact)"))


@pytest.mark.slow  # a server process and a headless browser
def test_a_whole_review_from_the_page(chromium, served, runner, tmp_path, record_property):
    url, ledger, child = served
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    assert page.locator("h1").inner_text() == "Roadmap review all quarters"
    assert page.locator("table.items tbody tr").count() == 12
    # disputed items first, with the tiers review gives
    review = document(runner("review", ROADMAP, "--format", "json", "--db", tmp_path / "none.db").stdout)
    keys = page.locator("table.items tbody tr").evaluate_all("rows => rows.map(r => r.dataset.key)")
    assert keys == [i["decision"]["item"] for i in review["items"]]
    assert tier_of(page, "PAY-12") == "tier-2 Launch"

    # select an item: its explanation
    page.click('tr[data-key="PAY-12"] td.key a')
    page.wait_for_selector('section.item[data-key="PAY-12"]')
    before = artifacts_of(page)
    assert "launch-plan" not in before
    assert page.locator("section.item ul.precedents").count() == 0  # no ledger yet: no precedents

    # a what-if: differentiation first makes it tier-1, with a launch's artifacts, and takes PAY-41's place
    with page.expect_navigation():
        page.select_option('label[data-signal="differentiation"] select', "first")
    page.wait_for_selector("div.whatif-box")
    assert page.locator("section.item span.tier").first.inner_text() == "tier-1 Marketing launch"
    assert tier_of(page, "PAY-12") == "tier-1 Marketing launch"
    assert tier_of(page, "PAY-41") == "tier-2 Launch"
    after = artifacts_of(page)
    assert "launch-plan" in after and set(before) < set(after)
    assert page.locator('label.control.changed[data-signal="differentiation"] .was').inner_text() == "file: better"
    assert "whatif" in page.locator('article[data-quarter="2027-Q1"]').get_attribute("class")

    shots = {}
    for width, height in ((1280, 900), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        shots[width] = tmp_path / f"meeting-{width}.png"
        page.screenshot(path=str(shots[width]))
        data = shots[width].read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(data[16:20], "big") == width
        record_property(f"screenshot_{width}", str(shots[width]))
        print(f"screenshot at {width} px: {shots[width]}")
    page.set_viewport_size({"width": 1280, "height": 900})

    # one click resets it
    with page.expect_navigation():
        page.click("div.whatif-box a.reset")
    assert tier_of(page, "PAY-12") == "tier-2 Launch"
    assert page.locator("div.whatif-box").count() == 0 and artifacts_of(page) == before

    # record the review, after a confirm step
    page.fill('#record input[name="by"]', "Priya N.")
    page.fill('#record input[name="note"]', "agreed in the room")
    with page.expect_navigation():
        page.click("#record button")
    assert page.locator("h1").inner_text() == "Record the review"
    assert not ledger.exists()  # nothing is written before the confirm
    with page.expect_navigation():
        page.click("button.confirm-button")
    assert page.locator("ul.done li").all_inner_texts() == [f"recorded 12 decisions in {ledger}"]
    head_after_record = page.locator("code.head").inner_text()

    # override PAY-41 with two approvers, after a confirm step
    page.goto(url + "?item=PAY-41")
    page.select_option("form.override select[name=tier]", "tier-2")
    page.fill("form.override input[name=reason]", "Budget is short this quarter")
    page.fill("form.override input[name=by]", "Tom O.")
    approvers = page.locator("form.override input.approver")
    approvers.nth(0).fill("Priya N.")
    approvers.nth(1).fill("Ana L.")
    with page.expect_navigation():
        page.click("form.override button")
    with page.expect_navigation():
        page.click("button.confirm-button")
    assert page.locator("ul.done li").all_inner_texts() == [
        "overridden PAY-41: tier-1 → tier-2 (#13) by Tom O.; approved by Priya N., Ana L."]
    head = page.locator("code.head").inner_text()
    assert head != head_after_record and head.startswith("sha256:")

    # the page shows it on refresh, with the chain head
    page.goto(url + "?item=PAY-41")
    assert tier_of(page, "PAY-41") == "tier-2 Launch"
    assert head in page.locator("p.summary").inner_text()

    # Ctrl-C stops the server cleanly
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert "Traceback" not in err and err.splitlines()[-1] == "launchtier meeting: stopped"

    # the audit and the history show exactly what the page recorded
    audit = runner("audit", "--db", ledger)
    assert audit.exit_code == 0, audit.output
    assert normalise(audit.stdout.replace(head, "<head>"), paths={"ledger": ledger}, times=True) == AUDIT
    decisions = document(runner("decisions", "--db", ledger, "--format", "json").stdout)["decisions"]
    assert [(d["item"], d["final_tier"], d["recorded_by"], d["note"]) for d in decisions] == [
        (i["decision"]["item"], "tier-2" if i["decision"]["item"] == "PAY-41" else i["decision"]["tier"], "Priya N.",
         "review all quarters: agreed in the room") for i in sorted(review["items"], key=lambda i: order(i))]
    [overridden] = [d for d in decisions if d["overrides"]]
    assert [(o["tier"], o["by"], o["approved_by"], o["reason"]) for o in overridden["overrides"]] == [
        ("tier-2", "Tom O.", ["Priya N.", "Ana L."], "Budget is short this quarter")]
    json.dumps(decisions)  # the history is JSON all through


def order(item: dict) -> int:
    """An item's place in the roadmap file: the order review --record records them in."""
    keys = [line.split("key:", 1)[1].strip() for line in ROADMAP.read_text(encoding="utf-8").splitlines()
            if line.strip().startswith("- key:")]
    return keys.index(item["decision"]["item"])

"""The README states what the code does: its commands table renders as one table, and the
figures it quotes about the shipped rulebook and examples are the ones the code gives."""

from __future__ import annotations

import re

from conftest import ROOT
from launchtier.engine import ItemReader, load_rulebook
from launchtier.engine.roadmap.review import review

README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_commands_table_is_one_table():
    """A blank line inside a Markdown table ends it: the rows after it show as raw pipes."""
    lines = section("Commands").splitlines()
    rows = [i for i, line in enumerate(lines) if line.startswith("|")]
    assert lines[rows[0]:rows[0] + 2] == ["| command | what it does |", "|---|---|"]
    assert rows == list(range(rows[0], rows[-1] + 1)), "a line that is not a row splits the commands table"
    commands = {re.match(r"\| `launchtier ([a-z]+(?: [a-z]+)?)", lines[i]).group(1) for i in rows[2:]}
    assert {"classify", "explain", "artifacts", "review", "record", "override", "decisions", "audit",
            "rules show", "rules lint", "rules test", "rules diff", "template"} <= commands


def test_the_default_rulebook_counts_are_the_rulebooks():
    book = load_rulebook()
    quoted = set(re.findall(r"default \((\d+) rules, (\d+) signals\)", README))
    assert quoted <= {(str(len(book.rules)), str(len(book.signals)))}
    # a figure measured under an earlier version names it, and the README says the current one
    # was not measured in full
    for version, rules in re.findall(r"default (\d{4}\.\d+\.\d+) \((\d+) rules", README):
        assert version != book.version
        assert f"{book.version} ({len(book.rules)} rules" in " ".join(README.split())
        assert "has not been re-run on it" in " ".join(README.split())


def test_the_disputed_figures_are_the_reviews():
    book = load_rulebook()
    for name, quoted in (("roadmap.yaml", "5 of 12 items are disputed"), ("analytics-roadmap.yaml", "has 5 of 12 disputed")):
        report = review(book, ItemReader(book).read(str(ROOT / "examples" / name)))
        n, total = re.search(r"(\d+) of (\d+)", quoted).groups()
        assert quoted in README.replace("\n", " ").replace("  ", " ")
        assert (len(report.disputed), len(report.items)) == (int(n), int(total))


def test_the_calibration_figures_are_the_reports():
    from launchtier.engine.rulecheck.calibrate import calibrate, default_set_files

    book = load_rulebook()
    report = calibrate(book, default_set_files(None, book), engine="reference")
    text = " ".join(README.split())
    exact, total, within = map(int, re.search(r"agrees exactly on (\d+) of the (\d+) \(\d+ %\) and within one tier on (\d+)",
                                              text).groups())
    assert (exact, total, within) == (report.exact, report.launches, report.within_one)
    published = report.by_evidence["published"]
    assert f"on the {published.launches} published tiers, {published.exact} exact" in text
    assert f"and {published.within_one} within one" in text
    assert f"holds {report.launches} launches" in text

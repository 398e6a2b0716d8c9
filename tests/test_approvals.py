"""Approvals mean people: named, each counted once, and not the person overriding unless the
rulebook's overrides policy says so; the override command refuses the rest, and the audit
reports what the ledger holds of it, end to end through the CLI, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import backend_rows, document
from launchtier.engine.ledger import ledger_if_present, open_ledger
from launchtier.engine.ledger.chain import canonical

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "rules" / "default.yaml"
AT = "2027-01-05T09:00:00Z"
SELF_APPROVAL = "  tier-1: {approvals: 2, self_approval: true}\n  tier-2: {approvals: 2, self_approval: true}\n"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("launchtier.engine.ledger.records.now_utc", lambda: AT)


@pytest.fixture
def runner(backend_runner):
    """Every test of this module on an SQLite ledger and on a PostgreSQL one."""
    return backend_runner


def entries(db: Path | str) -> int:
    return backend_rows(db)


def section(output: str, title: str) -> list[str]:
    """The lines of one section of the audit's text output, its title line first."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]


def self_approving_rules(tmp_path: Path) -> Path:
    text = DEFAULT.read_text()
    old = "  tier-1: {approvals: 2}\n  tier-2: {approvals: 2}\n"
    assert old in text
    path = tmp_path / "team.yaml"
    path.write_text(text.replace("rulebook: default", "rulebook: team").replace(old, SELF_APPROVAL))
    return path


def override(runner, *approvers: str, by: str = "Mia S.", key: str = "PAY-12", tier: str = "tier-1"):
    args = ["override", key, "--tier", tier, "--reason", "Anchor of the campaign", "--by", by]
    for name in approvers:
        args += ["--approved-by", name]
    return runner(*args)


@pytest.mark.parametrize("by", ["", "   "])
@pytest.mark.parametrize("command", ["record", "review", "override"])
def test_a_blank_name_is_refused_and_records_nothing(runner, roadmap, command, by):
    if command == "override":
        assert runner("record", roadmap, "--by", "Priya").exit_code == 0
        result = override(runner, "Ana", "Tom", by=by)
    elif command == "record":
        result = runner("record", roadmap, "--by", by)
    else:
        result = runner("review", roadmap, "--record", "--by", by)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: --by: {by!r} is not allowed; expected a person's name (not empty or blank)\n"
    if command == "override":
        assert entries(runner.ledger) == 12
    else:
        assert ledger_if_present(str(runner.ledger)) is None


@pytest.mark.parametrize("blank", ["", " \t "])
def test_a_blank_approver_is_refused(runner, roadmap, blank):
    runner("record", roadmap, "--by", "Priya")
    result = override(runner, "Ana", blank)
    assert result.exit_code == 2
    assert result.stderr == f"error: --approved-by: {blank!r} is not allowed; expected a person's name (not empty or blank)\n"
    assert entries(runner.ledger) == 12


@pytest.mark.parametrize("first,second,expected", [
    ("Ana L.", "Ana L.", "'Ana L.' is given twice; name each approver once"),
    ("Ana L.", "ana l.", "'Ana L.' and 'ana l.' are the same person (names are compared ignoring case and spacing); "
                         "name each approver once"),
    ("Ana  L.", " ANA L. ", "'Ana  L.' and 'ANA L.' are the same person (names are compared ignoring case and spacing); "
                            "name each approver once"),
])
def test_an_approver_counts_once_whatever_the_case_and_spacing(runner, roadmap, first, second, expected):
    runner("record", roadmap, "--by", "Priya")
    result = override(runner, first, second, by="Tom O.")
    assert result.exit_code == 2
    assert result.stderr == f"error: --approved-by: {expected}\n"
    assert entries(runner.ledger) == 12


@pytest.mark.parametrize("own", ["Mia S.", "mia  s."])
def test_the_person_overriding_does_not_approve_their_own_override(runner, roadmap, own):
    runner("record", roadmap, "--by", "Priya")
    result = override(runner, own, "Ana L.")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --approved-by: {own!r} is the person overriding (--by 'Mia S.'); overriding PAY-12 from tier-2 to "
        "tier-1 needs approvals from other people under rulebook default 2026.11.2 (its overrides policy allows "
        "self-approval only with self_approval: true)\n")
    assert entries(runner.ledger) == 12


def test_not_even_where_no_approval_is_needed(runner, roadmap):
    runner("record", roadmap, "--by", "Priya")
    result = override(runner, "Tom O.", by="Tom O.", key="PAY-63", tier="tier-3")  # no policy on tier-3 or tier-4
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --approved-by: 'Tom O.' is the person overriding (--by 'Tom O.'); overriding PAY-63 from tier-4 to "
        "tier-3 needs approvals from other people under rulebook default 2026.11.2 (its overrides policy allows "
        "self-approval only with self_approval: true)\n")


def test_names_are_stored_trimmed(runner, roadmap):
    assert runner("record", roadmap, "--by", "  Priya N. ").exit_code == 0
    result = override(runner, " Ana L.", "Tom O.  ", by=" Mia S. ")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "overridden PAY-12: tier-2 → tier-1 (#13) by Mia S.; approved by Ana L., Tom O.\n"
    (record,) = document(runner("decisions", "--item", "PAY-12", "--format", "json").stdout)["decisions"]
    assert record["recorded_by"] == "Priya N."
    assert (record["overrides"][0]["by"], record["overrides"][0]["approved_by"]) == ("Mia S.", ["Ana L.", "Tom O."])


def test_a_policy_with_self_approval_lets_the_person_overriding_approve(runner, roadmap, tmp_path):
    rules = self_approving_rules(tmp_path)
    assert runner("record", roadmap, "--by", "Priya", "--rules", rules).exit_code == 0
    alone = override(runner, "mia s.")  # still two distinct people
    assert alone.exit_code == 2
    assert alone.stderr == ("error: overriding PAY-12 from tier-2 to tier-1 needs 2 approvals under rulebook team 2026.11.2 "
                            "(overrides policy); got 1: add --approved-by NAME\n")
    twice = override(runner, "Mia S.", "mia  s.")
    assert twice.exit_code == 2
    assert twice.stderr == ("error: --approved-by: 'Mia S.' and 'mia  s.' are the same person (names are compared "
                            "ignoring case and spacing); name each approver once\n")
    ok = override(runner, "mia s.", "Ana L.")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout == "overridden PAY-12: tier-2 → tier-1 (#13) by Mia S.; approved by mia s., Ana L.\n"
    audit = runner("audit", "--rules", rules, env={"COLUMNS": None})
    assert audit.exit_code == 0, audit.stderr
    assert section(audit.stdout, "4. Overrides") == [
        "4. Overrides: ok",
        "  1 override; 0 below the approval policy",
        f"  #13 {AT} PAY-12: tier-2 → tier-1 by Mia S. (mia s., Ana L.): Anchor of the campaign",
    ]
    shown = runner("rules", "show", "--rules", rules).stdout
    assert shown.splitlines()[-3:] == [
        "Override approvals",
        "  into or out of tier-1: 2 approvals; the person overriding may approve",
        "  into or out of tier-2: 2 approvals; the person overriding may approve",
    ]


def test_a_policy_that_does_not_set_self_approval_keeps_its_hash(tmp_path):
    """The field is written only when set: the rulebooks stored in existing ledgers still verify."""
    from launchtier.engine import load_rulebook

    book = load_rulebook(DEFAULT)
    assert "self_approval" not in book.model_dump_json()
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text(DEFAULT.read_text().replace("tier-1: {approvals: 2}", "tier-1: {approvals: 2, self_approval: false}"))
    assert load_rulebook(explicit).hash == book.hash
    allowing = tmp_path / "allowing.yaml"  # set, it is part of the rulebook: another hash
    allowing.write_text(DEFAULT.read_text().replace("tier-1: {approvals: 2}", "tier-1: {approvals: 2, self_approval: true}"))
    assert load_rulebook(allowing).hash != book.hash


def test_self_approval_must_be_true_or_false(runner, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(DEFAULT.read_text().replace("tier-1: {approvals: 2}", "tier-1: {approvals: 2, self_approval: yes please}"))
    result = runner("rules", "show", "--rules", rules)
    assert result.exit_code == 2
    line = next(n for n, text in enumerate(rules.read_text().splitlines(), 1) if "yes please" in text)
    assert result.stderr == (f"error: {rules}:{line}: overrides.tier-1.self_approval: 'yes please' is not allowed; "
                             "expected true or false\n")


def forge_override(db: Path, key: str, tier: str, *, by: str, approved_by: list[str], at: str) -> None:
    """An override entry as Ledger.override writes it, without its checks: what an older
    launchtier or a script could have left in the ledger. The hash chain stays whole."""
    with open_ledger(str(db)) as ledger:
        latest = ledger._latest_decision(key)
        row = {"kind": "override", "item_key": key, "quarter": latest.quarter, "computed_tier": latest.computed_tier,
               "final_tier": tier, "rulebook_hash": latest.rulebook_hash, "item_json": latest.item_json,
               "decision_json": latest.decision_json, "recorded_by": by, "recorded_at": at, "note": None,
               "reason": "review call", "approved_by": canonical(approved_by), "overrides_seq": latest.seq}
        with ledger._write():
            ledger._append([row])


def test_the_audit_reports_overrides_below_the_policy_with_the_reasons(runner, roadmap):
    runner("record", roadmap, "--by", "Priya")
    forge_override(runner.ledger, "PAY-12", "tier-1", by="Mia S.", approved_by=["Mia S.", "mia  s."], at="2027-01-06T10:00:00Z")
    forge_override(runner.ledger, "PAY-38", "tier-2", by=" ", approved_by=["Ana L.", "Tom O."], at="2027-01-07T10:00:00Z")
    forge_override(runner.ledger, "PAY-41", "tier-2", by="Tom O.", approved_by=["Ana L."], at="2027-01-08T10:00:00Z")
    forge_override(runner.ledger, "PAY-47", "tier-1", by="Tom O.", approved_by=["Ana L.", "Priya N."], at="2027-01-09T10:00:00Z")
    forge_override(runner.ledger, "PAY-63", "tier-3", by="Tom O.", approved_by=[""], at="2027-01-10T10:00:00Z")

    result = runner("audit", env={"COLUMNS": None})
    assert result.exit_code == 0, result.stderr  # the chain is whole: the approvals are what fall short
    with open_ledger(str(runner.ledger), readonly=True) as ledger:
        head = ledger.head()
    assert section(result.stdout, "1. Integrity") == ["1. Integrity: ok", f"  17 entries; chain head {head}"]
    assert section(result.stdout, "4. Overrides") == [
        "4. Overrides: attention",
        "  5 overrides; 4 below the approval policy",
        "  #13 2027-01-06T10:00:00Z PAY-12: tier-2 → tier-1 by Mia S. (Mia S., mia  s.): review call BELOW POLICY: "
        "'Mia S.' approved their own override (the policy does not allow self-approval); 'Mia S.' and 'mia  s.' are "
        "the same approver; 0 of 2 approvals from distinct people other than the person overriding",
        "  #14 2027-01-07T10:00:00Z PAY-38: tier-1 → tier-2 by   (Ana L., Tom O.): review call BELOW POLICY: "
        "the person overriding is not named (blank)",
        "  #15 2027-01-08T10:00:00Z PAY-41: tier-1 → tier-2 by Tom O. (Ana L.): review call BELOW POLICY: "
        "1 of 2 approvals from distinct people other than the person overriding",
        "  #16 2027-01-09T10:00:00Z PAY-47: tier-2 → tier-1 by Tom O. (Ana L., Priya N.): review call",
        "  #17 2027-01-10T10:00:00Z PAY-63: tier-4 → tier-3 by Tom O. (no approvers): review call BELOW POLICY: "
        "an approver's name is blank ('')",
    ]
    assert result.stdout.splitlines()[-1] == "integrity: ok"

    data = json.loads(runner("audit", "--format", "json").stdout)
    assert [(o["seq"], o["below_policy"], o["problems"]) for o in data["overrides"]] == [
        (13, True, ["'Mia S.' approved their own override (the policy does not allow self-approval)",
                    "'Mia S.' and 'mia  s.' are the same approver",
                    "0 of 2 approvals from distinct people other than the person overriding"]),
        (14, True, ["the person overriding is not named (blank)"]),
        (15, True, ["1 of 2 approvals from distinct people other than the person overriding"]),
        (16, False, []),
        (17, True, ["an approver's name is blank ('')"]),
    ]

    markdown = runner("audit", "--format", "markdown").stdout.splitlines()
    start = markdown.index("## 4. Overrides: attention")
    assert markdown[start:start + 4] == [
        "## 4. Overrides: attention", "", "- 5 overrides; 4 below the approval policy",
        "- #13 2027-01-06T10:00:00Z PAY-12: tier-2 → tier-1 by Mia S. (Mia S., mia  s.): review call BELOW POLICY: "
        "'Mia S.' approved their own override (the policy does not allow self-approval); 'Mia S.' and 'mia  s.' are "
        "the same approver; 0 of 2 approvals from distinct people other than the person overriding",
    ]

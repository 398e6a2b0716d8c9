"""Roadmap exports read through mapping files: the shipped Jira and Productboard examples, the
quarter forms, and bad input (every problem names the file, the line, the item and the column, and
says what is allowed). Engine level only (no command line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from launchtier.engine import Classifier, ItemError, Problem
from launchtier.engine.items.mapping import ExportMapping, load_mapping, quarter_from_date, quarter_from_version, read_mapped

EXPORTS = Path(__file__).resolve().parent.parent / "examples" / "exports"
JIRA_CSV = EXPORTS / "jira.csv"
JIRA_MAPPING = EXPORTS / "jira-mapping.yaml"
PB_CSV = EXPORTS / "productboard.csv"
PB_MAPPING = EXPORTS / "productboard-mapping.yaml"
CLOUD_CSV = EXPORTS / "jira-cloud.csv"
CLOUD_MAPPING = EXPORTS / "jira-cloud-mapping.yaml"
LINEAR_CSV = EXPORTS / "linear.csv"
LINEAR_MAPPING = EXPORTS / "linear-mapping.yaml"
AHA_CSV = EXPORTS / "aha.csv"
AHA_MAPPING = EXPORTS / "aha-mapping.yaml"

SIGNALS = (
    "new_market", "positioning", "revenue_motion", "differentiation", "customer_reach", "demand_votes",
    "user_action_required", "pricing_change", "audience", "stage", "exec_priority",
)
SIGNAL_LIST = ", ".join(SIGNALS)

# Worked out from jira.csv by hand. Signal values in the order of SIGNALS; the tier under the
# default rulebook with the reason (MI market impact, LG lead generation, P parity, CI customer impact).
JIRA = [
    ("BILL-101", "Usage-based billing with metered plans", "2027-Q1", "Priya Natarajan", "Tom Okafor",
     # labels exec-priority + migration, components Pricing + Metering, votes "34.0"
     (False, "strengthens", "expansion", "better", 60, 34, True, True, "buyer", "ga", True),
     "tier-1"),  # MI 1+1=2, LG 2+1=3, P 0, GA
    ("BILL-114", "Embedded payments for marketplaces", "2027-Q2", "Daniel Hoffmann", "Amara Mensah",
     # status In Beta; votes empty: the rulebook's default 0
     (True, "changes", "new_logo", "first", 5, 0, False, False, "buyer", "beta", False),
     "tier-2"),  # MI 3, LG 3, but beta is never tier 1; launch 6
    ("BILL-120", "Apple Pay and Google Pay in hosted checkout", "2027-Q1", "Lena Varga", "Jonas Berg",
     # positioning empty: the mapping's default none
     (False, "none", "retention", "parity", 40, 120, False, False, "end_user", "ga", False),
     "tier-3"),  # launch 0+0-2 < 3; CI 1+1+1
    ("BILL-127", "Audit-log export to S3", "2027-Q2", "Lena Varga", "Jonas Berg",
     (False, "none", "none", "parity", 3, 12, False, False, "admin", "ga", False),
     "tier-4"),  # P 3, CI 0, no user action
    ("BILL-133", "Smart dunning retries", None, "Priya Natarajan", "Tom Okafor",
     # no fix version: unscheduled
     (False, "strengthens", "retention", "better", 55, 48, False, False, "admin", "ga", False),
     "tier-3"),  # launch 1+0-1 = 0; CI 2+1
    ("BILL-140", "Multi-entity invoicing for enterprise groups", "2027-Q2", "Daniel Hoffmann", "Amara Mensah",
     # two fix versions (2027.Q2, 2027.Q3): the earlier; component Pricing in the second column
     (False, "strengthens", "deal_acceleration", "better", 12, 65, False, True, "buyer", "ga", False),
     "tier-2"),  # MI 1 (short of 2), LG 1+1, launch 3
    ("BILL-152", "Migrate card vault to network tokens", "2027-Q1", "Lena Varga", "Jonas Berg",
     (False, "none", "retention", "parity", 80, 20, True, False, "admin", "ga", False),
     "tier-3"),  # P 3; CI 2+1+1
    ("BILL-158", "Revenue recognition reports (ASC 606)", "2027-Q3", "Priya Natarajan", "Tom Okafor",
     # labels new-market + exec-priority in the first and second Labels columns
     (True, "changes", "new_logo", "first", 20, 210, False, False, "buyer", "ga", True),
     "tier-1"),  # MI 3, LG 3, P 0, GA
    ("BILL-165", "Tooltip copy refresh on billing settings", "2026-Q4", "Lena Varga", "Jonas Berg",
     (False, "none", "none", "none", 8, 3, False, False, "end_user", "ga", False),
     "tier-4"),  # nothing scores
]  # BILL-161 is Won't Do: skipped (its empty Revenue motion would otherwise be an error)

PRODUCTBOARD = [
    ("PB-201", "Instant payouts to debit cards", "2027-Q1", "Daniel Hoffmann", "Amara Mensah",
     # tags "payouts, exec-priority"; reach "35%"
     (False, "strengthens", "expansion", "better", 35, 88, False, False, "buyer", "ga", True),
     "tier-1"),  # MI 1+1=2, LG 2, P 0, GA
    ("PB-204", "Fraud scoring for card-not-present payments", "2027-Q2", "Lena Varga", "Jonas Berg",
     (False, "none", "deal_acceleration", "parity", 70, 41, False, False, "admin", "beta", False),
     "tier-3"),  # launch 0+1-3 < 3; CI 2
    ("PB-207", "Crypto settlement in USDC", "2027-Q3", "Daniel Hoffmann", "Amara Mensah",
     (True, "changes", "new_logo", "first", 2, 9, False, False, "buyer", "beta", False),
     "tier-2"),  # MI 3, LG 3, but beta
    ("PB-210", "Bulk refunds from the dashboard", "2026-Q4", "Lena Varga", "Jonas Berg",
     (False, "none", "retention", "parity", 25, 130, False, False, "end_user", "ga", False),
     "tier-3"),  # CI 1+1+1
    ("PB-213", "Seat-based add-on pricing", "2027-Q1", "Priya Natarajan", "Tom Okafor",
     # timeframe 2027-02-01 - 2027-04-30 starts in Q1; tags "migration; pricing"; component Pricing
     (False, "strengthens", "expansion", "better", 45, 22, True, True, "buyer", "ga", False),
     "tier-2"),  # MI 1 (short of 2), LG 3, launch 4
    ("PB-216", "Webhook signature rotation", None, "Lena Varga", None,
     # no timeframe, no PMM, launch stage empty: the mapping's default ga
     (False, "none", "none", "parity", 6, 4, False, False, "admin", "ga", False),
     "tier-4"),  # P 3, CI 0
    ("PB-219", "Localized checkout in Japanese and Korean", "2027-Q2", "Priya Natarajan", "Tom Okafor",
     (True, "none", "new_logo", "better", 4, 57, False, False, "end_user", "ga", False),
     "tier-1"),  # MI 3, LG 3, P 0, GA
]


# Jira Cloud: fiscal fix versions (the year starts in February), labels audience:..., beta.
JIRA_CLOUD = [
    ("CHK-210", "Pay by bank in hosted checkout", "2027-Q1", "Priya Natarajan", "Tom Okafor",
     # Payments FY28 Q1: February 2027; labels audience:buyer, exec-priority, migration; component Pricing
     (False, "strengthens", "expansion", "better", 60, 34, True, True, "buyer", "ga", True),
     "tier-1"),
    ("CHK-214", "Checkout for B2B marketplaces", "2027-Q2", "Daniel Hoffmann", "Amara Mensah",
     # Q2 FY2028: May 2027; the label beta; votes empty: 0
     (True, "changes", "new_logo", "first", 5, 0, False, False, "buyer", "beta", False),
     "tier-2"),
    ("CHK-219", "Saved cards for returning shoppers", "2027-Q1", "Lena Varga", "Jonas Berg",
     # FY2028-Q1; audience:end-user is end_user; positioning empty: the mapping's default none
     (False, "none", "retention", "parity", 40, 120, False, False, "end_user", "ga", False),
     "tier-3"),
    ("CHK-223", "Checkout audit trail export", "2026-Q4", "Lena Varga", "Jonas Berg",
     # Payments FY27 Q4: November 2026 - January 2027, counted where it starts
     (False, "none", "none", "parity", 3, 12, False, False, "admin", "ga", False),
     "tier-4"),
    ("CHK-227", "Adaptive 3-D Secure exemptions", "2027-Q2", "Daniel Hoffmann", "Amara Mensah",
     # two fix versions, FY2028-Q3 (2027-Q3) and Payments FY28 Q2 (2027-Q2): the earlier
     (False, "strengthens", "deal_acceleration", "better", 12, 65, False, True, "buyer", "ga", False),
     "tier-2"),
    ("CHK-231", "Smart retries for declined cards", None, "Priya Natarajan", "Tom Okafor",
     (False, "strengthens", "retention", "better", 55, 48, False, False, "admin", "ga", False),
     "tier-3"),
]  # CHK-226 is Won't Do: skipped

# Linear: every signal from the labels; quarter labels whl-fy.. of a year starting in July.
LINEAR = [
    ("WHL-41", "Net-60 invoicing for wholesale buyers", "2027-Q1", "priya@example.com", None,
     # whl-fy27q3: January 2027; reach-most 60; story: strengthens; no votes column: 0
     (False, "strengthens", "expansion", "better", 60, 0, False, True, "buyer", "ga", True),
     "tier-1"),  # MI 3, LG 3, P 0, GA
    ("WHL-44", "Wholesale storefront for brands selling to retailers", "2027-Q2", "daniel@example.com", None,
     # whl-fy27q4: April 2027; revenue:new-logo is new_logo
     (True, "changes", "new_logo", "first", 5, 0, False, False, "buyer", "beta", False),
     "tier-2"),  # MI 3, LG 3, but beta
    ("WHL-47", "Reorder from past invoices", "2027-Q1", "lena@example.com", None,
     (False, "none", "retention", "parity", 30, 0, False, False, "end_user", "ga", False),
     "tier-3"),  # P 2, CI 2
    ("WHL-52", "Credit-limit audit log", "2027-Q3", "lena@example.com", None,
     # whl-fy28q1: July 2027
     (False, "none", "none", "parity", 5, 0, False, False, "admin", "ga", False),
     "tier-4"),  # P 3, CI 0
    ("WHL-58", "Bulk order upload", None, "priya@example.com", None,
     # no quarter label: unscheduled
     (False, "strengthens", "retention", "better", 60, 0, False, False, "admin", "ga", False),
     "tier-3"),  # launch 2+0-1 = 1; CI 3
]  # WHL-55 is a Duplicate: skipped

# Aha!: the quarter in the release name, tags in one cell.
AHA = [
    ("PAYOUT-112", "Instant payouts in 40 countries", "2026-Q4", "Daniel Hoffmann", "Amara Mensah",
     # v8.8 (Q4 2026); tags "exec-priority, pricing"; positioning not mapped: the rulebook's default
     (False, "none", "expansion", "better", 35, 88, False, True, "buyer", "ga", True),
     "tier-1"),  # MI 2, LG 3, P 0, GA
    ("PAYOUT-118", "Payout reconciliation report", "2027-Q1", "Lena Varga", "Jonas Berg",
     (False, "none", "retention", "parity", 70, 41, False, False, "admin", "ga", False),
     "tier-3"),  # P 3; CI 3
    ("PAYOUT-121", "Payouts in stablecoins", "2027-Q2", "Daniel Hoffmann", "Amara Mensah",
     (True, "none", "new_logo", "first", 2, 9, False, False, "buyer", "beta", False),
     "tier-2"),  # MI 3, LG 3, but beta
    ("PAYOUT-127", "Tax forms for payees (1099-K)", "2027-Q1", "Priya Natarajan", "Tom Okafor",
     (False, "none", "retention", "parity", 80, 20, True, False, "admin", "ga", False),
     "tier-3"),  # P 3; CI 3
]  # PAYOUT-125 will not be implemented: skipped

EXAMPLES = [
    (JIRA_CSV, JIRA_MAPPING, JIRA),
    (PB_CSV, PB_MAPPING, PRODUCTBOARD),
    (CLOUD_CSV, CLOUD_MAPPING, JIRA_CLOUD),
    (LINEAR_CSV, LINEAR_MAPPING, LINEAR),
    (AHA_CSV, AHA_MAPPING, AHA),
]
EXAMPLE_IDS = ["jira", "productboard", "jira-cloud", "linear", "aha"]


@pytest.fixture
def problems(book, tmp_path):
    """The problems of reading an export through a mapping; either is the example's text, edited."""

    def problems(csv_text: str | None = None, mapping_text: str | None = None,
                 csv_name: str = "jira.csv", mapping_name: str = "jira-mapping.yaml") -> list[Problem]:
        csv_path = tmp_path / csv_name
        csv_path.write_text(JIRA_CSV.read_text() if csv_text is None else csv_text)
        mapping_path = tmp_path / mapping_name
        mapping_path.write_text(JIRA_MAPPING.read_text() if mapping_text is None else mapping_text)
        with pytest.raises(ItemError) as info:
            read_mapped(str(csv_path), str(mapping_path), book)
        found = info.value.problems
        assert found, "an ItemError carries its problems"
        assert str(info.value) == "\n".join(str(p) for p in found)
        return found

    return problems


def jira_csv(old: str, new: str) -> str:
    text = JIRA_CSV.read_text()
    assert old in text, old
    return text.replace(old, new, 1)


def jira_mapping(old: str, new: str) -> str:
    text = JIRA_MAPPING.read_text()
    assert old in text, old
    return text.replace(old, new, 1)


def mapping_line(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


# ---- the shipped examples -------------------------------------------------------------------


@pytest.mark.parametrize("csv_path, mapping_path, expected", EXAMPLES, ids=EXAMPLE_IDS)
def test_example_export_maps_to_the_expected_items(book, csv_path, mapping_path, expected):
    items = read_mapped(str(csv_path), str(mapping_path), book)
    assert [i.key for i in items] == [e[0] for e in expected]
    for item, (key, title, quarter, pm, pmm, signals, _tier) in zip(items, expected):
        assert (item.key, item.title, item.quarter, item.pm, item.pmm) == (key, title, quarter, pm, pmm)
        assert item.signal_values() == dict(zip(SIGNALS, signals)), key


@pytest.mark.parametrize("csv_path, mapping_path, expected", EXAMPLES, ids=EXAMPLE_IDS)
def test_example_export_items_get_their_tiers(book, csv_path, mapping_path, expected):
    classifier = Classifier(book, "durable")
    items = read_mapped(str(csv_path), str(mapping_path), book)
    assert {d.item: d.tier for d in classifier.classify(items)} == {e[0]: e[6] for e in expected}


def test_the_jira_cloud_example_is_written_as_jira_cloud_writes_it():
    data = CLOUD_CSV.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfSummary,Issue key,") and b"\r\n" in data
    header = data.decode("utf-8-sig").splitlines()[0].split(",")
    assert [header.count(c) for c in ("Fix versions", "Components", "Labels", "Parent key")] == [2, 2, 3, 1]
    assert "25/Feb/26 10:17 PM" in data.decode("utf-8-sig")


def test_the_linear_example_has_linears_thirty_columns():
    header = LINEAR_CSV.read_text().splitlines()[0]
    assert header == (
        "ID,Team,Title,Description,Status,Estimate,Priority,Project ID,Project,Creator,Assignee,Labels,"
        "Cycle Number,Cycle Name,Cycle Start,Cycle End,Created,Updated,Started,Triaged,Completed,Canceled,"
        "Archived,Due Date,Parent issue,Initiatives,Project Milestone ID,Project Milestone,SLA Status,Roadmaps"
    )


def test_the_aha_example_repeats_epic_name():
    header = AHA_CSV.read_text().splitlines()[0].split(",")
    assert header[:2] == ["Feature reference #", "Feature name"] and header.count("Epic name") == 2


def test_wont_do_rows_are_skipped(book):
    keys = [i.key for i in read_mapped(str(JIRA_CSV), str(JIRA_MAPPING), book)]
    assert "BILL-161" in JIRA_CSV.read_text() and "BILL-161" not in keys


def test_a_quoted_multi_line_description_is_one_cell(book):
    items = {i.key: i for i in read_mapped(str(JIRA_CSV), str(JIRA_MAPPING), book)}
    assert items["BILL-152"].description == (
        "Replace stored card numbers with network tokens.\n\n"
        'Customers on the legacy vault API must switch to the "tokens" endpoint before 30 June 2027; '
        "the old endpoint is then switched off."
    )
    assert items["BILL-133"].description.endswith("\nNot scheduled yet: waiting on the data-science estimate.")


def test_the_example_mappings_load(book):
    jira = load_mapping(str(JIRA_MAPPING), book)
    assert isinstance(jira, ExportMapping)
    assert (jira.key, jira.quarter.column, jira.quarter.from_) == ("Issue key", "Fix Version/s", "version")
    assert jira.signals["new_market"].form == "contains"
    assert jira.signals["customer_reach"].form == "column"
    assert jira.skip.values == ["Won't Do", "Duplicate"]
    pb = load_mapping(str(PB_MAPPING), book)
    assert (pb.quarter.column, pb.quarter.from_) == ("Timeframe", "date")
    assert set(jira.signals) == set(pb.signals) == set(SIGNALS)


# ---- the mapping forms ----------------------------------------------------------------------

SMALL_CSV = """\
ID,Name,Stage,Labels,Labels,Version,Links
A-1,First,Beta,new-market,,Q2 2027,https://a.example/1 https://a.example/2
A-2,Second,,,,2027 Q3; Q1-2027,
"""
SMALL_MAPPING = """\
key: ID
title: Name
links: Links
quarter: Version
signals:
  revenue_motion: {value: expansion}
  differentiation: {value: better}
  customer_reach: {value: 30}
  audience: {value: buyer}
  stage: {column: Stage, values: {beta: beta, ga: ga}, default: beta}
  new_market: {column: Labels, contains: NEW-MARKET}
"""


def small(book, tmp_path, csv_text=SMALL_CSV, mapping_text=SMALL_MAPPING):
    (tmp_path / "small.csv").write_text(csv_text)
    (tmp_path / "small.yaml").write_text(mapping_text)
    return read_mapped(str(tmp_path / "small.csv"), str(tmp_path / "small.yaml"), book)


def test_constants_values_default_contains_links_and_plain_quarter_column(book, tmp_path):
    first, second = small(book, tmp_path)
    assert first.signal_values() == {**second.signal_values(), "new_market": True}
    assert second.signal_values() == {
        "new_market": False, "positioning": "none", "revenue_motion": "expansion", "differentiation": "better",
        "customer_reach": 30, "demand_votes": 0, "user_action_required": False, "pricing_change": False,
        "audience": "buyer", "stage": "beta", "exec_priority": False,
    }  # "Beta" matched ignoring case; the empty stage took the mapping's default, beta
    assert first.links == ["https://a.example/1", "https://a.example/2"]
    assert second.links == []
    # a plain quarter column is read as a version; one cell holding two versions: the first named
    assert (first.quarter, second.quarter) == ("2027-Q2", "2027-Q3")


def test_several_fix_versions_give_the_earliest_quarter(book, tmp_path):
    csv_text = jira_csv("Billing 2027.Q2,Billing 2027.Q3", "Billing 2027.Q3,Release 2027-Q2")
    (tmp_path / "jira.csv").write_text(csv_text)
    items = {i.key: i for i in read_mapped(str(tmp_path / "jira.csv"), str(JIRA_MAPPING), book)}
    assert items["BILL-140"].quarter == "2027-Q2"


def test_a_cell_naming_an_enum_value_is_that_value(book, tmp_path):
    mapping = SMALL_MAPPING.replace("  stage: {column: Stage, values: {beta: beta, ga: ga}, default: beta}\n",
                                    "  stage: Stage\n  audience: Audience\n").replace("  audience: {value: buyer}\n", "")
    csv_text = "ID,Name,Stage,Labels,Labels,Version,Links,Audience\nA-1,First,GA,,,,,End user\nA-2,Second,,,,,,BUYER\n"
    first, second = small(book, tmp_path, csv_text, mapping)
    assert (first.signal_values()["stage"], first.signal_values()["audience"]) == ("ga", "end_user")
    assert (second.signal_values()["stage"], second.signal_values()["audience"]) == ("ga", "buyer")


# ---- quarters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, quarter", [
    ("2027-Q1", "2027-Q1"),
    ("2027 Q2", "2027-Q2"),
    ("2027Q3", "2027-Q3"),
    ("Q4 2027", "2027-Q4"),
    ("Q1-2027", "2027-Q1"),
    ("q2/2028", "2028-Q2"),
    ("Release 2027.Q1", "2027-Q1"),
    ("Billing 2027.Q3 (hotfix)", "2027-Q3"),
    ("Payments Q3 2027 train", "2027-Q3"),
    ("v3.2.0", None),
    ("Backlog", None),
    ("FY2027", None),      # a fiscal year, no quarter
    ("2027-Q5", None),
    ("Q1 20271", None),
])
def test_quarter_from_version(text, quarter):
    assert quarter_from_version(text) == quarter


@pytest.mark.parametrize("text, quarter", [
    ("2027-02-15", "2027-Q1"),
    ("2027-04-01", "2027-Q2"),
    ("2027-09-30T23:59:00Z", "2027-Q3"),
    ("2027/12/01", "2027-Q4"),
    ("15/02/2027", "2027-Q1"),        # 15 is no month: day first
    ("02/15/2027", "2027-Q1"),        # month first
    ("13.07.2027", "2027-Q3"),
    ("07/07/27", "2027-Q3"),          # the same day either way
    ("15/Feb/27 9:30 AM", "2027-Q1"),  # Jira's own format
    ("25/Feb/26 10:17 PM", "2026-Q1"),  # Jira Cloud's too
    ("3 Oct 2027", "2027-Q4"),
    ("2027-01-01 - 2027-03-31", "2027-Q1"),   # a Productboard timeframe: its start
    ("2027-03-15 – 2027-05-31", "2027-Q1"),   # an en dash; spans quarters: the start counts
    ("2027-04-01 to 2027-06-30", "2027-Q2"),
    ("3/30/2027 - 4/2/2027", "2027-Q1"),       # the start's order shows: month first
    ("4/2/2027 - 6/30/2027", "2027-Q2"),       # the end's order shows: month first
    ("13/14/2027", None),   # neither is a month
    ("3/0/2027", None),
    ("2027-02-30", None),
    ("2027-Q1", None),
    ("soon", None),
])
def test_quarter_from_date(text, quarter):
    assert quarter_from_date(text) == quarter


# ---- bad mappings -------------------------------------------------------------------------------

COLUMNS = (
    "Summary, Issue key, Issue id, Issue Type, Status, Priority, Assignee, Reporter, Created, Fix Version/s, "
    "Labels, Component/s, Description, Custom field (Revenue motion), Custom field (Competitive position), "
    "Custom field (Positioning), Custom field (Customer reach %), Custom field (Customer votes), "
    "Custom field (Audience), Custom field (PMM)"
)


def test_a_column_the_export_lacks_lists_the_columns(problems, tmp_path):
    text = jira_mapping("quarter: {column: Fix Version/s,", "quarter: {column: Fix Versions,")
    [p] = problems(mapping_text=text)
    assert p == Problem(
        f"no column 'Fix Versions' in {tmp_path / 'jira.csv'}; did you mean 'Fix Version/s'? (columns: {COLUMNS})",
        file=str(tmp_path / "jira-mapping.yaml"), line=mapping_line(text, "Fix Versions"), field="quarter.column",
    )


def test_missing_columns_of_every_kind_are_reported_together(problems):
    text = jira_mapping("pm: Assignee", "pm: Asignee")
    text = text.replace("customer_reach: Custom field (Customer reach %)", "customer_reach: Reach")
    text = text.replace("{column: Status, values: [\"Won't Do\"", "{column: State, values: [\"Won't Do\"")
    found = problems(mapping_text=text)
    assert [p.field for p in found] == ["pm", "skip.column", "signals.customer_reach"]  # in the file's order
    assert [p.message.split(" in ")[0] for p in found] == ["no column 'Asignee'", "no column 'State'", "no column 'Reach'"]
    assert "did you mean 'Assignee'?" in found[0].message
    assert [p.line for p in found] == sorted(p.line for p in found)


def test_unknown_signal_suggests_the_closest(problems, tmp_path):
    text = jira_mapping("  audience:\n", "  audiance:\n")
    found = problems(mapping_text=text)
    mapping = str(tmp_path / "jira-mapping.yaml")
    assert found == [
        Problem("signal 'audience' has no default, so the mapping must say where it comes from "
                "(a column, or a constant {value: ...}); it is one of admin, end_user, buyer",
                file=mapping, line=mapping_line(text, "signals:"), field="signals"),
        Problem(f"unknown signal 'audiance'; did you mean 'audience'? (signals: {SIGNAL_LIST})",
                file=mapping, line=mapping_line(text, "audiance"), field="signals.audiance"),
    ]


def test_a_values_target_that_is_not_a_value_of_the_enum(problems, tmp_path):
    text = jira_mapping("In Beta: beta", "In Beta: betta")
    [p] = problems(mapping_text=text)
    assert p == Problem("'betta' is not a value of signal stage (expected one of beta, ga); did you mean 'beta'?",
                        file=str(tmp_path / "jira-mapping.yaml"), line=mapping_line(text, "In Beta: betta"),
                        field="signals.stage.values.In Beta")


def test_targets_defaults_and_constants_are_checked_against_the_signal(problems):
    text = jira_mapping("    default: none                                  # an empty cell: no change\n",
                        "    default: 2\n")
    text = text.replace("demand_votes: Custom field (Customer votes)", "demand_votes: {value: -3}")
    text = text.replace("exec_priority: {column: Labels, contains: exec-priority}", "exec_priority: {value: maybe}")
    assert [(p.field, p.message) for p in problems(mapping_text=text)] == [
        ("signals.positioning.default", "2 is not a value of signal positioning (expected one of none, strengthens, changes)"),
        ("signals.demand_votes.value", "-3 is not allowed for signal demand_votes; expected a whole number from 0 to 1000000"),
        ("signals.exec_priority.value", "'maybe' is not allowed for signal exec_priority; expected true or false"),
    ]


def test_contains_on_an_enum_signal(problems):
    text = jira_mapping("new_market: {column: Labels, contains: new-market}",
                        "new_market: {column: Labels, contains: new-market}\n  positioning: {column: Labels, contains: repositioning}")
    text = text.replace("  positioning:\n    column: Custom field (Positioning)\n"
                        "    values: {Changes positioning: changes, Strengthens positioning: strengthens, No change: none}\n"
                        "    default: none                                  # an empty cell: no change\n", "")
    [p] = problems(mapping_text=text)
    assert (p.field, p.message) == (
        "signals.positioning.contains",
        "'contains' answers yes or no, but positioning is one of none, strengthens, changes; "
        "map the column's texts with 'values' instead",
    )


@pytest.mark.parametrize("old, new, field, message", [
    ("quarter: {column: Fix Version/s, from: version}", "quarter: {column: Fix Version/s, form: version}",
     "quarter.form", "unknown field 'form'; did you mean 'from'? (allowed: column, from, prefix)"),
    ("title: Summary", "titel: Summary",
     "titel", "unknown field 'titel'; did you mean 'title'? (allowed: key, title, description, pm, pmm, quarter, "
     "date_order, fiscal_year_start, fiscal_year_named_by, links, signals, skip)"),
    ("    values: {Admins: admin,", "    vaules: {Admins: admin,",
     "signals.audience.vaules", "unknown field 'vaules'; did you mean 'values'? "
     "(allowed: column, values, default, contains, prefix, labels, value)"),
    ("skip: {column: Status, values:", "skip: {column: Status, value:",
     "skip.value", "unknown field 'value'; did you mean 'values'? (allowed: column, values)"),
])
def test_an_unknown_field_in_the_mapping_file(problems, tmp_path, old, new, field, message):
    text = jira_mapping(old, new)
    found = problems(mapping_text=text)
    mine = [p for p in found if p.field == field]
    assert mine == [Problem(message, file=str(tmp_path / "jira-mapping.yaml"), line=mapping_line(text, new.strip()[:12]), field=field)]


def test_an_unquoted_yes_as_a_cell_text(problems):
    text = jira_mapping("values: {Admins: admin, End users: end_user, Buyers: buyer}",
                        "values: {Admins: admin, End users: end_user, Buyers: buyer, Yes: buyer}")
    [p] = problems(mapping_text=text)
    assert (p.field, p.message) == (
        "signals.audience.values",
        "a cell text is read by YAML as true/false (an unquoted Yes, No, On, Off, True or False), "
        "so the text the export writes is lost; quote it, e.g. 'Yes': ...",
    )


@pytest.mark.parametrize("spec, message", [
    ("{values: {a: admin}}", "missing 'column'; a signal comes from a column, or is a constant {value: ...}"),
    ("{column: Labels, contains: x, default: true}", "'contains' answers yes or no by itself; it takes no values or default"),
    ("{value: admin, column: Labels}", "a constant {value: ...} takes nothing else (remove column)"),
    ("{column: Labels, values: {Admin: admin, ' admin': admin}}", "cell texts 'Admin' and ' admin' are the same (cells match ignoring case)"),
    ("5", "a signal comes from a column name, {column: ..., values: {...}}, {column: ..., contains: ...}, "
          "{column: ..., prefix: ...}, {column: ..., labels: {...}} or {value: ...} (got 5)"),
])
def test_a_signal_spec_in_no_known_form(problems, spec, message):
    text = jira_mapping("  audience:\n    column: Custom field (Audience)\n    values: {Admins: admin, End users: end_user, Buyers: buyer}\n",
                        f"  audience: {spec}\n")
    [p] = problems(mapping_text=text)
    assert (p.field, p.message) == ("signals.audience", message)


def test_a_required_signal_left_out(problems):
    text = jira_mapping("  customer_reach: Custom field (Customer reach %)  # a number cell is the value\n", "")
    [p] = problems(mapping_text=text)
    assert (p.field, p.message) == (
        "signals",
        "signal 'customer_reach' has no default, so the mapping must say where it comes from "
        "(a column, or a constant {value: ...}); it is a whole number from 0 to 100",
    )


def test_a_mapping_that_cannot_be_read(problems, tmp_path):
    [p] = problems(mapping_text="- key: Issue key\n")
    assert p == Problem("a mapping file is a mapping with key, title, quarter and signals", file=str(tmp_path / "jira-mapping.yaml"))
    [p] = problems(mapping_text="key: [Issue key\n")
    assert p.message.startswith("invalid YAML") and p.line == 2


# ---- bad rows ------------------------------------------------------------------------------------


def test_a_cell_not_in_values_lists_the_allowed_cells(problems, tmp_path):
    csv_text = jira_csv("BILL-114,10114,Epic,In Beta", "BILL-114,10114,Epic,Blocked")
    [p] = problems(csv_text=csv_text)
    assert p == Problem(
        "signal stage: 'Blocked' is not a cell text the mapping knows (allowed: 'To Do', 'In Progress', "
        f"'In Review', 'In Beta', 'Done', or an empty cell); add it to signals.stage.values of {tmp_path / 'jira-mapping.yaml'}",
        file=str(tmp_path / "jira.csv"), line=3, item="BILL-114", field="Status",
    )


def test_a_cell_close_to_a_known_text_suggests_it(problems, tmp_path):
    [p] = problems(csv_text=jira_csv("120.0,End users,Jonas Berg", "120.0,End-users,Jonas Berg"))
    assert (p.line, p.item, p.field) == (4, "BILL-120", "Custom field (Audience)")
    assert p.message == (
        "signal audience: 'End-users' is not a cell text the mapping knows (allowed: 'Admins', 'End users', 'Buyers'); "
        f"did you mean 'End users'? Or add it to signals.audience.values of {tmp_path / 'jira-mapping.yaml'}"
    )


def test_an_empty_cell_of_a_required_signal_asks_the_question(problems, tmp_path):
    [p] = problems(csv_text=jira_csv(",Expansion,Better,Strengthens positioning,60,", ",,Better,Strengthens positioning,60,"))
    assert p == Problem("signal revenue_motion: missing; answer \"Which revenue does it drive?\" "
                        "(one of none, retention, deal_acceleration, expansion, new_logo)",
                        file=str(tmp_path / "jira.csv"), line=2, item="BILL-101", field="Custom field (Revenue motion)")


@pytest.mark.parametrize("cell, message", [
    ("sixty", "signal customer_reach: 'sixty' is not a whole number; expected a whole number from 0 to 100"),
    ("60.5", "signal customer_reach: '60.5' is not a whole number; expected a whole number from 0 to 100"),
    ("160", "signal customer_reach: 160 is not allowed; expected a whole number from 0 to 100"),
])
def test_a_bad_number_in_an_int_column(problems, tmp_path, cell, message):
    [p] = problems(csv_text=jira_csv("Strengthens positioning,60,34.0", f"Strengthens positioning,{cell},34.0"))
    assert p == Problem(message, file=str(tmp_path / "jira.csv"), line=2, item="BILL-101", field="Custom field (Customer reach %)")


def test_a_bad_word_in_a_bool_column(problems, book, tmp_path):
    text = SMALL_MAPPING.replace("  new_market: {column: Labels, contains: NEW-MARKET}\n", "  new_market: Stage\n")
    (tmp_path / "small.csv").write_text("ID,Name,Stage,Labels,Labels,Version,Links\nA-1,First,maybe,,,,\n")
    (tmp_path / "small.yaml").write_text(text.replace("  stage: {column: Stage, values: {beta: beta, ga: ga}, default: beta}\n", ""))
    with pytest.raises(ItemError) as info:
        read_mapped(str(tmp_path / "small.csv"), str(tmp_path / "small.yaml"), book)
    [p] = info.value.problems
    assert (p.line, p.item, p.field, p.message) == (
        2, "A-1", "Stage", "signal new_market: 'maybe' is not allowed; expected true/false, yes/no, y/n or 1/0")


def test_a_ragged_row(problems, tmp_path):
    csv_text = jira_csv("High,Priya Natarajan,Ana Lopes,19/Nov/26", "High,Ana Lopes,19/Nov/26")
    [p] = problems(csv_text=csv_text)
    assert p == Problem("row has 23 cells but the header has 24 columns", file=str(tmp_path / "jira.csv"), line=12, item="BILL-158")


@pytest.mark.parametrize("old, new, message", [
    ("Billing 2027.Q2,,compliance", "FY27 Q2,,compliance",
     "'FY27 Q2' is a fiscal quarter (Q2 of FY2027), and its calendar quarter depends on the month the fiscal year "
     "starts in; set fiscal_year_start: 1-12 in {mapping} (FY2027 is the fiscal year that ends in 2027)"),
    ("Billing 2027.Q2,,compliance", "Backlog,,compliance",
     "no quarter in 'Backlog'; expected a version naming one, like 2027-Q1, 2027 Q1, Q1 2027, Q1-2027, "
     "Release 2027.Q1, or a fiscal quarter like FY27 Q1"),
])
def test_a_version_without_a_quarter(problems, tmp_path, old, new, message):
    [p] = problems(csv_text=jira_csv(old, new))
    message = message.format(mapping=tmp_path / "jira-mapping.yaml")
    assert p == Problem(message, file=str(tmp_path / "jira.csv"), line=5, item="BILL-127", field="Fix Version/s")


def test_a_timeframe_that_is_no_date(book, tmp_path):
    text = PB_CSV.read_text().replace("2027-04-01 - 2027-06-30,risk", "Next quarter,risk")
    (tmp_path / "pb.csv").write_text(text)
    with pytest.raises(ItemError) as info:
        read_mapped(str(tmp_path / "pb.csv"), str(PB_MAPPING), book)
    [p] = info.value.problems
    assert p == Problem(
        "no date in 'Next quarter'; expected a date like 2027-02-15, 15/02/2027, 15/Feb/27, "
        "or a timeframe like 2027-01-01 - 2027-03-31",
        file=str(tmp_path / "pb.csv"), line=3, item="PB-204", field="Timeframe",
    )


def test_several_values_in_a_repeated_column_read_as_one(problems, tmp_path):
    text = jira_mapping("pricing_change: {column: Component/s, contains: Pricing}",
                        "pricing_change: {column: Component/s, values: {Pricing: true, Metering: false}}")
    p = problems(mapping_text=text)[0]
    assert (p.line, p.item, p.field, p.message) == (
        2, "BILL-101", "Component/s",
        "signal pricing_change: holds 2 values ('Pricing', 'Metering') in its repeated columns; expected one",
    )


def test_duplicate_and_missing_keys(problems, tmp_path):
    csv_text = jira_csv("BILL-140,10140", "BILL-101,10140")
    csv_text = csv_text.replace("Tooltip copy refresh on billing settings,BILL-165,", "Tooltip copy refresh on billing settings,,")
    found = problems(csv_text=csv_text)
    name = str(tmp_path / "jira.csv")
    assert found == [
        Problem("duplicate key (also on line 2); keys are unique in an export", file=name, line=8, item="BILL-101", field="Issue key"),
        Problem("missing; this field is required", file=name, line=14, field="Issue key"),
    ]


def test_every_problem_of_the_export_is_reported_at_once(problems):
    csv_text = jira_csv("BILL-114,10114,Epic,In Beta", "BILL-114,10114,Epic,Blocked")
    csv_text = csv_text.replace("Strengthens positioning,60,34.0", "Strengthens positioning,sixty,34.0")
    csv_text = csv_text.replace("Billing 2027.Q2,,compliance", "Backlog,,compliance")
    csv_text = csv_text.replace("High,Priya Natarajan,Ana Lopes,19/Nov/26", "High,Ana Lopes,19/Nov/26")
    found = problems(csv_text=csv_text)
    assert [(p.line, p.item, p.field) for p in found] == [
        (2, "BILL-101", "Custom field (Customer reach %)"),
        (3, "BILL-114", "Status"),
        (5, "BILL-127", "Fix Version/s"),
        (12, "BILL-158", None),
    ]


def test_mapping_and_header_problems_come_before_any_row(problems):
    csv_text = jira_csv("BILL-114,10114,Epic,In Beta", "BILL-114,10114,Epic,Blocked")
    text = jira_mapping("pm: Assignee", "pm: Asignee")
    [p] = problems(csv_text=csv_text, mapping_text=text)
    assert p.field == "pm" and p.message.startswith("no column 'Asignee'")


@pytest.mark.parametrize("csv_text, message", [
    ("", "is empty"),
    ("Issue key,Summary\n", "holds no items (a header but no rows)"),
    ("Issue key,Summary\n\n , \n", "holds no items (a header but no rows)"),
])
def test_an_export_without_rows(book, tmp_path, csv_text, message):
    (tmp_path / "e.csv").write_text(csv_text)
    (tmp_path / "m.yaml").write_text("key: Issue key\ntitle: Summary\nsignals: {}\n")
    with pytest.raises(ItemError) as info:
        read_mapped(str(tmp_path / "e.csv"), str(tmp_path / "m.yaml"), book)
    assert message in [p.message for p in info.value.problems]


def test_an_export_that_is_not_there(book, tmp_path):
    with pytest.raises(ItemError) as info:
        read_mapped(str(tmp_path / "nope.csv"), str(JIRA_MAPPING), book)
    assert info.value.problems == [Problem("no such file", file=str(tmp_path / "nope.csv"))]


def test_every_row_skipped(book, tmp_path):
    (tmp_path / "e.csv").write_text(JIRA_CSV.read_text().replace(",In Progress,", ",Won't Do,").replace(",To Do,", ",Won't Do,")
                                    .replace(",In Beta,", ",Won't Do,").replace(",Done,", ",Won't Do,"))
    with pytest.raises(ItemError) as info:
        read_mapped(str(tmp_path / "e.csv"), str(JIRA_MAPPING), book)
    assert info.value.problems == [Problem("holds no items: all 10 rows are skipped by the mapping's skip", file=str(tmp_path / "e.csv"))]


def test_a_windows_export_with_a_byte_order_mark_and_crlf_lines(book, tmp_path):
    text = JIRA_CSV.read_text().replace("Epic,In Beta", "Epic,Blocked")
    (tmp_path / "jira.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    with pytest.raises(ItemError) as info:
        read_mapped(str(tmp_path / "jira.csv"), str(JIRA_MAPPING), book)
    [p] = info.value.problems
    assert (p.line, p.item, p.field) == (3, "BILL-114", "Status")  # a BOM left in would hide "Summary"
    (tmp_path / "jira.csv").write_bytes(b"\xef\xbb\xbf" + JIRA_CSV.read_text().replace("\n", "\r\n").encode("utf-8"))
    items = read_mapped(str(tmp_path / "jira.csv"), str(JIRA_MAPPING), book)
    assert items[6].description.startswith("Replace stored card numbers with network tokens.\r\n\r\n")


# ---- date order ------------------------------------------------------------------------------

DATED_MAPPING = """\
key: ID
title: Name
quarter: {column: Due, from: date}
signals:
  revenue_motion: {value: expansion}
  differentiation: {value: better}
  customer_reach: {value: 30}
  audience: {value: buyer}
"""


def exported(tmp_path, csv_text: str, mapping_text: str, name: str = "e") -> tuple[str, str]:
    (tmp_path / f"{name}.csv").write_text(csv_text, encoding="utf-8")
    (tmp_path / f"{name}.yaml").write_text(mapping_text, encoding="utf-8")
    return str(tmp_path / f"{name}.csv"), str(tmp_path / f"{name}.yaml")


def refused(book, csv_path: str, mapping_path: str) -> list[Problem]:
    with pytest.raises(ItemError) as info:
        read_mapped(csv_path, mapping_path, book)
    return info.value.problems


def test_an_ambiguous_slashed_date_is_refused_until_the_mapping_says_the_order(book, tmp_path):
    csv_path, mapping_path = exported(tmp_path, "ID,Name,Due\nA-1,One,3/4/2027\nA-2,Two,28/2/2027\nA-3,Three,7/28/2027\n",
                                      DATED_MAPPING)
    assert refused(book, csv_path, mapping_path) == [Problem(
        f"'3/4/2027' could be 3 April 2027 (day-first) or March 4 2027 (month-first); "
        f"set date_order: day-first or month-first in {mapping_path}",
        file=csv_path, line=2, item="A-1", field="Due",
    )]  # say their order themselves: read


@pytest.mark.parametrize("order, quarter", [("month-first", "2027-Q1"), ("day-first", "2027-Q2")])
def test_date_order_reads_the_ambiguous_dates(book, tmp_path, order, quarter):
    csv_path, mapping_path = exported(tmp_path, "ID,Name,Due\nA-1,One,3/4/2027\nA-2,Two,2027-08-01\n",
                                      DATED_MAPPING + f"date_order: {order}\n")
    assert [i.quarter for i in read_mapped(csv_path, mapping_path, book)] == [quarter, "2027-Q3"]


def test_a_date_against_the_mappings_date_order(book, tmp_path):
    csv_path, mapping_path = exported(tmp_path, "ID,Name,Due\nA-1,One,28/2/2027\n", DATED_MAPPING + "date_order: month-first\n")
    assert refused(book, csv_path, mapping_path) == [Problem(
        f"'28/2/2027' is not a month-first date (there is no month 28), as date_order says in {mapping_path}",
        file=csv_path, line=2, item="A-1", field="Due",
    )]


def test_quarter_from_date_refuses_an_ambiguous_date_without_an_order():
    with pytest.raises(ValueError) as info:
        quarter_from_date("01.07.2027")
    assert str(info.value) == ("'01.07.2027' could be 1 July 2027 (day-first) or January 7 2027 (month-first); "
                               "set date_order: day-first or month-first in the mapping file")
    assert quarter_from_date("01.07.2027", "day-first") == "2027-Q3"
    assert quarter_from_date("01.07.2027", "month-first") == "2027-Q1"


@pytest.mark.parametrize("line, field, message", [
    ("date_order: us\n", "date_order", "'us' is not allowed; expected one of day-first, month-first"),
    ("fiscal_year_start: 13\n", "fiscal_year_start",
     "expected the month the fiscal year starts in, 1 (January) to 12 (December), "
     "e.g. 7 when FY2027 runs from July 2026 to June 2027 (got 13)"),
    ("fiscal_year_start: July\n", "fiscal_year_start",
     "expected the month the fiscal year starts in, 1 (January) to 12 (December), "
     "e.g. 7 when FY2027 runs from July 2026 to June 2027 (got 'July')"),
])
def test_a_bad_date_order_or_fiscal_year_start(book, tmp_path, line, field, message):
    csv_path, mapping_path = exported(tmp_path, "ID,Name,Due\nA-1,One,2027-01-05\n", DATED_MAPPING + line)
    assert refused(book, csv_path, mapping_path) == [Problem(message, file=mapping_path, line=9, field=field)]


# ---- fiscal quarters -------------------------------------------------------------------------


@pytest.mark.parametrize("text, start, quarter", [
    ("FY27 Q1", 1, "2027-Q1"),            # a fiscal year starting in January is the calendar year
    ("FY27 Q1", 7, "2026-Q3"),            # FY2027 runs July 2026 - June 2027
    ("Q3 FY2027", 7, "2027-Q1"),
    ("FY2027-Q4", 10, "2027-Q3"),         # October 2026 - September 2027
    ("whl-fy27q1", 2, "2026-Q1"),         # February - April 2026: where it starts
    ("Payments FY28 Q2", 2, "2027-Q2"),   # May - July 2027
    ("FY28 Q4", 2, "2027-Q4"),            # November 2027 - January 2028
    ("Release 2027.Q1", 7, "2027-Q1"),    # a calendar quarter stays one
])
def test_a_fiscal_quarter_is_the_calendar_quarter_it_starts_in(text, start, quarter):
    assert quarter_from_version(text, start) == quarter


@pytest.mark.parametrize("text, start, quarter", [
    ("FY27 Q1", 1, "2027-Q1"),            # starting in January, both namings are the calendar year
    ("FY27 Q1", 7, "2027-Q3"),            # FY2027 runs July 2027 - June 2028
    ("Q3 FY2027", 7, "2028-Q1"),
    ("FY2027-Q4", 4, "2028-Q1"),          # April 2027 - March 2028 (as in Japan or India)
    ("FY28 Q4", 2, "2028-Q4"),            # November 2028 - January 2029
])
def test_a_fiscal_year_named_by_the_year_it_starts_in(text, start, quarter):
    assert quarter_from_version(text, start, named_by="start") == quarter


def test_a_mapping_names_its_fiscal_years_by_their_start(book, tmp_path):
    mapping = DATED_MAPPING.replace("{column: Due, from: date}", "{column: Release, from: version}")
    csv_text = "ID,Name,Release\nA-1,One,FY27 Q1\nA-2,Two,FY27 Q4\n"
    quarters = {}
    for named_by in ("end", "start"):
        csv_path, mapping_path = exported(tmp_path, csv_text, mapping + f"fiscal_year_start: 4\nfiscal_year_named_by: {named_by}\n",
                                          name=named_by)
        quarters[named_by] = [i.quarter for i in read_mapped(csv_path, mapping_path, book)]
    assert quarters == {"end": ["2026-Q2", "2027-Q1"], "start": ["2027-Q2", "2028-Q1"]}
    csv_path, mapping_path = exported(tmp_path, csv_text, mapping + "fiscal_year_start: 4\nfiscal_year_named_by: begin\n")
    assert refused(book, csv_path, mapping_path) == [Problem(
        "'begin' is not allowed; expected one of end, start", file=mapping_path, line=10, field="fiscal_year_named_by")]


def test_a_fiscal_quarter_without_fiscal_year_start_is_refused():
    with pytest.raises(ValueError) as info:
        quarter_from_version("Q1 FY2027")
    assert str(info.value) == (
        "'Q1 FY2027' is a fiscal quarter (Q1 of FY2027), and its calendar quarter depends on the month the fiscal year "
        "starts in; set fiscal_year_start: 1-12 in the mapping file (FY2027 is the fiscal year that ends in 2027)")


def test_an_export_of_fiscal_quarters_without_fiscal_year_start(runner, tmp_path):
    mapping = tmp_path / "linear-mapping.yaml"
    mapping.write_text(LINEAR_MAPPING.read_text().replace("fiscal_year_start: 7\n", ""), encoding="utf-8")
    result = runner("classify", LINEAR_CSV, "--mapping", mapping)
    assert (result.exit_code, result.stdout) == (2, "")
    advice = (f"and its calendar quarter depends on the month the fiscal year starts in; set fiscal_year_start: 1-12 "
              f"in {mapping}")
    assert result.stderr == (
        f"error: {LINEAR_CSV}:2: item WHL-41: Labels: 'whl-fy27q3' is a fiscal quarter (Q3 of FY2027), {advice} "
        "(FY2027 is the fiscal year that ends in 2027)\n"
        f"error: {LINEAR_CSV}:3: item WHL-44: Labels: 'whl-fy27q4' is a fiscal quarter (Q4 of FY2027), {advice} "
        "(FY2027 is the fiscal year that ends in 2027)\n"
        f"error: {LINEAR_CSV}:4: item WHL-47: Labels: 'whl-fy27q3' is a fiscal quarter (Q3 of FY2027), {advice} "
        "(FY2027 is the fiscal year that ends in 2027)\n"
        f"error: {LINEAR_CSV}:5: item WHL-52: Labels: 'whl-fy28q1' is a fiscal quarter (Q1 of FY2028), {advice} "
        "(FY2028 is the fiscal year that ends in 2028)\n"
        "4 problems; nothing was done.\n")


def test_a_quarter_label_that_names_no_quarter(book, tmp_path):
    csv_path, mapping_path = exported(tmp_path, LINEAR_CSV.read_text().replace("whl-fy28q1,", "whl-fyi,"),
                                      LINEAR_MAPPING.read_text())
    assert refused(book, csv_path, mapping_path) == [Problem(
        "no quarter in 'whl-fyi'; expected a version naming one, like 2027-Q1, 2027 Q1, Q1 2027, Q1-2027, "
        "Release 2027.Q1, or a fiscal quarter like FY27 Q1",
        file=csv_path, line=5, item="WHL-52", field="Labels",
    )]


def test_two_quarter_labels_give_the_earlier(book, tmp_path):
    csv_path, mapping_path = exported(tmp_path, LINEAR_CSV.read_text().replace("whl-fy28q1,", "whl-fy28q1, whl-fy27q4,"),
                                      LINEAR_MAPPING.read_text())
    items = {i.key: i for i in read_mapped(csv_path, mapping_path, book)}
    assert items["WHL-52"].quarter == "2027-Q2"


# ---- a choice among labels -------------------------------------------------------------------


def test_two_labels_with_the_prefix_are_an_error_naming_both(book, tmp_path):
    csv_path, mapping_path = exported(tmp_path, LINEAR_CSV.read_text().replace("audience:buyer, pricing",
                                                                               "audience:buyer, audience:admin, pricing"),
                                      LINEAR_MAPPING.read_text())
    assert refused(book, csv_path, mapping_path) == [Problem(
        f"signal audience: 2 labels start with 'audience:' (signals.audience.prefix in {mapping_path}): "
        "'audience:buyer', 'audience:admin'; expected one",
        file=csv_path, line=2, item="WHL-41", field="Labels",
    )]


def test_two_labels_of_the_labels_table_are_an_error_naming_both(book, tmp_path):
    csv_path, mapping_path = exported(tmp_path, LINEAR_CSV.read_text().replace("revenue:retention, parity,",
                                                                               "revenue:retention, parity, better,"),
                                      LINEAR_MAPPING.read_text())
    assert refused(book, csv_path, mapping_path) == [Problem(
        f"signal differentiation: 2 labels are in signals.differentiation.labels of {mapping_path}: "
        "'parity', 'better'; expected one",
        file=csv_path, line=4, item="WHL-47", field="Labels",
    )]


def test_two_labels_giving_the_same_value_are_one_answer(book, tmp_path):
    # beta and early-access both give beta; a label repeated in two columns is one label
    csv_path, mapping_path = exported(tmp_path, CLOUD_CSV.read_text(encoding="utf-8-sig").replace(
        "Risk,,audience:admin,,", "Risk,,audience:admin,beta,early-access").replace(
        "Admin console,,audience:admin,compliance,", "Admin console,,audience:admin,audience:admin,"),
        CLOUD_MAPPING.read_text())
    items = {i.key: i for i in read_mapped(csv_path, mapping_path, book)}
    assert items["CHK-231"].signal_values()["stage"] == "beta"
    assert items["CHK-223"].signal_values()["audience"] == "admin"


def test_a_prefix_with_a_values_table(book, tmp_path):
    text = LINEAR_MAPPING.read_text().replace(
        'audience: {column: Labels, prefix: "audience:"}',
        'audience: {column: Labels, prefix: "audience:", values: {buyer: buyer, admin: admin, end-user: end_user}}')
    csv_path, mapping_path = exported(tmp_path, LINEAR_CSV.read_text().replace("audience:admin\"", "audience:admins\"", 1), text)
    assert refused(book, csv_path, mapping_path) == [Problem(
        "signal audience: 'admins' is not a cell text the mapping knows (allowed: 'buyer', 'admin', 'end-user'); "
        f"did you mean 'admin'? Or add it to signals.audience.values of {mapping_path}",
        file=csv_path, line=5, item="WHL-52", field="Labels",
    )]


def test_a_label_that_is_only_the_prefix_and_a_required_signal_without_its_label(book, tmp_path):
    csv_text = LINEAR_CSV.read_text().replace("audience:end-user", "audience:").replace(", audience:admin\"", "\"", 1)
    csv_path, mapping_path = exported(tmp_path, csv_text, LINEAR_MAPPING.read_text())
    assert refused(book, csv_path, mapping_path) == [
        Problem("signal audience: label 'audience:' has nothing after the prefix 'audience:'",
                file=csv_path, line=4, item="WHL-47", field="Labels"),
        Problem('signal audience: missing; answer "Who notices it first?" (one of admin, end_user, buyer)',
                file=csv_path, line=5, item="WHL-52", field="Labels"),
    ]


@pytest.mark.parametrize("spec, field, message", [
    ("{column: Labels, prefix: 'audience:', contains: buyer}", "signals.audience",
     "'contains' and 'prefix' are two ways to read a list of labels; use one"),
    ("{column: Labels, labels: {buyers: buyer}, values: {buyers: buyer}}", "signals.audience",
     "'labels' maps each label to its value by itself; it takes no values (put them in labels)"),
    ("{column: Labels, labels: {buyers: buyer, Buyers: admin}}", "signals.audience",
     "labels 'buyers' and 'Buyers' are the same (cells match ignoring case)"),
    ("{column: Labels, labels: {buyers: buyers}}", "signals.audience.labels.buyers",
     "'buyers' is not a value of signal audience (expected one of admin, end_user, buyer); did you mean 'buyer'?"),
])
def test_a_label_form_written_wrong(book, tmp_path, spec, field, message):
    text = LINEAR_MAPPING.read_text().replace('audience: {column: Labels, prefix: "audience:"}', f"audience: {spec}")
    csv_path, mapping_path = exported(tmp_path, LINEAR_CSV.read_text(), text)
    line = mapping_line(text, "  audience: ")
    assert refused(book, csv_path, mapping_path) == [Problem(message, file=mapping_path, line=line, field=field)]

"""``rules calibrate``: the rulebook against real launches whose tier the company published."""

from __future__ import annotations

import json

import yaml

from conftest import ROOT

SIGNALS = dict(new_market=True, positioning="changes", revenue_motion="new_logo", differentiation="parity",
               customer_reach=20, demand_votes=0, user_action_required=False, pricing_change=True, audience="buyer",
               stage="ga", exec_priority=True)


def launch(key: str, tier: str, **signals) -> dict:
    return {"key": key, "title": f"Launch {key}", "company": "Acme", "kind": "B2B SaaS", "date": "2026-05",
            "source": "https://example.com/launches", "facts": "What the page says.", "published": "Tier X", "evidence": "published",
            "mapping": "Tier X is the mapped tier.", "tier": tier,
            "signals": {n: {"value": v, "why": "from the facts"} for n, v in {**SIGNALS, **signals}.items()}}


def write(tmp_path, launches: list[dict], name: str = "set.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"launches": launches}, sort_keys=False))
    return path


def test_every_problem_of_a_set_is_reported_at_once(runner, tmp_path):
    bad = launch("A-1", "Tier-1", stage="GA")
    del bad["signals"]["audience"]
    path = write(tmp_path, [bad, launch("A-1", "tier-2")])
    result = runner("rules", "calibrate", path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: {path}:12: item A-1: tier: unknown tier 'Tier-1'; did you mean 'tier-1'? "
        "(tiers of rulebook default: tier-1, tier-2, tier-3, tier-4)",
        f"error: {path}:13: item A-1: signals.audience: missing; answer \"Who notices it first?\" (one of admin, end_user, buyer)",
        f"error: {path}:13: item A-1: signals.stage: 'GA' is not allowed; expected one of beta, ga; did you mean 'ga'?",
        f"error: {path}:44: item A-1: key: key A-1 is already a launch of {path}",
        "4 problems; nothing was done.",
    ]
    del bad["signals"]["demand_votes"]  # a signal with a default must be answered too: the set says why
    result = runner("rules", "calibrate", write(tmp_path, [bad]))
    assert "item A-1: signals: no answer for demand_votes: a calibration launch answers every signal, each with why" \
        in result.stderr.splitlines()[1]


def test_no_set_is_an_error_that_says_where_one_goes(runner, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules" / "default.yaml").read_text())
    result = runner("rules", "calibrate", "--rules", rules)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "error: no calibration set found; give SET or put *.yaml files in calibration/ beside the rulebook\n")


def test_a_miss_names_what_decided_it_and_the_minimums_fail_the_run(runner, tmp_path):
    path = write(tmp_path, [launch("A-1", "tier-1", new_market=False, exec_priority=False), launch("A-2", "tier-4", new_market=False, positioning="none",
                                                             revenue_motion="none", pricing_change=False,
                                                             exec_priority=False, differentiation="none",
                                                             customer_reach=0)])
    result = runner("rules", "calibrate", path, "--format", "json", "--min-exact", "40")
    data = json.loads(result.stdout)
    assert (result.exit_code, result.stderr) == (0, "")
    assert (data["launches"], data["exact"], data["within_one"], data["exact_percent"], data["within_one_percent"]) == \
        (2, 1, 2, 50.0, 100.0)
    assert data["by_evidence"] == {"published": {"launches": 2, "exact": 1, "within_one": 2}}
    assert [(r["item"], r["expected"], r["got"], r["off_by"], r["deciding"], r["causes"]) for r in data["rows"]] == [
        ("A-1", "tier-1", "tier-2", 1, "launch ≥ 2: has 3",
         ["not tier-1: (market_impact ≥ 3: has 2 (1 short); parity ≤ 1: has 2 (1 over)) or (exec_priority = true: has "
          "false; (parity ≤ 1: has 2 (1 over) or customer_impact ≥ 3: has 1 (2 short)))",
          "  rule differentiation-parity (parity +2)"]),
        ("A-2", "tier-4", "tier-4", 0, "default", [])]
    result = runner("rules", "calibrate", path, "--min-exact", "60", env={"COLUMNS": None})
    assert result.exit_code == 1
    assert result.stderr == "agreement exact 50% is below the minimum of 60%\n"


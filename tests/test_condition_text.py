"""``check_text``: one checked condition on one line, the same in explain, review, HTML and calibrate.

A combined condition reads from the side that decides it; a part joined otherwise than its whole
is put in brackets, and a part joined the same way is not."""

from __future__ import annotations

from launchtier.engine.decide.decision import ConditionCheck, check_text


def leaf(name: str, op: str, expected, actual, holds: bool) -> ConditionCheck:
    return ConditionCheck(name=name, op=op, expected=expected, actual=actual, holds=holds)


def combined(op: str, *parts: ConditionCheck, holds: bool) -> ConditionCheck:
    return ConditionCheck(name=f"<{op}>", op=op, holds=holds, of=list(parts))


MI_SHORT = leaf("market_impact", "gte", 3, 2, False)
LG_OK = leaf("lead_generation", "gte", 2, 3, True)
PAR_OVER = leaf("parity", "lte", 1, 2, False)
GA_OK = leaf("stage", "eq", "ga", "ga", True)
EXEC_NO = leaf("exec_priority", "eq", True, False, False)
EXEC_YES = leaf("exec_priority", "eq", True, True, True)


def test_a_simple_condition_says_what_it_has_and_how_far_it_is():
    assert check_text(MI_SHORT) == "market_impact ≥ 3: has 2 (1 short)"
    assert check_text(PAR_OVER) == "parity ≤ 1: has 2 (1 over)"
    assert check_text(EXEC_NO) == "exec_priority = true: has false"
    assert check_text(leaf("launch", "gt", 2, 2, False)) == "launch > 2: has 2 (1 short)"
    assert check_text(leaf("audience", "in", ["admin", "buyer"], "end_user", False)) == \
        "audience in [admin, buyer]: has end_user"


def test_a_failed_all_shows_its_failed_parts_and_a_held_one_all_of_them():
    assert check_text(combined("all", MI_SHORT, LG_OK, PAR_OVER, GA_OK, holds=False)) == \
        "market_impact ≥ 3: has 2 (1 short); parity ≤ 1: has 2 (1 over)"
    assert check_text(combined("all", LG_OK, GA_OK, holds=True)) == "lead_generation ≥ 2: has 3; stage = ga: has ga"


def test_a_failed_any_shows_every_alternative_and_brackets_those_of_several_parts():
    classic = combined("all", MI_SHORT, LG_OK, PAR_OVER, GA_OK, holds=False)
    campaign = combined("all", EXEC_NO, leaf("market_impact", "gte", 2, 2, True), holds=False)
    assert check_text(combined("any", classic, campaign, holds=False)) == \
        "(market_impact ≥ 3: has 2 (1 short); parity ≤ 1: has 2 (1 over)) or exec_priority = true: has false"


def test_a_held_any_shows_what_held_and_an_all_inside_an_all_is_not_bracketed():
    leads = combined("all", LG_OK, leaf("parity", "lte", 1, 0, True), holds=True)
    either = combined("any", leads, leaf("customer_impact", "gte", 3, 1, False), holds=True)
    route = combined("all", EXEC_YES, either, holds=True)
    assert check_text(combined("any", combined("all", MI_SHORT, GA_OK, holds=False), route, holds=True)) == \
        "exec_priority = true: has true; lead_generation ≥ 2: has 3; parity ≤ 1: has 0"


def test_an_any_inside_a_failed_all_is_bracketed_and_not_reads_as_not():
    either = combined("any", PAR_OVER, leaf("customer_impact", "gte", 3, 0, False), holds=False)
    assert check_text(combined("all", EXEC_NO, either, holds=False)) == \
        "exec_priority = true: has false; (parity ≤ 1: has 2 (1 over) or customer_impact ≥ 3: has 0 (3 short))"
    assert check_text(combined("not", EXEC_YES, holds=False)) == "not (exec_priority = true: has true)"

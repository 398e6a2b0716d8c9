"""``rules suggest``: rule changes the team's overrides argue for.

The search is checked against a reference: every suggestion's effect (the overrides it agrees
with, the other decisions it moves) is recomputed by classifying the items under the edited
rulebook, built and loaded as a rulebook and run by the reference evaluator. Planted edits (a
rulebook perturbed, the items whose tier it changes recorded as overrides) must be found, or
an edit with the same effect. End to end, a ledger built by ``record`` and ``override``.
"""

from __future__ import annotations

import random

import pytest

from conftest import DEFAULT_RULEBOOK, EXAMPLES, document, make_items
from launchtier.engine.decide.classify import Classifier
from launchtier.engine.items.model import ItemReader
from launchtier.engine.rulebook.model import rulebook_from_data
from launchtier.engine.rulecheck.suggest import Recorded, Replay, candidate_edits, search

ROADMAP = EXAMPLES / "roadmap.yaml"


@pytest.fixture(scope="module")
def generated(book):
    reader = ItemReader(book)
    items = [reader.validate(raw) for raw in make_items(400, seed=11)]
    return items, [i.signal_values() for i in items]


def rules_tiers(book, data_edits, items, replay) -> dict[str, str]:
    """Each item's rules tier under the rulebook with ``data_edits``, by the reference evaluator
    on a rulebook loaded from the edited data (not by the search's replay)."""
    data = book.model_dump(mode="json")
    edited = replay.edited(data_edits)
    data["rules"], data["tiers"] = edited["rules"], edited["tiers"]
    rebuilt = rulebook_from_data(data)
    return {d.item: d.tier for d in Classifier(rebuilt, "reference").classify(items)}


def planted_cases(book, signals, count: int, seed: int):
    replay = Replay(book, signals)
    edits = [e for e in candidate_edits(book, replay.data, signals) if e.kind != "new-rule"]
    rng = random.Random(seed)
    chosen = []
    while len(chosen) < count:
        edit = rng.choice(edits)
        if replay.changed([edit]):
            chosen.append(edit)
    return replay, chosen


@pytest.mark.parametrize("seed", range(6))
def test_a_planted_edit_is_found_or_one_with_the_same_effect(book, generated, seed):
    items, signals = generated
    replay, (planted,) = planted_cases(book, signals, 1, seed)
    under_planted = rules_tiers(book, [planted], items, replay)
    base = {i.key: replay.base_tiers[k] for k, i in enumerate(items)}
    overridden = {key: tier for key, tier in under_planted.items() if tier != base[key]}
    assert overridden, planted.words
    recorded = [Recorded(i.key, i.title, s, overridden.get(i.key), "the rules miss it", "PMM") for i, s in zip(items, signals)]
    result = search(book, recorded, max_changes=1)
    best = result.suggestions[0]
    # the planted edit explains every override and moves nothing else: the best does as well
    assert (best.n_explains, best.n_changes, best.n_breaks) == (len(overridden), 0, 0), planted.words
    assert {o.item for o in best.explains} == set(overridden)


@pytest.mark.parametrize("seed", range(3))
def test_every_suggestions_effect_is_what_the_reference_evaluator_gives(book, generated, seed):
    items, signals = generated
    replay, planted = planted_cases(book, signals, 2, 100 + seed)
    under = rules_tiers(book, planted, items, replay)
    base = {i.key: replay.base_tiers[k] for k, i in enumerate(items)}
    # some of the moved items overridden, the rest left: a suggestion may have to change those
    rng = random.Random(seed)
    overridden = {k: t for k, t in under.items() if t != base[k] and rng.random() < 0.7}
    recorded = [Recorded(i.key, i.title, s, overridden.get(i.key), "the rules miss it", "PMM") for i, s in zip(items, signals)]
    result = search(book, recorded, max_changes=2, top=8)
    assert result.suggestions
    for s in result.suggestions:
        tiers = rules_tiers(book, s.edits, items, replay)
        explained = {k for k, t in overridden.items() if tiers[k] == t}
        moved_others = sorted((k, base[k], tiers[k]) for k in tiers if k not in overridden and tiers[k] != base[k])
        assert {o.item for o in s.explains} == explained, [e.words for e in s.edits]
        assert [(m.item, m.before, m.after) for m in s.changes] == moved_others, [e.words for e in s.edits]
        assert s.n_explains == len(explained) and s.n_changes == len(moved_others)


def test_ranked_by_overrides_explained_against_decisions_changed_then_size(book, generated):
    items, signals = generated
    replay, planted = planted_cases(book, signals, 3, 7)
    under = rules_tiers(book, planted[:1], items, replay)
    base = {i.key: replay.base_tiers[k] for k, i in enumerate(items)}
    overridden = {k: t for k, t in under.items() if t != base[k]}
    recorded = [Recorded(i.key, i.title, s, overridden.get(i.key), "r", "PMM") for i, s in zip(items, signals)]
    ranks = [s.rank for s in search(book, recorded, max_changes=2, top=10).suggestions]
    assert ranks == sorted(ranks)


def test_circumstances_leave_overrides_out_and_the_rulebook_can_name_its_own(book, generated):
    items, signals = generated
    replay = Replay(book, signals[:50])
    target = next(t for t in ("tier-1", "tier-2", "tier-3", "tier-4") if t != replay.base_tiers[0])
    reasons = ["no CAPACITY left in Q2", "a budget cut", "staffing"]
    recorded = [Recorded(items[k].key, "t", signals[k], target if k == 0 else None, None, "PMM") for k in range(50)]
    for reason, left_out_by_default in zip(reasons, (True, True, False)):
        rec = [r._replace(reason=reason) if r.committed else r for r in recorded]
        result = search(book, rec)
        assert (len(result.circumstantial), len(result.open_overrides)) == ((1, 0) if left_out_by_default else (0, 1)), reason
    data = book.model_dump(mode="json")
    data["suggest"] = {"circumstances": ["staffing"]}
    own = rulebook_from_data(data)
    assert own.hash != book.hash and rulebook_from_data(book.model_dump(mode="json")).hash == book.hash
    result = search(own, [r._replace(reason="staffing") if r.committed else r for r in recorded])
    assert (len(result.circumstantial), len(result.open_overrides)) == (1, 0)


# ---- through the CLI, on a ledger built by record and override ------------------------------
@pytest.fixture
def ledger(runner):
    assert runner("record", ROADMAP, "--by", "Priya N.").exit_code == 0
    assert runner("override", "PAY-52", "--tier", "tier-1", "--reason", "first to market in Japan: a launch",
                  "--by", "Priya N.", "--approved-by", "Ana", "--approved-by", "Bo").exit_code == 0
    assert runner("override", "PAY-63", "--tier", "tier-3", "--reason", "no capacity this quarter",
                  "--by", "Priya N.", "--approved-by", "Ana").exit_code == 0
    return runner.ledger


def test_rules_suggest_names_the_change_and_its_exact_effect(runner, ledger, golden, monkeypatch):
    monkeypatch.chdir(ledger.parent)  # the ledger named as typed: its folder cannot move a line break
    result = runner("rules", "suggest", "--db", "launchtier.db")
    assert (result.exit_code, result.stderr) == (0, "")
    golden("rules-suggest.txt", result.stdout)
    markdown = runner("rules", "suggest", "--db", "launchtier.db", "--format", "markdown")
    golden("rules-suggest.md", markdown.stdout)
    data = document(runner("rules", "suggest", "--format", "json").stdout)
    assert [o["item"] for o in data["overrides"]] == ["PAY-52"]
    assert [(o["item"], o["reason"]) for o in data["circumstantial"]] == [("PAY-63", "no capacity this quarter")]
    best = data["suggestions"][0]
    assert [e["change"] for e in best["edits"]] == [
        "giving rule `positioning-strengthens` +1 lead generation",
        "widening rule `positioning-changes`: also for positioning strengthens (positioning in [changes, strengthens])"]
    assert [(m["item"], m["from_tier"], m["to_tier"]) for m in best["changes"]] == [
        ("PAY-12", "tier-2", "tier-1"), ("PAY-47", "tier-2", "tier-1")]


def test_rules_suggest_write_gives_a_rulebook_that_lints_tests_and_diffs(runner, ledger, tmp_path):
    proposed = tmp_path / "proposed.yaml"
    result = runner("rules", "suggest", "--write", proposed)
    assert result.exit_code == 0
    cases = tmp_path / "proposed.cases.yaml"
    assert result.stderr == (
        f"wrote suggestion 1 to {proposed} and its 1 case to {cases}; check them with: launchtier rules lint --rules "
        f"{proposed}; launchtier rules test {cases} --rules {proposed}; launchtier rules diff {DEFAULT_RULEBOOK} {proposed}\n")
    original = DEFAULT_RULEBOOK.read_text(encoding="utf-8").splitlines()
    written = proposed.read_text(encoding="utf-8").splitlines()
    # only the edited lines differ: comments and layout are the team's
    assert [(a, b) for a, b in zip(original, written) if a != b] == [
        ('version: "2026.11.2"', 'version: "2026.11.2-suggested"'),
        ("    when: {positioning: changes}", "    when: {positioning: {in: [changes, strengthens]}}"),
        ("    score: {market_impact: 1}", "    score: {market_impact: 1, lead_generation: 1}")]
    assert len(original) == len(written)
    lint = runner("rules", "lint", "--rules", proposed)
    tests = runner("rules", "test", cases, "--rules", proposed)
    assert (lint.exit_code, tests.exit_code) == (0, 0), lint.stdout + tests.stdout
    # the rules now give PAY-52 tier-1; the quarter's capacity still keeps its place for PAY-38
    diff = runner("rules", "diff", DEFAULT_RULEBOOK, proposed, ROADMAP)
    assert (diff.exit_code, diff.stdout.splitlines()[:4]) == (0, [
        f"default 2026.11.2 (sha256:4f1b23966785…) → default 2026.11.2-suggested ({diff.stdout.split('(')[2][:19]}…)",
        "  rule positioning-changes re-pointed: when positioning = changes → when positioning in [changes,",
        "      strengthens]",
        "  rule positioning-strengthens re-weighted: market_impact +1 → market_impact +1, lead_generation +1"])


def test_write_adds_a_new_rule_after_the_last_one(book):
    from launchtier.engine.rulecheck.suggest import _edited_text

    replay = Replay(book, [])
    new_rule = next(e for e in candidate_edits(book, replay.data, [], new_rules=True)
                    if e.kind == "new-rule" and e.after["id"] == "suggested-pricing-change")
    text = _edited_text(DEFAULT_RULEBOOK.read_text(encoding="utf-8"), [new_rule], "x")
    original = DEFAULT_RULEBOOK.read_text(encoding="utf-8").splitlines()
    written = text.splitlines()
    last = max(i for i, line in enumerate(original) if line.startswith("    score: {customer_impact: 1}"))
    assert written[:last + 1] == original[:last + 1][:33] + ['version: "x"'] + original[34:last + 1]
    assert written[last + 1:last + 5] == [
        "  - id: suggested-pricing-change",
        "    because: \"suggested by the team's overrides: pricing_change\"",
        "    when: {pricing_change: true}",
        "    score: {market_impact: 1}"]
    assert written[last + 5:] == original[last + 1:]
    loaded = rulebook_from_data(__import__("yaml").safe_load(text))
    assert [r.id for r in loaded.rules] == [r.id for r in book.rules] + ["suggested-pricing-change"]


@pytest.mark.parametrize("args, code, stderr", [
    (("--write", "{rules}"), 2, "error: {rules}: --write never edits the rulebook in place; give it a new file\n"),
    (("--db", "{missing}"), 2, "error: {missing}: no ledger here yet; record decisions first (launchtier record FILE "
                               "--by NAME), or check the path (--db PATH, else $LAUNCHTIER_DB, else the project config's "
                               "db, else launchtier.db in the current directory)\n"),
    (("--since", "yesterday"), 2, None),
    # a place --write cannot use is refused before the ledger is read (none here)
    (("--write", "{tmp}/no/such/folder/p.yaml", "--db", "{missing}"), 2,
     "error: {tmp}/no/such/folder/p.yaml: the folder {tmp}/no/such/folder does not exist\n"),
])
def test_rules_suggest_refuses(runner, ledger, tmp_path, args, code, stderr):
    values = {"rules": DEFAULT_RULEBOOK, "missing": tmp_path / "none.db", "tmp": tmp_path}
    result = runner("rules", "suggest", *[a.format(**values) for a in args])
    assert result.exit_code == code
    if stderr is not None:
        assert result.stderr == stderr.format(**values)
    else:
        assert result.stderr.endswith("Error: Invalid value for '--since': 'yesterday' is not a date; write it like "
                                      "2027-01-31\n")


def test_write_with_nothing_to_suggest_writes_nothing(runner, tmp_path):
    assert runner("record", ROADMAP, "--by", "Priya N.").exit_code == 0
    result = runner("rules", "suggest", "--write", tmp_path / "p.yaml", "--format", "json")
    assert (result.exit_code, result.stderr) == (1, "Error: nothing to write: there is no suggestion\n")
    assert (document(result.stdout)["overrides"], list(tmp_path.glob("p*"))) == ([], [])


def test_since_reads_only_what_was_decided_or_overridden_since(runner, ledger):
    data = document(runner("rules", "suggest", "--since", "2999-01-01", "--format", "json").stdout)
    assert (data["decisions"], data["overrides"], data["suggestions"]) == (0, [], [])


@pytest.mark.slow
def test_a_ledger_of_ten_thousand_decisions(runner, tmp_path, book):
    from conftest import write_items
    from launchtier.engine.ledger import open_ledger

    items = make_items(10_000, seed=5)
    write_items(tmp_path / "many.json", items)
    assert runner("record", tmp_path / "many.json", "--by", "PMM").exit_code == 0
    replay = Replay(book, [ItemReader(book).validate(i).signal_values() for i in items])
    # every item a planted edit moves is overridden into the tier it gives (through the store:
    # hundreds of commands would make the test slow), three of them for a circumstance
    planted = next(e for e in candidate_edits(book, replay.data, replay.cases)
                   if e.words == "giving rule `differentiation-better` +1 lead generation")
    moved = replay.changed([planted])
    with open_ledger(str(runner.ledger)) as ledger:
        for n, idx in enumerate(sorted(moved)):
            ledger.override(items[idx]["key"], moved[idx], reason="no budget for it" if n < 3 else "better than rivals",
                            by="PMM", approved_by=["A", "B"])
    data = document(runner("rules", "suggest", "--format", "json", "--max-changes", "2").stdout)
    assert (data["decisions"], len(data["overrides"]), len(data["circumstantial"])) == (10_000, len(moved) - 3, 3)
    best = data["suggestions"][0]
    assert [e["change"] for e in best["edits"]] == [planted.words]
    assert (len(best["explains"]), best["changes"], best["breaks"], best["unexplained"]) == (len(moved) - 3, [], [], [])


def test_the_same_suggestions_from_an_sqlite_and_a_postgresql_ledger(backend_runner):
    """``rules suggest`` reads the ledger through its store: on PostgreSQL as on SQLite."""
    run = backend_runner
    assert run("record", ROADMAP, "--by", "Priya N.").exit_code == 0
    assert run("override", "PAY-52", "--tier", "tier-1", "--reason", "first to market in Japan: a launch",
               "--by", "Priya N.", "--approved-by", "Ana", "--approved-by", "Bo").exit_code == 0
    data = document(run("rules", "suggest", "--format", "json").stdout)
    assert ([o["item"] for o in data["overrides"]], [e["change"] for e in data["suggestions"][0]["edits"]]) == (
        ["PAY-52"], ["giving rule `positioning-strengthens` +1 lead generation",
                     "widening rule `positioning-changes`: also for positioning strengthens (positioning in [changes, "
                     "strengthens])"])


@pytest.mark.slow
def test_past_the_budget_combinations_are_grown_greedily_and_stay_exact(book, generated):
    items, signals = generated
    replay, planted = planted_cases(book, signals, 3, 21)
    under = rules_tiers(book, planted, items, replay)
    base = {i.key: replay.base_tiers[k] for k, i in enumerate(items)}
    overridden = {k: t for k, t in under.items() if t != base[k]}
    recorded = [Recorded(i.key, i.title, s, overridden.get(i.key), "r", "PMM") for i, s in zip(items, signals)]
    result = search(book, recorded, max_changes=3, top=5)
    # 30 single edits give 435 pairs and 4,060 triples: past the 4,000 tried exactly
    assert (result.search.pool, result.search.greedy) == (30, True)
    assert result.search.note.startswith("4,495 combinations of the 30 most promising single edits")
    for s in result.suggestions:
        tiers = rules_tiers(book, s.edits, items, replay)
        assert {o.item for o in s.explains} == {k for k, t in overridden.items() if tiers[k] == t}
        assert [(m.item, m.before, m.after) for m in s.changes] == sorted(
            (k, base[k], tiers[k]) for k in tiers if k not in overridden and tiers[k] != base[k])


def test_write_splices_a_new_rule_and_a_tier_edit_each_in_its_place(book):
    from launchtier.engine.rulecheck.suggest import _edited_text

    edits = candidate_edits(book, Replay(book, []).data, [], new_rules=True)
    new_rule = next(e for e in edits if e.kind == "new-rule" and e.after["id"] == "suggested-pricing-change")
    tier_edit = next(e for e in edits if e.words == "raising tier-2 Launch's threshold: launch ≥ 2 → launch ≥ 3")
    original = DEFAULT_RULEBOOK.read_text(encoding="utf-8").splitlines()
    written = _edited_text("\n".join(original) + "\n", [new_rule, tier_edit], "2026.11.2-suggested").splitlines()
    added = written.index("  - id: suggested-pricing-change")
    assert written[:added] + written[added + 4:] == [
        'version: "2026.11.2-suggested"' if line == 'version: "2026.11.2"' else
        "    when: {launch: {gte: 3}}" if line == "    when: {launch: {gte: 2}}" else line for line in original]

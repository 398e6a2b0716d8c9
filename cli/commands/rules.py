"""The rulebook's commands: ``rules show|test|lint|diff|calibrate`` and ``template`` (and
``rules schema``, the old spelling of ``schema item``)."""

from __future__ import annotations

import click

from launchtier.engine.rulecheck.suggest import MAX_CHANGES

from ..options import db_option, deprecated, engine_option, format_option, load, mapping_option, rules_option, since_option_for
from ..output import document, document_data, echo, width
from ..render import suggest as render_suggest
from ..render import text as render
from ..render.text import plural


@click.group()
def rules() -> None:
    """Show the rulebook, and check it: lint, rule tests, calibration against published
    launches, and what a change does to the roadmap.

    \b
    Example:
      launchtier rules show
      launchtier rules lint --rules my-rules.yaml
    """


@rules.command("show")
@rules_option
@format_option("text", "json")
def rules_show(rules_path: str | None, fmt: str) -> None:
    """Show the rulebook: signals and their questions, dimensions, totals, rules, tiers,
    artifacts, capacity, and its content hash.

    \b
    Example:
      launchtier rules show --rules my-rules/ --format json
    """
    book = load(rules_path)
    echo(document_data(render.rulebook_data(book)) if fmt == "json" else render.rulebook_text(book, width()))


@rules.command("schema", hidden=True)
@rules_option
def rules_schema(rules_path: str | None) -> None:
    """The old spelling of `launchtier schema item`: the JSON Schema of an item file for the
    rulebook, with a note of the new spelling.

    \b
    Example:
      launchtier rules schema > roadmap.schema.json   # now: launchtier schema item
    """
    from .schema import print_schema

    deprecated("launchtier rules schema", "launchtier schema item")
    print_schema("item", rules_path)


@click.command()
@rules_option
@format_option("yaml", "csv")
def template(rules_path: str | None, fmt: str) -> None:
    """Print a blank item with every signal's question, ready to fill in before the meeting.

    \b
    Example:
      launchtier template > PAY-31.yaml
      launchtier template --format csv > roadmap.csv
    """
    book = load(rules_path)
    if fmt == "csv":
        click.echo(render.template_csv(book), nl=False)
    else:
        echo(render.template_yaml(book))


@rules.command("test")
@click.argument("cases", nargs=-1, type=click.Path())
@rules_option
@engine_option
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=None, metavar="PCT",
              help="Fail when fewer than PCT percent of the rules fire in some case.")
@format_option("text", "json", "junit")
def rules_test(cases: tuple[str, ...], rules_path: str | None, engine: str, min_coverage: float | None, fmt: str) -> None:
    """Run rule tests: each case is an item with the tier, kind, fired rules and artifacts it
    must get. CASES default to tests/*.yaml beside the rulebook. Reports failing cases, then
    coverage: rules fired, tiers reached, artifacts produced. Exit 1 on a failing case or
    coverage below --min-coverage. --format junit writes JUnit XML for CI: a testsuite per case
    file, a testcase per case, and a testcase "coverage" with --min-coverage.

    \b
    Example:
      launchtier rules test --min-coverage 100
      launchtier rules test my-cases.yaml --rules my-rules.yaml --format json
      launchtier rules test --min-coverage 100 --format junit > rule-tests.xml
    """
    from pathlib import Path

    from launchtier.engine.rulecheck.ruletests import default_case_files, run_tests

    book = load(rules_path)
    paths = [Path(c) for c in cases] or default_case_files(rules_path, book)
    report = run_tests(book, paths, engine=engine, min_coverage=min_coverage)
    if fmt == "json":
        echo(document(report))
    elif fmt == "junit":
        from ..render import ci

        echo(ci.rule_tests_junit(report))
    else:
        echo(render.test_report_text(report, width()))
    if not report.ok:
        raise SystemExit(1)


@rules.command("lint")
@rules_option
@format_option("text", "json", "sarif", "github")
def rules_lint(rules_path: str | None, fmt: str) -> None:
    """Check the rulebook for conditions that can never hold, tiers no item can reach, gaps
    between tier conditions, artifacts no item gets, unused signals and dimensions, and rules
    whose points can never change a tier. One finding a line, with the fix; exit 1 on any
    error or warning (notes do not fail). For CI, --format sarif writes SARIF 2.1.0 (code
    scanning), --format github GitHub Actions annotations.

    \b
    Example:
      launchtier rules lint --rules my-rules.yaml
      launchtier rules lint --rules my-rules.yaml --format sarif > lint.sarif
    """
    from launchtier.engine.rulecheck.lint import lint

    report = lint(load(rules_path))
    if fmt == "json":
        echo(document_data({**report.model_dump(mode="json"), "ok": report.ok}))
    elif fmt in ("sarif", "github"):
        from ..render import ci

        echo(ci.lint_sarif(report) if fmt == "sarif" else ci.lint_github(report))
    else:
        echo(render.lint_text(report, width()))
    if not report.ok:
        raise SystemExit(1)


@rules.command("diff")
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.argument("files", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--items", "old_item_files", multiple=True, type=click.Path(allow_dash=True), hidden=True)  # the old spelling of FILES
@mapping_option
@engine_option
@format_option("text", "json", "markdown")
def rules_diff(old: str, new: str, files: tuple[str, ...], old_item_files: tuple[str, ...], mapping: str | None,
               engine: str, fmt: str) -> None:
    """What changed between two rulebooks OLD and NEW, in the domain's words: rules added,
    removed, re-pointed or re-weighted, tier conditions changed, artifacts moved between tiers;
    with item FILES (roadmap-tool CSV exports with --mapping), which items change tier and why.
    --format markdown writes it as a pull request's comment.

    \b
    Example:
      launchtier rules diff rules-2026.yaml rules-2027.yaml examples/roadmap.yaml
      launchtier rules diff old.yaml new.yaml roadmap.yaml --format markdown > comment.md
    """
    from launchtier.engine.rulecheck.diff import diff_roadmap

    if old_item_files:
        deprecated("--items FILE", "launchtier rules diff OLD NEW FILE...")
    item_files = (*files, *old_item_files)
    result = diff_roadmap(load(old), load(new), item_files, engine=engine, mapping=mapping)
    if fmt == "json":
        echo(document(result))
    elif fmt == "markdown":
        echo(render.diff_markdown(result, bool(item_files)))
    else:
        echo(render.diff_text(result, bool(item_files), width()))


@rules.command("calibrate")
@click.argument("calibration_set", metavar="[SET]...", nargs=-1, type=click.Path())
@rules_option
@engine_option
@click.option("--min-exact", type=click.FloatRange(0, 100), default=None, metavar="PCT",
              help="Fail when fewer than PCT percent of the launches get their published tier.")
@click.option("--min-within-one", type=click.FloatRange(0, 100), default=None, metavar="PCT",
              help="Fail when fewer than PCT percent of the launches are within one tier of it.")
@format_option("text", "json", "markdown")
def rules_calibrate(calibration_set: tuple[str, ...], rules_path: str | None, engine: str, min_exact: float | None,
                    min_within_one: float | None, fmt: str) -> None:
    """Check the rulebook against real launches whose tier the company published: for each,
    the published tier, the rulebook's, and the condition that decided it; the exact and
    within-one-tier agreement; and for each miss the rules and tier conditions that decided it.
    SET: calibration files or folders (default: calibration/*.yaml beside the rulebook). Exit 1
    below --min-exact or --min-within-one.

    \b
    Example:
      launchtier rules calibrate
      launchtier rules calibrate --rules my-rules.yaml --format markdown > calibration.md
    """
    from pathlib import Path

    from launchtier.engine.rulecheck.calibrate import calibrate, default_set_files, set_files

    book = load(rules_path)
    paths = set_files([Path(p) for p in calibration_set]) if calibration_set else default_set_files(rules_path, book)
    report = calibrate(book, paths, engine=engine)
    if fmt == "json":
        echo(document_data({**report.model_dump(mode="json"), "exact_percent": report.rate(report.exact),
                            "within_one_percent": report.rate(report.within_one)}))
    elif fmt == "markdown":
        echo(render.calibration_markdown(report))
    else:
        echo(render.calibration_text(report, width()))
    below = [(name, pct, count) for name, pct, count in (("exact", min_exact, report.exact),
                                                         ("within one tier", min_within_one, report.within_one))
             if pct is not None and count * 100 < pct * report.launches]
    for name, pct, count in below:
        click.echo(f"agreement {name} {report.rate(count):g}% is below the minimum of {pct:g}%", err=True)
    if below:
        raise SystemExit(1)


@rules.command("suggest")
@rules_option
@db_option("The ledger whose decisions and overrides are read (default: $LAUNCHTIER_DB, else the project config's, "
           "else launchtier.db in the current directory).")
@since_option_for("Only the items decided or overridden on or after DATE (YYYY-MM-DD).")
@click.option("--max-changes", type=click.IntRange(1, MAX_CHANGES), default=2, show_default=True, metavar="N",
              help=f"Combine up to N edits in one suggestion (1-{MAX_CHANGES}).")
@click.option("--top", type=click.IntRange(1, 50), default=5, show_default=True, metavar="N",
              help="Show the N best suggestions.")
@click.option("--new-rules/--no-new-rules", default=True, show_default=True,
              help="Also try new rules of one signal value worth one point.")
@click.option("--write", "write_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the rulebook with the best suggestion to FILE (never the rulebook itself), and rule-test "
                   "cases for the overrides it agrees with to FILE's .cases.yaml.")
@format_option("text", "json", "markdown")
def rules_suggest(rules_path: str | None, db_path: str | None, since: str | None, max_changes: int, top: int,
                  new_rules: bool, write_path: str | None, fmt: str) -> None:
    """Rule changes the team's overrides argue for. Reads the ledger's latest decision of each
    item, overrides as the tiers the team committed to, and searches for small rulebook edits
    (a threshold moved, a rule's points changed, a condition widened or narrowed by one value,
    a new rule of one signal value) under which the rules give the committed tier without
    changing a decision nobody overrode. Each suggestion comes with its exact effect on every
    recorded decision. Overrides whose reason names a circumstance (the rulebook's
    suggest.circumstances, default capacity and budget) are left out.

    \b
    Example:
      launchtier rules suggest
      launchtier rules suggest --since 2026-07-01 --max-changes 1 --format markdown > suggestions.md
      launchtier rules suggest --write rules/proposed.yaml
    """
    from launchtier.engine.rulecheck.suggest import suggest_rules

    book = load(rules_path)
    report, written = suggest_rules(book, db_path, since=since, max_changes=max_changes, top=top, new_rules=new_rules,
                                    write_to=write_path)
    if fmt == "json":
        echo(document(report))
    elif fmt == "markdown":
        echo(render_suggest.suggest_markdown(report))
    else:
        echo(render_suggest.suggest_text(report, width()))
    if write_path is not None and written is None:
        raise click.ClickException("nothing to write: there is no suggestion")
    if written is not None:
        click.echo(f"wrote suggestion 1 to {written.rulebook} and its {plural(written.count, 'case')} to "
                   f"{written.cases}; check them with: launchtier rules lint --rules {written.rulebook}; launchtier rules "
                   f"test {written.cases} --rules {written.rulebook}; launchtier rules diff {book.source} {written.rulebook}",
                   err=True)

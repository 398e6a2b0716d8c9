"""The commands: each one parses its options, calls the engine, and renders the result."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from types import SimpleNamespace

import click

from launchtier.engine.errors import shown

from . import render
from .main import BadInput, cli
from .safe import one_line, terminal
from .options import (db_option, engine_option, format_option, ledger_if_present, load, no_ledger_notice, optional_db_option,
                      quarter_option, rules_option)

PROGRESS_THRESHOLD = 2000


def _echo(text: str) -> None:
    click.echo(terminal(text))  # a title or a rule's reason may hold escape sequences: safe.py


# ---- rules ---------------------------------------------------------------------------------
@cli.group()
def rules() -> None:
    """Show the rulebook, or the JSON Schema of its item files.

    \b
    Example:
      launchtier rules show
      launchtier rules schema > item.schema.json
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
    _echo(render.rulebook_json(book) if fmt == "json" else render.rulebook_text(book))


@rules.command("schema")
@rules_option
def rules_schema(rules_path: str | None) -> None:
    """Print the JSON Schema of an item file for the rulebook (editors validate item files with it).

    \b
    Example:
      launchtier rules schema > roadmap.schema.json
    """
    from launchtier.engine import item_file_schema

    _echo(json.dumps(item_file_schema(load(rules_path)), indent=2, ensure_ascii=False))


@cli.command()
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
        from launchtier.engine.items.model import CSV_FIELDS

        header = [c for c in CSV_FIELDS if c not in ("description", "links")] + list(book.signals)
        defaults = ["", "", "", "", ""] + [
            "" if s.default is None else render.literal(s.default) for s in book.signals.values()
        ]
        click.echo(render.to_csv(header, [defaults]), nl=False)
        return
    lines = [
        f"# A launchtier item for rulebook {book.name} {book.version} ({book.hash[:19]}…).",
        "# Fill in the blanks, then: launchtier explain THIS-FILE.yaml",
        'key: ""            # unique, e.g. the roadmap tool\'s issue key: PAY-31',
        'title: ""',
        'description: ""    # optional: one sentence',
        'quarter: ""        # optional: the planned quarter, like 2027-Q1',
        'pm: ""             # optional: the product manager',
        'pmm: ""            # optional: the product marketing manager',
        "signals:",
    ]
    for name, sig in book.signals.items():
        allowed = book.signal_info(name).describe()
        if sig.default is None:
            lines.append(f"  # {sig.question} ({allowed}; required)")
            lines.append(f"  {name}:")
        else:
            lines.append(f"  # {sig.question} ({allowed}; default {render.literal(sig.default)})")
            lines.append(f"  {name}: {render.literal(sig.default)}")
    _echo("\n".join(lines))


# ---- classify ------------------------------------------------------------------------------
def _read(book, files: tuple[str, ...]):
    from launchtier.engine import ItemReader

    return ItemReader(book).read_many(files)


def _progress(items, label: str, length: int | None = None):
    """A progress bar on standard error for long runs, when it is a terminal. ``items`` None:
    a bar advanced by counts (``bar.update(n)``), which shows nothing when hidden."""
    length = len(items) if length is None else length
    if length >= PROGRESS_THRESHOLD and sys.stderr.isatty():
        return click.progressbar(items, length=length, label=label, file=sys.stderr)
    return nullcontext(SimpleNamespace(update=lambda n: None) if items is None else items)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True))
@rules_option
@engine_option
@format_option("table", "json", "jsonl", "markdown", "csv")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes to spread a large batch over (output stays in input order).")
@optional_db_option
def classify(files: tuple[str, ...], rules_path: str | None, engine: str, fmt: str, jobs: int, db_path: str | None) -> None:
    """Classify every item of FILES (YAML, JSON, CSV, or JSON Lines streamed one item at a
    time; - reads standard input): one row per item with its final tier (rules, then the
    quarter's capacity over the items given, then the ledger's overrides), kind, scores and
    the rules that fired.

    \b
    Example:
      launchtier classify examples/roadmap.yaml
      launchtier classify q1.yaml q2.csv --format markdown >> meeting-notes.md
      launchtier classify backlog.jsonl --format jsonl --jobs 2 > decisions.jsonl
    """
    from launchtier.engine import Classifier, ItemError, ItemReader
    from launchtier.engine.items import stream as streams
    from launchtier.engine.items.model import BatchKeys
    from launchtier.engine.runtime import gc_paused
    from launchtier.engine.decide.pipeline import Planner

    book = load(rules_path)
    reader = ItemReader(book)
    classifier = Classifier(book, engine)
    as_json = fmt in ("json", "jsonl")
    ledger = ledger_if_present(db_path)
    # the roadmap's capacity and the ledger's overrides: the first pass gives the planner what
    # it needs of each item (the capacity candidates and the items the ledger knows)
    planner = Planner(book, classifier, ledger) if book.capacity or ledger is not None else None
    # items and decisions hold no reference cycles: see engine/runtime.py
    with gc_paused(), streams.Pool(book, engine, jobs, as_json=as_json) if jobs > 1 else nullcontext() as pool:
        # First every file is checked, so that all problems are reported before any output;
        # JSON Lines files are only validated here and read again, one item at a time, below.
        loaded: dict[str, list] = {}
        problems = []
        count = 0
        batch = BatchKeys()  # a key is unique across the files
        try:
            for f in files:
                try:
                    if streams.is_stream(f):
                        count += pool.check(f, planner, batch) if pool else streams.check(reader, f, planner, batch)
                    else:
                        loaded[f] = reader.read(f)
                        count += len(loaded[f])
                        batch.add(f, loaded[f])
                        if planner is not None:
                            planner.add(loaded[f])
                except ItemError as e:
                    problems.extend(e.problems)
            problems.extend(batch.problems())
            if problems:
                raise ItemError(problems)
            made = planner.plan() if planner is not None else None
        finally:
            if ledger is not None:
                ledger.close()
        for warning in made.warnings if made else []:
            click.echo(f"warning: {one_line(warning)}", err=True)
        sources = [("items", loaded[f]) if f in loaded else ("lines", f) for f in files]
        out = _output_fd() if pool and fmt == "jsonl" else None
        if out is not None:  # the workers write, in turn (stream.Pool.write_lines)
            with _progress(None, "classifying", count) as bar:
                for done in pool.write_lines(sources, out, made):
                    bar.update(done)
            return
        if pool:
            results = pool.classify(sources, made)
        else:
            items = (i for f in files for i in (loaded[f] if f in loaded else streams.items(reader, f)))
            results = (streams.final(classifier, made, as_json, i.key, i.title, i.signal_values()) for i in items)
        with _progress(results, "classifying", count) as results:
            _write_decisions(results, fmt, book)


def _output_fd() -> int | None:
    """Standard output's file descriptor, flushed, when it is a real file or pipe (not, say, a
    test runner's buffer)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last two
        return None
    sys.stdout.flush()
    return fd


def _write_decisions(results, fmt: str, book) -> None:
    if fmt == "jsonl":  # the decisions come as UTF-8 JSON
        batch: list[bytes] = []
        for text in results:
            batch.append(text)
            if len(batch) == 1000:  # one write per thousand lines, not one per line
                click.echo(b"\n".join(batch))
                batch.clear()
        if batch:
            click.echo(b"\n".join(batch))
    elif fmt == "json":
        click.echo(b"[", nl=False)
        for i, text in enumerate(results):
            click.echo((b",\n  " if i else b"\n  ") + text, nl=False)
        click.echo(b"\n]")
    elif fmt == "csv":
        for chunk in render.decisions_csv(results, book):
            click.echo(chunk, nl=False)
    elif fmt == "markdown":
        _echo(render.decisions_markdown(list(results), book))
    else:
        _echo(render.decisions_table(list(results), book))


def _pick(items, item_key: str | None, file: str):
    if item_key is None:
        if len(items) == 1:
            return items[0]
        keys = ", ".join(i.key for i in items[:20]) + (" ..." if len(items) > 20 else "")
        raise BadInput([f"{shown(file)}: holds {len(items)} items; choose one with --item KEY (keys: {keys})"])
    for item in items:
        if item.key == item_key:
            return item
    from launchtier.engine.rulebook.conditions import suggest

    keys = [i.key for i in items]
    raise BadInput([f"{shown(file)}: no item with key '{item_key}'{suggest(item_key, keys)} (keys: {', '.join(keys[:20])})"])


def _parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for text in values:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{text}' is not SIGNAL=VALUE (for example customer_reach=40)", param_hint="--set")
        changes[name.strip()] = value
    return changes


@cli.command()
@click.argument("file", type=click.Path(allow_dash=True))
@click.option("--item", "item_key", metavar="KEY", help="The item to explain (needed when FILE holds several).")
@click.option("--set", "sets", multiple=True, metavar="SIGNAL=VALUE", help="What if: change a signal for this run only (repeatable).")
@rules_option
@engine_option
@format_option("text", "json", "markdown")
@optional_db_option
def explain(file: str, item_key: str | None, sets: tuple[str, ...], rules_path: str | None, engine: str, fmt: str,
            db_path: str | None) -> None:
    """Explain one item in full: the rules that fired and why, the scores, the tier condition
    that held, why it is not a higher tier, what single change would move it, and the
    artifacts that follow, by owner.

    \b
    Example:
      launchtier explain examples/roadmap.yaml --item PAY-12
      launchtier explain examples/roadmap.yaml --item PAY-12 --set positioning=changes
    """
    from launchtier.engine import ItemReader
    from launchtier.engine.decide.pipeline import explain_item

    changes = _parse_sets(sets)
    book = load(rules_path)
    reader = ItemReader(book)
    items = reader.read(file)
    original = _pick(items, item_key, file)
    item = reader.with_signals(original, changes) if changes else original
    ledger = ledger_if_present(db_path, "explaining without its overrides, recorded items or precedents")
    try:
        ex = explain_item(book, items, item, original=original if changes else None, engine=engine, ledger=ledger)
    finally:
        if ledger is not None:
            ledger.close()
    if fmt == "json":
        _echo(ex.model_dump_json(by_alias=True, indent=2))
    elif fmt == "markdown":
        click.echo(terminal(render.explain_markdown(ex, book)), nl=False)
    else:
        _echo(render.explain_text(ex, book))


@cli.command()
@click.argument("tier", required=False)
@click.option("--item", "item_file", type=click.Path(allow_dash=True), help="An item file: the checklist of its item's decision.")
@click.option("--item-key", metavar="KEY", help="The item of --item (needed when the file holds several).")
@rules_option
@engine_option
@format_option("text", "markdown", "csv")
@optional_db_option
def artifacts(tier: str | None, item_file: str | None, item_key: str | None, rules_path: str | None, engine: str, fmt: str,
              db_path: str | None) -> None:
    """The artifact checklist of TIER (every tier without it), or of one item's decision with
    the artifacts' conditions applied, grouped by owner: what the PM and the PMM each deliver.

    \b
    Example:
      launchtier artifacts tier-1
      launchtier artifacts --item examples/roadmap.yaml --item-key PAY-12 --format markdown
    """
    book = load(rules_path)
    if item_file and tier:
        raise click.UsageError("give a TIER or --item, not both")
    if item_key and not item_file:
        raise click.UsageError("--item-key goes with --item FILE")
    if item_file:
        from launchtier.engine import ItemReader
        from launchtier.engine.decide.pipeline import decide_item

        items = ItemReader(book).read(item_file)
        item = _pick(items, item_key, item_file)
        ledger = ledger_if_present(db_path)
        try:
            decision = decide_item(book, items, item, engine=engine, ledger=ledger)
        finally:
            if ledger is not None:
                ledger.close()
        wanted = {a.id for a in decision.artifacts}
        rows = [r for r in render.checklist_rows(book, [decision.tier]) if r[1].id in wanted]
        rows = [(t, a, "") for t, a, _ in rows]  # conditions already applied
        sections = [(f"{decision.item} {decision.title}: {decision.tier} {decision.label}", render.stage_sentence(decision), rows)]
    else:
        if tier is not None and tier not in book.tier_by_id:
            from launchtier.engine.rulebook.conditions import suggest

            tiers = list(book.tier_by_id)
            raise BadInput([f"unknown tier '{tier}'{suggest(tier, tiers)} (tiers: {', '.join(tiers)})"])
        chosen = [tier] if tier else list(book.tier_by_id)
        sections = [(f"{t} {book.tier_by_id[t].label} ({book.tier_by_id[t].kind})", "", render.checklist_rows(book, [t]))
                    for t in chosen]
    if fmt == "csv":
        click.echo(render.checklist_csv([r for _, _, rows in sections for r in rows]), nl=False)
    elif fmt == "markdown":
        _echo("\n".join(render.checklist_markdown(title, rows, note) for title, note, rows in sections).rstrip())
    else:
        _echo("\n\n".join(render.checklist_text(title, rows, note) for title, note, rows in sections))


@rules.command("test")
@click.argument("cases", nargs=-1, type=click.Path())
@rules_option
@engine_option
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=None, metavar="PCT",
              help="Fail when fewer than PCT percent of the rules fire in some case.")
@format_option("text", "json")
def rules_test(cases: tuple[str, ...], rules_path: str | None, engine: str, min_coverage: float | None, fmt: str) -> None:
    """Run rule tests: each case is an item with the tier, kind, fired rules and artifacts it
    must get. CASES default to tests/*.yaml beside the rulebook. Reports failing cases, then
    coverage: rules fired, tiers reached, artifacts produced. Exit 1 on a failing case or
    coverage below --min-coverage.

    \b
    Example:
      launchtier rules test --min-coverage 100
      launchtier rules test my-cases.yaml --rules my-rules.yaml --format json
    """
    from pathlib import Path

    from launchtier.engine.rulecheck.ruletests import default_case_files, run_tests

    book = load(rules_path)
    paths = [Path(c) for c in cases] or default_case_files(rules_path, book)
    report = run_tests(book, paths, engine=engine, min_coverage=min_coverage)
    _echo(report.model_dump_json(indent=2) if fmt == "json" else render.test_report_text(report))
    if not report.ok:
        raise SystemExit(1)


@rules.command("lint")
@rules_option
@format_option("text", "json")
def rules_lint(rules_path: str | None, fmt: str) -> None:
    """Check the rulebook for conditions that can never hold, tiers no item can reach, gaps
    between tier conditions, artifacts no item gets, unused signals and dimensions, and rules
    whose points can never change a tier. One finding a line, with the fix; exit 1 on any
    error or warning (notes do not fail).

    \b
    Example:
      launchtier rules lint --rules my-rules.yaml
    """
    from launchtier.engine.rulecheck.lint import lint

    report = lint(load(rules_path))
    if fmt == "json":
        _echo(json.dumps({**report.model_dump(mode="json"), "ok": report.ok}, indent=2, ensure_ascii=False))
    else:
        _echo(render.lint_text(report))
    if not report.ok:
        raise SystemExit(1)


@rules.command("diff")
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.option("--items", "item_files", multiple=True, type=click.Path(allow_dash=True), help="Item file: list the items whose tier changes (repeatable).")
@engine_option
@format_option("text", "json")
def rules_diff(old: str, new: str, item_files: tuple[str, ...], engine: str, fmt: str) -> None:
    """What changed between two rulebooks, in the domain's words: rules added, removed,
    re-pointed or re-weighted, tier conditions changed, artifacts moved between tiers; with
    --items, which items change tier and why.

    \b
    Example:
      launchtier rules diff rules-2026.yaml rules-2027.yaml --items examples/roadmap.yaml
    """
    from launchtier.engine import ItemReader
    from launchtier.engine.decide.pipeline import decide_roadmap, why_changed
    from launchtier.engine.rulebook.diff import RulebookDiff, TierChange, diff_rulebooks

    old_book, new_book = load(old), load(new)
    changes = diff_rulebooks(old_book, new_book)
    changed, checked = [], 0
    if item_files:
        # the roadmap through each rulebook's whole pipeline (rules, then capacity): the files
        # given are the roadmap; the ledger's overrides are the team's, not the rulebook's
        old_items = ItemReader(old_book).read_many(item_files)
        new_items = ItemReader(new_book).read_many(item_files)
        before, _ = decide_roadmap(old_book, old_items, engine=engine)
        after, _ = decide_roadmap(new_book, new_items, engine=engine)
        for item, a, b in zip(old_items, before, after):
            checked += 1
            if a.tier != b.tier:
                changed.append(TierChange(item=item.key, title=item.title, old_tier=a.tier, new_tier=b.tier,
                                          causes=why_changed(changes, a, b)))
    result = RulebookDiff(old=old_book.summary(), new=new_book.summary(), changes=changes, items_checked=checked, items_changed=changed)
    _echo(result.model_dump_json(indent=2) if fmt == "json" else render.diff_text(result, bool(item_files)))


def _read_roadmap(book, files: tuple[str, ...], mapping: str | None):
    """Items of item files and, with a mapping, of roadmap-tool CSV exports; all problems at once."""
    from launchtier.engine import ItemReader
    from launchtier.engine.items.mapping import read_mapped

    reader = ItemReader(book)
    return reader.read_many(
        files, read=lambda f: read_mapped(f, mapping, book) if mapping and f.lower().endswith(".csv") else reader.read(f))


REPORT_FORMATS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".json": "json"}


def _report_format(path, fmt: str | None) -> str:
    """The format of the report written to ``path``: --format, else its extension's."""
    if not path.parent.is_dir():
        if path.parent.exists():
            raise BadInput([f"{shown(path)}: {shown(path.parent)} is not a folder; give --report a file in an existing folder"])
        raise BadInput([f"{shown(path)}: the folder {shown(path.parent)} does not exist; create it, or give --report a file in an "
                        "existing folder"])
    if fmt is not None:
        return fmt
    if path.suffix.lower() not in REPORT_FORMATS:
        *others, last = REPORT_FORMATS
        known = f"{', '.join(others)} or {last}"
        what = f"unknown report extension '{path.suffix}'" if path.suffix else "no extension to tell the report's format"
        raise BadInput([f"{shown(path)}: {what}; name the file with {known}, or choose the format with "
                        "--format table|json|markdown|html"])
    return REPORT_FORMATS[path.suffix.lower()]


@cli.command()
@click.argument("roadmap", nargs=-1, required=True, type=click.Path(allow_dash=True))
@quarter_option
@click.option("--mapping", type=click.Path(dir_okay=False), help="Mapping of a roadmap tool's CSV export (columns to signals).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Write the report to this file (format from its extension unless --format).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown", "html"]), default=None,
              help="Output format  [default: table, or from the --report extension]")
@db_option("Ledger for 'changes since last time', its overrides and recorded items of the same quarters "
           "(default: $LAUNCHTIER_DB, else launchtier.db if present).")
@click.option("--record", "do_record", is_flag=True, help="Record the meeting's decisions in the ledger (needs --by).")
@click.option("--by", help="Who records, with --record.")
@rules_option
@engine_option
def review(roadmap, quarter, mapping, report_path, fmt, db_path, do_record, by, rules_path, engine) -> None:
    """Prepare the roadmap review meeting: every item's tier after the quarter's capacity, the
    disputed items first, what changed since the last recorded decisions, and the PM and PMM
    workload per quarter. Reads item files and roadmap-tool CSV exports (with --mapping).

    \b
    Example:
      launchtier review examples/roadmap.yaml --report review.html
      launchtier review jira.csv --mapping examples/exports/jira-mapping.yaml --quarter 2027-Q1
      launchtier review examples/roadmap.yaml --record --by "Priya N."
    """
    from pathlib import Path

    from launchtier.engine.ledger import open_ledger, where
    from launchtier.engine.ledger.sqlite import person
    from launchtier.engine.roadmap.review import review as run_review

    from . import render_review

    if do_record and by is None:
        raise click.UsageError("--record needs --by NAME")
    if do_record:
        by = person(by, "--by")  # before any work: a blank name is refused, and creates no ledger
    if report_path:  # checked before any work, and before anything is recorded
        fmt = _report_format(Path(report_path), fmt)
    fmt = fmt or "table"
    book = load(rules_path)
    items = _read_roadmap(book, roadmap, mapping)
    without = "reviewing without the changes since the last recorded decisions"
    ledger = open_ledger(db_path, create=True) if do_record else ledger_if_present(db_path, without)
    try:
        report = run_review(book, items, engine=engine, quarter=quarter, ledger=ledger, record_by=by if do_record else None)
    finally:
        if ledger is not None:
            ledger.close()
    if fmt == "json":
        text = report.model_dump_json(indent=2)
    elif fmt == "markdown":
        text = render_review.review_markdown(report, book)
    elif fmt == "html":
        from . import render_html

        text = render_html.review_html(report, book)
    else:
        text = render_review.review_table(report, book)
    if report_path:
        try:
            Path(report_path).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        except OSError as e:
            recorded = f" (the {len(report.recorded)} decisions were recorded in {where(db_path)})" if do_record else ""
            raise BadInput([f"{shown(report_path)}: the report cannot be written ({e.strerror or e}){recorded}; "
                            "give --report a file that can be written"]) from None
        click.echo(f"wrote {fmt} report of {len(report.items)} items ({len(report.disputed)} disputed) to {report_path}", err=True)
    else:
        click.echo(text.rstrip("\n") if fmt == "json" else terminal(text.rstrip("\n")))
    for warning in report.warnings:
        click.echo(f"warning: {one_line(warning)}", err=True)
    if do_record:
        click.echo(f"recorded {len(report.recorded)} decisions in {where(db_path)}", err=True)

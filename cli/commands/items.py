"""The item commands: ``classify`` (a batch), ``explain`` (one item) and ``artifacts`` (a
checklist). Each parses, calls the engine, and renders."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from types import SimpleNamespace

import click

from launchtier.engine.errors import shown

from ..errors import BadInput
from ..options import (deprecated, engine_option, format_option, item_key_option, load, mapping_option, no_ledger_notice,
                       optional_db_option, rules_option)
from ..output import array_document, document, echo, output_fd, width, write_chunks
from ..render.safe import one_line, terminal

PROGRESS_THRESHOLD = 2000


def _progress(items, label: str, length: int | None = None):
    """A progress bar on standard error for long runs, when it is a terminal. ``items`` None:
    a bar advanced by counts (``bar.update(n)``), which shows nothing when hidden."""
    length = len(items) if length is None else length
    if length >= PROGRESS_THRESHOLD and sys.stderr.isatty():
        return click.progressbar(items, length=length, label=label, file=sys.stderr)
    return nullcontext(SimpleNamespace(update=lambda n: None) if items is None else items)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True))
@mapping_option
@rules_option
@engine_option
@format_option("table", "json", "jsonl", "markdown", "csv")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes to spread a large batch over (output stays in input order).")
@optional_db_option
def classify(files: tuple[str, ...], mapping: str | None, rules_path: str | None, engine: str, fmt: str, jobs: int,
             db_path: str | None) -> None:
    """Classify every item of FILES (YAML, JSON, CSV, or JSON Lines streamed one item at a
    time; - reads standard input; roadmap-tool CSV exports with --mapping): one row per item
    with its final tier (rules, then the quarter's capacity over the items given, then the
    ledger's overrides), kind, scores and the rules that fired.

    \b
    Example:
      launchtier classify examples/roadmap.yaml
      launchtier classify q1.yaml q2.csv --format markdown >> meeting-notes.md
      launchtier classify backlog.jsonl --format jsonl --jobs 2 > decisions.jsonl
      launchtier classify jira.csv --mapping examples/exports/jira-mapping.yaml
    """
    from launchtier.engine.roadmap.batch import classify_batch

    book = load(rules_path)
    # with several processes, JSON Lines to a real file or pipe: the workers write it themselves
    fd = output_fd() if jobs > 1 and fmt == "jsonl" else None
    with classify_batch(book, files, engine=engine, jobs=jobs, as_json=fmt in ("json", "jsonl"),
                        ledger_location=db_path, fd=fd, mapping=mapping) as batch:
        for warning in batch.warnings:
            click.echo(f"warning: {one_line(warning)}", err=True)
        if batch.written is not None:
            with _progress(None, "classifying", batch.count) as bar:
                for done in batch.written:
                    bar.update(done)
            return
        with _progress(batch.results, "classifying", batch.count) as results:
            _write_decisions(results, fmt, book)


def _write_decisions(results, fmt: str, book) -> None:
    if fmt == "jsonl":  # the decisions come as UTF-8 JSON; each line is a document, with its version
        from launchtier.engine.decide.decision import decision_line

        lines: list[bytes] = []
        for text in results:
            lines.append(decision_line(text))
            if len(lines) == 1000:  # one write per thousand lines, not one per line
                click.echo(b"\n".join(lines))
                lines.clear()
        if lines:
            click.echo(b"\n".join(lines))
        return
    if fmt == "json":
        write_chunks(array_document("decisions", (text.decode() for text in results)))
        return
    # the reporters of text, Markdown and CSV: the JSON formats (a script's) need none of them
    from ..render import text as render

    if fmt == "csv":
        for chunk in render.decisions_csv(results, book):
            click.echo(chunk, nl=False)
    elif fmt == "markdown":
        echo(render.decisions_markdown(list(results), book))
    else:
        echo(render.decisions_table(list(results), book, width()))


def _parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for text in values:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{text}' is not SIGNAL=VALUE (for example customer_reach=40)", param_hint="--set")
        changes[name.strip()] = value
    return changes


@click.command()
@click.argument("file", type=click.Path(allow_dash=True))
@item_key_option
@click.option("--set", "sets", multiple=True, metavar="SIGNAL=VALUE", help="What if: change a signal for this run only (repeatable).")
@click.option("--save-case", "cases_path", type=click.Path(dir_okay=False), metavar="CASES",
              help="Append the item, with the --set changes, as a rule-test case expecting what the rules now decide.")
@mapping_option
@rules_option
@engine_option
@format_option("text", "json", "markdown")
@optional_db_option
def explain(file: str, item_key: str | None, sets: tuple[str, ...], cases_path: str | None, mapping: str | None,
            rules_path: str | None, engine: str, fmt: str, db_path: str | None) -> None:
    """Explain one item in full: the rules that fired and why, the scores, the tier condition
    that held, why it is not a higher tier, what single change would move it, and the
    artifacts that follow, by owner. With --save-case CASES, the item and its --set changes
    are appended to CASES as a rule-test case for `launchtier rules test`.

    \b
    Example:
      launchtier explain examples/roadmap.yaml --item PAY-12
      launchtier explain examples/roadmap.yaml --item PAY-12 --set positioning=changes
      launchtier explain examples/roadmap.yaml --item PAY-12 --set positioning=changes --save-case what-ifs.yaml
      launchtier explain jira.csv --mapping examples/exports/jira-mapping.yaml --item BILL-101
    """
    from launchtier.engine.roadmap.item import explain_in_file, explain_saving_case

    from ..render import text as render

    changes = _parse_sets(sets)
    book = load(rules_path)
    saved = None
    if cases_path is None:
        ex, ledger = explain_in_file(book, file, item_key, changes, engine=engine, ledger_location=db_path, mapping=mapping)
    else:  # saved before anything is shown: a case that cannot be saved is the only message
        (ex, ledger), saved = explain_saving_case(book, file, item_key, changes, cases_path, engine=engine,
                                                  ledger_location=db_path, mapping=mapping)
    if ledger is None:
        no_ledger_notice(db_path, "explaining without its overrides, recorded items or precedents")
    if fmt == "json":
        echo(document(ex, by_alias=True))
    elif fmt == "markdown":
        click.echo(terminal(render.explain_markdown(ex, book)), nl=False)
    else:
        echo(render.explain_text(ex, book, width()))
    if saved is not None:
        click.echo(one_line(f"saved rule-test case '{saved.name}' to {shown(saved.file)} (expects {saved.tier})"), err=True)


# what tells a file that does not exist from an item key (the old ``--item FILE``) or a tier (the
# old ``artifacts TIER``): the extensions of item files and exports, or a folder in the name
ITEM_FILE_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl", ".ndjson", ".csv")


def _looks_like_a_file(text: str) -> bool:
    import os

    return text == "-" or os.path.exists(text) or text.lower().endswith(ITEM_FILE_SUFFIXES) or os.sep in text


@click.command()
@click.argument("file", required=False, type=click.Path(allow_dash=True))
@item_key_option
@click.option("--tier", metavar="TIER", help="The checklist of this tier, without conditions (instead of FILE).")
@click.option("--item-key", "old_item_key", metavar="KEY", hidden=True)  # the old spelling of --item KEY
@mapping_option
@rules_option
@engine_option
@format_option("text", "markdown", "csv")
@optional_db_option
def artifacts(file: str | None, item_key: str | None, tier: str | None, old_item_key: str | None, mapping: str | None,
              rules_path: str | None, engine: str, fmt: str, db_path: str | None) -> None:
    """The artifact checklist of one item's decision, with the artifacts' conditions applied:
    the item of FILE (--item KEY when FILE holds several); or of a tier, --tier TIER; or of
    every tier, with neither. Grouped by owner: what the PM and the PMM each deliver. The
    argument is a file; a tier is chosen with --tier (the old `artifacts TIER` still works
    when no file has that name, with a note).

    \b
    Example:
      launchtier artifacts examples/roadmap.yaml --item PAY-12 --format markdown
      launchtier artifacts jira.csv --mapping examples/exports/jira-mapping.yaml --item BILL-101
      launchtier artifacts --tier tier-1
    """
    from launchtier.engine.decide.checklist import tier_checklists

    from ..render import text as render

    book = load(rules_path)
    file, item_key, tier = _artifacts_spelling(book, file, item_key, tier, old_item_key)
    if file:
        from launchtier.engine.roadmap.item import checklist_in_file

        checklists = [checklist_in_file(book, file, item_key, engine=engine, ledger_location=db_path, mapping=mapping)]
    else:
        checklists = tier_checklists(book, tier)
    sections = [(_title(book, c), render.stage_sentence(c.decision) if c.decision else "", c.rows) for c in checklists]
    if fmt == "csv":
        click.echo(render.checklist_csv([r for _, _, rows in sections for r in rows]), nl=False)
    elif fmt == "markdown":
        echo("\n".join(render.checklist_markdown(title, rows, note) for title, note, rows in sections).rstrip())
    else:
        echo("\n\n".join(render.checklist_text(title, rows, note, width()) for title, note, rows in sections))


def _artifacts_spelling(book, file: str | None, item_key: str | None, tier: str | None,
                        old_item_key: str | None) -> tuple[str | None, str | None, str | None]:
    """FILE, --item KEY and --tier TIER, from what was typed: the old spellings (``--item FILE
    --item-key KEY``, a TIER as the argument) still work, each with a note of the new one."""
    usage = "launchtier artifacts FILE --item KEY"
    if old_item_key is not None:
        if item_key is not None and file is not None:
            raise click.UsageError(f"--item-key is the old spelling of --item; give only --item KEY ({usage})")
        if file is None and item_key is not None:  # --item FILE --item-key KEY
            file = item_key
        if file is None:
            raise click.UsageError(f"--item-key KEY chooses an item of FILE; give the file: {usage}")
        item_key = old_item_key
        deprecated("--item-key", usage)
    elif file is None and item_key is not None:
        if not _looks_like_a_file(item_key):
            raise click.UsageError(f"--item KEY chooses an item of FILE; give the file: {usage}")
        file, item_key = item_key, None  # --item FILE
        deprecated("--item FILE", "launchtier artifacts FILE")
    if file is not None and tier is not None:
        raise click.UsageError("give FILE or --tier TIER, not both")
    if file is not None and item_key is None and not _looks_like_a_file(file):
        if file in book.tier_by_id:  # a TIER as the argument
            deprecated("a TIER argument", "launchtier artifacts --tier TIER")
            return None, None, file
        from launchtier.engine.rulebook.conditions import suggest

        tiers = list(book.tier_by_id)
        raise BadInput([f"{shown(file)}: no such file, nor a tier of the rulebook{suggest(file, tiers)} "
                        f"(tiers: {', '.join(tiers)}; choose one with --tier TIER)"])
    return file, item_key, tier


def _title(book, checklist) -> str:
    d = checklist.decision
    if d is not None:
        return f"{d.item} {d.title}: {d.tier} {d.label}"
    t = book.tier_by_id[checklist.tier]
    return f"{t.id} {t.label} ({t.kind})"

"""The item commands: ``classify`` (a batch), ``explain`` (one item) and ``artifacts`` (a
checklist). Each parses, calls the engine, and renders."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from types import SimpleNamespace

import click

from ..options import engine_option, format_option, load, no_ledger_notice, optional_db_option, rules_option
from ..output import echo, output_fd, width
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
    from launchtier.engine.roadmap.batch import classify_batch

    book = load(rules_path)
    # with several processes, JSON Lines to a real file or pipe: the workers write it themselves
    fd = output_fd() if jobs > 1 and fmt == "jsonl" else None
    with classify_batch(book, files, engine=engine, jobs=jobs, as_json=fmt in ("json", "jsonl"),
                        ledger_location=db_path, fd=fd) as batch:
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
    if fmt == "jsonl":  # the decisions come as UTF-8 JSON
        lines: list[bytes] = []
        for text in results:
            lines.append(text)
            if len(lines) == 1000:  # one write per thousand lines, not one per line
                click.echo(b"\n".join(lines))
                lines.clear()
        if lines:
            click.echo(b"\n".join(lines))
        return
    if fmt == "json":
        click.echo(b"[", nl=False)
        for i, text in enumerate(results):
            click.echo((b",\n  " if i else b"\n  ") + text, nl=False)
        click.echo(b"\n]")
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
    from launchtier.engine.roadmap.item import explain_in_file

    from ..render import text as render

    changes = _parse_sets(sets)
    book = load(rules_path)
    ex, ledger = explain_in_file(book, file, item_key, changes, engine=engine, ledger_location=db_path)
    if ledger is None:
        no_ledger_notice(db_path, "explaining without its overrides, recorded items or precedents")
    if fmt == "json":
        echo(ex.model_dump_json(by_alias=True, indent=2))
    elif fmt == "markdown":
        click.echo(terminal(render.explain_markdown(ex, book)), nl=False)
    else:
        echo(render.explain_text(ex, book, width()))


@click.command()
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
    from launchtier.engine.decide.checklist import tier_checklists

    from ..render import text as render

    book = load(rules_path)
    if item_file and tier:
        raise click.UsageError("give a TIER or --item, not both")
    if item_key and not item_file:
        raise click.UsageError("--item-key goes with --item FILE")
    if item_file:
        from launchtier.engine.roadmap.item import checklist_in_file

        checklists = [checklist_in_file(book, item_file, item_key, engine=engine, ledger_location=db_path)]
    else:
        checklists = tier_checklists(book, tier)
    sections = [(_title(book, c), render.stage_sentence(c.decision) if c.decision else "", c.rows) for c in checklists]
    if fmt == "csv":
        click.echo(render.checklist_csv([r for _, _, rows in sections for r in rows]), nl=False)
    elif fmt == "markdown":
        echo("\n".join(render.checklist_markdown(title, rows, note) for title, note, rows in sections).rstrip())
    else:
        echo("\n\n".join(render.checklist_text(title, rows, note, width()) for title, note, rows in sections))


def _title(book, checklist) -> str:
    d = checklist.decision
    if d is not None:
        return f"{d.item} {d.title}: {d.tier} {d.label}"
    t = book.tier_by_id[checklist.tier]
    return f"{t.id} {t.label} ({t.kind})"

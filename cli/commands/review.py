"""The ``review`` command: the roadmap review meeting's report, and its decisions recorded."""

from __future__ import annotations

import click

from launchtier.engine.errors import shown

from ..errors import BadInput
from ..options import db_option, engine_option, load, mapping_option, no_ledger_notice, quarter_option, rules_option
from ..output import document, width
from ..render.safe import one_line, terminal
from ..render.text import plural
from ..source import setting, source_of


REPORT_FORMATS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".json": "json"}


def _report_format(path, fmt: str | None, configured: str | None = None) -> str:
    """The format of the report written to ``path``: --format, else its extension's, else the
    project config's."""
    if not path.parent.is_dir():
        if path.parent.exists():
            raise BadInput([f"{shown(path)}: {shown(path.parent)} is not a folder; give --report a file in an existing folder"])
        raise BadInput([f"{shown(path)}: the folder {shown(path.parent)} does not exist; create it, or give --report a file in an "
                        "existing folder"])
    if fmt is not None:
        return fmt
    if path.suffix.lower() not in REPORT_FORMATS:
        if configured is not None:
            return configured
        *others, last = REPORT_FORMATS
        known = f"{', '.join(others)} or {last}"
        what = f"unknown report extension '{path.suffix}'" if path.suffix else "no extension to tell the report's format"
        raise BadInput([f"{shown(path)}: {what}; name the file with {known}, or choose the format with "
                        "--format table|json|markdown|html"])
    return REPORT_FORMATS[path.suffix.lower()]


@click.command()
@click.argument("roadmap", nargs=-1, required=True, type=click.Path(allow_dash=True))
@quarter_option
@mapping_option
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Write the report to this file (format from its extension unless --format).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown", "html"], case_sensitive=False), default=None,
              callback=setting("format"),
              help="Output format  [default: table, or from the --report extension, else the project config's]")
@db_option("Ledger for 'changes since last time', its overrides and recorded items of the same quarters "
           "(default: $LAUNCHTIER_DB, else the project config's, else launchtier.db if present).")
@click.option("--record", "do_record", is_flag=True, help="Record the meeting's decisions in the ledger (needs --by).")
@click.option("--by", metavar="NAME", help="Who records, with --record.")
@click.option("--note", help='With --record, a note stored with every decision, after "review QUARTER: ".')
@rules_option
@engine_option
def review(roadmap, quarter, mapping, report_path, fmt, db_path, do_record, by, note, rules_path, engine) -> None:
    """Prepare the roadmap review meeting: every item's tier after the quarter's capacity, the
    disputed items first, what changed since the last recorded decisions, and the PM and PMM
    workload per quarter. Reads item files and roadmap-tool CSV exports (with --mapping).

    \b
    Example:
      launchtier review examples/roadmap.yaml --report review.html
      launchtier review jira.csv --mapping examples/exports/jira-mapping.yaml --quarter 2027-Q1
      launchtier review examples/roadmap.yaml --record --by "Priya N." --note "agreed in the room"
    """
    from pathlib import Path

    from launchtier.engine.ledger import where
    from launchtier.engine.ledger.policy import person
    from launchtier.engine.roadmap.review import review_files

    from ..render import review as render_review

    if do_record and by is None:
        raise click.UsageError("--record needs --by NAME")
    if note is not None and not do_record:
        raise click.UsageError("--note goes with --record: it is stored with the recorded decisions")
    if do_record:
        by = person(by, "--by")  # before any work: a blank name is refused, and creates no ledger
    if report_path:  # checked before any work, and before anything is recorded
        flag = fmt if source_of(click.get_current_context(), "format") == "--format" else None
        fmt = _report_format(Path(report_path), flag, configured=fmt)
    fmt = fmt or "table"
    book = load(rules_path)
    report = review_files(book, roadmap, mapping=mapping, engine=engine, quarter=quarter, ledger_location=db_path,
                          record_by=by if do_record else None, note=note)
    if report.ledger is None:
        no_ledger_notice(db_path, "reviewing without the changes since the last recorded decisions")
    if fmt == "json":
        text = document(report)
    elif fmt == "markdown":
        text = render_review.review_markdown(report, book)
    elif fmt == "html":
        from ..render import html as render_html

        text = render_html.review_html(report, book)
    else:
        text = render_review.review_table(report, book, None if report_path else width())
    if report_path:
        try:
            Path(report_path).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        except OSError as e:
            recorded = (f" ({'the decision was' if len(report.recorded) == 1 else f'the {len(report.recorded)} decisions were'}"
                        f" recorded in {where(db_path)})" if do_record else "")
            raise BadInput([f"{shown(report_path)}: the report cannot be written ({e.strerror or e}){recorded}; "
                            "give --report a file that can be written"]) from None
        click.echo(f"wrote {fmt} report of {plural(len(report.items), 'item')} ({len(report.disputed)} disputed) to {report_path}",
                   err=True)
    else:
        click.echo(text.rstrip("\n") if fmt == "json" else terminal(text.rstrip("\n")))
    for warning in report.warnings:
        click.echo(f"warning: {one_line(warning)}", err=True)
    if do_record:
        click.echo(f"recorded {plural(len(report.recorded), 'decision')} in {where(db_path)}", err=True)
        if report.head is not None:  # on stderr, like the line above: stdout is the report
            click.echo(f"chain head {report.head}", err=True)

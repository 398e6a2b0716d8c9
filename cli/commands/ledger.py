"""The ledger's commands: ``record``, ``override``, ``decisions``, ``audit``, and the ``ledger``
group (``head``, ``chains``, ``init``, ``copy``, ``grants``)."""

from __future__ import annotations

import re

import click

from ..options import (db_option, engine_option, format_option, load, mapping_option, quarter_option, rules_option,
                       since_option)
from ..output import array_document, document, width, write_chunks
from ..render import text as render
from ..render.safe import one_line, terminal

ledger_option = db_option("The ledger (default: $LAUNCHTIER_DB, else the project config's, else launchtier.db in the current "
                          "directory).")


def _ledger(db_path: str | None, create: bool = False, audit: bool = False, readonly: bool = False):
    # readers open it read only: they never create, migrate or otherwise change the evidence
    from launchtier.engine.ledger import open_ledger

    return open_ledger(db_path, create=create, audit=audit, readonly=readonly)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--by", required=True, metavar="NAME", help="Who records the decisions (a name).")
@click.option("--note", default=None, help="A note stored with every decision of this batch.")
@mapping_option
@rules_option
@engine_option
@ledger_option
def record(files, by, note, mapping, rules_path, engine, db_path) -> None:
    """Classify the items of FILES (roadmap-tool CSV exports with --mapping) and record one
    decision per item in the ledger, with the rulebook that made it. A batch is recorded all
    or nothing.

    \b
    Example:
      launchtier record examples/roadmap.yaml --by "Priya N." --note "2027-Q1 review"
    """
    from launchtier.engine.ledger import where
    from launchtier.engine.ledger.policy import person
    from launchtier.engine.roadmap.record import record_files

    by = person(by, "--by")  # before any work: a blank name is refused, and creates no ledger
    book = load(rules_path)
    done = record_files(book, files, db_path, engine=engine, by=by, note=note, mapping=mapping)
    seqs, head = done.seqs, done.head
    span = f"#{seqs[0]}" if len(seqs) == 1 else f"#{seqs[0]}-#{seqs[-1]}"
    click.echo(f"recorded {render.plural(len(seqs), 'decision')} ({span}) in {where(db_path)}: "
               f"{render.counts_tally(book, done.counts)}")
    for d in done.staged:  # the decisions that capacity or an override set
        click.echo(one_line(f"  {d.item}: {render.stage_text(d)}"))
    for _, d in done.plan.context:
        click.echo(one_line(f"  {d.item} (recorded earlier, decided again with this batch): {d.tier}; {render.stage_text(d)}"))
    for warning in done.plan.warnings:
        click.echo(f"warning: {one_line(warning)}", err=True)
    click.echo(one_line(f"rulebook {book.name} {book.version} {book.hash}"))
    if head is not None:
        click.echo(f"chain head {head}")


@click.command()
@click.argument("key")
@click.option("--tier", required=True, metavar="TIER", help="The tier the team commits to.")
@click.option("--reason", required=True, help="Why the team disagrees with the computed tier (mandatory).")
@click.option("--by", required=True, metavar="NAME", help="Who overrides (a name).")
@click.option("--approved-by", "approved_by", multiple=True, metavar="NAME",
              help="An approver (repeatable; the rulebook may require some): each person once, case and spacing "
                   "aside, and not --by unless the rulebook's overrides policy allows self-approval.")
@ledger_option
def override(key, tier, reason, by, approved_by, db_path) -> None:
    """Override the latest recorded decision of item KEY into another tier: "disagree and
    commit". The computed tier stays beside the final one.

    \b
    Example:
      launchtier override PAY-12 --tier tier-1 --reason "Anchor of the pricing campaign" \\
          --by "Tom O." --approved-by "Priya N." --approved-by "Ana L."
    """
    from launchtier.engine.decide.recorded import override_decision

    with _ledger(db_path) as ledger:
        o, warnings = override_decision(ledger, key, tier, reason=reason, by=by, approved_by=list(approved_by))
    click.echo(one_line(render.overridden_text(o)))
    for warning in warnings:
        click.echo(f"warning: {one_line(warning)}", err=True)


@click.command()
@click.option("--item", "item", metavar="KEY", help="Only this item.")
@quarter_option
@click.option("--tier", metavar="TIER", help="Only decisions whose final tier is TIER (a tier of the rulebook or of the ledger).")
@format_option("table", "json", "csv")
@click.option("--all-chains", "all_chains", is_flag=True,
              help="Every chain of the ledger's database (the company-wide view), one after the other, each named.")
@rules_option
@ledger_option
def decisions(item, quarter, tier, fmt, all_chains, rules_path, db_path) -> None:
    """The history of recorded decisions: each item's decisions in order, computed and final
    tier, and the overrides with their reasons.

    \b
    Example:
      launchtier decisions --item PAY-12
      launchtier decisions --quarter 2027-Q1 --format csv > q1-decisions.csv
      launchtier decisions --all-chains --db postgresql://me@db.example/launches
    """
    if all_chains:
        _all_decisions(item, quarter, tier, fmt, rules_path, db_path)
        return
    with _ledger(db_path, readonly=True) as ledger:
        if tier is not None:
            _check_tier(tier, load(rules_path), ledger)
        if item is not None:
            _notice_unknown_item(item, ledger)
        records = ledger.history(item=item, quarter=quarter, tier=tier)
        # written as the history is read: a ledger of any size in little memory
        from ..render import ledger as render_ledger

        if fmt == "json":
            write_chunks(array_document("decisions", render_ledger.decisions_json(records)))
        elif fmt == "csv":
            write_chunks(render_ledger.decisions_csv_chunks(records))
        else:
            write_chunks(terminal(line) + "\n" for line in render_ledger.decisions_table_lines(records, width()))


def _all_decisions(item, quarter, tier, fmt, rules_path, db_path) -> None:
    """The decisions of every chain, each chain's named: a section per chain in a table, a
    ``chain`` field (JSON) or first column (CSV) in the others."""
    from launchtier.engine.ledger import every_chain

    from ..render import ledger as render_ledger

    book = load(rules_path) if tier is not None else None
    chains = every_chain(db_path)

    def each():
        for name, location in chains:
            with _ledger(location, readonly=True) as ledger:
                if book is not None:
                    _check_tier(tier, book, ledger)
                yield name, ledger, ledger.history(item=item, quarter=quarter, tier=tier)

    if fmt == "json":
        write_chunks(array_document("decisions", (
            f'{{\n  "chain": "{name}",' + text[1:]
            for name, _, records in each() for text in render_ledger.decisions_json(records))))
    elif fmt == "csv":
        header = True
        for name, _, records in each():
            chunks = render_ledger.decisions_csv_chunks(records)
            head = next(chunks).splitlines(keepends=True)
            write_chunks([*(["chain," + head[0]] if header else []), *(f"{name}," + line for line in head[1:])])
            header = False
            write_chunks(f"{name}," + line for chunk in chunks for line in chunk.splitlines(keepends=True))
    else:
        for index, (name, ledger, records) in enumerate(each()):
            click.echo(("\n" if index else "") + one_line(f"chain {name} ({ledger.location}):"))
            write_chunks(terminal(line) + "\n" for line in render_ledger.decisions_table_lines(records, width()))


def _notice_unknown_item(item: str, ledger) -> None:
    """A notice when no decision of ``item`` is recorded: a mistyped key lists nothing, like a
    filter that matches nothing, so say which key was probably meant."""
    from launchtier.engine.rulebook.conditions import suggest

    keys = ledger.latest_keys()
    if item not in keys:
        click.echo(one_line(f"notice: no decision recorded for item {item}{suggest(item, sorted(keys))}"), err=True)


def _check_head(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None or re.fullmatch(r"sha256:[0-9a-f]{64}", value):
        return value
    raise click.BadParameter(f"'{value}' is not a chain head; give the one record printed, "
                             "like sha256: and 64 hexadecimal digits")


@click.command()
@rules_option
@engine_option
@since_option
@format_option("text", "json", "markdown")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes to spread a large ledger's entries over.")
@click.option("--expect-head", "expect_head", metavar="HASH", callback=_check_head,
              help="The chain head that record printed, noted elsewhere: the audit fails unless an entry "
                   "of the chain has it (entries deleted from the end, or a wiped or replaced ledger, show).")
@click.option("--all-chains", "all_chains", is_flag=True,
              help="Audit every chain of the ledger's database (the company-wide view), each on its own; exit code 1 "
                   "when any fails.")
@ledger_option
def audit(rules_path, engine, since, fmt, jobs, expect_head, all_chains, db_path) -> None:
    """Audit the ledger: the hash chain verifies; every decision replays to the same tier under
    its own rulebook; which items the current rulebook (or --rules) would now tier differently
    and which rule changes cause it; overrides against the approval policy; tiers per quarter
    against capacity. Exit code 1 when the ledger's integrity fails or a decision does not
    replay (tampering, or a fault of the engine).

    \b
    Example:
      launchtier audit
      launchtier audit --rules rules-2027/ --since 2027-01-01 --format markdown
    """
    from launchtier.engine.ledger.audit import audit as run_audit, audit_chains

    book = load(rules_path)
    if all_chains:
        if expect_head is not None:
            raise click.UsageError("--expect-head is one chain's head: give it without --all-chains")
        reports = audit_chains(db_path, book, since=since, engine=engine, jobs=jobs)
    else:
        with _ledger(db_path, audit=True, readonly=True) as ledger:
            reports = [run_audit(ledger, book, since=since, engine=engine, jobs=jobs, expect_head=expect_head)]
    from ..render import ledger as render_ledger

    if fmt == "json":
        if all_chains:
            write_chunks(array_document("audits", (r.model_dump_json(indent=2) for r in reports)))
        else:
            click.echo(document(reports[0]))
    elif fmt == "markdown":
        click.echo(terminal("\n".join(render_ledger.audit_markdown(r) for r in reports)), nl=False)
    else:
        click.echo(terminal("\n\n".join(render_ledger.audit_text(r, width()) for r in reports)))
    if not all(r.ok for r in reports):
        raise SystemExit(1)


def _check_tier(tier: str, book, ledger) -> None:
    """The engine's refusal of a tier that is neither the rulebook's nor recorded, as a usage error."""
    from launchtier.engine.decide.recorded import check_recorded_tier
    from launchtier.engine.errors import InputError

    try:
        check_recorded_tier(tier, book, ledger)
    except InputError as e:
        raise click.BadParameter(str(e), param_hint="'--tier'") from None


# ---- launchtier ledger ... ----------------------------------------------------------------------

@click.group("ledger")
def ledger_group() -> None:
    """The ledger itself: its chain head, its chains, a new chain, a copy of a chain into another
    ledger (SQLite to PostgreSQL and back), and the SQL of a role that may only record.

    \b
    Example:
      launchtier ledger head
      launchtier ledger copy launchtier.db "postgresql://me@db.example/launches?chain=payments"
    """


@ledger_group.command("head")
@ledger_option
def head(db_path) -> None:
    """Print the chain head: the hash of the newest entry. Note it elsewhere (a Git commit, a
    ticket); launchtier audit --expect-head HASH then catches the newest entries deleted.

    \b
    Example:
      git commit --allow-empty -m "launch ledger head $(launchtier ledger head)"
    """
    with _ledger(db_path, readonly=True) as ledger:
        hash_ = ledger.head()
    if hash_ is None:
        click.echo(one_line(f"notice: {ledger.location} has no entries yet: no chain head"), err=True)
    else:
        click.echo(hash_)


@ledger_group.command("chains")
@ledger_option
def chains_command(db_path) -> None:
    """List the chains of the ledger's database, one per line (an SQLite file holds one, main).
    Each team's chain is ?chain=NAME in a PostgreSQL URL.

    \b
    Example:
      launchtier ledger chains --db postgresql://me@db.example/launches
    """
    from launchtier.engine.ledger import chains

    for name in chains(db_path):
        click.echo(name)


@ledger_group.command("init")
@ledger_option
def init(db_path) -> None:
    """Create the ledger (or a PostgreSQL database's chain) and bring its schema to this
    launchtier's version, without recording anything: what an administrator runs before granting
    a writer role (launchtier ledger grants).

    \b
    Example:
      launchtier ledger init --db "postgresql://admin@db.example/launches?chain=payments"
    """
    from launchtier.engine.ledger.schema import SCHEMA_VERSION

    with _ledger(db_path, create=True) as ledger:
        location = ledger.location
    click.echo(one_line(f"ledger ready at {location} (schema version {SCHEMA_VERSION})"))


@ledger_group.command("grants")
@click.option("--role", default="launchtier_writer", show_default=True, metavar="ROLE",
              help="The role that may record and read the chain, and nothing else.")
@ledger_option
def grants(role, db_path) -> None:
    """Print the SQL that lets a PostgreSQL role record in the chain and read it, never update,
    delete or truncate (the chain's triggers refuse those to every role anyway). Run it as the
    ledger's owner, after launchtier ledger init.

    \b
    Example:
      launchtier ledger grants --db "postgresql://admin@db.example/launches?chain=payments" | psql launches
    """
    from launchtier.engine.ledger import writer_grants

    click.echo(writer_grants(db_path, role), nl=False)


@ledger_group.command("copy")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@rules_option
@engine_option
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes to spread each side's audit over.")
def copy(source, destination, rules_path, engine, jobs) -> None:
    """Copy the chain of the ledger SRC into DST, hashes and all (an SQLite file into a
    PostgreSQL chain, or back), then audit both sides. DST must be empty, or an earlier copy of
    the same chain, which gets the entries after it. Exit code 1 when either side fails its audit.

    \b
    Example:
      launchtier ledger copy payments.db "postgresql://me@db.example/launches?chain=payments"
    """
    from launchtier.engine.ledger.copy import copy_chain

    done = copy_chain(source, destination, load(rules_path), engine=engine, jobs=jobs)
    click.echo(one_line(f"copied {done.copied} {'entry' if done.copied == 1 else 'entries'} from {done.source} to {done.destination}"
                        + (f" (after the {done.already} it held)" if done.already else "")))
    for side, report in (("source", done.source_audit), ("destination", done.destination_audit)):
        click.echo(one_line(f"audit of the {side}: {report.integrity.entries} entries, integrity "
                            f"{'ok' if report.integrity.ok else 'FAILED'}, {report.reproducibility.checked} decisions "
                            f"replayed{'' if report.reproducibility.ok else ' with mismatches'}"))
    click.echo(f"chain head {done.head or '(empty)'}")
    if not done.ok:
        raise SystemExit(1)

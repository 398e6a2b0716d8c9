"""Reporters for the ledger: decision history and the audit."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Iterable, Iterator


if TYPE_CHECKING:
    from launchtier.engine.ledger.audit import AuditReport
    from launchtier.engine.ledger.records import DecisionRecord

from .text import heading, lead, md, plural, to_csv, wrap, wrap_width
from .safe import cells, one_line, style


def decisions_table(records: Iterable[DecisionRecord], width: int | None = None) -> str:
    return "\n".join(decisions_table_lines(records, width))


def decisions_table_lines(records: Iterable[DecisionRecord], width: int | None = None) -> Iterator[str]:
    """The table's lines, each written as its record is read (a history of any size), so its
    columns are fixed for ``width`` rather than measured (see :func:`_layout`)."""
    header = True
    for r in records:
        if header:
            yield from _table_header(width)
            header = False
        yield from _table_rows(r, width)
    if header:
        yield "no decisions recorded (that match)"


def _layout(width: int | None) -> tuple[int, bool]:
    """The QUARTER column's width and whether BY goes under its row: under 100 columns the
    quarter column is as wide as a quarter (2027-Q1), and BY moves down when it would have
    under 12 columns of its own."""
    quarter_w = 7 if width is not None and width < 100 else 11
    return quarter_w, width is not None and width < 71 + quarter_w + 12


def _table_header(width: int | None) -> list[str]:
    quarter_w, by_below = _layout(width)
    head = (f"{'#':>5}  {'RECORDED':<20}  {'ITEM':<10} {'QUARTER':<{quarter_w}} {'COMPUTED':<9} {'FINAL':<9} "
            f"{'SET BY':<9}" + ("" if by_below else " BY"))
    return heading(head.rstrip(), width)  # wrapped only narrower than the rows, which wrap too


def _table_rows(r: DecisionRecord, width: int | None) -> list[str]:
    final = r.final_tier + ("*" if r.overrides else "")
    quarter_w, by_below = _layout(width)
    indent = " " * 7
    # a line break in a name would start a row of its own
    row = one_line(f"{r.seq:>5}  {r.recorded_at:<20}  {r.item:<10} {r.quarter or '-':<{quarter_w}} {r.computed_tier:<9} "
                   f"{final:<9} {r.set_by:<9}" + ("" if by_below else f" {r.recorded_by}")).rstrip()
    out = wrap(row, width, hang=indent + "  ")  # a key or a name longer than its column
    if by_below:
        out += wrap(one_line(f"by {r.recorded_by}"), width, indent, indent + "   ")
    if r.note:
        out += wrap(f"note: {r.note}", width, indent, indent + "      ", prose=True)
    d = r.decision
    if d.capacity is not None:
        out += wrap(f"capacity: {d.capacity.reason} (its rules give {d.capacity.computed_tier})", width, indent, indent + "  ",
                    prose=True)
    if d.override is not None and not r.overrides:
        o = d.override
        who = o.by + (f", approved by {', '.join(o.approved_by)}" if o.approved_by else "")
        out += wrap(f"override #{o.seq} recorded with it: {o.from_tier} → {o.tier} by {who}: {o.reason}",
                    width, indent, indent + "  ", prose=True)
    for o in r.overrides:
        who = f"{o.by}" + (f", approved by {', '.join(o.approved_by)}" if o.approved_by else "")
        out += wrap(f"* override #{o.seq} {o.at}: {o.from_tier} → {o.tier} by {who}: {o.reason}", width, indent, indent + "  ",
                    prose=True)
    return out


def decisions_csv(records: Iterable[DecisionRecord]) -> str:
    return "".join(decisions_csv_chunks(records))


def decisions_csv_chunks(records: Iterable[DecisionRecord]) -> Iterator[str]:
    """The CSV's header, then its rows, each written as its record is read."""
    header = ["seq", "recorded_at", "item", "title", "quarter", "computed_tier", "final_tier", "set_by", "recorded_by",
              "note", "capacity_reason", "override_reason", "override_by", "approved_by", "rulebook_hash"]
    yield to_csv(header, [])
    for r in records:
        last = r.overrides[-1] if r.overrides else r.decision.override
        # a capacity move is kept when an override follows it: the computed tier is still capacity's
        capacity = r.decision.capacity
        yield to_csv(header, [[r.seq, r.recorded_at, r.item, r.title, r.quarter or "", r.computed_tier, r.final_tier,
                                r.set_by, r.recorded_by, r.note or "", capacity.reason if capacity else "",
                                last.reason if last else "", last.by if last else "",
                                ";".join(last.approved_by) if last else "", r.rulebook["hash"]]]).split("\n", 1)[1]


def decisions_json(records: Iterable[DecisionRecord]) -> Iterator[str]:
    """Each record's JSON (as json.dumps with indent 2 writes it), as its record is read: the
    elements of the ``decisions`` document (``output.array_document``)."""
    for r in records:
        yield json.dumps(r.model_dump(mode="json"), indent=2, ensure_ascii=False)


def _sections(report: AuditReport) -> list[tuple[str, bool, list[str]]]:
    """(title, ok, lines) for each part of the audit, shared by text and Markdown."""
    i = report.integrity
    integrity = [f"{i.entries} {'entry' if i.entries == 1 else 'entries'}; chain head {i.head}" if i.entries else
                 "0 entries: the ledger is empty; chain head (empty)"]
    if report.expected_head is not None and report.expected_at is not None:
        integrity.append("chain head as expected (--expect-head)" if report.expected_head == i.head else
                         f"expected chain head {report.expected_head[:19]}… is entry #{report.expected_at}; "
                         f"the entries after it were recorded since")
    integrity += [f"BROKEN at #{b.seq} (item {b.item}): {b.problem}" if b.seq else f"BROKEN: {b.problem}" for b in i.breaks]

    r = report.reproducibility
    repro = [f"{plural(r.checked, 'decision')} replayed under "
             + ("its own rulebook" if r.checked == 1 else "their own rulebooks")
             + f"; {len(r.mismatches)} differ" + ("s" if len(r.mismatches) == 1 else "")]
    for m in r.mismatches:
        if m.problem:
            repro.append(f"#{m.seq} {m.item}: cannot be replayed: {m.problem}")
        else:
            # the same tier and rules: the line says what else differs
            same = m.recorded_tier == m.replayed_tier and m.recorded_fired == m.replayed_fired
            differs = f"; differs in {', '.join(m.differs_in)}" if same and m.differs_in else ""
            repro.append(f"#{m.seq} {m.item}: recorded {m.recorded_tier} ({', '.join(m.recorded_fired) or 'no rules'}), "
                         f"replays as {m.replayed_tier} ({', '.join(m.replayed_fired) or 'no rules'}){differs}")
    if r.mismatches:
        repro.append(NO_REPLAY)

    d = report.drift
    latest = "item's latest decision" if d.items_checked == 1 else "items' latest decisions"
    drift = [f"{d.items_checked} {latest} under rulebook {d.rulebook['name']} {d.rulebook['version']} "
             f"({d.rulebook['hash'][:19]}…): {len(d.changed)} would change tier"]
    for c in d.changed:
        final = f", final {c.final_tier}" if c.final_tier != c.recorded_tier else ""
        drift.append(f"{c.item} {c.title}: {c.recorded_tier}{final} → {c.new_tier} (decision #{c.seq})")
        for cause in c.causes:
            drift.append(f"    because {cause.part} {cause.id} {cause.change}: {cause.detail}")
    for old_hash, changes in d.rule_changes.items():
        drift.append(f"changes since rulebook {old_hash[:19]}…: {len(changes)}")
        drift += [f"    {c.part} {c.id} {c.change}: {c.detail}" for c in changes]

    overrides = [f"{plural(len(report.overrides), 'override')}; {sum(o.below_policy for o in report.overrides)} below the approval policy"]
    for o in report.overrides:
        flag = f" BELOW POLICY: {'; '.join(o.problems)}" if o.below_policy else ""
        approvers = ", ".join(o.approved_by) or "no approvers"
        overrides.append(f"#{o.seq} {o.at} {o.item}: {o.from_tier} → {o.tier} by {o.by} ({approvers}): {o.reason}{flag}")

    dist = []
    for q in report.distribution:
        tiers = ", ".join(f"{t} {n}" for t, n in q.tiers.items())
        over = f"  OVER CAPACITY: {'; '.join(q.over_capacity)}" if q.over_capacity else ""
        dist.append(f"{q.quarter}: {tiers}{over}")
    if not dist:
        dist = ["no decisions"]
    return [
        ("1. Integrity", i.ok, integrity),
        ("2. Reproducibility", r.ok, repro),
        ("3. Drift", not d.changed, drift),
        ("4. Overrides", not any(o.below_policy for o in report.overrides), overrides),
        ("5. Tiers per quarter (final tiers, latest decisions)", not any(q.over_capacity for q in report.distribution), dist),
    ]


NO_REPLAY = ("a decision that does not replay under its own rulebook means tampering (an entry rewritten and "
             "the chain recomputed) or a fault of the engine")


def _verdict(report: AuditReport) -> str:
    """The audit's last word: what fails it."""
    if not report.integrity.ok:
        return "FAILED"
    if not report.ok:
        n = len(report.reproducibility.mismatches)
        return f"FAILED: {n} decision{' does' if n == 1 else 's do'} not replay (tampering or an engine fault)"
    return "ok" if report.integrity.entries else "ok (0 entries: the ledger is empty)"


SECTION_WORDS = {"integrity": "integrity", "reproducibility": "replay", "drift": "drift", "overrides": "overrides",
                 "distribution": "tiers per quarter"}


def _window(report: AuditReport) -> list[str]:
    """What --since limits, in a line; nothing without it."""
    w = report.window
    if w is None:
        return []
    *first, last = [SECTION_WORDS[s] for s in w.limited]
    limited = f"{', '.join(first)} and {last}" if first else last
    whole = " and ".join(SECTION_WORDS[s] for s in w.whole)
    return [f"since {w.since}: {limited} cover entries recorded on or after it; {whole} covers the whole chain"]


def audit_text(report: AuditReport, width: int | None = None) -> str:
    out = lead(f"Audit of {report.ledger}", f" since {report.since}" if report.since else "", width, "  ", bold=True)
    out += [line for w in _window(report) for line in wrap(w, width, hang="  ")]
    for title, ok, lines in _sections(report):
        mark = style("ok", fg="green") if ok else style("attention", fg="red", bold=True)
        if cells(f"{title}: {'ok' if ok else 'attention'}") <= wrap_width(width):
            out += ["", f"{style(title, bold=True)}: {mark}"]
        else:  # narrower than the title: wrapped, the mark after it
            out += ["", *heading(f"{title}:", width), f"  {mark}"]
        for line in lines:  # a title or a reason with a line break stays on its line
            depth = len(line) - len(line.lstrip(" "))
            out += wrap(one_line(line), width, "  ", " " * (depth + 4), break_on_hyphens=False)
    out += ["", *wrap("integrity: " + _verdict(report), width, hang="  ")]
    return "\n".join(out)


def audit_markdown(report: AuditReport) -> str:
    out = [f"# Audit of {md(report.ledger)}" + (f" since {report.since}" if report.since else ""), ""]
    out += [md(line) for line in _window(report)] + ([""] if report.window else [])
    for title, ok, lines in _sections(report):
        out += [f"## {title}: {'ok' if ok else 'attention'}", ""]
        out += [f"- {md(line.strip())}" for line in lines]
        out.append("")
    out.append(f"**Integrity: {_verdict(report)}**")
    return "\n".join(out) + "\n"

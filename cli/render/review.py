"""Reporters for the roadmap review: a table for the terminal and Markdown for meeting notes.
(The standalone HTML page is in html.py.)"""

from __future__ import annotations


from launchtier.engine import Rulebook
from launchtier.engine.decide.whatif import score_label
from launchtier.engine.roadmap.review import PersonLoad, ReviewItem, ReviewReport

from launchtier.engine.decide.decision import check_text
from .text import glued, lead, md, plural, scores_kept, short, stage_sentence, stage_text, tier_style, wrap
from .safe import cells, clip, one_line, style, styled

MAX_CLOSE = 3
# what makes an item disputed, for the legends of every review format
DISPUTED = ("the quarter's capacity moved it, or a small change the team could decide (the rulebook's "
            "moves: a yes/no, the next value, a number within a twentieth of its range) gives it another tier")


def close_lines(item: ReviewItem, limit: int = MAX_CLOSE) -> list[str]:
    """The item's close calls, the first ``limit`` of them and how many more."""
    shown = item.close[:limit]
    if len(item.close) > limit:
        shown.append(f"and {len(item.close) - limit} more")
    return shown


def since_last(item: ReviewItem) -> str:
    """What changed since the item's last recorded decision, in a few words."""
    p = item.previous
    if p is None:
        return "new"
    parts = [f"was {p.final_tier}" if p.tier_changed else "unchanged"]
    parts += [f"{signal} {move}" for signal, move in p.moved.items()]
    return ", ".join(parts)


def days(n: float) -> str:
    return f"{n:g} day" + ("" if n == 1 else "s")


def person_load(p: PersonLoad, about: str = "") -> str:
    """A person's work in a quarter: '2 items, 1 artifact, 3 days'."""
    return f"{plural(p.items, 'item')}, {plural(p.artifacts, 'artifact')}, {about}{days(p.days)}"


def _header(report: ReviewReport, book: Rulebook) -> list[str]:
    scope = f"quarter {report.quarter}" if report.quarter else "all quarters"
    lines = [f"{plural(len(report.items), 'item')}, {scope}; {len(report.disputed)} disputed. "
             f"Rulebook {report.rulebook.name} {report.rulebook.version} ({report.rulebook.hash[:19]}…)."]
    for tier, cap in book.capacity.items():
        lines.append(f"Capacity: at most {cap.max} {tier} per {cap.per}; candidates ranked {report.ranking[tier]}.")
    return lines


def review_table(report: ReviewReport, book: Rulebook, width: int | None = None) -> str:
    """The review as a table for ``width`` columns (None: piped, see render/text.py): under 100
    the QUARTER column is as wide as a quarter, SINCE LAST wraps in its column, a title is cut
    to its line; any other line too long wraps under itself."""
    out = [style("Roadmap review", bold=True)] + _header(report, book) + [""]
    names = list(book.score_names)
    key_w = max([3] + [cells(i.decision.item) for i in report.items])
    quarter_w = 7 if width is not None and width < 100 else 11
    head = f"{'KEY':<{key_w}}  {'QUARTER':<{quarter_w}} {'TIER':<24} " + " ".join(f"{short(n):>3}" for n in names) + "  "
    # SINCE LAST in a column of at least 12, else under the title
    since_below = width is not None and width - cells(head) < 12
    out.append(style(head.rstrip() if since_below else head + "SINCE LAST", bold=True))
    indent = " " * (key_w + 2)
    since_col = " " * cells(head)
    for item in report.items:
        d = item.decision
        tier = tier_style(d.kind, f"{d.tier} {d.label}"[:24].ljust(24))
        scores = " ".join(f"{d.scores[n]:>3}" for n in names)
        flag = style("!", fg="yellow", bold=True) if item.disputed else " "
        since = [] if since_below else wrap(since_last(item), None if width is None else width - len(since_col),
                                            break_on_hyphens=False)
        out.append(f"{d.item:<{key_w}}{flag} {item.quarter or '-':<{quarter_w}} {tier} {scores}  {since[0] if since else ''}".rstrip())
        out += [since_col + line for line in since[1:]]
        title = " ".join(d.title.split())
        out.append(indent + (title if width is None else clip(title, width - len(indent))))
        if since_below:
            out += wrap(f"since last: {since_last(item)}", width, indent, indent + "  ", break_on_hyphens=False)
        if d.override is not None:
            out += wrap(stage_text(d), width, indent, indent + "  ", prose=True)
        for line in close_lines(item):
            out += wrap(f"close: {scores_kept(line)}", width, indent, indent + "  ", prose=True, break_on_hyphens=False)
    out.append("")
    for q in report.quarters:
        tiers = ", ".join(f"{t} {n}" for t, n in q.tiers.items())
        work = "; ".join(glued(f"{w.owner} {plural(w.artifacts, 'artifact')},") + " " + glued(days(w.days))
                         for w in q.workload)
        out += lead(q.quarter, f": {tiers}. Workload: {work or 'none'}.", width, "  ", bold=True)
        out += [one_line(f"  {p.role} {p.name}: {person_load(p)}") for p in q.people]
        out += [f"  capacity: {c}" for c in q.capacity]
    out += [wrapped for line in _after(report) for wrapped in wrap(line, width, hang="  ", prose=True)]
    out += wrap(f"! disputed: {DISPUTED}.", width, hang="  ", prose=True)
    return "\n".join(_fit(out, width))


def _fit(lines: list[str], width: int | None) -> list[str]:
    """``lines`` with each too long for ``width`` wrapped under itself (piped: as they are); a
    styled line is laid out to fit by its maker."""
    if width is None:
        return lines
    out = []
    for line in lines:
        if cells(line) <= width or styled(line):
            out.append(line)
        else:
            out += wrap(line, width, hang=" " * (len(line) - len(line.lstrip(" ")) + 2), break_on_hyphens=False)
    return out


def _after(report: ReviewReport) -> list[str]:
    """What the roadmap does beyond its own items: overrides past a capacity, and items
    recorded earlier that it decides again (recording it records those too)."""
    return [f"warning: {w}" for w in report.warnings] + [
        f"recorded earlier, decided again with this roadmap: {d.item} {d.tier}; {stage_text(d)}" for d in report.also_changed]


def review_markdown(report: ReviewReport, book: Rulebook) -> str:
    title = f"# Roadmap review: {report.quarter}" if report.quarter else "# Roadmap review"
    out = [title, ""] + [md(line) for line in _header(report, book)] + [""]
    disputed = report.disputed
    out += [f"## Disputed items ({len(disputed)})", ""]
    if disputed:
        out += ["| Key | Title | Quarter | Tier | Why it is close |", "|---|---|---|---|---|"]
        for item in disputed:
            d = item.decision
            out.append(f"| {md(d.item)} | {md(d.title)} | {item.quarter or 'unscheduled'} | {d.tier} {md(d.label)} | "
                       f"{'<br>'.join(md(c) for c in close_lines(item))} |")
    else:
        out.append("None: no item's tier turns on a small decision of the team or on the quarter's capacity.")
    names = list(book.score_names)
    out += ["", "## Tiers", "",
            "| Key | Title | Quarter | Tier | Kind | " + " | ".join(score_label(book, n) for n in names) + " | PM | PMM | Since last review |",
            "|" + "---|" * (8 + len(names))]
    for item in report.items:
        d = item.decision
        out.append(f"| {md(d.item)} | {md(d.title)} | {item.quarter or 'unscheduled'} | {d.tier} {md(d.label)} | {d.kind} | "
                   + " | ".join(str(d.scores[n]) for n in names)
                   + f" | {md(item.pm or '')} | {md(item.pmm or '')} | {md(since_last(item))} |")
    out += ["", "## Quarters", ""]
    for q in report.quarters:
        out += [f"### {q.quarter}", "", "- Tiers: " + ", ".join(f"{t}: {n}" for t, n in q.tiers.items())]
        out += [f"- Capacity: {md(c)}" for c in q.capacity]
        for w in q.workload:
            out.append(f"- Workload {md(w.owner)}: {plural(w.artifacts, 'artifact')}, about {days(w.days)}")
            out += [f"  - {md(p.name)}: {person_load(p, 'about ')}" for p in q.people if p.role == w.owner]
        out.append("")
    out += [f"- {md(line)}" for line in _after(report)] + ([""] if _after(report) else [])
    out += ["## Items", ""]
    for item in report.items:
        d = item.decision
        out += [f"### {md(d.item)}: {md(d.title)}", "",
                f"**{d.tier} {md(d.label)}** ({d.kind}), {item.quarter or 'unscheduled'}"
                + (f"; PM {md(item.pm)}" if item.pm else "") + (f", PMM {md(item.pmm)}" if item.pmm else ""), ""]
        if d.capacity:
            out += [f"- Capacity: {md(d.capacity.reason)} (its rules give {d.capacity.computed_tier})"]
        if d.override:
            out += [f"- {md(stage_sentence(d))}"]
        for f in d.fired:
            points = ", ".join(f"{dim} {p:+d}" for dim, p in f.score.items())
            out.append(f"- {md(f.rule)} ({points}): {md(f.because)}")
        if not d.fired:
            out.append("- No rule fired.")
        for h in d.higher_tiers[-1:]:
            if h.failed:
                out.append(f"- Not {h.tier}: " + "; ".join(md(check_text(c)) for c in h.failed))
        for c in close_lines(item, limit=len(item.close)):
            out.append(f"- Close: {md(c)}")
        if item.previous:
            out.append(f"- Since last review (decision #{item.previous.seq}, {item.previous.recorded_at[:10]}): {md(since_last(item))}")
        owners: dict[str, list[str]] = {}
        for a in d.artifacts:
            owners.setdefault(a.owner, []).append(f"  - [ ] {md(a.name)} ({md(a.category)})")
        for owner, lines in owners.items():
            out += [f"- {md(owner)} checklist:"] + lines
        out.append("")
    return "\n".join(out).rstrip() + "\n"

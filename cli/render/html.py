"""The standalone HTML review report: one file that opens offline, prints, and projects in the meeting.

It shows what the Markdown report shows (review.py), plus a bar chart of tiers per quarter in
inline SVG. No scripts, fonts, images or links leave the file; a Content-Security-Policy says so to
the browser. Every text that comes from items or the rulebook goes through ``esc``, in SVG too.
"""

from __future__ import annotations

from html import escape
from typing import Any

from launchtier.engine import Rulebook
from launchtier.engine.decide.decision import ArtifactRef
from launchtier.engine.decide.tally import tier_counts
from launchtier.engine.decide.whatif import score_label
from launchtier.engine.roadmap.review import UNSCHEDULED, QuarterSummary, ReviewItem, ReviewReport

from launchtier.engine.decide.decision import check_text
from .text import plural, short, stage_sentence
from .review import DISPUTED, close_lines, since_last

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

# (background, text) per tier position, loudest first; the default (last) tier is always grey.
PALETTE = [("#1d4e89", "#ffffff"), ("#2a7f62", "#ffffff"), ("#f2c14e", "#1f1f1f"),
           ("#8e5ea2", "#ffffff"), ("#c05a1f", "#ffffff"), ("#4f9fcf", "#1f1f1f")]
DEFAULT_TIER = ("#c9ced6", "#1f1f1f")



def stylesheet() -> str:
    """The page's style sheet (review.css, shipped with the package), inlined into the page."""
    from importlib.resources import files

    return "\n" + files(__package__).joinpath("review.css").read_text(encoding="utf-8")


# ---- small helpers -------------------------------------------------------------------------
def esc(value: Any) -> str:
    """Escape a value for HTML text and for a double-quoted attribute."""
    return escape(str(value), quote=True)


def colours_of(book: Rulebook) -> dict[str, tuple[str, str]]:
    last = len(book.tiers) - 1
    return {t.id: DEFAULT_TIER if i == last else PALETTE[i % len(PALETTE)] for i, t in enumerate(book.tiers)}


def tier_css(book: Rulebook) -> str:
    colours = colours_of(book)
    return "\n".join(f".t{i} {{ background: {colours[t.id][0]}; color: {colours[t.id][1]}; }}"
                     for i, t in enumerate(book.tiers))


def badge(book: Rulebook, tier: str, text: str | None = None) -> str:
    label = f"{tier} {book.tier_by_id[tier].label}" if text is None else text
    return f'<span class="tier t{book.tier_index[tier]}">{esc(label)}</span>'


def _anchor(key: str) -> str:
    return f"item-{key}"


def _item_link(key: str) -> str:
    return f'<a href="#{esc(_anchor(key))}">{esc(key)}</a>'


def _list(lines: list[str], cls: str = "") -> str:
    """An HTML list of already-escaped lines."""
    attr = f' class="{cls}"' if cls else ""
    return f"<ul{attr}>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"


# ---- the page ------------------------------------------------------------------------------
def review_html(report: ReviewReport, book: Rulebook) -> str:
    title = f"Roadmap review: {report.quarter}" if report.quarter else "Roadmap review"
    body = [
        _header(report, book, title),
        '<nav><a href="#disputed">Disputed</a><a href="#tiers">Tiers</a>'
        '<a href="#quarters">Quarters</a><a href="#items">Items</a></nav>',
        "<main>",
        _disputed(report, book),
        _tier_table(report, book),
        _quarters(report, book),
        _items(report, book),
        "</main>",
        _footer(report),
    ]
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{stylesheet()}{tier_css(book)}\n</style>",
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
    ]) + "\n"


def _header(report: ReviewReport, book: Rulebook, title: str) -> str:
    rb = report.rulebook
    scope = f"quarter {report.quarter}" if report.quarter else "all quarters"
    counts = tier_counts(book, (i.decision.tier for i in report.items))
    tiers = " ".join(badge(book, t, f"{t}: {n}") for t, n in counts.items()) or "none"
    rows = [("Rulebook", f"{esc(rb.name)} {esc(rb.version)} <code>{esc(rb.hash)}</code>")]
    for tier, cap in book.capacity.items():
        rows.append(("Capacity", f"at most {cap.max} {esc(tier)} per {esc(cap.per)}; "
                                 f"candidates ranked {esc(report.ranking.get(tier, ''))}."))
    rows.append(("Tiers", tiers))
    if report.ledger:
        rows.append(("Ledger", f"<code>{esc(report.ledger)}</code>"))
    meta = "".join(f"<dt>{dt}</dt><dd>{dd}</dd>" for dt, dd in rows)
    summary = f"{plural(len(report.items), 'item')}, {esc(scope)}; {len(report.disputed)} disputed."
    return f'<header>\n<h1>{esc(title)}</h1>\n<p class="summary">{summary}</p>\n<dl class="meta">{meta}</dl>\n</header>'


def _disputed(report: ReviewReport, book: Rulebook) -> str:
    disputed = report.disputed
    out = [f'<section id="disputed">\n<h2>Disputed items ({len(disputed)})</h2>']
    if not disputed:
        out.append("<p>None: no item's tier turns on a small decision of the team or on the quarter's capacity.</p>")
    else:
        out.append(f'<p class="muted">Disputed: {esc(DISPUTED)}.</p>')
        out.append("<table><thead><tr><th>Key</th><th>Title</th><th>Quarter</th><th>Tier</th>"
                   "<th>Why it is close</th></tr></thead><tbody>")
        for item in disputed:
            d = item.decision
            out.append(f'<tr><td class="key">{_item_link(d.item)}</td><td>{esc(d.title)}</td>'
                       f"<td>{esc(item.quarter or UNSCHEDULED)}</td><td>{badge(book, d.tier)}</td>"
                       f"<td>{_list([esc(c) for c in close_lines(item)], 'close')}</td></tr>")
        out.append("</tbody></table>")
    out.append("</section>")
    return "\n".join(out)


def _tier_table(report: ReviewReport, book: Rulebook) -> str:
    names = list(book.score_names)
    scores = "".join(f'<th class="num"><abbr title="{esc(score_label(book, n))}">{esc(short(n))}</abbr></th>' for n in names)
    out = ['<section id="tiers">\n<h2>Tiers</h2>',
           f"<table><thead><tr><th>Key</th><th>Title</th><th>Quarter</th><th>Tier</th><th>Kind</th>{scores}"
           "<th>PM</th><th>PMM</th><th>Since last review</th></tr></thead><tbody>"]
    for item in report.items:
        d = item.decision
        flag = ' <span class="flag" title="disputed">!</span>' if item.disputed else ""
        cells = "".join(f'<td class="num">{d.scores[n]}</td>' for n in names)
        row = ' class="disputed"' if item.disputed else ""
        out.append(f'<tr{row}><td class="key">{_item_link(d.item)}{flag}</td>'
                   f"<td>{esc(d.title)}</td><td>{esc(item.quarter or UNSCHEDULED)}</td><td>{badge(book, d.tier)}</td>"
                   f"<td>{esc(d.kind)}</td>{cells}<td>{esc(item.pm or '')}</td><td>{esc(item.pmm or '')}</td>"
                   f"<td>{esc(since_last(item))}</td></tr>")
    legend = "; ".join(f"{short(n)} {score_label(book, n)}" for n in names)
    out += ["</tbody></table>",
            f'<p class="muted"><span class="flag">!</span> disputed. Scores: {esc(legend)}.</p>',
            "</section>"]
    return "\n".join(out)


# ---- quarters and the chart ----------------------------------------------------------------
def _quarters(report: ReviewReport, book: Rulebook) -> str:
    out = ['<section id="quarters">\n<h2>Quarters</h2>', _chart(report, book), '<div class="quarters">']
    out += [_quarter(q, book) for q in report.quarters]
    out += ["</div>", "</section>"]
    return "\n".join(out)


def _quarter(q: QuarterSummary, book: Rulebook) -> str:
    tiers = " ".join(badge(book, t, f"{t}: {n}") for t, n in q.tiers.items())
    out = [f'<article class="quarter" id="quarter-{esc(q.quarter)}">', f"<h3>{esc(q.quarter)}</h3>", f"<p>{tiers}</p>"]
    out += [f'<p class="capacity-note">Capacity: {esc(c)}</p>' for c in q.capacity]
    if q.workload:
        out.append('<table class="workload"><thead><tr><th>Owner</th><th class="num">Artifacts</th>'
                   '<th class="num">Days (about)</th></tr></thead><tbody>')
        out += [f'<tr><td>{esc(w.owner)}</td><td class="num">{w.artifacts}</td><td class="num">{w.days:g}</td></tr>'
                for w in q.workload]
        out.append("</tbody></table>")
        # per person, by role, the most days first: who is overcommitted
        out.append('<table class="people"><thead><tr><th>Person</th><th>Role</th><th class="num">Items</th>'
                   '<th class="num">Artifacts</th><th class="num">Days (about)</th></tr></thead><tbody>')
        out += [f'<tr><td>{esc(p.name)}</td><td>{esc(p.role)}</td><td class="num">{p.items}</td>'
                f'<td class="num">{p.artifacts}</td><td class="num">{p.days:g}</td></tr>' for p in q.people]
        out.append("</tbody></table>")
    else:
        out.append('<p class="muted">Workload: none.</p>')
    out.append("</article>")
    return "\n".join(out)


# Chart geometry in SVG user units.
BAR, BAR_GAP, GROUP_GAP = 30, 4, 44
LEFT, TOP, PLOT_H, BOTTOM, LEGEND_W = 56, 24, 220, 56, 250


def _ticks(top: int) -> list[int]:
    step = max(1, -(-top // 5))
    return list(range(0, top + step, step))


def _chart(report: ReviewReport, book: Rulebook) -> str:
    """Grouped bars: one group per quarter, one bar per tier, in the tier colours, with a legend."""
    colours = colours_of(book)
    tiers = [t.id for t in book.tiers]
    group_w = len(tiers) * (BAR + BAR_GAP) - BAR_GAP
    width = LEFT + len(report.quarters) * (group_w + GROUP_GAP) + LEGEND_W
    height = TOP + PLOT_H + BOTTOM
    ticks = _ticks(max([1] + [n for q in report.quarters for n in q.tiers.values()]))
    scale = PLOT_H / ticks[-1]
    base = TOP + PLOT_H
    summary = "; ".join(f"{q.quarter}: " + (", ".join(f"{t} {n}" for t, n in q.tiers.items()) or "no items")
                        for q in report.quarters)
    label = f"Bar chart of items per tier and quarter. {summary}."
    out = [f'<figure><svg class="chart" role="img" aria-label="{esc(label)}" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}">',
           f"<title>Items per tier and quarter</title><desc>{esc(summary)}</desc>"]
    for t in ticks:
        y = base - t * scale
        out.append(f'<line x1="{LEFT}" x2="{width - LEGEND_W + 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e1e4e8"/>'
                   f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" fill="#444">{t}</text>')
    out.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{base}" stroke="#444"/>'
               f'<line x1="{LEFT}" x2="{width - LEGEND_W + 10}" y1="{base}" y2="{base}" stroke="#444"/>')
    for i, q in enumerate(report.quarters):
        x0 = LEFT + GROUP_GAP / 2 + i * (group_w + GROUP_GAP)
        out.append(_bar_group(q, tiers, colours, book, x0, base, scale, group_w))
    out.append(f'<text x="16" y="{TOP + PLOT_H / 2}" transform="rotate(-90 16 {TOP + PLOT_H / 2})" '
               f'text-anchor="middle" fill="#444">items</text>'
               f'<text x="{LEFT + (width - LEGEND_W - LEFT) / 2}" y="{height - 8}" text-anchor="middle" fill="#444">quarter</text>')
    out.append(_legend(book, colours, width - LEGEND_W + 30))
    out.append("</svg><figcaption>Items per tier in each quarter, after capacity.</figcaption></figure>")
    return "\n".join(out)


def _bar_group(q: QuarterSummary, tiers: list[str], colours: dict[str, tuple[str, str]], book: Rulebook,
               x0: float, base: float, scale: float, group_w: int) -> str:
    out = [f'<g class="bars" data-quarter="{esc(q.quarter)}">']
    for j, tier in enumerate(tiers):
        n = q.tiers.get(tier, 0)
        if not n:
            continue
        x, h = x0 + j * (BAR + BAR_GAP), n * scale
        tip = f"{q.quarter}: {plural(n, 'item')} {tier} {book.tier_by_id[tier].label}"
        out.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{BAR}" height="{h:.1f}" fill="{colours[tier][0]}">'
                   f"<title>{esc(tip)}</title></rect>"
                   f'<text x="{x + BAR / 2:.1f}" y="{base - h - 5:.1f}" text-anchor="middle" fill="#1f1f1f">{n}</text>')
    out.append(f'<text x="{x0 + group_w / 2:.1f}" y="{base + 20}" text-anchor="middle" font-weight="600" '
               f'fill="#1f1f1f">{esc(q.quarter)}</text>')
    out.append("</g>")
    return "".join(out)


def _legend(book: Rulebook, colours: dict[str, tuple[str, str]], x: float) -> str:
    out = ['<g class="legend">']
    for i, t in enumerate(book.tiers):
        y = TOP + i * 24
        out.append(f'<rect x="{x}" y="{y}" width="16" height="16" fill="{colours[t.id][0]}"/>'
                   f'<text x="{x + 24}" y="{y + 13}" fill="#1f1f1f">{esc(t.id)} {esc(t.label)}</text>')
    out.append("</g>")
    return "".join(out)


# ---- one section per item ------------------------------------------------------------------
def _items(report: ReviewReport, book: Rulebook) -> str:
    return "\n".join(['<section id="items">\n<h2>Items</h2>', *(item_section(i, book) for i in report.items), "</section>"])


def item_section(item: ReviewItem, book: Rulebook) -> str:
    d = item.decision
    facts = [badge(book, d.tier), esc(d.kind), esc(item.quarter or UNSCHEDULED)]
    facts += [f"PM {esc(item.pm)}"] if item.pm else []
    facts += [f"PMM {esc(item.pmm)}"] if item.pmm else []
    facts += ['<span class="flag">disputed</span>'] if item.disputed else []
    out = [f'<section class="item" id="{esc(_anchor(d.item))}">',
           f'<h3><span class="key">{esc(d.item)}</span> <span class="title">{esc(d.title)}</span></h3>',
           f'<p class="facts">{" · ".join(facts)}</p>']
    if d.capacity:
        out.append(f'<p class="capacity-note">Capacity: {esc(d.capacity.reason)} '
                   f"(its rules give {esc(d.capacity.computed_tier)})</p>")
    if d.override:
        out.append(f'<p class="capacity-note">{esc(stage_sentence(d))}</p>')
    out += _reasons(item, book)
    if item.previous:
        p = item.previous
        out.append(f'<p class="previous">Since last review (decision #{p.seq}, {esc(p.recorded_at[:10])}, '
                   f"then {esc(p.final_tier)}): {esc(since_last(item))}</p>")
    out.append(_checklist(d.artifacts))
    out.append("</section>")
    return "\n".join(out)


def _reasons(item: ReviewItem, book: Rulebook) -> list[str]:
    d = item.decision
    out = ["<h4>Rules fired</h4>"]
    if d.fired:
        lines = [f"<strong>{esc(f.rule)}</strong> ({esc(', '.join(f'{score_label(book, dim)} {p:+d}' for dim, p in f.score.items()))}): "
                 f"{esc(f.because)}" for f in d.fired]
        out.append(_list(lines, "fired"))
    else:
        out.append("<p>No rule fired.</p>")
    if d.tier_reason.conditions:
        out += [f"<h4>Why {esc(d.tier)}</h4>", _list([f"✓ {esc(check_text(c))}" for c in d.tier_reason.conditions], "why")]
    for h in d.higher_tiers[-1:]:
        if h.failed:
            out += [f"<h4>Why not {esc(h.tier)} {esc(book.tier_by_id[h.tier].label)}</h4>",
                    _list([f"✗ {esc(check_text(c))}" for c in h.failed], "why-not")]
    if item.close:
        out += ["<h4>Close calls</h4>", _list([esc(c) for c in item.close], "close")]
    return out


def by_owner(artifacts: list[ArtifactRef]) -> dict[str, list[ArtifactRef]]:
    """The artifacts per owner, the owners in the order they first come."""
    owners: dict[str, list[ArtifactRef]] = {}
    for a in artifacts:
        owners.setdefault(a.owner, []).append(a)
    return owners


def _checklist(artifacts: list[ArtifactRef]) -> str:
    if not artifacts:
        return '<h4>Checklist</h4><p class="muted">No artifacts.</p>'
    out = ['<h4>Checklist</h4><div class="owners">']
    for owner, arts in by_owner(artifacts).items():
        days = sum(a.effort or 0 for a in arts)
        effort = f", about {days:g} day{'' if days == 1 else 's'}" if days else ""
        out.append(f"<fieldset><legend>{esc(owner)} ({plural(len(arts), 'artifact')}{effort})</legend>")
        out += [f'<label><input type="checkbox"> {esc(a.name)} <span class="category">({esc(a.category)})</span></label>'
                for a in arts]
        out.append("</fieldset>")
    out.append("</div>")
    return "\n".join(out)


def _footer(report: ReviewReport) -> str:
    rb = report.rulebook
    return (f'<footer>Made by launchtier review with rulebook {esc(rb.name)} {esc(rb.version)} '
            f"(<code>{esc(rb.hash)}</code>). This page needs no network and runs no scripts.</footer>")

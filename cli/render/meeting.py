"""The live meeting page (``launchtier meeting``): the review's items and quarters, one item's
explanation with its what-if controls, and the confirm and result pages of recording and
overriding. Server-side HTML; every text from items, the rulebook or the ledger goes through
``esc``. Its style is review.css (the static report's) plus meeting.css; its one script,
meeting.js, only submits the what-if form when a control changes (the page works without it).
"""

from __future__ import annotations

import json
from typing import Any, Mapping, NamedTuple
from urllib.parse import urlencode

from launchtier.engine import Rulebook
from launchtier.engine.decide.decision import ArtifactRef, Explanation, check_text
from launchtier.engine.decide.whatif import WhatIf, change_text, score_label
from launchtier.engine.roadmap.review import UNSCHEDULED, QuarterSummary, ReviewItem, ReviewReport
from launchtier.engine.rulebook.conditions import literal
from launchtier.engine.rulebook.model import BoolSignal, EnumSignal, IntSignal

from .html import badge, by_owner, esc
from .review import close_lines, since_last
from .text import HELD_BUT_MOVED, plural, precedent_text, scores_kept, stage_sentence

TITLE = "launchtier meeting"
# an int signal of a wider range than this gets a number field: a slider could not set one value
SLIDER_SPAN = 1000


class View(NamedTuple):
    """What one request of the main page shows."""

    book: Rulebook
    prefix: str  # the page's path, with its token: "/TOKEN/"
    report: ReviewReport  # with the viewer's what-ifs
    base: ReviewReport  # of the files as they are
    whatifs: dict[str, dict[str, str]]  # the viewer's, as typed
    differences: dict[str, dict[str, tuple[Any, Any]]]  # per changed item: {signal: (file's, what-if's)}
    selected: str | None
    explanation: Explanation | None
    values: Mapping[str, Any]  # the selected item's signals, with its what-if
    head: str | None  # the ledger's chain head
    ledger: str  # where the ledger is, as shown


def form_value(value: Any) -> str:
    """A signal's value as a form control holds it (and as ``explain --set`` reads it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def whatif_json(whatifs: Mapping[str, Mapping[str, str]]) -> str:
    """The what-ifs as the page's addresses and forms carry them: compact JSON."""
    return json.dumps(whatifs, separators=(",", ":"), ensure_ascii=False)


def state_url(prefix: str, selected: str | None, whatifs: Mapping[str, Mapping[str, str]], page: str = "",
              **extra: str) -> str:
    """The URL of a page with the viewer's state: the selected item and the what-ifs (JSON)."""
    query = {k: v for k, v in {"item": selected, **extra}.items() if v}
    if whatifs:
        query["whatif"] = whatif_json(whatifs)
    return prefix + page + ("?" + urlencode(query) if query else "")


def document(title: str, prefix: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f'<link rel="stylesheet" href="{esc(prefix)}style.css">',
        f'<script src="{esc(prefix)}meeting.js" defer></script>',
        "</head>", '<body class="meeting">', *body, "</body>", "</html>",
    ]) + "\n"


# ---- the main page -------------------------------------------------------------------------
def main_page(v: View) -> str:
    report = v.report
    scope = f"quarter {report.quarter}" if report.quarter else "all quarters"
    changed = len(v.differences)
    head = f"<code>{esc(v.head)}</code>" if v.head else "none yet"
    header = [
        "<header>",
        f'<h1>Roadmap review <span class="muted">{esc(scope)}</span></h1>',
        f'<p class="summary">{plural(len(report.items), "item")}; {len(report.disputed)} disputed. '
        f"Rulebook {esc(report.rulebook.name)} {esc(report.rulebook.version)}. "
        f"Ledger <code>{esc(v.ledger)}</code>, chain head {head}.</p>",
    ]
    if changed:
        header.append(f'<p class="whatif-banner">What-if on {plural(changed, "item")}: not in the files, not recorded. '
                      f'<a class="reset-all" href="{esc(state_url(v.prefix, v.selected, {}))}">Reset all</a></p>')
    header.append("</header>")
    left = ['<div class="board">', _items_table(v), _quarters(v), _record_form(v), "</div>"]
    right = ['<div class="detail" id="detail">', _detail(v), "</div>"]
    return document(TITLE, v.prefix, [*header, '<main class="meeting-grid">', *left, *right, "</main>"])


def _items_table(v: View) -> str:
    base = {i.decision.item: i.decision for i in v.base.items}
    out = ['<section id="items">', "<h2>Items</h2>",
           '<table class="items"><thead><tr><th>Key</th><th>Title</th><th>Quarter</th><th>Tier</th></tr></thead><tbody>']
    for item in v.report.items:
        d = item.decision
        classes = [c for c, on in (("disputed", item.disputed), ("selected", d.item == v.selected),
                                   ("whatif", d.item in v.differences)) if on]
        row = f' class="{" ".join(classes)}"' if classes else ""
        flag = ' <span class="flag" title="disputed">!</span>' if item.disputed else ""
        was = base.get(d.item)
        diff = (f' <span class="was" title="the tier the files give">file: {esc(was.tier)}</span>'
                if was is not None and was.tier != d.tier else "")
        mark = ' <span class="whatif-mark" title="what-if">what-if</span>' if d.item in v.differences else ""
        out.append(f'<tr{row} data-key="{esc(d.item)}"><td class="key"><a href="{esc(state_url(v.prefix, d.item, v.whatifs))}'
                   f'">{esc(d.item)}</a>{flag}</td><td>{esc(d.title)}{mark}</td>'
                   f"<td>{esc(item.quarter or UNSCHEDULED)}</td>"
                   f'<td class="tier-cell">{badge(v.book, d.tier)}{diff}</td></tr>')
    out += ["</tbody></table>", '<p class="muted"><span class="flag">!</span> disputed: a small decision of the team or '
            "the quarter's capacity would give it another tier.</p>", "</section>"]
    return "\n".join(out)


def _quarters(v: View) -> str:
    base = {q.quarter: q for q in v.base.quarters}
    out = ['<section id="quarters">', "<h2>Quarters</h2>", '<div class="quarters">']
    out += [_quarter(q, base.get(q.quarter), v.book) for q in v.report.quarters]
    out += ["</div>", "</section>"]
    return "\n".join(out)


def _quarter(q: QuarterSummary, was: QuarterSummary | None, book: Rulebook) -> str:
    tiers = " ".join(badge(book, t, f"{t}: {n}") for t, n in q.tiers.items())
    differs = was is not None and was != q
    out = [f'<article class="quarter{" whatif" if differs else ""}" data-quarter="{esc(q.quarter)}">',
           f"<h3>{esc(q.quarter)}</h3>", f'<p class="tiers">{tiers}</p>']
    if differs and was.tiers != q.tiers:
        out.append(f'<p class="was">file: {esc(", ".join(f"{t}: {n}" for t, n in was.tiers.items()))}</p>')
    out += [f'<p class="capacity-note">Capacity: {esc(c)}</p>' for c in q.capacity]
    if differs and was.capacity != q.capacity:
        out += [f'<p class="was">file: {esc(c)}</p>' for c in was.capacity] or ['<p class="was">file: no capacity move</p>']
    before = {w.owner: w for w in (was.workload if was is not None else [])}
    if q.workload:
        out.append('<table class="workload"><thead><tr><th>Owner</th><th class="num">Artifacts</th>'
                   '<th class="num">Days</th><th class="num">File</th></tr></thead><tbody>')
        for w in q.workload:
            b = before.get(w.owner)
            file_cell = "" if b is not None and (b.artifacts, b.days) == (w.artifacts, w.days) else (
                f"{b.artifacts} / {b.days:g}" if b is not None else "0 / 0")
            out.append(f'<tr data-owner="{esc(w.owner)}"><td>{esc(w.owner)}</td><td class="num">{w.artifacts}</td>'
                       f'<td class="num">{w.days:g}</td><td class="num was">{esc(file_cell)}</td></tr>')
        out.append("</tbody></table>")
    else:
        out.append('<p class="muted">Workload: none.</p>')
    out.append("</article>")
    return "\n".join(out)


def _record_form(v: View) -> str:
    return "\n".join([
        '<section id="record">', "<h2>Record the review</h2>",
        "<p>Records every item's decision as the files give it (what <code>launchtier review --record</code> "
        "records), all or nothing. What-ifs are not recorded. You confirm on the next page.</p>",
        f'<form method="get" action="{esc(v.prefix)}record" class="decide">',
        '<label>By <input name="by" required autocomplete="name"></label>',
        '<label>Note <input name="note" placeholder="agreed in the room"></label>',
        f'<input type="hidden" name="item" value="{esc(v.selected or "")}">', _state_field(v.whatifs),
        '<button type="submit">Record…</button>', "</form>", "</section>",
    ])


# ---- the selected item ---------------------------------------------------------------------
def _detail(v: View) -> str:
    if v.explanation is None or v.selected is None:
        return '<p class="muted hint">Select an item to see why it has its tier and to try changes.</p>'
    ex = v.explanation
    d = ex.decision
    item = next((i for i in v.report.items if i.decision.item == d.item), None)
    base = next((i.decision for i in v.base.items if i.decision.item == d.item), None)
    facts = [badge(v.book, d.tier), esc(d.kind)]
    if item is not None:
        facts.append(esc(item.quarter or UNSCHEDULED))
        facts += [f"PM {esc(item.pm)}"] if item.pm else []
        facts += [f"PMM {esc(item.pmm)}"] if item.pmm else []
        facts += ['<span class="flag">disputed</span>'] if item.disputed else []
    out = [f'<section class="item" data-key="{esc(d.item)}">',
           f'<h2><span class="key">{esc(d.item)}</span> <span class="title">{esc(d.title)}</span></h2>',
           f'<p class="facts">{" · ".join(facts)}</p>',
           f'<p class="stage">{esc(stage_sentence(d))}</p>']
    out += _whatif_summary(v, d.item, base, d)
    out.append(_controls(v, d.item))
    out += _reasons(ex, v.book, item)
    out.append(_artifacts(d.artifacts))
    out += _precedents(ex)
    if item is not None and item.previous is not None:
        p = item.previous
        out.append(f'<p class="previous">Since last recorded (decision #{p.seq}, {esc(p.recorded_at[:10])}, then '
                   f"{esc(p.final_tier)}): {esc(since_last(item))}</p>")
    out.append(_override_form(v, d.item))
    out.append(_take_away(v, d.item))
    out.append("</section>")
    return "\n".join(out)


def _whatif_summary(v: View, key: str, base: Any, d: Any) -> list[str]:
    changes = v.differences.get(key)
    if not changes:
        return []
    lines = [f"{esc(s)}: {esc(literal(a))} → {esc(literal(b))}" for s, (a, b) in changes.items()]
    if base is not None and base.tier != d.tier:
        lines.append(f"tier: {esc(base.tier)} → {esc(d.tier)}")
    if base is not None:
        before, now = {a.id for a in base.artifacts}, {a.id for a in d.artifacts}
        added = [a.name for a in d.artifacts if a.id not in before]
        removed = [a.name for a in base.artifacts if a.id not in now]
        if added:
            lines.append("artifacts added: " + esc(", ".join(added)))
        if removed:
            lines.append("artifacts removed: " + esc(", ".join(removed)))
    others = {k: w for k, w in v.whatifs.items() if k != key}
    reset = state_url(v.prefix, key, others)
    return ['<div class="whatif-box"><h3>What-if (not in the file)</h3>',
            "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>",
            f'<p><a class="reset" href="{esc(reset)}">Reset this item to the file</a></p></div>']


def _controls(v: View, key: str) -> str:
    """The what-if form: one control per signal of the rulebook, the file's value marked."""
    book = v.book
    whatif = WhatIf(book)
    current = v.values
    changes = v.differences.get(key, {})
    others = {k: w for k, w in v.whatifs.items() if k != key}
    out = [f'<form method="get" action="{esc(v.prefix)}" class="whatif" id="whatif">',
           "<h3>What if</h3>",
           f'<input type="hidden" name="item" value="{esc(key)}">']
    out.append(_state_field(others))
    out.append('<div class="controls">')
    for name, sig in book.signals.items():
        value = current.get(name)
        field = f"sig.{name}"
        cls = " changed" if name in changes else ""
        was = (f'<span class="was">file: {esc(literal(changes[name][0]))}</span>' if name in changes else "")
        label = f'<span class="signal" title="{esc(sig.question)}">{esc(name)}</span>'
        if isinstance(sig, BoolSignal):
            control = (f'<input type="hidden" name="{esc(field)}" value="false">'
                       f'<input type="checkbox" class="toggle" name="{esc(field)}" value="true"{" checked" if value else ""}>')
        elif isinstance(sig, EnumSignal):
            options = "".join(f'<option value="{esc(o)}"{" selected" if o == value else ""}>{esc(o)}</option>'
                              for o in sig.values)
            control = f'<select name="{esc(field)}">{options}</select>'
        else:
            assert isinstance(sig, IntSignal)
            marks = sorted({x for c in whatif.comparisons_of(name)
                            for x in (c.value if isinstance(c.value, tuple) else (c.value,)) if isinstance(x, int)})
            listid = f"marks-{name}"
            datalist = (f'<datalist id="{esc(listid)}">' + "".join(f'<option value="{m}" label="{m}"></option>' for m in marks)
                        + "</datalist>")
            if sig.min is not None and sig.max is not None and sig.max - sig.min <= SLIDER_SPAN:
                control = (f'<input type="range" name="{esc(field)}" min="{sig.min}" max="{sig.max}" value="{esc(form_value(value))}"'
                           f' list="{esc(listid)}"><output>{esc(form_value(value))}</output>{datalist}')
            else:
                bounds = "".join(f' {k}="{b}"' for k, b in (("min", sig.min), ("max", sig.max)) if b is not None)
                control = (f'<input type="number" name="{esc(field)}"{bounds} value="{esc(form_value(value))}"'
                           f' list="{esc(listid)}">{datalist}')
            if marks:
                control += f'<span class="marks">thresholds: {esc(", ".join(str(m) for m in marks))}</span>'
        out.append(f'<label class="control{cls}" data-signal="{esc(name)}">{label}{control}{was}</label>')
    out += ["</div>", '<p><button type="submit">Apply</button> '
            f'<a class="reset" href="{esc(state_url(v.prefix, key, others))}">Reset</a></p>', "</form>"]
    return "\n".join(out)


def _reasons(ex: Explanation, book: Rulebook, item: ReviewItem | None) -> list[str]:
    d = ex.decision
    out = ["<h3>Rules fired</h3>"]
    if d.fired:
        out.append('<ul class="fired">' + "".join(
            f"<li><strong>{esc(f.rule)}</strong> "
            f"({esc(', '.join(f'{score_label(book, dim)} {p:+d}' for dim, p in f.score.items()))}): {esc(f.because)}</li>"
            for f in d.fired) + "</ul>")
    else:
        out.append("<p>No rule fired.</p>")
    out.append('<p class="scores">' + " · ".join(f"{esc(score_label(book, n))} <strong>{d.scores[n]}</strong>"
                                                 for n in book.score_names) + "</p>")
    out.append(f"<h3>Why {esc(d.tier_reason.tier)}</h3>")
    if d.tier_reason.conditions:
        out.append('<ul class="why">' + "".join(f"<li>✓ {esc(check_text(c))}</li>" for c in d.tier_reason.conditions) + "</ul>")
    else:
        out.append("<p>No higher tier's conditions hold, so the default tier applies.</p>")
    for h in reversed(d.higher_tiers):
        out.append(f"<h3>Why not {esc(h.tier)} {esc(book.tier_by_id[h.tier].label)}</h3>")
        lines = [f"✗ {check_text(c)}" for c in h.failed] or [f"✓ {HELD_BUT_MOVED}"]
        out.append('<ul class="why-not">' + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>")
    out.append("<h3>What would move it (one change at a time)</h3>")
    if ex.what_would_change:
        out.append('<ul class="changes">' + "".join(f"<li>{esc(scores_kept(change_text(book, c)))}</li>"
                                                    for c in ex.what_would_change) + "</ul>")
    else:
        out.append("<p>No single change of a signal moves this item to another tier.</p>")
    if item is not None and item.close:
        out.append("<h3>Close calls</h3>")
        out.append('<ul class="close">' + "".join(f"<li>{esc(c)}</li>" for c in close_lines(item)) + "</ul>")
    return out


def _artifacts(artifacts: list[ArtifactRef]) -> str:
    if not artifacts:
        return '<h3>Artifacts</h3><p class="muted">No artifacts.</p>'
    out = [f"<h3>Artifacts ({plural(len(artifacts), 'artifact')})</h3>", '<div class="owners">']
    for owner, arts in by_owner(artifacts).items():
        days = sum(a.effort or 0 for a in arts)
        out.append(f'<fieldset data-owner="{esc(owner)}"><legend>{esc(owner)} ({plural(len(arts), "artifact")}, '
                   f"about {days:g} day{'' if days == 1 else 's'})</legend><ul class=\"artifacts\">")
        out += [f'<li data-artifact="{esc(a.id)}">{esc(a.name)} <span class="category">({esc(a.category)}'
                f'{f", {a.effort:g} d" if a.effort else ""})</span></li>' for a in arts]
        out.append("</ul></fieldset>")
    out.append("</div>")
    return "\n".join(out)


def _precedents(ex: Explanation) -> list[str]:
    out = ["<h3>Precedents</h3>"]
    if not ex.precedents:
        return out + ['<p class="muted">None in the ledger.</p>']
    out.append('<ul class="precedents">' + "".join(f"<li><strong>{esc(p.item)}</strong> {esc(p.tier)} {esc(precedent_text(p))}</li>"
                                                   for p in ex.precedents) + "</ul>")
    return out


def _override_form(v: View, key: str) -> str:
    # every tier: the recorded decision's may be another than the one shown (a what-if, a newer file)
    options = "".join(f'<option value="{esc(t.id)}">{esc(t.id)} {esc(t.label)}</option>' for t in v.book.tiers)
    return "\n".join([
        '<div class="decide-box"><h3>Override the recorded decision</h3>',
        "<p>Disagree and commit: the latest recorded decision of this item moves to another tier, under the rulebook's "
        "approval policy (what <code>launchtier override</code> does). You confirm on the next page.</p>",
        f'<form method="get" action="{esc(v.prefix)}override" class="decide override">',
        f'<input type="hidden" name="item" value="{esc(key)}">', _state_field(v.whatifs),
        f'<label>Tier <select name="tier">{options}</select></label>',
        '<label>Reason <input name="reason" required></label>',
        '<label>By <input name="by" required></label>',
        *[f'<label>Approved by <input name="approved_by" class="approver"></label>' for _ in range(3)],
        '<button type="submit">Override…</button>', "</form></div>",
    ])


def _state_field(whatifs: Mapping[str, Mapping[str, str]]) -> str:
    """The viewer's what-ifs as a hidden field: a form that leaves the page brings them back."""
    return f'<input type="hidden" name="whatif" value="{esc(whatif_json(whatifs))}">' if whatifs else ""


def _take_away(v: View, key: str) -> str:
    if key not in v.differences:
        return ""
    return (f'<p class="take-away">Keep this what-if: <a href="{esc(state_url(v.prefix, key, v.whatifs, "download/item"))}">'
            f'as an item file</a> · <a href="{esc(state_url(v.prefix, key, v.whatifs, "download/case"))}">'
            "as a rule-test case</a> (downloads; the files on disk are not changed)</p>")


# ---- confirm, result and error pages -------------------------------------------------------
def confirm_page(prefix: str, action: str, heading: str, lines: list[str], fields: Mapping[str, Any], back: str) -> str:
    """The confirm step: what will be written, and the one button that writes it (a POST)."""
    hidden = []
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            hidden.append(f'<input type="hidden" name="{esc(name)}" value="{esc(one)}">')
    return document(f"{heading}: confirm", prefix, [
        "<main class=\"confirm\">", f"<h1>{esc(heading)}</h1>",
        "<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>",
        f'<form method="post" action="{esc(prefix)}{esc(action)}">', *hidden,
        '<button type="submit" class="confirm-button">Confirm and write to the ledger</button> '
        f'<a href="{esc(back)}">Cancel</a>', "</form>", "</main>"])


def result_page(prefix: str, heading: str, lines: list[str], head: str | None, back: str) -> str:
    return document(heading, prefix, [
        '<main class="result">', f"<h1>{esc(heading)}</h1>",
        '<ul class="done">' + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>",
        f'<p>Chain head <code class="head">{esc(head or "none")}</code></p>',
        f'<p><a href="{esc(back)}">Back to the review</a></p>', "</main>"])


def error_page(prefix: str, lines: list[str], back: str) -> str:
    return document("launchtier meeting: error", prefix, [
        '<main class="error">', "<h1>Not done</h1>",
        '<ul class="errors">' + "".join(f"<li>error: {esc(line)}</li>" for line in lines) + "</ul>",
        "<p>Nothing was written.</p>", f'<p><a href="{esc(back)}">Back to the review</a></p>', "</main>"])

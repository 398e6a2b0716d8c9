"""Reporters: decisions, explanations, checklists and rulebooks as text, Markdown and CSV.

Each function takes the engine's data and returns text; the commands choose one by --format.
Machine formats (JSON, JSONL) are the engine's pydantic models dumped as they are.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from typing import Any, Iterable, Mapping


from typing import TYPE_CHECKING

from launchtier.engine.rulebook.conditions import SYMBOL

from .safe import csv_cell, csv_raw, one_line, style

if TYPE_CHECKING:  # only for annotations: the models are imported when a command needs them
    from launchtier.engine import Decision, Rulebook
    from launchtier.engine.decide.decision import ArtifactRef, ConditionCheck, Explanation, Precedent

WIDTH = 100


# ---- small helpers -------------------------------------------------------------------------
def literal(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(literal(x) for x in v) + "]"
    return str(v)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def condition_text(c: ConditionCheck) -> str:
    if c.of:
        return c.name
    return f"{c.name} {SYMBOL.get(c.op, c.op)} {literal(c.expected)}"


def gap(c: ConditionCheck) -> str:
    """How far a failed numeric condition is from holding: '1 short', '2 over'."""
    if c.of or not isinstance(c.actual, int) or isinstance(c.actual, bool) or not isinstance(c.expected, int):
        return ""
    need = {"gte": c.expected - c.actual, "gt": c.expected + 1 - c.actual,
            "lte": c.actual - c.expected, "lt": c.actual - c.expected + 1}.get(c.op)
    if not need or need <= 0:
        return ""
    return f"{need} short" if c.op in ("gte", "gt") else f"{need} over"


def check_line(c: ConditionCheck) -> str:
    if c.of:
        inner = "; ".join(check_line(p) for p in c.of)
        return f"{c.name} ({inner})"
    extra = gap(c)
    return f"{condition_text(c)}: has {literal(c.actual)}" + (f" ({extra})" if extra else "")


def short(name: str) -> str:
    """A short column header for a score name: market_impact -> MI, parity -> PAR."""
    words = [w for w in name.split("_") if w]
    return "".join(w[0] for w in words).upper() if len(words) > 1 else name[:3].upper()


def tier_tally(book: Rulebook, decisions: Iterable[Decision]) -> str:
    """``tier-1 2, tier-3 5``: how many decisions of each tier, in the rulebook's order."""
    from launchtier.engine.decide.tally import tier_counts

    return ", ".join(f"{t} {n}" for t, n in tier_counts(book, (d.tier for d in decisions)).items())


def counts_tally(book: Rulebook, counts: Mapping[str, int]) -> str:
    """:func:`tier_tally` of decisions already counted (``{tier: count}``, in first-seen order)."""
    from launchtier.engine.decide.tally import ordered_counts

    return ", ".join(f"{t} {n}" for t, n in ordered_counts(book, counts).items())


def stage_text(d: Decision) -> str:
    """Which stage of the pipeline set the final tier, and why (rules: nothing to add)."""
    if d.override is not None:
        o = d.override
        approvers = ", ".join(o.approved_by) or "no approver"
        return (f"set by override #{o.seq} ({o.from_tier} → {o.tier}) by {o.by}, approved by {approvers}: "
                f"{o.reason}; its rules give {d.rules_tier}")
    if d.capacity is not None:
        return f"set by capacity: {d.capacity.reason}; its rules give {d.capacity.computed_tier}"
    return "set by the rules"


def stage_sentence(d: Decision) -> str:
    text = stage_text(d)
    return text[0].upper() + text[1:] + "."


def tier_style(kind: str, text: str) -> str:
    return style(text, fg="green" if kind == "launch" else "cyan", bold=kind == "launch")


def md(text: Any) -> str:
    """Escape a value for a Markdown table cell."""
    # <, > and & as entities: a Markdown viewer renders raw HTML (<img onerror=...>, <script>)
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
            .replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def to_csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    """CSV with a cell that a spreadsheet would read as a formula neutralised (see safe.py)."""
    raw = csv_raw()
    out = io.StringIO()
    # The writer quotes a cell holding a character of its line terminator: with "\r\n", a
    # carriage return in a cell is quoted too (with "\n" alone it would start a row of its own
    # in a spreadsheet). Each row still ends in "\n".
    writer = csv.writer(out, lineterminator="\r\n")
    lines = []
    for row in [header, *rows]:
        writer.writerow([csv_cell(literal(v) if isinstance(v, (bool, list)) else v, raw) for v in row])
        lines.append(out.getvalue()[:-2] + "\n")
        out.seek(0)
        out.truncate()
    return "".join(lines)


# ---- classify ------------------------------------------------------------------------------
def decisions_table(decisions: list[Decision], book: Rulebook) -> str:
    """One line per item, with the rules that fired wrapped underneath: fits in 100 columns."""
    names = list(book.score_names)
    key_w = max([3] + [len(d.item) for d in decisions])
    tier_w = max([4] + [len(f"{t.id} {t.label}") for t in book.tiers])
    kind_w = 7
    score_w = [max(len(short(n)), *(len(str(d.scores[n])) for d in decisions)) if decisions else len(short(n)) for n in names]
    title_w = max(12, WIDTH - key_w - tier_w - kind_w - sum(w + 1 for w in score_w) - 6)

    def line(key: str, title: str, tier: str, kind: str, scores: list[str], style_kind: str | None = None) -> str:
        tier_cell = tier.ljust(tier_w)
        if style_kind:
            tier_cell = tier_style(style_kind, tier_cell)
        cells = " ".join(v.rjust(w) for v, w in zip(scores, score_w))
        return f"{key.ljust(key_w)}  {title.ljust(title_w)}  {tier_cell}  {kind.ljust(kind_w)} {cells}".rstrip()

    out = [style(line("KEY", "TITLE", "TIER", "KIND", [short(n) for n in names]), bold=True)]
    indent = " " * (key_w + 2)
    for d in decisions:
        title = one_line(d.title)  # a line break in it would start a row of its own
        title = title if len(title) <= title_w else title[: title_w - 1] + "…"
        out.append(line(d.item, title, f"{d.tier} {d.label}", d.kind, [str(d.scores[n]) for n in names], d.kind))
        fired = ", ".join(f.rule for f in d.fired) or "(none)"
        out.append(textwrap.fill(fired, WIDTH, initial_indent=indent + "fired: ",
                                 subsequent_indent=indent + "       ", break_on_hyphens=False))
        if d.set_by != "rules":
            out.append(textwrap.fill(stage_text(d), WIDTH, initial_indent=indent, subsequent_indent=indent + "  "))
    legend = ", ".join(f"{short(n)} {n.replace('_', ' ')}" for n in names)
    out += ["", textwrap.fill(f"Scores: {legend}.", WIDTH), f"{len(decisions)} items: {tier_tally(book, decisions)}."]
    return "\n".join(out)


def decisions_markdown(decisions: list[Decision], book: Rulebook) -> str:
    names = list(book.score_names)
    header = ["Key", "Title", "Tier", "Set by", "Kind", *[n.replace("_", " ") for n in names], "Rules fired"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for d in decisions:
        cells = [d.item, d.title, f"{d.tier} {d.label}", d.set_by, d.kind, *[d.scores[n] for n in names],
                 ", ".join(f.rule for f in d.fired) or "-"]
        lines.append("| " + " | ".join(md(c) for c in cells) + " |")
    return "\n".join(lines)


def decisions_csv(decisions: Iterable[Decision], book: Rulebook) -> Iterable[str]:
    names = list(book.score_names)
    header = ["key", "title", "tier", "label", "set_by", "rules_tier", "kind", *names, "fired", "artifacts"]
    yield to_csv(header, [])
    for d in decisions:
        row = [d.item, d.title, d.tier, d.label, d.set_by, d.rules_tier, d.kind, *[d.scores[n] for n in names],
               ";".join(f.rule for f in d.fired), ";".join(a.id for a in d.artifacts)]
        yield to_csv(header, [row]).split("\n", 1)[1]


# ---- explain -------------------------------------------------------------------------------
def _owners(artifacts: list[ArtifactRef]) -> dict[str, list[ArtifactRef]]:
    groups: dict[str, list[ArtifactRef]] = {}
    for a in artifacts:
        groups.setdefault(a.owner, []).append(a)
    return groups


def _not_decisions(book: Rulebook) -> str:
    """Which changes the list above leaves out, as the rulebook's ``moves`` say."""
    from launchtier.engine.decide.whatif import facts

    forward = [n for n, s in book.signals.items() if s.moves == "forward"]
    parts = [f"changes of facts ({', '.join(facts(book))})"] if facts(book) else []
    parts += [f"moves back of {', '.join(forward)}"] if forward else []
    return f"Not listed: {' and '.join(parts)}." if parts else "Every signal is a decision of the team."


def explain_text(ex: Explanation, book: Rulebook) -> str:
    from launchtier.engine.decide.whatif import change_text

    d = ex.decision
    out = [style(f"{d.item}  {one_line(d.title)}", bold=True),
           "Tier: " + tier_style(d.kind, f"{d.tier} {d.label}") + f" ({d.kind})",
           textwrap.fill(stage_sentence(d), WIDTH, subsequent_indent="  ")]
    if ex.changed:
        out.append(style("What if: ", fg="yellow", bold=True)
                   + "; ".join(f"{c.signal} {literal(c.from_)} → {literal(c.to)}" for c in ex.changed)
                   + " (changed with --set, not in the file)")
    out += ["", "Rules fired:"]
    for f in d.fired:
        points = ", ".join(f"{dim} {p:+d}" for dim, p in f.score.items())
        out.append(f"  {f.rule:<28} {points}")
        out.append(textwrap.fill(f.because, WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 6))
    if not d.fired:
        out.append("  (none)")
    out += ["", "Scores:"]
    for name in book.score_names:
        if name in book.dimensions:
            dim = book.dimensions[name]
            out.append(f"  {dim.label:<20} {d.scores[name]:>3}   (range {dim.min}..{dim.max})")
        else:
            formula = " ".join(f"{'+' if w >= 0 else '-'} {abs(w) if abs(w) != 1 else ''}{n}".replace("  ", " ")
                               for n, w in book.totals[name].items()).lstrip("+ ")
            out.append(f"  {name:<20} {d.scores[name]:>3}   (= {formula})")
    out += ["", f"Why {d.tier_reason.tier}:"]
    if d.tier_reason.conditions:
        for c in d.tier_reason.conditions:
            out.append(f"  ✓ {check_line(c)}")
    else:
        out.append("  no higher tier's conditions hold, so the default tier applies")
    for h in reversed(d.higher_tiers):
        tier = book.tier_by_id[h.tier]
        out += ["", f"Why not {h.tier} {tier.label}:"]
        for c in h.failed:
            out.append(f"  ✗ {check_line(c)}")
    out += ["", "What the team could change (one decision at a time):"]
    if ex.what_would_change:
        for ch in ex.what_would_change:
            out.append(textwrap.fill(change_text(book, ch), WIDTH, initial_indent="  ", subsequent_indent="    "))
    else:
        out.append("  no single decision of the team moves this item to another tier")
    out.append(textwrap.fill(_not_decisions(book), WIDTH, initial_indent="  ", subsequent_indent="  ",
                             break_on_hyphens=False))
    if ex.precedents:
        out += ["", "Precedents (the earlier decisions most like it in the ledger, the same tier first):"]
        out += [one_line(f"  {p.item:<10} {p.tier} {precedent_text(p)}") for p in ex.precedents]
    out += ["", f"Artifacts ({plural(len(d.artifacts), 'artifact')}):"]
    for owner, arts in _owners(d.artifacts).items():
        out.append(f"  {one_line(owner)}")
        for a in arts:
            out.append(one_line(f"    [ ] {a.name:<40} {a.category}"))
    if not d.artifacts:
        out.append("  (none)")
    out.append("")
    out.append(f"Rulebook {d.rulebook.name} {d.rulebook.version} ({d.rulebook.hash[:19]}…)")
    return "\n".join(out)


def precedent_text(p: Precedent) -> str:
    """A precedent after its key and final tier: its title, when and where, and why it was overridden."""
    why = f"; overridden from {p.computed_tier}: {p.override_reason}" if p.override_reason is not None else ""
    return f"{p.title} ({p.quarter or 'unscheduled'}, recorded {p.recorded_at[:10]}){why}"


def explain_markdown(ex: Explanation, book: Rulebook) -> str:
    from launchtier.engine.decide.whatif import change_text

    d = ex.decision
    out = [f"## {md(d.item)}: {md(d.title)}", "", f"**Tier:** {d.tier} {md(d.label)} ({d.kind})", "",
           md(stage_sentence(d))]
    if ex.changed:
        out.append("")
        out.append("**What if:** " + "; ".join(f"`{c.signal}` {literal(c.from_)} → {literal(c.to)}" for c in ex.changed)
                   + " (changed with `--set`, not in the file)")
    out += ["", "### Rules fired", "", "| Rule | Points | Because |", "|---|---|---|"]
    for f in d.fired:
        points = ", ".join(f"{dim} {p:+d}" for dim, p in f.score.items())
        out.append(f"| {md(f.rule)} | {md(points)} | {md(f.because)} |")
    out += ["", "### Scores", "", "| Score | Value |", "|---|---|"]
    out += [f"| {md(n)} | {d.scores[n]} |" for n in book.score_names]
    out += ["", f"### Why {d.tier_reason.tier}", ""]
    out += [f"- ✓ {md(check_line(c))}" for c in d.tier_reason.conditions] or ["- no higher tier's conditions hold, so the default tier applies"]
    for h in reversed(d.higher_tiers):
        out += ["", f"### Why not {h.tier} {md(book.tier_by_id[h.tier].label)}", ""]
        out += [f"- ✗ {md(check_line(c))}" for c in h.failed]
    out += ["", "### What the team could change", ""]
    out += [f"- {md(change_text(book, ch))}" for ch in ex.what_would_change] \
        or ["- no single decision of the team moves this item to another tier"]
    out += ["", md(_not_decisions(book))]
    if ex.precedents:
        out += ["", "### Precedents (the earlier decisions most like it, the same tier first)", ""]
        out += [f"- {md(p.item)} {p.tier} {md(precedent_text(p))}" for p in ex.precedents]
    out += ["", "### Artifacts", ""]
    for owner, arts in _owners(d.artifacts).items():
        out.append(f"**{md(owner)}**")
        out.append("")
        out += [f"- [ ] {md(a.name)} ({md(a.category)})" for a in arts]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# ---- artifacts -----------------------------------------------------------------------------
def checklist_text(title: str, rows: list[tuple[str, Any, str]], note: str = "") -> str:
    out = [style(title, bold=True)] + ([textwrap.fill(note, WIDTH)] if note else [])
    groups: dict[str, list] = {}
    for _, art, when in rows:
        groups.setdefault(art.owner, []).append((art, when))
    for owner, arts in groups.items():
        days = sum(a.effort or 0 for a, _ in arts)
        out.append(f"  {one_line(owner)} ({plural(len(arts), 'artifact')}" + (f", about {days:g} days" if days else "") + ")")
        for art, when in arts:
            line = one_line(f"    [ ] {art.name:<38} {art.category}")
            out.append(line + (f"  (only when {when})" if when else ""))
    if not rows:
        out.append("  (no artifacts)")
    return "\n".join(out)


def checklist_markdown(title: str, rows: list[tuple[str, Any, str]], note: str = "") -> str:
    out = [f"### {md(title)}", ""] + ([md(note), ""] if note else [])
    groups: dict[str, list] = {}
    for _, art, when in rows:
        groups.setdefault(art.owner, []).append((art, when))
    for owner, arts in groups.items():
        out += [f"**{md(owner)}**", ""]
        out += [f"- [ ] {md(a.name)} ({md(a.category)})" + (f" (only when `{when}`)" if when else "") for a, when in arts]
        out.append("")
    return "\n".join(out)


def checklist_csv(rows: list[tuple[str, Any, str]]) -> str:
    return to_csv(["tier", "owner", "artifact", "name", "category", "only_when", "effort"],
                  [[t, a.owner, a.id, a.name, a.category, when, "" if a.effort is None else f"{a.effort:g}"] for t, a, when in rows])


# ---- rulebook ------------------------------------------------------------------------------
def template_yaml(book: Rulebook) -> str:
    """A blank item file with every signal's question, for the rulebook."""
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
            lines.append(f"  # {sig.question} ({allowed}; default {literal(sig.default)})")
            lines.append(f"  {name}: {literal(sig.default)}")
    return "\n".join(lines)


def template_csv(book: Rulebook) -> str:
    """A CSV item file's header and one row of the signals' defaults, for the rulebook."""
    from launchtier.engine.items.model import CSV_FIELDS

    header = [c for c in CSV_FIELDS if c not in ("description", "links")] + list(book.signals)
    defaults = ["", "", "", "", ""] + ["" if s.default is None else literal(s.default) for s in book.signals.values()]
    return to_csv(header, [defaults])


def rulebook_text(book: Rulebook) -> str:
    out = [style(f"Rulebook {book.name} {book.version}", bold=True), f"  hash:   {book.hash}"]
    if book.source:
        out.append(f"  source: {book.source}")
    if book.description:
        out.append(textwrap.fill(book.description, WIDTH, initial_indent="  ", subsequent_indent="  "))
    out += ["", style(f"Signals ({len(book.signals)}): the questions for each item", bold=True)]
    for name, sig in book.signals.items():
        info = book.signal_info(name).describe()
        default = "required" if sig.default is None else f"default {literal(sig.default)}"
        moves = {"decision": "; a decision", "forward": "; a decision, forward only", "fact": "; a fact"}[sig.moves]
        out.append(f"  {name:<22} {info}; {default}{moves}")
        out.append(f"      {sig.question}")
    out += ["", style("Dimensions (summed from the rules that fire, clamped)", bold=True)]
    for name, dim in book.dimensions.items():
        out.append(f"  {name:<22} {dim.label:<22} {dim.min}..{dim.max}")
    if book.totals:
        out += ["", style("Totals", bold=True)]
        for name, weights in book.totals.items():
            terms = " ".join(f"{'+' if w >= 0 else '-'} {'' if abs(w) == 1 else str(abs(w)) + '×'}{d}" for d, w in weights.items())
            out.append(f"  {name} = {terms.lstrip('+ ')}")
    out += ["", style(f"Rules ({len(book.rules)})", bold=True)]
    for rule in book.rules:
        points = ", ".join(f"{d} {p:+d}" for d, p in rule.score.items())
        out.append(f"  {rule.id:<26} when {rule.condition.text()}  →  {points}")
        out.append(textwrap.fill(rule.because, WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 6))
    out += ["", style("Tiers (the first whose condition holds wins)", bold=True)]
    for tier in book.tiers:
        when = f"when {tier.condition.text()}" if tier.when else "otherwise"
        out.append(f"  {tier.id:<8} {tier.label} ({tier.kind}): {when}")
    if book.artifacts:
        out += ["", style(f"Artifacts ({len(book.artifacts)})", bold=True)]
        for art in book.artifacts:
            when = f"; only when {art.condition.text()}" if art.when else ""
            out.append(f"  {art.id:<22} {art.owner:<4} {art.name} [{art.category}] {', '.join(art.tiers)}{when}")
    if book.capacity:
        out += ["", style("Capacity", bold=True)]
        out += [f"  {t}: at most {c.max} per {c.per}" for t, c in book.capacity.items()]
    if book.overrides:
        out += ["", style("Override approvals", bold=True)]
        out += [f"  into or out of {t}: {p.approvals} approvals" + ("; the person overriding may approve" if p.self_approval else "")
                for t, p in book.overrides.items()]
    return "\n".join(out)


def rulebook_json(book: Rulebook) -> str:
    data = {"hash": book.hash, "source": book.source, **book.model_dump(mode="json")}
    return json.dumps(data, indent=2, ensure_ascii=False)


# ---- rule tests ----------------------------------------------------------------------------
def test_report_text(report) -> str:
    out = []
    for r in report.results:
        if not r.passed:
            out.append(style(f"FAIL {r.name}", fg="red", bold=True) + f"  ({r.file})")
            out += [f"  {d}" for d in r.differences]
    c = report.coverage
    passed = report.cases - report.failed
    out.append(f"{passed} passed, {report.failed} failed ({len(report.files)} files, rulebook {report.rulebook['name']} {report.rulebook['version']})")
    out.append(f"rule coverage: {c.percent:g}% ({c.rules_fired} of {c.rules_total} rules fired in some case)")
    if c.never_fired:
        out.append(textwrap.fill("never fired: " + ", ".join(c.never_fired), WIDTH, subsequent_indent="  ", break_on_hyphens=False))
    out.append(f"tiers reached: {', '.join(c.tiers_reached) or 'none'}" + (f"; never: {', '.join(c.tiers_never_reached)}" if c.tiers_never_reached else ""))
    out.append(f"artifacts produced: {len(c.artifacts_produced)} of {len(c.artifacts_produced) + len(c.artifacts_never_produced)}"
               + (f"; never: {', '.join(c.artifacts_never_produced)}" if c.artifacts_never_produced else ""))
    if report.min_coverage is not None and c.rules_fired * 100 < report.min_coverage * c.rules_total:
        out.append(style(f"coverage {c.percent:g}% is below the minimum of {report.min_coverage:g}%", fg="red", bold=True))
    return "\n".join(out)


# ---- lint and diff -------------------------------------------------------------------------
def lint_text(report) -> str:
    out = []
    for f in report.findings:
        colour = {"error": "red", "warning": "yellow", "note": "blue"}[f.level]
        at = f"{f.file}:{f.line}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
        out.append(f"{at}{style(f.level, fg=colour, bold=f.level == 'error')}: {f.where}: {f.message}; fix: {f.fix}")
    counts = {lvl: sum(f.level == lvl for f in report.findings) for lvl in ("error", "warning", "note")}
    space = f"exact checks over {report.item_space:,} distinct items" if report.item_space else "exact item checks skipped (too large)"
    out.append(f"{counts['error']} errors, {counts['warning']} warnings, {counts['note']} notes ({space}); "
               + ("ok" if report.ok else "lint failed"))
    return "\n".join(out)


def diff_text(diff, with_items: bool) -> str:
    out = [f"{diff.old['name']} {diff.old['version']} ({diff.old['hash'][:19]}…) → "
           f"{diff.new['name']} {diff.new['version']} ({diff.new['hash'][:19]}…)"]
    if not diff.changes:
        out.append("no changes")
    for c in diff.changes:
        out.append(f"  {c.part} {c.id} {c.change}: {c.detail}")
    if with_items:
        out.append("")
        out.append(f"{len(diff.items_changed)} of {diff.items_checked} items change tier")
        for t in diff.items_changed:
            out.append(f"  {t.item} {one_line(t.title)}: {t.old_tier} → {t.new_tier}")
            out += [f"      because {c.part} {c.id} {c.change}: {c.detail}" for c in t.causes]
    return "\n".join(out)

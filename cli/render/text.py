"""Reporters: decisions, explanations, checklists and rulebooks as text, Markdown and CSV.

Each function takes the engine's data and returns text; the commands choose one by --format.
Machine formats (JSON, JSONL) are the engine's pydantic models dumped as they are.

The text reporters take ``width``, the columns to fit (``cli.output.width()``): long reasons wrap
under their line, indented, a table cuts a title with "…" where its columns need it, and no line
is wider (a wide or escaped character counted as it shows, see ``safe.cells``). ``width`` None is
output piped to a file or a program: text wraps at :data:`WIDTH` columns, a readable default
that keeps a file's lines stable whatever terminal wrote it, and nothing is cut, so a table's
title column is as wide as its longest title.
"""

from __future__ import annotations

import csv
import io
import re
import textwrap
from typing import Any, Iterable, Mapping


from typing import TYPE_CHECKING

from launchtier.engine.decide.decision import check_text
from launchtier.engine.rulebook.conditions import literal

from .safe import cells, clip, csv_cell, csv_raw, one_line, style

if TYPE_CHECKING:  # only for annotations: the models are imported when a command needs them
    from launchtier.engine import Decision, Rulebook
    from launchtier.engine.decide.decision import ArtifactRef, ConditionCheck, Explanation, Precedent

# Where text wraps when output is piped (width None).
WIDTH = 100
# a higher tier whose conditions hold: its decision was moved (by the quarter's capacity)
HELD_BUT_MOVED = "its conditions hold: the quarter's capacity moved the item (above)"


# ---- small helpers -------------------------------------------------------------------------
def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def wrap_width(width: int | None) -> int:
    """The columns text wraps at: ``width``, or :data:`WIDTH` when output is piped."""
    return WIDTH if width is None else width


def wrap(text: str, width: int | None, indent: str = "", hang: str | None = None, *, prose: bool = False,
         **options: Any) -> list[str]:
    """``text`` wrapped to ``width``, ``indent`` before its first line and ``hang`` (``indent``
    unless given) before the others; spaces inside a line are kept, so a line laid out in
    columns wraps with ``hang`` as deep as the column that overflows. Piped (``width`` None),
    ``prose`` (a reason, a note: sentences) wraps at :data:`WIDTH` and anything else stays one
    line, whole, as a program reading it expects."""
    hang = indent if hang is None else hang
    if width is None and not prose:
        lines = [indent + text]
    else:
        # an indent deeper than a narrow width leaves room for :data:`MIN_TEXT` columns of text
        room = max(wrap_width(width) - MIN_TEXT, 0)
        lines = textwrap.wrap(text, wrap_width(width), initial_indent=indent[:room], subsequent_indent=hang[:room],
                              **options) or [indent.rstrip()]
    return [line.replace(GLUE, " ") for line in lines]


MIN_TEXT = 20

# A space that :func:`wrap` does not break at ("lead_generation +3" stays on one line): a
# private-use character, so no text from a file holds it.
GLUE = "\ue001"


def glued(text: str) -> str:
    return text.replace(" ", GLUE)


def scores_kept(text: str) -> str:
    """A change's text with each score it moves kept on one line when wrapped: in
    "... (Market impact 1 → 2, launch 4 → 5)" no line ends inside "Market impact 1 → 2"."""
    return re.sub(r"\(([^()]*→[^()]*)\)", lambda m: "(" + ", ".join(glued(p) for p in m.group(1).split(", ")) + ")", text)


def fill(text: str, width: int | None, indent: str = "", hang: str | None = None, **options: Any) -> str:
    """Prose (see :func:`wrap`) wrapped into one text."""
    return "\n".join(wrap(text, width, indent, hang, prose=True, **options))


def lead(prefix: str, text: str, width: int | None, hang: str, **styles: Any) -> list[str]:
    """``prefix + text`` wrapped, with ``prefix`` styled: styles are measured apart from the text
    they mark, so the text is wrapped plain and the style put back on its first words."""
    lines = wrap(prefix + text, width, hang=hang, break_on_hyphens=False)
    if not lines[0].startswith(prefix):  # a prefix longer than a line: all of it styled
        return [style(line, **styles) for line in lines]
    return [style(prefix, **styles) + lines[0][len(prefix):]] + lines[1:]


def heading(text: str, width: int | None, **styles: Any) -> list[str]:
    """A heading, bold unless other ``styles``, wrapped to ``width`` (its continuation indented)."""
    return [style(line, **(styles or {"bold": True})) for line in wrap(text, width, hang="  ")]


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
def decisions_table(decisions: list[Decision], book: Rulebook, width: int | None = None) -> str:
    """One line per item, with the rules that fired wrapped underneath. The title column is as
    wide as the longest title, or as the other columns leave (cut titles end in "…"); when that
    is under :data:`MIN_TITLE`, the KIND column goes first (the tier's colour still shows it)."""
    names = list(book.score_names)
    key_w = max([3] + [cells(d.item) for d in decisions])
    tier_w = max([4] + [cells(f"{t.id} {t.label}") for t in book.tiers])
    kind_w = 7
    score_w = [max(len(short(n)), *(len(str(d.scores[n])) for d in decisions)) if decisions else len(short(n)) for n in names]
    titles = [one_line(d.title) for d in decisions]  # a line break in a title would start a row of its own
    others = key_w + tier_w + sum(w + 1 for w in score_w) + 6
    longest = max([5] + [cells(t) for t in titles])
    title_w = longest
    if width is not None and title_w > width - others - kind_w:
        title_w = width - others - kind_w
        if title_w < MIN_TITLE:
            kind_w = 0
            title_w = min(longest, width - others + 1)  # the KIND column and the space after it
        title_w = max(title_w, 12)

    def line(key: str, title: str, tier: str, kind: str, scores: list[str], style_kind: str | None = None) -> str:
        tier_cell = tier + " " * (tier_w - cells(tier))
        if style_kind:
            tier_cell = tier_style(style_kind, tier_cell)
        kind_cell = f"{kind.ljust(kind_w)} " if kind_w else ""
        cells_ = " ".join(v.rjust(w) for v, w in zip(scores, score_w))
        return f"{key}{' ' * (key_w - cells(key))}  {title}{' ' * (title_w - cells(title))}  {tier_cell}  {kind_cell}{cells_}".rstrip()

    out = [style(line("KEY", "TITLE", "TIER", "KIND", [short(n) for n in names]), bold=True)]
    indent = " " * (key_w + 2)
    for d, title in zip(decisions, titles):
        out.append(line(d.item, clip(title, title_w), f"{d.tier} {d.label}", d.kind, [str(d.scores[n]) for n in names], d.kind))
        fired = ", ".join(f.rule for f in d.fired) or "(none)"
        out += wrap(fired, width, indent + "fired: ", indent + "       ", prose=True, break_on_hyphens=False)
        if d.set_by != "rules":
            out += wrap(stage_text(d), width, indent, indent + "  ", prose=True)
    legend = ", ".join(f"{short(n)} {n.replace('_', ' ')}" for n in names)
    out += ["", *wrap(f"Scores: {legend}.", width, prose=True), *wrap(f"{plural(len(decisions), 'item')}: {tier_tally(book, decisions)}.", width)]
    return "\n".join(out)


# Narrower than this, a title loses the table's KIND column to itself.
MIN_TITLE = 24


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


def explain_text(ex: Explanation, book: Rulebook, width: int | None = None) -> str:
    from launchtier.engine.decide.whatif import change_text

    d = ex.decision
    out = [style(line, bold=True) for line in wrap(f"{d.item}  {one_line(d.title)}", width, hang=" " * (cells(d.item) + 2))]
    out += ["Tier: " + tier_style(d.kind, f"{d.tier} {d.label}") + f" ({d.kind})", fill(stage_sentence(d), width, hang="  ")]
    if ex.changed:
        out += lead("What if: ", "; ".join(f"{c.signal} {literal(c.from_)} → {literal(c.to)}" for c in ex.changed)
                    + " (changed with --set, not in the file)", width, "  ", fg="yellow", bold=True)
    out += ["", "Rules fired:"]
    for f in d.fired:
        points = ", ".join(f"{dim} {p:+d}" for dim, p in f.score.items())
        out += wrap(f"  {f.rule:<28} {points}", width, hang=" " * 31)
        out += wrap(f.because, width, " " * 6, prose=True)
    if not d.fired:
        out.append("  (none)")
    out += ["", "Scores:"]
    for name in book.score_names:
        if name in book.dimensions:
            dim = book.dimensions[name]
            out += wrap(f"  {dim.label:<20} {d.scores[name]:>3}   (range {dim.min}..{dim.max})", width, hang=" " * 29)
        else:
            formula = " ".join(f"{'+' if w >= 0 else '-'} {abs(w) if abs(w) != 1 else ''}{n}".replace("  ", " ")
                               for n, w in book.totals[name].items()).lstrip("+ ")
            out += wrap(f"  {name:<20} {d.scores[name]:>3}   (= {formula})", width, hang=" " * 29)
    out += ["", f"Why {d.tier_reason.tier}:"]
    if d.tier_reason.conditions:
        for c in d.tier_reason.conditions:
            out += wrap(f"  ✓ {check_text(c)}", width, hang="      ")
    else:
        out += wrap("  no higher tier's conditions hold, so the default tier applies", width, hang="    ")
    for h in reversed(d.higher_tiers):
        tier = book.tier_by_id[h.tier]
        out += ["", *wrap(f"Why not {h.tier} {tier.label}:", width, hang="  ")]
        for c in h.failed:
            out += wrap(f"  ✗ {check_text(c)}", width, hang="      ")
        if not h.failed:
            out += wrap(f"  ✓ {HELD_BUT_MOVED}", width, hang="      ")
    out += ["", *wrap("What the team could change (one decision at a time):", width, hang="  ")]
    if ex.what_would_change:
        for ch in ex.what_would_change:
            out += wrap(scores_kept(change_text(book, ch)), width, "  ", "    ", prose=True, break_on_hyphens=False)
    else:
        out += wrap("  no single decision of the team moves this item to another tier", width, hang="    ")
    out += wrap(_not_decisions(book), width, "  ", "  ", prose=True, break_on_hyphens=False)
    if ex.precedents:
        out += ["", *wrap("Precedents (the earlier decisions most like it in the ledger, the same tier first):", width,
                          hang="  ")]
        for p in ex.precedents:
            out += wrap(one_line(f"  {p.item:<10} {p.tier} {precedent_text(p)}"), width, hang=" " * 13)
    out += ["", f"Artifacts ({plural(len(d.artifacts), 'artifact')}):"]
    name_w = name_width(d.artifacts)
    for owner, arts in _owners(d.artifacts).items():
        out += wrap(f"  {one_line(owner)}", width, hang="    ")
        out += checklist_lines([(a, "") for a in arts], name_w, width)
    if not d.artifacts:
        out.append("  (none)")
    out.append("")
    out += wrap(f"Rulebook {d.rulebook.name} {d.rulebook.version} ({d.rulebook.hash[:19]}…)", width, hang="  ")
    return "\n".join(out)


def overridden_text(o: Any) -> str:
    """What an override did (the ledger's OverrideRecord), as ``override`` and the meeting page say it."""
    return f"overridden {o.item}: {o.from_tier} → {o.tier} (#{o.seq}) by {o.by}; approved by {', '.join(o.approved_by) or 'none'}"


def precedent_text(p: Precedent) -> str:
    """A precedent after its key and final tier: its title, when and where, and why it was overridden."""
    why = f"; overridden from {p.computed_tier}: {p.override_reason}" if p.override_reason is not None else ""
    return f"{p.title} ({p.quarter or 'unscheduled'}, recorded {p.recorded_at[:10]}){why}"


def name_width(arts: Iterable[Any]) -> int:
    """The column of a checklist's artifact names: its longest name, up to 40."""
    return min(40, max([0] + [cells(one_line(a.name)) for a in arts]))


def checklist_lines(arts: list[tuple[Any, str]], name_w: int, width: int | None) -> list[str]:
    """``    [ ] NAME  CATEGORY`` for each artifact, the categories in a column after ``name_w``
    (one that does not fit wraps in its column), and the condition the artifact is listed
    under, if any: after it when piped (a line per artifact), under it at a width."""
    out = []
    for a, when in arts:
        name = one_line(a.name)
        line = f"    [ ] {name}{' ' * (name_w - cells(name))}  {one_line(a.category)}"
        if when and width is None:
            line, when = f"{line}  (only when {when})", ""
        out += wrap(line, width, hang=" " * (10 + name_w), break_on_hyphens=False)
        if when:
            out += wrap(f"(only when {when})", width, " " * 8, " " * 9, break_on_hyphens=False)
    return out


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
    out += [f"- ✓ {md(check_text(c))}" for c in d.tier_reason.conditions] or ["- no higher tier's conditions hold, so the default tier applies"]
    for h in reversed(d.higher_tiers):
        out += ["", f"### Why not {h.tier} {md(book.tier_by_id[h.tier].label)}", ""]
        out += [f"- ✗ {md(check_text(c))}" for c in h.failed] or [f"- ✓ {HELD_BUT_MOVED}"]
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
def checklist_text(title: str, rows: list[tuple[str, Any, str]], note: str = "", width: int | None = None) -> str:
    out = [style(line, bold=True) for line in wrap(one_line(title), width, hang="  ")]
    out += wrap(note, width, prose=True) if note else []
    groups: dict[str, list] = {}
    for _, art, when in rows:
        groups.setdefault(art.owner, []).append((art, when))
    name_w = name_width(art for _, art, _ in rows)
    for owner, arts in groups.items():
        days = sum(a.effort or 0 for a, _ in arts)
        about = f", about {days:g} day" + ("" if days == 1 else "s") if days else ""
        out += wrap(f"  {one_line(owner)} ({plural(len(arts), 'artifact')}{about})", width, hang="    ")
        out += checklist_lines(arts, name_w, width)
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


def rulebook_text(book: Rulebook, width: int | None = None) -> str:
    def hanging(line: str, depth: int) -> list[str]:
        return wrap(line, width, hang=" " * depth, break_on_hyphens=False)

    out = [*heading(f"Rulebook {book.name} {book.version}", width), *hanging(f"  hash:   {book.hash}", 4)]
    if book.source:
        out += hanging(f"  source: {book.source}", 4)
    if book.description:
        out += wrap(book.description, width, "  ", prose=True)
    out += ["", *heading(f"Signals ({len(book.signals)}): the questions for each item", width)]
    for name, sig in book.signals.items():
        info = book.signal_info(name).describe()
        default = "required" if sig.default is None else f"default {literal(sig.default)}"
        moves = {"decision": "; a decision", "forward": "; a decision, forward only", "fact": "; a fact"}[sig.moves]
        out += hanging(f"  {name:<22} {info}; {default}{moves}", 25)
        out += wrap(sig.question, width, " " * 6)
    out += ["", *heading("Dimensions (summed from the rules that fire, clamped)", width)]
    for name, dim in book.dimensions.items():
        out += hanging(f"  {name:<22} {dim.label:<22} {dim.min}..{dim.max}", 25)
    if book.totals:
        out += ["", *heading("Totals", width)]
        for name, weights in book.totals.items():
            terms = " ".join(f"{'+' if w >= 0 else '-'} {'' if abs(w) == 1 else str(abs(w)) + '×'}{d}" for d, w in weights.items())
            out += hanging(f"  {name} = {terms.lstrip('+ ')}", 4)
    out += ["", *heading(f"Rules ({len(book.rules)})", width)]
    for rule in book.rules:
        points = ", ".join(f"{d} {p:+d}" for d, p in rule.score.items())
        out += hanging(f"  {rule.id:<26} when {rule.condition.text()}  {glued('→  ' + points)}", 34)
        out += wrap(rule.because, width, " " * 6, prose=True)
    out += ["", *heading("Tiers (the first whose condition holds wins)", width)]
    for tier in book.tiers:
        when = f"when {tier.condition.text()}" if tier.when else "otherwise"
        out += hanging(f"  {tier.id:<8} {tier.label} ({tier.kind}): {when}", 11)
    if book.artifacts:
        out += ["", *heading(f"Artifacts ({len(book.artifacts)})", width)]
        for art in book.artifacts:
            when = f"; only when {art.condition.text()}" if art.when else ""
            out += hanging(f"  {art.id:<22} {art.owner:<4} {art.name} {glued(f'[{art.category}]')} {', '.join(art.tiers)}{when}", 30)
    if book.capacity:
        out += ["", *heading("Capacity", width)]
        out += [line for t, c in book.capacity.items() for line in hanging(f"  {t}: at most {c.max} per {c.per}", 4)]
    if book.overrides:
        out += ["", *heading("Override approvals", width)]
        for t, p in book.overrides.items():
            out += hanging(f"  into or out of {t}: {plural(p.approvals, 'approval')}"
                           + ("; the person overriding may approve" if p.self_approval else ""), 4)
    return "\n".join(out)


def rulebook_data(book: Rulebook) -> dict:
    """The rulebook as JSON values: its hash and the file it came from, then the model."""
    return {"hash": book.hash, "source": book.source, **book.model_dump(mode="json")}


# ---- rule tests ----------------------------------------------------------------------------
def test_report_text(report, width: int | None = None) -> str:
    out = []
    for r in report.results:
        if not r.passed:
            out += lead(f"FAIL {r.name}", f"  ({r.file})", width, "    ", fg="red", bold=True)
            out += [line for d in r.differences for line in wrap(f"  {d}", width, hang="    ")]
    passed = report.cases - report.failed
    out += wrap(f"{passed} passed, {report.failed} failed ({plural(len(report.files), 'file')}, "
                f"rulebook {report.rulebook['name']} {report.rulebook['version']})", width, hang="  ")
    c = report.coverage
    out += wrap(coverage_text(report), width, hang="  ")
    if c.never_fired:
        out += wrap(never_fired_text(report), width, hang="  ", prose=True, break_on_hyphens=False)
    out += wrap(f"tiers reached: {', '.join(c.tiers_reached) or 'none'}"
                + (f"; never: {', '.join(c.tiers_never_reached)}" if c.tiers_never_reached else ""), width, hang="  ")
    out += wrap(f"artifacts produced: {len(c.artifacts_produced)} of {len(c.artifacts_produced) + len(c.artifacts_never_produced)}"
                + (f"; never: {', '.join(c.artifacts_never_produced)}" if c.artifacts_never_produced else ""), width,
                hang="  ", break_on_hyphens=False)
    if report.below_minimum:
        out += [style(line, fg="red", bold=True) for line in wrap(shortfall_text(report), width, hang="  ")]
    return "\n".join(out)


def coverage_text(report) -> str:
    c = report.coverage
    return f"rule coverage: {c.percent:g}% ({c.rules_fired} of {plural(c.rules_total, 'rule')} fired in some case)"


def never_fired_text(report) -> str:
    return "never fired: " + ", ".join(report.coverage.never_fired)


def shortfall_text(report) -> str:
    """What a rule coverage below the minimum reads like (``report.below_minimum``)."""
    return f"coverage {report.coverage.percent:g}% is below the minimum of {report.min_coverage:g}%"


# ---- lint and diff -------------------------------------------------------------------------
def lint_text(report, width: int | None = None) -> str:
    out = []
    for f in report.findings:
        colour = {"error": "red", "warning": "yellow", "note": "blue"}[f.level]
        at = f"{f.file}:{f.line}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
        lines = wrap(f"{at}{f.level}: {finding_text(f)}", width, hang="    ", break_on_hyphens=False)
        if lines[0].startswith(f"{at}{f.level}:"):  # a path too long for a line is cut before its level
            lines[0] = at + style(f.level, fg=colour, bold=f.level == "error") + lines[0][len(at) + len(f.level):]
        out += lines
    out += wrap(lint_summary(report), width, hang="  ")
    return "\n".join(out)


def finding_text(f) -> str:
    """A lint finding's text, after its place and level."""
    return f"{f.where}: {f.message}; fix: {f.fix}"


def lint_summary(report) -> str:
    """``1 error, 0 warnings, 0 notes (exact checks over 2 distinct items); lint failed``."""
    counts = {lvl: sum(f.level == lvl for f in report.findings) for lvl in ("error", "warning", "note")}
    space = (f"exact checks over {report.item_space:,} distinct item" + ("" if report.item_space == 1 else "s")
             if report.item_space else "exact item checks skipped (too large)")
    return (f"{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, {plural(counts['note'], 'note')} "
            f"({space}); " + ("ok" if report.ok else "lint failed"))


def diff_text(diff, with_items: bool, width: int | None = None) -> str:
    out = wrap(f"{diff.old['name']} {diff.old['version']} ({diff.old['hash'][:19]}…) → "
               f"{diff.new['name']} {diff.new['version']} ({diff.new['hash'][:19]}…)", width, hang="  ")
    if not diff.changes:
        out.append("no changes")
    for c in diff.changes:
        out += wrap(f"  {rule_change_text(c)}", width, hang="      ", break_on_hyphens=False)
    if with_items:
        out.append("")
        out.append(items_changed_text(diff))
        for t in diff.items_changed:
            out += wrap(f"  {t.item} {one_line(t.title)}: {t.old_tier} → {t.new_tier}", width, hang="      ")
            out += [line for c in t.causes for line in
                    wrap(f"      because {rule_change_text(c)}", width, hang="        ", break_on_hyphens=False)]
    return "\n".join(out)


def rule_change_text(c) -> str:
    """``rule revenue-new-logo re-weighted: lead_generation +3 → lead_generation +2``."""
    return f"{c.part} {c.id} {c.change}: {c.detail}"


def items_changed_text(diff) -> str:
    return f"{len(diff.items_changed)} of {plural(diff.items_checked, 'item')} change tier"


def diff_markdown(diff, with_items: bool) -> str:
    """The diff as a pull request's comment: the two rulebooks, each change, and a table of the
    items whose tier changes with the changes that cause it."""
    def book(b: dict[str, str]) -> str:
        return f"{md(b['name'])} {md(b['version'])} (`{b['hash'][:19]}`)"

    out = [f"### Rulebook change: {book(diff.old)} → {book(diff.new)}", ""]
    if diff.changes:
        out += [f"{plural(len(diff.changes), 'change')}:", "", *[f"- {md(rule_change_text(c))}" for c in diff.changes]]
    else:
        out.append("No changes.")
    if with_items:
        out += ["", f"**{items_changed_text(diff)}**"]
        if diff.items_changed:
            out += ["", "| Item | Title | Tier | Because |", "|---|---|---|---|"]
            for t in diff.items_changed:
                because = "<br>".join(md(rule_change_text(c)) for c in t.causes)
                out.append(f"| {md(t.item)} | {md(t.title)} | {md(t.old_tier)} → {md(t.new_tier)} | {because} |")
    return "\n".join(out)


# ---- calibration ---------------------------------------------------------------------------
def _calibration_summary(report) -> str:
    return (f"exact: {report.exact} of {report.launches} ({report.rate(report.exact):g}%); within one tier: "
            f"{report.within_one} of {report.launches} ({report.rate(report.within_one):g}%)")


def _calibration_by_evidence(report) -> list[str]:
    """The agreement over each kind of evidence: a tier the company published, one its published
    rule gives, one mapped from its launch program."""
    return [f"{kind} tiers: exact {t.exact} of {t.launches} ({report.rate(t.exact, t.launches):g}%), within one "
            f"{t.within_one} ({report.rate(t.within_one, t.launches):g}%)" for kind, t in report.by_evidence.items()]


def calibration_text(report, width: int | None = None) -> str:
    rb = report.rulebook
    out = heading(f"Calibration of rulebook {rb['name']} {rb['version']} against "
                  f"{report.launches} published launch{'' if report.launches == 1 else 'es'} "
                  f"({plural(len(report.files), 'file')})", width)
    key_w = max([4] + [cells(one_line(r.item)) for r in report.rows])
    out.append(style(f"{'ITEM'.ljust(key_w)}  PUBLISHED  RULES    DECIDED BY", bold=True))
    for r in report.rows:
        mark = " " if not r.off_by else "!"
        line = f"{one_line(r.item).ljust(key_w)}{mark} {r.expected:<9}  {r.got:<7}  {one_line(r.deciding)}"
        out += wrap(line, width, hang=" " * (key_w + 22))
    out += ["", _calibration_summary(report)]
    out += [f"  {line}" for line in _calibration_by_evidence(report)]
    if report.misses:
        out += ["", *heading(f"Misses ({len(report.misses)})", width)]
        for r in report.misses:
            out += wrap(one_line(f"  {r.item} ({r.company}): published {r.expected} ({r.published}), the rules give {r.got}"),
                        width, hang="    ")
            out += [w for c in r.causes for w in wrap(one_line(f"    {c}"), width, hang="        ")]
    return "\n".join(out)


def calibration_markdown(report) -> str:
    rb = report.rulebook
    out = [f"### Calibration of rulebook {md(rb['name'])} {md(rb['version'])}", "",
           md(_calibration_summary(report)) + ".", "", *[f"- {md(line)}" for line in _calibration_by_evidence(report)], "",
           "| Launch | Company | Published | Evidence | Tier | Rules | Decided by |", "|---|---|---|---|---|---|---|"]
    for r in report.rows:
        got = r.got if not r.off_by else f"**{r.got}**"
        out.append(f"| {md(r.item)} {md(r.title)} | {md(r.company)} | {md(r.published)} | {r.evidence} | {r.expected} | {got} | "
                   f"{md(r.deciding)} |")
    if report.misses:
        out += ["", "Misses:", ""]
        for r in report.misses:
            out.append(f"- {md(r.item)}: published {r.expected}, the rules give {r.got}: "
                       + "; ".join(md(c.strip()) for c in r.causes))
    return "\n".join(out) + "\n"

"""``rules suggest``'s report: each suggested rule change, in the domain's words, with its exact
effect on the recorded decisions, as text and as Markdown."""

from __future__ import annotations

import json
from typing import Any

from .text import md, plural, wrap

SHOWN = 8  # items named in a line before "and N more"


def _names(items: list[Any]) -> str:
    keys = [i.item for i in items]
    shown = ", ".join(keys[:SHOWN])
    return shown + (f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else "")


def _why(o: Any) -> str:
    return f"{o.item} {o.rules_tier} → {o.committed_tier}, by {o.by}: {o.reason}"


def _head(report: Any) -> list[str]:
    book = report.rulebook
    lines = [f"Rulebook {book['name']} {book['version']} ({book['hash'][:19]}…), ledger {report.ledger}: "
             f"{plural(report.decisions, 'latest decision')}" + (f" recorded since {report.since}" if report.since else "")
             + f", {plural(len(report.overrides), 'override')} the rules disagree with."]
    if report.agreeing:
        lines.append(f"{plural(len(report.agreeing), 'override')} the current rules already agree with: "
                     f"{_names(report.agreeing)} (kept as they are).")
    if report.circumstantial:
        lines.append(f"Left out: {plural(len(report.circumstantial), 'override')} whose reason names a circumstance "
                     f"({', '.join(report.circumstances)}), not the rules: {_names(report.circumstantial)}.")
    if report.unreadable:
        lines.append(f"Left out: {plural(len(report.unreadable), 'decision')} whose recorded item this rulebook "
                     f"cannot read: {'; '.join(report.unreadable[:3])}" + ("; ..." if len(report.unreadable) > 3 else "") + ".")
    lines.append("Tiers are the rules' own, before the quarter's capacity ranks the items (rules diff with the roadmap shows "
                 "both).")
    s = report.search
    searched = (f"Searched {s.single_edits:,} single edits" +
                (f" and {s.combinations:,} combinations of up to {s.max_changes}, built from the "
                 f"{plural(s.combined_from, 'edit')} that bring the overrides nearest" if s.max_changes > 1 else "") + ".")
    lines.append(searched + (f" {s.note}." if s.note else ""))
    return lines


def _effect(s: Any, total: int) -> list[str]:
    lines = [f"agrees with {len(s.explains)} of {plural(total, 'override')}: " +
             "; ".join(f"{o.item} ({o.rules_tier} → {o.committed_tier}: {o.reason})" for o in s.explains[:SHOWN]) +
             (f" and {len(s.explains) - SHOWN} more" if len(s.explains) > SHOWN else "")]
    if not s.changes and not s.breaks:
        lines.append("changes no other decision")
    if s.changes:
        lines.append(f"changes {plural(len(s.changes), 'other decision')}: " +
                     ", ".join(f"{m.item} {m.from_tier} → {m.to_tier}" for m in s.changes[:SHOWN]) +
                     (f" and {len(s.changes) - SHOWN} more" if len(s.changes) > SHOWN else ""))
    if s.breaks:
        lines.append(f"undoes {plural(len(s.breaks), 'override')} the rules agree with now: " +
                     ", ".join(f"{m.item} {m.from_tier} → {m.to_tier}" for m in s.breaks[:SHOWN]))
    if s.elsewhere:
        lines.append(f"moves {plural(len(s.elsewhere), 'override')} to another tier than the team's: " +
                     ", ".join(f"{m.item} {m.from_tier} → {m.to_tier}" for m in s.elsewhere[:SHOWN]))
    if s.unexplained:
        lines.append(f"{plural(len(s.unexplained), 'override')} stay unexplained: " +
                     "; ".join(_why(o) for o in s.unexplained[:SHOWN]) +
                     (f"; and {len(s.unexplained) - SHOWN} more" if len(s.unexplained) > SHOWN else ""))
    return lines


def suggest_text(report: Any, width: int | None = None) -> str:
    out = wrap("Rule changes the overrides argue for", width)
    for line in _head(report):
        out += wrap(line, width, hang="  ", prose=True)
    if not report.overrides:
        out += wrap("Nothing to suggest: no override disagrees with the current rules.", width, prose=True)
        return "\n".join(out)
    if not report.suggestions:
        out += wrap("No edit of the kinds searched makes the rules agree with any of these overrides:", width, prose=True)
        out += [line for o in report.overrides for line in wrap(_why(o), width, "  ", "    ", prose=True)]
        return "\n".join(out)
    for n, s in enumerate(report.suggestions, 1):
        out.append("")
        changes = [e.change for e in s.edits]
        out += wrap(f"{n}. " + " and ".join(changes), width, hang="   ", prose=True)
        for e in s.edits:
            out += wrap(f"{e.field}: {_value(e.before)} → {_value(e.after)}", width, "   ", "     ")
        for line in _effect(s, len(report.overrides)):
            out += wrap(line, width, "   ", "     ", prose=True)
    return "\n".join(out)


def _value(v: Any) -> str:
    if v is None:
        return "(none)"
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def suggest_markdown(report: Any) -> str:
    out = ["## Rule changes the overrides argue for", ""]
    out += [md(line) + "  " for line in _head(report)]
    if not report.suggestions:
        out += ["", "No edit of the kinds searched makes the rules agree with an override." if report.overrides
                else "Nothing to suggest: no override disagrees with the current rules."]
        return "\n".join(out)
    for n, s in enumerate(report.suggestions, 1):
        out += ["", f"### {n}. " + md(" and ".join(e.change for e in s.edits)), ""]
        out += ["```diff"] + [f"- {e.field}: {_value(e.before)}\n+ {e.field}: {_value(e.after)}" for e in s.edits] + ["```", ""]
        out += [f"- {md(line)}" for line in _effect(s, len(report.overrides))]
    return "\n".join(out)

"""Hostile text made harmless on the way out: control characters escaped for the terminal and in
XML, and spreadsheet formulas neutralised in CSV.

A title, a rule's reason or a name can hold any character. Printed raw, an escape sequence clears
the screen, retitles the window or erases the start of a line, and a line break starts a forged
one; a CSV cell that starts with ``=`` is a formula to a spreadsheet. Every terminal output goes
through :func:`terminal`, every CSV output through :func:`csv_cell`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import unicodedata
from typing import Any

import click

# C0 controls but tab, DEL and C1 controls (a UTF-8 terminal may take U+009B as CSI).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_CONTROL_KEEP_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The reporters' styles (bold, colours) travel through a report as markers holding a token made
# at start-up and never shown, so that no text from a file can forge one; terminal() escapes every
# control character of the report (an escape sequence in a title included) and only then turns
# the markers into click's styles.
_TOKEN = "\ue000" + secrets.token_hex(6)
_MARKED = re.compile(re.escape(_TOKEN) + r"(\{[^{}]*\})(.*?)" + re.escape(_TOKEN) + r"\.", re.S)
_SHORT = {"\n": "\\n", "\r": "\\r"}


def _escape(m: re.Match) -> str:
    # DEL and C1 as \u00NN: inside a JSON string (where alone they can occur in JSON) that is
    # the same character, so JSON stays JSON
    c = m.group()
    return _SHORT.get(c) or (f"\\x{ord(c):02x}" if c < "\x7f" else f"\\u{ord(c):04x}")


def one_line(text: Any) -> str:
    """``text`` with every control character but tab written as a visible escape, line breaks
    too (``\\x1b``, ``\\r``, ``\\n``, ``\\u009b``): for a message or a line of a report that must
    stay one line."""
    return _CONTROL.sub(_escape, str(text))


def style(text: str, **styles: Any) -> str:
    """``click.style(text, **styles)``, applied by :func:`terminal` once the text is escaped."""
    return f"{_TOKEN}{json.dumps(styles, sort_keys=True)}{text}{_TOKEN}."


def terminal(text: str) -> str:
    """A whole report for the terminal: every control character escaped as in :func:`one_line`
    but its own line breaks, then the reporters' styles (:func:`style`) applied."""
    escaped = _CONTROL_KEEP_LINES.sub(_escape, text)
    return _MARKED.sub(lambda m: click.style(m.group(2), **json.loads(m.group(1))), escaped)


# ---- XML -----------------------------------------------------------------------------------
# Beyond the control characters, the code points XML 1.0 forbids: a lone surrogate (JSON's "\ud800"
# reads as one), U+FFFE and U+FFFF.
_NOT_XML = re.compile(r"[\ud800-\udfff\ufffe\uffff]")


def xml_text(text: Any) -> str:
    """Text from a file for an XML attribute or element, on one line: every control character
    but tab written as a visible escape as in :func:`one_line`, and every other code point XML 1.0
    forbids as ``\\uXXXX``, so that the document stays well-formed and shows what the file holds."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", one_line(text))


# ---- CSV -----------------------------------------------------------------------------------
CSV_RAW_ENV = "LAUNCHTIER_CSV_RAW"
# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# a cell keeps its tabs and line breaks (the writer quotes it)
_CONTROL_IN_CELL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def csv_raw() -> bool:
    """Whether CSV cells are written as they are (``LAUNCHTIER_CSV_RAW=1``, for machines)."""
    return os.environ.get(CSV_RAW_ENV, "").strip().lower() in ("1", "true", "yes")


def csv_cell(value: Any, raw: bool) -> Any:
    """A text cell that a spreadsheet would take for a formula, prefixed with ``'``, and its
    control characters but tab and line breaks escaped as for the terminal (unless ``raw``);
    numbers stay numbers, so a score of -2 is still -2."""
    if raw or not isinstance(value, str):
        return value
    value = _CONTROL_IN_CELL.sub(_escape, value)
    return "'" + value if value.startswith(_FORMULA_START) else value


# ---- width ---------------------------------------------------------------------------------
def cells(text: str) -> int:
    """The columns ``text`` takes on a terminal once :func:`terminal` has written it: styles
    take none, an escaped control character its escape (``\\x1b`` is four), a wide character
    (CJK) two, a combining mark none; ``→``, ``✓`` and ``…`` one each."""
    shown = _CONTROL_KEEP_LINES.sub(_escape, _MARKED.sub(lambda m: m.group(2), text))
    if shown.isascii():
        return len(shown)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in shown)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns, its last one an ellipsis when anything was cut (plain
    text only: a styled text is cut after it is measured, never inside its style)."""
    if cells(text) <= width:
        return text
    out, used = [], 0
    for c in text:
        w = cells(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out).rstrip() + "…"


def styled(text: str) -> bool:
    """Whether ``text`` holds a style of :func:`style` (its width is then its maker's to keep)."""
    return _TOKEN in text

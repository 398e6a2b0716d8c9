"""The meeting page's web application (``launchtier meeting``): a WSGI app on Werkzeug.

Security model, for a page served on the loopback interface to the browsers of one machine:

- every path starts with the run's random token (``/TOKEN/...``); any other path is a bare 404
  that says nothing of the meeting;
- the Host header must name the served address (127.0.0.1 or localhost and the port), so a
  page of another site cannot reach the server by rebinding a name of its own to 127.0.0.1;
- a request that writes is a POST, and its Origin (or, without one, its Referer) must be the
  served origin: a page of another site cannot make the browser record or override;
- every text from items, the rulebook or the ledger is escaped (:mod:`.render.meeting`), and
  the Content-Security-Policy allows only the page's own style sheet and script.

Each request reads the roadmap's what-ifs from its URL and asks the engine's
:class:`~launchtier.engine.roadmap.meeting.Meeting`; nothing is kept per viewer on the server.
"""

from __future__ import annotations

import json
import secrets
import sys
from importlib.resources import files
from typing import Any, Callable
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from launchtier.engine.errors import InputError, LedgerDamaged, LedgerError
from launchtier.engine.ledger import where
from launchtier.engine.roadmap.meeting import Meeting

from .render import meeting as page
from .render.html import stylesheet, tier_css
from .render.text import overridden_text, plural

CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
# a what-if's JSON larger than this is no meeting's: refused before it is parsed
MAX_WHATIF = 100_000


class Refused(Exception):
    """A request the page answers with an error page: its status and its lines."""

    def __init__(self, status: int, lines: list[str]):
        super().__init__(lines)
        self.status, self.lines = status, lines


class MeetingApp:
    """The WSGI application of one meeting: its token, and the addresses it answers on."""

    def __init__(self, meeting: Meeting, ledger_location: str | None, token: str | None = None, port: int = 0):
        self.meeting = meeting
        self.book = meeting.book
        self.ledger_location = ledger_location
        self.token = token or secrets.token_urlsafe(24)
        self.prefix = f"/{self.token}/"
        self.port = port
        self.routes: dict[str, Callable[[Request], Response]] = {
            "": self.main, "style.css": self.style, "meeting.js": self.script, "record": self.record,
            "override": self.override, "download/item": self.download_item, "download/case": self.download_case,
        }

    @property
    def hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.respond(request)
        response.headers.update(HEADERS)
        return response(environ, start_response)

    # ---- the checks every request passes ------------------------------------------------
    def respond(self, request: Request) -> Response:
        if request.host not in self.hosts:
            return Response("forbidden\n", 403, mimetype="text/plain")
        first, sep, rest = request.path.lstrip("/").partition("/")
        if not sep or not secrets.compare_digest(first.encode(), self.token.encode()):
            return Response("not found\n", 404, mimetype="text/plain")
        route = self.routes.get(rest)
        if route is None:
            return Response("not found\n", 404, mimetype="text/plain")
        if request.method == "POST" and not self.same_origin(request):
            return Response("forbidden: a request that writes must come from the meeting page itself\n", 403,
                            mimetype="text/plain")
        if request.method not in ("GET", "HEAD", "POST") or (request.method == "POST" and rest not in ("record", "override")):
            return Response("method not allowed\n", 405, mimetype="text/plain")
        try:
            return route(request)
        except Refused as e:
            return self.html(page.error_page(self.prefix, e.lines, self.back(request)), e.status)
        except InputError as e:
            return self.html(page.error_page(self.prefix, [str(p) for p in e.problems], self.back(request)), 400)
        except LedgerDamaged as e:
            return self.html(page.error_page(self.prefix, [str(e), "run launchtier audit on the ledger"], self.back(request)), 500)
        except LedgerError as e:
            return self.html(page.error_page(self.prefix, [str(e)], self.back(request)), 400)
        except Exception as e:  # no traceback for the room: one line on the terminal that serves
            print(f"launchtier meeting: {request.method} {rest}: {type(e).__name__}: {e}", file=sys.stderr)
            return Response("internal error; see the terminal that runs launchtier meeting\n", 500, mimetype="text/plain")

    def same_origin(self, request: Request) -> bool:
        """Whether a writing request comes from a page this server served: its Origin, else its
        Referer, is the served scheme, host and port (a request with neither is refused)."""
        origin = request.headers.get("Origin")
        if origin is None:
            referer = request.headers.get("Referer")
            if referer is None:
                return False
            parts = urlsplit(referer)
            origin = f"{parts.scheme}://{parts.netloc}"
        return origin in {f"http://{h}" for h in self.hosts}

    # ---- state --------------------------------------------------------------------------
    def state(self, request: Request) -> tuple[str | None, dict[str, dict[str, str]]]:
        """The viewer's selected item and what-ifs, from the URL (or the form posted)."""
        values = request.values
        selected = values.get("item") or None
        if selected is not None and selected not in self.meeting.by_key:
            raise Refused(404, [f"no item with key '{selected}' in the roadmap"])
        text = values.get("whatif") or ""
        whatifs: dict[str, dict[str, str]] = {}
        if text:
            try:
                raw = json.loads(text) if len(text) <= MAX_WHATIF else None
            except ValueError:
                raw = None
            if not (isinstance(raw, dict) and all(isinstance(k, str) and isinstance(c, dict) and
                                                  all(isinstance(s, str) and isinstance(x, str) for s, x in c.items())
                                                  for k, c in raw.items())):
                raise Refused(400, ["the what-if in the address is not {item key: {signal: value}}; reset it"])
            whatifs = {k: dict(c) for k, c in raw.items() if c}
        return selected, whatifs

    def back(self, request: Request) -> str:
        try:
            selected, whatifs = self.state(request)
        except Refused:
            selected, whatifs = None, {}
        return page.state_url(self.prefix, selected, whatifs)

    # ---- pages --------------------------------------------------------------------------
    def main(self, request: Request) -> Response:
        selected, whatifs = self.state(request)
        sets = {k[4:]: request.args.getlist(k)[-1] for k in request.args if k.startswith("sig.")}
        if sets and selected is not None:  # the what-if form: keep what differs from the file, then a clean URL
            file_values = self.meeting.by_key[selected].signal_values()
            mine = {s: v for s, v in sets.items() if s in self.book.signals and v != page.form_value(file_values[s])}
            whatifs = {k: c for k, c in whatifs.items() if k != selected}
            if mine:
                whatifs[selected] = mine
            self.meeting.roadmap(whatifs)  # a value the signal does not take is refused here, with its message
            return self.redirect(page.state_url(self.prefix, selected, whatifs))
        made = self.meeting.roadmap(whatifs)
        report = self.meeting.review(whatifs)
        base = self.meeting.review() if made.originals else report
        explanation = self.meeting.explain(selected, whatifs) if selected else None
        values = next((i.signal_values() for i in made.items if i.key == selected), {})
        view = page.View(self.book, self.prefix, report, base, whatifs, self.meeting.differences(whatifs), selected,
                         explanation, values, self.meeting.head(), where(self.ledger_location))
        return self.html(page.main_page(view))

    def record(self, request: Request) -> Response:
        selected, whatifs = self.state(request)
        back = page.state_url(self.prefix, selected, whatifs)
        by, note = (request.values.get("by") or "").strip(), (request.values.get("note") or "").strip()
        if request.method != "POST":
            scope = f"quarter {self.meeting.quarter}" if self.meeting.quarter else "all quarters"
            lines = [f"Record the decisions of {plural(len(self.meeting.items), 'item')} ({scope}) as the files give them",
                     f"in the ledger {where(self.ledger_location)}", f"by {by or '(nobody: fill in By)'}",
                     f"note: {note or '(none)'}"]
            if whatifs:
                lines.append("the what-ifs on the page are not recorded")
            return self.html(page.confirm_page(self.prefix, "record", "Record the review", lines,
                                               {"by": by, "note": note, "item": selected or "", **self.carried(whatifs)},
                                               back))
        report = self.meeting.record(by, note or None)
        lines = [f"recorded {plural(len(report.recorded), 'decision')} in {where(self.ledger_location)}"]
        lines += [f"warning: {w}" for w in report.warnings]
        return self.html(page.result_page(self.prefix, "Recorded", lines, report.head, back))

    def override(self, request: Request) -> Response:
        selected, whatifs = self.state(request)
        back = page.state_url(self.prefix, selected, whatifs)
        if selected is None:
            raise Refused(400, ["choose the item to override"])
        tier = request.values.get("tier") or ""
        reason, by = request.values.get("reason") or "", request.values.get("by") or ""
        approvers = [a for a in request.values.getlist("approved_by") if a.strip()]
        if request.method != "POST":
            lines = [f"Override the latest recorded decision of {selected} into {tier}", f"reason: {reason}", f"by {by}",
                     f"approved by {', '.join(approvers) or 'nobody'}", f"in the ledger {where(self.ledger_location)}"]
            return self.html(page.confirm_page(self.prefix, "override", f"Override {selected}", lines,
                                               {"item": selected, "tier": tier, "reason": reason, "by": by,
                                                "approved_by": approvers, **self.carried(whatifs)}, back))
        o, warnings = self.meeting.override(selected, tier, reason=reason, by=by, approved_by=approvers)
        lines = [overridden_text(o)]
        lines += [f"warning: {w}" for w in warnings]
        return self.html(page.result_page(self.prefix, "Overridden", lines, self.meeting.head(), back))

    def download_item(self, request: Request) -> Response:
        selected, whatifs = self.state(request)
        if selected is None:
            raise Refused(400, ["choose the item to download"])
        return self.attachment(self.meeting.item_file(selected, whatifs), f"{selected}-what-if.yaml")

    def download_case(self, request: Request) -> Response:
        selected, whatifs = self.state(request)
        if selected is None:
            raise Refused(400, ["choose the item to download"])
        return self.attachment(self.meeting.rule_case(selected, whatifs), f"{selected}-case.yaml")

    def style(self, request: Request) -> Response:
        here = files("launchtier.cli.render")
        css = stylesheet() + "\n" + tier_css(self.book) + "\n" + here.joinpath("meeting.css").read_text(encoding="utf-8")
        return Response(css, mimetype="text/css")

    def script(self, request: Request) -> Response:
        js = files("launchtier.cli.render").joinpath("meeting.js").read_text(encoding="utf-8")
        return Response(js, mimetype="text/javascript")

    @staticmethod
    def carried(whatifs: dict[str, dict[str, str]]) -> dict[str, str]:
        """The what-ifs as a confirm form carries them, so that its result leads back to them."""
        return {"whatif": page.whatif_json(whatifs)} if whatifs else {}

    # ---- responses ----------------------------------------------------------------------
    @staticmethod
    def html(text: str, status: int = 200) -> Response:
        return Response(text, status, mimetype="text/html")

    @staticmethod
    def redirect(location: str) -> Response:
        return Response("", 303, headers={"Location": location})

    @staticmethod
    def attachment(text: str, name: str) -> Response:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return Response(text, mimetype="application/yaml", headers={"Content-Disposition": f'attachment; filename="{safe}"'})

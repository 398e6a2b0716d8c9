"""The meeting page's server, in process (Werkzeug's test client, and a real threaded server for
concurrent writers): the token, the Host and cross-site checks, escaping, and that what the page
shows and records is what ``explain --set``, ``review --record`` and ``override`` give."""

from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("werkzeug", reason="the meeting extra (werkzeug) is not installed: pip install 'launchtier[meeting]'")

from werkzeug.serving import make_server  # noqa: E402
from werkzeug.test import Client  # noqa: E402

from conftest import EXAMPLES, document  # noqa: E402
from test_review_html import parse  # noqa: E402

from launchtier.cli.web import MeetingApp  # noqa: E402
from launchtier.engine.ledger import open_ledger  # noqa: E402
from launchtier.engine.roadmap.meeting import Meeting  # noqa: E402

ROADMAP = EXAMPLES / "roadmap.yaml"
TOKEN = "test-token-1234"
PORT = 5050
BASE = f"http://127.0.0.1:{PORT}"
HOSTILE_TITLE = "<script>document.title='pwned'</script> \"quoted\" 'single' & \x1b[31mred\x07"
HOSTILE_KEY = 'EVIL-1"><b>key</b>'


@pytest.fixture
def ledger(tmp_path) -> Path:
    return tmp_path / "meeting.db"


def make_app(book, ledger: Path, *files: Path, quarter: str | None = None) -> MeetingApp:
    meeting = Meeting(book, [str(f) for f in files or [ROADMAP]], quarter=quarter, ledger_location=str(ledger))
    return MeetingApp(meeting, str(ledger), token=TOKEN, port=PORT)


@pytest.fixture
def client(book, ledger) -> Client:
    return Client(make_app(book, ledger))


def get(client: Client, path: str = "", **query):
    return client.get(f"/{TOKEN}/{path}", query_string=query, base_url=BASE)


def post(client: Client, path: str, data: dict, origin: str | None = BASE, referer: str | None = None):
    headers = {k: v for k, v in (("Origin", origin), ("Referer", referer)) if v is not None}
    return client.post(f"/{TOKEN}/{path}", data=data, headers=headers, base_url=BASE)


def whatif(changes: dict) -> str:
    return json.dumps(changes)


# ---- the token, the host, the methods ---------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/wrong-token/", f"/{TOKEN}x/", f"/{TOKEN[:-1]}/", "/style.css", f"/{TOKEN}"])
def test_a_wrong_or_missing_token_is_a_bare_404(client, path):
    response = client.get(path, base_url=BASE)
    assert (response.status_code, response.text) == (404, "not found\n")


def test_an_unknown_page_under_the_token_is_a_bare_404(client):
    response = get(client, "admin")
    assert (response.status_code, response.text) == (404, "not found\n")


@pytest.mark.parametrize("host", ["http://evil.example:5050", "http://127.0.0.1:5051", "http://localhost:80"])
def test_another_host_name_is_refused_even_with_the_token(client, host):
    """A page that rebinds its own name to 127.0.0.1 sends its name as the Host: refused."""
    response = client.get(f"/{TOKEN}/", base_url=host)
    assert (response.status_code, response.text) == (403, "forbidden\n")


def test_localhost_is_the_same_server(client):
    assert client.get(f"/{TOKEN}/", base_url=f"http://localhost:{PORT}").status_code == 200


def test_every_response_carries_the_security_headers(client):
    for response in (get(client), get(client, "style.css"), client.get("/nope/", base_url=BASE)):
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'self'; script-src 'self'")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_the_page_loads_its_style_and_script_from_itself(client):
    doc = parse(get(client).text)
    assert [link.attrs["href"] for link in doc.find_all("link")] == [f"/{TOKEN}/style.css"]
    assert [s.attrs["src"] for s in doc.find_all("script")] == [f"/{TOKEN}/meeting.js"]
    css = get(client, "style.css")
    assert css.mimetype == "text/css" and ".t0 { background: #1d4e89; color: #ffffff; }" in css.text
    assert "requestSubmit" in get(client, "meeting.js").text


# ---- cross-site requests ------------------------------------------------------------------------
@pytest.mark.parametrize("origin, referer", [
    (None, None), ("http://evil.example", None), ("null", None), (f"http://127.0.0.1:{PORT + 1}", None),
    (None, "http://evil.example/page"), ("https://127.0.0.1:5050", None),
])
def test_a_write_from_another_origin_is_refused_and_writes_nothing(client, ledger, origin, referer):
    response = post(client, "record", {"by": "Mallory"}, origin=origin, referer=referer)
    assert response.status_code == 403
    assert response.text == "forbidden: a request that writes must come from the meeting page itself\n"
    assert not ledger.exists()


def test_a_write_with_the_pages_referer_and_no_origin_is_accepted(client, ledger):
    response = post(client, "record", {"by": "Priya N."}, origin=None, referer=f"{BASE}/{TOKEN}/record?by=x")
    assert response.status_code == 200
    assert ledger.exists()


def test_reading_pages_never_write(client, ledger):
    """The confirm steps are GETs that show what would be written; only their POST writes."""
    assert get(client, "record", by="Priya N.", note="x").status_code == 200
    assert get(client, "override", item="PAY-12", tier="tier-1", reason="r", by="Tom O.").status_code == 200
    assert not ledger.exists()


def test_a_get_cannot_write_and_a_post_elsewhere_is_refused(client, ledger):
    assert post(client, "", {"by": "x"}).status_code == 405
    assert not ledger.exists()


# ---- escaping -----------------------------------------------------------------------------------
def write_hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"items": [{
        "key": HOSTILE_KEY, "title": HOSTILE_TITLE, "pm": "<img src=x onerror=alert(1)>", "pmm": "Tom & \"Jerry\"",
        "quarter": "2027-Q2",
        "signals": {"new_market": True, "positioning": "changes", "revenue_motion": "new_logo",
                    "differentiation": "first", "customer_reach": 40, "audience": "buyer", "stage": "beta"},
    }]}), encoding="utf-8")
    return path


def test_item_text_is_escaped_in_the_page(book, ledger, tmp_path):
    client = Client(make_app(book, ledger, ROADMAP, write_hostile(tmp_path)))
    text = get(client, item=HOSTILE_KEY, whatif=whatif({HOSTILE_KEY: {"stage": "ga"}})).text
    doc = parse(text)
    # no element came from the item's text: the only scripts and images are the page's own
    assert [s.attrs.get("src") for s in doc.find_all("script")] == [f"/{TOKEN}/meeting.js"]
    assert not doc.find_all("img") and not doc.find_all("b")
    assert "<script>document.title" not in text and "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in text
    section = doc.one("section", cls="item")
    assert section.attrs["data-key"] == HOSTILE_KEY
    assert section.one("span", cls="title").text() == HOSTILE_TITLE
    assert "PM <img src=x onerror=alert(1)> · PMM Tom & \"Jerry\"" in section.one("p", cls="facts").text()
    row = doc.one("tr", **{"data-key": HOSTILE_KEY})
    assert HOSTILE_TITLE in row.text()
    # the what-if's JSON rides in attributes and links, escaped: every link parses back to the same state
    links = [a.attrs["href"] for a in doc.find_all("a") if "whatif=" in a.attrs.get("href", "")]
    assert links and all(HOSTILE_KEY.replace('"', "%22") not in link for link in links)


def test_a_hostile_whatif_in_the_address_is_refused_as_text(client):
    response = get(client, item="PAY-12", whatif='{"PAY-12": {"stage": "<script>x</script>"}}')
    assert response.status_code == 400
    doc = parse(response.text)
    assert [li.text() for li in doc.find_all("li")] == [
        "error: what-if: item PAY-12: signals.stage: '<script>x</script>' is not allowed; expected one of beta, ga"]
    assert "<script>x" not in response.text


@pytest.mark.parametrize("value", ["[1]", "{\"PAY-12\": 3}", "not json", "{\"PAY-12\": {\"stage\": 1}}"])
def test_a_malformed_whatif_is_a_400_with_what_to_do(client, value):
    response = get(client, item="PAY-12", whatif=value)
    assert response.status_code == 400
    assert [li.text() for li in parse(response.text).find_all("li")] == [
        "error: the what-if in the address is not {item key: {signal: value}}; reset it"]


def test_an_unknown_item_is_a_404_page(client):
    response = get(client, item="NOPE-1")
    assert response.status_code == 404
    assert [li.text() for li in parse(response.text).find_all("li")] == ["error: no item with key 'NOPE-1' in the roadmap"]


# ---- the what-if: the page shows what explain --set gives ----------------------------------------
def test_the_form_keeps_only_what_differs_from_the_file_and_redirects_to_a_clean_address(client):
    # PAY-12 has differentiation better and pricing_change true in the file
    response = get(client, **{"item": "PAY-12", "sig.differentiation": "first", "sig.pricing_change": "true",
                              "sig.customer_reach": "60"})
    assert response.status_code == 303
    assert response.headers["Location"] == (f"/{TOKEN}/?item=PAY-12&whatif=%7B%22PAY-12%22%3A%7B%22differentiation"
                                            "%22%3A%22first%22%7D%7D")


@pytest.mark.parametrize("key, changes", [
    ("PAY-12", {"differentiation": "first"}),
    ("PAY-44", {"customer_reach": "55", "pricing_change": "true"}),
    ("PAY-41", {"stage": "ga"}),
])
def test_a_whatif_shows_what_explain_set_gives(client, runner, key, changes):
    sets = [a for s, v in changes.items() for a in ("--set", f"{s}={v}")]
    cli = runner("explain", ROADMAP, "--item", key, *sets, "--format", "json")
    assert cli.exit_code == 0, cli.output
    expected = document(cli.stdout)["decision"]
    doc = parse(get(client, item=key, whatif=whatif({key: changes})).text)
    section = doc.one("section", cls="item")
    assert section.one("span", cls="tier").text() == f"{expected['tier']} {expected['label']}"
    assert [li.one("strong").text() for li in section.one("ul", cls="fired").find_all("li")] == \
        [f["rule"] for f in expected["fired"]]
    assert sorted(li.attrs["data-artifact"] for li in section.find_all("li") if "data-artifact" in li.attrs) == \
        sorted(a["id"] for a in expected["artifacts"])
    row = doc.one("tr", **{"data-key": key})
    assert row.one("span", cls="tier").text() == f"{expected['tier']} {expected['label']}"
    changed = {label.attrs["data-signal"] for label in doc.find_all("label", cls="changed")}
    assert changed == set(changes)


def test_the_engine_explanation_is_explain_sets_whole_document(book, ledger, runner):
    """The page's explanation is the engine's: the same document ``explain --set --format json`` prints."""
    meeting = Meeting(book, [str(ROADMAP)], ledger_location=str(ledger))
    cli = runner("explain", ROADMAP, "--item", "PAY-12", "--set", "differentiation=first", "--format", "json")
    assert document(cli.stdout) == json.loads(meeting.explain("PAY-12", {"PAY-12": {"differentiation": "first"}})
                                              .model_dump_json(by_alias=True))


def test_a_whatif_moves_the_quarters_capacity_and_workload(client):
    """PAY-12 made tier-1 takes 2027-Q1's one tier-1 place from PAY-41, and the quarter's work changes."""
    plain = parse(get(client, item="PAY-12").text)
    doc = parse(get(client, item="PAY-12", whatif=whatif({"PAY-12": {"differentiation": "first"}})).text)
    assert plain.one("tr", **{"data-key": "PAY-41"}).one("span", cls="tier").text() == "tier-1 Marketing launch"
    pay41 = doc.one("tr", **{"data-key": "PAY-41"})
    assert pay41.one("span", cls="tier").text() == "tier-2 Launch"
    assert pay41.one("span", cls="was").text() == "file: tier-1"
    q1 = doc.one("article", **{"data-quarter": "2027-Q1"})
    assert "whatif" in q1.attrs["class"].split()
    assert [p.text() for p in q1.find_all("p", cls="capacity-note")] == [
        "Capacity: tier-1: 2 candidates for 1 place; moved down: PAY-41"]
    assert not plain.one("article", **{"data-quarter": "2027-Q1"}).find_all("p", cls="capacity-note")
    assert doc.one("p", cls="whatif-banner").text().startswith("What-if on 1 item: not in the files, not recorded.")
    box = doc.one("div", cls="whatif-box")
    assert [li.text() for li in box.find_all("li")][:2] == ["differentiation: better → first", "tier: tier-2 → tier-1"]
    assert box.one("a", cls="reset").attrs["href"] == f"/{TOKEN}/?item=PAY-12"


def test_the_downloads_are_the_item_file_and_the_rule_test_case(client, runner, tmp_path):
    state = {"item": "PAY-12", "whatif": whatif({"PAY-12": {"differentiation": "first"}})}
    item = get(client, "download/item", **state)
    assert item.headers["Content-Disposition"] == 'attachment; filename="PAY-12-what-if.yaml"'
    path = tmp_path / "PAY-12-what-if.yaml"
    path.write_text(item.text, encoding="utf-8")
    explained = runner("explain", path, "--format", "json")
    assert document(explained.stdout)["decision"]["tier"] == "tier-1"
    case = get(client, "download/case", **state)
    cases = tmp_path / "cases.yaml"
    cases.write_text(case.text, encoding="utf-8")
    tested = runner("rules", "test", cases)
    assert tested.exit_code == 0, tested.output
    assert "PAY-12 Usage-based pricing: what if differentiation=first (was better)" in case.text


# ---- deciding: what the page records is what the commands record --------------------------------
def history(path: Path) -> list[tuple]:
    with open_ledger(str(path), readonly=True) as ledger:
        return [(r.item, r.computed_tier, r.final_tier, r.recorded_by, r.note,
                 [(o.tier, o.reason, o.by, o.approved_by) for o in r.overrides]) for r in ledger.history()]


def test_record_from_the_page_is_review_record(client, ledger, runner, tmp_path):
    response = post(client, "record", {"by": "Priya N.", "note": "agreed in the room"})
    assert response.status_code == 200
    doc = parse(response.text)
    assert [li.text() for li in doc.one("ul", cls="done").find_all("li")] == [f"recorded 12 decisions in {ledger}"]
    with open_ledger(str(ledger), readonly=True) as opened:
        assert doc.one("code", cls="head").text() == opened.head()
    cli_ledger = tmp_path / "cli.db"
    done = runner("review", ROADMAP, "--record", "--by", "Priya N.", "--note", "agreed in the room", "--db", cli_ledger)
    assert done.exit_code == 0, done.output
    assert history(ledger) == history(cli_ledger)
    assert len(history(ledger)) == 12


def test_the_page_records_the_files_not_the_whatif(client, ledger, runner, tmp_path):
    state = whatif({"PAY-12": {"differentiation": "first"}})
    assert post(client, f"record?item=PAY-12&whatif={state}", {"by": "Priya N."}).status_code == 200
    runner("review", ROADMAP, "--record", "--by", "Priya N.", "--db", tmp_path / "cli.db")
    assert history(ledger) == history(tmp_path / "cli.db")


def test_override_from_the_page_is_override(client, ledger, runner, tmp_path):
    form = {"item": "PAY-41", "tier": "tier-2", "reason": "Budget is short", "by": "Tom O.",
            "approved_by": ["Priya N.", "Ana L.", ""]}
    assert post(client, "record", {"by": "Priya N."}).status_code == 200
    response = post(client, "override", form)
    assert response.status_code == 200
    doc = parse(response.text)
    cli_ledger = tmp_path / "cli.db"
    runner("review", ROADMAP, "--record", "--by", "Priya N.", "--db", cli_ledger)
    cli = runner("override", "PAY-41", "--tier", "tier-2", "--reason", "Budget is short", "--by", "Tom O.",
                 "--approved-by", "Priya N.", "--approved-by", "Ana L.", "--db", cli_ledger)
    assert cli.exit_code == 0, cli.output
    assert [li.text() for li in doc.one("ul", cls="done").find_all("li")] == cli.stdout.splitlines()
    assert history(ledger) == history(cli_ledger)
    with open_ledger(str(ledger), readonly=True) as opened:
        assert doc.one("code", cls="head").text() == opened.head()


@pytest.mark.parametrize("form, cli_args", [
    ({"tier": "tier-1", "reason": "Anchor", "by": "Tom O.", "approved_by": ["Priya N."]},
     ["--tier", "tier-1", "--reason", "Anchor", "--by", "Tom O.", "--approved-by", "Priya N."]),
    ({"tier": "tier-1", "reason": "Anchor", "by": "Tom O.", "approved_by": ["Tom O.", "Ana L."]},
     ["--tier", "tier-1", "--reason", "Anchor", "--by", "Tom O.", "--approved-by", "Tom O.", "--approved-by", "Ana L."]),
    ({"tier": "tier-9", "reason": "Anchor", "by": "Tom O."}, ["--tier", "tier-9", "--reason", "Anchor", "--by", "Tom O."]),
    ({"tier": "tier-1", "reason": " ", "by": "Tom O."}, ["--tier", "tier-1", "--reason", " ", "--by", "Tom O."]),
])
def test_an_override_the_policy_refuses_gives_the_commands_error_and_writes_nothing(client, ledger, runner, tmp_path,
                                                                                     form, cli_args):
    assert post(client, "record", {"by": "Priya N."}).status_code == 200
    before = history(ledger)
    response = post(client, "override", {"item": "PAY-12", **form})
    cli_ledger = tmp_path / "cli.db"
    runner("review", ROADMAP, "--record", "--by", "Priya N.", "--db", cli_ledger)
    cli = runner("override", "PAY-12", *cli_args, "--db", cli_ledger)
    assert (response.status_code, cli.exit_code) == (400, 2)
    assert [li.text() for li in parse(response.text).one("ul", cls="errors").find_all("li")] == cli.stderr.splitlines()
    assert history(ledger) == before


def test_an_override_before_anything_is_recorded_is_refused(client, ledger):
    response = post(client, "override", {"item": "PAY-12", "tier": "tier-1", "reason": "r", "by": "Tom O."})
    assert response.status_code == 400
    assert "Nothing was written." in response.text


def test_a_blank_name_cannot_record(client, ledger):
    response = post(client, "record", {"by": "  "})
    assert response.status_code == 400
    assert [li.text() for li in parse(response.text).one("ul", cls="errors").find_all("li")] == [
        "error: by: '' is not allowed; expected a person's name (not empty or blank)"]
    assert not ledger.exists()


def test_a_second_browser_sees_the_first_ones_decisions_on_refresh(book, ledger):
    first, second = Client(make_app(book, ledger)), Client(make_app(book, ledger))
    assert "none yet" in parse(get(second).text).one("p", cls="summary").text()
    post(first, "record", {"by": "Priya N."})
    post(first, "override", {"item": "PAY-41", "tier": "tier-2", "reason": "Budget", "by": "Tom O.",
                             "approved_by": ["Priya N.", "Ana L."]})
    with open_ledger(str(ledger), readonly=True) as opened:
        head = opened.head()
    doc = parse(get(second, item="PAY-41").text)
    assert [c.text() for c in doc.one("p", cls="summary").find_all("code")] == [str(ledger), head]
    assert doc.one("section", cls="item").one("p", cls="stage").text() == (
        "Set by override #13 (tier-1 → tier-2) by Tom O., approved by Priya N., Ana L.: Budget; its rules give tier-1.")


# ---- several writers at once ----------------------------------------------------------------------
@pytest.mark.slow  # a real server, and threads writing through it
def test_concurrent_writers_lose_nothing_and_the_audit_is_clean(book, ledger, runner):
    app = make_app(book, ledger)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{app.port}/{TOKEN}/"
    statuses: list[int] = []

    def send(path: str, data: dict) -> None:
        body = "&".join(f"{k}={urllib.request.quote(str(v))}" for k, vs in data.items()
                        for v in (vs if isinstance(vs, list) else [vs])).encode()
        request = urllib.request.Request(base + path, data=body, method="POST", headers={
            "Origin": f"http://127.0.0.1:{app.port}", "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as e:
            statuses.append(e.code)

    try:
        send("record", {"by": "Setup"})
        writers = [threading.Thread(target=send, args=("record", {"by": f"Writer {n}", "note": f"n{n}"})) for n in range(6)]
        writers += [threading.Thread(target=send, args=("override", {
            "item": "PAY-60", "tier": tier, "reason": f"r{n}", "by": "Tom O.", "approved_by": ["Priya N.", "Ana L."]}))
            for n, tier in enumerate(["tier-4", "tier-2"])]
        for w in writers:
            w.start()
        for w in writers:
            w.join(timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    assert statuses[0] == 200 and statuses.count(200) == len(statuses), statuses
    with open_ledger(str(ledger), readonly=True) as opened:
        first, last = opened.seq_bounds()
        notes = [e.note for e in opened.entries() if getattr(e, "note", None)]
    assert (first, last) == (1, 12 * 7 + 2)
    assert sorted({n for n in notes if n.startswith("review all quarters: n")}) == [f"review all quarters: n{n}" for n in range(6)]
    audit = runner("audit", "--db", ledger)
    assert audit.exit_code == 0, audit.output


# ---- the command ----------------------------------------------------------------------------------
def test_without_the_extra_the_command_says_how_to_install_it(runner, monkeypatch):
    monkeypatch.setitem(sys.modules, "werkzeug.serving", None)  # an import of it fails, as when not installed
    result = runner("meeting", ROADMAP, "--no-open")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "error: launchtier meeting needs its web server, the 'meeting' extra: pip install 'launchtier[meeting]'\n")


def test_a_bad_roadmap_fails_before_serving_as_review_does(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("items:\n  - key: A-1\n    title: x\n    signals: {revenue_motion: bogus}\n", encoding="utf-8")
    review = runner("review", bad)
    meeting = runner("meeting", bad, "--no-open")
    assert (meeting.exit_code, meeting.stdout) == (2, "")
    assert meeting.stderr == review.stderr and meeting.stderr.startswith(f"error: {bad}:4: item A-1: signals.revenue_motion:")


def test_a_damaged_ledger_fails_before_serving(runner, tmp_path):
    ledger = tmp_path / "damaged.db"
    ledger.write_bytes(b"not a ledger at all, not even SQLite" * 10)
    result = runner("meeting", ROADMAP, "--no-open", "--db", ledger)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("error: ") and str(ledger) in result.stderr


def test_a_port_in_use_is_refused_with_what_to_do(runner):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner("meeting", ROADMAP, "--no-open", "--port", port)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"error: --port {port}: cannot serve on 127.0.0.1:{port} (Address already in use); choose "
                             "another port, or --port 0 for a free one\n")


def test_the_confirm_and_result_pages_lead_back_to_the_viewers_whatif(client):
    state = whatif({"PAY-12": {"differentiation": "first"}})
    back = f"/{TOKEN}/?item=PAY-12&whatif=%7B%22PAY-12%22%3A%7B%22differentiation%22%3A%22first%22%7D%7D"
    page = parse(get(client, item="PAY-12", whatif=state).text)
    assert page.one("form", cls="override").one("input", name="whatif").attrs["value"] == state.replace(" ", "")
    confirm = parse(get(client, "record", by="Priya N.", item="PAY-12", whatif=state).text)
    assert [li.text() for li in confirm.find_all("li")][-1] == "the what-ifs on the page are not recorded"
    posted = {i.attrs["name"]: i.attrs["value"] for i in confirm.one("form").find_all("input")}
    assert posted == {"by": "Priya N.", "note": "", "item": "PAY-12", "whatif": state.replace(" ", "")}
    assert confirm.find_all("a")[-1].attrs["href"] == back
    done = parse(post(client, "record", posted).text)
    assert done.find_all("a")[-1].attrs["href"] == back


def test_the_page_records_and_overrides_on_either_store(book, ledger_db, backend_runner):
    """The page writes through the ledger's store: on PostgreSQL as on SQLite, and the audit of
    the commands reads what it wrote."""
    first, second = Client(make_app(book, ledger_db)), Client(make_app(book, ledger_db))
    assert post(first, "record", {"by": "Priya N."}).status_code == 200
    assert post(first, "override", {"item": "PAY-41", "tier": "tier-2", "reason": "Budget", "by": "Tom O.",
                                    "approved_by": ["Priya N.", "Ana L."]}).status_code == 200
    assert len(history(ledger_db)) == 12
    doc = parse(get(second, item="PAY-41").text)
    assert doc.one("section", cls="item").one("p", cls="stage").text() == (
        "Set by override #13 (tier-1 → tier-2) by Tom O., approved by Priya N., Ana L.: Budget; its rules give tier-1.")
    audit = backend_runner("audit", "--format", "json")
    assert audit.exit_code == 0, audit.stdout
    assert document(audit.stdout)["integrity"]["ok"] is True

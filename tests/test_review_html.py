"""The standalone HTML review page: one offline document with every item and rulebook text escaped,
checked as a string and in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

DEFAULT_RULES = Path(__file__).resolve().parent.parent / "rules" / "default.yaml"

EVIL_TITLE = "<script>alert(1)</script><script>document.title='pwned'</script> \"quotes\" & ampersands"
# In the browser no alert(): were it ever to run, the headless browser would wait on the dialog until the timeout.
SCRIPT_TITLE = "<script>document.title='pwned'</script> \"quotes\" & ampersands"
EVIL_KEY = 'XSS-1"><b>key</b>'
EVIL_PM = "Tom & <i>Jerry</i>"
EVIL_PMM = "<img src=x onerror=\"document.title='pwned'\">"
QUARTERS = ["2027-Q1", "2027-Q2", "unscheduled"]
CAPACITY_NOTE = "tier-1 capacity of 1 for 2027-Q2 taken by PAY-38"
LABELS = {"tier-1": "Marketing launch", "tier-2": "Launch", "tier-3": "Product release", "tier-4": "Quiet release"}


# ---- a small DOM, enough to ask what a page shows -------------------------------------------
class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        return [n for n in self.iter()
                if (tag is None or n.tag == tag)
                and (cls is None or cls in (n.attrs.get("class") or "").split())
                and all(n.attrs.get(k) == v for k, v in attrs.items())]

    def one(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, cls, **attrs)
        assert len(found) == 1, f"expected one {tag or ''}.{cls or ''}{attrs}, found {len(found)}"
        return found[0]


class _Builder(HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(text: str) -> Node:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root


# ---- fixtures --------------------------------------------------------------------------------
def write_evil_items(tmp_path: Path, title: str) -> Path:
    """A hostile item to review with the example roadmap: markup in its key, title, PM and PMM."""
    path = tmp_path / "evil.json"
    path.write_text(json.dumps({"items": [{
        "key": EVIL_KEY, "title": title, "pm": EVIL_PM, "pmm": EVIL_PMM, "quarter": "2027-Q2",
        "signals": {"new_market": True, "positioning": "changes", "revenue_motion": "new_logo",
                    "differentiation": "first", "customer_reach": 40, "audience": "buyer", "stage": "beta"},
    }]}), encoding="utf-8")
    return path


@pytest.fixture
def review_json(runner, roadmap) -> dict:
    result = runner("review", roadmap, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def page(runner, roadmap) -> str:
    result = runner("review", roadmap, "--format", "html")
    assert result.exit_code == 0, result.output
    return result.stdout


def _rects_per_quarter(doc: Node) -> dict[str, int]:
    return {g.attrs["data-quarter"]: len(g.find_all("rect")) for g in doc.find_all("g", cls="bars")}


# ---- the page as a string --------------------------------------------------------------------
def test_page_is_one_offline_document(page):
    assert page.startswith("<!DOCTYPE html>\n")
    assert page.rstrip().endswith("</html>")
    assert page.count("<html") == page.count("</html>") == page.count("<body") == 1
    for network in ("http://", "https://", "src=", "url(", "@import", "<script", "<link", "<img", "<iframe"):
        assert network not in page, network
    doc = parse(page)
    csp = doc.one("meta", **{"http-equiv": "Content-Security-Policy"})
    assert "default-src 'none'" in csp.attrs["content"]
    ids = {n.attrs["id"] for n in doc.iter() if "id" in n.attrs}
    links = [a.attrs["href"] for a in doc.find_all("a")]
    assert links and all(h.startswith("#") and h[1:] in ids for h in links), links


def test_chart_has_one_bar_group_per_quarter(page, review_json):
    doc = parse(page)
    svg = doc.one("svg", role="img")
    assert svg.attrs["aria-label"].startswith("Bar chart of items per tier and quarter.")
    expected = {q["quarter"]: q["tiers"] for q in review_json["quarters"]}
    assert list(expected) == QUARTERS
    assert _rects_per_quarter(svg) == {q: len(tiers) for q, tiers in expected.items()}
    for group in svg.find_all("g", cls="bars"):
        quarter = group.attrs["data-quarter"]
        tips = [r.one("title").text() for r in group.find_all("rect")]
        assert tips == [f"{quarter}: {n} item{'s' * (n != 1)} {t} {LABELS[t]}" for t, n in expected[quarter].items()]
    legend = svg.one("g", cls="legend")
    assert [t.text() for t in legend.find_all("text")] == [f"{t} {label}" for t, label in LABELS.items()]


def test_every_item_appears_in_table_and_section(page, review_json):
    doc = parse(page)
    rows = doc.one("section", id="tiers").find_all("tr")[1:]
    items = review_json["items"]
    assert [r.find_all("td")[0].text().rstrip(" !") for r in rows] == [i["decision"]["item"] for i in items]
    for item in items:
        d = item["decision"]
        section = doc.one("section", id=f"item-{d['item']}")
        assert section.one("span", cls="title").text() == d["title"]
        assert section.one("span", cls="key").text() == d["item"]
        assert f"{d['tier']} {d['label']}" in section.one("p", cls="facts").text()
        boxes = section.find_all("input", type="checkbox")
        assert len(boxes) == len(d["artifacts"])
    disputed = doc.one("section", id="disputed")
    assert disputed.one("h2").text() == "Disputed items (5)"
    assert [r.find_all("td")[0].text() for r in disputed.find_all("tr")[1:]] == \
        [i["decision"]["item"] for i in items if i["close"]]


def test_quarters_show_capacity_and_workload(page, review_json):
    doc = parse(page)
    for q in review_json["quarters"]:
        card = doc.one("article", id=f"quarter-{q['quarter']}")
        assert [c.text() for c in card.find_all("p", cls="capacity-note")] == [f"Capacity: {c}" for c in q["capacity"]]
        rows = [[td.text() for td in tr.find_all("td")] for tr in card.one("table", cls="workload").find_all("tr")[1:]]
        assert rows == [[w["owner"], str(w["artifacts"]), f"{w['days']:g}"] for w in q["workload"]]
        rows = [[td.text() for td in tr.find_all("td")] for tr in card.one("table", cls="people").find_all("tr")[1:]]
        assert rows == [[p["name"], p["role"], str(p["items"]), str(p["artifacts"]), f"{p['days']:g}"] for p in q["people"]]
        assert q["people"]
    assert CAPACITY_NOTE in doc.one("section", id="item-PAY-31").one("p", cls="capacity-note").text()


def test_item_text_is_escaped(runner, roadmap, tmp_path):
    result = runner("review", roadmap, write_evil_items(tmp_path, EVIL_TITLE), "--format", "html")
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    assert "&quot;quotes&quot; &amp; ampersands" in page
    assert "<script" not in page.lower() and "<img" not in page and "<b>" not in page and "<i>" not in page
    doc = parse(page)
    assert not doc.find_all("script") and not doc.find_all("img") and not doc.find_all("b") and not doc.find_all("i")
    section = doc.one("section", id=f"item-{EVIL_KEY}")
    assert section.one("span", cls="title").text() == EVIL_TITLE
    assert section.one("span", cls="key").text() == EVIL_KEY
    assert f"PM {EVIL_PM}" in section.one("p", cls="facts").text()
    assert f"PMM {EVIL_PMM}" in section.one("p", cls="facts").text()
    links = doc.find_all("a", href=f"#item-{EVIL_KEY}")  # in the disputed and the tier table
    assert len(links) == 2 and all(a.text() == EVIL_KEY for a in links)


def test_rulebook_text_is_escaped(runner, roadmap, tmp_path):
    """Tier labels, artifact names and categories come from the rulebook: escaped too, in SVG as well."""
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    for old, new in [("label: Marketing launch", "label: Marketing <em>launch</em>"),
                     ("name: Launch plan,", "name: Launch <u>plan</u> & more,"),
                     ("category: Programs / Launch,", 'category: "Programs <b>/</b> Launch",')]:
        assert old in text
        text = text.replace(old, new)
    rules = tmp_path / "rules.yaml"
    rules.write_text(text, encoding="utf-8")
    result = runner("review", roadmap, "--rules", rules, "--format", "html")
    assert result.exit_code == 0, result.output
    doc = parse(result.stdout)
    assert not doc.find_all("em") and not doc.find_all("u") and not doc.find_all("b")
    assert doc.one("g", cls="legend").find_all("text")[0].text() == "tier-1 Marketing <em>launch</em>"
    section = doc.one("section", id="item-PAY-38")
    assert section.find_all("span", cls="tier")[0].text() == "tier-1 Marketing <em>launch</em>"
    assert "Launch <u>plan</u> & more (Programs <b>/</b> Launch)" in section.one("div", cls="owners").text()


# ---- in a real browser -----------------------------------------------------------------------
def find_browser() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless browser installed (apt-get install chromium)")
    return browser


def run_browser(browser: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def dump_dom(browser: str, tmp_path: Path, page: Path) -> Node:
    return parse(run_browser(browser, tmp_path, "--dump-dom", page.as_uri()).stdout)


@pytest.fixture
def browser() -> str:
    return find_browser()


def write_report(runner, tmp_path: Path, *files: Path) -> Path:
    path = tmp_path / "review.html"
    result = runner("review", *files, "--report", path)
    assert result.exit_code == 0, result.output
    assert "wrote html report of" in result.stderr
    return path


def test_skips_when_no_browser_is_installed(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match=r"no headless browser installed \(apt-get install chromium\)"):
        find_browser()


@pytest.mark.slow  # a headless browser
def test_browser_shows_the_review(browser, runner, roadmap, review_json, tmp_path):
    doc = dump_dom(browser, tmp_path, write_report(runner, tmp_path, roadmap))
    assert doc.one("head").one("title").text() == "Roadmap review"
    assert doc.one("h1").text() == "Roadmap review"
    disputed = doc.one("section", id="disputed")
    assert disputed.one("h2").text() == "Disputed items (5)"
    assert CAPACITY_NOTE in disputed.text()
    for item in review_json["items"]:
        d = item["decision"]
        section = doc.one("section", id=f"item-{d['item']}")
        assert section.one("span", cls="title").text() == d["title"]
    assert CAPACITY_NOTE in doc.one("section", id="item-PAY-31").one("p", cls="capacity-note").text()
    assert "tier-1: 2 candidates for 1 place; moved down: PAY-31" in doc.one("article", id="quarter-2027-Q2").text()
    svg = doc.one("svg", role="img")
    assert _rects_per_quarter(svg) == {q["quarter"]: len(q["tiers"]) for q in review_json["quarters"]}
    assert _rects_per_quarter(svg) == {"2027-Q1": 4, "2027-Q2": 4, "unscheduled": 2}


@pytest.mark.slow  # a headless browser
def test_browser_runs_inline_scripts_in_a_page_without_policy(browser, tmp_path):
    """The control for the next test: this browser does run an inline script under --dump-dom, so a
    title that stayed 'Roadmap review' means the script never ran, not that scripts are off."""
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><title>before</title><script>document.title='pwned'</script>", encoding="utf-8")
    assert dump_dom(browser, tmp_path, control).one("title").text() == "pwned"


@pytest.mark.slow  # a headless browser per case
@pytest.mark.parametrize("keep_policy", [True, False], ids=["as-written", "without-csp"])
def test_browser_shows_script_title_as_text(browser, runner, roadmap, tmp_path, keep_policy):
    """Escaping, not only the Content-Security-Policy, keeps the title text: the page stays safe without it."""
    path = write_report(runner, tmp_path, roadmap, write_evil_items(tmp_path, SCRIPT_TITLE))
    if not keep_policy:
        text = path.read_text(encoding="utf-8")
        doc = parse(text)
        policy = doc.one("meta", **{"http-equiv": "Content-Security-Policy"}).attrs["content"]
        stripped = text.replace(f'<meta http-equiv="Content-Security-Policy" content="{policy}">', "")
        assert stripped != text
        path.write_text(stripped, encoding="utf-8")
    dumped = run_browser(browser, tmp_path, "--dump-dom", path.as_uri()).stdout
    doc = parse(dumped)
    assert doc.one("head").one("title").text() == "Roadmap review"  # not 'pwned'
    assert not doc.find_all("script") and not doc.find_all("img") and not doc.find_all("b")
    section = doc.one("section", id=f"item-{EVIL_KEY}")
    assert section.one("span", cls="title").text() == SCRIPT_TITLE
    assert '<span class="title">&lt;script&gt;document.title=\'pwned\'&lt;/script&gt;' in dumped
    assert f"PMM {EVIL_PMM}" in section.one("p", cls="facts").text()


@pytest.mark.slow  # a headless browser
def test_browser_screenshot(browser, runner, roadmap, tmp_path):
    shot = tmp_path / "review.png"
    path = write_report(runner, tmp_path, roadmap)
    run_browser(browser, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", path.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1280 and int.from_bytes(data[20:24], "big") == 2000
    assert len(data) > 10_000

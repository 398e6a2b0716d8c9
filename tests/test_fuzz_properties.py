"""Property tests of the loaders on mutated input: whatever the mutation, an item file or a
rulebook is either accepted or refused with the engine's own InputError, never anything else.

Mutations of valid items and rulebooks: fields deleted, renamed (near misses, reserved names,
non-text keys), retyped (None, bools, huge and non-finite numbers, code-like text, lists,
mappings), values swapped for others of the same file; then the mutated data serialised as YAML,
JSON or CSV, or the serialised text mutated, or the bytes of the valid files flipped. An
accepted rulebook is also classified with durable-rules, in a child process with a time limit
(a crash there is a segmentation fault or a hang, not an exception), and checked against the
reference evaluator.

tests/test_corpus.py holds the inputs these found, as files; fuzz/fuzz_loaders.py runs the same
property coverage-guided.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from launchtier.engine import Classifier, InputError, ItemReader, load_rulebook, rulebook_from_data
from launchtier.engine.rulebook.model import default_rulebook_path

# Hypothesis imports its patch writer (libcst, which warns on import) only once a test has
# failed; import it now, quietly, so a failure is reported as a failure under filterwarnings=error.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import hypothesis.extra._patching  # noqa: F401
    except ImportError:  # pragma: no cover
        pass

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
BOOK = load_rulebook()
READER = ItemReader(BOOK)
DEFAULT_DATA = yaml.safe_load(default_rulebook_path().read_text(encoding="utf-8"))
ROADMAP = yaml.safe_load((ROOT / "examples" / "roadmap.yaml").read_text(encoding="utf-8"))["items"]
SMALL = {
    "rulebook": "small",
    "version": "1",
    "signals": {
        "reach": {"type": "int", "min": 0, "max": 100, "question": "Reach?"},
        "motion": {"type": "enum", "values": ["none", "expansion", "new_logo"], "question": "Motion?"},
        "flag": {"type": "bool", "default": False, "question": "Flag?"},
    },
    "dimensions": {"impact": {"label": "Impact", "min": 0, "max": 3}, "leads": {"label": "Leads", "min": -2, "max": 3}},
    "totals": {"launch": {"impact": 1, "leads": 2}},
    "rules": [
        {"id": "wide", "because": "Wide.", "when": {"reach": {"gte": 50}}, "score": {"impact": 2}},
        {"id": "logo", "because": "New logos.", "when": {"any": [{"motion": "new_logo"}, {"not": {"flag": False}}]}, "score": {"leads": 3}},
        {"id": "quiet", "because": "Quiet.", "when": {"motion": {"in": ["none"]}, "reach": {"lt": 10}}, "score": {"leads": -2}},
    ],
    "tiers": [
        {"id": "tier-1", "label": "Big", "kind": "launch", "when": {"launch": {"gte": 5}}},
        {"id": "tier-2", "label": "Launch", "kind": "launch", "when": {"any": [{"impact": {"gte": 2}}, {"motion": "expansion"}]}},
        {"id": "tier-3", "label": "Release", "kind": "release"},
    ],
    "artifacts": [{"id": "notes", "name": "Notes", "owner": "PM", "category": "Docs", "tiers": ["tier-3"], "when": {"reach": {"gte": 1}}}],
    "capacity": {"tier-1": {"max": 1}},
    "overrides": {"tier-1": {"approvals": 1}},
}

# ---- mutations of JSON-like data -----------------------------------------------------------

CODE = ["__import__('os').system('touch pwned')", "${jndi:ldap://x}", "'; DROP TABLE entries; --", "{{7*7}}", "$where"]
# names the engine gives a meaning to, and names that look like pydantic's type labels
RESERVED_KEYS = ["id", "sid", "_item", "all", "any", "not", "key", "title", "$gt", "m", "items",
                 "int", "str", "list", "dict", "list[str]", "tags[]", "function-after[x]"]
texts = st.one_of(st.text(max_size=12), st.sampled_from(CODE), st.sampled_from(RESERVED_KEYS))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**53, 2**53 + 1, -(2**53) - 1, 10**30, -(10**300), 0, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)), max_leaves=6)


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in the tree: a mapping key or a list index, with the path leading to it."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            found.extend(paths(v, prefix + (k,)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found.extend(paths(v, prefix + (i,)))
    return found


def strings_of(data: Any) -> list:
    """The file's own vocabulary: swapping one value for another of these makes near-valid files."""
    out: list = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append(k)
            out.extend(strings_of(v))
    elif isinstance(data, list):
        for v in data:
            out.extend(strings_of(v))
    elif isinstance(data, (str, int)) and not isinstance(data, bool):
        out.append(data)
    return out


def near_miss(draw, word: Any) -> Any:
    if not isinstance(word, str) or not word:
        return draw(texts)
    i = draw(st.integers(0, len(word) - 1))
    how = draw(st.sampled_from(["drop", "double", "swap", "case", "space"]))
    if how == "drop":
        return word[:i] + word[i + 1 :]
    if how == "double":
        return word[:i] + word[i] + word[i:]
    if how == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if how == "case":
        return word.upper()
    return word + " "


OPS = ["delete", "rename", "retype", "swap", "nudge", "duplicate", "insert"]


def mutate(draw, data: Any, count: int) -> Any:
    """``count`` random mutations of a deep copy of ``data``."""
    data = copy.deepcopy(data)
    vocabulary = strings_of(data)
    for _ in range(count):
        places = paths(data)
        if not places:
            return draw(values)
        path = draw(st.sampled_from(places))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        op = draw(st.sampled_from(OPS))
        if op == "delete":
            del parent[last]
        elif op == "rename" and isinstance(parent, dict):
            new = draw(st.one_of(st.just(near_miss(draw, last)), texts, st.integers(-3, 3), st.booleans(), st.none()))
            if new not in parent:
                parent[new] = parent.pop(last)
        elif op == "retype":
            parent[last] = draw(values)
        elif op == "swap" and vocabulary:
            parent[last] = draw(st.sampled_from(vocabulary))
        elif op == "nudge":
            old = parent[last]
            if isinstance(old, bool):
                parent[last] = not old
            elif isinstance(old, int):
                parent[last] = old + draw(st.sampled_from([-100, -2, -1, 1, 2, 100, 2**53]))
            elif isinstance(old, str):
                parent[last] = near_miss(draw, old)
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        elif op == "insert" and isinstance(parent[last], dict):
            parent[last][draw(texts)] = draw(values)
        elif op == "insert" and isinstance(parent[last], list):
            parent[last].append(draw(values))
    return data


@st.composite
def mutated(draw, base: Any, most: int = 3) -> Any:
    return mutate(draw, base, draw(st.integers(1, most)))


# ---- serialising (mutated data need not be representable: then it is not this test's input) --


def as_yaml(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8", "surrogatepass")


def as_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")


def as_csv(items: Any) -> bytes:
    """Items as CSV rows: signals flattened into columns; anything nested is written as its text."""
    rows = []
    for item in items if isinstance(items, list) else [items]:
        row: dict = {}
        if isinstance(item, dict):
            for k, v in item.items():
                if k == "signals" and isinstance(v, dict):
                    row.update({str(sk): sv for sk, sv in v.items()})
                else:
                    row[str(k)] = v
        rows.append(row)
    header = list(dict.fromkeys(k for row in rows for k in row)) or ["key"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(h) is None else row.get(h) for h in header])
    return out.getvalue().encode("utf-8", "surrogatepass")


def read_items(name: str, data: bytes) -> list | None:
    """The property for item files: items, or an InputError whose every problem names the file."""
    try:
        items = READER.read(name, data=data)
    except InputError as e:
        assert e.problems and all(p.file == name for p in e.problems), e.problems
        assert all(str(p) for p in e.problems)
        return None
    assert items and all(item.key for item in items)
    return items


def read_rulebook_data(data: Any, name: str = "mutated.yaml"):
    try:
        book = rulebook_from_data(data, file=name)
    except InputError as e:
        assert e.problems and all(p.file == name for p in e.problems), e.problems
        assert str(e)
        return None
    # the ledger stores this form and reloads it to replay decisions: it must load to the same hash
    assert rulebook_from_data(book.model_dump(mode="json")).hash == book.hash
    return book


def load_rulebook_file(path: Path, data: bytes):
    path.write_bytes(data)
    try:
        return load_rulebook(path)
    except InputError as e:
        assert e.problems and all(p.file == str(path) for p in e.problems), e.problems
        return None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "rulebook.yaml"


# ---- items ---------------------------------------------------------------------------------

item_lists = st.lists(st.sampled_from(ROADMAP), min_size=1, max_size=3, unique_by=lambda i: i["key"])


@pytest.mark.slow  # many hypothesis examples
@FUZZ
@given(st.data())
def test_mutated_items_are_read_or_refused_with_an_input_error(data):
    items = data.draw(mutated(data.draw(item_lists)))
    shape = data.draw(st.sampled_from(["list", "items", "one"]))
    payload = items if shape == "list" else {"items": items} if shape == "items" else (items[0] if isinstance(items, list) and items else items)
    read = read_items("mutated.yaml", as_yaml(payload))
    read_items("mutated.json", as_json(payload))
    read_items("mutated.csv", as_csv(items))
    if read:  # what is read classifies (the reference evaluator: pure Python, in process)
        classifier = Classifier(BOOK, "reference")
        assert all(classifier.decide(i).tier in BOOK.tier_by_id for i in read)


TOKENS = ["[", "]", "{", "}", ": ", "- ", "\n", "  ", ",", '"', "'", "&a ", "*a", "!!", "!!python/object:os.system ",
          "0x_", "1:2:3", "2027-13-45", ".nan", "~", "\t", "\x07", "\\ud800", "9" * 4400, "<<: ", "---\n", "? ", "|\n", "#"]


@st.composite
def text_mutations(draw, text: str) -> str:
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["insert", "delete", "cut", "text"]))
        if how == "insert":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
        elif how == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 20)) :]
        elif how == "cut":
            text = text[:i]
        else:
            text = text[:i] + draw(st.text(max_size=5)) + text[i:]
    return text


@pytest.mark.slow  # many hypothesis examples
@FUZZ
@given(st.data())
def test_mutated_item_text_is_read_or_refused_with_an_input_error(data):
    items = data.draw(item_lists)
    fmt = data.draw(st.sampled_from(["yaml", "json", "csv"]))
    text = {"yaml": as_yaml, "json": as_json, "csv": as_csv}[fmt]({"items": items} if fmt != "csv" else items).decode()
    mutated_text = data.draw(text_mutations(text))
    raw = mutated_text.encode("utf-8", "surrogatepass")
    read_items(f"mutated.{fmt}", raw)
    read_items("mutated", raw)  # the format sniffed from the content


SAMPLE_FILES = {
    "roadmap.yaml": (ROOT / "examples" / "roadmap.yaml").read_bytes(),
    "roadmap.csv": (ROOT / "examples" / "roadmap.csv").read_bytes(),
    "roadmap.json": json.dumps({"items": ROADMAP}, indent=1).encode(),
}


@st.composite
def byte_flips(draw, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(buf) - 1))
        buf[i] = draw(st.sampled_from([buf[i] ^ (1 << draw(st.integers(0, 7))), draw(st.integers(0, 255))]))
    if draw(st.booleans()):
        buf = buf[: draw(st.integers(0, len(buf)))]
    return bytes(buf)


@pytest.mark.slow  # many hypothesis examples
@FUZZ
@given(st.sampled_from(sorted(SAMPLE_FILES)), st.data())
def test_byte_flips_of_valid_item_files_are_read_or_refused(name, data):
    read_items(name, data.draw(byte_flips(SAMPLE_FILES[name])))


# ---- rulebooks -----------------------------------------------------------------------------

bases = st.sampled_from([DEFAULT_DATA, SMALL])


@pytest.mark.slow  # many hypothesis examples
@FUZZ
@given(st.data())
def test_mutated_rulebooks_load_or_are_refused_with_an_input_error(data):
    book_data = data.draw(mutated(data.draw(bases), most=4))
    if not isinstance(book_data, dict):
        return  # a mutation replaced the whole rulebook: rulebook_from_data takes a mapping
    book = read_rulebook_data(book_data)
    if book is not None:
        signals = {n: (s.values[0] if s.type == "enum" else (s.min if s.type == "int" and s.min is not None else 0) if s.type == "int" else False)
                   for n, s in book.signals.items()}
        item = ItemReader(book).validate({"key": "K-1", "title": "T", "signals": signals})
        assert Classifier(book, "reference").decide(item).tier in book.tier_by_id


@pytest.mark.slow  # many hypothesis examples
@FUZZ
@given(st.data())
def test_mutated_rulebook_files_load_or_are_refused(scratch, data):
    base = data.draw(bases)
    if data.draw(st.booleans()):
        raw = as_yaml(data.draw(mutated(base, most=4)))
    else:
        raw = data.draw(text_mutations(as_yaml(base).decode())).encode("utf-8", "surrogatepass")
    load_rulebook_file(scratch, raw)


@pytest.mark.slow  # many hypothesis examples
@FUZZ
@given(st.data())
def test_byte_flips_of_the_default_rulebook_load_or_are_refused(scratch, data):
    load_rulebook_file(scratch, data.draw(byte_flips(default_rulebook_path().read_bytes())))


# ---- accepted mutated rulebooks through durable-rules, in a child process ------------------

# In the child: each rulebook classifies a few random items with durable-rules and with the
# reference evaluator. A rulebook durable-rules cannot take (too deeply nested) is an
# EngineUnavailable with a message, which is fine; a different decision, an exception, a crash
# or a hang is not.
CHILD = textwrap.dedent(
    """
    import json, random, sys
    from launchtier.engine import Classifier, EngineUnavailable, ItemReader, rulebook_from_data

    rng = random.Random(7)
    report = {"classified": 0, "unavailable": [], "mismatches": []}
    for data in json.load(open(sys.argv[1])):
        book = rulebook_from_data(data)
        try:
            durable = Classifier(book, "durable")
        except EngineUnavailable as e:
            report["unavailable"].append(str(e))
            continue
        reference = Classifier(book, "reference")
        reader = ItemReader(book)
        for i in range(3):
            signals = {}
            for name, s in book.signals.items():
                if s.type == "enum":
                    signals[name] = rng.choice(s.values)
                elif s.type == "int":
                    lo = s.min if s.min is not None else (s.max - 20 if s.max is not None else -20)
                    hi = s.max if s.max is not None else lo + 40
                    signals[name] = rng.choice([lo, hi, rng.randint(lo, hi)])
                else:
                    signals[name] = rng.random() < 0.5
            item = reader.validate({"key": f"K-{i}", "title": "T", "signals": signals})
            a, b = durable.decide(item), reference.decide(item)
            report["classified"] += 1
            if (a.tier, a.scores, [f.rule for f in a.fired]) != (b.tier, b.scores, [f.rule for f in b.fired]):
                report["mismatches"].append([book.name, signals, a.tier, b.tier])
    print(json.dumps(report))
    """
)
CHILD_TIMEOUT = 60
BATCH = 40  # distinct rulebooks per child: durable-rules leaks about 0.6 MB for each


@pytest.mark.slow  # a hypothesis search of up to 500 examples: from a tenth of a second to seconds
def test_the_mutations_reach_rulebooks_that_load_and_differ_from_their_base():
    # the test below is only as good as the accepted rulebooks it gets: some must load
    base_hash = rulebook_from_data(copy.deepcopy(SMALL)).hash
    found = find(mutated(SMALL, most=2), lambda d: isinstance(d, dict) and _loads_as_other_than(d, base_hash),
                 settings=settings(max_examples=500, database=None))
    assert rulebook_from_data(found).hash != base_hash


def _loads_as_other_than(data: dict, base_hash: str) -> bool:
    try:
        return rulebook_from_data(copy.deepcopy(data)).hash != base_hash
    except InputError:
        return False


# No shrinking: each attempt would start a child process, and the batch file names the input.
@pytest.mark.slow  # many hypothesis examples, each a durable ruleset
@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_accepted_mutated_rulebooks_classify_with_durable_without_crash_or_hang(tmp_path_factory, data):
    accepted: dict[str, dict] = {}
    for _ in range(BATCH * 3):
        book_data = data.draw(mutated(data.draw(bases), most=2))
        book = read_rulebook_data(book_data) if isinstance(book_data, dict) else None
        if book is not None and not any(math.isnan(v) for v in _floats(book.model_dump(mode="json"))):
            accepted.setdefault(book.hash, book.model_dump(mode="json"))
        if len(accepted) >= BATCH:
            break
    if not accepted:
        return
    batch = tmp_path_factory.mktemp("durable") / "rulebooks.json"
    batch.write_text(json.dumps(list(accepted.values())), encoding="utf-8")
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, str(batch)], capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"classifying {len(accepted)} accepted rulebooks with durable-rules hung for {CHILD_TIMEOUT} s ({batch})")
    killed = f" (killed by signal {-proc.returncode})" if proc.returncode < 0 else ""
    assert proc.returncode == 0, f"the child exited with {proc.returncode}{killed}: {proc.stderr[-3000:]}"
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["mismatches"] == []
    assert report["classified"] + 3 * len(report["unavailable"]) == 3 * len(accepted)
    assert all("use --engine reference" in message for message in report["unavailable"])


def _floats(data: Any):
    if isinstance(data, float):
        yield data
    elif isinstance(data, dict):
        for v in data.values():
            yield from _floats(v)
    elif isinstance(data, list):
        for v in data:
            yield from _floats(v)

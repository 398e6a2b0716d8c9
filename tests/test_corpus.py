"""The corpus of broken inputs (tests/corpus/, described in its README): every file is refused
with exit code 2 and one clear message naming it, never a traceback, never a hang.

Each file runs through the real command in its own process with a time limit, because the
failures this guards against are not all exceptions: a deeply nested YAML file used to kill the
process with a segmentation fault, and a long base-60 number used to take minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from launchtier.engine import ItemReader, load_rulebook
from launchtier.engine.files.validation import EXPECTED, OWN_WORDS
from launchtier.engine.files.yamlio import MAX_BYTES, MAX_YAML_BYTES

pytestmark = pytest.mark.slow  # every test here runs child processes or writes large files

CORPUS = Path(__file__).resolve().parent / "corpus"
TIMEOUT = 20  # seconds per file; a good run takes well under one
CLI = [sys.executable, "-c", "from launchtier.cli.main import main; main()"]
MARKER = "launchtier-corpus-pwned"  # what the files with code in them would create if it ran

# What each file's first message says (a fragment), so that a file refused for the wrong reason
# fails too. Every corpus file has an entry, and the README describes every file.
ITEMS = {
    "alias-bomb.yaml": "expands to more than 2,000,000 values (an alias bomb?)",
    "alias-loop.yaml": "nested deeper than 200 levels",
    "bad-date.yaml": "'2027-13-45' is not a valid date or time",
    "bad-hex-number.yaml": "'0x_' is not a valid whole number",
    "bad-timezone.yaml": "is not a valid date or time",
    "bad-values.csv": "signals.pricing_change: 'perhaps' is not allowed; expected true/false or yes/no",
    "base60-number.yaml": "a number with more than 4,300 digits is too large",
    "binary.csv": "is a binary file, expected UTF-8 text",
    "binary.json": "is a binary file, expected UTF-8 text",
    "binary.yaml": "is a binary file, expected UTF-8 text",
    "bool-tag.yaml": "'maybe' is not a valid true/false value",
    "comments-only.yaml": "is empty",
    "control-character.yaml": "character #x0007 is not allowed",
    "deep-block.yaml": "nested deeper than 200 levels",
    "deep-dash.yaml": "nested deeper than 200 levels",
    "deep-flow-closed.yaml": "nested deeper than 200 levels",
    "deep-flow.yaml": "nested deeper than 200 levels",
    "deep.json": "invalid JSON: nested too deeply",
    "document-marker-only.yaml": "is empty",
    "duplicate-column.csv": "audience: column appears twice in the header",
    "duplicate-item-keys.yaml": "duplicate key (also item #1 of this file)",
    "duplicate-keys.json": "invalid JSON: duplicate key 'key'",
    "duplicate-keys.yaml": "duplicate key 'title' (first on line 3)",
    "empty.csv": "is empty",
    "empty.json": "is empty",
    "empty.yaml": "is empty",
    "empty-int-tag.yaml": "'' is not a valid whole number",
    "extra-cells.csv": "row has 8 cells but the header has 6 columns",
    "field-named-like-a-type.yaml": "int: unknown field 'int'",
    "header-only.csv": "holds no items (a header but no rows)",
    "huge-cell.csv": "invalid CSV: field larger than field limit",
    "huge-float.yaml": "'1e999' is not allowed; expected a whole number from 0 to 100",
    "huge-hex-number.yaml": "a number with more than 4,300 digits is too large",
    "huge-key-number.yaml": "a number with more than 4,300 digits is too large",
    "huge-number.json": "invalid JSON: a number with more than 4,300 digits is too large",
    "huge-number.yaml": "a number with more than 4,300 digits is too large",
    "latin1.yaml": "is not UTF-8 text (byte 0xe0",
    "lone-surrogate.json": "invalid JSON: a \\u escape that is half of a UTF-16 pair, not a character",
    "missing-cells.csv": "row has 4 cells but the header has 6 columns",
    "misspelt-column.csv": "unknown column 'custmer_reach'; did you mean 'customer_reach'?",
    "misspelt-fields.yaml": "title: missing; this field is required",
    "misspelt-items.yaml": "key: missing; this field is required",
    "nan.json": "nan is not allowed; expected a whole number from 0 to 100",
    "no-key-column.csv": "missing column 'key'",
    "python-name-tag.yaml": "unsupported YAML tag 'tag:yaml.org,2002:python/name:builtins.exit'",
    "python-tag.yaml": "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'",
    "signals-not-a-mapping.yaml": "signals: a list is not allowed; expected a mapping",
    "tab-indent.yaml": "found a tab character that violates indentation",
    "top-level-scalar.yaml": "an item file is one item (a mapping with key, title and signals)",
    "truncated-utf8.yaml": "ends in the middle of a UTF-8 character: was the file cut off?",
    "truncated.csv": "item PAY-13: row has 2 cells but the header has 6 columns",
    "truncated.json": "invalid JSON: the text ends inside a string",
    "truncated.yaml": "invalid YAML:",
    "two-documents.yaml": "but found another document",
    "undefined-alias.yaml": "found undefined alias",
    "unknown-field.yaml": "owner: unknown field 'owner'",
    "unknown-tag.yaml": "unsupported YAML tag '!roadmap-item'",
    "utf16-bom.yaml": "is UTF-16 text, expected UTF-8",
    "utf16le-no-bom.csv": "is UTF-16 text, expected UTF-8",
    "utf32.json": "is UTF-32 text, expected UTF-8",
    "windows-1252.csv": "is not UTF-8 text (byte 0x93",
    "wrong-types.json": "key: nothing is not allowed; expected text",
    "wrong-types.yaml": "key: a mapping is not allowed; expected text",
}
RULEBOOKS = {
    "alias-bomb.yaml": "expands to more than 2,000,000 values (an alias bomb?)",
    "alias-loop.yaml": "nested deeper than 200 levels",
    "bad-date.yaml": "'2026-02-30' is not a valid date or time",
    "base60-number.yaml": "a number with more than 4,300 digits is too large",
    "binary.yaml": "is a binary file",
    "code-in-conditions.yaml": "unknown name '__import__('os').system('touch launchtier-corpus-pwned')'",
    "comments-only.yaml": "is empty",
    "control-character.yaml": "character #x001b is not allowed",
    "deep-condition.yaml": "nested deeper than 200 levels",
    "deep-flow.yaml": "nested deeper than 200 levels",
    "duplicate-ids.yaml": "duplicate rule id 'wide-reach' (also rules[0])",
    "duplicate-keys.yaml": "duplicate key 'rules' (first on line 9)",
    "empty.yaml": "is empty",
    "huge-bound.yaml": "signals.reach.max: 100000000000000000000000 is not allowed; expected at most 9007199254740992",
    "huge-hex-number.yaml": "a number with more than 4,300 digits is too large",
    "huge-number.yaml": "a number with more than 4,300 digits is too large",
    "latin1.yaml": "is not UTF-8 text (byte 0xe9",
    "list-at-top.yaml": "a rulebook file is a mapping with rulebook, signals, dimensions, rules, tiers",
    "misspelt-fields.yaml": "signals.motion.question: missing",
    "no-default-tier.yaml": "the last tier is the default and has no 'when'",
    "python-tag.yaml": "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'",
    "rule-reads-id.yaml": "unknown name 'id'",
    "scalar-at-top.yaml": "a rulebook file is a mapping",
    "signal-named-id.yaml": "'id' is a reserved name (durable-rules hangs",
    "tab-indent.yaml": "found a tab character that violates indentation",
    "truncated.yaml": "invalid YAML: did not find expected ',' or '}'",
    "unknown-names.yaml": "unknown name 'reech'; did you mean 'reach'?",
    "unknown-operator.yaml": "unknown operator 'at_least'",
    "unknown-section.yaml": "unknown section 'tier'; did you mean 'tiers'?",
    "unknown-tag.yaml": "unsupported YAML tag '!points'",
    "utf16-bom.yaml": "is UTF-16 text, expected UTF-8",
    "wrong-section-types.yaml": "signals: 'signals' is a mapping",
    "wrong-types.yaml": "signals.reach.min: 'zero' is not allowed; expected a whole number",
}


def command_for(kind: str, path: Path) -> list[str]:
    if kind == "items":
        return ["classify", str(path)]
    return ["rules", "show", "--rules", str(path)]


def env_for(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHTIER_")}
    env["LAUNCHTIER_DB"] = str(tmp / "launchtier.db")
    return env


class Run:
    """One command in its own process: exit code (None if it hung), output, duration, and the
    pydantic error types launchtier worded (forked runs only)."""

    def __init__(self, code: int | None, stdout: str, stderr: str, seconds: float, types: frozenset[str] = frozenset()):
        self.hung = code is None
        self.code, self.stdout, self.stderr, self.seconds, self.types = code, stdout, stderr, seconds, types

    @classmethod
    def process(cls, args: list[str], cwd: Path, input: bytes | None = None) -> "Run":
        start = time.monotonic()
        try:
            proc = subprocess.run([*CLI, *args], cwd=cwd, env=env_for(cwd), input=input, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return cls(None, "", "", time.monotonic() - start)
        return cls(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"),
                   time.monotonic() - start)


# Starting Python and importing launchtier costs about half a second a process; forking one that
# has already imported it costs milliseconds. Each file still gets a process of its own (a crash
# or a hang ends only that one), running the same entry point as the `launchtier` command.
FORKING_RUNNER = r"""
import json, os, signal, sys, time, traceback
from launchtier.cli.main import main
from launchtier.engine import ItemReader, load_rulebook
from launchtier.engine.decide import classify  # noqa: F401 - what the commands import lazily, imported once
from launchtier.engine.files import validation

ItemReader(load_rulebook())  # the default rulebook's item model, built once

met = []  # the pydantic error types launchtier words in this process
wording = validation.message_for
def message_for(error, *args, **kwargs):
    met.append(error["type"])
    return wording(error, *args, **kwargs)
validation.message_for = message_for

jobs = json.load(open(sys.argv[1]))
results = []
for job in jobs:
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(os.open(job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
            os.dup2(os.open(job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
            sys.argv = ["launchtier", *job["args"]]
            try:
                main()
                code = 0
            except SystemExit as e:
                if isinstance(e.code, str):
                    print(e.code, file=sys.stderr)
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except BaseException:
                traceback.print_exc()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            with open(job["types"], "w") as f:
                f.write("\n".join(met))
            os._exit(code)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() - start > job["timeout"]:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            code = None
            break
        time.sleep(0.002)
    results.append({"code": code, "seconds": time.monotonic() - start})
print(json.dumps(results))
"""


def run_forked(jobs: list[list[str]], cwd: Path) -> list[Run]:
    specs = [
        {"args": args, "stdout": str(cwd / f"{i}.out"), "stderr": str(cwd / f"{i}.err"), "types": str(cwd / f"{i}.types"),
         "timeout": TIMEOUT}
        for i, args in enumerate(jobs)
    ]
    (cwd / "jobs.json").write_text(json.dumps(specs), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", FORKING_RUNNER, str(cwd / "jobs.json")], cwd=cwd, env=env_for(cwd),
                          capture_output=True, text=True, timeout=TIMEOUT * len(jobs) + 60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcome = json.loads(proc.stdout.splitlines()[-1])
    return [
        Run(r["code"], Path(spec["stdout"]).read_text("utf-8", "replace"), Path(spec["stderr"]).read_text("utf-8", "replace"), r["seconds"],
            frozenset(_lines(Path(spec["types"]))))
        for r, spec in zip(outcome, specs)
    ]


def _lines(path: Path) -> list[str]:
    return path.read_text("utf-8").split() if path.exists() else []  # none if the process was killed


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("corpus-run")


@pytest.fixture(scope="module")
def runs(workdir) -> dict[tuple[str, str], Run]:
    """Every corpus file through its command, each in a process of its own with a time limit."""
    jobs = [(kind, name) for kind, names in (("items", ITEMS), ("rulebooks", RULEBOOKS)) for name in names]
    done = run_forked([command_for(kind, CORPUS / kind / name) for kind, name in jobs], workdir)
    return dict(zip(jobs, done))


def assert_refused(run: Run, shown_name: str, expected: str) -> None:
    assert not run.hung, f"did not finish within {TIMEOUT} s"
    output = run.stdout + run.stderr
    assert "Traceback" not in output, output[-3000:]
    assert run.code == 2, f"exit code {run.code} (a negative code is a signal: -11 a segmentation fault)\n{output[-3000:]}"
    assert run.stdout == "", "nothing goes to standard output when the input is refused"
    lines = run.stderr.splitlines()
    assert lines and lines[0].startswith(f"error: {shown_name}"), run.stderr
    assert expected in lines[0], f"expected {expected!r} in the first message:\n{run.stderr}"
    for line in lines[1:]:
        assert line.startswith(f"error: {shown_name}") or line.endswith("problems; nothing was done."), line


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_a_broken_item_file_is_refused_with_one_clear_message(runs, name):
    assert_refused(runs[("items", name)], str(CORPUS / "items" / name), ITEMS[name])


@pytest.mark.parametrize("name", sorted(RULEBOOKS))
def test_a_broken_rulebook_is_refused_with_one_clear_message(runs, name):
    assert_refused(runs[("rulebooks", name)], str(CORPUS / "rulebooks" / name), RULEBOOKS[name])


def test_every_pydantic_error_type_the_corpus_meets_has_launchtiers_words(runs):
    met = frozenset().union(*(run.types for run in runs.values()))
    assert met, "the corpus reaches pydantic's validation"
    unknown = sorted(met - set(EXPECTED) - OWN_WORDS)
    assert not unknown, (f"pydantic reports error types launchtier has no words for: {unknown}; "
                         "add them to EXPECTED in engine/files/validation.py")


def test_no_code_from_the_corpus_ran(runs, workdir):
    assert len(runs) == len(ITEMS) + len(RULEBOOKS)
    assert not (workdir / MARKER).exists()


def test_every_corpus_file_has_an_expectation_and_a_description():
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for kind, expected in (("items", ITEMS), ("rulebooks", RULEBOOKS)):
        on_disk = {p.name for p in (CORPUS / kind).iterdir()}
        assert on_disk == set(expected), f"tests/corpus/{kind}: files without an expectation or missing"
        for name in on_disk:
            assert f"`{kind}/{name}`" in readme, f"tests/corpus/README.md does not describe {kind}/{name}"


# ---- files too large to read: made at test time, never stored -------------------------------

ITEM_YAML = (
    "  - key: BIG-{i}\n    title: A generated item\n    signals: {{revenue_motion: none, differentiation: none,"
    " customer_reach: 5, audience: admin}}\n"
)


def write_large(path: Path, size: int, head: str, chunk: str) -> Path:
    """A file of ``size`` bytes: ``head``, then ``chunk`` repeated, cut to size."""
    block = (chunk * max(1, (1 << 20) // len(chunk))).encode("utf-8")
    with path.open("wb") as f:
        f.write(head.encode("utf-8"))
        written = len(head)
        while written < size:
            part = block[: size - written]
            f.write(part)
            written += len(part)
    return path


@pytest.fixture(scope="module")
def yaml_100mb(workdir) -> Path:
    """100 MB of YAML items: well formed, and far more than YAML should be parsed."""
    chunk = "".join(ITEM_YAML.format(i=i) for i in range(100))
    return write_large(workdir / "big.yaml", 100 * 2**20, "items:\n", chunk)


def test_a_100_mb_yaml_item_file_is_refused_at_once_by_its_size(yaml_100mb, workdir):
    run = Run.process(command_for("items", yaml_100mb), workdir)
    assert_refused(run, str(yaml_100mb), "is 100 MB, over the 10 MB limit for YAML files")
    assert "write a batch this large as JSON or CSV (read up to 256 MB)" in run.stderr
    assert run.seconds < 10, "refused from its size, before it is read"


def test_a_100_mb_rulebook_is_refused_at_once_by_its_size(yaml_100mb, workdir):
    run = Run.process(command_for("rulebooks", yaml_100mb), workdir)
    assert_refused(run, str(yaml_100mb), "is 100 MB, over the 10 MB limit for rulebook files")
    assert run.seconds < 10


def test_100_mb_of_yaml_on_standard_input_is_refused_by_its_size(yaml_100mb, workdir):
    run = Run.process(["classify", "-"], workdir, input=yaml_100mb.read_bytes())
    assert_refused(run, "<stdin>", "over the 10 MB limit for YAML files")


def test_a_100_mb_json_file_of_garbage_is_refused_quickly(workdir):
    garbage = write_large(workdir / "garbage.json", 100 * 2**20, '{"items": [', "not json at all; ")
    run = Run.process(command_for("items", garbage), workdir)
    assert_refused(run, str(garbage), "invalid JSON: not a JSON value (the only bare words are true, false and null)")


def test_a_json_item_file_over_256_mb_is_refused_before_it_is_read(workdir):
    sparse = workdir / "sparse.json"
    with sparse.open("wb") as f:
        f.truncate(300 * 2**20)  # a sparse file: the size is there, the bytes are never read
    run = Run.process(command_for("items", sparse), workdir)
    assert_refused(run, str(sparse), "is 300 MB, over the 256 MB limit for item files")


def test_100_mb_of_valid_json_is_within_the_limit_for_item_batches(workdir):
    # Where the line is drawn: YAML stops at 10 MB (PyYAML reads about 1 MB/s), while a JSON or
    # CSV batch of this size is a legitimate, if large, roadmap export and is read.
    assert MAX_YAML_BYTES == 10 * 2**20 and MAX_BYTES == 256 * 2**20
    item = '{"items": [{"key": "BIG-1", "title": "T", "signals": {"revenue_motion": "none", "differentiation": "none", "customer_reach": 5, "audience": "admin"}}'
    padded = write_large(workdir / "padded.json", 100 * 2**20, item, " " * 4096)
    with padded.open("ab") as f:
        f.write(b"]}")
    [read] = ItemReader(load_rulebook()).read(str(padded))
    assert read.key == "BIG-1"

"""Fuzz the item and rulebook loaders: any bytes are either accepted or refused with the engine's
own InputError; anything else (another exception, a crash, a hang) is a finding.

    pip install atheris          # coverage-guided (libFuzzer); without it, a plain random mutator
    python fuzz/fuzz_loaders.py -max_total_time=60 tests/corpus/items tests/corpus/rulebooks

Every input goes through ``ItemReader(default rulebook).read`` under a YAML, a JSON and a CSV
name and under a name without extension (the format sniffed from the content), and through
``load_rulebook`` as a rulebook file. A rulebook that loads is classified (reference engine: no
durable-rules, which leaks memory per distinct rulebook) on one item built from its signals.

The directories given are seeds only: they are copied into a scratch corpus (``fuzz/work/``), so
the committed corpus is never written to. Inputs that fail go to ``fuzz/findings/``; a finding
becomes a file of tests/corpus/ and a fix. Options understood by both modes: ``-max_total_time=S``,
``-runs=N``, ``-seed=N``; with atheris every other libFuzzer option works too (``-timeout=S``,
per input, is 10 by default here). ``--plain`` forces the plain mutator.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
FINDINGS = HERE / "findings"
PLAIN = "--plain" in sys.argv or os.environ.get("LAUNCHTIER_FUZZ_PLAIN") == "1"

try:
    if PLAIN:
        raise ImportError("--plain")
    import atheris
except ImportError:
    atheris = None

if atheris is not None:
    with atheris.instrument_imports(include=["launchtier", "yaml"]):
        from launchtier.engine import Classifier, InputError, ItemReader, load_rulebook
        from launchtier.engine.files.yamlio import parse_yaml  # noqa: F401 - instrumented with the rest
else:
    from launchtier.engine import Classifier, InputError, ItemReader, load_rulebook

BOOK = load_rulebook()
READER = ItemReader(BOOK)
NAMES = ("fuzz.yaml", "fuzz.json", "fuzz.csv", "fuzz")
# load_rulebook reads a path: each input is written here (libFuzzer exits without cleaning up)
RULEBOOK_FILE = HERE / "scratch" / "rulebook.yaml"
RULEBOOK_FILE.parent.mkdir(exist_ok=True)


def one_item(book) -> dict:
    """An item valid under ``book``: the default of each signal, else its first possible value."""
    signals = {}
    for name, sig in book.signals.items():
        if sig.default is not None:
            signals[name] = sig.default
        elif sig.type == "enum":
            signals[name] = sig.values[0]
        elif sig.type == "int":
            signals[name] = sig.min if sig.min is not None else (sig.max if sig.max is not None else 0)
        else:
            signals[name] = False
    return {"key": "FUZZ-1", "title": "Fuzzed", "signals": signals}


def check(data: bytes) -> None:
    """The property: accepted, or refused with an InputError. Anything else propagates."""
    for name in NAMES:
        try:
            READER.read(name, data=data)
        except InputError as e:
            assert e.problems, "an InputError carries its problems"
    RULEBOOK_FILE.write_bytes(data)
    try:
        book = load_rulebook(RULEBOOK_FILE)
    except InputError as e:
        assert e.problems
        return
    item = ItemReader(book).validate(one_item(book))
    Classifier(book, "reference").decide(item)


# ---- the command line -----------------------------------------------------------------------


def split_args(argv: list[str]) -> tuple[list[str], list[Path]]:
    options = [a for a in argv if a.startswith("-") and a != "--plain"]
    seeds = [Path(a) for a in argv if not a.startswith("-")]
    return options, seeds


def option(options: list[str], name: str, default: int | None) -> int | None:
    for o in options:
        if o.startswith(f"-{name}="):
            return int(o.split("=", 1)[1])
    return default


def seed_files(seeds: list[Path]) -> list[Path]:
    files: list[Path] = []
    for s in seeds:
        files.extend(sorted(p for p in s.rglob("*") if p.is_file()) if s.is_dir() else [s])
    return files


def scratch_corpus(seeds: list[Path]) -> Path:
    """A fresh working corpus seeded with copies of the given files: never write to the seeds."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    for i, f in enumerate(seed_files(seeds)):
        shutil.copyfile(f, WORK / f"seed-{i:04d}-{f.name}")
    return WORK


def run_atheris(options: list[str], seeds: list[Path]) -> None:
    FINDINGS.mkdir(exist_ok=True)
    args = [sys.argv[0], *options]
    if not any(o.startswith("-timeout=") for o in options):
        args.append("-timeout=10")
    if not any(o.startswith("-artifact_prefix=") for o in options):
        args.append(f"-artifact_prefix={FINDINGS}/")
    args.append(str(scratch_corpus(seeds)))
    atheris.Setup(args, check)
    atheris.Fuzz()


# The plain mutator: no coverage feedback, but the same property, seeds and findings folder.
TOKENS = [b"[", b"]", b"{", b"}", b":", b"- ", b"\n", b"  ", b",", b"\"", b"'", b"&a ", b"*a", b"!!", b"!!python/object:os.system",
          b"0x", b"1:2:3", b"2027-13-45", b".inf", b".nan", b"~", b"null", b"true", b"\x00", b"\xff\xfe", b"\xc3", b"\t",
          b"key", b"title", b"signals", b"items", b"rules", b"tiers", b"when", b"score", b"not", b"any", b"all", b"id", b"sid",
          b"9" * 5000, b"\\ud800", b"<<: ", b"---\n", b"%YAML 1.1\n", b"?", b"|\n", b">\n", b"#", b"\r", b"\xef\xbb\xbf"]


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        pos = rng.randint(0, len(buf))
        kind = rng.randrange(7)
        if kind == 0 and buf:  # flip a bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif kind == 1 and buf:  # delete a run
            del buf[pos : pos + rng.randint(1, 16)]
        elif kind == 2:  # insert a token
            buf[pos:pos] = rng.choice(TOKENS)
        elif kind == 3 and buf:  # duplicate a slice
            start = rng.randrange(len(buf))
            buf[pos:pos] = buf[start : start + rng.randint(1, 64)]
        elif kind == 4:  # splice another input
            other = rng.choice(pool)
            start = rng.randrange(len(other) + 1)
            buf[pos:] = other[start:]
        elif kind == 5 and buf:  # a random byte
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        else:  # truncate
            del buf[pos:]
    return bytes(buf[:200_000])


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def run_plain(options: list[str], seeds: list[Path]) -> None:
    seconds = option(options, "max_total_time", 60)
    runs = option(options, "runs", None)
    per_input = option(options, "timeout", 10)
    rng = random.Random(option(options, "seed", int(time.time())))
    pool = [f.read_bytes() for f in seed_files(seeds)] or [b"key: A\ntitle: T\n"]
    FINDINGS.mkdir(exist_ok=True)
    signal.signal(signal.SIGALRM, _alarm)
    start, done, found = time.monotonic(), 0, 0
    while time.monotonic() - start < seconds and (runs is None or done < runs):
        data = mutate(rng, rng.choice(pool), pool)
        signal.alarm(per_input)
        try:
            check(data)
        except _Timeout:
            found += 1
            _save("timeout", data)
        except Exception as e:  # noqa: BLE001 - every other exception is the finding
            found += 1
            _save(f"crash-{type(e).__name__}", data, e)
        finally:
            signal.alarm(0)
        done += 1
        if done % 1000 == 0:
            print(f"#{done} {time.monotonic() - start:.0f}s findings: {found}", flush=True)
    print(f"Done {done} runs in {time.monotonic() - start:.0f} s; findings: {found} (in {FINDINGS})")


def _save(kind: str, data: bytes, error: Exception | None = None) -> None:
    import hashlib

    path = FINDINGS / f"{kind}-{hashlib.sha1(data).hexdigest()[:12]}"
    path.write_bytes(data)
    print(f"FINDING {path}: {error!r}"[:300], flush=True)


def main() -> None:
    options, seeds = split_args(sys.argv[1:])
    if atheris is not None:
        run_atheris(options, seeds)
    else:
        print("atheris is not installed (or --plain): running the plain random mutator", flush=True)
        run_plain(options, seeds)


if __name__ == "__main__":
    main()

"""Two versions of launchtier side by side, in one run: does a change cost speed?

    python benchmarks/compare.py BASE [NEW]      # git commits or branches; NEW defaults to HEAD

Each version is installed the README's way (its own locks, then ``pip install .``) into a virtual
environment under .benchmarks/compare/ (reused while the commit is the same), and the same
workloads run in turns, version after version, round after round, so that both see the same
machine: this one is shared, and its speed swings within seconds. Reported: the median of each
workload per version and the ratio NEW / BASE of the medians (above 1: NEW is slower).

Workloads: a cold start on one item; classify of a JSON batch (end to end); classify of a
streamed JSON Lines file; explain with its what-if search; review; record, then audit, of a
batch; and, in one process, the engine's full decisions per second (``decide_json``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import generate, write_jsonl  # noqa: E402  (the benchmark's own item generator)

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / ".benchmarks" / "compare"

ENGINE_RATE = """
import json, sys, time
from launchtier.engine import Classifier, ItemReader, load_rulebook
book = load_rulebook()
reader = ItemReader(book)
items = [reader.validate(r) for r in json.load(open(sys.argv[1]))]
triples = [(i.key, i.title, i.signal_values()) for i in items]
best = None
for _ in range(3):
    c = Classifier(book)
    start = time.perf_counter()
    for t in triples:
        c.decide_json(*t)
    took = time.perf_counter() - start
    best = took if best is None else min(best, took)
print(best)
"""


def install(commit: str) -> Path:
    """A virtual environment holding launchtier at ``commit``, installed from its own locks."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{commit}^{{commit}}"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    venv = HOME / sha[:12]
    python = venv / "bin" / "python"
    if (venv / "ready").exists():
        return venv
    source = HOME / f"src-{sha[:12]}"
    if not source.exists():
        source.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(pip + ["-r", str(source / "requirements" / "build.txt")], check=True)
    subprocess.run(pip + ["--no-build-isolation", "-r", str(source / "requirements" / "run.txt")], check=True)
    subprocess.run(pip + ["--no-build-isolation", "--no-deps", str(source)], check=True)
    (venv / "ready").write_text(sha + "\n")
    return venv


def timed(argv: list[str], stdin: bytes | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return took


def workloads(venv: Path, work: Path) -> dict[str, callable]:
    lt = str(venv / "bin" / "launchtier")
    python = str(venv / "bin" / "python")
    db = work / f"{venv.name}.db"

    def record_audit() -> tuple[float, float]:
        db.unlink(missing_ok=True)
        return (timed([lt, "record", str(work / "audit.json"), "--by", "bench", "--db", str(db)]),
                timed([lt, "audit", "--db", str(db)]))

    def engine() -> float:
        out = subprocess.run([python, "-c", ENGINE_RATE, str(work / "batch.json")], check=True,
                             capture_output=True, text=True).stdout
        return float(out)

    return {
        "cold start, one item": lambda: timed([lt, "classify", str(work / "one.json"), "--format", "jsonl"]),
        "classify, JSON batch": lambda: timed([lt, "classify", str(work / "batch.json"), "--format", "jsonl"]),
        "classify, JSON Lines streamed": lambda: timed([lt, "classify", str(work / "stream.jsonl"), "--format", "jsonl"]),
        "explain with what-if": lambda: timed([lt, "explain", str(ROOT / "examples" / "roadmap.yaml"), "--item", "PAY-12"]),
        "review of the batch": lambda: timed([lt, "review", str(work / "review.json"), "--format", "json"]),
        "record + audit": record_audit,
        "engine decide_json, in process": engine,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base")
    parser.add_argument("new", nargs="?", default="HEAD")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--items", type=int, default=20_000)
    args = parser.parse_args()
    venvs = {"base": install(args.base), "new": install(args.new)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.chdir(work)  # no ledger of the current directory takes part
        raw = generate(args.items)
        (work / "one.json").write_text(json.dumps(raw[:1]))
        (work / "batch.json").write_text(json.dumps(raw))
        (work / "review.json").write_text(json.dumps(raw[:2000]))
        (work / "audit.json").write_text(json.dumps(generate(5000, seed=7)))
        write_jsonl(work / "stream.jsonl", args.items * 5)
        runs = {name: workloads(venv, work) for name, venv in venvs.items()}
        times: dict[str, dict[str, list[float]]] = {name: {} for name in venvs}
        for round_ in range(args.rounds):
            print(f"round {round_ + 1} of {args.rounds} ...", file=sys.stderr, flush=True)
            for workload in runs["base"]:
                for name in (("base", "new") if round_ % 2 == 0 else ("new", "base")):
                    took = runs[name][workload]()
                    if isinstance(took, tuple):
                        times[name].setdefault("record", []).append(took[0])
                        times[name].setdefault("audit", []).append(took[1])
                    else:
                        times[name].setdefault(workload, []).append(took)
    print(f"base {args.base} ({venvs['base'].name}), new {args.new} ({venvs['new'].name}); "
          f"{args.rounds} rounds in turns; medians in seconds")
    width = max(len(w) for w in times["base"])
    print(f"  {'workload':<{width}}  {'base':>8}  {'new':>8}  new/base")
    for workload in times["base"]:
        base, new = statistics.median(times["base"][workload]), statistics.median(times["new"][workload])
        print(f"  {workload:<{width}}  {base:8.3f}  {new:8.3f}  {new / base:8.2f}")


if __name__ == "__main__":
    main()

"""``rules suggest`` on a ledger of 10,000 decisions: the search should finish in seconds.

    python benchmarks/suggest.py [--items 10000] [--rounds 5]

A ledger is recorded from generated items (the test suite's generator), and every item a planted
edit (``differentiation-better`` +1 lead generation) moves is overridden into the tier that edit
gives, so the search has hundreds of overrides to explain. Reported: the median wall time of
``launchtier rules suggest --format json`` (a child process, as a person runs it) over the
rounds, and whether the best suggestion is the planted edit. Target: under 15 s on this machine
(2 shared cores); the search itself is ``engine.rulecheck.suggest.search``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import make_items, write_items  # noqa: E402  (the suite's item generator)

TARGET_SECONDS = 15.0
PLANTED = "giving rule `differentiation-better` +1 lead generation"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from launchtier.engine import load_rulebook
    from launchtier.engine.items.model import ItemReader
    from launchtier.engine.ledger import open_ledger
    from launchtier.engine.rulecheck.suggest import Replay, candidate_edits

    book = load_rulebook(None)
    items = make_items(args.items, seed=5)
    launchtier = str(Path(sys.executable).parent / "launchtier")
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "ledger.db")
        write_items(Path(tmp) / "items.json", items)
        subprocess.run([launchtier, "record", str(Path(tmp) / "items.json"), "--by", "PMM", "--db", db], check=True,
                       capture_output=True)
        replay = Replay(book, [ItemReader(book).validate(i).signal_values() for i in items])
        planted = next(e for e in candidate_edits(book, replay.data, replay.cases) if e.words == PLANTED)
        moved = replay.changed([planted])
        with open_ledger(db) as ledger:
            for idx in sorted(moved):
                ledger.override(items[idx]["key"], moved[idx], reason="better than rivals", by="PMM", approved_by=["A", "B"])
        times, found = [], None
        for _ in range(args.rounds):
            start = time.perf_counter()
            run = subprocess.run([launchtier, "rules", "suggest", "--db", db, "--format", "json"], check=True,
                                 capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            found = json.loads(run.stdout)["suggestions"][0]["edits"][0]["change"]
    median = statistics.median(times)
    print(f"rules suggest, {args.items:,} decisions, {len(moved):,} overrides: median {median:.2f} s over "
          f"{args.rounds} rounds (min {min(times):.2f}, max {max(times):.2f}); target < {TARGET_SECONDS:.0f} s: "
          f"{'met' if median < TARGET_SECONDS else 'MISSED'}")
    print(f"best suggestion: {found} ({'the planted edit' if found == PLANTED else 'NOT the planted edit'})")
    return 0 if median < TARGET_SECONDS and found == PLANTED else 1


if __name__ == "__main__":
    raise SystemExit(main())

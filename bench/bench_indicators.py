"""Indicator extraction over the shared work-reports corpus: indicators per report, kinds, crashes, speed.

    python bench/bench_indicators.py [CORPUS_DIR] [--sample N]

Every file is read and parsed as the indexer does (which extracts indicators); a file that raises is
counted as a crash with its reason. ``--sample N`` prints N random indicators (seeded) for reading by hand.
Skips with a message when the corpus (``../shared/corpus/work-reports``) is absent.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from indexer.ingest.readers import ReadError, list_files
from indexer.ingest.reports import load_report
from indexer.models import Indicator

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "work-reports"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"skipped: no corpus at {args.corpus}")
        return 0
    files = list_files([args.corpus])
    counts: dict[str, int] = {}
    kinds: Counter[str] = Counter()
    found: list[tuple[str, Indicator]] = []
    crashes: list[tuple[str, str]] = []
    unreadable: list[tuple[str, str]] = []
    chars = 0
    started = time.perf_counter()
    for path in files:
        try:
            report = load_report(path)
        except ReadError as exc:
            unreadable.append((str(path), exc.reason))
            continue
        except Exception as exc:  # a crash is what this bench counts
            crashes.append((str(path), f"{type(exc).__name__}: {exc}"))
            continue
        chars += len(report.text)
        counts[path.name] = len(report.indicators)
        kinds.update(i.kind for i in report.indicators)
        found.extend((path.name, i) for i in report.indicators)
    seconds = time.perf_counter() - started
    per_report = list(counts.values())
    print(f"corpus {args.corpus.resolve()}: {len(files)} files, {chars:,} characters, {seconds:.1f} s")
    print(f"crashes {len(crashes)}  unreadable {len(unreadable)}")
    for source, reason in crashes + unreadable:
        print(f"  {source}: {reason}")
    if per_report:
        print(
            f"indicators {sum(per_report)}  per report: mean {statistics.mean(per_report):.1f}  "
            f"median {statistics.median(per_report)}  max {max(per_report)}  "
            f"reports with none {sum(1 for n in per_report if n == 0)}"
        )
    print("per kind:")
    for kind, n in kinds.most_common():
        print(f"  {kind}: {n}")
    if args.sample:
        print(f"\nsample of {args.sample} (seed {args.seed}):")
        for name, indicator in random.Random(args.seed).sample(found, min(args.sample, len(found))):
            start = max(0, indicator.figure_start - indicator.start - 24)
            context = indicator.text[start : indicator.figure_end - indicator.start + 6]
            print(f"  {name[:24]}\t{indicator.kind}\t{indicator.value:g}{indicator.unit}\t{context}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())

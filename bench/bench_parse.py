"""Parsing throughput over the corpus: read → clean → metadata → sections → chunks, file by file.

    .venv/bin/python bench/bench_parse.py                      # all of /work/shared/corpus
    .venv/bin/python bench/bench_parse.py --limit 2000 PATH    # a slice of another tree
    .venv/bin/python bench/bench_parse.py --headings 100000    # one file of N "一、" lines (worst case)

Prints files/s, characters/s, chunk count, failures (files that could not be read or had no text) and the
share of files with a recognised heading structure (any numbered heading or 第N条/章). A bug that raises
anything other than ReadError is counted and reported, never propagated: the run always finishes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.ingest.chunking import chunk_report  # noqa: E402
from indexer.ingest.readers import ReadError  # noqa: E402
from indexer.ingest.reports import load_report  # noqa: E402

DEFAULT_CORPUS = Path("/work/shared/corpus")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=0, help="parse only the first N files (0: all)")
    parser.add_argument("--headings", type=int, default=0, help="time one file of N heading lines instead")
    args = parser.parse_args(argv)
    if args.headings:
        return _headings(args.headings)

    paths = sorted(args.root.rglob("*.txt"))
    if args.limit:
        paths = paths[: args.limit]
    counts: Counter[str] = Counter()
    bugs: list[tuple[Path, str]] = []
    chars = chunks = 0
    started = time.perf_counter()
    for path in paths:
        try:
            report = load_report(path)
            chunks += len(chunk_report(report))
        except ReadError:
            counts["failed"] += 1
            continue
        except Exception as exc:  # a parser bug must not stop the benchmark; it is reported below
            bugs.append((path, f"{type(exc).__name__}: {exc}"))
            continue
        chars += len(report.text)
        counts["parsed"] += 1
        if any(section.ordinal for section in report.sections):
            counts["structured"] += 1
    seconds = time.perf_counter() - started

    parsed = counts["parsed"] or 1
    rate = f"{len(paths) / seconds:.0f} files/s, {chars / seconds:,.0f} chars/s"
    print(f"files: {len(paths)} in {seconds:.1f} s = {rate}")
    print(f"chunks: {chunks} ({chunks / parsed:.1f} per file)")
    print(f"failures (ReadError): {counts['failed']}; unexpected errors: {len(bugs)}")
    print(f"recognised heading structure: {counts['structured'] / parsed:.1%} of parsed files")
    for path, message in bugs[:20]:
        print(f"  BUG {path}: {message}")
    return 1 if bugs else 0


def _headings(count: int) -> int:
    """Parse time of a pathological file: a title and ``count`` bare top-level headings."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "headings.txt")
        path.write_text("关于2023年法治政府建设情况的报告\n" + "一、\n" * count, encoding="utf-8")
        wall, cpu = time.perf_counter(), time.process_time()
        report = load_report(path)
        chunks = len(chunk_report(report))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    size = path.stat().st_size if path.exists() else len("一、\n".encode()) * count
    print(f"{count} heading lines ({size / 1e3:.0f} KB): {len(report.sections)} sections, {chunks} chunks")
    print(f"read + parse + chunk: {wall:.2f} s wall, {cpu:.2f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Read and clean every file under a folder once; print throughput, encodings and errors.

Usage: ``python bench/bench_readers.py [FOLDER ...]`` (default: ``../shared/corpus``).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from indexer.ingest.cleaning import clean_text
from indexer.ingest.readers import ReadError, iter_documents

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[DEFAULT_CORPUS])
    args = parser.parse_args(argv)

    encodings: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    examples: dict[str, str] = {}
    raw_chars = clean_chars = files = 0
    read_seconds = clean_seconds = 0.0
    started = time.perf_counter()
    documents = iter_documents(args.folders)
    while True:
        t0 = time.perf_counter()
        item = next(documents, None)
        read_seconds += time.perf_counter() - t0
        if item is None:
            break
        files += 1
        if isinstance(item, ReadError):
            errors[item.reason] += 1
            examples.setdefault(item.reason, item.path)
            continue
        encodings[item.encoding] += 1
        t0 = time.perf_counter()
        cleaned = clean_text(item.text)
        clean_seconds += time.perf_counter() - t0
        raw_chars += len(item.text)
        clean_chars += len(cleaned)
    elapsed = time.perf_counter() - started

    print(f"files: {files} in {elapsed:.1f} s = {files / elapsed:.0f} files/s")
    print(f"read: {read_seconds:.1f} s ({raw_chars / max(read_seconds, 1e-9) / 1e6:.1f} M chars/s)")
    print(f"clean: {clean_seconds:.1f} s ({raw_chars / max(clean_seconds, 1e-9) / 1e6:.1f} M chars/s)")
    print(f"chars: {raw_chars} raw -> {clean_chars} cleaned ({raw_chars - clean_chars} removed)")
    print("encodings: " + ", ".join(f"{name} {count}" for name, count in encodings.most_common()))
    print(f"errors: {sum(errors.values())}")
    for reason, count in errors.most_common():
        print(f"  {count:6d}  {reason}  (e.g. {examples[reason]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

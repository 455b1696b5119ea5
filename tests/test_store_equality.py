"""Both stores give the same answers: ``seeds/`` indexed into each by the real pipeline (the session's
embedded ``seeds_index``, and Elasticsearch fed from its embedding cache, so both hold bit-identical
vectors), then the engine's hybrid, bm25 and vector searches for
the judged queries and for phrase and exclusion queries compared hit by hit.

Scores are compared to 1e-4 (Elasticsearch keeps BM25 and cosine in float32). Hits with equal scores may
come in either order, and a run of equal scores cut by the page end may hold different members. Hybrid
fusion works on ranks, so there a tie ordered differently by the two stores moves fused scores: hybrid runs
on both stores through ``TiesByChunkId``, which orders equal retriever scores by chunk id (over a deeper
list, so a tie at the cut is settled the same way too) and changes nothing else.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT, SEEDS

from indexer.embedders.cache import EmbeddingCache
from indexer.embedders.factory import load_embedder
from indexer.pipeline import reindex
from indexer.settings import Settings
from indexer.stores.base import Filters, ScoredId, Store
from indexer.stores.factory import open_store
from indexer.stores.sqlite_schema import DB_FILE
from search_app.engine import Hit, SearchEngine

pytestmark = pytest.mark.integration

JUDGED = [
    json.loads(line)["query"] for line in (ROOT / "eval" / "judged_queries.jsonl").read_text().splitlines()
]
SYNTAX = ['"依法行政" 制度', "行政执法 -培训", '法治政府建设 -"示范创建"', "矛盾纠纷 化解", "rule of law"]
QUERIES = JUDGED + SYNTAX
MODES = ("hybrid", "bm25", "vector")
TOP_K = 10


@pytest.fixture(scope="module")
def stores(elasticsearch_url: str, seeds_index: Path) -> Iterator[tuple[SearchEngine, SearchEngine]]:
    embedder = load_embedder(Settings().embedder)  # the embedder seeds_index was built with
    embedded = open_store("embedded", path=seeds_index)
    elastic = open_store("elasticsearch", url=elasticsearch_url, index=f"fazhi-equal-{uuid.uuid4().hex[:12]}")
    try:
        assert embedded.embedder_id() == embedder.id
        cache = EmbeddingCache(
            seeds_index / DB_FILE
        )  # every seed passage is in it: nothing is embedded again
        summary = reindex([SEEDS], elastic, embedder, cache)
        assert summary.ok and summary.indexed, f"indexing into Elasticsearch failed: {summary.failed}"
        yield SearchEngine(embedded, embedder), SearchEngine(elastic, embedder)
    finally:
        elastic.drop()  # type: ignore[attr-defined]
        for store in (embedded, elastic):
            store.close()


class TiesByChunkId:
    """A store whose retrievals list equal scores (to 5 significant digits) by chunk id."""

    EXTRA = 50  # fetched beyond k so that a run of ties at the cut is whole before it is cut

    def __init__(self, store: Store) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    @staticmethod
    def _settled(run: list[ScoredId], k: int) -> list[ScoredId]:
        return sorted(run, key=lambda s: (-float(f"{s.score:.5g}"), s.chunk_id))[:k]

    def lexical(self, tokens: Sequence[str], filters: Filters, k: int) -> list[ScoredId]:
        return self._settled(self.store.lexical(tokens, filters, k + self.EXTRA), k)

    def vector(self, vector: np.ndarray, filters: Filters, k: int) -> list[ScoredId]:
        return self._settled(self.store.vector(vector, filters, k + self.EXTRA), k)


def _runs(hits: Sequence[Hit]) -> list[list[Hit]]:
    """Consecutive hits with (nearly) equal scores."""
    runs: list[list[Hit]] = []
    for hit in hits:
        if runs and hit.score == pytest.approx(runs[-1][0].score, rel=1e-4, abs=1e-6):
            runs[-1].append(hit)
        else:
            runs.append([hit])
    return runs


def assert_same_hits(a: Sequence[Hit], b: Sequence[Hit], full_page: bool) -> None:
    assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-4, abs=1e-6)
    runs_a, runs_b = _runs(a), _runs(b)
    assert [len(r) for r in runs_a] == [len(r) for r in runs_b]
    for index, (run_a, run_b) in enumerate(zip(runs_a, runs_b, strict=True)):
        if full_page and index == len(runs_a) - 1:
            continue  # the page end may cut a run of ties at different members
        assert {h.chunk.id for h in run_a} == {h.chunk.id for h in run_b}
        for hit_a, hit_b in zip(
            sorted(run_a, key=lambda h: h.chunk.id), sorted(run_b, key=lambda h: h.chunk.id), strict=True
        ):
            assert hit_a.chunk == hit_b.chunk
            assert hit_a.spans == hit_b.spans  # highlights are computed in Python from the same text


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("query", QUERIES)
def test_both_stores_answer_alike(stores: tuple[SearchEngine, SearchEngine], query: str, mode: str) -> None:
    if mode == "hybrid":
        stores = tuple(SearchEngine(TiesByChunkId(e.store), e.embedder) for e in stores)  # type: ignore[assignment]
    embedded, elastic = stores
    a = embedded.search(query, mode=mode, top_k=TOP_K, with_facets=True)
    b = elastic.search(query, mode=mode, top_k=TOP_K, with_facets=True)
    assert a.total == b.total
    assert a.facets == b.facets
    assert_same_hits(a.hits, b.hits, full_page=len(a.hits) == TOP_K)


def test_some_queries_find_nothing_or_are_cut_by_phrases(stores: tuple[SearchEngine, SearchEngine]) -> None:
    """The comparison above is not vacuous: queries find hits, and phrase filters do remove some."""
    embedded, _ = stores
    found = [embedded.search(q, mode="bm25", top_k=TOP_K).total for q in QUERIES]
    # Most find something by their words (paraphrase and English questions may not, in keyword mode).
    assert sum(1 for total in found if total) >= 0.7 * len(QUERIES)
    loose = embedded.search("依法行政 制度", mode="bm25", top_k=TOP_K).total
    strict = embedded.search('"依法行政" 制度', mode="bm25", top_k=TOP_K).total
    assert 0 < strict < loose


def test_index_wide_facets_and_stats_agree(stores: tuple[SearchEngine, SearchEngine]) -> None:
    embedded, elastic = stores
    assert embedded.store.facets(Filters()) == elastic.store.facets(Filters())
    a, b = embedded.store.stats(), elastic.store.stats()
    assert (a.reports, a.chunks, a.embedder_id, a.dim) == (b.reports, b.chunks, b.embedder_id, b.dim)


def test_reports_read_back_equal(stores: tuple[SearchEngine, SearchEngine]) -> None:
    embedded, elastic = (engine.store for engine in stores)
    sources = embedded.report_sources()
    assert sources == elastic.report_sources()
    for report_id in sources:
        assert embedded.get_report(report_id) == elastic.get_report(report_id)

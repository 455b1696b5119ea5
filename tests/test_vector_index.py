"""Vector search: exact for few candidates; sign-bit pre-selection with exact re-scoring for many."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.stores.vector_index import RESCORE_DEPTH, VectorIndex, top_k


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

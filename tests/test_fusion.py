from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.stores.base import ScoredId
from search_app.fusion import (
    FusedHit,
    FusionMethod,
    fuse,
    normalize,
    reciprocal_rank_fusion,
    weighted_fusion,
)


def run(*ids: str, start: float = 10.0) -> list[ScoredId]:
    return [ScoredId(i, start - n) for n, i in enumerate(ids)]


# -- examples ------------------------------------------------------------------------------------------


def test_rrf_scores_ranks_and_raw_scores():
    fused = reciprocal_rank_fusion({"bm25": run("a", "b"), "vector": run("b", "c")}, k=60)
    assert [h.chunk_id for h in fused] == ["b", "a", "c"]
    b = fused[0]
    assert b.score == pytest.approx(1 / 62 + 1 / 61)
    assert b.ranks == {"bm25": 2, "vector": 1}
    assert b.scores == {"bm25": 9.0, "vector": 10.0}
    assert fused[2].ranks == {"vector": 2}


def test_rrf_tie_broken_by_best_rank_then_id():
    # a and x: rank 1 in one run each, equal scores → chunk id decides
    fused = reciprocal_rank_fusion({"bm25": run("x", "m"), "vector": run("a", "n")})
    assert [h.chunk_id for h in fused] == ["a", "x", "m", "n"]


def test_rrf_weights_and_depth():
    runs = {"bm25": run("a", "b", "c"), "vector": run("c", "b", "a")}
    assert reciprocal_rank_fusion(runs, weights={"bm25": 2.0})[0].chunk_id == "a"
    assert reciprocal_rank_fusion(runs, weights={"vector": 2.0})[0].chunk_id == "c"
    shallow = reciprocal_rank_fusion({"bm25": run("a", "b", "c")}, depth=2)
    assert [h.chunk_id for h in shallow] == ["a", "b"]


def test_rrf_zero_weight_run_only_breaks_ties():
    fused = reciprocal_rank_fusion({"bm25": run("a", "b"), "vector": run("z", "b")}, weights={"vector": 0})
    assert [h.chunk_id for h in fused] == ["a", "b", "z"]
    assert fused[2].score == 0


def test_duplicate_ids_in_a_run_count_once_at_their_best_rank():
    fused = reciprocal_rank_fusion({"bm25": [ScoredId("a", 3), ScoredId("b", 2), ScoredId("a", 1)]})
    assert [(h.chunk_id, h.ranks["bm25"]) for h in fused] == [("a", 1), ("b", 2)]


@pytest.mark.parametrize(
    "call",
    [
        lambda: reciprocal_rank_fusion({"bm25": run("a")}, k=-1),
        lambda: reciprocal_rank_fusion({"bm25": run("a")}, depth=-1),
        lambda: reciprocal_rank_fusion({"bm25": run("a")}, weights={"bm25": math.nan}),
        lambda: weighted_fusion({"bm25": run("a")}, 1.5),
        lambda: weighted_fusion({"bm25": run("a"), "other": run("b")}, 0.5),
        lambda: normalize(run("a"), method="zscore"),
    ],
)
def test_bad_arguments_name_the_problem(call):
    with pytest.raises(ValueError):
        call()


def test_normalize_minmax():
    assert normalize([ScoredId("a", 5), ScoredId("b", 3), ScoredId("c", 1)]) == [
        ScoredId("a", 1.0),
        ScoredId("b", 0.5),
        ScoredId("c", 0.0),
    ]
    assert normalize([ScoredId("a", 0.3)]) == [ScoredId("a", 1.0)]
    assert normalize([]) == []
    extreme = normalize([ScoredId("a", 1e308), ScoredId("b", -1e308)])
    assert [s.score for s in extreme] == [1.0, 0.0]


def test_normalize_tolerates_non_finite_scores():
    scores = normalize([ScoredId("a", math.inf), ScoredId("b", 2), ScoredId("c", math.nan), ScoredId("d", 1)])
    assert [s.score for s in scores] == [1.0, 1.0, 0.0, 0.0]


def test_weighted_fusion_example():
    runs = {"bm25": [ScoredId("a", 10), ScoredId("b", 5), ScoredId("c", 0)], "vector": run("c", "b")}
    fused = weighted_fusion(runs, lexical_weight=0.5)
    by_id = {h.chunk_id: h.score for h in fused}
    assert by_id == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.5})
    assert [h.chunk_id for h in fused] == [
        "a",
        "c",
        "b",
    ]  # a and c tie; a has bm25 rank 1, c vector rank 1 → id
    assert fused[0].scores == {"bm25": 10}


def test_weighted_zero_weight_puts_vector_only_hits_last_in_vector_order():
    fused = weighted_fusion({"bm25": run("a", "b"), "vector": run("z", "y", "a")}, lexical_weight=1.0)
    assert [h.chunk_id for h in fused] == ["a", "b", "z", "y"]


def test_fuse_dispatches_on_method():
    runs = {"bm25": run("a", "b"), "vector": run("b", "a")}
    assert fuse(runs, FusionMethod.WEIGHTED, lexical_weight=1.0)[0].chunk_id == "a"
    assert fuse(runs, "weighted", lexical_weight=0.0)[0].chunk_id == "b"
    assert fuse(runs, "rrf") == reciprocal_rank_fusion(runs)
    with pytest.raises(ValueError):
        fuse(runs, "borda")


def test_fused_hit_is_frozen():
    hit = FusedHit("a", 1.0, {"bm25": 1}, {"bm25": 2.0})
    with pytest.raises(AttributeError):
        hit.score = 2.0  # type: ignore[misc]


# -- properties ----------------------------------------------------------------------------------------

ids = st.sampled_from([f"c{i}" for i in range(30)])
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@st.composite
def ranked_runs(draw, min_size: int = 0) -> list[ScoredId]:
    """A run as a store returns it: distinct ids, scores non-increasing."""
    chosen = draw(st.lists(ids, min_size=min_size, max_size=20, unique=True))
    scores = sorted(draw(st.lists(finite, min_size=len(chosen), max_size=len(chosen))), reverse=True)
    return [ScoredId(i, s) for i, s in zip(chosen, scores, strict=True)]


pairs = st.fixed_dictionaries({"bm25": ranked_runs(), "vector": ranked_runs()})
methods = st.sampled_from(["rrf", "weighted"])
weights = st.floats(min_value=0.0, max_value=1.0)


def fused_with(runs, method: str, w: float) -> list[FusedHit]:
    return reciprocal_rank_fusion(runs) if method == "rrf" else weighted_fusion(runs, w)


@given(pairs, methods, weights)
def test_every_input_id_appears_exactly_once(runs, method, w):
    fused = fused_with(runs, method, w)
    out = [h.chunk_id for h in fused]
    assert len(out) == len(set(out))
    assert set(out) == {s.chunk_id for r in runs.values() for s in r}


@given(pairs, methods, weights)
def test_scores_never_increase(runs, method, w):
    scores = [h.score for h in fused_with(runs, method, w)]
    assert all(a >= b for a, b in itertools.pairwise(scores))


@given(ranked_runs(min_size=1), ranked_runs(), ranked_runs(), st.booleans())
def test_a_hit_first_in_both_runs_comes_first(top_run, rest_a, rest_b, weighted):
    top = top_run[0]
    first = {
        "bm25": [ScoredId(top.chunk_id, 1e7)] + [s for s in rest_a if s.chunk_id != top.chunk_id],
        "vector": [ScoredId(top.chunk_id, 1e7)] + [s for s in rest_b if s.chunk_id != top.chunk_id],
    }
    fused = weighted_fusion(first, 0.5) if weighted else reciprocal_rank_fusion(first)
    assert fused[0].chunk_id == top.chunk_id


@given(ranked_runs(), st.sampled_from(["bm25", "vector"]), methods, weights)
def test_one_run_keeps_its_order(single, name, method, w):
    fused = fused_with({name: single}, method, w)
    assert [h.chunk_id for h in fused] == [s.chunk_id for s in single]
    assert [h.ranks[name] for h in fused] == list(range(1, len(single) + 1))


@given(pairs)
def test_weighted_with_full_lexical_weight_follows_bm25(runs):
    fused = weighted_fusion(runs, lexical_weight=1.0)
    lexical = [s.chunk_id for s in runs["bm25"]]
    assert [h.chunk_id for h in fused][: len(lexical)] == lexical


@given(pairs)
def test_rrf_is_independent_of_run_order(runs):
    reordered = {"vector": runs["vector"], "bm25": runs["bm25"]}
    assert reciprocal_rank_fusion(runs) == reciprocal_rank_fusion(reordered)

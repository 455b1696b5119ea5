"""Fusing ranked runs (BM25, vector) into one ranking: reciprocal rank fusion or weighted scores.

A run is a sequence of ``ScoredId`` best first; its position gives the 1-based rank. An id repeated within a
run counts once, at its best rank. Ties are broken deterministically: higher fused score, then better
(lower) rank in a run that carries weight, then better rank in any run, then chunk id.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from indexer.stores.base import ScoredId

LEXICAL = "bm25"
VECTOR = "vector"


class FusionMethod(StrEnum):
    RRF = "rrf"
    WEIGHTED = "weighted"


@dataclass(frozen=True)
class FusedHit:
    chunk_id: str
    score: float
    ranks: dict[str, int]  # run name → 1-based rank in that run
    scores: dict[str, float]  # run name → the run's own (raw) score


def reciprocal_rank_fusion(
    runs: Mapping[str, Sequence[ScoredId]],
    k: int = 60,
    weights: Mapping[str, float] | None = None,
    depth: int | None = None,
) -> list[FusedHit]:
    """Cormack et al.'s RRF: score = Σ weight_run / (k + rank_run), over the top ``depth`` of each run."""
    if k < 0:
        raise ValueError(f"RRF k must be >= 0, got {k}")
    if depth is not None and depth < 0:
        raise ValueError(f"depth must be >= 0 or None, got {depth}")
    run_weights = {name: _check_weight(name, (weights or {}).get(name, 1.0)) for name in runs}
    ranked = {name: _ranks(run, depth) for name, run in runs.items()}
    ids = _ids(ranked.values())
    fused = []
    for chunk_id in ids:
        present = sorted(name for name in ranked if chunk_id in ranked[name])
        score = math.fsum(run_weights[n] / (k + ranked[n][chunk_id][0]) for n in present)
        fused.append(_hit(chunk_id, score, ranked, present))
    return _sorted(fused, [n for n, w in run_weights.items() if w > 0])


def normalize(scores: Sequence[ScoredId], method: str = "minmax") -> list[ScoredId]:
    """Scores rescaled to [0, 1], order kept. All-equal scores (e.g. a single hit) become 1.

    A non-finite score (a store's bug, say a cosine of a zero vector) must not sink a whole search: NaN and
    −inf count as the lowest (0), +inf as the highest (1).
    """
    if method != "minmax":
        raise ValueError(f"unknown normalisation {method!r}; supported: 'minmax'")
    finite = [s.score for s in scores if math.isfinite(s.score)]
    if not finite:
        return [ScoredId(s.chunk_id, 1.0 if s.score == math.inf else 0.0) for s in scores]
    lo, hi = min(finite), max(finite)
    # halve first so that hi - lo cannot overflow for extreme but finite scores
    span = hi / 2 - lo / 2

    def scaled(x: float) -> float:
        if math.isnan(x) or x == -math.inf:
            return 0.0
        if x == math.inf or span == 0:
            return 1.0
        return min(1.0, max(0.0, (x / 2 - lo / 2) / span))

    return [ScoredId(s.chunk_id, scaled(s.score)) for s in scores]


def weighted_fusion(runs: Mapping[str, Sequence[ScoredId]], lexical_weight: float) -> list[FusedHit]:
    """score = w · minmax(bm25) + (1 − w) · minmax(vector); a hit missing from a run gets 0 from it.

    ``runs`` may hold a ``"bm25"`` run, a ``"vector"`` run or both; any other name is an error, since it
    would have no weight.
    """
    unknown = sorted(set(runs) - {LEXICAL, VECTOR})
    if unknown:
        raise ValueError(f"weighted fusion takes runs {LEXICAL!r} and {VECTOR!r}, not {unknown}")
    if not 0.0 <= lexical_weight <= 1.0:
        raise ValueError(f"lexical_weight must lie in [0, 1], got {lexical_weight}")
    run_weights = {LEXICAL: lexical_weight, VECTOR: 1.0 - lexical_weight}
    ranked = {name: _ranks(run, None) for name, run in runs.items()}
    normalised = {
        name: {s.chunk_id: s.score for s in normalize([ScoredId(i, r[1]) for i, r in ranked[name].items()])}
        for name in ranked
    }
    fused = []
    for chunk_id in _ids(ranked.values()):
        present = sorted(name for name in ranked if chunk_id in ranked[name])
        score = math.fsum(run_weights[n] * normalised[n][chunk_id] for n in present)
        fused.append(_hit(chunk_id, score, ranked, present))
    return _sorted(fused, [n for n in ranked if run_weights[n] > 0])


def fuse(
    runs: Mapping[str, Sequence[ScoredId]],
    method: FusionMethod | str = FusionMethod.RRF,
    *,
    k: int = 60,
    lexical_weight: float = 0.5,
) -> list[FusedHit]:
    """Dispatches on ``method`` (``"rrf"`` or ``"weighted"``)."""
    if FusionMethod(method) is FusionMethod.WEIGHTED:
        return weighted_fusion(runs, lexical_weight)
    return reciprocal_rank_fusion(runs, k=k)


def _check_weight(name: str, weight: float) -> float:
    if not (math.isfinite(weight) and weight >= 0):
        raise ValueError(f"weight of run {name!r} must be a finite number >= 0, got {weight}")
    return float(weight)


def _ranks(run: Sequence[ScoredId], depth: int | None) -> dict[str, tuple[int, float]]:
    """chunk id → (1-based rank, score) at its first occurrence, within ``depth``."""
    out: dict[str, tuple[int, float]] = {}
    for position, hit in enumerate(run[:depth] if depth is not None else run, start=1):
        out.setdefault(hit.chunk_id, (position, hit.score))
    return out


def _ids(ranked: Iterable[Mapping[str, object]]) -> list[str]:
    return list(dict.fromkeys(chunk_id for run in ranked for chunk_id in run))


def _hit(
    chunk_id: str, score: float, ranked: Mapping[str, Mapping[str, tuple[int, float]]], present: list[str]
) -> FusedHit:
    return FusedHit(
        chunk_id=chunk_id,
        score=score,
        ranks={n: ranked[n][chunk_id][0] for n in present},
        scores={n: ranked[n][chunk_id][1] for n in present},
    )


def _sorted(hits: list[FusedHit], weighted_runs: Sequence[str]) -> list[FusedHit]:
    def key(hit: FusedHit) -> tuple[float, float, float, str]:
        weighted = min((hit.ranks[n] for n in weighted_runs if n in hit.ranks), default=math.inf)
        return -hit.score, weighted, min(hit.ranks.values(), default=math.inf), hit.chunk_id

    return sorted(hits, key=key)


def diversify(hits: Sequence[FusedHit], group_of: Callable[[str], str], decay: float) -> list[FusedHit]:
    """Re-rank so one report cannot fill the page: the n-th hit of a report keeps ``decay ** n`` of its score.

    Researchers compare townships; ten near-identical passages from one report push the others' answers off
    the first page. ``decay = 1`` keeps the order.
    """
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"decay must be in (0, 1], got {decay}")
    seen: dict[str, int] = {}
    rescored = []
    for position, hit in enumerate(hits):
        group = group_of(hit.chunk_id)
        n = seen.get(group, 0)
        seen[group] = n + 1
        rescored.append((-(hit.score * decay**n), position, hit))
    rescored.sort(key=lambda t: (t[0], t[1]))
    return [replace(hit, score=-neg) for neg, _, hit in rescored]

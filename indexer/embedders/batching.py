"""Embeds many texts at once: cache first, then only the misses, in batches of bounded size.

Embedding dominates indexing cost by two orders of magnitude, so a re-index should touch the model only
for text it has never seen: identical texts are embedded once per call, and every batch is written to the
cache as soon as it is done (an interrupted run keeps what it paid for).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.embedders.base import Embedder
from indexer.embedders.cache import EmbeddingCache

__all__ = ["EmbedStats", "embed_texts"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EmbedStats:
    """``cache_hits`` and ``embedded`` count distinct texts; ``reused`` are repeats within the call."""

    total: int
    cache_hits: int
    embedded: int
    seconds: float

    @property
    def reused(self) -> int:
        return self.total - self.cache_hits - self.embedded

    @property
    def embedded_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


def _group_positions(texts: Sequence[str]) -> dict[str, list[int]]:
    """Distinct texts in first-seen order, each with every position it occupies."""
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {i}: expected str, got {type(text).__name__}")
        groups.setdefault(text, []).append(i)
    return groups


def embed_texts(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None = None,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> tuple[np.ndarray, EmbedStats]:
    """``(len(texts), embedder.dim)`` float32 vectors, row ``i`` for ``texts[i]``, and what it cost.

    ``progress(done, total)`` counts input texts; it is called once after the cache lookup and after
    every batch the model embeds.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    started = time.perf_counter()
    total = len(texts)
    groups = _group_positions(texts)
    distinct = list(groups)
    out = np.empty((total, embedder.dim), dtype=np.float32)

    hits = cache.get_many(embedder.id, distinct) if cache is not None and distinct else {}
    done = 0
    for index, vector in hits.items():
        rows = groups[distinct[index]]
        out[rows] = vector
        done += len(rows)
    if progress is not None:
        progress(done, total)

    misses = [text for i, text in enumerate(distinct) if i not in hits]
    for start in range(0, len(misses), batch_size):
        batch = misses[start : start + batch_size]
        vectors, good = _checked(embedder, batch, embedder.embed_passages(batch))
        if cache is not None:
            cache.put_many(embedder.id, [t for t, ok in zip(batch, good, strict=True) if ok], vectors[good])
        for text, vector in zip(batch, vectors, strict=True):
            rows = groups[text]
            out[rows] = vector
            done += len(rows)
        if progress is not None:
            progress(done, total)

    stats = EmbedStats(total, len(hits), len(misses), time.perf_counter() - started)
    return out, stats


def _checked(embedder: Embedder, batch: list[str], vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model's output as float32 and which rows are usable.

    A vector with NaN or inf becomes zeros (it matches nothing) and is not cached, so a later run retries.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape != (len(batch), embedder.dim):
        raise RuntimeError(
            f"embedder {embedder.id} returned shape {vectors.shape} for {len(batch)} texts "
            f"(expected ({len(batch)}, {embedder.dim}))"
        )
    good = np.isfinite(vectors).all(axis=1)
    if not good.all():
        log.warning("embedder %s produced %d non-finite vectors; using zeros", embedder.id, (~good).sum())
        vectors = np.where(good[:, None], vectors, np.float32(0.0))
    return vectors, good

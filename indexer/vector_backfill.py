"""Vectors after publishing: embed the published generation's chunks that have none yet, batch by batch.

Keyword search serves as soon as a generation is published; each batch of vectors is committed on its own
and readers pick it up without reloading, so semantic search covers more of the index as the run goes on.
The embedding cache keys on text, so a run that was killed resumes where it stopped: whatever it embedded
is in the cache (or already stored) and is never computed twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from indexer.analysis import fold
from indexer.calibration import Calibrator
from indexer.embedders.base import Embedder, passage_text
from indexer.embedders.batching import embed_texts
from indexer.embedders.cache import EmbeddingCache
from indexer.stores.base import EmbedderMismatchError, IndexEmptyError, PartialVectors, Store

Progress = Callable[[str, int, int], None]  # ("vectors", done, total)

# Chunks per commit: readers see new vectors this often (about half a minute at 8 passages/s).
DEFAULT_BATCH = 256
RECALIBRATION_BATCH = 4096  # vectors read at a time when the threshold is derived again


@dataclass
class BackfillSummary:
    missing: int = 0  # chunks without a vector when the run started
    stored: int = 0
    embedded: int = 0  # computed by the model
    cache_hits: int = 0
    seconds: float = 0.0
    superseded: bool = False  # another generation was published meanwhile: the run stopped

    @property
    def embedded_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


def supports_partial_vectors(store: Store) -> bool:
    return isinstance(store, PartialVectors)


def backfill_vectors(
    store: Store,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    batch: int = DEFAULT_BATCH,
    embed_batch: int = 32,
    progress: Progress | None = None,
    limit: int | None = None,
) -> BackfillSummary:
    """Embed and store the vectors the published generation lacks (at most about ``limit``, in whole
    batches); returns what it did."""
    if not isinstance(store, PartialVectors):
        raise TypeError(f"the {store.name} store stores every vector with its chunk; nothing to fill in")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    started = time.perf_counter()
    summary = BackfillSummary()
    try:
        stats = store.stats()
    except IndexEmptyError:
        return summary
    if stats.embedder_id != embedder.id:
        raise EmbedderMismatchError(
            f"the index was built with embedder {stats.embedder_id!r}, not {embedder.id!r}: "
            "compute its vectors with that embedder, or reindex"
        )
    summary.missing = stats.chunks - (stats.vectors if stats.vectors is not None else stats.chunks)
    if progress is not None:
        progress("vectors", 0, summary.missing)
    model_seconds = 0.0
    after = 0
    while pending := store.pending_vectors(after, batch):
        if pending[0].generation != stats.generation:
            summary.superseded = True
            break
        # Similar lengths in one model batch waste less padding: sort the batch by length.
        pending.sort(key=lambda p: len(p.chunk.text))
        texts = [fold(passage_text(p.chunk)) for p in pending]
        vectors, embedded = embed_texts(embedder, texts, cache=cache, batch_size=embed_batch)
        summary.embedded += embedded.embedded
        summary.cache_hits += embedded.cache_hits
        if embedded.embedded:
            model_seconds += embedded.seconds
        rate = summary.embedded / model_seconds if model_seconds > 0 else None
        keys = [p.key for p in pending]
        if not store.add_vectors(stats.generation, keys, vectors, rate):
            summary.superseded = True
            break
        summary.stored += len(pending)
        after = max(keys)
        if progress is not None:
            progress("vectors", summary.stored, summary.missing)
        if limit is not None and summary.stored >= limit:
            break
    if not summary.superseded and store.vector_coverage() >= 1.0 and (summary.stored or _uncalibrated(store)):
        _recalibrate(store, embedder, stats.generation)
    summary.seconds = time.perf_counter() - started
    return summary


def _uncalibrated(store: Store) -> bool:
    """True when the recorded calibration saw fewer passages than the generation has (an interrupted fill)."""
    recorded = store.calibration()
    return recorded is None or int(recorded.get("passages", 0)) < store.stats().chunks


def _recalibrate(store: PartialVectors, embedder: Embedder, generation: str) -> None:
    """The semantic threshold is derived from every passage vector (``indexer.calibration``); the one
    recorded at publish time saw only the vectors that existed then, so derive it again now they all do."""
    calibrator = Calibrator(embedder)
    for vectors in store.stored_vectors(generation, RECALIBRATION_BATCH):
        calibrator.observe(vectors)
    store.record_calibration(generation, calibrator.result().to_dict())

"""The store protocol that the embedded and the Elasticsearch stores both implement.

The search side talks to an index only through this protocol. Retrieval methods return ranked
``ScoredId`` lists; fusion, highlighting and grouping happen in ``search_app``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from indexer.models import Chunk, Indicator, Report, ReportMeta

FACET_FIELDS: tuple[str, ...] = ("year", "province", "county", "township", "category")


class StoreError(RuntimeError):
    """The store cannot serve the request (down, unreachable, corrupt); the message says why."""


class EmbedderMismatchError(StoreError):
    """The index was built with another embedder than the one asked to search or extend it."""


class IndexEmptyError(StoreError):
    """No generation has been published yet."""


@dataclass(frozen=True)
class MatchRule:
    """Which passages match a query's words: at least ``minimum`` of ``terms`` are present.

    A term is present when any of its alternatives is; an alternative is present when all its tokens are
    among the passage's analysis tokens (its text and its section path). The search side builds the rule
    (``search_app.matching``); both stores evaluate it exactly over every passage, so counts are never
    capped by a candidate depth.
    """

    terms: tuple[tuple[tuple[str, ...], ...], ...]
    minimum: int

    def __post_init__(self) -> None:
        if not 0 <= self.minimum <= len(self.terms):
            raise ValueError(f"minimum must lie in [0, {len(self.terms)}], got {self.minimum}")
        if any(not term or any(not alt for alt in term) for term in self.terms):
            raise ValueError("every term needs at least one non-empty alternative")

    def satisfied_by(self, tokens: Iterable[str]) -> bool:
        """The rule applied to one passage's tokens (the reference the stores' versions must agree with)."""
        present = set(tokens)
        found = sum(any(all(t in present for t in alt) for alt in term) for term in self.terms)
        return found >= self.minimum


@dataclass(frozen=True)
class Filters:
    """Restrictions every retrieval honours; text constraints come folded (see ``indexer.analysis``)."""

    year_min: int | None = None
    year_max: int | None = None
    provinces: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()
    townships: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    report_ids: tuple[str, ...] = ()  # only these reports, when non-empty
    exclude_report_ids: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()  # folded substrings every hit must contain
    excluded: tuple[str, ...] = ()  # folded substrings no hit may contain
    match: MatchRule | None = None  # when set, only passages satisfying this rule
    # ``A OR B`` between quoted phrases: a hit contains every phrase of at least one group (empty: no rule)
    phrase_groups: tuple[tuple[str, ...], ...] = ()
    title_contains: tuple[str, ...] = ()  # folded substrings the report's title must contain
    issuer_contains: tuple[str, ...] = ()  # folded substrings the report's issuing body must contain
    # Publication date range (ISO YYYY-MM-DD, inclusive). A report that states no publication date is
    # judged by its year instead: it passes when that year lies within the range's years.
    published_from: str | None = None
    published_to: str | None = None


NO_FILTERS = Filters()


@dataclass(frozen=True)
class ScoredId:
    chunk_id: str
    score: float


@dataclass(frozen=True)
class ReportIndicator:
    """One indicator with the report it was read from, as ``Store.indicators`` lists them."""

    report_id: str
    meta: ReportMeta
    indicator: Indicator


@dataclass(frozen=True)
class IndexedChunk:
    """A chunk with everything a store writes: folded text, analysis tokens and its vector.

    ``vector`` is None when it is to be computed after publishing (stores implementing ``PartialVectors``).
    """

    chunk: Chunk
    folded: str
    tokens: tuple[str, ...]
    vector: np.ndarray | None


@dataclass(frozen=True)
class IndexStats:
    store: str
    reports: int
    chunks: int
    embedder_id: str | None
    dim: int | None
    generation: str | None
    published_at: str | None  # ISO timestamp, UTC
    size_bytes: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
    vectors: int | None = None  # chunks with a vector, when a store can hold fewer than all
    vector_eta_seconds: float | None = None  # time left to compute the rest, when it is being computed

    @property
    def vector_coverage(self) -> float:
        """Share of chunks that vector search reaches (1.0 when the store does not say otherwise)."""
        if self.vectors is None or not self.chunks:
            return 1.0
        return self.vectors / self.chunks


@runtime_checkable
class IndexWriter(Protocol):
    """Builds one new generation; nothing is visible to readers before ``publish``."""

    def add(self, report: Report, chunks: Sequence[IndexedChunk]) -> None: ...

    def set_calibration(self, calibration: Mapping[str, Any]) -> None:
        """Record how the embedder behaves on this generation (``indexer.calibration``), published with it."""
        ...

    def publish(self) -> None: ...

    def abort(self) -> None: ...


@dataclass(frozen=True)
class PendingChunk:
    """A chunk of the published generation that has no vector yet; ``key`` orders them for resuming."""

    key: int
    generation: str
    chunk: Chunk


@runtime_checkable
class PartialVectors(Protocol):
    """A store that publishes a generation before all its vectors exist and adds them in batches.

    Vector search reaches only the chunks that have a vector; readers see each batch as it is added.
    """

    def pending_vectors(self, after: int, limit: int) -> list[PendingChunk]:
        """Up to ``limit`` chunks without a vector whose key is greater than ``after``, by key."""
        ...

    def add_vectors(
        self, generation: str, keys: Sequence[int], vectors: np.ndarray, rate: float | None = None
    ) -> bool:
        """Store vectors of pending chunks of ``generation``; False (nothing written) once it is no longer
        the published generation. ``rate`` (passages/s) is kept for the time-left estimate."""
        ...

    def vector_coverage(self) -> float:
        """Share of the published chunks vector search reaches now (cheap: asked on every search)."""
        ...

    def stored_vectors(self, generation: str, batch: int) -> Iterator[np.ndarray]:
        """Every vector stored for ``generation``, ``batch`` rows at a time (for recalibration)."""
        ...

    def record_calibration(self, generation: str, calibration: Mapping[str, Any]) -> bool:
        """Replace ``generation``'s calibration; False (nothing written) if it is no longer published."""
        ...


@runtime_checkable
class Store(Protocol):
    name: str

    # -- writing -------------------------------------------------------------------------------------
    def new_generation(self, embedder_id: str, dim: int) -> IndexWriter: ...

    def replace_report(
        self, report: Report, chunks: Sequence[IndexedChunk], embedder_id: str | None = None
    ) -> None:
        """Add or replace one report (same source or same id) in the published generation.

        ``embedder_id``, when given, must be the one the index was built with (``EmbedderMismatchError``).
        """
        ...

    def remove_report(self, report_id: str) -> None: ...

    def report_sources(self) -> dict[str, str]:
        """report id -> source path, for incremental updates."""
        ...

    # -- reading -------------------------------------------------------------------------------------
    def lexical(self, tokens: Sequence[str], filters: Filters, k: int) -> list[ScoredId]:
        """BM25 (Lucene formula, k1=1.2, b=0.75) over the stored analysis tokens."""
        ...

    def vector(self, vector: np.ndarray, filters: Filters, k: int) -> list[ScoredId]:
        """Cosine nearest neighbours."""
        ...

    def count(self, filters: Filters) -> int:
        """The exact number of passages passing ``filters`` (and ``filters.match``), at any index size."""
        ...

    def passing(self, chunk_ids: Sequence[str], filters: Filters) -> set[str]:
        """Those of ``chunk_ids`` that pass ``filters`` (including ``filters.match``)."""
        ...

    def calibration(self) -> dict[str, Any] | None:
        """What ``IndexWriter.set_calibration`` recorded for the published generation, if anything."""
        ...

    def get_chunks(self, ids: Iterable[str]) -> list[Chunk]:
        """Chunks in the order asked; unknown ids are skipped."""
        ...

    def get_vectors(self, ids: Sequence[str]) -> np.ndarray: ...

    def get_report(self, report_id: str) -> Report | None:
        """The report with its sections and indicators."""
        ...

    def indicators(self, filters: Filters) -> list[ReportIndicator]:
        """Indicators of the published reports, by report id then position (``indicator_rows``).

        Metadata filters and ``report_ids`` select reports; ``categories`` selects indicators by their
        section's category; ``phrases``/``excluded`` do not apply.
        """
        ...

    def facets(self, filters: Filters, chunk_ids: Sequence[str] | None = None) -> dict[str, dict[str, int]]:
        """Counts per value of each ``FACET_FIELDS`` field over matching chunks (or over ``chunk_ids``)."""
        ...

    def stats(self) -> IndexStats: ...

    def version(self) -> str | None:
        """A key that changes whenever what readers see changes (a publish, a replaced or removed report);
        ``None`` before the first publish. Readers cache derived results under it."""
        ...

    def embedder_id(self) -> str | None: ...

    def drop(self) -> None:
        """Delete every generation and all data of this index; the store stays usable (and empty)."""
        ...

    def close(self) -> None: ...

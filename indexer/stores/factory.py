"""Open a store by kind: the one place where configuration chooses between the two backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indexer.stores.base import Store

STORE_KINDS: tuple[str, ...] = ("embedded", "elasticsearch")


def open_store(kind: str, **options: Any) -> Store:
    """``open_store("embedded", path=...)`` or ``open_store("elasticsearch", url=..., index=..., ...)``.

    The Elasticsearch client is imported only when asked for; its options default to the environment.
    """
    if kind == "embedded":
        path = options.pop("path", None)
        if path is None or options:
            raise TypeError(f"the embedded store takes exactly one option, path; got {sorted(options)}")
        from indexer.stores.embedded import EmbeddedStore

        return EmbeddedStore(Path(path))
    if kind == "elasticsearch":
        from indexer.stores.elasticsearch_store import ElasticsearchStore

        return ElasticsearchStore(**options)
    raise ValueError(f"unknown store kind {kind!r}; choose one of {', '.join(STORE_KINDS)}")

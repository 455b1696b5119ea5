"""Query vectors remembered per text, for serving.

A page asks for the same query again and again (the next page, facets, the document view, a changed
filter), and embedding it is most of a hybrid search's time on a small CPU (tens of milliseconds against a
few for BM25 and vector search). Passages are not remembered here: the indexing pipeline has its own
persistent cache keyed on text (``indexer.embedders.cache``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from indexer.embedders.base import Embedder

QUERY_MEMO_SIZE = 2048  # distinct query texts (1.5 KiB each at dimension 384)


class RememberedQueries:
    """``embedder`` with ``embed_query`` remembered for the last ``size`` distinct texts.

    The vectors handed out are read-only, so one caller cannot change what the next one gets. Everything
    else (``id``, ``dim``, ``embed_passages``, ``token_count``, ``truncate`` …) is the wrapped embedder's.
    """

    def __init__(self, embedder: Embedder, size: int = QUERY_MEMO_SIZE) -> None:
        self.inner = embedder
        self.id = embedder.id
        self.dim = embedder.dim
        self._remembered = lru_cache(maxsize=size)(self._embed)

    def _embed(self, text: str) -> np.ndarray:
        vector = np.array(self.inner.embed_query(text), dtype=np.float32)
        vector.flags.writeable = False
        return vector

    def embed_query(self, text: str) -> np.ndarray:
        return self._remembered(text)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def __getattr__(self, name: str) -> Any:  # only for what is not defined here
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"RememberedQueries({self.inner!r})"


def remembering_queries(embedder: Embedder) -> Embedder:
    """``embedder`` wrapped once (wrapping a wrapped one returns it as it is)."""
    return embedder if isinstance(embedder, RememberedQueries) else RememberedQueries(embedder)

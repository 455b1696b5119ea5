"""The semantic calibration in force for an index (see ``indexer.calibration`` for how it is derived).

This module finds it for the generation being searched and checks that it belongs to the embedder in use.
An index written before calibrations were recorded has none: it then gives no meaning-only results (only
passages containing the query's words) until it is rebuilt, and the engine says so.
"""

from __future__ import annotations

import threading

from indexer.calibration import Calibration
from indexer.embedders.base import Embedder
from indexer.stores.base import EmbedderMismatchError, Store

NOT_CALIBRATED_NOTICE = "索引未记录语义校准，只显示含检索词的段落；重建索引后可显示语义相关的段落"


class SemanticThreshold:
    """Per index version, the ``Calibration`` of the store's published generation (or None)."""

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self._lock = threading.Lock()
        self._cached: tuple[str | None, Calibration | None] | None = None

    def calibration(self) -> Calibration | None:
        version = self.store.version()
        cached = self._cached
        if cached is not None and cached[0] == version:
            return cached[1]
        with self._lock:
            recorded = self.store.calibration()
            found = None if recorded is None else Calibration.from_dict(recorded)
            if found is not None and found.embedder_id != self.embedder.id:
                raise EmbedderMismatchError(
                    f"the index was calibrated for embedder {found.embedder_id!r}, "
                    f"not {self.embedder.id!r}; reindex with the embedder in use"
                )
            self._cached = (version, found)
            return found

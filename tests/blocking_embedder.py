"""An embedder that announces it has started embedding passages and then blocks until the process dies.

Selected with ``EMBEDDER=python:blocking_embedder:BlockingEmbedder`` (``tests/`` on ``PYTHONPATH``), it holds
the indexer at a known stage — after reading and parsing, inside embedding, before anything is published —
so a test can kill it there without guessing at timings. The marker file is ``$BLOCKING_EMBEDDER_MARKER``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class BlockingEmbedder:
    id = "test:blocking:8"
    dim = 8

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        Path(os.environ["BLOCKING_EMBEDDER_MARKER"]).write_text(str(len(texts)), encoding="utf-8")
        threading.Event().wait()  # never set: only a signal ends this process
        raise AssertionError("unreachable")

    def embed_query(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        vector[0] = 1.0
        return vector

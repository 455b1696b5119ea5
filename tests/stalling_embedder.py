"""A deterministic embedder that logs what it embeds and, when asked, stalls inside a chosen call.

Selected with ``EMBEDDER=python:stalling_embedder:StallingEmbedder`` (``tests/`` on ``PYTHONPATH``). Every
text it embeds is appended (as SHA-256) to ``$STALLING_EMBEDDER_LOG`` before the call returns. With
``$STALLING_EMBEDDER_STALL_AT=N`` the N-th call writes ``$STALLING_EMBEDDER_MARKER`` and blocks until the
process dies, so a test can kill the indexer while vectors are being computed, without guessing at timings.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class StallingEmbedder:
    id = "test:stalling:8"
    dim = 8

    def __init__(self) -> None:
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if str(self.calls) == os.environ.get("STALLING_EMBEDDER_STALL_AT"):
            Path(os.environ["STALLING_EMBEDDER_MARKER"]).write_text(str(len(texts)), encoding="utf-8")
            threading.Event().wait()  # never set: only a signal ends this process
        vectors = np.stack([self._vector(t) for t in texts])
        log = os.environ.get("STALLING_EMBEDDER_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as out:
                out.writelines(text_hash(t) + "\n" for t in texts)
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

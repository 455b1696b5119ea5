"""A persistent embedding cache: (embedder id, SHA-256 of the embedded text) → float32 vector.

One SQLite table, ``embedding_cache``, in its own file or inside the embedded index's database. WAL mode
lets readers run while a writer adds vectors; each thread gets its own connection, opened on first use.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["EmbeddingCache", "text_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embedding_cache (
    embedder_id TEXT NOT NULL,
    text_sha256 BLOB NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (embedder_id, text_sha256)
) WITHOUT ROWID
"""
_LOOKUP_BATCH = 500  # well under SQLite's bound-parameter limit


def text_key(text: str) -> bytes:
    """SHA-256 of the text as UTF-8 (a lone surrogate is kept, not an error)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    """Thread-safe; usable as a context manager. Nothing is opened until the first lookup or write."""

    def __init__(self, path: Path | str, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # a lost cache row costs one re-embedding, no more
            with conn:
                conn.execute(_SCHEMA)
            self._local.conn = conn
            with self._guard:
                self._connections.append(conn)
        return conn

    def get_many(self, embedder_id: str, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """Cached vectors by position in ``texts``; misses (and rows of the wrong size) are absent."""
        positions: dict[bytes, list[int]] = {}
        for i, text in enumerate(texts):
            positions.setdefault(text_key(text), []).append(i)
        keys = list(positions)
        found: dict[int, np.ndarray] = {}
        conn = self._conn()
        for start in range(0, len(keys), _LOOKUP_BATCH):
            batch = keys[start : start + _LOOKUP_BATCH]
            marks = ",".join("?" * len(batch))
            rows = conn.execute(
                "SELECT text_sha256, dim, vector FROM embedding_cache "
                f"WHERE embedder_id = ? AND text_sha256 IN ({marks})",
                (embedder_id, *batch),
            )
            for key, dim, blob in rows:
                if len(blob) != dim * 4:
                    continue  # a damaged row is a miss: the text gets embedded again and the row rewritten
                vector = np.frombuffer(blob, dtype=np.float32)
                for i in positions[bytes(key)]:
                    found[i] = vector
        return found

    def put_many(self, embedder_id: str, texts: Sequence[str], vectors: np.ndarray) -> int:
        """Stores one vector per text (replacing what was there); returns how many rows were written.

        Vectors with non-finite values are not stored: they would turn one bad run into a permanent answer.
        """
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ValueError(f"expected {len(texts)} vectors as a 2-d array, got shape {vectors.shape}")
        if not embedder_id:
            raise ValueError("embedder_id is empty")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        finite = np.isfinite(vectors).all(axis=1)
        rows = [
            (embedder_id, text_key(text), dim, vectors[i].tobytes())
            for i, text in enumerate(texts)
            if finite[i]
        ]
        conn = self._conn()
        with conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embedding_cache (embedder_id, text_sha256, dim, vector) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def count(self, embedder_id: str | None = None) -> int:
        """Rows cached, for one embedder or for all."""
        if embedder_id is None:
            row = self._conn().execute("SELECT COUNT(*) FROM embedding_cache").fetchone()
        else:
            row = (
                self._conn()
                .execute("SELECT COUNT(*) FROM embedding_cache WHERE embedder_id = ?", (embedder_id,))
                .fetchone()
            )
        return int(row[0])

    def embedder_ids(self) -> list[str]:
        rows = self._conn().execute("SELECT DISTINCT embedder_id FROM embedding_cache ORDER BY 1")
        return [embedder_id for (embedder_id,) in rows]

    def close(self) -> None:
        """Closes every thread's connection; the cache reopens on next use."""
        with self._guard:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r})"

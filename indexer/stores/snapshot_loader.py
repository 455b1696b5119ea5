"""Read the published generation from SQLite into a ``Snapshot``, in one read transaction.

Tokens and vectors are streamed from their cursors straight into the BM25 builder and a preallocated
matrix, so loading 100 k chunks never holds them twice as Python objects.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from indexer.stores.base import StoreError
from indexer.stores.bm25 import Bm25Index
from indexer.stores.snapshot import GenerationInfo, Snapshot
from indexer.stores.vector_index import VectorIndex

_ROW_COLUMNS = "id, report_id, category, year, province, county, township, folded"


def _read_vectors(conn: sqlite3.Connection, info: GenerationInfo, n: int) -> np.ndarray:
    matrix = np.empty((n, info.dim), np.float32)
    cursor = conn.execute(
        "SELECT vector FROM vectors WHERE generation = ? ORDER BY chunk_rowid", (info.generation,)
    )
    count = 0
    for count, (blob,) in enumerate(cursor, start=1):
        if count > n or len(blob) != 4 * info.dim:
            raise StoreError(f"generation {info.generation}: vector rows do not match its chunks")
        matrix[count - 1] = np.frombuffer(blob, np.float32)
    if count != n:
        raise StoreError(f"generation {info.generation}: {count} vectors for {n} chunks")
    return matrix


def load_snapshot(conn: sqlite3.Connection) -> Snapshot | None:
    """The published generation, or None when nothing is published."""
    conn.execute("BEGIN")
    try:
        row = conn.execute(
            "SELECT c.generation, c.version, g.embedder_id, g.dim FROM current c "
            "JOIN generations g ON g.id = c.generation"
        ).fetchone()
        if row is None:
            return None
        info = GenerationInfo(*row)
        select = "FROM chunks WHERE generation = ? ORDER BY rowid"
        rows = conn.execute(f"SELECT {_ROW_COLUMNS} {select}", (info.generation,)).fetchall()
        tokens = conn.execute(f"SELECT tokens {select}", (info.generation,))
        bm25 = Bm25Index.build(text for (text,) in tokens)
        vectors = VectorIndex(_read_vectors(conn, info, len(rows)))
    finally:
        conn.execute("COMMIT")
    return Snapshot(info, rows, bm25, vectors)

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

_ROW_COLUMNS = (
    "id, report_id, category, year, province, county, township, folded, "
    "json_extract(meta, '$.title'), json_extract(meta, '$.issuer'), json_extract(meta, '$.published')"
)


def _read_vectors(
    conn: sqlite3.Connection, info: GenerationInfo, rowids: np.ndarray, batch: int = 20_000
) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of the chunks ``rowids`` (zeros where not computed yet) and which rows have one;
    read ``batch`` rows at a time and placed with one vectorised lookup per batch."""
    matrix = np.zeros((len(rowids), info.dim), np.float32)
    present = np.zeros(len(rowids), bool)
    cursor = conn.execute(
        "SELECT chunk_rowid, vector FROM vectors WHERE generation = ? ORDER BY chunk_rowid",
        (info.generation,),
    )
    while rows := cursor.fetchmany(batch):
        found = np.fromiter((rowid for rowid, _ in rows), np.int64, len(rows))
        positions = np.minimum(np.searchsorted(rowids, found), max(len(rowids) - 1, 0))
        blobs = [blob for _, blob in rows]
        if (
            not len(rowids)
            or not np.array_equal(rowids[positions], found)
            or any(len(blob) != 4 * info.dim for blob in blobs)
        ):
            raise StoreError(f"generation {info.generation}: vector rows do not match its chunks")
        matrix[positions] = np.frombuffer(b"".join(blobs), np.float32).reshape(len(rows), info.dim)
        present[positions] = True
    return matrix, present


def read_added_vectors(
    conn: sqlite3.Connection, generation: str, after: int, upto: int
) -> tuple[np.ndarray, np.ndarray]:
    """(rowids, float32 vectors) of the vectors stored for chunks with rowids in (after, upto]."""
    rows = conn.execute(
        "SELECT chunk_rowid, vector FROM vectors "
        "WHERE generation = ? AND chunk_rowid > ? AND chunk_rowid <= ? ORDER BY chunk_rowid",
        (generation, after, upto),
    ).fetchall()
    if not rows:
        return np.empty(0, np.int64), np.empty((0, 0), np.float32)
    rowids = np.fromiter((r for r, _ in rows), np.int64, len(rows))
    vectors = np.stack([np.frombuffer(blob, np.float32) for _, blob in rows])
    return rowids, vectors


def load_snapshot(conn: sqlite3.Connection) -> Snapshot | None:
    """The published generation, or None when nothing is published."""
    conn.execute("BEGIN")
    try:
        row = conn.execute(
            "SELECT c.generation, c.version, g.embedder_id, g.dim, coalesce(f.epoch, 0), coalesce(f.upto, 0) "
            "FROM current c JOIN generations g ON g.id = c.generation "
            "LEFT JOIN vector_fill f ON f.generation = c.generation"
        ).fetchone()
        if row is None:
            return None
        info = GenerationInfo(*row)
        select = "FROM chunks WHERE generation = ? ORDER BY rowid"
        rows = conn.execute(f"SELECT {_ROW_COLUMNS} {select}", (info.generation,)).fetchall()
        rowids = np.fromiter(
            (r for (r,) in conn.execute(f"SELECT rowid {select}", (info.generation,))), np.int64, len(rows)
        )
        tokens = conn.execute(f"SELECT tokens {select}", (info.generation,))
        bm25 = Bm25Index.build(text for (text,) in tokens)
        vectors = VectorIndex(*_read_vectors(conn, info, rowids))
    finally:
        conn.execute("COMMIT")
    return Snapshot.from_rows(info, rows, bm25, vectors, rowids)

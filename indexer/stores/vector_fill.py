"""The embedded store's side of vectors computed after publishing: which chunks lack one, storing a batch.

Each batch is one transaction that inserts the vectors and bumps ``vector_fill.epoch``; readers notice the
new epoch and copy just those vectors into their snapshot (``EmbeddedStore._add_new_vectors``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from indexer.stores import sqlite_schema as db
from indexer.stores.base import PendingChunk

# A run whose last batch is older than this has stopped (killed, interrupted): no time-left estimate.
STALLED_AFTER = timedelta(minutes=10)

_PENDING = (
    "SELECT c.rowid, c.generation, c.id, c.report_id, c.section_index, c.breadcrumb, c.category, c.text, "
    'c.start, c."end", c.meta FROM chunks c '
    "WHERE c.generation = (SELECT generation FROM current) AND c.rowid > ? "
    "AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.chunk_rowid = c.rowid) ORDER BY c.rowid LIMIT ?"
)


@dataclass(frozen=True)
class FillState:
    epoch: int
    upto: int  # every chunk with a rowid up to this one has its vector
    rate: float | None  # passages per second of the last run
    updated_at: str | None

    def eta_seconds(self, missing: int, now: datetime | None = None) -> float | None:
        """Seconds until the ``missing`` vectors are computed, if a run is going on and its rate is known."""
        if missing <= 0:
            return 0.0
        if not self.rate or self.updated_at is None:
            return None
        now = now or datetime.now(UTC)
        if now - datetime.fromisoformat(self.updated_at) > STALLED_AFTER:
            return None
        return missing / self.rate


def fill_state(conn: sqlite3.Connection, generation: str) -> FillState | None:
    row = conn.execute(
        "SELECT epoch, upto, rate, updated_at FROM vector_fill WHERE generation = ?", (generation,)
    ).fetchone()
    return None if row is None else FillState(*row)


def pending_chunks(conn: sqlite3.Connection, after: int, limit: int) -> list[PendingChunk]:
    """Chunks of the published generation without a vector, rowid > ``after``, in rowid order."""
    rows = conn.execute(_PENDING, (after, limit)).fetchall()
    return [PendingChunk(key=row[0], generation=row[1], chunk=db.chunk_from_row(row[2:])) for row in rows]


def store_vectors(
    conn: sqlite3.Connection,
    generation: str,
    keys: Sequence[int],
    vectors: np.ndarray,
    rate: float | None = None,
) -> bool:
    """Insert vectors for chunks ``keys`` of ``generation``; False if it is not the published one any more.

    Chunks removed meanwhile (an update replaced their report) are skipped; vectors already there stay.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape[0] != len(keys):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(keys)} chunks")
    conn.execute("BEGIN IMMEDIATE")
    (current,) = conn.execute("SELECT generation FROM current").fetchone()
    if current != generation:
        conn.execute("ROLLBACK")
        return False
    conn.executemany(
        "INSERT OR IGNORE INTO vectors (chunk_rowid, generation, vector) SELECT ?, ?, ? "
        "WHERE EXISTS (SELECT 1 FROM chunks WHERE rowid = ? AND generation = ?)",
        [
            (int(key), generation, db.vector_blob(vector), int(key), generation)
            for key, vector in zip(keys, vectors, strict=True)
        ],
    )
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn.execute(
        "INSERT INTO vector_fill (generation, epoch, upto, rate, updated_at) VALUES (?, 1, ?, ?, ?) "
        "ON CONFLICT (generation) DO UPDATE SET epoch = epoch + 1, upto = max(upto, excluded.upto), "
        "rate = coalesce(excluded.rate, rate), updated_at = excluded.updated_at",
        (generation, max((int(k) for k in keys), default=0), rate, now),
    )
    conn.execute("COMMIT")
    return True

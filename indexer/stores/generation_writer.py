"""Writing one generation of the embedded store: batched inserts, atomic publish, abort, and cleanup.

A live writer holds an exclusive lock on ``writers/<generation>.lock``; the OS drops it when the process
dies (even on SIGKILL), which is how a later writer tells an abandoned generation from one in progress.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import numpy as np

from indexer.models import Report
from indexer.stores import sqlite_schema as db
from indexer.stores.base import IndexedChunk, StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: fall back to an age limit for abandoned generations
    fcntl = None  # type: ignore[assignment]

_ABANDONED_AFTER = timedelta(days=1)  # only used where file locks are unavailable


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def validate(report: Report, chunks: Sequence[IndexedChunk], dim: int) -> None:
    """Raise ValueError naming the first problem, before anything of the report is written."""
    seen: set[str] = set()
    for item in chunks:
        chunk_id = item.chunk.id
        if item.chunk.report_id != report.id:
            raise ValueError(f"chunk {chunk_id} belongs to report {item.chunk.report_id}, not {report.id}")
        if chunk_id in seen:
            raise ValueError(f"report {report.id}: duplicate chunk id {chunk_id}")
        seen.add(chunk_id)
        if item.vector is None:
            continue  # computed later (indexer.vector_backfill)
        vector = np.asarray(item.vector)
        if vector.shape != (dim,):
            raise ValueError(f"chunk {chunk_id}: vector shape {vector.shape}, index dimension is {dim}")
        if not np.all(np.isfinite(vector)):
            raise ValueError(f"chunk {chunk_id}: vector has non-finite values")
        if any(not t or any(c.isspace() for c in t) for t in item.tokens):
            raise ValueError(f"chunk {chunk_id}: tokens must be non-empty and contain no whitespace")


def insert_report(
    conn: sqlite3.Connection, generation: str, report: Report, chunks: Sequence[IndexedChunk]
) -> None:
    """Insert one report with its chunks and the vectors it has (inside the caller's transaction)."""
    conn.execute(db.REPORT_INSERT, db.report_row(generation, report))
    for item in chunks:
        rowid = conn.execute(db.CHUNK_INSERT, db.chunk_row(generation, item)).lastrowid
        if item.vector is not None:
            conn.execute(db.VECTOR_INSERT, (rowid, generation, db.vector_blob(item.vector)))


def delete_report_rows(conn: sqlite3.Connection, generation: str, report_id: str) -> None:
    conn.execute(
        "DELETE FROM vectors WHERE chunk_rowid IN "
        "(SELECT rowid FROM chunks WHERE generation = ? AND report_id = ?)",
        (generation, report_id),
    )
    conn.execute("DELETE FROM chunks WHERE generation = ? AND report_id = ?", (generation, report_id))
    conn.execute("DELETE FROM reports WHERE generation = ? AND id = ?", (generation, report_id))


class WriterLock:
    """An exclusive, non-blocking file lock; ``acquire`` says whether it was free."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        if fcntl is None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "ab")  # noqa: SIM115 - held open for as long as the lock lives
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self, remove: bool = True) -> None:
        if self._file is not None:
            if remove:
                self.path.unlink(missing_ok=True)
            self._file.close()
            self._file = None


def lock_path(directory: Path, generation: str) -> Path:
    return directory / "writers" / f"{generation}.lock"


def remove_dead_generations(conn: sqlite3.Connection, directory: Path) -> list[str]:
    """Delete superseded published generations and unpublished ones whose writer is gone."""
    rows = conn.execute(
        "SELECT g.id, g.published_at, g.created_at FROM generations g, current c "
        "WHERE g.id IS NOT c.generation"
    ).fetchall()
    removed = []
    for generation, published_at, created_at in rows:
        lock = WriterLock(lock_path(directory, generation))
        if published_at is None:
            if fcntl is None:
                if datetime.fromisoformat(created_at) > datetime.now(UTC) - _ABANDONED_AFTER:
                    continue
            elif not lock.acquire():
                continue  # its writer is alive
        conn.execute("BEGIN IMMEDIATE")
        db.delete_generation_rows(conn, generation)
        conn.execute("COMMIT")
        lock.release()
        removed.append(generation)
    return removed


# VACUUM once free pages (left by removed generations) are over a quarter of the file and at least this
# many: a steady reindex of the same reports then stays near twice its size instead of keeping the peak.
MIN_FREE_PAGES_TO_VACUUM = 2048


def reclaim_space(conn: sqlite3.Connection) -> bool:
    """Rewrite the database file when free pages dominate it; returns whether it did."""
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    if free < MIN_FREE_PAGES_TO_VACUUM or free * 4 < pages:
        return False
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the VACUUM went through the WAL: give it back too
    return True


class GenerationWriter:
    """Implements ``IndexWriter`` for the embedded store; not thread-safe (one writer, one thread)."""

    def __init__(self, directory: Path, embedder_id: str, dim: int, batch_size: int = 2000) -> None:
        if dim <= 0:
            raise ValueError(f"vector dimension must be positive, got {dim}")
        self.directory = directory
        self.embedder_id = embedder_id
        self.dim = dim
        self.generation = f"g{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        self._batch_size = batch_size
        self._pending: list[tuple[Report, Sequence[IndexedChunk]]] = []
        self._pending_chunks = 0
        self._seen: set[str] = set()
        self._lock = WriterLock(lock_path(directory, self.generation))
        if not self._lock.acquire():
            raise StoreError(f"generation {self.generation} is locked by another writer")
        self._conn: sqlite3.Connection | None = db.connect(directory)
        self._conn.execute(
            "INSERT INTO generations (id, embedder_id, dim, created_at, writer_pid) VALUES (?, ?, ?, ?, ?)",
            (self.generation, embedder_id, dim, utc_now(), os.getpid()),
        )

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"generation {self.generation} was already published or aborted")
        return self._conn

    def add(self, report: Report, chunks: Sequence[IndexedChunk]) -> None:
        self._live()
        validate(report, chunks, self.dim)
        if report.id in self._seen:  # the same report twice: the later one wins
            self._flush()
            conn = self._live()
            conn.execute("BEGIN IMMEDIATE")
            delete_report_rows(conn, self.generation, report.id)
            conn.execute("COMMIT")
        self._seen.add(report.id)
        self._pending.append((report, chunks))
        self._pending_chunks += len(chunks)
        if self._pending_chunks >= self._batch_size:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        conn = self._live()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for report, chunks in self._pending:
                insert_report(conn, self.generation, report, chunks)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._pending.clear()
        self._pending_chunks = 0

    def set_calibration(self, calibration: Mapping[str, Any]) -> None:
        conn = self._live()
        conn.execute(
            "INSERT OR REPLACE INTO generation_meta (generation, key, value) VALUES (?, ?, ?)",
            (self.generation, db.CALIBRATION_KEY, json.dumps(dict(calibration), ensure_ascii=False)),
        )

    def publish(self) -> None:
        self._flush()
        conn = self._live()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM generations WHERE id = ?", (self.generation,)).fetchone() is None:
                raise StoreError(f"generation {self.generation} vanished before publish (removed as dead?)")
            conn.execute("UPDATE generations SET published_at = ? WHERE id = ?", (utc_now(), self.generation))
            conn.execute("UPDATE current SET generation = ?, version = version + 1", (self.generation,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._close()
        try:
            remove_dead_generations(conn, self.directory)
            reclaim_space(conn)
        except sqlite3.Error:  # published all the same; the next new_generation retries the cleanup
            pass
        finally:
            conn.close()

    def abort(self) -> None:
        if self._conn is None:
            return
        conn = self._conn
        self._pending.clear()
        conn.execute("BEGIN IMMEDIATE")
        db.delete_generation_rows(conn, self.generation)
        conn.execute("COMMIT")
        self._close()
        conn.close()

    def _close(self) -> None:
        self._conn = None
        self._lock.release()

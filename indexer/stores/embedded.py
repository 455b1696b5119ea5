"""The embedded store: one directory, a SQLite database (WAL) and search structures held in memory.

Readers check the ``current`` row's (generation, version) once per query and swap in a freshly built
snapshot when another writer, store object or process has changed it. The embedding cache of the indexing
pipeline lives in the same database file (``database_path``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.models import Chunk, Report, ReportMeta
from indexer.stores import sqlite_schema as db
from indexer.stores.base import (
    EmbedderMismatchError,
    Filters,
    IndexedChunk,
    IndexEmptyError,
    IndexStats,
    PendingChunk,
    ReportIndicator,
    ScoredId,
)
from indexer.stores.generation_writer import (
    GenerationWriter,
    delete_report_rows,
    insert_report,
    remove_dead_generations,
    validate,
)
from indexer.stores.indicator_rows import indicators_from, select_indicators
from indexer.stores.snapshot import Snapshot
from indexer.stores.snapshot_files import (
    SNAPSHOT_DIR,
    load_saved_snapshot,
    remove_other_snapshots,
    save_snapshot,
)
from indexer.stores.snapshot_loader import load_snapshot, read_added_vectors
from indexer.stores.vector_fill import fill_state, pending_chunks, store_vectors

log = logging.getLogger(__name__)

_JOIN_CURRENT = "FROM current c JOIN generations g ON g.id = c.generation"
_IN_BATCH = 500  # ids per "IN (...)" lookup, well under SQLite's variable limit


class EmbeddedStore:
    name = "embedded"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._pool = db.ConnectionPool(self.path)
        self._build_lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    @property
    def database_path(self) -> Path:
        """The SQLite file, shared with the embedding cache (table ``embedding_cache``)."""
        return self.path / db.DB_FILE

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- snapshots -----------------------------------------------------------------------------------
    def _pointer(self) -> tuple[str | None, int, int]:
        """(generation, version, vector epoch) of what readers should see."""
        with self._pool.connection() as conn:
            return conn.execute(
                "SELECT c.generation, c.version, coalesce(f.epoch, 0) FROM current c "
                "LEFT JOIN vector_fill f ON f.generation = c.generation"
            ).fetchone()

    def _current(self) -> Snapshot:
        """The snapshot of the published generation, (re)loaded when the pointer row has moved."""
        generation, version, epoch = self._pointer()
        if generation is None:
            raise IndexEmptyError(f"{self.path}: no index generation has been published yet")
        snapshot = self._snapshot
        if snapshot is not None and snapshot.key == (generation, version):
            if snapshot.info.vector_epoch != epoch:
                self._add_new_vectors(snapshot)
            return snapshot
        if snapshot is not None and not self._build_lock.acquire(blocking=False):
            return snapshot  # another thread is loading the new one: the old one is still whole
        if snapshot is None:
            self._build_lock.acquire()
        loaded = False
        try:
            snapshot = self._snapshot
            if snapshot is None or snapshot.key != (generation, version):
                built = load_saved_snapshot(self.path, generation, version, epoch)
                if built is None:
                    with self._pool.connection() as conn:
                        built = load_snapshot(conn)
                    if built is None:
                        raise IndexEmptyError(f"{self.path}: no index generation has been published yet")
                    built = self._save(built)
                self._snapshot = snapshot = built
                loaded = True
        finally:
            self._build_lock.release()
        if loaded:
            del built
            _release_dropped()
        if snapshot.info.vector_epoch != epoch:
            self._add_new_vectors(snapshot)
        return snapshot

    def _save(self, snapshot: Snapshot) -> Snapshot:
        """Save the arrays for the next process to map (a read-only or full disk only costs that speed).

        Returns the saved files mapped, to serve instead of ``snapshot``: its private arrays are freed, so a
        process that reloaded after a change holds no more than one that started on the files."""
        try:
            saved = save_snapshot(self.path, snapshot)
            remove_other_snapshots(self.path, saved)
        except OSError as exc:
            log.warning(
                "%s: cannot save the snapshot files (%s); readers will load from SQLite", self.path, exc
            )
            return snapshot
        info = snapshot.info
        mapped = load_saved_snapshot(self.path, info.generation, info.version, info.vector_epoch)
        return snapshot if mapped is None else mapped

    def persist_snapshot(self) -> None:
        """Save the published generation's arrays as they are now (after publishing, after vectors)."""
        self._save(self._current())

    def _add_new_vectors(self, snapshot: Snapshot) -> None:
        """Bring vectors added since ``snapshot`` was loaded into it, in place (no reload, no second copy).

        A thread that finds another one doing it goes on with the vectors it has.
        """
        if not self._build_lock.acquire(blocking=False):
            return
        try:
            with self._pool.connection() as conn:
                conn.execute("BEGIN")
                state = fill_state(conn, snapshot.info.generation)
                if state is not None and state.epoch != snapshot.info.vector_epoch:
                    rowids, vectors = read_added_vectors(
                        conn, snapshot.info.generation, snapshot.info.vectors_upto, state.upto
                    )
                    snapshot.add_vectors(rowids, vectors, state.epoch, state.upto)
                conn.execute("COMMIT")
        finally:
            self._build_lock.release()

    def _published(self, conn: sqlite3.Connection) -> tuple[str, str, int]:
        """(generation, embedder id, dim) of the published generation, inside the caller's transaction."""
        row = conn.execute(f"SELECT c.generation, g.embedder_id, g.dim {_JOIN_CURRENT}").fetchone()
        if row is None:
            raise IndexEmptyError(f"{self.path}: publish a generation before changing single reports")
        return row

    # -- writing -------------------------------------------------------------------------------------
    # A failed write needs no explicit rollback: the pool rolls back a connection returned mid-transaction.
    def new_generation(self, embedder_id: str, dim: int) -> GenerationWriter:
        with self._pool.connection() as conn:
            remove_dead_generations(conn, self.path)
        return GenerationWriter(self.path, embedder_id, dim)

    def replace_report(
        self, report: Report, chunks: Sequence[IndexedChunk], embedder_id: str | None = None
    ) -> None:
        """Add or replace a report (same id or same source); ``embedder_id``, if given, must match."""
        with self._pool.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            generation, index_embedder, dim = self._published(conn)
            if embedder_id is not None and embedder_id != index_embedder:
                raise EmbedderMismatchError(f"index built with {index_embedder}, not {embedder_id}")
            for item in chunks:
                if np.shape(item.vector) != (dim,):
                    raise EmbedderMismatchError(
                        f"chunk {item.chunk.id}: vector shape {np.shape(item.vector)}, "
                        f"index ({index_embedder}) has dimension {dim}"
                    )
            validate(report, chunks, dim)
            old = conn.execute(
                "SELECT id FROM reports WHERE generation = ? AND (id = ? OR source = ?)",
                (generation, report.id, report.source),
            )
            for (old_id,) in old.fetchall():
                delete_report_rows(conn, generation, old_id)
            insert_report(conn, generation, report, chunks)
            conn.execute("UPDATE current SET version = version + 1")
            conn.execute("COMMIT")

    def remove_report(self, report_id: str) -> None:
        """Remove a report from the published generation; unknown ids are ignored."""
        with self._pool.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            (generation,) = conn.execute("SELECT generation FROM current").fetchone()
            found = conn.execute(
                "SELECT 1 FROM reports WHERE generation = ? AND id = ?", (generation, report_id)
            ).fetchone()
            if found:
                delete_report_rows(conn, generation, report_id)
                conn.execute("UPDATE current SET version = version + 1")
            conn.execute("COMMIT")

    # -- vectors computed after publishing (PartialVectors) ---------------------------------------------
    def pending_vectors(self, after: int, limit: int) -> list[PendingChunk]:
        with self._pool.connection() as conn:
            return pending_chunks(conn, after, limit)

    def add_vectors(
        self, generation: str, keys: Sequence[int], vectors: np.ndarray, rate: float | None = None
    ) -> bool:
        with self._pool.connection() as conn:
            return store_vectors(conn, generation, keys, vectors, rate)

    def stored_vectors(self, generation: str, batch: int) -> Iterator[np.ndarray]:
        after = -1
        while True:
            with self._pool.connection() as conn:
                rows = conn.execute(
                    "SELECT chunk_rowid, vector FROM vectors WHERE generation = ? AND chunk_rowid > ? "
                    "ORDER BY chunk_rowid LIMIT ?",
                    (generation, after, batch),
                ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield np.stack([np.frombuffer(blob, np.float32) for _, blob in rows])

    def record_calibration(self, generation: str, calibration: Mapping[str, Any]) -> bool:
        with self._pool.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            (current,) = conn.execute("SELECT generation FROM current").fetchone()
            if current != generation:
                conn.execute("ROLLBACK")
                return False
            conn.execute(
                "INSERT OR REPLACE INTO generation_meta (generation, key, value) VALUES (?, ?, ?)",
                (generation, db.CALIBRATION_KEY, json.dumps(dict(calibration), ensure_ascii=False)),
            )
            # A new vector epoch changes version(), so readers drop what they derived from the old one.
            conn.execute("UPDATE vector_fill SET epoch = epoch + 1 WHERE generation = ?", (generation,))
            conn.execute("COMMIT")
        return True

    def vector_coverage(self) -> float:
        snapshot = self._current()
        return snapshot.vectors.covered / len(snapshot) if len(snapshot) else 1.0

    def report_sources(self) -> dict[str, str]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT r.id, r.source FROM reports r, current c WHERE r.generation = c.generation"
            )
            return dict(rows.fetchall())

    # -- reading -------------------------------------------------------------------------------------
    def lexical(self, tokens: Sequence[str], filters: Filters, k: int) -> list[ScoredId]:
        return [ScoredId(i, s) for i, s in self._current().lexical(tokens, filters, k)]

    def vector(self, vector: np.ndarray, filters: Filters, k: int) -> list[ScoredId]:
        snapshot = self._current()
        if np.shape(vector)[-1] != snapshot.info.dim:
            raise EmbedderMismatchError(
                f"query vector of dimension {np.shape(vector)[-1]}; the index ({snapshot.info.embedder_id}) "
                f"has dimension {snapshot.info.dim}"
            )
        return [ScoredId(i, s) for i, s in snapshot.vector(vector, filters, k)]

    def count(self, filters: Filters) -> int:
        return self._current().count(filters)

    def passing(self, chunk_ids: Sequence[str], filters: Filters) -> set[str]:
        return self._current().passing(chunk_ids, filters)

    def calibration(self) -> dict[str, Any] | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT m.value FROM current c JOIN generation_meta m ON m.generation = c.generation "
                "WHERE m.key = ?",
                (db.CALIBRATION_KEY,),
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def get_chunks(self, ids: Iterable[str]) -> list[Chunk]:
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Chunk] = {}
        with self._pool.connection() as conn:
            for start in range(0, len(wanted), _IN_BATCH):
                batch = wanted[start : start + _IN_BATCH]
                rows = conn.execute(
                    f"{db.CHUNK_SELECT} WHERE generation = (SELECT generation FROM current) "
                    f"AND id IN ({', '.join('?' * len(batch))})",
                    batch,
                )
                found.update((row[0], db.chunk_from_row(row)) for row in rows)
        return [found[i] for i in wanted if i in found]

    def get_vectors(self, ids: Sequence[str]) -> np.ndarray:
        """Normalised vectors in the order asked; KeyError names unknown ids."""
        snapshot = self._current()
        return snapshot.vectors.matrix[snapshot.indices(list(ids))]

    def get_report(self, report_id: str) -> Report | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                f"{db.REPORT_SELECT}, current c WHERE r.generation = c.generation AND r.id = ?",
                (report_id,),
            ).fetchone()
        return None if row is None else db.report_from_row(row)

    def indicators(self, filters: Filters) -> list[ReportIndicator]:
        with self._pool.connection() as conn:
            conn.execute("BEGIN")  # one read transaction: pointer and rows of one generation
            try:
                (generation,) = conn.execute("SELECT generation FROM current").fetchone()
                rows = conn.execute(
                    "SELECT id, meta, indicators FROM reports WHERE generation = ? AND indicators != '[]'",
                    (generation,),
                ).fetchall()
            finally:
                conn.execute("COMMIT")
        if generation is None:
            raise IndexEmptyError(f"{self.path}: no index generation has been published yet")
        reports = (
            (report_id, ReportMeta(**json.loads(meta)), indicators_from(json.loads(indicators)))
            for report_id, meta, indicators in rows
        )
        return select_indicators(reports, filters)

    def facets(self, filters: Filters, chunk_ids: Sequence[str] | None = None) -> dict[str, dict[str, int]]:
        """Counts of non-empty values; with ``chunk_ids``, over those chunks that also match ``filters``."""
        return self._current().facets(filters, chunk_ids)

    def stats(self) -> IndexStats:
        with self._pool.connection() as conn:
            conn.execute("BEGIN")  # one read transaction: the counts belong to one generation
            row = conn.execute(
                f"SELECT c.generation, c.version, g.embedder_id, g.dim, g.published_at {_JOIN_CURRENT}"
            ).fetchone()
            generation, version, embedder, dim, published = row or (None, 0, None, None, None)
            count = "SELECT count(*) FROM {} WHERE generation = ?"
            reports = conn.execute(count.format("reports"), (generation,)).fetchone()[0]
            chunks = conn.execute(count.format("chunks"), (generation,)).fetchone()[0]
            vectors = conn.execute(count.format("vectors"), (generation,)).fetchone()[0]
            fill = fill_state(conn, generation) if generation else None
            conn.execute("COMMIT")
        size = sum(f.stat().st_size for f in self.path.glob(f"{db.DB_FILE}*") if f.is_file())
        mapped = _size_of(self.path / SNAPSHOT_DIR)
        return IndexStats(
            store=self.name,
            reports=reports,
            chunks=chunks,
            embedder_id=embedder,
            dim=dim,
            generation=generation,
            published_at=published,
            size_bytes=size,
            extra={"path": str(self.path), "version": str(version), "snapshot_files_bytes": str(mapped)},
            vectors=vectors,
            vector_eta_seconds=None if fill is None else fill.eta_seconds(chunks - vectors),
        )

    def version(self) -> str | None:
        generation, version, epoch = self._pointer()  # new vectors change what vector search returns
        return None if generation is None else f"{generation}:{version}:{epoch}"

    def drop(self) -> None:
        with self._pool.connection() as conn:
            db.clear(conn)
        self._snapshot = None
        shutil.rmtree(self.path / SNAPSHOT_DIR, ignore_errors=True)

    def embedder_id(self) -> str | None:
        with self._pool.connection() as conn:
            row = conn.execute(f"SELECT g.embedder_id {_JOIN_CURRENT}").fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        self._pool.close()
        self._snapshot = None


def _release_dropped() -> None:
    """Free a replaced snapshot (and the arrays of one built from SQLite) now, not at some later collection:
    its filter caches refer back to it, so only the cycle collector can; then hand the freed heap back to
    the OS (glibc keeps it otherwise), so a reload leaves the process as small as a fresh start."""
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc: the memory returns to the process's allocator only
        return None


_LIBC = _libc()


def _size_of(directory: Path) -> int:
    """Bytes of the files under ``directory``; a writer may remove old snapshots while this walks them."""
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                continue
    return total

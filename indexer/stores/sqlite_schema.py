"""The embedded store's SQLite layout and the conversions between its rows and the model objects.

Every content row carries the generation it belongs to, so a new generation is written beside the
published one and becomes visible by flipping the single ``current`` row.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import numpy as np

from indexer.models import Chunk, Report, ReportMeta, Section
from indexer.stores.base import IndexedChunk, StoreError
from indexer.stores.indicator_rows import indicator_dicts, indicators_from

SCHEMA_VERSION = 2
DB_FILE = "index.sqlite"
BUSY_TIMEOUT_MS = 60_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    id TEXT PRIMARY KEY,
    embedder_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    published_at TEXT,
    writer_pid INTEGER
);
CREATE TABLE IF NOT EXISTS current (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 0),
    generation TEXT,
    version INTEGER NOT NULL
);
INSERT OR IGNORE INTO current (singleton, generation, version) VALUES (0, NULL, 0);
CREATE TABLE IF NOT EXISTS reports (
    generation TEXT NOT NULL,
    id TEXT NOT NULL,
    source TEXT NOT NULL,
    text TEXT NOT NULL,
    meta TEXT NOT NULL,
    sections TEXT NOT NULL,
    encoding TEXT NOT NULL,
    indicators TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (generation, id)
);
CREATE INDEX IF NOT EXISTS reports_source ON reports (generation, source);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    generation TEXT NOT NULL,
    id TEXT NOT NULL,
    report_id TEXT NOT NULL,
    section_index INTEGER NOT NULL,
    breadcrumb TEXT NOT NULL,
    category TEXT NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    meta TEXT NOT NULL,
    folded TEXT NOT NULL,
    tokens TEXT NOT NULL,
    year INTEGER,
    province TEXT NOT NULL,
    county TEXT NOT NULL,
    township TEXT NOT NULL,
    UNIQUE (generation, id)
);
CREATE INDEX IF NOT EXISTS chunks_report ON chunks (generation, report_id);
CREATE TABLE IF NOT EXISTS vectors (
    chunk_rowid INTEGER PRIMARY KEY,
    generation TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS vectors_generation ON vectors (generation);
"""

# Per-generation facts beside the embedder id (the semantic calibration); added without a schema bump, so
# indexes written before it simply have no rows here.
_META_SCHEMA = """
CREATE TABLE IF NOT EXISTS generation_meta (
    generation TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (generation, key)
);
"""
CALIBRATION_KEY = "calibration"
# Vectors computed after a generation was published (indexer.vector_backfill). ``epoch`` counts the batches
# added, so readers notice new vectors without reloading the generation; every chunk with rowid <= ``upto``
# has its vector; ``rate`` (passages/s) and ``updated_at`` give the time left.
_FILL_SCHEMA = """
CREATE TABLE IF NOT EXISTS vector_fill (
    generation TEXT PRIMARY KEY,
    epoch INTEGER NOT NULL,
    upto INTEGER NOT NULL,
    rate REAL,
    updated_at TEXT
);
"""

CHUNK_COLUMNS = (
    'generation, id, report_id, section_index, breadcrumb, category, text, start, "end", meta, folded, '
    "tokens, year, province, county, township"
)
CHUNK_INSERT = f"INSERT INTO chunks ({CHUNK_COLUMNS}) VALUES ({', '.join('?' * 16)})"
REPORT_INSERT = (
    "INSERT OR REPLACE INTO reports (generation, id, source, text, meta, sections, encoding, indicators) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
REPORT_SELECT = "SELECT r.id, r.source, r.text, r.meta, r.sections, r.encoding, r.indicators FROM reports r"
# Schema 1 indexes gain the column; their reports have no indicators until the next reindex.
_MIGRATIONS = {1: "ALTER TABLE reports ADD COLUMN indicators TEXT NOT NULL DEFAULT '[]'"}
VECTOR_INSERT = "INSERT INTO vectors (chunk_rowid, generation, vector) VALUES (?, ?, ?)"
CHUNK_SELECT = (
    'SELECT id, report_id, section_index, breadcrumb, category, text, start, "end", meta FROM chunks'
)


def connect(directory: Path) -> sqlite3.Connection:
    """Open (creating if needed) the store database in WAL mode; autocommit, explicit transactions."""
    directory.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        directory / DB_FILE, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA journal_size_limit = 67108864")  # truncate the WAL after big writes
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, *_MIGRATIONS, SCHEMA_VERSION):
        conn.close()
        raise StoreError(f"{directory / DB_FILE}: index schema {version}, this code reads {SCHEMA_VERSION}")
    if version == 0:  # IF NOT EXISTS everywhere: two processes may both get here on a new directory
        conn.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
    elif version in _MIGRATIONS:
        _migrate(conn)
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'generation_meta'").fetchone() is None:
        conn.executescript(f"BEGIN IMMEDIATE; {_META_SCHEMA} COMMIT;")
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'vector_fill'").fetchone():
        conn.executescript(f"BEGIN IMMEDIATE; {_FILL_SCHEMA} COMMIT;")  # added to schema 1 later
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring an older index to ``SCHEMA_VERSION``; the version is read again under the write lock because
    another process may have migrated it meanwhile."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        while version in _MIGRATIONS:
            conn.execute(_MIGRATIONS[version])
            version += 1
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def delete_generation_rows(conn: sqlite3.Connection, generation: str) -> None:
    """Delete a generation's content rows and its generations row (inside the caller's transaction)."""
    conn.execute("DELETE FROM vectors WHERE generation = ?", (generation,))
    conn.execute("DELETE FROM chunks WHERE generation = ?", (generation,))
    conn.execute("DELETE FROM reports WHERE generation = ?", (generation,))
    conn.execute("DELETE FROM generation_meta WHERE generation = ?", (generation,))
    conn.execute("DELETE FROM vector_fill WHERE generation = ?", (generation,))
    conn.execute("DELETE FROM generations WHERE id = ?", (generation,))


def clear(conn: sqlite3.Connection) -> None:
    """Delete every generation, published or not; the embedding cache (its own table) stays."""
    conn.execute("BEGIN IMMEDIATE")
    for table in ("vectors", "vector_fill", "chunks", "reports", "generation_meta", "generations"):
        conn.execute(f"DELETE FROM {table}")
    conn.execute("UPDATE current SET generation = NULL, version = version + 1")
    conn.execute("COMMIT")


def report_row(generation: str, report: Report) -> tuple:
    sections = json.dumps([asdict(s) for s in report.sections], ensure_ascii=False)
    meta = json.dumps(asdict(report.meta), ensure_ascii=False)
    indicators = json.dumps(indicator_dicts(report.indicators), ensure_ascii=False)
    return (generation, report.id, report.source, report.text, meta, sections, report.encoding, indicators)


def report_from_row(row: tuple) -> Report:
    report_id, source, text, meta, sections, encoding, indicators = row
    return Report(
        id=report_id,
        source=source,
        text=text,
        meta=ReportMeta(**json.loads(meta)),
        sections=tuple(Section(**s) for s in json.loads(sections)),
        encoding=encoding,
        indicators=indicators_from(json.loads(indicators)),
    )


def chunk_row(generation: str, item: IndexedChunk) -> tuple:
    chunk = item.chunk
    meta = chunk.meta
    return (
        generation,
        chunk.id,
        chunk.report_id,
        chunk.section_index,
        json.dumps(list(chunk.breadcrumb), ensure_ascii=False),
        chunk.category,
        chunk.text,
        chunk.start,
        chunk.end,
        json.dumps(asdict(meta), ensure_ascii=False),
        item.folded,
        " ".join(item.tokens),
        meta.year,
        meta.province,
        meta.county,
        meta.township,
    )


@lru_cache(maxsize=4096)
def _report_meta(meta: str) -> ReportMeta:
    """Every chunk of a report carries the same meta: decoded once (``ReportMeta`` is immutable)."""
    return ReportMeta(**json.loads(meta))


def chunk_from_row(row: tuple) -> Chunk:
    chunk_id, report_id, section_index, breadcrumb, category, text, start, end, meta = row
    return Chunk(
        id=chunk_id,
        report_id=report_id,
        section_index=section_index,
        breadcrumb=tuple(json.loads(breadcrumb)),
        category=category,
        text=text,
        start=start,
        end=end,
        meta=_report_meta(meta),
    )


def vector_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


class ConnectionPool:
    """Connections lent to one thread at a time: SQLite connections must not be used concurrently, and
    a pool (unlike one connection per thread) does not grow with every short-lived server thread."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = connect(self.directory)
        try:
            yield conn
        finally:
            if conn.in_transaction:  # an exception inside a transaction: do not lend it out half-done
                conn.rollback()
            with self._lock:
                self._idle.append(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

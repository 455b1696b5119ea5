"""The Elasticsearch store: the ``Store`` protocol over the official client.

Each reindex loads new versioned indices (chunks and reports) and then moves both aliases to them in one
``update_aliases`` call, so readers switch generations atomically. Replacing or removing one report in the
published generation pauses the indices' scheduled refresh, writes the new version beside the old one (new
document ids), deletes the old one and refreshes once: readers see either version whole, never both or
neither. Request bodies come from ``es_bodies``; requests, retries and errors go through ``es_cluster``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
from elasticsearch import BadRequestError, Elasticsearch

from indexer.models import Chunk, Report
from indexer.stores import es_bodies as bodies
from indexer.stores.base import (
    FACET_FIELDS,
    NO_FILTERS,
    EmbedderMismatchError,
    Filters,
    IndexedChunk,
    IndexEmptyError,
    IndexStats,
    ReportIndicator,
    ScoredId,
    StoreError,
)
from indexer.stores.es_cluster import RETRY_SECONDS, BulkWriteError, Cluster
from indexer.stores.es_credentials import split_credentials
from indexer.stores.indicator_rows import select_indicators

__all__ = ["BulkWriteError", "ElasticsearchStore", "split_credentials"]

log = logging.getLogger(__name__)

DEFAULT_URL = "http://localhost:9200"
PAGE = 1000  # documents per page when listing ids, and chunk ids per lookup
_ALIAS_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,180}$")
_STAMP_RE = r"\d{20}"


def _vector_problem(vector: np.ndarray) -> str | None:
    values = np.asarray(vector, dtype=np.float64).ravel()
    if not np.isfinite(values).all():
        return "vector has NaN or infinite values"
    if not values.any():
        return "vector is all zeros (cosine similarity is undefined)"
    return None


def _check_dims(chunks: Sequence[IndexedChunk], dim: int, embedder: str) -> None:
    for item in chunks:
        if np.asarray(item.vector).shape != (dim,):
            raise EmbedderMismatchError(
                f"chunk {item.chunk.id} has a vector of shape {np.asarray(item.vector).shape}, but the index "
                f"was built by {embedder} with {dim} dimensions"
            )


def _split_valid(chunks: Sequence[IndexedChunk]) -> tuple[list[IndexedChunk], list[tuple[str, str]]]:
    """Chunks Elasticsearch can take, and the reasons the others cannot be sent at all."""
    good: list[IndexedChunk] = []
    failures: list[tuple[str, str]] = []
    for item in chunks:
        problem = _vector_problem(item.vector)
        if problem:
            failures.append((item.chunk.id, problem))
        else:
            good.append(item)
    return good, failures


def _now() -> datetime:
    return datetime.now(UTC)


class ElasticsearchStore:
    """Chunks behind alias ``index``, reports behind ``index.reports``; see ``docs/elasticsearch.md``."""

    name = "elasticsearch"

    def __init__(
        self,
        url: str | None = None,
        index: str = "fazhi-reports",
        api_key: str | None = None,
        password: str | None = None,
        username: str = "elastic",
        verify_certs: bool = True,
        ca_certs: str | None = None,
        request_timeout: float = 30,
        replicas: int | None = None,
        retry_seconds: float | None = None,
    ) -> None:
        if not _ALIAS_RE.match(index):
            raise ValueError(
                f"bad Elasticsearch index name {index!r}: use lower-case letters, digits, '-', '_' or '.'"
            )
        self.url, url_user, url_password = split_credentials(
            url or os.environ.get("ELASTICSEARCH_URL") or DEFAULT_URL
        )
        self.alias = index
        self.reports_alias = bodies.reports_alias(index)
        key = api_key or os.environ.get("ELASTIC_API_KEY")
        secret = password or url_password or os.environ.get("ELASTIC_PASSWORD")
        if retry_seconds is None:
            retry_seconds = float(os.environ.get("ELASTICSEARCH_RETRY_SECONDS", RETRY_SECONDS))
        self.cluster = Cluster(
            self.url,
            api_key=key,
            basic=(url_user or username, secret) if secret and not key else None,
            verify_certs=verify_certs,
            ca_certs=ca_certs or os.environ.get("ELASTICSEARCH_CA_CERTS") or None,
            request_timeout=request_timeout,
            retry_seconds=retry_seconds,
            index_hint=index,
        )
        self.replicas = (
            replicas if replicas is not None else int(os.environ.get("ELASTICSEARCH_REPLICAS", "0"))
        )
        # Results that only change with the published content, kept for one version() key.
        self._cache_key: str | None = None
        self._cache: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"ElasticsearchStore(url={self.url!r}, index={self.alias!r}, auth={self.cluster.auth})"

    # -- the published generation -----------------------------------------------------------------------

    def _current(self) -> tuple[str, dict[str, Any]] | None:
        """(concrete chunk index, its ``_meta``) behind the alias, in one request; None before a publish."""
        try:
            mappings = self.cluster.call(
                "look up the published index", lambda es: es.indices.get_mapping(index=self.alias).body
            )
        except IndexEmptyError:
            return None
        if len(mappings) != 1:
            raise StoreError(
                f"alias '{self.alias}' points at several indices ({', '.join(sorted(mappings))})"
            )
        ((index, body),) = mappings.items()
        return index, dict(body.get("mappings", {}).get("_meta", {}))

    def _live(self) -> tuple[str, str, dict[str, Any]]:
        """(chunk index, report index, chunk ``_meta``) of the published generation."""
        current = self._current()
        if current is None:
            raise self.cluster.not_published()
        index, meta = current
        return index, bodies.reports_index_of(index, self.alias), meta

    @staticmethod
    def _version_of(index: str, meta: Mapping[str, Any]) -> str:
        return f"{index}:{int(meta.get('content_version', 0))}"

    def version(self) -> str | None:
        current = self._current()
        return None if current is None else self._version_of(*current)

    def _cached(self, key: str, name: str, compute: Any) -> Any:
        if key != self._cache_key:
            self._cache_key, self._cache = key, {}
        if name not in self._cache:
            self._cache[name] = compute()
        return self._cache[name]

    def _bump_version(self, chunk_index: str) -> None:
        """Count a change to the published generation in its ``_meta`` (``version()`` reads it)."""
        _, meta = self._current() or (chunk_index, {})
        meta["content_version"] = int(meta.get("content_version", 0)) + 1
        self.cluster.call(
            "record the index version", lambda es: es.indices.put_mapping(index=chunk_index, meta=meta)
        )

    def _search(self, doing: str, index: str, body: Mapping[str, Any]) -> Any:
        return self.cluster.call(doing, lambda es: es.search(index=index, **body))

    def _ids(
        self, index: str, query: Mapping[str, Any], sort: Sequence[str], fields: Sequence[str] = ()
    ) -> Iterator[dict[str, Any]]:
        """Every matching document as ``{"_id", "fields"}``, paged in a total order (``search_after``)."""
        after: list[Any] | None = None
        while True:
            page = self._search("list documents", index, bodies.page_body(query, sort, after, PAGE, fields))
            hits = page["hits"]["hits"]
            yield from hits
            if len(hits) < PAGE:
                return
            after = hits[-1]["sort"]

    # -- writing -------------------------------------------------------------------------------------------

    def new_generation(self, embedder_id: str, dim: int) -> _ElasticsearchWriter:
        return _ElasticsearchWriter(
            self.cluster, self.alias, self.reports_alias, embedder_id, dim, self.replicas
        )

    @contextmanager
    def _one_refresh(self, indices: str) -> Iterator[None]:
        """Pause scheduled refreshes on ``indices``, then restore the default and refresh once: readers
        switch from the state before the block to the state after it in one step."""
        self.cluster.call(
            "pause refreshes",
            lambda es: es.indices.put_settings(index=indices, settings=bodies.paused_refresh()),
        )
        try:
            # Make every earlier write visible first, so the old version is found and deleted whole.
            self.cluster.call("refresh the index", lambda es: es.indices.refresh(index=indices))
            yield
        except BaseException:
            try:
                self._resume_refresh(indices)
            except StoreError as exc:  # never hide the error that stopped the change
                log.warning("could not restore refreshes on %s: %s", indices, exc)
            raise
        self._resume_refresh(indices)

    def _resume_refresh(self, indices: str) -> None:
        self.cluster.call(
            "restore refreshes",
            lambda es: es.indices.put_settings(index=indices, settings=bodies.default_refresh()),
        )
        self.cluster.call("refresh the index", lambda es: es.indices.refresh(index=indices))

    def replace_report(
        self, report: Report, chunks: Sequence[IndexedChunk], embedder_id: str | None = None
    ) -> None:
        """Add or replace a report (same id or same source); ``embedder_id``, if given, must match.

        On any failure the published version stays as it was: the new documents are deleted again before
        the refresh that would have shown them.
        """
        chunk_index, report_index, meta = self._live()
        if embedder_id is not None and embedder_id != meta.get("embedder_id"):
            raise EmbedderMismatchError(f"index built with {meta.get('embedder_id')}, not {embedder_id}")
        _check_dims(chunks, int(meta.get("dim", 0)), str(meta.get("embedder_id")))
        good, failures = _split_valid(chunks)
        if failures:  # nothing is sent, so the published version stays as it was
            raise BulkWriteError(failures)
        stamp = bodies.generation_stamp(_now())
        new_chunks = list(bodies.bulk_actions(chunk_index, good, report.source, stamp))
        with self._one_refresh(f"{chunk_index},{report_index}"):
            previous = self._search(
                "find the report's previous versions",
                report_index,
                {"query": bodies.versions_query(report.id, report.source), "size": 100, "_source": False},
            )
            old_reports = {hit["_id"] for hit in previous["hits"]["hits"]} | {report.id}
            old_chunks = [
                hit["_id"]
                for hit in self._ids(
                    chunk_index, bodies.report_chunks_query(sorted(old_reports)), ("chunk_id", "stamp")
                )
            ]
            failures = self.cluster.bulk(new_chunks) or self.cluster.bulk(
                [bodies.report_action(report_index, report)]
            )
            if failures:
                self.cluster.bulk(bodies.delete_actions(chunk_index, [a["_id"] for a in new_chunks]))
                raise BulkWriteError(failures)
            failures = self.cluster.bulk(
                bodies.delete_actions(chunk_index, old_chunks)
                + bodies.delete_actions(report_index, sorted(old_reports - {report.id}))
            )
            if failures:
                raise BulkWriteError(failures)
        self._bump_version(chunk_index)

    def remove_report(self, report_id: str) -> None:
        """Remove a report from the published generation; unknown ids (or no index) are ignored."""
        try:
            chunk_index, report_index, _ = self._live()
        except IndexEmptyError:
            return
        with self._one_refresh(f"{chunk_index},{report_index}"):
            old_chunks = [
                hit["_id"]
                for hit in self._ids(
                    chunk_index, bodies.report_chunks_query([report_id]), ("chunk_id", "stamp")
                )
            ]
            known = self.get_report(report_id) is not None
            if not old_chunks and not known:
                return
            failures = self.cluster.bulk(
                bodies.delete_actions(chunk_index, old_chunks)
                + bodies.delete_actions(report_index, [report_id])
            )
            if failures:
                raise BulkWriteError(failures)
        self._bump_version(chunk_index)

    def report_sources(self) -> dict[str, str]:
        _, report_index, _ = self._live()
        return {
            hit["_id"]: (hit["fields"].get("source") or [""])[0]
            for hit in self._ids(report_index, {"match_all": {}}, ("report_id",), ("source",))
        }

    def indicators(self, filters: Filters) -> list[ReportIndicator]:
        _, report_index, _ = self._live()
        reports, after = [], None
        while True:  # paged in report-id order, each page with the indicator fields of its reports
            body = {
                **bodies.page_body({"match_all": {}}, ("report_id",), after, PAGE),
                **bodies.indicators_query(),
            }
            hits = self._search("list the indicators", report_index, body)["hits"]["hits"]
            reports += [bodies.report_indicators_from_source(hit.get("_source") or {}) for hit in hits]
            if len(hits) < PAGE:
                return select_indicators(reports, filters)
            after = hits[-1]["sort"]

    def drop(self) -> None:
        """Delete both aliases and every generation of this store, including ones left by crashed loads."""
        pattern = re.compile(rf"^{re.escape(self.alias)}(?:{re.escape(bodies.REPORTS_SUFFIX)})?-{_STAMP_RE}$")
        found = self.cluster.call(
            "list the store's indices",
            lambda es: es.indices.get(
                index=f"{self.alias}-*,{self.reports_alias}-*",
                expand_wildcards="all",
                ignore_unavailable=True,
            ),
        )
        names = [name for name in found.body if pattern.match(name)]
        if names:
            self.cluster.call(
                "delete the index",
                lambda es: es.indices.delete(index=",".join(names), ignore_unavailable=True),
            )
        self._cache_key, self._cache = None, {}

    # -- reading -------------------------------------------------------------------------------------------

    def lexical(self, tokens: Sequence[str], filters: Filters, k: int) -> list[ScoredId]:
        if k <= 0 or not bodies.token_clauses(tokens):
            return []
        response = self._search("run a keyword search", self.alias, bodies.lexical_body(tokens, filters, k))
        return [
            ScoredId(bodies.hit_chunk_id(hit), float(hit["_score"]) / bodies.LEGACY_BM25_FACTOR)
            for hit in response["hits"]["hits"]
        ]

    def vector(self, vector: np.ndarray, filters: Filters, k: int) -> list[ScoredId]:
        if k <= 0:
            return []
        try:
            response = self._search("run a vector search", self.alias, bodies.knn_body(vector, filters, k))
        except StoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, BadRequestError) and re.search(r"dimension|dims", str(cause)):
                raise EmbedderMismatchError(
                    f"a query vector of {np.asarray(vector).size} dimensions does not fit the index "
                    f"'{self.alias}' (built by {self.embedder_id()})"
                ) from cause
            raise
        # Elasticsearch scores cosine as (1 + cos) / 2; hand back the cosine itself, like the embedded store.
        return [
            ScoredId(bodies.hit_chunk_id(hit), 2.0 * float(hit["_score"]) - 1.0)
            for hit in response["hits"]["hits"]
        ]

    def _chunk_hits(self, ids: Sequence[str], body: Any, doing: str) -> dict[str, dict[str, Any]]:
        """chunk id -> hit, for the distinct ``ids`` in pages."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), PAGE):
            response = self._search(doing, self.alias, body(ids[start : start + PAGE]))
            for hit in response["hits"]["hits"]:
                chunk_id = hit["_source"]["chunk_id"] if "_source" in hit else bodies.hit_chunk_id(hit)
                found.setdefault(chunk_id, hit)
        return found

    def count(self, filters: Filters) -> int:
        body = bodies.count_body(filters)
        response = self.cluster.call(
            "count matching passages", lambda es: es.count(index=self.alias, query=body["query"])
        )
        return int(response["count"])

    def passing(self, chunk_ids: Sequence[str], filters: Filters) -> set[str]:
        ids = list(dict.fromkeys(chunk_ids))
        if not ids:
            return set()
        response = self._search(
            "check passages against the query", self.alias, bodies.passing_body(ids, filters)
        )
        return {bodies.hit_chunk_id(hit) for hit in response["hits"]["hits"]}

    def calibration(self) -> dict[str, Any] | None:
        current = self._current()
        found = None if current is None else current[1].get(bodies.CALIBRATION_META)
        return dict(found) if isinstance(found, Mapping) else None

    def get_chunks(self, ids: Iterable[str]) -> list[Chunk]:
        ids = list(dict.fromkeys(ids))  # each chunk once, in the order first asked
        if not ids:
            return []
        hits = self._chunk_hits(ids, bodies.chunks_body, "fetch chunks")
        return [bodies.chunk_from_source(i, hits[i]["_source"]) for i in ids if i in hits]

    def get_vectors(self, ids: Sequence[str]) -> np.ndarray:
        """Vectors in the order asked; an unknown id is a ``KeyError`` (rows must line up with ``ids``)."""
        if not ids:
            _, _, meta = self._live()
            return np.zeros((0, int(meta.get("dim", 0))), dtype=np.float32)
        hits = self._chunk_hits(list(dict.fromkeys(ids)), bodies.vectors_body, "fetch vectors")
        missing = [i for i in ids if i not in hits]
        if missing:
            raise KeyError(f"unknown chunk ids: {', '.join(missing[:10])}")
        return np.asarray([bodies.hit_vector(hits[i]) for i in ids], dtype=np.float32)

    def get_report(self, report_id: str) -> Report | None:
        # realtime=False: a lookup sees the same refreshed state as a search, never a half-done replacement.
        found = self.cluster.call(
            "fetch a report",
            lambda es: es.mget(index=self.reports_alias, ids=[report_id], realtime=False),
        )
        for doc in found["docs"]:
            if doc.get("found"):
                return bodies.report_from_source(doc["_source"])
            if doc.get("error"):
                error = doc["error"]
                if isinstance(error, Mapping) and error.get("type") == "index_not_found_exception":
                    raise self.cluster.not_published()
                raise StoreError(f"{self.cluster.where} could not fetch a report: {error}")
        return None

    def _facets(self, filters: Filters, chunk_ids: Sequence[str] | None) -> dict[str, dict[str, int]]:
        response = self._search("count facets", self.alias, bodies.facets_body(filters, chunk_ids))
        return bodies.parse_facets(response)

    def facets(self, filters: Filters, chunk_ids: Sequence[str] | None = None) -> dict[str, dict[str, int]]:
        if chunk_ids is not None and not chunk_ids:
            return {field: {} for field in FACET_FIELDS}
        if filters == NO_FILTERS and chunk_ids is None:  # the page's place and year lists: once per version
            key = self.version()
            if key is None:
                raise self.cluster.not_published()
            return self._cached(key, "facets", lambda: self._facets(filters, None))
        return self._facets(filters, chunk_ids)

    def stats(self) -> IndexStats:
        current = self._current()
        if current is None:
            return IndexStats(
                self.name, 0, 0, None, None, None, None, extra={"url": self.url, "alias": self.alias}
            )
        chunk_index, meta = current
        report_index = bodies.reports_index_of(chunk_index, self.alias)

        def sizes() -> tuple[int, int, int | None]:
            chunks = self.cluster.call("count chunks", lambda es: es.count(index=chunk_index))["count"]
            reports = self.cluster.call("count reports", lambda es: es.count(index=report_index))["count"]
            store = self.cluster.call(
                "read index statistics",
                lambda es: es.indices.stats(index=f"{chunk_index},{report_index}", metric="store"),
            )
            size = store["_all"]["primaries"].get("store", {}).get("size_in_bytes")
            return int(chunks), int(reports), int(size) if size is not None else None

        chunks, reports, size = self._cached(self._version_of(chunk_index, meta), "sizes", sizes)
        return IndexStats(
            store=self.name,
            reports=reports,
            chunks=chunks,
            embedder_id=meta.get("embedder_id"),
            dim=meta.get("dim"),
            generation=chunk_index,
            published_at=meta.get("published_at"),
            size_bytes=size,
            extra={"url": self.url, "alias": self.alias, "reports_index": report_index},
        )

    def embedder_id(self) -> str | None:
        """From the same single metadata request as ``version()``."""
        current = self._current()
        return None if current is None else current[1].get("embedder_id")

    def close(self) -> None:
        self.cluster.close()


class _ElasticsearchWriter:
    """One new generation: loads into fresh versioned indices, publishes by alias swap, or deletes them."""

    def __init__(
        self, cluster: Cluster, alias: str, reports_alias: str, embedder_id: str, dim: int, replicas: int
    ) -> None:
        self._cluster = cluster
        self._alias = alias
        self._reports_alias = reports_alias
        self._dim = dim
        self._embedder_id = embedder_id
        self._replicas = replicas
        created = _now()
        self._stamp = bodies.generation_stamp(created)
        body = bodies.index_body(dim, embedder_id, created_at=created.isoformat())
        self._meta = dict(body["mappings"]["_meta"])
        self.chunk_index, self.report_index = bodies.versioned_names(alias, self._stamp)
        self._pending: list[dict[str, Any]] = []
        self.failures: list[tuple[str, str]] = []
        self._state = "open"
        self._created: list[str] = []
        try:
            cluster.call("create a new index", lambda es: es.indices.create(index=self.chunk_index, **body))
            self._created.append(self.chunk_index)
            cluster.call(
                "create a new index",
                lambda es: es.indices.create(index=self.report_index, **bodies.reports_index_body()),
            )
            self._created.append(self.report_index)
        except StoreError:
            self.abort()
            raise

    def set_calibration(self, calibration: Mapping[str, Any]) -> None:
        """Kept in the chunk index's ``_meta`` beside the embedder id (written when publishing)."""
        self._meta[bodies.CALIBRATION_META] = dict(calibration)

    def add(self, report: Report, chunks: Sequence[IndexedChunk]) -> None:
        if self._state != "open":
            raise StoreError(f"generation {self.chunk_index} is already {self._state}")
        _check_dims(chunks, self._dim, self._embedder_id)
        good, failures = _split_valid(chunks)
        self.failures.extend(failures)
        self._pending.append(bodies.report_action(self.report_index, report))
        self._pending.extend(bodies.bulk_actions(self.chunk_index, good, report.source, self._stamp))
        if len(self._pending) >= PAGE // 2:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.failures.extend(self._cluster.bulk(self._pending))
            self._pending = []

    def _alias_targets(self, es: Elasticsearch, alias: str) -> list[str]:
        if not es.indices.exists_alias(name=alias):
            return []
        return sorted(es.indices.get_alias(name=alias).body)

    def _swap_aliases(self) -> list[str]:
        """Serve the new indices (refreshed, default refresh, replicas) and return the previous ones."""
        both = f"{self.chunk_index},{self.report_index}"
        cluster = self._cluster
        cluster.call(
            "publish the new index",
            lambda es: es.indices.put_settings(index=both, settings=bodies.serving_settings(self._replicas)),
        )
        cluster.call("publish the new index", lambda es: es.indices.refresh(index=both))
        meta = {**self._meta, "published_at": _now().isoformat()}
        cluster.call(
            "publish the new index", lambda es: es.indices.put_mapping(index=self.chunk_index, meta=meta)
        )
        old_chunks = cluster.call(
            "look up the published index", lambda es: self._alias_targets(es, self._alias)
        )
        old_reports = cluster.call(
            "look up the published index", lambda es: self._alias_targets(es, self._reports_alias)
        )
        actions = bodies.alias_actions(self._alias, old_chunks, self.chunk_index) + bodies.alias_actions(
            self._reports_alias, old_reports, self.report_index
        )
        cluster.call("publish the new index", lambda es: es.indices.update_aliases(actions=actions))
        log.info("published %s under alias %s", self.chunk_index, self._alias)
        return [n for n in old_chunks + old_reports if n not in (self.chunk_index, self.report_index)]

    def publish(self) -> None:
        """Make the generation live; any rejected document aborts it and leaves the old one serving."""
        if self._state != "open":
            raise StoreError(f"generation {self.chunk_index} is already {self._state}")
        try:
            self._flush()
            if self.failures:
                raise BulkWriteError(self.failures)
            previous = self._swap_aliases()
        except BaseException:
            self.abort()
            raise
        self._state = "published"
        try:
            self._delete(previous)
        except StoreError as exc:  # the new generation is live; stale indices only cost disk
            log.warning("could not delete the previous generation: %s", exc)

    def _delete(self, names: Sequence[str]) -> None:
        if names:
            self._cluster.call(
                "delete old indices",
                lambda es: es.indices.delete(index=",".join(names), ignore_unavailable=True),
            )

    def abort(self) -> None:
        if self._state != "open":
            return
        self._state = "aborted"
        self._pending = []
        try:
            self._delete(self._created)
        except StoreError as exc:  # never hide the error that made us abort
            log.warning("could not delete the unpublished generation %s: %s", self.chunk_index, exc)

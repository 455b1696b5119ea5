"""The Elasticsearch store: the ``Store`` protocol over the official client.

Each reindex loads new versioned indices (chunks and reports) and then moves both aliases to them in one
``update_aliases`` call, so readers switch generations atomically. Request bodies come from ``es_bodies``;
this module only talks to the cluster and turns its failures into ``StoreError``s that name the URL (never
the credentials).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import numpy as np
from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    BadRequestError,
    ConnectionError,
    ConnectionTimeout,
    Elasticsearch,
    NotFoundError,
    TransportError,
    UnsupportedProductError,
    helpers,
)

from indexer.models import Chunk, Report
from indexer.stores import es_bodies as bodies
from indexer.stores.base import (
    FACET_FIELDS,
    EmbedderMismatchError,
    Filters,
    IndexedChunk,
    IndexEmptyError,
    IndexStats,
    ScoredId,
    StoreError,
)

__all__ = ["BulkWriteError", "ElasticsearchStore", "split_credentials"]

log = logging.getLogger(__name__)

DEFAULT_URL = "http://localhost:9200"
BULK_BATCH = 500  # documents per bulk request (≈ 2 MB with 384-dim vectors)
BULK_ATTEMPTS = 4  # whole-request attempts on 5xx / connection errors; 429s are retried per document
MGET_BATCH = 1000
_ALIAS_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,180}$")
_STAMP_RE = r"\d{20}"


class BulkWriteError(StoreError):
    """Some documents were rejected; ``failures`` lists every ``(document id, reason)``."""

    def __init__(self, failures: Sequence[tuple[str, str]]) -> None:
        self.failures = tuple(failures)
        shown = "; ".join(f"{doc_id}: {reason}" for doc_id, reason in self.failures[:10])
        more = f" (and {len(self.failures) - 10} more)" if len(self.failures) > 10 else ""
        super().__init__(f"{len(self.failures)} document(s) were not indexed: {shown}{more}")


class _Secret:
    """A credential that never shows up in ``repr`` or logs."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "'***'"


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without userinfo, user, password)``; only the first part may ever be shown."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Elasticsearch URL must look like http(s)://host:port")
    host = parts.netloc.rpartition("@")[2]
    clean = urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return clean, user, password


def _error_type(exc: ApiError) -> str:
    body = exc.body
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        return str(body["error"].get("type", ""))
    return ""


def _describe(exc: ApiError) -> str:
    body = exc.body
    reason = str(exc.message)
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        error = body["error"]
        root = (error.get("root_cause") or [error])[0]
        reason = f"{root.get('type', '')}: {root.get('reason', '')}"
        caused = error.get("caused_by") or {}
        if caused.get("reason") and caused.get("reason") != root.get("reason"):
            reason += f" ({caused['reason']})"
    return f"HTTP {exc.meta.status} {reason}"


def _root_reason(exc: BaseException) -> str:
    """The innermost cause of a transport error, e.g. ``[Errno 111] Connection refused``."""
    while getattr(exc, "errors", ()):
        exc = exc.errors[0]  # type: ignore[attr-defined]
    text = str(getattr(exc, "message", exc))
    return text.rpartition("Failed to establish a new connection: ")[2] or type(exc).__name__


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, ConnectionError | ConnectionTimeout):
        return True
    return isinstance(exc, ApiError) and (exc.meta.status >= 500 or exc.meta.status == 429)


def _bulk_failure(item: Mapping[str, Any]) -> tuple[str, str]:
    info = next(iter(item.values()), {})
    error = info.get("error")
    if isinstance(error, Mapping):
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        caused = error.get("caused_by") or {}
        if caused.get("reason"):
            reason += f" ({caused['reason']})"
    else:
        reason = str(error or f"status {info.get('status')}")
    return str(info.get("_id", "?")), reason


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
        self._api_key = _Secret(key) if key else None
        self._basic = (url_user or username, _Secret(secret)) if secret and not key else None
        self._verify_certs = verify_certs
        self._ca_certs = ca_certs or os.environ.get("ELASTICSEARCH_CA_CERTS") or None
        self._timeout = request_timeout
        self.replicas = (
            replicas if replicas is not None else int(os.environ.get("ELASTICSEARCH_REPLICAS", "0"))
        )
        self._client: Elasticsearch | None = None

    def __repr__(self) -> str:
        auth = "api_key" if self._api_key else "basic" if self._basic else "none"
        return f"ElasticsearchStore(url={self.url!r}, index={self.alias!r}, auth={auth})"

    # -- plumbing ------------------------------------------------------------------------------------------

    def _es(self) -> Elasticsearch:
        if self._client is None:
            options: dict[str, Any] = {
                "request_timeout": self._timeout,
                "max_retries": 3,
                "retry_on_timeout": True,
                "retry_on_status": (502, 503, 504),
            }
            if self.url.startswith("https:"):  # the client refuses TLS options on http URLs
                options["verify_certs"] = self._verify_certs
                if self._ca_certs:
                    options["ca_certs"] = self._ca_certs
            if self._api_key:
                options["api_key"] = self._api_key.value
            elif self._basic:
                options["basic_auth"] = (self._basic[0], self._basic[1].value)
            self._client = Elasticsearch(self.url, **options)
        return self._client

    def _scrub(self, text: str) -> str:
        for secret in (self._api_key, self._basic[1] if self._basic else None):
            if secret and len(secret.value) >= 4:  # scrubbing a 1-char secret would garble the text
                text = text.replace(secret.value, "***")
        return text

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn client exceptions into ``StoreError``s that say what failed, where, and why."""
        where = f"Elasticsearch at {self.url}"
        try:
            yield
        except (ConnectionError, ConnectionTimeout) as exc:
            raise StoreError(f"{where} is unreachable: {self._scrub(_root_reason(exc))}") from exc
        except AuthenticationException as exc:
            raise StoreError(
                f"{where} rejected the credentials (HTTP 401) while trying to {doing}: "
                "check ELASTIC_PASSWORD or ELASTIC_API_KEY"
            ) from exc
        except AuthorizationException as exc:
            raise StoreError(f"{where} does not allow this user to {doing} (HTTP 403)") from exc
        except NotFoundError as exc:
            if _error_type(exc) == "index_not_found_exception":
                raise IndexEmptyError(
                    f"nothing is published under '{self.alias}' at {self.url}: "
                    "run `python -m indexer reindex PATH --store elasticsearch`"
                ) from exc
            raise StoreError(f"{where} could not {doing}: {self._scrub(_describe(exc))}") from exc
        except UnsupportedProductError as exc:
            raise StoreError(f"{self.url} does not answer like Elasticsearch") from exc
        except ApiError as exc:
            raise StoreError(f"{where} could not {doing}: {self._scrub(_describe(exc))}") from exc
        except TransportError as exc:
            raise StoreError(f"{where} could not {doing}: {self._scrub(str(exc))}") from exc

    def _alias_targets(self, alias: str) -> list[str]:
        try:
            return sorted(self._es().indices.get_alias(name=alias).body)
        except NotFoundError:
            return []

    def _live(self) -> tuple[str, str]:
        """The concrete (chunk, report) indices currently published."""
        with self._errors("look up the published index"):
            chunks, reports = self._alias_targets(self.alias), self._alias_targets(self.reports_alias)
        if not chunks or not reports:
            raise IndexEmptyError(
                f"nothing is published under '{self.alias}' at {self.url}: "
                "run `python -m indexer reindex PATH --store elasticsearch`"
            )
        if len(chunks) != 1 or len(reports) != 1:
            raise StoreError(
                f"alias '{self.alias}' points at several indices ({', '.join(chunks + reports)})"
            )
        return chunks[0], reports[0]

    def _meta(self, index: str) -> dict[str, Any]:
        with self._errors("read the index metadata"):
            mappings = self._es().indices.get_mapping(index=index).body
        return dict(next(iter(mappings.values()))["mappings"].get("_meta", {}))

    def _bulk(self, actions: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Index ``actions``; returns per-document failures. Whole-request failures are retried with backoff
        (re-sending is safe: every action has a fixed ``_id``)."""
        for attempt in range(1, BULK_ATTEMPTS + 1):
            failures: list[tuple[str, str]] = []
            try:
                for ok, item in helpers.streaming_bulk(
                    self._es(),
                    actions,
                    chunk_size=BULK_BATCH,
                    max_retries=5,
                    initial_backoff=1,
                    max_backoff=30,
                    raise_on_error=False,
                    yield_ok=False,
                ):
                    if not ok:
                        failures.append(_bulk_failure(item))
                return failures
            except (ApiError, TransportError) as exc:
                if attempt == BULK_ATTEMPTS or not _retryable(exc):
                    with self._errors("index documents"):
                        raise
                delay = min(30.0, 2.0**attempt)
                log.warning("bulk request to %s failed (%s); retrying in %.0f s", self.url, exc, delay)
                time.sleep(delay)
        return []  # unreachable: the last attempt returns or raises

    def _mget(self, index: str, ids: Sequence[str], **source: Any) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(ids))
        with self._errors("fetch documents"):
            for start in range(0, len(unique), MGET_BATCH):
                response = self._es().mget(index=index, ids=unique[start : start + MGET_BATCH], **source)
                for doc in response["docs"]:
                    if doc.get("found"):
                        found[doc["_id"]] = doc.get("_source") or {}
        return found

    def _delete_indices(self, names: Iterable[str]) -> None:
        names = list(names)
        if names:
            with self._errors("delete old indices"):
                self._es().indices.delete(index=",".join(names), ignore_unavailable=True)

    # -- writing -------------------------------------------------------------------------------------------

    def new_generation(self, embedder_id: str, dim: int) -> _ElasticsearchWriter:
        return _ElasticsearchWriter(self, embedder_id, dim)

    def _publish(self, chunk_index: str, report_index: str, meta: dict[str, Any]) -> None:
        es = self._es()
        both = f"{chunk_index},{report_index}"
        with self._errors("publish the new index"):
            es.indices.put_settings(index=both, settings=bodies.serving_settings(self.replicas))
            es.indices.refresh(index=both)
            es.indices.put_mapping(index=chunk_index, meta={**meta, "published_at": _now().isoformat()})
            old_chunks = self._alias_targets(self.alias)
            old_reports = self._alias_targets(self.reports_alias)
            es.indices.update_aliases(
                actions=bodies.alias_actions(self.alias, old_chunks, chunk_index)
                + bodies.alias_actions(self.reports_alias, old_reports, report_index)
            )
        log.info("published %s under alias %s", chunk_index, self.alias)
        try:
            self._delete_indices(n for n in old_chunks + old_reports if n not in (chunk_index, report_index))
        except StoreError as exc:  # the new generation is live; stale indices only cost disk
            log.warning("could not delete the previous generation: %s", exc)

    def replace_report(
        self, report: Report, chunks: Sequence[IndexedChunk], embedder_id: str | None = None
    ) -> None:
        """Add or replace a report (same id or same source); ``embedder_id``, if given, must match."""
        chunk_index, report_index = self._live()
        meta = self._meta(chunk_index)
        if embedder_id is not None and embedder_id != meta.get("embedder_id"):
            raise EmbedderMismatchError(f"index built with {meta.get('embedder_id')}, not {embedder_id}")
        _check_dims(chunks, int(meta.get("dim", 0)), str(meta.get("embedder_id")))
        es = self._es()
        with self._errors("find the report's previous versions"):
            previous = es.search(
                index=report_index,
                query=bodies.versions_query(report.id, report.source),
                size=100,
                source=False,
            )
        old_ids = {hit["_id"] for hit in previous["hits"]["hits"]} | {report.id}
        good, failures = _split_valid(chunks)
        if failures:  # nothing is sent, so the published version stays as it was
            raise BulkWriteError(failures)
        actions = [bodies.report_action(report_index, report)]
        actions += bodies.bulk_actions(chunk_index, good, report.source)
        failures = self._bulk(actions)
        with self._errors("replace a report"):
            if failures:  # keep nothing of a half-written version
                self._delete_report_docs(chunk_index, report_index, [report.id])
                raise BulkWriteError(failures)
            # New chunks overwrite same-id ones first, so readers never see the report missing.
            es.delete_by_query(
                index=chunk_index,
                query=bodies.stale_chunks_query(sorted(old_ids), [c.chunk.id for c in good]),
                conflicts="proceed",
                refresh=True,
            )
            stale = sorted(old_ids - {report.id})
            if stale:
                es.delete_by_query(
                    index=report_index, query={"ids": {"values": stale}}, conflicts="proceed", refresh=True
                )
            es.indices.refresh(index=f"{chunk_index},{report_index}")
        self._bump_version(chunk_index)

    def _delete_report_docs(self, chunk_index: str, report_index: str, report_ids: list[str]) -> None:
        es = self._es()
        es.delete_by_query(
            index=chunk_index, query={"terms": {"report_id": report_ids}}, conflicts="proceed", refresh=True
        )
        es.delete_by_query(
            index=report_index, query={"ids": {"values": report_ids}}, conflicts="proceed", refresh=True
        )

    def remove_report(self, report_id: str) -> None:
        """Remove a report from the published generation; unknown ids (or no index) are ignored."""
        try:
            chunk_index, report_index = self._live()
        except IndexEmptyError:
            return
        with self._errors("remove a report"):
            self._delete_report_docs(chunk_index, report_index, [report_id])
        self._bump_version(chunk_index)

    def report_sources(self) -> dict[str, str]:
        _, report_index = self._live()
        with self._errors("list the indexed reports"):
            return {
                hit["_id"]: (hit.get("_source") or {}).get("source") or ""
                for hit in helpers.scan(
                    self._es(), index=report_index, query={"_source": ["source"]}, size=MGET_BATCH
                )
            }

    def drop(self) -> None:
        """Delete both aliases and every generation of this store, including ones left by crashed loads."""
        pattern = re.compile(rf"^{re.escape(self.alias)}(?:{re.escape(bodies.REPORTS_SUFFIX)})?-{_STAMP_RE}$")
        with self._errors("delete the index"):
            found = self._es().indices.get(
                index=f"{self.alias}-*,{self.reports_alias}-*",
                expand_wildcards="all",
                ignore_unavailable=True,
            )
        self._delete_indices(name for name in found.body if pattern.match(name))

    # -- reading -------------------------------------------------------------------------------------------

    def lexical(self, tokens: Sequence[str], filters: Filters, k: int) -> list[ScoredId]:
        if k <= 0 or not bodies.token_clauses(tokens):
            return []
        with self._errors("run a keyword search"):
            response = self._es().search(index=self.alias, body=bodies.lexical_body(tokens, filters, k))
        return [ScoredId(hit["_id"], float(hit["_score"])) for hit in response["hits"]["hits"]]

    def vector(self, vector: np.ndarray, filters: Filters, k: int) -> list[ScoredId]:
        if k <= 0:
            return []
        try:
            with self._errors("run a vector search"):
                response = self._es().search(index=self.alias, body=bodies.knn_body(vector, filters, k))
        except StoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, BadRequestError) and re.search(r"dimension|dims", str(cause)):
                raise EmbedderMismatchError(
                    f"a query vector of {np.asarray(vector).size} dimensions does not fit the index "
                    f"'{self.alias}' (built by {self.embedder_id()})"
                ) from cause
            raise
        # Elasticsearch scores cosine as (1 + cos) / 2; hand back the cosine itself, like the embedded store.
        return [ScoredId(hit["_id"], 2.0 * float(hit["_score"]) - 1.0) for hit in response["hits"]["hits"]]

    def count(self, filters: Filters) -> int:
        with self._errors("count matching passages"):
            response = self._es().count(index=self.alias, body=bodies.count_body(filters))
        return int(response["count"])

    def passing(self, chunk_ids: Sequence[str], filters: Filters) -> set[str]:
        ids = list(dict.fromkeys(chunk_ids))
        if not ids:
            return set()
        with self._errors("check passages against the query"):
            response = self._es().search(index=self.alias, body=bodies.passing_body(ids, filters))
        return {hit["_id"] for hit in response["hits"]["hits"]}

    def calibration(self) -> dict[str, Any] | None:
        try:
            found = self._meta(self.alias).get(bodies.CALIBRATION_META)
        except IndexEmptyError:
            return None
        return dict(found) if isinstance(found, Mapping) else None

    def get_chunks(self, ids: Iterable[str]) -> list[Chunk]:
        ids = list(dict.fromkeys(ids))  # each chunk once, in the order first asked
        if not ids:
            return []
        docs = self._mget(self.alias, ids, source_excludes=list(bodies.SEARCH_ONLY_FIELDS))
        return [bodies.chunk_from_source(i, docs[i]) for i in ids if i in docs]

    def get_vectors(self, ids: Sequence[str]) -> np.ndarray:
        """Vectors in the order asked; an unknown id is a ``KeyError`` (rows must line up with ``ids``)."""
        if not ids:
            return np.zeros((0, int(self._meta(self.alias).get("dim", 0))), dtype=np.float32)
        docs = self._mget(self.alias, ids, source_includes=["vector"])
        missing = [i for i in ids if i not in docs]
        if missing:
            raise KeyError(f"unknown chunk ids: {', '.join(missing[:10])}")
        return np.asarray([docs[i]["vector"] for i in ids], dtype=np.float32)

    def get_report(self, report_id: str) -> Report | None:
        docs = self._mget(self.reports_alias, [report_id])
        return bodies.report_from_source(docs[report_id]) if report_id in docs else None

    def facets(self, filters: Filters, chunk_ids: Sequence[str] | None = None) -> dict[str, dict[str, int]]:
        if chunk_ids is not None and not chunk_ids:
            return {field: {} for field in FACET_FIELDS}
        with self._errors("count facets"):
            response = self._es().search(index=self.alias, body=bodies.facets_body(filters, chunk_ids))
        return bodies.parse_facets(response)

    def stats(self) -> IndexStats:
        try:
            chunk_index, report_index = self._live()
        except IndexEmptyError:
            return IndexStats(
                self.name, 0, 0, None, None, None, None, extra={"url": self.url, "alias": self.alias}
            )
        meta = self._meta(chunk_index)
        es = self._es()
        with self._errors("read index statistics"):
            chunks = es.count(index=chunk_index)["count"]
            reports = es.count(index=report_index)["count"]
            store = es.indices.stats(index=f"{chunk_index},{report_index}", metric="store")
        size = store["_all"]["primaries"].get("store", {}).get("size_in_bytes")
        return IndexStats(
            store=self.name,
            reports=int(reports),
            chunks=int(chunks),
            embedder_id=meta.get("embedder_id"),
            dim=meta.get("dim"),
            generation=chunk_index,
            published_at=meta.get("published_at"),
            size_bytes=int(size) if size is not None else None,
            extra={"url": self.url, "alias": self.alias, "reports_index": report_index},
        )

    def version(self) -> str | None:
        try:
            chunk_index, _ = self._live()
        except IndexEmptyError:
            return None
        return f"{chunk_index}:{self._meta(chunk_index).get('content_version', 0)}"

    def _bump_version(self, chunk_index: str) -> None:
        """Count a change to the published generation in its ``_meta`` (``version()`` reads it)."""
        meta = self._meta(chunk_index)
        meta["content_version"] = int(meta.get("content_version", 0)) + 1
        with self._errors("record the index version"):
            self._es().indices.put_mapping(index=chunk_index, meta=meta)

    def embedder_id(self) -> str | None:
        try:
            return self._meta(self.alias).get("embedder_id")
        except IndexEmptyError:
            return None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _now() -> datetime:
    return datetime.now(UTC)


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


class _ElasticsearchWriter:
    """One new generation: loads into fresh versioned indices, publishes by alias swap, or deletes them."""

    def __init__(self, store: ElasticsearchStore, embedder_id: str, dim: int) -> None:
        self._store = store
        self._dim = dim
        self._embedder_id = embedder_id
        created = _now()
        body = bodies.index_body(dim, embedder_id, created_at=created.isoformat())
        self._meta = dict(body["mappings"]["_meta"])
        self.chunk_index, self.report_index = bodies.versioned_names(
            store.alias, bodies.generation_stamp(created)
        )
        self._pending: list[dict[str, Any]] = []
        self.failures: list[tuple[str, str]] = []
        self._state = "open"
        self._created: list[str] = []
        es = store._es()
        try:
            with store._errors("create a new index"):
                es.indices.create(index=self.chunk_index, **body)
                self._created.append(self.chunk_index)
                es.indices.create(index=self.report_index, **bodies.reports_index_body())
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
        self._pending.extend(bodies.bulk_actions(self.chunk_index, good, report.source))
        if len(self._pending) >= BULK_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.failures.extend(self._store._bulk(self._pending))
            self._pending = []

    def publish(self) -> None:
        """Make the generation live; any rejected document aborts it and leaves the old one serving."""
        if self._state != "open":
            raise StoreError(f"generation {self.chunk_index} is already {self._state}")
        try:
            self._flush()
            if self.failures:
                raise BulkWriteError(self.failures)
            self._store._publish(self.chunk_index, self.report_index, self._meta)
        except BaseException:
            self.abort()
            raise
        self._state = "published"

    def abort(self) -> None:
        if self._state != "open":
            return
        self._state = "aborted"
        self._pending = []
        try:
            self._store._delete_indices(self._created)
        except StoreError as exc:  # never hide the error that made us abort
            log.warning("could not delete the unpublished generation %s: %s", self.chunk_index, exc)

"""One connection to an Elasticsearch cluster: credentials, the single retry layer, and errors that say what
failed and where (the URL, never the credentials).

Every request goes through ``Cluster.call``. It is the only place that retries: the client itself is built
with ``max_retries=0`` and bulk loads send plain ``_bulk`` requests, so a dead cluster costs at most
``retry_seconds`` before a ``StoreError`` names it, instead of nested retries multiplying into minutes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    ConnectionError,
    ConnectionTimeout,
    Elasticsearch,
    NotFoundError,
    TransportError,
    UnsupportedProductError,
)

from indexer.stores.base import IndexEmptyError, StoreError
from indexer.stores.es_credentials import scrub

log = logging.getLogger(__name__)

T = TypeVar("T")
BULK_BATCH = 500  # documents per bulk request (≈ 2 MB with 384-dim vectors)
RETRY_SECONDS = 15.0  # total time one request may spend on retries (connection errors, 429, 502-504)
FIRST_PAUSE = 0.5  # seconds before the first retry; doubled each time, capped at MAX_PAUSE
MAX_PAUSE = 8.0
RETRY_STATUSES = frozenset({429, 502, 503, 504})


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


def error_type(exc: ApiError) -> str:
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


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | ConnectionTimeout):
        return True
    return isinstance(exc, ApiError) and exc.meta.status in RETRY_STATUSES


def bulk_failure(item: Mapping[str, Any]) -> tuple[str, str]:
    """``(document id, reason)`` of one failed ``_bulk`` response item."""
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


def bulk_lines(actions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``_bulk`` body lines of actions shaped ``{"_op_type", "_index", "_id", "_source"?}``."""
    lines: list[dict[str, Any]] = []
    for action in actions:
        op = action.get("_op_type", "index")
        lines.append({op: {"_index": action["_index"], "_id": action["_id"]}})
        if op != "delete":
            lines.append(action["_source"])
    return lines


class Cluster:
    """The client and its credentials; ``call`` runs one request with retries and error translation."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        basic: tuple[str, str] | None = None,
        verify_certs: bool = True,
        ca_certs: str | None = None,
        request_timeout: float = 30,
        retry_seconds: float = RETRY_SECONDS,
        index_hint: str = "",
    ) -> None:
        self.url = url
        self.where = f"Elasticsearch at {url}"
        self.retry_seconds = retry_seconds
        self._api_key = _Secret(api_key) if api_key else None
        self._basic = (basic[0], _Secret(basic[1])) if basic else None
        self._verify_certs = verify_certs
        self._ca_certs = ca_certs
        self._timeout = request_timeout
        self._index_hint = index_hint  # the alias named in "nothing is published" errors
        self._client: Elasticsearch | None = None

    @property
    def auth(self) -> str:
        return "api_key" if self._api_key else "basic" if self._basic else "none"

    @property
    def client(self) -> Elasticsearch:
        if self._client is None:
            options: dict[str, Any] = {"request_timeout": self._timeout, "max_retries": 0}
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

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def scrub(self, text: str) -> str:
        secrets = [s.value for s in (self._api_key, self._basic[1] if self._basic else None) if s]
        return scrub(text, secrets, self._basic[0] if self._basic else None)

    def not_published(self) -> IndexEmptyError:
        return IndexEmptyError(
            f"nothing is published under '{self._index_hint}' at {self.url}: "
            "run `python -m indexer reindex PATH --store elasticsearch`"
        )

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Turn client exceptions into ``StoreError``s that say what failed, where, and why."""
        try:
            yield
        except (ConnectionError, ConnectionTimeout) as exc:
            raise StoreError(f"{self.where} is unreachable: {self.scrub(_root_reason(exc))}") from exc
        except AuthenticationException as exc:
            raise StoreError(
                f"{self.where} rejected the credentials (HTTP 401) while trying to {doing}: "
                "check ELASTIC_PASSWORD or ELASTIC_API_KEY"
            ) from exc
        except AuthorizationException as exc:
            raise StoreError(f"{self.where} does not allow this user to {doing} (HTTP 403)") from exc
        except NotFoundError as exc:
            if error_type(exc) == "index_not_found_exception":
                raise self.not_published() from exc
            raise StoreError(f"{self.where} could not {doing}: {self.scrub(_describe(exc))}") from exc
        except UnsupportedProductError as exc:
            raise StoreError(f"{self.url} does not answer like Elasticsearch") from exc
        except ApiError as exc:
            raise StoreError(f"{self.where} could not {doing}: {self.scrub(_describe(exc))}") from exc
        except TransportError as exc:
            raise StoreError(f"{self.where} could not {doing}: {self.scrub(str(exc))}") from exc

    def call(self, doing: str, request: Callable[[Elasticsearch], T]) -> T:
        """``request(client)``, retried on connection errors, 429 and 502-504 with doubling pauses for at
        most ``retry_seconds`` in all; any failure becomes a ``StoreError`` saying what was being done."""
        deadline = time.monotonic() + self.retry_seconds
        pause = FIRST_PAUSE
        with self.errors(doing):
            while True:
                try:
                    return request(self.client)
                except (ApiError, TransportError) as exc:
                    if not retryable(exc) or time.monotonic() + pause > deadline:
                        raise
                    log.warning("%s: %s failed (%s); retrying in %.1f s", self.where, doing, exc, pause)
                    time.sleep(pause)
                    pause = min(MAX_PAUSE, pause * 2)

    def bulk(
        self, actions: Sequence[Mapping[str, Any]], doing: str = "index documents"
    ) -> list[tuple[str, str]]:
        """Send ``actions`` in batches; returns per-document failures. Documents refused with 429 (the
        cluster is busy) are sent again within the same time budget as any request."""
        failures: list[tuple[str, str]] = []
        for start in range(0, len(actions), BULK_BATCH):
            pending = list(actions[start : start + BULK_BATCH])
            deadline = time.monotonic() + self.retry_seconds
            pause = FIRST_PAUSE
            while pending:
                lines = bulk_lines(pending)
                response = self.call(doing, lambda es, lines=lines: es.bulk(operations=lines))
                busy = []
                for action, item in zip(pending, response["items"], strict=True):
                    status = next(iter(item.values())).get("status", 200)
                    if status == 429:
                        busy.append(action)
                    elif status >= 300 and not (status == 404 and "delete" in item):
                        failures.append(bulk_failure(item))
                if busy and time.monotonic() + pause > deadline:
                    failures.extend(
                        (str(a["_id"]), "rejected: the cluster stayed busy (HTTP 429)") for a in busy
                    )
                    busy = []
                if busy:
                    time.sleep(pause)
                    pause = min(MAX_PAUSE, pause * 2)
                pending = busy
        return failures

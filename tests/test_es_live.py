"""What only a live Elasticsearch can show about this store (the shared behaviour is in the contract suite):
readers never see half a report replacement, a failed replacement leaves the published version whole,
refreshes are back to the default after every change, and phrases match exact substrings only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from store_contract import DIM, EMBEDDER, ZJ_HAINING, build_report, corpus, publish

from indexer.analysis import fold, tokenize
from indexer.models import OTHER, RESULTS
from indexer.stores.base import NO_FILTERS, Filters, StoreError
from indexer.stores.elasticsearch_store import ElasticsearchStore
from indexer.stores.es_cluster import Cluster

pytestmark = pytest.mark.integration


@pytest.fixture
def store(elasticsearch_url: str) -> Iterator[ElasticsearchStore]:
    opened = ElasticsearchStore(url=elasticsearch_url, index=f"fazhi-live-{uuid.uuid4().hex[:12]}")
    try:
        yield opened
    finally:
        opened.drop()
        opened.close()


def _reader_view(reader: ElasticsearchStore, report_id: str) -> tuple[Any, ...]:
    """Everything a reader sees of one report: its text, its chunks' texts, its hits and its facet count."""
    report = reader.get_report(report_id)
    hits = {h.chunk_id for h in reader.lexical(tokenize("法治 数字化 推进 建设"), NO_FILTERS, 100)}
    mine = sorted(h for h in hits if h.startswith(f"{report_id}:"))
    chunks = tuple(c.text for c in reader.get_chunks(mine))
    per_report = reader.facets(Filters(report_ids=(report_id,)))["category"]
    return (report.text if report else None, tuple(mine), chunks, tuple(sorted(per_report.items())))


def test_readers_see_the_old_report_until_the_new_one_is_whole(
    store: ElasticsearchStore, elasticsearch_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(store)
    reader = ElasticsearchStore(url=elasticsearch_url, index=store.alias)  # another process, in effect
    before = _reader_view(reader, "r1")
    seen: list[tuple[Any, ...]] = []
    real_bulk = Cluster.bulk

    def bulk_then_look(self: Cluster, actions: Sequence[Mapping[str, Any]], doing: str = "index documents"):
        failures = real_bulk(self, actions, doing)
        seen.append(_reader_view(reader, "r1"))  # between the writes of one replacement
        return failures

    monkeypatch.setattr(Cluster, "bulk", bulk_then_look)
    new, chunks = build_report(
        "r1", ZJ_HAINING, ((RESULTS, "深化数字化改革，推进法治建设。"), (OTHER, "新的段落。")), 21
    )
    store.replace_report(new, chunks)
    monkeypatch.undo()
    after = _reader_view(reader, "r1")
    assert len(seen) >= 3  # new chunks, the report, the deletions: each was followed by a look
    assert all(view == before for view in seen)
    assert after != before and after[0] == new.text
    assert "r1:0:0" in after[1]
    reader.close()


def test_a_failed_replacement_keeps_the_published_version(
    store: ElasticsearchStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(store)
    old_report, _ = corpus()[0]
    before = _reader_view(store, "r1")
    versions = store.version()
    real_bulk = Cluster.bulk
    calls: list[int] = []

    def report_write_fails(
        self: Cluster, actions: Sequence[Mapping[str, Any]], doing: str = "index documents"
    ):
        calls.append(len(actions))
        if len(calls) == 2:  # the report document, written after the new chunks
            return [(str(actions[0]["_id"]), "simulated rejection")]
        return real_bulk(self, actions, doing)

    monkeypatch.setattr(Cluster, "bulk", report_write_fails)
    new, chunks = build_report("r1", ZJ_HAINING, ((RESULTS, "深化数字化改革。"),), 22)
    with pytest.raises(StoreError, match="simulated rejection"):
        store.replace_report(new, chunks)
    monkeypatch.undo()
    assert _reader_view(store, "r1") == before
    assert store.get_report("r1") == old_report
    assert store.version() == versions
    # the new version's chunks were written under new ids and deleted again: only the old ones remain
    assert store.stats().chunks == sum(len(c) for _, c in corpus())


def _refresh_interval(store: ElasticsearchStore) -> list[Any]:
    settings = store.cluster.client.indices.get_settings(index=f"{store.alias},{store.reports_alias}")
    return [body["settings"]["index"].get("refresh_interval") for body in settings.body.values()]


def test_refresh_is_back_to_the_default_after_every_change(store: ElasticsearchStore) -> None:
    publish(store)
    assert _refresh_interval(store) == [None, None]  # not "1s", which would stop search-idle
    new, chunks = build_report("r9", ZJ_HAINING, ((RESULTS, "新增报告。"),), 23)
    store.replace_report(new, chunks)
    assert _refresh_interval(store) == [None, None]
    store.remove_report("r9")
    assert _refresh_interval(store) == [None, None]


TEXTS = (
    "依法行政 制度建设",  # an ASCII space
    "依法行政\t制度",  # a tab
    "依法行政制度化",
    "law-based governance 2021年",
    "普法 lawyer 与 ␠ 标记",
)
PHRASES = (
    "行政 制",
    "行政\t制",
    "行政制",
    "law",
    "aw-b",
    "2021年",
    "202",
    " ",
    "\t",
    "␠",
    "a*b",
    "",
    "政 制度建",
)


def test_phrases_and_exclusions_match_exact_substrings(store: ElasticsearchStore) -> None:
    passages = tuple((OTHER, text) for text in TEXTS)
    report, chunks = build_report("p1", ZJ_HAINING, passages[:2], 31)
    more, more_chunks = build_report("p2", ZJ_HAINING, passages[2:], 32)
    writer = store.new_generation(EMBEDDER, DIM)
    writer.add(report, chunks)
    writer.add(more, more_chunks)
    writer.publish()
    every = [c for c in chunks + more_chunks]
    query = [t for c in every for t in c.tokens]
    for phrase in PHRASES:
        folded = fold(phrase) if phrase.strip() else phrase
        expected_in = {c.chunk.id for c in every if folded in c.folded}
        found_in = {h.chunk_id for h in store.lexical(query, Filters(phrases=(folded,)), 100)}
        assert found_in == expected_in, phrase
        expected_out = {c.chunk.id for c in every if not folded or folded not in c.folded}
        found_out = {h.chunk_id for h in store.lexical(query, Filters(excluded=(folded,)), 100)}
        if folded:
            assert found_out == expected_out, phrase
    assert len({h.chunk_id for h in store.lexical(query, NO_FILTERS, 100)}) == len(every)

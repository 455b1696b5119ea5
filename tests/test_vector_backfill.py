"""Keyword search first, vectors after: partial coverage, readers that see vectors arrive, kill and resume."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SEEDS
from stalling_embedder import StallingEmbedder, text_hash
from test_pipeline import _cli, _wait_for

from indexer.analysis import fold
from indexer.coverage import coverage_line, duration_zh
from indexer.embedders.base import passage_text
from indexer.embedders.cache import EmbeddingCache
from indexer.pipeline import reindex
from indexer.stores.base import NO_FILTERS, IndexStats
from indexer.stores.embedded import EmbeddedStore
from indexer.stores.vector_fill import FillState
from search_app.engine import SearchEngine

QUERY = ["枫桥经验"]


def _passage_hashes(store: EmbeddedStore) -> set[str]:
    """Hashes of the text every chunk of the published generation is embedded as."""
    with sqlite3.connect(store.database_path) as conn:
        current = "SELECT id FROM chunks WHERE generation = (SELECT generation FROM current)"
        ids = [i for (i,) in conn.execute(current)]
    chunks = store.get_chunks(ids)
    assert len(chunks) == len(ids) == store.stats().chunks
    return {text_hash(fold(passage_text(c))) for c in chunks}


def _logged(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def test_a_killed_reindex_resumes_without_recomputing_and_keyword_search_serves_throughout(
    tmp_path: Path,
) -> None:
    index = tmp_path / "index"
    first_log, second_log, marker = tmp_path / "first.log", tmp_path / "second.log", tmp_path / "stalled"
    env = {
        "EMBEDDER": "python:stalling_embedder:StallingEmbedder",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
        "STALLING_EMBEDDER_MARKER": str(marker),
    }
    # 16 chunks per commit; the third model call stalls, so two batches (32 vectors) are stored by then.
    args = ("reindex", str(SEEDS), "--index-dir", str(index), "--quiet", "--vector-batch", "16")
    proc = _cli(
        *args, env_extra={**env, "STALLING_EMBEDDER_LOG": str(first_log), "STALLING_EMBEDDER_STALL_AT": "3"}
    )
    _wait_for(lambda: marker.exists() or proc.poll() is not None, timeout=300)
    assert proc.poll() is None, f"the indexer exited ({proc.returncode}) before computing vectors"

    # Mid-run: the generation is published, keyword search answers, vectors cover exactly what is stored.
    store = EmbeddedStore(index)
    keyword_answer = [h.chunk_id for h in store.lexical(QUERY, NO_FILTERS, 10)]
    assert keyword_answer
    stats = store.stats()
    assert stats.embedder_id == StallingEmbedder.id
    assert stats.vectors == 32 < stats.chunks
    assert len(_logged(first_log)) == 32
    engine = SearchEngine(store, StallingEmbedder())
    hybrid = engine.search("枫桥经验", mode="hybrid")
    assert hybrid.hits and any("语义索引" in n for n in hybrid.notices)
    reached = {h.chunk_id for h in store.vector(StallingEmbedder().embed_query("x"), NO_FILTERS, 1000)}
    assert len(reached) == 32, "vector search reaches only chunks that have a vector"
    assert "语义索引 " in coverage_line(stats) and "%" in coverage_line(stats)
    shown, _ = _cli("stats", "--index-dir", str(index), env_extra=env).communicate(timeout=120)
    assert "vector_coverage: 0." in shown and coverage_line(stats).split(" · ")[0] in shown

    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert [h.chunk_id for h in store.lexical(QUERY, NO_FILTERS, 10)] == keyword_answer
    assert store.stats().vectors == 32
    store.close()

    # Restart: the 32 vectors come from the cache, the model computes only the others.
    proc = _cli(*args, env_extra={**env, "STALLING_EMBEDDER_LOG": str(second_log)})
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "keyword search served the new index after" in out
    store = EmbeddedStore(index)
    stats = store.stats()
    assert stats.vectors == stats.chunks and stats.vector_coverage == 1.0
    first, second = _logged(first_log), _logged(second_log)
    assert not set(first) & set(second), "a text embedded before the kill was embedded again"
    assert set(first) | set(second) == _passage_hashes(store)
    assert [h.chunk_id for h in store.lexical(QUERY, NO_FILTERS, 10)] == keyword_answer
    notices = SearchEngine(store, StallingEmbedder()).search("枫桥经验").notices
    assert not any("语义索引" in n for n in notices)
    store.close()


class _ObservedEmbedder(StallingEmbedder):
    """Runs ``observe`` before each model call: a reader looking at the index while vectors arrive."""

    def __init__(self, observe) -> None:
        super().__init__()
        self.observe = observe

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.observe()
        return super().embed_passages(texts)


def test_readers_see_each_batch_of_vectors_without_reloading_the_generation(tmp_path: Path) -> None:
    index = tmp_path / "index"
    reader = EmbeddedStore(index)
    seen: list[tuple[float, int, list[str]]] = []

    def observe() -> None:
        reader_snapshot = reader._current()
        answer = [h.chunk_id for h in reader.lexical(QUERY, NO_FILTERS, 10)]
        seen.append((reader.vector_coverage(), id(reader_snapshot.bm25), answer))

    writer = EmbeddedStore(index)
    embedder = _ObservedEmbedder(observe)
    summary = reindex([SEEDS], writer, embedder, EmbeddingCache(writer.database_path), vector_batch=10)
    assert summary.ok and summary.searchable_after is not None and summary.embedded == summary.chunks
    assert len(seen) == -(-summary.chunks // 10)
    coverages = [c for c, _, _ in seen]
    assert coverages[0] == 0.0 and coverages == sorted(coverages) and coverages[-1] < 1.0
    assert len({bm25 for _, bm25, _ in seen}) == 1, "new vectors must not reload the generation"
    assert all(answer == seen[0][2] and answer for _, _, answer in seen)

    # The vectors the reader added in place rank exactly as those of a freshly loaded index.
    assert reader.vector_coverage() == 1.0
    fresh = EmbeddedStore(index)
    for query in ("行政执法", "存在的问题", "法律顾问"):
        vector = embedder.embed_query(query)
        assert reader.vector(vector, NO_FILTERS, 20) == fresh.vector(vector, NO_FILTERS, 20)
    for store in (reader, writer, fresh):
        store.close()


def test_a_second_reindex_embeds_nothing_and_publishes_with_every_vector(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "index")
    cache = EmbeddingCache(store.database_path)
    reindex([SEEDS], store, StallingEmbedder(), cache)
    again = reindex([SEEDS], store, StallingEmbedder(), cache)
    assert again.embedded == 0 and again.cache_hits == again.chunks
    assert store.stats().vectors == store.stats().chunks
    store.close()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (20, "不到 1 分钟"),
        (600, "约 10 分钟"),
        (4000, "约 1 小时"),
        (7600, "约 2 小时"),
        (400_000, "约 5 天"),
    ],
)
def test_durations_read_as_rough_chinese(seconds: float, text: str) -> None:
    assert duration_zh(seconds) == text


def _stats(chunks: int, vectors: int, eta: float | None) -> IndexStats:
    return IndexStats("embedded", 1, chunks, "e", 8, "g", None, vectors=vectors, vector_eta_seconds=eta)


def test_the_coverage_line_says_how_far_and_how_long() -> None:
    assert coverage_line(_stats(1000, 370, 7200)) == "语义索引 37 % · 约 2 小时"
    assert coverage_line(_stats(1000, 999, 10)) == "语义索引 99 % · 不到 1 分钟"
    assert coverage_line(_stats(1000, 1000, 0)) == "语义索引 100 %"
    assert "已暂停" in coverage_line(_stats(1000, 370, None))


def test_no_time_left_is_promised_for_a_run_that_stopped() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    state = FillState(epoch=3, upto=10, rate=8.0, updated_at=(now - timedelta(seconds=30)).isoformat())
    assert state.eta_seconds(800, now) == 100.0
    assert state.eta_seconds(0, now) == 0.0
    stopped = FillState(epoch=3, upto=10, rate=8.0, updated_at=(now - timedelta(hours=1)).isoformat())
    assert stopped.eta_seconds(800, now) is None

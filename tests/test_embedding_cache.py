"""The persistent embedding cache and batched, cache-first embedding (``indexer.embedders.batching``)."""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from examples import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.embedders.batching import EmbedStats, embed_texts
from indexer.embedders.cache import EmbeddingCache, text_key

DIM = 8


def _unit(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


class FakeEmbedder:
    """Deterministic vectors from the text hash; records every batch it embeds."""

    id = "fake:hash:8"
    dim = DIM

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return np.stack([_unit(t) for t in texts]) if texts else np.empty((0, DIM), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return _unit(text)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[EmbeddingCache]:
    with EmbeddingCache(tmp_path / "index" / "cache.sqlite") as c:
        yield c


# -- EmbeddingCache ------------------------------------------------------------------------------------------
def test_round_trip_by_position(cache: EmbeddingCache) -> None:
    texts = ["依法行政", "普法宣传", "依法行政"]
    vectors = np.stack([_unit(t) for t in texts])
    assert cache.put_many("m:1", texts[:2], vectors[:2]) == 2
    found = cache.get_many("m:1", ["其他", *texts])
    assert sorted(found) == [1, 2, 3]
    for i, text in enumerate(texts, start=1):
        np.testing.assert_array_equal(found[i], _unit(text))
        assert found[i].dtype == np.float32


def test_entries_are_per_embedder(cache: EmbeddingCache) -> None:
    cache.put_many("m:1", ["文本"], _unit("文本")[None])
    assert cache.get_many("m:2", ["文本"]) == {}
    assert cache.count("m:1") == 1 and cache.count("m:2") == 0
    assert cache.embedder_ids() == ["m:1"]


def test_put_replaces_and_persists(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with EmbeddingCache(path) as first:
        first.put_many("m", ["a"], np.zeros((1, DIM), np.float32))
        first.put_many("m", ["a"], _unit("a")[None])
    with EmbeddingCache(path) as second:
        np.testing.assert_array_equal(second.get_many("m", ["a"])[0], _unit("a"))
        assert second.count() == 1


def test_construction_opens_nothing(tmp_path: Path) -> None:
    EmbeddingCache(tmp_path / "missing" / "cache.sqlite")
    assert not (tmp_path / "missing").exists()


def test_wal_mode_and_shared_database(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    with sqlite3.connect(path) as conn:  # the embedded store's own tables live in the same file
        conn.execute("CREATE TABLE chunks (id TEXT PRIMARY KEY)")
        conn.execute("INSERT INTO chunks VALUES ('r:0:0')")
    with EmbeddingCache(path) as cache:
        cache.put_many("m", ["x"], _unit("x")[None])
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT id FROM chunks").fetchall() == [("r:0:0",)]


@pytest.mark.parametrize("shape", [(2, DIM), (1,), (1, 1, DIM)])
def test_put_rejects_mismatched_vectors(cache: EmbeddingCache, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="vectors"):
        cache.put_many("m", ["only one"], np.zeros(shape, np.float32))


def test_non_finite_vectors_are_not_stored(cache: EmbeddingCache) -> None:
    vectors = np.stack([_unit("ok"), np.full(DIM, np.nan, np.float32)])
    assert cache.put_many("m", ["ok", "nan"], vectors) == 1
    assert list(cache.get_many("m", ["ok", "nan"])) == [0]


def test_damaged_row_is_a_miss(cache: EmbeddingCache) -> None:
    cache.put_many("m", ["x"], _unit("x")[None])
    conn = sqlite3.connect(cache.path)
    with conn:
        conn.execute("UPDATE embedding_cache SET vector = ?", (b"\x00" * 5,))
    conn.close()
    assert cache.get_many("m", ["x"]) == {}


def test_many_keys_are_looked_up_in_batches(cache: EmbeddingCache) -> None:
    texts = [f"段落{i}" for i in range(1_234)]
    cache.put_many("m", texts, np.stack([_unit(t) for t in texts]))
    found = cache.get_many("m", texts)
    assert len(found) == len(texts)
    np.testing.assert_array_equal(found[1_000], _unit("段落1000"))


def test_odd_texts_are_keys_too(cache: EmbeddingCache) -> None:
    texts = ["", "lone \ud800 surrogate", "nul\x00inside"]
    cache.put_many("m", texts, np.stack([_unit(t) for t in texts]))
    assert sorted(cache.get_many("m", texts)) == [0, 1, 2]
    assert len({text_key(t) for t in texts}) == 3


def test_readers_run_while_a_writer_writes(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    seeded = [f"旧{i}" for i in range(50)]
    with EmbeddingCache(path) as cache:
        cache.put_many("m", seeded, np.stack([_unit(t) for t in seeded]))
        errors: list[BaseException] = []

        def write() -> None:
            try:
                for n in range(20):
                    batch = [f"新{n}-{i}" for i in range(50)]
                    cache.put_many("m", batch, np.stack([_unit(t) for t in batch]))
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        def read() -> None:
            try:
                with EmbeddingCache(path) as reader:  # another connection, as another process would hold
                    for _ in range(20):
                        assert len(reader.get_many("m", seeded)) == len(seeded)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(3))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert cache.count("m") == 50 + 20 * 50


# -- embed_texts ---------------------------------------------------------------------------------------------
def test_embeds_in_bounded_batches_with_progress() -> None:
    embedder = FakeEmbedder()
    texts = [f"第{i}段" for i in range(7)]
    calls: list[tuple[int, int]] = []
    vectors, stats = embed_texts(embedder, texts, batch_size=3, progress=lambda d, t: calls.append((d, t)))
    assert [len(b) for b in embedder.batches] == [3, 3, 1]
    assert calls == [(0, 7), (3, 7), (6, 7), (7, 7)]
    assert vectors.dtype == np.float32 and vectors.shape == (7, DIM)
    np.testing.assert_array_equal(vectors[4], _unit("第4段"))
    assert (stats.total, stats.cache_hits, stats.embedded, stats.reused) == (7, 0, 7, 0)


def test_identical_texts_are_embedded_once() -> None:
    embedder = FakeEmbedder()
    vectors, stats = embed_texts(embedder, ["甲", "乙", "甲", "甲"])
    assert embedder.batches == [["甲", "乙"]]
    np.testing.assert_array_equal(vectors[0], vectors[3])
    assert (stats.embedded, stats.reused) == (2, 2)


def test_second_run_is_served_from_cache(cache: EmbeddingCache) -> None:
    embedder = FakeEmbedder()
    first, _ = embed_texts(embedder, ["甲", "乙"], cache=cache)
    calls: list[tuple[int, int]] = []
    second, stats = embed_texts(
        embedder, ["乙", "丙", "甲"], cache=cache, progress=lambda d, t: calls.append((d, t))
    )
    assert embedder.batches == [["甲", "乙"], ["丙"]]
    assert (stats.cache_hits, stats.embedded) == (2, 1)
    assert calls == [(2, 3), (3, 3)]
    np.testing.assert_array_equal(second[0], first[1])
    np.testing.assert_array_equal(second[2], first[0])


def test_every_batch_is_cached_before_the_next(cache: EmbeddingCache) -> None:
    class FailsOnSecondBatch(FakeEmbedder):
        def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
            if self.batches:
                raise RuntimeError("out of memory")
            return super().embed_passages(texts)

    with pytest.raises(RuntimeError, match="out of memory"):
        embed_texts(FailsOnSecondBatch(), ["a", "b", "c"], cache=cache, batch_size=2)
    assert sorted(cache.get_many(FakeEmbedder.id, ["a", "b", "c"])) == [0, 1]


def test_bad_model_output_is_named() -> None:
    class WrongShape(FakeEmbedder):
        def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
            return np.zeros((len(texts), DIM + 1), np.float32)

    with pytest.raises(RuntimeError, match="fake:hash:8"):
        embed_texts(WrongShape(), ["a"])


def test_non_finite_output_becomes_zeros_and_is_not_cached(cache: EmbeddingCache) -> None:
    class NanForEmpty(FakeEmbedder):
        def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
            out = super().embed_passages(texts)
            out[[t == "" for t in texts]] = np.nan
            return out

    vectors, _ = embed_texts(NanForEmpty(), ["", "x"], cache=cache)
    assert not vectors[0].any() and vectors[1].any()
    assert list(cache.get_many(FakeEmbedder.id, ["", "x"])) == [1]


def test_empty_input_and_bad_arguments() -> None:
    vectors, stats = embed_texts(FakeEmbedder(), [])
    assert vectors.shape == (0, DIM) and stats == EmbedStats(0, 0, 0, stats.seconds)
    with pytest.raises(TypeError, match="text 1"):
        embed_texts(FakeEmbedder(), ["ok", None])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="batch_size"):
        embed_texts(FakeEmbedder(), ["ok"], batch_size=0)


@settings(max_examples=examples(60), deadline=None)
@given(
    texts=st.lists(st.sampled_from(["甲", "乙", "丙", "丁", "", "戊己"]), max_size=20),
    cached=st.sets(st.sampled_from(["甲", "丙", "", "庚"])),
    batch_size=st.integers(1, 5),
)
def test_rows_always_match_their_texts(texts: list[str], cached: set[str], batch_size: int) -> None:
    embedder = FakeEmbedder()
    with tempfile.TemporaryDirectory() as tmp, EmbeddingCache(Path(tmp) / "cache.sqlite") as cache:
        warm = sorted(cached)
        cache.put_many(embedder.id, warm, np.array([_unit(t) for t in warm], np.float32).reshape(-1, DIM))
        vectors, stats = embed_texts(embedder, texts, cache=cache, batch_size=batch_size)
    for text, row in zip(texts, vectors, strict=True):
        np.testing.assert_array_equal(row, _unit(text))
    distinct = set(texts)
    assert stats.cache_hits == len(distinct & cached)
    assert stats.embedded == len(distinct - cached) == sum(len(b) for b in embedder.batches)
    assert all(len(b) <= batch_size for b in embedder.batches)

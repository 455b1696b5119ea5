"""What only the embedded store promises: whole generations under concurrency and crashes, cleanup of
abandoned generations, and seeing changes made by other store objects and processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from store_contract import DIM, EMBEDDER, corpus, publish, synthetic_report, unit_vectors

from indexer.stores.base import NO_FILTERS, EmbedderMismatchError, Store, StoreError
from indexer.stores.bm25 import Bm25Index
from indexer.stores.embedded import EmbeddedStore
from indexer.stores.factory import open_store
from indexer.stores.folded_texts import FoldedTexts
from indexer.stores.vector_index import top_k

TESTS = Path(__file__).parent


def publish_synthetic(store: EmbeddedStore, prefix: str, reports: int, per_report: int) -> int:
    writer = store.new_generation(EMBEDDER, DIM)
    for r in range(reports):
        writer.add(*synthetic_report(f"{prefix}{r}", per_report, seed=r))
    writer.publish()
    return reports * per_report


def chunk_rows_by_generation(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT generation, count(*) FROM chunks GROUP BY generation").fetchall())


def test_readers_always_see_a_whole_generation(tmp_path: Path) -> None:
    writer_store, reader_store = EmbeddedStore(tmp_path), EmbeddedStore(tmp_path)
    sizes = {"a": publish_synthetic(writer_store, "a", 3, 40), "b": 2 * 70}
    seen: list[tuple[int, int, set[str]]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                hits = reader_store.lexical(["common"], NO_FILTERS, 1000)
                stats = reader_store.stats()
                seen.append((len(hits), stats.chunks, {h.chunk_id[0] for h in hits}))
        except BaseException as error:  # reported below; a thread cannot fail the test itself
            errors.append(error)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    for round_ in range(6):
        prefix = "ba"[round_ % 2]
        publish_synthetic(writer_store, prefix, 3 if prefix == "a" else 2, 40 if prefix == "a" else 70)
        waited = 0.0
        while (not seen or seen[-1][0] != sizes[prefix]) and waited < 10 and not errors:
            time.sleep(0.01)  # let the readers see this generation before the next publish
            waited += 0.01
    stop.set()
    for thread in readers:
        thread.join()
    assert not errors, errors
    assert {n_hits for n_hits, _, _ in seen} == set(sizes.values())
    for n_hits, n_stats, prefixes in seen:
        assert n_hits in sizes.values() and n_stats in sizes.values()
        assert len(prefixes) == 1 and n_hits == sizes[prefixes.pop()]
    writer_store.close()
    reader_store.close()


def test_reader_notices_changes_by_another_store_object(tmp_path: Path) -> None:
    reader, writer = EmbeddedStore(tmp_path), EmbeddedStore(tmp_path)
    publish_synthetic(writer, "a", 1, 5)
    assert len(reader.lexical(["common"], NO_FILTERS, 100)) == 5
    publish_synthetic(writer, "b", 2, 4)
    assert {h.chunk_id[:2] for h in reader.lexical(["common"], NO_FILTERS, 100)} == {"b0", "b1"}
    writer.remove_report("b1")
    assert len(reader.lexical(["common"], NO_FILTERS, 100)) == 4
    writer.replace_report(*synthetic_report("c0", 3))
    assert len(reader.lexical(["common"], NO_FILTERS, 100)) == 7
    assert reader.facets(NO_FILTERS)["category"] == {"其他": 7}


CRASHING_WRITER = """
import sys
sys.path.insert(0, sys.argv[2])
from store_contract import DIM, EMBEDDER, synthetic_report
from indexer.stores.embedded import EmbeddedStore

writer = EmbeddedStore(sys.argv[1]).new_generation(EMBEDDER, DIM)
print(writer.generation, flush=True)
for r in range(100_000):
    writer.add(*synthetic_report(f"big{r}", 200, seed=r))
    if r == 25:
        print("flushed", flush=True)
"""


def test_killed_writer_leaves_the_published_generation_whole(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    count = publish_synthetic(store, "a", 4, 25)
    before = store.lexical(["common", "t3"], NO_FILTERS, 50)
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_WRITER, str(tmp_path), str(TESTS)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(TESTS)},
    )
    assert child.stdout is not None
    dead_generation = child.stdout.readline().strip()
    assert child.stdout.readline().strip() == "flushed"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    rows = chunk_rows_by_generation(store.database_path)
    assert rows[dead_generation] >= 2000, "the child should have died with rows written"

    for reader in (store, EmbeddedStore(tmp_path)):
        assert reader.stats().chunks == count
        assert reader.lexical(["common", "t3"], NO_FILTERS, 50) == before
        assert len(reader.lexical(["common"], NO_FILTERS, 10_000)) == count

    store.new_generation(EMBEDDER, DIM).abort()  # starting a writer removes the dead one's rows
    assert dead_generation not in chunk_rows_by_generation(store.database_path)
    assert not (tmp_path / "writers" / f"{dead_generation}.lock").exists()
    assert store.stats().chunks == count


def test_live_writer_is_not_cleaned_up_by_another(tmp_path: Path) -> None:
    first, second = EmbeddedStore(tmp_path), EmbeddedStore(tmp_path)
    publish_synthetic(first, "a", 1, 3)
    slow = first.new_generation(EMBEDDER, DIM)
    slow.add(*synthetic_report("s0", 2500))  # over one batch: rows are in the database
    second.new_generation(EMBEDDER, DIM).abort()
    slow.publish()
    assert second.stats().chunks == 2500
    assert list(chunk_rows_by_generation(first.database_path)) == [slow.generation]


def test_publish_removes_older_generations_rows(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    publish_synthetic(store, "a", 2, 10)
    publish_synthetic(store, "b", 1, 10)
    assert list(chunk_rows_by_generation(store.database_path)) == [store.stats().generation]
    with sqlite3.connect(store.database_path) as conn:
        assert conn.execute("SELECT count(*) FROM vectors").fetchone()[0] == 10
        assert conn.execute("SELECT count(*) FROM reports").fetchone()[0] == 1


def test_bad_report_is_refused_and_the_batch_goes_on(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    writer = store.new_generation(EMBEDDER, DIM)
    report, chunks = synthetic_report("x", 3)
    bad_vector = [replace(chunks[0], vector=np.full(DIM, np.nan, np.float32)), *chunks[1:]]
    with pytest.raises(ValueError, match="non-finite"):
        writer.add(report, bad_vector)
    with pytest.raises(ValueError, match="belongs to report"):
        writer.add(replace(report, id="other"), chunks)
    with pytest.raises(ValueError, match="whitespace"):
        writer.add(report, [replace(chunks[0], tokens=("two words",))])
    writer.add(report, chunks)
    writer.add(*synthetic_report("x", 2))  # the same report again: the later one wins
    writer.publish()
    assert store.stats().chunks == 2
    with pytest.raises(StoreError, match="already published"):
        writer.add(report, chunks)


def test_replace_report_checks_the_embedder_id(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    publish(store)
    report, chunks = corpus()[1]
    with pytest.raises(EmbedderMismatchError, match="other:model"):
        store.replace_report(report, chunks, embedder_id="other:model")
    store.replace_report(report, chunks, embedder_id=EMBEDDER)
    assert store.get_report(report.id) == report


def test_get_vectors_names_unknown_ids(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    publish(store)
    with pytest.raises(KeyError, match="nope"):
        store.get_vectors(["r1:0:0", "nope"])


def test_text_filters_on_many_candidates_scan_all_texts(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    writer = store.new_generation(EMBEDDER, DIM)
    writer.add(*synthetic_report("a0", 2500))  # above the one-by-one check limit
    writer.add(*synthetic_report("b0", 3))
    writer.publish()
    hits = store.lexical(["common"], replace(NO_FILTERS, phrases=("第1234段",)), 10)
    assert [h.chunk_id for h in hits] == ["a0:1234:0"]
    query = unit_vectors(1, 3)[0]
    assert len(store.vector(query, replace(NO_FILTERS, excluded=("第1",)), 3000)) == 2503 - 1112
    # nearly everything excluded: the window outgrows the limit and a full scan finds the last three
    for hits in (
        store.vector(query, replace(NO_FILTERS, excluded=("a0",)), 3),
        store.lexical(["common"], replace(NO_FILTERS, excluded=("a0",)), 3),
    ):
        assert sorted(h.chunk_id for h in hits) == ["b0:0:0", "b0:1:0", "b0:2:0"]
    assert store.vector(query, replace(NO_FILTERS, excluded=("common",)), 3) == []


def test_scores_of_repeated_tokens_serve_every_filter_unchanged(tmp_path: Path) -> None:
    """A search scores the same tokens several times (matches, ranking, later pages) with other filters."""
    store = EmbeddedStore(tmp_path)
    writer = store.new_generation(EMBEDDER, DIM)
    writer.add(*synthetic_report("a0", 30))
    writer.add(*synthetic_report("b0", 20))
    writer.publish()
    asked = [
        (["common"], NO_FILTERS, 100),
        (["common"], replace(NO_FILTERS, report_ids=("b0",)), 5),
        (["common"], replace(NO_FILTERS, excluded=("a0",)), 100),
        (["common"], NO_FILTERS, 100),
        (["common", "common"], NO_FILTERS, 7),
    ]
    answers = [store.lexical(*a) for a in asked]
    alone = [EmbeddedStore(tmp_path).lexical(*a) for a in asked]  # a fresh reader for each question
    assert answers == alone
    assert len(answers[0]) == 50 and {h.chunk_id.split(":")[0] for h in answers[1]} == {"b0"}
    assert answers[3] == answers[0] and len(answers[2]) == 20


def test_factory(tmp_path: Path) -> None:
    store = open_store("embedded", path=tmp_path)
    assert isinstance(store, EmbeddedStore) and isinstance(store, Store)
    with pytest.raises(ValueError, match="unknown store kind"):
        open_store("faiss")
    with pytest.raises(TypeError, match="path"):
        open_store("embedded")


def test_construction_touches_nothing(tmp_path: Path) -> None:
    EmbeddedStore(tmp_path / "new")
    assert not (tmp_path / "new").exists()


# -- the in-memory structures ------------------------------------------------------------------------------
def test_bm25_index_matches_the_formula_with_empty_docs_and_repeated_query_terms() -> None:
    rng = np.random.default_rng(5)
    docs = [" ".join(f"w{t}" for t in rng.integers(0, 30, rng.integers(0, 15))) for _ in range(300)]
    index = Bm25Index.build(docs)
    tokenized = [d.split() for d in docs]
    nonempty = [t for t in tokenized if t]
    avgdl = sum(map(len, nonempty)) / len(nonempty)
    for query in (["w1"], ["w1", "w2", "w1"], ["w3", "unknown"], ["unknown"]):
        expected = {}
        for i, tokens in enumerate(tokenized):
            score = 0.0
            for term in query:
                tf, df = tokens.count(term), sum(term in t for t in nonempty)
                if tf:
                    idf = np.log(1 + (len(nonempty) - df + 0.5) / (df + 0.5))
                    score += idf * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * len(tokens) / avgdl))
            if score:
                expected[i] = score
        found, scores = index.scores(query)
        assert found.tolist() == sorted(expected)
        np.testing.assert_allclose(scores, [expected[i] for i in found.tolist()], rtol=1e-5)


def test_top_k_orders_by_score_then_index() -> None:
    scores = np.array([0.5, 0.9, 0.5, 0.1, 0.9], np.float32)
    docs, best = top_k(np.array([10, 11, 12, 13, 14]), scores, 3)
    assert docs.tolist() == [11, 14, 10] and best.tolist() == pytest.approx([0.9, 0.9, 0.5])
    assert top_k(None, scores, 0)[0].tolist() == []
    assert top_k(None, scores, 99)[0].tolist() == [1, 4, 0, 2, 3]


def test_folded_texts_find_substrings_per_document() -> None:
    texts = FoldedTexts(["法治政府", "", "政府法治", "法治"])
    assert texts.mask_containing("法治").tolist() == [True, False, True, True]
    assert texts.mask_containing("府法").tolist() == [False, False, True, False]  # never across documents
    assert texts.mask_containing("政府政府").tolist() == [False] * 4
    assert texts.text(2) == "政府法治" and texts.contains(3, "法治") and not texts.contains(1, "法")


def test_folded_texts_read_from_their_file_as_from_memory(tmp_path: Path) -> None:
    originals = ["法治政府", "", "政府法治 \ud800", "法治", "依法行政，法治"]
    texts = FoldedTexts(originals)
    texts.save(tmp_path / "folded.txt")
    mapped = FoldedTexts.from_file(tmp_path / "folded.txt", texts.ends)
    for t in (texts, mapped):
        assert [t.text(i) for i in range(len(t))] == originals
        assert t.mask_containing("法治").tolist() == [True, False, True, True, True]
        assert t.mask_containing("治政").tolist() == [True, False, False, False, False]
        assert t.mask_containing("\ud800").tolist() == [False, False, True, False, False]
        assert t.contains(4, "行政") and not t.contains(3, "行政")
    (tmp_path / "empty.txt").write_bytes(b"")
    assert len(FoldedTexts.from_file(tmp_path / "empty.txt", FoldedTexts([]).ends)) == 0


def test_schema_one_index_gains_indicators_and_keeps_its_reports(tmp_path: Path) -> None:
    path = tmp_path / "index"
    with EmbeddedStore(path) as store:
        publish(store)
    conn = sqlite3.connect(path / "index.sqlite")  # make it an index written before indicators existed
    conn.execute("ALTER TABLE reports DROP COLUMN indicators")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with EmbeddedStore(path) as store:
        assert store.indicators(NO_FILTERS) == []  # nothing extracted yet: reindex fills them
        report, _ = corpus()[0]
        assert store.get_report(report.id) == replace(report, indicators=())
        publish(store)
        assert {r.report_id for r in store.indicators(NO_FILTERS)} == {"r1", "r3"}
    conn = sqlite3.connect(path / "index.sqlite")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    conn.close()

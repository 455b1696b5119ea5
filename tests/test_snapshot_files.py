"""Snapshot files: a reader that maps them answers exactly as one that loads the generation from SQLite."""

from __future__ import annotations

import gc
import json
import shutil
import weakref
from pathlib import Path

import numpy as np
from conftest import SEEDS
from stalling_embedder import StallingEmbedder

from indexer.embedders.cache import EmbeddingCache
from indexer.pipeline import reindex
from indexer.stores.base import Filters
from indexer.stores.embedded import EmbeddedStore
from indexer.stores.snapshot_files import SNAPSHOT_DIR, load_saved_snapshot
from indexer.stores.snapshot_loader import load_snapshot
from indexer.stores.sqlite_schema import connect

QUERIES = ("行政执法", "存在的问题", "法律顾问", "枫桥经验")
FILTERS = (Filters(), Filters(categories=("存在问题",)), Filters(year_min=2022), Filters(phrases=("法治",)))


def _answers(store: EmbeddedStore) -> list:
    embedder = StallingEmbedder()
    out = []
    for query in QUERIES:
        for filters in FILTERS:
            out.append(store.lexical([query[:2], query[2:]], filters, 10))
            out.append(store.vector(embedder.embed_query(query), filters, 10))
    out.append(store.facets(Filters()))
    return out


def _saved(index: Path) -> list[str]:
    return sorted(p.name for p in (index / SNAPSHOT_DIR).iterdir())


def test_a_mapped_snapshot_answers_as_one_loaded_from_sqlite(tmp_path: Path) -> None:
    index = tmp_path / "index"
    store = EmbeddedStore(index)
    reindex([SEEDS], store, StallingEmbedder(), EmbeddingCache(store.database_path))
    generation = store.stats().generation
    assert len(_saved(index)) == 1 and _saved(index)[0].startswith(generation)
    mapped = EmbeddedStore(index)
    snapshot = mapped._current()
    assert isinstance(snapshot.bm25.docs, np.memmap), "a fresh reader maps the saved arrays"
    with connect(index) as conn:
        built = load_snapshot(conn)
    assert built is not None and built.ids == snapshot.ids
    assert not isinstance(built.bm25.docs, np.memmap)
    # the sign bits and the mean they were taken from travel with the files
    np.testing.assert_array_equal(snapshot.vectors.center, built.vectors.center)
    np.testing.assert_array_equal(snapshot.vectors.bits, built.vectors.bits)
    from_sqlite = EmbeddedStore(index)
    from_sqlite._snapshot = built  # the same (generation, version): served as it is
    assert _answers(mapped) == _answers(from_sqlite)
    for s in (store, mapped, from_sqlite):
        s.close()


def test_a_reader_that_loads_from_sqlite_saves_the_files_and_serves_them_mapped(tmp_path: Path) -> None:
    """After a change no file holds the new version yet: the first reader builds it, saves it, and swaps its
    private arrays for the mapped files, so a reload costs no more memory than a fresh start."""
    index = tmp_path / "index"
    store = EmbeddedStore(index)
    reindex([SEEDS], store, StallingEmbedder(), EmbeddingCache(store.database_path))
    before = _answers(store)
    shutil.rmtree(index / SNAPSHOT_DIR)
    reader = EmbeddedStore(index)
    snapshot = reader._current()
    assert len(_saved(index)) == 1
    assert isinstance(snapshot.bm25.docs, np.memmap) and isinstance(snapshot.vectors.matrix.base, np.memmap)
    assert _answers(reader) == before
    report_id = next(iter(store.report_sources()))
    store.remove_report(report_id)  # a new version: built from SQLite again, then mapped
    assert isinstance(reader._current().bm25.docs, np.memmap)
    assert reader._current().key != snapshot.key and len(_saved(index)) == 1
    assert report_id not in {c.split(":")[0] for c in reader._current().ids}
    assert snapshot.texts.mask_containing("法治").any(), "the replaced snapshot still reads its mapped texts"
    for s in (store, reader):
        s.close()


def test_a_replaced_snapshot_is_freed_as_soon_as_the_new_one_is_in_place(tmp_path: Path) -> None:
    """Its filter caches refer back to it; without an explicit collection it (and a private copy built from
    SQLite) would stay in memory beside the new one until the garbage collector happened to run."""
    index = tmp_path / "index"
    store = EmbeddedStore(index)
    reindex([SEEDS], store, StallingEmbedder(), EmbeddingCache(store.database_path))
    reader = EmbeddedStore(index)
    assert reader.lexical(["法治"], Filters(year_min=2000), 5)  # fills the filter caches
    old_key, old = reader._current().key, weakref.ref(reader._current())
    gc.disable()  # only the store's own collection may free it
    try:
        store.remove_report(next(iter(store.report_sources())))
        assert reader._current().key != old_key
        assert old() is None
    finally:
        gc.enable()
    for s in (store, reader):
        s.close()


def test_vectors_computed_after_saving_are_added_to_a_mapped_snapshot(tmp_path: Path) -> None:
    index = tmp_path / "index"
    store = EmbeddedStore(index)
    cache = EmbeddingCache(store.database_path)
    reindex([SEEDS], store, StallingEmbedder(), cache, fill_vectors=False)  # saved with no vectors
    (early,) = _saved(index)
    from indexer.vector_backfill import backfill_vectors

    backfill_vectors(store, StallingEmbedder(), cache, batch=16)
    reader = EmbeddedStore(index)  # maps the early files, then reads the vectors added since
    assert reader.vector_coverage() == 1.0
    store.persist_snapshot()
    (late,) = _saved(index)
    assert late != early, "the old files make way for the ones with every vector"
    fresh = EmbeddedStore(index)
    assert fresh._current().vectors.present is None
    assert _answers(reader) == _answers(fresh)
    for s in (store, reader, fresh):
        s.close()


def test_unreadable_files_fall_back_to_sqlite(tmp_path: Path) -> None:
    index = tmp_path / "index"
    store = EmbeddedStore(index)
    reindex([SEEDS], store, StallingEmbedder(), EmbeddingCache(store.database_path))
    (saved,) = (index / SNAPSHOT_DIR).iterdir()
    (saved / "vocab.txt").write_text("broken", encoding="utf-8")
    info = store.stats()
    assert load_saved_snapshot(index, info.generation, int(info.extra["version"]), 10**6) is None
    reader = EmbeddedStore(index)
    assert reader.lexical(["法治"], Filters(), 5)
    for s in (store, reader):
        s.close()


def test_files_of_an_older_format_are_written_again_and_then_mapped(tmp_path: Path) -> None:
    index = tmp_path / "index"
    store = EmbeddedStore(index)
    reindex([SEEDS], store, StallingEmbedder(), EmbeddingCache(store.database_path))
    (saved,) = (index / SNAPSHOT_DIR).iterdir()
    meta = json.loads((saved / "meta.json").read_text(encoding="utf-8"))
    (saved / "meta.json").write_text(json.dumps(meta | {"format": 1}), encoding="utf-8")
    reader = EmbeddedStore(index)
    assert isinstance(reader._current().bm25.docs, np.memmap), "rebuilt from SQLite, saved, mapped"
    assert _saved(index) == [saved.name]
    assert json.loads((saved / "meta.json").read_text(encoding="utf-8"))["format"] == meta["format"]
    assert isinstance(EmbeddedStore(index)._current().bm25.docs, np.memmap)
    for s in (store, reader):
        s.close()

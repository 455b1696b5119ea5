"""Passages embedded by several processes of one thread each, for bulk indexing on a CPU.

The bundled model spreads one batch over the cores with threads that meet at every layer; with short
passages on two cores one of them waits much of the time. Two processes of one thread each keep both busy:
``bench/bench_embed_workers.py`` measured 5.9 against 4.0 passages/s on the seeds' chunks (6.9 against 5.6
on short corpus passages; for passages of 375 characters the gain fell to 7 %). Each process holds its own
copy of the model, so memory grows with the workers.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from indexer.embedders.base import Embedder

_worker: Embedder | None = None  # the embedder of this worker process


def _start_worker(spec: str, parent: int) -> None:
    global _worker
    _exit_with_parent(parent)
    os.environ["OMP_NUM_THREADS"] = "1"  # before any engine loads (they load on first use): one thread each
    from indexer.embedders.factory import load_embedder

    _worker = load_embedder(spec, num_threads=1)  # torch, if the embedder uses it, reads the variable too


def _exit_with_parent(parent: int) -> None:
    """A killed indexer cannot stop its workers; each notices that it was orphaned and exits, rather than
    hold a copy of the model until the machine restarts. ``parent`` comes from the indexer itself: a worker
    still starting when the indexer died already has another parent."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _passages(texts: list[str]) -> np.ndarray:
    assert _worker is not None
    return np.asarray(_worker.embed_passages(texts), dtype=np.float32)


def _query(text: str) -> np.ndarray:
    assert _worker is not None
    return np.asarray(_worker.embed_query(text), dtype=np.float32)


class WorkerPoolEmbedder:
    """The embedder ``spec`` names, run in ``workers`` processes; a batch is dealt out among them.

    The same ``id`` as the embedder itself (the vectors are the same), so an index built with workers is
    searched with the plain embedder. Call ``close`` (or use ``with``) to stop the processes.
    """

    def __init__(self, spec: str, workers: int) -> None:
        if workers < 2:
            raise ValueError(f"a worker pool needs at least 2 workers, got {workers}")
        from indexer.embedders.factory import load_embedder

        described = load_embedder(spec)  # the bundled model tells its id without loading
        self.id, self.dim = described.id, described.dim
        self.spec = spec
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None  # started on first use: a run may embed nothing

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_start_worker, initargs=(self.spec, os.getpid())
            )
        return self._pool

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        # Interleaved shares: a batch sorted by length gives each worker passages of every length.
        parts = min(self.workers, len(texts))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        shares = [texts[n::parts] for n in range(parts)]
        for n, vectors in enumerate(self._started().map(_passages, shares)):
            out[n::parts] = vectors
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._started().submit(_query, text).result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> WorkerPoolEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WorkerPoolEmbedder({self.spec!r}, workers={self.workers})"

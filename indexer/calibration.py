"""The semantic calibration of an index: when is a passage close enough in meaning to count as a result?

Cosine similarities of one embedder are not comparable with another's, and even for one embedder they sit
in a narrow band (multilingual-e5: almost every pair scores 0.7–0.9) whose level depends on the query: an
English query scores lower against Chinese passages across the board, and a query on the index's general
subject (法治建设) scores high against everything. So no fixed number means "related"; what does is how far a
passage stands out from the query's *background*, the query's mean similarity to the whole index, which is
``query · centroid`` for the mean ``centroid`` of the normalised passage vectors.

The calibration measures that on the index itself, for the embedder that built it:

- A fixed set of **off-topic probe queries** (``data/calibration_probes.txt``: sport, cooking, astronomy,
  games, finance, single words and keyboard mash, in Chinese and in English) is embedded as queries.
- For each probe, the **excess** of its closest passage over its background is taken: how far above the
  typical passage the index can come for a query it certainly cannot answer.
- The **threshold excess** for a query language is the highest of those excesses over that language's probes.

A passage matches a query in meaning when its similarity exceeds the query's background by more than the
threshold excess: it stands out further than any passage stood out for an off-topic probe. The calibration
(centroid, excess per language, probe counts) is recorded with the index beside the embedder id and
recomputed on every reindex (single-report updates keep it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from indexer.analysis import fold
from indexer.embedders.base import Embedder

PROBES_FILE = Path(__file__).parent / "data" / "calibration_probes.txt"
METHOD = "largest excess over the query background among off-topic probe queries, per query language"
LANGUAGES = ("zh", "en")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def query_language(text: str) -> str:
    """``en`` for a query in Latin letters without Chinese characters, ``zh`` for everything else."""
    return "en" if _LATIN.search(text) and not _HAN.search(text) else "zh"


@lru_cache(maxsize=1)
def probes() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for line in PROBES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            lang, _, text = line.partition("\t")
            found[lang.strip()].append(text.strip())
    return {lang: tuple(texts) for lang, texts in found.items()}


@dataclass(frozen=True)
class Calibration:
    embedder_id: str
    centroid: np.ndarray  # mean of the normalised passage vectors: query · centroid = mean similarity
    excess: dict[str, float]  # query language → how far above the background a semantic match must be
    passages: int  # size of the index it was measured on

    def background(self, query_vector: np.ndarray) -> float:
        """The query's mean cosine similarity to the passages of the index."""
        return float(_normalised(np.asarray(query_vector, np.float32)) @ self.centroid)

    def threshold(self, query_text: str, query_vector: np.ndarray) -> float:
        """The cosine a passage must reach to match this query in meaning."""
        return self.background(query_vector) + self.excess[query_language(query_text)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": METHOD,
            "embedder_id": self.embedder_id,
            "excess": {k: round(v, 6) for k, v in self.excess.items()},
            "probes": {lang: len(texts) for lang, texts in probes().items()},
            "passages": self.passages,
            "centroid": [round(float(x), 7) for x in self.centroid],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            embedder_id=str(data["embedder_id"]),
            centroid=np.asarray(data["centroid"], np.float32),
            excess={str(k): float(v) for k, v in data["excess"].items()},
            passages=int(data.get("passages", 0)),
        )


_PROBE_VECTORS: dict[str, dict[str, np.ndarray]] = {}  # embedder id → probes embedded (one process)


def probe_vectors(embedder: Embedder) -> dict[str, np.ndarray]:
    """The probes embedded as queries (folded, as the engine folds queries), one matrix per language."""
    if embedder.id not in _PROBE_VECTORS:
        _PROBE_VECTORS[embedder.id] = {
            lang: _normalised(
                np.stack([np.asarray(embedder.embed_query(fold(t)), np.float32) for t in texts])
            )
            for lang, texts in probes().items()
        }
    return _PROBE_VECTORS[embedder.id]


class Calibrator:
    """Streams the passage vectors of a new generation; ``result`` is its ``Calibration``."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder_id = embedder.id
        self._probes = probe_vectors(embedder)
        self._best = {lang: np.full(len(m), -np.inf) for lang, m in self._probes.items()}
        self._sum = np.zeros(embedder.dim, np.float64)
        self._passages = 0

    def observe(self, vectors: Iterable[np.ndarray]) -> None:
        matrix = np.asarray(list(vectors), np.float32)
        if not len(matrix):
            return
        matrix = _normalised(matrix)
        self._passages += len(matrix)
        self._sum += matrix.sum(axis=0, dtype=np.float64)
        for lang, probe_matrix in self._probes.items():
            np.maximum(self._best[lang], (probe_matrix @ matrix.T).max(axis=1), out=self._best[lang])

    def result(self) -> Calibration:
        centroid = (self._sum / max(self._passages, 1)).astype(np.float32)
        excess = {}
        for lang, probe_matrix in self._probes.items():
            if self._passages:
                excess[lang] = float((self._best[lang] - probe_matrix @ centroid).max())
            else:
                excess[lang] = 1.0
        return Calibration(self.embedder_id, centroid, excess, self._passages)


def _normalised(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)

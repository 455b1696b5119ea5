"""One immutable in-memory view of a published generation: BM25, vectors, filter fields, folded texts.

A snapshot is read in a single SQLite read transaction (``snapshot_loader``), so it always holds one whole
generation; the store swaps in a new snapshot when the generation or its version changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import numpy as np

from indexer.analysis import fold
from indexer.stores.base import FACET_FIELDS, Filters, MatchRule, StoreError
from indexer.stores.bm25 import Bm25Index
from indexer.stores.folded_texts import FoldedTexts
from indexer.stores.vector_index import VectorIndex, top_k

# Below this many lexical candidates, phrases are checked on each candidate instead of scanning all texts.
_DIRECT_CHECK_LIMIT = 2000


@dataclass(frozen=True)
class Categorical:
    """A string field as integer codes into ``values``, for masks (isin) and facet counts (bincount)."""

    values: tuple[str, ...]
    codes: np.ndarray

    @classmethod
    def build(cls, column: Sequence[str]) -> Categorical:
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(v, len(index)) for v in column), np.int32, len(column))
        return cls(values=tuple(index), codes=codes)

    def mask(self, wanted: Iterable[str]) -> np.ndarray:
        lookup = {v: i for i, v in enumerate(self.values)}
        return np.isin(self.codes, [lookup[v] for v in wanted if v in lookup])

    def counts(self, docs: np.ndarray) -> dict[str, int]:
        counts = np.bincount(self.codes[docs], minlength=len(self.values))
        return {v: int(c) for v, c in zip(self.values, counts, strict=True) if c and v}


def _folded(values: Sequence[str | None]) -> list[str]:
    """``values`` folded, each distinct one once (a report's title repeats in each of its chunks)."""
    folded = {v: fold(v or "") for v in set(values)}
    return [folded[v] for v in values]


@dataclass(frozen=True)
class GenerationInfo:
    generation: str
    version: int
    embedder_id: str
    dim: int
    vector_epoch: int = 0  # batches of vectors added after publishing (``vector_fill``)
    vectors_upto: int = 0  # every chunk with a rowid up to this one has its vector


def metadata_key(filters: Filters) -> Filters:
    """The metadata part of ``filters`` with every sequence as a tuple: hashable, so masks can be cached."""
    names = ("provinces", "counties", "townships", "categories", "report_ids", "exclude_report_ids")
    return replace(
        filters,
        phrases=(),
        excluded=(),
        match=None,
        phrase_groups=(),
        **{n: tuple(getattr(filters, n)) for n in names},
    )


class Snapshot:
    def __init__(
        self,
        info: GenerationInfo,
        ids: Sequence[str],
        years: np.ndarray,
        fields: dict[str, Categorical],
        reports: Categorical,
        texts: FoldedTexts,
        bm25: Bm25Index,
        vectors: VectorIndex,
        rowids: np.ndarray,
    ) -> None:
        """One generation's parts, row ``i`` of each for chunk ``ids[i]``; ``rowids`` are the chunks'
        SQLite rowids, ascending (where vectors added later go). ``fields`` holds the facet fields and the
        report-level ``title``, ``issuer`` (folded) and ``published`` (ISO date or "")."""
        if not len(ids) == bm25.n_docs == len(vectors.matrix) == len(rowids) == len(texts):
            raise StoreError(f"generation {info.generation}: chunk, token and vector rows disagree")
        self.info = info
        self.rowids = rowids
        self.ids = ids
        self.years = years
        self.fields = fields
        self.reports = reports
        self.titles = fields["title"]
        self.issuers = fields["issuer"]
        self.published = fields["published"]
        self.texts = texts
        self.bm25 = bm25
        self.vectors = vectors
        self._metadata_mask = lru_cache(maxsize=64)(self._compute_metadata_mask)
        self._text_mask = lru_cache(maxsize=256)(self.texts.mask_containing)
        self._rule_mask = lru_cache(maxsize=64)(self._compute_rule_mask)
        # A search scores the same tokens more than once (the matches, then the ranking, then later pages).
        self._bm25_scores = lru_cache(maxsize=8)(self._compute_bm25_scores)
        self._all = np.ones(len(ids), bool)

    @classmethod
    def from_rows(
        cls,
        info: GenerationInfo,
        rows: Sequence[tuple],
        bm25: Bm25Index,
        vectors: VectorIndex,
        rowids: np.ndarray | None = None,
    ) -> Snapshot:
        """``rows`` hold (id, report id, category, year, province, county, township, folded text, title,
        issuer, publication date)."""
        ids, report_ids, categories, years, provinces, counties, townships, folded, titles, issuers, dates = (
            zip(*rows, strict=True) if rows else ((),) * 11
        )
        fields = {
            "year": Categorical.build([str(y) if y else "" for y in years]),
            "province": Categorical.build(provinces),
            "county": Categorical.build(counties),
            "township": Categorical.build(townships),
            "category": Categorical.build(categories),
            # report-level text fields, folded
            "title": Categorical.build(_folded(titles)),
            "issuer": Categorical.build(_folded(issuers)),
            "published": Categorical.build([d or "" for d in dates]),
        }
        return cls(
            info,
            ids,
            np.array([y or 0 for y in years], dtype=np.int32),
            fields,
            Categorical.build(report_ids),
            FoldedTexts(folded),
            bm25,
            vectors,
            np.arange(len(ids), dtype=np.int64) if rowids is None else rowids,
        )

    @cached_property
    def position(self) -> dict[str, int]:
        """Row of each chunk id; built on first use (a keyword search needs none: a faster start)."""
        return {chunk_id: i for i, chunk_id in enumerate(self.ids)}

    @property
    def key(self) -> tuple[str, int]:
        return (self.info.generation, self.info.version)

    def add_vectors(self, rowids: np.ndarray, vectors: np.ndarray, epoch: int, upto: int) -> None:
        """Vectors computed since this snapshot was loaded (rows of chunks it no longer has are ignored)."""
        positions = np.searchsorted(self.rowids, rowids)
        positions = np.minimum(positions, max(len(self.rowids) - 1, 0))
        known = (self.rowids[positions] == rowids) if len(self.rowids) else np.zeros(len(rowids), bool)
        self.vectors.fill(positions[known], vectors[known])
        self.info = replace(self.info, vector_epoch=epoch, vectors_upto=upto)

    def __len__(self) -> int:
        return len(self.ids)

    # -- filters -------------------------------------------------------------------------------------
    def _compute_metadata_mask(self, filters: Filters) -> np.ndarray | None:
        masks = []
        if filters.year_min is not None:
            masks.append(self.years >= filters.year_min)
        if filters.year_max is not None:
            masks.append((self.years <= filters.year_max) & (self.years > 0))
        for name, wanted in (
            ("province", filters.provinces),
            ("county", filters.counties),
            ("township", filters.townships),
            ("category", filters.categories),
        ):
            if wanted:
                masks.append(self.fields[name].mask(wanted))
        if filters.report_ids:
            masks.append(self.reports.mask(filters.report_ids))
        if filters.exclude_report_ids:
            masks.append(~self.reports.mask(filters.exclude_report_ids))
        for field, wanted in ((self.titles, filters.title_contains), (self.issuers, filters.issuer_contains)):
            if any(wanted):
                masks.append(field.mask(v for v in field.values if all(w in v for w in wanted)))
        if filters.published_from or filters.published_to:
            masks.append(self._published_mask(filters.published_from, filters.published_to))
        if not masks:
            return None
        mask = np.logical_and.reduce(masks)
        mask.flags.writeable = False
        return mask

    def _compute_bm25_scores(self, tokens: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        docs, scores = self.bm25.scores(tokens)
        docs.flags.writeable = scores.flags.writeable = False  # shared by every caller of these tokens
        return docs, scores

    def _compute_rule_mask(self, rule: MatchRule) -> np.ndarray:
        """Documents satisfying ``rule``: per term, the union over its alternatives of the intersection of
        their tokens' postings; then at least ``rule.minimum`` terms. Exact over the whole generation."""
        present = np.zeros(len(self), np.int32)
        for term in rule.terms:
            found = np.zeros(len(self), bool)
            for alternative in term:
                found |= np.logical_and.reduce([self.bm25.presence(t) for t in alternative])
            present += found
        mask = present >= rule.minimum
        mask.flags.writeable = False
        return mask

    def _published_mask(self, low: str | None, high: str | None) -> np.ndarray:
        dated = self.published.mask(
            d for d in self.published.values if d and (not low or d >= low) and (not high or d <= high)
        )
        undated = self.published.mask([""])
        if low:
            undated &= self.years >= int(low[:4])
        if high:
            undated &= (self.years <= int(high[:4])) & (self.years > 0)
        return dated | undated

    def _masks(self, filters: Filters, phrases: bool = True) -> list[np.ndarray]:
        meta = self._metadata_mask(metadata_key(filters))
        masks = [] if meta is None else [meta]
        if filters.match is not None:
            masks.append(self._rule_mask(filters.match))
        if phrases:
            masks.extend(self._text_mask(p) for p in filters.phrases if p)
            if filters.phrase_groups:
                masks.append(
                    np.logical_or.reduce(
                        [
                            np.logical_and.reduce([self._text_mask(p) for p in group] or [self._all])
                            for group in filters.phrase_groups
                        ]
                    )
                )
        return masks

    def allowed(self, filters: Filters) -> np.ndarray | None:
        """Indices of the documents passing metadata filters and phrases; None when nothing is excluded."""
        masks = self._masks(filters)
        if not masks:
            return None
        return np.flatnonzero(masks[0] if len(masks) == 1 else np.logical_and.reduce(masks))

    def keep(self, docs: np.ndarray, filters: Filters) -> np.ndarray:
        """Which of ``docs`` pass metadata filters and phrases (few docs: phrases checked one by one)."""
        phrases = [p for p in filters.phrases if p]
        groups = filters.phrase_groups
        direct = len(docs) <= _DIRECT_CHECK_LIMIT
        keep = np.ones(len(docs), bool)
        for mask in self._masks(filters, phrases=not direct):
            keep &= mask[docs]
        if direct and (phrases or groups):
            for i, d in enumerate(docs.tolist()):
                keep[i] = (
                    keep[i]
                    and all(self.texts.contains(d, p) for p in phrases)
                    and (not groups or any(all(self.texts.contains(d, p) for p in g) for g in groups))
                )
        return keep

    def _passes_exclusions(self, docs: np.ndarray, excluded: Sequence[str]) -> np.ndarray:
        return np.array([not any(self.texts.contains(d, x) for x in excluded) for d in docs.tolist()], bool)

    def _rank(
        self, docs: np.ndarray | None, scores: np.ndarray, k: int, excluded: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` whose text contains no excluded string: the best are checked one by one, in a window
        that grows until k pass; past a few thousand, one scan of all texts per excluded string is cheaper."""
        excluded = [x for x in excluded if x]
        if not excluded:
            return top_k(docs, scores, k)
        window = 2 * k + 16
        while window <= _DIRECT_CHECK_LIMIT:
            best, best_scores = top_k(docs, scores, window)
            keep = self._passes_exclusions(best, excluded)
            if keep.sum() >= k or window >= len(scores):
                return best[keep][:k], best_scores[keep][:k]
            window *= 4
        positions = np.arange(len(scores)) if docs is None else docs
        keep = np.ones(len(scores), bool)
        for text in excluded:
            keep &= ~self._text_mask(text)[positions]
        return top_k(positions[keep], scores[keep], k)

    # -- retrieval -----------------------------------------------------------------------------------
    def lexical(self, tokens: Sequence[str], filters: Filters, k: int) -> list[tuple[str, float]]:
        docs, scores = self._bm25_scores(tuple(tokens))
        keep = self.keep(docs, filters)
        if not keep.all():
            docs, scores = docs[keep], scores[keep]
        return self._named(*self._rank(docs, scores, k, filters.excluded))

    def vector(self, query: np.ndarray, filters: Filters, k: int) -> list[tuple[str, float]]:
        docs = self.allowed(filters)
        present = self.vectors.present  # once: a concurrent fill swaps it for a wider one
        if present is not None:
            docs = np.flatnonzero(present) if docs is None else docs[present[docs]]
        docs, scores = self.vectors.search(query, docs, k)
        return self._named(*self._rank(docs, scores, k, filters.excluded))

    def _named(self, docs: np.ndarray, scores: np.ndarray) -> list[tuple[str, float]]:
        return [(self.ids[d], float(s)) for d, s in zip(docs.tolist(), scores.tolist(), strict=True)]

    def _without_exclusions(self, docs: np.ndarray, filters: Filters) -> np.ndarray:
        for text in (x for x in filters.excluded if x):
            docs = docs[~self._text_mask(text)[docs]]
        return docs

    def count(self, filters: Filters) -> int:
        docs = self.allowed(filters)
        docs = np.arange(len(self)) if docs is None else docs
        return len(self._without_exclusions(docs, filters))

    def passing(self, chunk_ids: Sequence[str], filters: Filters) -> set[str]:
        docs = np.array(sorted({self.position[c] for c in chunk_ids if c in self.position}), np.int64)
        docs = self._without_exclusions(docs[self.keep(docs, filters)], filters)
        return {self.ids[d] for d in docs.tolist()}

    def facets(self, filters: Filters, chunk_ids: Sequence[str] | None) -> dict[str, dict[str, int]]:
        if chunk_ids is None:
            docs = self.allowed(filters)
            docs = np.arange(len(self)) if docs is None else docs
        else:
            docs = np.array(sorted({self.position[c] for c in chunk_ids if c in self.position}), np.int64)
            docs = docs[self.keep(docs, filters)]
        docs = self._without_exclusions(docs, filters)
        return {name: self.fields[name].counts(docs) for name in FACET_FIELDS}

    def indices(self, chunk_ids: Sequence[str]) -> list[int]:
        missing = [c for c in chunk_ids if c not in self.position]
        if missing:
            raise KeyError(f"unknown chunk ids: {', '.join(missing[:5])}")
        return [self.position[c] for c in chunk_ids]

"""The search engine: query → lexical and vector candidates from a store → fusion → hits with highlights.

Retrieval policy lives here and only here; the page and the CLI call these methods and render.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from indexer.analysis import fold
from indexer.embedders.base import Embedder
from indexer.models import Chunk, Report
from indexer.stores.base import (
    FACET_FIELDS,
    EmbedderMismatchError,
    Filters,
    IndexStats,
    MatchRule,
    PartialVectors,
    ReportIndicator,
    ScoredId,
    Store,
)
from search_app.crosslingual import expansion_tokens
from search_app.fusion import FusedHit, FusionMethod, diversify, reciprocal_rank_fusion, weighted_fusion
from search_app.grouping import ReportGroup, SortOrder, group_by_report, sort_groups, sort_ids
from search_app.highlight import highlight
from search_app.matching import content_terms, listed_topic_terms, match_rule, partial_rule, whole_words
from search_app.query import ParsedQuery, parse_query
from search_app.query_bounds import fit_tokens, for_embedder
from search_app.term_proximity import proximity
from search_app.threshold import NOT_CALIBRATED_NOTICE, SemanticThreshold

EMPTY_QUERY_MESSAGE = "请输入检索词"
SUGGESTION_COUNT = 3  # uncounted "可能相关" passages offered when nothing matches
# Meaning-only admission below the calibrated threshold (see SearchEngine._close_in_meaning):
NEAREST = 10  # the query's nearest passages ...
NEAREST_SHARE = 0.5  # ... that stand out from its background by this share of the threshold excess
KEYWORD_TERMS = 3  # a query of this many content terms or fewer names topics; a longer one describes
UNUSED_WORDS_NOTICE = "已索引的报告中没有段落提到"
UNUSED_WORDS_SHOWN = 6
COMPARE_DEPTH = 3000  # passages of one category ranked to find each report's best

# What a section of each category typically says; used to pick each report's core section for comparison.
CATEGORY_PROTOTYPES = {
    "成效举措": "推进法治政府建设的主要举措和成效",
    "存在问题": "存在的问题和不足",
    "下步计划": "下一步工作计划和打算",
    "第一责任人": "党政主要负责人履行推进法治建设第一责任人职责情况",
    "其他": "法治政府建设",
}


def single_run(name: str, run: Sequence[ScoredId]) -> list[FusedHit]:
    """One retriever's ranking in the shape fusion returns."""
    return [FusedHit(s.chunk_id, s.score, {name: i + 1}, {name: s.score}) for i, s in enumerate(run)]


def merge_runs(*runs: Sequence[ScoredId]) -> list[ScoredId]:
    """One run of the same scorer from several (each id once), best score first; ties keep the order in
    which the runs gave them."""
    first: dict[str, ScoredId] = {}
    for run in runs:
        for s in run:
            first.setdefault(s.chunk_id, s)
    return sorted(first.values(), key=lambda s: -s.score)


def as_written(words: list[str], parsed: ParsedQuery) -> list[str]:
    """``words`` of the query, those written next to each other joined again (区块 + 链 → 区块链)."""
    text = fold(parsed.text)
    joined: list[str] = []
    for word in words:
        if joined and joined[-1] + word in text:
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def lexical_tokens(parsed: ParsedQuery) -> tuple[str, ...]:
    """The query's tokens, its whole words once more, and Chinese equivalents of its English words.

    Search-mode tokenization also yields the parts of a word (法律明白人 → 法律, 明白, 明白人), so that
    partial wording still matches; repeating the whole words (those not part of a longer token) ranks a
    passage with the exact term above one that shares only a part of it, as BM25 counts query repeats.
    """
    tokens = tuple(parsed.tokens) + expansion_tokens(parsed.text)
    distinct = set(tokens)
    whole = tuple(t for t in dict.fromkeys(tokens) if not any(t != o and t in o for o in distinct))
    return tokens + whole


class Mode(StrEnum):
    HYBRID = "hybrid"
    BM25 = "bm25"
    VECTOR = "vector"


class MatchKind(StrEnum):
    """Why a passage is a result: it has the query's words, it is close in meaning, or both."""

    LEXICAL = "lexical"
    SEMANTIC = "semantic"
    BOTH = "both"


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused score (or the single retriever's score)
    ranks: dict[str, int] = field(default_factory=dict)  # retriever → 1-based rank
    scores: dict[str, float] = field(default_factory=dict)  # retriever → raw score
    fragment_html: str = ""  # escaped text with <mark>s, cut to a fragment
    html: str = ""  # the whole chunk, escaped, with <mark>s
    spans: tuple[tuple[int, int], ...] = ()  # marked spans in chunk.text
    match: str = ""  # a MatchKind for search results; empty for suggestions and comparable practices


@dataclass(frozen=True)
class SearchResult:
    """One page of a result set, with the size of the whole set.

    ``total`` = ``lexical_total`` + ``semantic_total``: passages that match the words (exact count, whatever
    the index size) plus passages that match only in meaning (similarity above the index's calibrated
    threshold, among the ``candidate_depth`` nearest). ``suggestions`` are never counted, paged or exported.
    """

    query: ParsedQuery | None
    hits: list[Hit]
    total: int  # passages in the result set
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    message: str | None = None  # shown instead of results (e.g. empty query)
    took_ms: float = 0.0
    lexical_total: int = 0  # results that contain the query's words (MatchKind LEXICAL or BOTH)
    semantic_total: int = 0  # results that match in meaning only (MatchKind SEMANTIC)
    suggestions: list[Hit] = field(default_factory=list)  # "可能相关" when nothing matches; uncounted
    threshold: float | None = None  # the semantic threshold applied, when the mode uses vectors


@dataclass(frozen=True)
class ReportResults:
    """One page of the document view: reports with results, each with its count and best hits."""

    query: ParsedQuery | None
    groups: list[ReportGroup]
    reports: int  # reports with at least one result
    total: int  # passages in the result set (as ``SearchResult.total``)
    lexical_total: int = 0
    semantic_total: int = 0
    notices: tuple[str, ...] = ()
    message: str | None = None
    took_ms: float = 0.0


@dataclass
class _ResultSet:
    """What ``SearchEngine._result_set`` decided (internal)."""

    lexical_filters: Filters
    runs: dict[str, list[ScoredId]] = field(default_factory=dict)
    kinds: dict[str, MatchKind] = field(default_factory=dict)  # every result → why it is one
    lexical_total: int = 0
    lexical_complete: bool = True  # the lexical run holds every lexical match
    semantic_total: int = 0
    threshold: float | None = None
    notices: list[str] = field(default_factory=list)
    any_lexical: bool | None = None  # some passage matches the words (vector mode: known once asked)


@dataclass(frozen=True)
class EngineConfig:
    candidate_depth: int = 100  # per retriever: the ranked head (later pages read on in BM25 order)
    # RRF over short candidate lists: a small k lets the top ranks decide. The vector run's weight was chosen
    # on the tuning queries among thousands of distractor passages (bench/bench_distractors.py, tuning part,
    # k ∈ {5,10,20,40} × weight ∈ {0,…,0.8} × report decay): every query class (English, questions, short
    # terms) ranked best with weights ≤ 0.12 — the 4-bit model's order among passages that match the words
    # adds noise, so it breaks ties there and orders the passages that match in meaning only (which follow).
    # 0.3, chosen earlier on the five seeds alone, lost 0.027 nDCG@10 with work reports mixed in.
    rrf_k: int = 10
    lexical_weight: float = 1.0
    vector_weight: float = 0.05
    # Added to a candidate's fused score after the per-report decay: content-term coverage and proximity
    # (search_app.term_proximity), each 0–1; 0.04 is worth about four places near the top of the list. On
    # the tuning queries among distractors, weights 0.01–0.08 each gave +0.01 to +0.04 nDCG@10 (most for
    # natural-language questions); the best weights of English queries, questions and short terms coincide
    # within noise, so one pair serves all.
    coverage_weight: float = 0.04
    proximity_weight: float = 0.04
    report_decay: float = 0.8  # the n-th hit of one report keeps 0.8**n of its score (see fusion.diversify)
    fragment_chars: int = 160
    max_query_chars: int = 200


class SearchEngine:
    def __init__(self, store: Store, embedder: Embedder, config: EngineConfig | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or EngineConfig()
        self.threshold = SemanticThreshold(store, embedder)

    # -- checks --------------------------------------------------------------------------------------
    def _check_embedder(self) -> None:
        indexed = self.store.embedder_id()
        if indexed is not None and indexed != self.embedder.id:
            raise EmbedderMismatchError(
                f"the index was built with embedder {indexed!r} but the search uses {self.embedder.id!r}; "
                "search with the same embedder or reindex"
            )

    # -- retrieval -----------------------------------------------------------------------------------
    def _query_vector(self, parsed: ParsedQuery) -> np.ndarray:
        self._check_embedder()
        return self.embedder.embed_query(fold(fit_tokens(self.embedder, parsed.text)))  # bounded cost

    def _fuse(
        self,
        runs: dict[str, list[ScoredId]],
        fusion: FusionMethod,
        lexical_weight: float,
        parsed: ParsedQuery | None = None,
    ) -> tuple[list[FusedHit], dict[str, Chunk]]:
        """The fused ranking, diversified per report, and the chunks it names (fetched once).

        Under reciprocal-rank fusion of both runs, each candidate also gains for holding more of the
        query's content terms, close together (``term_proximity``)."""
        if not runs:
            return [], {}
        if len(runs) == 1:
            ((name, run),) = runs.items()
            fused = single_run(name, run)
        elif fusion is FusionMethod.WEIGHTED:
            fused = weighted_fusion(runs, lexical_weight)
        else:
            weights = {"bm25": self.config.lexical_weight, "vector": self.config.vector_weight}
            fused = reciprocal_rank_fusion(runs, k=self.config.rrf_k, weights=weights)
        chunks = {c.id: c for c in self.store.get_chunks([f.chunk_id for f in fused])}
        fused = [f for f in fused if f.chunk_id in chunks]  # gone since the retrieval (a concurrent update)
        fused = diversify(fused, lambda cid: chunks[cid].report_id, self.config.report_decay)
        if parsed is not None and len(runs) > 1 and fusion is FusionMethod.RRF:
            fused = self._with_term_proximity(fused, chunks, parsed)
        return fused, chunks

    def _with_term_proximity(
        self, fused: list[FusedHit], chunks: dict[str, Chunk], parsed: ParsedQuery
    ) -> list[FusedHit]:
        terms = content_terms(parsed)
        if not terms or not (self.config.coverage_weight or self.config.proximity_weight):
            return fused
        rescored = []
        for f in fused:
            found = proximity(terms, chunks[f.chunk_id].text)
            bonus = (
                self.config.coverage_weight * found.coverage + self.config.proximity_weight * found.proximity
            )
            rescored.append(replace(f, score=f.score + bonus))
        return sorted(rescored, key=lambda f: -f.score)  # stable: ties keep the fusion's order

    def _hits(
        self,
        fused: Sequence[FusedHit],
        parsed: ParsedQuery | None,
        per_report: int | None = None,
        chunks: dict[str, Chunk] | None = None,
        kinds: dict[str, MatchKind] | None = None,
    ) -> list[Hit]:
        if chunks is None:
            chunks = {c.id: c for c in self.store.get_chunks([f.chunk_id for f in fused])}
        hits: list[Hit] = []
        per: dict[str, int] = {}
        terms = lexical_tokens(parsed) if parsed else ()
        phrases = parsed.marked_phrases if parsed else ()
        for f in fused:
            chunk = chunks.get(f.chunk_id)
            if chunk is None:
                continue
            if per_report is not None:
                if per.get(chunk.report_id, 0) >= per_report:
                    continue
                per[chunk.report_id] = per.get(chunk.report_id, 0) + 1
            marked = highlight(chunk.text, terms, phrases)
            hits.append(
                Hit(
                    chunk=chunk,
                    score=f.score,
                    ranks=dict(f.ranks),
                    scores=dict(f.scores),
                    fragment_html=marked.fragment(self.config.fragment_chars),
                    html=marked.html,
                    spans=tuple(marked.spans),
                    match=str(kinds.get(f.chunk_id, "")) if kinds else "",
                )
            )
        return hits

    def _result_set(self, parsed: ParsedQuery, mode: Mode, filters: Filters) -> _ResultSet:
        """The runs to rank with, each result's match kind, and the two counts of the result set.

        Lexical results are the passages satisfying the query's ``MatchRule``, counted exactly by the
        store. Meaning results come from the vector candidates (the ``candidate_depth`` nearest): a
        candidate is one when its cosine clears the index's calibrated threshold (``indexer.calibration``:
        it stands out from the query's background further than any passage did for an off-topic probe), or
        when it is closer than the query's background *and* shares at least one content term with the query.
        Exclusions and phrases are part of ``filters`` and so restrict both.
        """
        out = _ResultSet(lexical_filters=replace(filters, match=match_rule(parsed)))
        depth = self.config.candidate_depth  # fixed: the ranked head must not depend on the page asked
        if mode in (Mode.HYBRID, Mode.BM25):
            tokens = lexical_tokens(parsed)
            matches = self.store.lexical(tokens, out.lexical_filters, depth) if tokens else []
            out.lexical_total = self.store.count(out.lexical_filters) if matches else 0
            out.lexical_complete = out.lexical_total <= len(matches)
            # Ranking keeps BM25's evidence from passages that share only some of the words (they may still
            # be results by meaning); the matches are merged in so that every page of them can be reached.
            ranking = self.store.lexical(tokens, filters, depth) if matches else []
            out.runs["bm25"] = merge_runs(ranking, matches)
            out.kinds.update((s.chunk_id, MatchKind.LEXICAL) for s in matches)
        if mode in (Mode.HYBRID, Mode.VECTOR):
            vector = self._query_vector(parsed)
            # A fixed depth, not the page's: the set (and its count) must not depend on which page is asked.
            run = self.store.vector(vector, filters, self.config.candidate_depth)
            out.runs["vector"] = run
            close = self._close_in_meaning(parsed, vector, run, filters, out)
            # Lexical membership of the close ones: known from the lexical run when that holds every lexical
            # match; otherwise (a larger set, or vector mode) asked of the store.
            unknown = [c for c in close if c not in out.kinds]
            if not (mode is Mode.HYBRID and out.lexical_complete) and unknown:
                lexical = self.store.passing(unknown, out.lexical_filters)
            else:
                lexical = set()
            if mode is Mode.VECTOR:
                out.kinds = {}
            for chunk_id in close:
                both = chunk_id in out.kinds or chunk_id in lexical
                out.kinds[chunk_id] = MatchKind.BOTH if both else MatchKind.SEMANTIC
        if parsed.tokens and not self._has_lexical_match(out):
            unused = as_written([term[0][0] for term in content_terms(parsed) if self._unused(term)], parsed)
            if unused:  # "无人机普法宣传" finds 普法宣传 by meaning: say which part of the query it lacks
                named = "".join(f"「{w}」" for w in unused[:UNUSED_WORDS_SHOWN])
                out.notices.append(
                    UNUSED_WORDS_NOTICE + named + ("等" if len(unused) > UNUSED_WORDS_SHOWN else "")
                )
        out.semantic_total = sum(1 for k in out.kinds.values() if k is MatchKind.SEMANTIC)
        if mode is Mode.VECTOR:
            out.lexical_total = sum(1 for k in out.kinds.values() if k is MatchKind.BOTH)
        return out

    def _close_in_meaning(
        self, parsed: ParsedQuery, vector: np.ndarray, run: list[ScoredId], filters: Filters, out: _ResultSet
    ) -> list[str]:
        """Vector candidates that match in meaning, best first.

        - A candidate whose cosine clears the calibrated threshold (``indexer.calibration``: it stands out
          from the query's background further than any passage did for an off-topic probe) is one.
        - Unless the query lists topics and one of them is never mentioned: in "普法宣传 折纸艺术" or
          "法治 区块链" passages close to the other topic are about something else (no result).
        - Below the threshold, a candidate closer than the query's background that shares a content term
          with the query is one; for a keyword query, only if the index demonstrably speaks of the query
          (some passage matches its words or clears the threshold). A longer question is phrased in the
          asker's words, so sharing one of them is the evidence there is.
        - One of the query's ``NEAREST`` passages standing out from the background by ``NEAREST_SHARE`` of the
          threshold's excess is one, when the index demonstrably speaks of the query (a paraphrase in other
          words: "三調聯動" → a passage bringing petitions under 枫桥经验).
        """
        calibration = self.threshold.calibration()
        if calibration is None:
            out.notices.append(NOT_CALIBRATED_NOTICE)
            return []
        if self._exclusion_hits_query(parsed):
            return []  # what is close in meaning to the query is what the user excluded
        if self._names_an_absent_topic(parsed):
            return []
        keyword_query = len(content_terms(parsed)) <= KEYWORD_TERMS
        background = calibration.background(vector)
        out.threshold = threshold = calibration.threshold(parsed.text, vector)
        above = [s.chunk_id for s in run if s.score >= threshold]
        near = [s for s in run if background <= s.score < threshold]
        if not near:
            return above
        spoken_of = bool(above) or self._has_lexical_match(out)
        floor = background + NEAREST_SHARE * (threshold - background)
        nearest = {s.chunk_id for s in run[:NEAREST] if s.score >= floor} if spoken_of else set()
        sharing: set[str] = set()
        if spoken_of or not keyword_query:
            ids = [s.chunk_id for s in near]
            sharing = self.store.passing(ids, replace(filters, match=partial_rule(parsed)))
        return [
            s.chunk_id for s in run if s.score >= threshold or s.chunk_id in sharing or s.chunk_id in nearest
        ]

    def _has_lexical_match(self, out: _ResultSet) -> bool:
        if "bm25" in out.runs:
            return out.lexical_total > 0
        if out.any_lexical is None:  # vector mode: asked of the store once per search
            out.any_lexical = self.store.count(out.lexical_filters) > 0
        return out.any_lexical

    def _names_an_absent_topic(self, parsed: ParsedQuery) -> bool:
        """A query of several space-separated Chinese parts lists topics; one of them has a content term that
        no passage of the index contains (index-wide: filters narrow what is shown, not what the reports
        speak of). A single phrase is a description instead: its words may be the asker's own (跑腿)."""
        return any(self._unused(term) for term in listed_topic_terms(parsed))

    def _unused(self, term: tuple[tuple[str, ...], ...]) -> bool:
        """No passage of the index holds this content term (index-wide, whatever the filters)."""
        return self.store.count(Filters(match=MatchRule(terms=(term,), minimum=1))) == 0

    def _exclusion_hits_query(self, parsed: ParsedQuery) -> bool:
        """An excluded string overlaps a query word (``-调解 人民调解``): meaning-only results would be
        exactly the passages the user ruled out, so there are none."""
        words = whole_words(parsed.tokens)
        return any(x in w or w in x for x in parsed.excluded for w in words)

    def _facets(
        self, mode: Mode, lexical_filters: Filters, filters: Filters, kinds: dict[str, MatchKind]
    ) -> dict[str, dict[str, int]]:
        """Counts of the result set: the lexical matches (exact, from the store) plus the semantic-only
        results, which by definition are not among them, so the two counts add up."""
        semantic = [c for c, k in kinds.items() if k is MatchKind.SEMANTIC]
        if mode is Mode.VECTOR:
            return self.store.facets(filters, list(kinds))
        counts = self.store.facets(lexical_filters)
        if semantic:
            extra = self.store.facets(filters, semantic)
            for name in FACET_FIELDS:
                merged = counts.setdefault(name, {})
                for value, n in extra.get(name, {}).items():
                    merged[value] = merged.get(value, 0) + n
        return counts

    def search(
        self,
        query: str,
        mode: Mode | str = Mode.HYBRID,
        filters: Filters | None = None,
        top_k: int = 10,
        offset: int = 0,
        fusion: FusionMethod | str = FusionMethod.RRF,
        lexical_weight: float = 0.5,
        per_report: int | None = None,
        with_facets: bool = False,
        sort: SortOrder | str = SortOrder.RELEVANCE,
    ) -> SearchResult:
        """The result set of ``query`` (see ``SearchResult``), ranked, one page of it as hits.

        ``sort`` other than relevance orders the whole set (newest report first, or by place) before paging.
        """
        started = time.perf_counter()
        mode, fusion, sort = Mode(mode), FusionMethod(fusion), SortOrder(sort)
        top_k, offset = max(1, int(top_k)), max(0, int(offset))
        lexical_weight = min(1.0, max(0.0, float(lexical_weight)))
        parsed = parse_query(query, max_chars=self.config.max_query_chars)
        if mode is not Mode.BM25:  # bound the embedder's work (see query_bounds)
            parsed = for_embedder(parsed, self.embedder)
        if parsed.is_empty:
            return SearchResult(parsed, [], 0, notices=tuple(parsed.notices), message=EMPTY_QUERY_MESSAGE)
        filters = self._query_filters(parsed, filters)
        wanted = offset + top_k
        if per_report is not None:
            wanted *= 3  # grouping drops hits; rank deeper so a page stays full
        found, fused, chunks = self._ranked(parsed, mode, filters, wanted, fusion, lexical_weight, sort)
        kinds = found.kinds
        lexical_total, semantic_total = found.lexical_total, found.semantic_total
        if per_report is not None:  # the set is the best ``per_report`` results of each report
            hits = self._hits(fused, parsed, per_report, chunks, kinds)
            semantic_total = sum(1 for h in hits if h.match == MatchKind.SEMANTIC)
            lexical_total = len(hits) - semantic_total
            hits = hits[offset : offset + top_k]
        else:
            hits = self._hits(fused[offset : offset + top_k], parsed, chunks=chunks, kinds=kinds)
        total = lexical_total + semantic_total
        facets = self._facets(mode, found.lexical_filters, filters, kinds) if with_facets else {}
        suggestions = self._suggestions(parsed, filters) if total == 0 else []
        return SearchResult(
            query=parsed,
            hits=hits,
            total=total,
            facets=facets,
            notices=(*parsed.notices, *found.notices, *self._coverage_notice(mode)),
            took_ms=(time.perf_counter() - started) * 1000,
            lexical_total=lexical_total,
            semantic_total=semantic_total,
            suggestions=suggestions,
            threshold=found.threshold,
        )

    def _query_filters(self, parsed: ParsedQuery, filters: Filters | None) -> Filters:
        return replace(
            self._script_insensitive(filters or Filters()),
            phrases=tuple(parsed.phrases),
            phrase_groups=tuple(parsed.phrase_groups),
            excluded=tuple(parsed.excluded),
        )

    def _ranked(
        self,
        parsed: ParsedQuery,
        mode: Mode,
        filters: Filters,
        wanted: int | None,
        fusion: FusionMethod,
        lexical_weight: float,
        sort: SortOrder = SortOrder.RELEVANCE,
    ) -> tuple[_ResultSet, list[FusedHit], dict[str, Chunk]]:
        """The result set and its ranking: at least its first ``wanted`` places (all of it for ``None``, or
        when it is ordered other than by relevance).

        The ranking is one order whatever the page: a *head* fused from the retrievers' ``candidate_depth``
        candidates (diversified per report), then a *tail* of the remaining lexical matches in BM25 order.
        Asking for a later page only reads further into the tail, so every result is on exactly one page.
        """
        found = self._result_set(parsed, mode, filters)
        fused, chunks = self._fuse(found.runs, fusion, lexical_weight, parsed)
        fused = [f for f in fused if f.chunk_id in found.kinds]
        total = found.lexical_total + found.semantic_total
        needed = total if wanted is None or sort is not SortOrder.RELEVANCE else min(wanted, total)
        if not found.lexical_complete and len(fused) < needed:
            fused += self._lexical_tail(parsed, found, fused, chunks, needed)
        if sort is not SortOrder.RELEVANCE:
            by_id = {f.chunk_id: f for f in fused}
            fused = [by_id[i] for i in sort_ids(list(by_id), chunks.__getitem__, sort)]
        return found, fused, chunks

    def _lexical_tail(
        self,
        parsed: ParsedQuery,
        found: _ResultSet,
        head: Sequence[FusedHit],
        chunks: dict[str, Chunk],
        needed: int,
    ) -> list[FusedHit]:
        """Lexical matches after the head, in BM25 order, until the ranking is ``needed`` long.

        The store ranks deterministically (ties by position or id), so the matches read to a depth are the
        first ones of any deeper read; ``needed`` matches always leave enough once the head's are skipped.
        Their fused score is what a BM25-only rank contributes under reciprocal-rank fusion."""
        placed = {f.chunk_id for f in head}
        matches = self.store.lexical(lexical_tokens(parsed), found.lexical_filters, needed)
        tail = [(rank, s) for rank, s in enumerate(matches, 1) if s.chunk_id not in placed]
        tail = tail[: needed - len(head)]
        chunks.update((c.id, c) for c in self.store.get_chunks([s.chunk_id for _, s in tail]))
        hits = []
        for rank, s in tail:
            if s.chunk_id in chunks:  # gone since the retrieval (a concurrent update) otherwise
                found.kinds[s.chunk_id] = MatchKind.LEXICAL  # not near in meaning: those are in the head
                score = (
                    s.score
                    if len(found.runs) == 1
                    else self.config.lexical_weight / (self.config.rrf_k + rank)
                )
                hits.append(FusedHit(s.chunk_id, score, {"bm25": rank}, {"bm25": s.score}))
        return hits

    def search_reports(
        self,
        query: str,
        mode: Mode | str = Mode.HYBRID,
        filters: Filters | None = None,
        top_k: int = 10,
        offset: int = 0,
        fusion: FusionMethod | str = FusionMethod.RRF,
        lexical_weight: float = 0.5,
        sort: SortOrder | str = SortOrder.RELEVANCE,
        best: int = 3,
    ) -> ReportResults:
        """The document view of a result set: every report with results, its number of results and its
        ``best`` results (as hits), reports ranked by their best result (or by date or place)."""
        started = time.perf_counter()
        mode, fusion, sort = Mode(mode), FusionMethod(fusion), SortOrder(sort)
        parsed = parse_query(query, max_chars=self.config.max_query_chars)
        if parsed.is_empty:
            return ReportResults(parsed, [], 0, 0, message=EMPTY_QUERY_MESSAGE)
        filters = self._query_filters(parsed, filters)
        found, fused, chunks = self._ranked(parsed, mode, filters, None, fusion, lexical_weight)
        groups = group_by_report(
            [f.chunk_id for f in fused], chunks.__getitem__, lambda c: str(found.kinds[c]), max(1, best)
        )
        groups = sort_groups(groups, sort)
        page = groups[max(0, offset) : max(0, offset) + max(1, top_k)]
        by_id = {f.chunk_id: f for f in fused}
        for group in page:
            hits = self._hits([by_id[i] for i in group.best_ids], parsed, chunks=chunks, kinds=found.kinds)
            group.hits.extend(hits)
        return ReportResults(
            query=parsed,
            groups=page,
            reports=len(groups),
            total=found.lexical_total + found.semantic_total,
            lexical_total=found.lexical_total,
            semantic_total=found.semantic_total,
            notices=(*parsed.notices, *found.notices),
            took_ms=(time.perf_counter() - started) * 1000,
        )

    def _suggestions(self, parsed: ParsedQuery, filters: Filters) -> list[Hit]:
        """When nothing matches: a few passages that share some of the query's words, best first."""
        tokens = lexical_tokens(parsed)
        if not tokens:
            return []
        run = self.store.lexical(tokens, filters, SUGGESTION_COUNT)
        return self._hits(single_run("bm25", run), parsed)

    def _coverage_notice(self, mode: Mode) -> tuple[str, ...]:
        """While vectors are still being computed, semantic ranking covers only part of the index."""
        if mode is Mode.BM25 or not isinstance(self.store, PartialVectors):
            return ()
        coverage = self.store.vector_coverage()
        if coverage >= 1.0:
            return ()
        return (f"语义索引尚在计算（已覆盖 {int(coverage * 100)} % 的段落），其余段落只按关键词检索。",)

    def _script_insensitive(self, filters: Filters) -> Filters:
        """Place names are stored as the report writes them (辰溪縣); a filter for 辰溪县 must match both.
        Title and issuer words are folded like the stored titles and issuers."""
        filters = replace(
            filters,
            title_contains=tuple(fold(t) for t in filters.title_contains if fold(t)),
            issuer_contains=tuple(fold(t) for t in filters.issuer_contains if fold(t)),
        )
        fields = {"provinces": "province", "counties": "county", "townships": "township"}
        if not any(getattr(filters, name) for name in fields):
            return filters
        known = self.store.facets(Filters())
        widened = {}
        for name, facet in fields.items():
            wanted = {fold(v) for v in getattr(filters, name)}
            if wanted:
                variants = {v for v in known.get(facet, {}) if fold(v) in wanted}
                widened[name] = tuple(sorted(set(getattr(filters, name)) | variants))
        return replace(filters, **widened)

    # -- comparable practices -------------------------------------------------------------------------
    def similar(self, chunk_id: str, top_k: int = 10, same_category: bool = False) -> list[Hit]:
        """The same practice in other reports: vector neighbours of a chunk, never from its own report."""
        self._check_embedder()
        (source,) = self.store.get_chunks([chunk_id]) or (None,)
        if source is None:
            raise KeyError(f"unknown chunk {chunk_id!r}")
        vector = self.store.get_vectors([chunk_id])[0]
        if not np.any(vector):
            return []  # its vector is not computed yet
        filters = Filters(
            exclude_report_ids=(source.report_id,),
            categories=(source.category,) if same_category else (),
        )
        run = self.store.vector(np.asarray(vector, dtype=np.float32), filters, top_k)
        return self._hits(single_run("vector", run), None)

    def compare(
        self, category: str, query: str | None = None, filters: Filters | None = None, per_report: int = 1
    ) -> list[Hit]:
        """Per report, its best ``per_report`` chunks of ``category``, for side-by-side reading.

        Best means best for ``query`` when one is given; otherwise the chunk closest in meaning to what such a
        section typically says (``CATEGORY_PROTOTYPES``), so a researcher sees each township's core statement.
        """
        filters = replace(filters or Filters(), categories=(category,))
        per_report = max(1, per_report)
        if query and not parse_query(query).is_empty:
            hits = self.search(query, filters=filters, top_k=1000, per_report=per_report).hits
        else:
            # No topic: every report's core statement, whether or not it "matches" anything.
            self._check_embedder()
            prototype = fold(CATEGORY_PROTOTYPES.get(category, category))
            # Every passage of the category in scope is ranked, so no report is left out for lack of depth.
            depth = max(COMPARE_DEPTH, self.store.count(filters))
            run = self.store.vector(self.embedder.embed_query(prototype), filters, depth)
            hits = self._hits(single_run("vector", run), None, per_report=per_report)
        return sorted(  # stable: each report's passages stay in order of relevance
            hits, key=lambda h: (h.chunk.meta.province, h.chunk.meta.county, h.chunk.meta.township)
        )

    # -- pass-throughs for the page ------------------------------------------------------------------
    def report(self, report_id: str) -> Report | None:
        return self.store.get_report(report_id)

    def chunk(self, chunk_id: str) -> Chunk | None:
        (found,) = self.store.get_chunks([chunk_id]) or (None,)
        return found

    def stats(self) -> IndexStats:
        return self.store.stats()

    def version(self) -> str | None:
        """Changes whenever the index readers see changes: the key for caching results."""
        return self.store.version()

    def facets(self, filters: Filters | None = None) -> dict[str, dict[str, int]]:
        return self.store.facets(filters or Filters())

    def township_provinces(self, filters: Filters | None = None) -> dict[str, str]:
        """The province of each township in scope, read from per-province facets (the stores keep no table
        of places); a township whose reports name no province is left out."""
        filters = filters or Filters()
        out: dict[str, str] = {}
        for province in self.store.facets(filters).get("province", {}):
            for township in self.store.facets(replace(filters, provinces=(province,))).get("township", {}):
                out.setdefault(township, province)
        return out

    def indicators(self, filters: Filters | None = None, kinds: Sequence[str] = ()) -> list[ReportIndicator]:
        """Indicators of the reports ``filters`` select (place names in either script), of ``kinds`` only."""
        rows = self.store.indicators(self._script_insensitive(filters or Filters()))
        return [r for r in rows if not kinds or r.indicator.kind in kinds]

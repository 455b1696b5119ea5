"""The behaviour every store must have, as a test class; a backend's test module subclasses it with a
``store`` fixture yielding an empty store (see ``test_store_contract.py``).

The data are four small synthetic reports, one in Traditional script and one with no metadata. Chunks are
kept under 24 tokens so Lucene's lossy length norms are exact and BM25 scores can be checked to 1e-4.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache

import numpy as np
import pytest

from indexer.analysis import fold, tokenize
from indexer.indicators import extract_indicators
from indexer.models import OTHER, PLANS, PRINCIPAL_DUTY, PROBLEMS, RESULTS, Chunk, Report, ReportMeta, Section
from indexer.stores.base import (
    FACET_FIELDS,
    NO_FILTERS,
    EmbedderMismatchError,
    Filters,
    IndexedChunk,
    IndexEmptyError,
    MatchRule,
    Store,
)

EMBEDDER = "test:random-unit:8"
DIM = 8

ZJ_HAINING = ReportMeta(
    "许村镇2021年法治政府建设工作报告",
    "许村镇",
    "海宁市",
    "浙江省",
    2021,
    "2022-01-10",
    "海宁市许村镇人民政府",
)
ZJ_TONGXIANG = ReportMeta(
    "乌镇镇2022年法治政府建设工作报告", "乌镇镇", "桐乡市", "浙江省", 2022, "2023-01-05"
)
GD_NANHAI = ReportMeta(
    "西樵鎮2023年法治政府建設報告", "西樵镇", "南海区", "广东省", 2023, "", "西樵鎮人民政府"
)
UNKNOWN = ReportMeta()

REPORTS: tuple[tuple[str, ReportMeta, tuple[tuple[str, str], ...]], ...] = (
    (
        "r1",
        ZJ_HAINING,
        (
            (RESULTS, "全面推进法治政府建设，调解矛盾纠纷63件，成功60件。"),
            (PROBLEMS, "行政执法人员法治意识有待提升，执法不规范。"),
            (PLANS, "下一步将加强法治政府建设，推进依法行政。"),
        ),
    ),
    (
        "r2",
        ZJ_TONGXIANG,
        (
            (RESULTS, "建立合法性审查机制，重大行政决策依法作出。"),
            (PRINCIPAL_DUTY, "党政主要负责人履行推进法治建设第一责任人职责。"),
            (PROBLEMS, "基层法治宣传教育形式单一，群众参与不足。"),
        ),
    ),
    (
        "r3",
        GD_NANHAI,
        (
            (RESULTS, "推進法治政府建設，完善行政執法監督制度。"),
            (OTHER, "開展普法宣傳活動12次，提升群眾法治意識。"),
            (PLANS, "持续优化营商环境，推进政务服务标准化。"),
        ),
    ),
    (
        "r4",
        UNKNOWN,
        (
            (OTHER, "加强行政复议工作，化解行政争议。"),
            (RESULTS, "法治政府法治政府建设示范创建，法治政府。"),
        ),
    ),
)


def unit_vectors(n: int, seed: int, dim: int = DIM) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def build_report(
    report_id: str, meta: ReportMeta, passages: Sequence[tuple[str, str]], seed: int
) -> tuple[Report, list[IndexedChunk]]:
    """A report whose sections are the passages, one chunk per section, with random unit vectors."""
    text, sections, spans = "", [], []
    for index, (category, body) in enumerate(passages):
        heading = f"{'一二三四五'[index]}、{category}"
        start = len(text)
        text += heading + "\n"
        body_start = len(text)
        text += body + "\n"
        sections.append(
            Section(index, heading, 1, "一二三四五"[index], category, start, body_start, len(text))
        )
        spans.append((body_start, body_start + len(body)))
    report = Report(
        report_id,
        f"/reports/{report_id}.txt",
        text,
        meta,
        tuple(sections),
        "utf-8",
        extract_indicators(text, meta.year, sections),
    )
    vectors = unit_vectors(len(passages), seed)
    chunks = []
    for section, (start, end), vector in zip(sections, spans, vectors, strict=True):
        chunk = Chunk(
            id=f"{report_id}:{section.index}:0",
            report_id=report_id,
            section_index=section.index,
            breadcrumb=report.breadcrumb(section),
            category=section.category,
            text=text[start:end],
            start=start,
            end=end,
            meta=meta,
        )
        tokens = tuple(tokenize(chunk.text))
        assert 0 < len(tokens) < 24, "keep contract chunks short: Lucene stores longer lengths lossily"
        chunks.append(IndexedChunk(chunk, fold(chunk.text), tokens, vector))
    return report, chunks


@lru_cache(maxsize=1)
def corpus() -> tuple[tuple[Report, tuple[IndexedChunk, ...]], ...]:
    built = []
    for seed, (report_id, meta, passages) in enumerate(REPORTS):
        report, chunks = build_report(report_id, meta, passages, seed)
        built.append((report, tuple(chunks)))
    return tuple(built)


def all_chunks(data: Sequence[tuple[Report, Sequence[IndexedChunk]]] | None = None) -> list[IndexedChunk]:
    return [c for _, chunks in (data or corpus()) for c in chunks]


def lucene_bm25(chunks: Sequence[IndexedChunk], query: Sequence[str]) -> dict[str, float]:
    """Reference BM25: Lucene's formula, k1 = 1.2, b = 0.75, query tokens counted with repetition."""
    docs = [c.tokens for c in chunks if c.tokens]
    n = len(docs)
    avgdl = sum(map(len, docs)) / n
    scores: dict[str, float] = {}
    for item in chunks:
        score = 0.0
        for term in query:
            tf = item.tokens.count(term)
            if tf:
                df = sum(term in d for d in docs)
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                score += idf * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * len(item.tokens) / avgdl))
        if score > 0:
            scores[item.chunk.id] = score
    return scores


def cosine_ranking(chunks: Sequence[IndexedChunk], query: np.ndarray) -> list[tuple[str, float]]:
    ranked = [(c.chunk.id, float(c.vector @ query)) for c in chunks]
    return sorted(ranked, key=lambda pair: -pair[1])


def publish(store: Store, data: Sequence[tuple[Report, Sequence[IndexedChunk]]] | None = None) -> None:
    writer = store.new_generation(EMBEDDER, DIM)
    for report, chunks in data or corpus():
        writer.add(report, chunks)
    writer.publish()


def passes(item: IndexedChunk, filters: Filters) -> bool:
    """What a filter means, stated directly on one chunk."""
    meta, chunk = item.chunk.meta, item.chunk
    return (
        (filters.year_min is None or (meta.year is not None and meta.year >= filters.year_min))
        and (filters.year_max is None or (meta.year is not None and meta.year <= filters.year_max))
        and (not filters.provinces or meta.province in filters.provinces)
        and (not filters.counties or meta.county in filters.counties)
        and (not filters.townships or meta.township in filters.townships)
        and (not filters.categories or chunk.category in filters.categories)
        and (not filters.report_ids or chunk.report_id in filters.report_ids)
        and chunk.report_id not in filters.exclude_report_ids
        and all(p in item.folded for p in filters.phrases)
        and (
            not filters.phrase_groups or any(all(p in item.folded for p in g) for g in filters.phrase_groups)
        )
        and not any(x in item.folded for x in filters.excluded)
        and (filters.match is None or filters.match.satisfied_by(item.tokens))
        and all(t in fold(meta.title) for t in filters.title_contains)
        and all(t in fold(meta.issuer) for t in filters.issuer_contains)
        and _published_in(meta, filters.published_from, filters.published_to)
    )


def _published_in(meta: ReportMeta, low: str | None, high: str | None) -> bool:
    """The publication date in [low, high]; without a stated date, the report's year in their years."""
    if not low and not high:
        return True
    if meta.published:
        return (not low or meta.published >= low) and (not high or meta.published <= high)
    return (
        meta.year is not None
        and (not low or meta.year >= int(low[:4]))
        and (not high or meta.year <= int(high[:4]))
    )


FILTER_CASES: dict[str, Filters] = {
    "year_min": Filters(year_min=2022),
    "year_max": Filters(year_max=2022),
    "year_range": Filters(year_min=2022, year_max=2022),
    "provinces": Filters(provinces=("广东省",)),
    "counties": Filters(counties=("海宁市", "南海区")),
    "townships": Filters(townships=("乌镇镇",)),
    "categories": Filters(categories=(RESULTS, PLANS)),
    "report_ids": Filters(report_ids=("r2", "r4")),
    "exclude_report_ids": Filters(exclude_report_ids=("r1",)),
    "phrases": Filters(phrases=(fold("法治政府"),)),
    "two_phrases": Filters(phrases=(fold("法治"), fold("建設"))),
    "excluded": Filters(excluded=(fold("执法"),)),
    "combined": Filters(provinces=("浙江省",), categories=(PROBLEMS,), excluded=(fold("宣传"),)),
    "nothing_matches": Filters(townships=("不存在镇",)),
    "phrase_groups": Filters(phrase_groups=((fold("合法性审查"),), (fold("法治"), fold("建設")))),
    "title_contains": Filters(title_contains=(fold("法治政府建設"), fold("镇"))),
    "issuer_contains": Filters(issuer_contains=(fold("人民政府"),)),
    "published_range": Filters(published_from="2022-06-01", published_to="2023-12-31"),
    "published_from_undated_by_year": Filters(published_from="2023-01-01"),
}

INDICATOR_FILTER_CASES: dict[str, Filters] = {
    "none": NO_FILTERS,
    "year_range": Filters(year_min=2021, year_max=2021),
    "provinces": Filters(provinces=("广东省",)),
    "townships": Filters(townships=("许村镇", "西樵镇")),
    "categories": Filters(categories=(OTHER,)),
    "report_ids": Filters(report_ids=("r3",)),
    "exclude_report_ids": Filters(exclude_report_ids=("r1",)),
    "nothing_matches": Filters(counties=("不存在县",)),
}


def expected_indicators(filters: Filters) -> list[tuple[str, str, float, str, int]]:
    """(report id, kind, value, unit, figure offset) of every corpus indicator ``filters`` keep, in order."""
    rows = []
    for report, _ in sorted(corpus(), key=lambda pair: pair[0].id):
        meta = report.meta
        if not (
            (filters.year_min is None or (meta.year is not None and meta.year >= filters.year_min))
            and (filters.year_max is None or (meta.year is not None and meta.year <= filters.year_max))
            and (not filters.provinces or meta.province in filters.provinces)
            and (not filters.counties or meta.county in filters.counties)
            and (not filters.townships or meta.township in filters.townships)
            and (not filters.report_ids or report.id in filters.report_ids)
            and report.id not in filters.exclude_report_ids
        ):
            continue
        for i in sorted(report.indicators, key=lambda i: i.figure_start):
            if not filters.categories or i.category in filters.categories:
                rows.append((report.id, i.kind, i.value, i.unit, i.figure_start))
    return rows


QUERY = tuple(tokenize("推进法治政府建设 行政执法"))

# Lexical-match rules (what ``search_app.matching`` builds), stated on the corpus's tokens.
RULES: dict[str, MatchRule] = {
    "one_term": MatchRule(((("法治政府",),),), 1),
    "all_of_two": MatchRule(((("行政",),), (("执法",),)), 2),
    "two_of_three": MatchRule(((("法治",),), (("建设",),), (("意识",),)), 2),
    "alternatives": MatchRule(((("执法",), ("法治", "宣传")),), 1),
    "unknown_token": MatchRule(((("区块链",),),), 1),
    "no_terms": MatchRule((), 0),
}


def facet_counts(chunks: Sequence[IndexedChunk]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {name: {} for name in FACET_FIELDS}
    for item in chunks:
        meta = item.chunk.meta
        values = {
            "year": str(meta.year) if meta.year else "",
            "province": meta.province,
            "county": meta.county,
            "township": meta.township,
            "category": item.chunk.category,
        }
        for name, value in values.items():
            if value:
                counts[name][value] = counts[name].get(value, 0) + 1
    return counts


class StoreContract:
    """Subclass with a ``store`` fixture that yields a new, empty store."""

    # -- empty ---------------------------------------------------------------------------------------
    def test_empty_store_refuses_searches(self, store: Store) -> None:
        with pytest.raises(IndexEmptyError):
            store.lexical(["法治"], NO_FILTERS, 5)
        with pytest.raises(IndexEmptyError):
            store.vector(unit_vectors(1, 0)[0], NO_FILTERS, 5)
        stats = store.stats()
        assert (stats.reports, stats.chunks, stats.embedder_id, stats.generation) == (0, 0, None, None)
        assert store.embedder_id() is None

    # -- ranking -------------------------------------------------------------------------------------
    def test_lexical_scores_follow_lucene_bm25(self, store: Store) -> None:
        publish(store)
        expected = lucene_bm25(all_chunks(), QUERY)
        hits = store.lexical(QUERY, NO_FILTERS, 100)
        assert {h.chunk_id for h in hits} == set(expected)
        for hit in hits:
            assert hit.score == pytest.approx(expected[hit.chunk_id], rel=1e-4)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    def test_lexical_top_k_and_traditional_script(self, store: Store) -> None:
        publish(store)
        expected = sorted(lucene_bm25(all_chunks(), QUERY).items(), key=lambda p: -p[1])
        assert [h.chunk_id for h in store.lexical(QUERY, NO_FILTERS, 2)] == [i for i, _ in expected[:2]]
        # the Traditional chunk is found by a Simplified query, because both sides are folded
        assert "r3:0:0" in {h.chunk_id for h in store.lexical(tokenize("监督制度"), NO_FILTERS, 5)}
        assert store.lexical(["没有这个词"], NO_FILTERS, 5) == []
        assert store.lexical([], NO_FILTERS, 5) == []

    def test_vector_ranking_is_cosine(self, store: Store) -> None:
        publish(store)
        query = unit_vectors(1, 99)[0]
        expected = cosine_ranking(all_chunks(), query)
        hits = store.vector(query, NO_FILTERS, 5)
        assert [h.chunk_id for h in hits] == [i for i, _ in expected[:5]]
        for hit, (_, score) in zip(hits, expected, strict=False):
            assert hit.score == pytest.approx(score, abs=1e-4)

    # -- filters -------------------------------------------------------------------------------------
    @pytest.mark.parametrize("case", list(FILTER_CASES))
    def test_lexical_honours_filter(self, store: Store, case: str) -> None:
        publish(store)
        filters = FILTER_CASES[case]
        query = (*QUERY, *tokenize("法治宣传教育 审查"))
        reference = lucene_bm25(all_chunks(), query)
        expected = {c.chunk.id for c in all_chunks() if c.chunk.id in reference and passes(c, filters)}
        hits = store.lexical(query, filters, 100)
        assert {h.chunk_id for h in hits} == expected
        for hit in hits:
            assert hit.score == pytest.approx(reference[hit.chunk_id], rel=1e-4)

    @pytest.mark.parametrize("case", list(FILTER_CASES))
    def test_vector_honours_filter_without_losing_hits(self, store: Store, case: str) -> None:
        publish(store)
        filters = FILTER_CASES[case]
        query = unit_vectors(1, 42)[0]
        allowed = [c for c in all_chunks() if passes(c, filters)]
        expected = [i for i, _ in cosine_ranking(allowed, query)]
        assert [h.chunk_id for h in store.vector(query, filters, 3)] == expected[:3]
        assert [h.chunk_id for h in store.vector(query, filters, 100)] == expected

    def test_excluded_keeps_k_hits_when_k_exist(self, store: Store) -> None:
        publish(store)
        filters = Filters(excluded=(fold("法治"),))
        allowed = [c for c in all_chunks() if passes(c, filters)]
        assert len(allowed) >= 3
        for query in unit_vectors(5, 7):
            hits = store.vector(query, filters, 3)
            assert [h.chunk_id for h in hits] == [i for i, _ in cosine_ranking(allowed, query)[:3]]

    # -- reading back --------------------------------------------------------------------------------
    def test_get_chunks_keeps_asked_order_and_skips_unknown(self, store: Store) -> None:
        publish(store)
        by_id = {c.chunk.id: c.chunk for c in all_chunks()}
        ids = ["r3:1:0", "nope:0:0", "r1:0:0", "r4:1:0"]
        assert store.get_chunks(ids) == [by_id["r3:1:0"], by_id["r1:0:0"], by_id["r4:1:0"]]
        assert store.get_chunks([]) == []

    def test_get_vectors_in_asked_order(self, store: Store) -> None:
        publish(store)
        by_id = {c.chunk.id: c.vector for c in all_chunks()}
        ids = ["r2:2:0", "r1:0:0"]
        np.testing.assert_allclose(store.get_vectors(ids), np.stack([by_id[i] for i in ids]), atol=1e-5)

    def test_get_report_round_trip(self, store: Store) -> None:
        publish(store)
        for report, _ in corpus():
            assert store.get_report(report.id) == report
        assert store.get_report("missing") is None
        assert store.report_sources() == {r.id: r.source for r, _ in corpus()}

    def test_facets_over_filters_and_over_ids(self, store: Store) -> None:
        publish(store)
        assert store.facets(NO_FILTERS) == facet_counts(all_chunks())
        filters = Filters(provinces=("浙江省",), excluded=(fold("宣传"),))
        assert store.facets(filters) == facet_counts([c for c in all_chunks() if passes(c, filters)])
        ids = ["r1:0:0", "r3:2:0", "r4:0:0"]
        chosen = [c for c in all_chunks() if c.chunk.id in ids]
        assert store.facets(NO_FILTERS, chunk_ids=ids) == facet_counts(chosen)

    # -- result sets: the lexical-match rule, exact counts ---------------------------------------------
    @pytest.mark.parametrize("case", sorted(RULES))
    def test_match_rule_counts_and_restricts(self, store: Store, case: str) -> None:
        publish(store)
        filters = Filters(match=RULES[case])
        expected = {c.chunk.id for c in all_chunks() if passes(c, filters)}
        assert store.count(filters) == len(expected)
        assert store.passing([c.chunk.id for c in all_chunks()], filters) == expected
        assert {h.chunk_id for h in store.lexical((*QUERY, "区块链"), filters, 100)} <= expected
        assert {h.chunk_id for h in store.vector(unit_vectors(1, 3)[0], filters, 100)} == expected
        assert store.facets(filters) == facet_counts([c for c in all_chunks() if c.chunk.id in expected])

    def test_match_rule_with_other_filters(self, store: Store) -> None:
        publish(store)
        rule = RULES["two_of_three"]
        for other in FILTER_CASES.values():
            filters = replace(other, match=rule)
            expected = {c.chunk.id for c in all_chunks() if passes(c, filters)}
            assert store.count(filters) == len(expected), other
            assert store.passing(["r1:0:0", "r2:2:0", "r3:0:0", "nope"], filters) == expected & {
                "r1:0:0",
                "r2:2:0",
                "r3:0:0",
            }

    def test_count_is_exact_far_beyond_any_result_window(self, store: Store) -> None:
        writer = store.new_generation(EMBEDDER, DIM)
        for r in range(4):
            writer.add(*synthetic_report(f"big{r}", 800, seed=r))
        writer.publish()
        assert store.count(Filters(match=MatchRule(((("common",),),), 1))) == 3200
        assert store.count(NO_FILTERS) == 3200
        one_report = MatchRule(((("common",),), (("big2",),)), 2)
        assert store.count(Filters(match=one_report)) == 800
        assert store.count(Filters(match=MatchRule(((("big1",), ("big3",)),), 1))) == 1600
        assert store.count(Filters(match=MatchRule(((("big1",),), (("t7",),)), 2))) == 1

    def test_calibration_is_published_with_its_generation(self, store: Store) -> None:
        publish(store)
        assert store.calibration() is None  # nothing recorded for this generation
        writer = store.new_generation(EMBEDDER, DIM)
        for report, chunks in corpus():
            writer.add(report, chunks)
        recorded = {"embedder_id": EMBEDDER, "excess": {"zh": 0.03, "en": 0.04}, "centroid": [0.5] * DIM}
        writer.set_calibration(recorded)
        assert store.calibration() is None  # not before the publish
        writer.publish()
        assert store.calibration() == recorded

    # -- indicators ----------------------------------------------------------------------------------
    def test_corpus_has_indicators_in_both_scripts(self) -> None:
        kinds = {(r.id, i.kind, i.value) for r, _ in corpus() for i in r.indicators}
        assert kinds == {("r1", "调解纠纷件数", 63), ("r1", "调解成功件数", 60), ("r3", "普法活动次数", 12)}

    @pytest.mark.parametrize("case", list(INDICATOR_FILTER_CASES))
    def test_indicators_listed_with_their_reports(self, store: Store, case: str) -> None:
        publish(store)
        filters = INDICATOR_FILTER_CASES[case]
        listed = store.indicators(filters)
        assert [
            (r.report_id, r.indicator.kind, r.indicator.value, r.indicator.unit, r.indicator.figure_start)
            for r in listed
        ] == expected_indicators(filters)
        by_id = {report.id: report for report, _ in corpus()}
        for row in listed:
            report = by_id[row.report_id]
            assert row.meta == report.meta
            assert row.indicator in report.indicators
            assert report.text[row.indicator.start : row.indicator.end] == row.indicator.text

    def test_indicators_follow_replaced_and_removed_reports(self, store: Store) -> None:
        with pytest.raises(IndexEmptyError):
            store.indicators(NO_FILTERS)
        publish(store)
        report, chunks = build_report("r1", ZJ_HAINING, ((RESULTS, "调解矛盾纠纷70件。"),), 12)
        store.replace_report(report, chunks)
        store.remove_report("r3")
        listed = [(r.report_id, r.indicator.kind, r.indicator.value) for r in store.indicators(NO_FILTERS)]
        assert listed == [("r1", "调解纠纷件数", 70)]
        assert store.get_report("r1").indicators == report.indicators

    # -- changing the published generation -----------------------------------------------------------
    def test_replace_report_by_id_and_by_source(self, store: Store) -> None:
        publish(store)
        new_meta = replace(ZJ_TONGXIANG, year=2024)
        report, chunks = build_report("r2", new_meta, ((RESULTS, "深化数字化改革，推进掌上办事。"),), 11)
        store.replace_report(report, chunks)
        assert {h.chunk_id for h in store.lexical(tokenize("数字化"), NO_FILTERS, 10)} == {"r2:0:0"}
        assert store.lexical(tokenize("合法性审查"), NO_FILTERS, 10) == []
        assert store.get_report("r2") == report
        assert store.facets(Filters(report_ids=("r2",)))["year"] == {"2024": 1}
        assert store.stats().chunks == len(all_chunks()) - 2
        # same source, new id: the old report goes
        moved, moved_chunks = build_report("r2b", new_meta, ((PLANS, "持续推进掌上办事。"),), 12)
        store.replace_report(replace(moved, source=report.source), moved_chunks)
        assert store.get_report("r2") is None
        assert store.report_sources()["r2b"] == report.source
        assert "r2" not in store.report_sources()

    def test_replace_report_adds_a_new_one(self, store: Store) -> None:
        publish(store)
        report, chunks = build_report("r5", ZJ_HAINING, ((OTHER, "开展行政复议规范化建设。"),), 13)
        store.replace_report(report, chunks)
        assert store.stats().reports == len(corpus()) + 1
        assert "r5:0:0" in {h.chunk_id for h in store.lexical(tokenize("规范化"), NO_FILTERS, 5)}

    def test_remove_report(self, store: Store) -> None:
        publish(store)
        store.remove_report("r1")
        assert store.get_report("r1") is None
        assert not any(h.chunk_id.startswith("r1:") for h in store.lexical(QUERY, NO_FILTERS, 100))
        assert store.stats().chunks == len(all_chunks()) - 3
        assert "海宁市" not in store.facets(NO_FILTERS)["county"]

    def test_version_changes_with_every_visible_change(self, store: Store) -> None:
        assert store.version() is None
        publish(store)
        seen = [store.version()]
        assert seen[0] is not None and store.version() == seen[0]  # stable while nothing changes
        report, chunks = build_report("r5", ZJ_HAINING, ((OTHER, "开展行政复议规范化建设。"),), 13)
        store.replace_report(report, chunks)
        seen.append(store.version())
        store.remove_report("r5")
        seen.append(store.version())
        publish(store)
        seen.append(store.version())
        assert None not in seen and len(set(seen)) == len(seen), seen

    def test_drop_leaves_an_empty_usable_store(self, store: Store) -> None:
        publish(store)
        store.drop()
        assert store.version() is None
        assert (store.stats().reports, store.stats().chunks) == (0, 0)
        with pytest.raises(IndexEmptyError):
            store.lexical(QUERY, NO_FILTERS, 5)
        publish(store)
        assert store.stats().chunks == len(all_chunks())

    def test_second_generation_replaces_the_first(self, store: Store) -> None:
        publish(store)
        first = store.stats().generation
        second_data = [corpus()[0], corpus()[2]]
        publish(store, second_data)
        stats = store.stats()
        assert stats.generation != first
        assert (stats.reports, stats.chunks) == (2, len(all_chunks(second_data)))
        assert store.get_report("r2") is None
        assert {h.chunk_id[:2] for h in store.lexical(QUERY, NO_FILTERS, 100)} <= {"r1", "r3"}
        expected = lucene_bm25(all_chunks(second_data), QUERY)
        for hit in store.lexical(QUERY, NO_FILTERS, 100):  # statistics are the new generation's alone
            assert hit.score == pytest.approx(expected[hit.chunk_id], rel=1e-4)

    def test_unpublished_and_aborted_generations_stay_invisible(self, store: Store) -> None:
        publish(store)
        before = store.stats()
        hits = store.lexical(QUERY, NO_FILTERS, 100)
        writer = store.new_generation(EMBEDDER, DIM)
        writer.add(*corpus()[3])
        assert store.lexical(QUERY, NO_FILTERS, 100) == hits
        writer.abort()
        assert store.lexical(QUERY, NO_FILTERS, 100) == hits
        after = store.stats()
        assert (after.generation, after.chunks, after.reports) == (
            before.generation,
            before.chunks,
            before.reports,
        )

    # -- embedder identity and stats -----------------------------------------------------------------
    def test_embedder_mismatch_is_refused(self, store: Store) -> None:
        publish(store)
        with pytest.raises(EmbedderMismatchError):
            store.vector(unit_vectors(1, 1, dim=DIM + 1)[0], NO_FILTERS, 3)
        report, chunks = corpus()[0]
        wrong = [replace(c, vector=unit_vectors(1, 2, dim=DIM + 4)[0]) for c in chunks]
        with pytest.raises(EmbedderMismatchError):
            store.replace_report(report, wrong)
        assert store.get_report(report.id) == report

    def test_stats_describe_the_published_generation(self, store: Store) -> None:
        publish(store)
        stats = store.stats()
        assert (stats.reports, stats.chunks) == (len(corpus()), len(all_chunks()))
        assert (stats.embedder_id, stats.dim) == (EMBEDDER, DIM)
        assert store.embedder_id() == EMBEDDER
        assert stats.generation
        assert datetime.fromisoformat(stats.published_at or "").tzinfo is not None


def synthetic_report(
    report_id: str, n_chunks: int, seed: int = 0, meta: ReportMeta = ZJ_HAINING
) -> tuple[Report, list[IndexedChunk]]:
    """A report of ``n_chunks`` one-line sections, tokens built directly (no jieba): fast at any size.

    Every chunk holds the token "common", so a lexical query for it returns every chunk of the index.
    """
    lines = [f"第{i}段 common {report_id} t{i}" for i in range(n_chunks)]
    text = "\n".join(lines)
    vectors = unit_vectors(n_chunks, seed)
    sections, chunks, start = [], [], 0
    for i, (line, vector) in enumerate(zip(lines, vectors, strict=True)):
        end = start + len(line)
        sections.append(Section(i, "", 1, "", OTHER, start, start, end))
        chunk = Chunk(f"{report_id}:{i}:0", report_id, i, (), OTHER, line, start, end, meta)
        chunks.append(IndexedChunk(chunk, line, ("common", report_id, f"t{i}"), vector))
        start = end + 1
    return Report(report_id, f"/synthetic/{report_id}.txt", text, meta, tuple(sections), "utf-8"), chunks

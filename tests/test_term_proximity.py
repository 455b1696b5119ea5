"""Coverage and proximity of a query's content terms in a passage, and their part in hybrid ranking."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import build_index

from indexer.settings import Settings
from search_app.matching import content_terms
from search_app.query import parse_query
from search_app.services import open_engine
from search_app.term_proximity import proximity, shortest_span

QUERY = "基层缺少法律专业人才"


def terms(query: str):
    return content_terms(parse_query(query))


def test_shortest_span_holds_one_position_of_each_list() -> None:
    assert shortest_span([[0, 50], [40], [45, 90]]) == 11  # 40, 45, 50
    assert shortest_span([[3], [3]]) == 1


def test_every_term_close_together_scores_one() -> None:
    found = proximity(terms(QUERY), "乡里基层缺少法律专业人才，群众需求难以满足。")
    assert found.coverage == 1.0
    assert found.proximity == 1.0


def test_the_same_terms_far_apart_keep_coverage_but_lose_proximity() -> None:
    filler = "重点项目建设有序推进，产业结构持续优化，城乡面貌显著改善，" * 3
    text = f"基层治理不断加强。{filler}资金缺少。{filler}法律服务完善。{filler}引进专业人才120名。"
    found = proximity(terms(QUERY), text)
    assert found.coverage == 1.0
    assert 0.0 < found.proximity < 0.3


def test_repeating_a_term_earns_nothing() -> None:
    once = proximity(terms(QUERY), "法律专业人才")
    often = proximity(terms(QUERY), "法律专业人才，法律专业人才，法律专业人才")
    assert once == often
    assert once.coverage == pytest.approx(0.5)  # 法律 and 专业人才 of 基层, 缺少, 法律, 专业人才


def test_a_traditional_passage_is_read_folded() -> None:
    assert proximity(terms(QUERY), "基層缺少法律專業人才").coverage == 1.0


def test_english_words_count_through_their_glossary_equivalents() -> None:
    found = proximity(terms("people's mediation"), "全乡人民调解组织实现全覆盖")
    assert found.coverage == 1.0


def test_no_content_terms_means_no_signal() -> None:
    assert proximity((), "任何文字").coverage == 0.0


REPORTS = {
    # Every word of the query in one clause of a long sentence.
    "township.txt": "甲乡2023年法治政府建设工作情况报告\n\n一、存在的问题\n"
    "（一）队伍建设方面。全乡司法所、综治中心和各村调解委员会工作人员年龄偏大，基层缺少法律专业人才，"
    "群众日益增长的法律服务需求难以满足，矛盾纠纷调处质量和效率有待提高，公共法律服务平台作用发挥不够充分。\n"
    "（二）部分干部学法用法不够主动。\n",
    # The same words scattered over a paragraph about other things, 专业人才 three times.
    "county.txt": "乙县2023年政府工作报告\n\n一、主要工作\n"
    "基层专业人才队伍持续壮大，全年引进专业人才120名、培养本土专业人才300名。重点项目建设有序推进，"
    "产业结构持续优化，城乡面貌显著改善，民生保障水平稳步提高，招商引资成效明显，乡村产业发展缺少资金与技术"
    "支撑。教育医疗条件持续改善，社会治理重心下移，基层治理能力不断提升，法律服务体系不断完善。\n",
}


def test_hybrid_ranks_the_passage_holding_the_query_close_together_first(tmp_path: Path) -> None:
    sources = tmp_path / "reports"
    sources.mkdir()
    for name, text in REPORTS.items():
        (sources / name).write_text(text, encoding="utf-8")
    engine = open_engine(Settings(index_dir=build_index([sources], tmp_path / "index")))

    def first(mode: str) -> str:
        return Path(engine.search(QUERY, mode=mode).hits[0].chunk.meta.source).name

    assert first("bm25") == "county.txt"  # term frequency wins in BM25 alone
    assert first("hybrid") == "township.txt"
    engine.config = dataclasses.replace(engine.config, coverage_weight=0.0, proximity_weight=0.0)
    assert first("hybrid") == "county.txt"  # so it is the proximity signal that decides

"""Golden checks on the five sample reports: metadata, section outline, categories, chunks; and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from indexer.__main__ import main
from indexer.ingest.chunking import chunk_report
from indexer.ingest.readers import RawDocument, ReadError
from indexer.ingest.reports import load_report, parse_report, report_id
from indexer.ingest.sections import own_end
from indexer.models import OTHER, PLANS, PRINCIPAL_DUTY, PROBLEMS, RESULTS, Report

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
_HAS_WORD = re.compile(r"[^\W_]")


def seed(prefix: str) -> Path:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    return {p: load_report(seed(p)) for p in ("000", "001", "002", "003", "004")}


GOLDEN_META = {
    "000": ("乌苏市八十四户乡法治建设工作报告", "八十四户乡", "乌苏市", "新疆维吾尔自治区", 2023, ""),
    "001": ("船溪鄉2022年度法治政府建設工作情況", "船溪鄉", "辰溪縣", "湖南省", 2022, "2022-11-29"),
    "002": ("湟中区土门关乡2024年法治政府建设情况报告", "土门关乡", "湟中区", "青海省", 2024, ""),
    "003": ("金城乡2023年法治政府建设工作报告", "金城乡", "博爱县", "河南省", 2023, "2024-01-19"),
    "004": (
        "酉阳土家族苗族自治县花田乡关于2023年法治政府建设情况的报告",
        "花田乡",
        "酉阳土家族苗族自治县",
        "重庆市",
        2023,
        "",
    ),
}


@pytest.mark.parametrize("prefix", sorted(GOLDEN_META))
def test_metadata(reports: dict[str, Report], prefix: str) -> None:
    m = reports[prefix].meta
    assert (m.title, m.township, m.county, m.province, m.year, m.published) == GOLDEN_META[prefix]


GOLDEN_TOP = {
    "000": [("", OTHER), ("一、履职情况", RESULTS), ("二、存在的问题", PROBLEMS), ("下一步计划", PLANS)],
    "001": [
        ("", OTHER),
        ("一、加強組織領導,落實主體責任", RESULTS),
        ("二、切實履行職責,推進工作落實", RESULTS),
        ("三、強化工作保障,確保工作實效", RESULTS),
        ("", PROBLEMS),
        ("", PLANS),
    ],
    "002": [
        ("", OTHER),
        ("1、 上一年度推进法治政府建设的主要举措和成效", RESULTS),
        ("二、上一年度推进法治政府建设存在的不足和原因", PROBLEMS),
        ("", PLANS),
        (
            "三、上一年度党政主要负责人履行推进法治建设第一责任人职责，加强法治政府建设的有关情况",
            PRINCIPAL_DUTY,
        ),
        ("四、下一年度推进法治政府建设的主要安排", PLANS),
    ],
    "003": [
        ("", OTHER),
        ("一、2023年度推进法治政府建设的主要举措和成效", RESULTS),
        (
            "二、2023年度党政主要负责人履行推进法治建设第一责任人职责，加强法治政府建设的有关情况",
            PRINCIPAL_DUTY,
        ),
        ("三、2023年度推进法治政府建设存在的不足和原因", PROBLEMS),
        ("四、下步工作打算", PLANS),
    ],
    "004": [("", OTHER), ("一、2023年工作情况", RESULTS), ("二、2024年工作思路目标举措", PLANS)],
}


@pytest.mark.parametrize("prefix", sorted(GOLDEN_TOP))
def test_top_level_outline(reports: dict[str, Report], prefix: str) -> None:
    top = [(s.heading, s.category) for s in reports[prefix].sections if s.parent is None]
    assert top == GOLDEN_TOP[prefix]


def test_second_level_of_mixed_schemes(reports: dict[str, Report]) -> None:
    r002, r003 = reports["002"], reports["003"]
    first = next(s for s in r002.sections if s.ordinal == "1、")
    assert [s.ordinal for s in r002.sections if s.parent == first.index] == [
        "（一）",
        "（二）",
        "（三）",
        "（四）",
    ]
    duty = next(s for s in r003.sections if s.ordinal == "二、" and s.level == 1)
    assert [s.ordinal for s in r003.sections if s.parent == duty.index] == ["（1）", "（2）", "（三）"]


def test_points_of_000(reports: dict[str, Report]) -> None:
    r = reports["000"]
    first = next(s for s in r.sections if s.ordinal == "（一）")
    assert [s.heading for s in r.sections if s.parent == first.index] == [
        "一是提升政治素质",
        "二是遵章守法学法，提高法律素质",
        "三是健全法治政府机制建设",
    ]
    assert r.breadcrumb(r.sections[first.index + 1]) == (
        "一、履职情况",
        "（一）确立社会主义法治理念，着力夯实政治引领根基",
        "一是提升政治素质",
    )


def test_closing_paragraph_of_001(reports: dict[str, Report]) -> None:
    r = reports["001"]
    problems, plans = (s for s in r.sections if s.parent is None and not s.heading and s.index > 0)
    assert r.text[problems.start :].startswith("雖然我鄉")
    assert problems.category == PROBLEMS and problems.end <= plans.start
    assert r.text[plans.start :].startswith("今后,我們將")
    assert plans.category == PLANS
    plan_points = [s.heading for s in r.sections if s.parent == plans.index]
    assert plan_points[0] == "一是推動學習宣傳習近平法治思想走深走實" and len(plan_points) == 3
    assert "人民政府" not in r.text[plans.start : plans.end]


@pytest.mark.parametrize("prefix", sorted(GOLDEN_META))
def test_chunk_invariants(reports: dict[str, Report], prefix: str) -> None:
    report = reports[prefix]
    chunks = chunk_report(report)
    assert chunks
    for chunk in chunks:
        section = report.sections[chunk.section_index]
        stop = own_end(report.sections, section)
        assert section.start <= chunk.start and chunk.end <= stop, "chunk crosses a section"
        body = report.text[max(chunk.start, section.body_start) : chunk.end]
        assert _HAS_WORD.search(body), f"heading-only chunk {chunk.id}"
        ends_sentence = chunk.text[-1] in "。！？；!?;：:”’）)"
        at_line_end = report.text[chunk.end : chunk.end + 1] in ("\n", "")
        at_section_end = not report.text[chunk.end : stop].strip()
        assert ends_sentence or at_line_end or at_section_end, f"chunk {chunk.id} cuts a sentence"
    assert len({c.id for c in chunks}) == len(chunks)


def test_report_id_is_stable_and_content_based(reports: dict[str, Report]) -> None:
    r = reports["000"]
    assert r.id == report_id(r.text) == load_report(seed("000")).id
    assert re.fullmatch(r"[0-9a-f]{16}", r.id)
    assert len({rep.id for rep in reports.values()}) == 5


def test_empty_document_is_a_read_error() -> None:
    with pytest.raises(ReadError, match="no text after cleaning"):
        parse_report(RawDocument(text=" \n\n ", source="empty.txt", encoding="utf-8"))


def test_cli_parse_prints_outline_and_continues_after_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    code = main(["parse", str(seed("001")), str(empty), str(tmp_path / "missing.txt"), str(seed("004"))])
    out, err = capsys.readouterr()
    assert code == 1
    assert "船溪鄉" in out and "花田乡" in out and "[存在问题]" in out
    assert "chunks: " in out
    assert err.count("error: ") == 2 and "empty.txt" in err and "missing.txt" in err


def test_cli_parse_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--json", str(seed("003")), str(seed("000"))]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["meta"]["township"] for row in rows] == ["金城乡", "八十四户乡"]
    assert rows[0]["sections"][1]["heading"] == "一、2023年度推进法治政府建设的主要举措和成效"
    assert rows[0]["chunks"] > 10

"""Indicators extracted from the seed reports and from hostile sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.indicators import extract_indicators
from indexer.indicators.__main__ import main
from indexer.indicators.evaluation import evaluate, load_golden
from indexer.ingest.reports import load_report
from indexer.models import RESULTS, Indicator, Report

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
GOLDEN = ROOT / "eval" / "indicators_golden.jsonl"


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    return {p.name[:3]: load_report(p) for p in sorted(SEEDS.glob("*.txt"))}


def figures(indicators: tuple[Indicator, ...]) -> list[tuple[str, float, str, bool]]:
    return [(i.kind, i.value, i.unit, i.approx) for i in indicators]


@pytest.mark.parametrize(
    ("seed", "kind", "value", "unit", "approx", "sentence_part"),
    [
        ("000", "调解纠纷件数", 63, "件", False, "共调解各类矛盾纠纷63件"),
        ("000", "调解成功率", 95, "%", True, "成功率均在95％以上"),
        ("001", "调解成功率", 98, "%", False, "調解成功率均達98%"),  # Traditional script
        ("001", "受众人次", 7800, "人", True, "受益人數達7800余人"),
        ("002", "法律顾问覆盖村数", 19, "个", False, "为全乡19个行政村聘请法律顾问"),
        ("003", "法治讲座场次", 20, "场", True, "开展法治讲座20余场"),
        ("004", "法律明白人人数", 6, "名", False, "全年培养法律明白人6名"),
    ],
)
def test_one_figure_of_each_seed(
    reports: dict[str, Report],
    seed: str,
    kind: str,
    value: float,
    unit: str,
    approx: bool,
    sentence_part: str,
) -> None:
    report = reports[seed]
    (found,) = [
        i
        for i in report.indicators
        if (i.kind, i.value, i.unit) == (kind, value, unit) and sentence_part in i.text
    ]
    assert found.approx is approx
    # Offsets point into the report's own (original-script) text.
    assert report.text[found.start : found.end] == found.text
    assert str(int(value)) in report.text[found.figure_start : found.figure_end]
    assert found.year == report.meta.year


def test_traditional_source_sentence_stays_traditional(reports: dict[str, Report]) -> None:
    (rate,) = [i for i in reports["001"].indicators if i.kind == "调解成功率"]
    assert "調解" in rate.text and "调解" not in rate.text
    assert reports["001"].text[rate.figure_start : rate.figure_end] == "98%"
    assert rate.category == RESULTS


def test_golden_precision_and_recall_are_at_least_point_nine() -> None:
    score = evaluate(load_golden(GOLDEN), lambda seed: load_report(SEEDS / seed).indicators)
    assert score.golden >= 30
    assert score.precision >= 0.9, score.spurious
    assert score.recall >= 0.9, score.misses


def test_two_figures_in_one_sentence() -> None:
    found = extract_indicators("2022年，共调解157起，成功154起。")
    assert figures(found) == [("调解纠纷件数", 157, "起", False), ("调解成功件数", 154, "起", False)]
    assert found[0].text == found[1].text == "2022年，共调解157起，成功154起。"
    assert found[0].year == 2022


@pytest.mark.parametrize(
    "sentence",
    [
        "2023年以来，全乡法治建设稳步推进。",  # a year
        "2022年11月29日，乡人民政府。",  # a date
        "第一责任人履行职责，第三次调解会议。",  # ordinals
        "一是加强调解。二是化解纠纷。",  # 一是
        "深刻认识“两个确立”的重大意义，做到“两个维护”。",
        "开展“三亮”活动，推进调解。",
        "持续推进“最多跑一次”，调解纠纷。",
        "推进最多跑一次改革，调解纠纷一次性化解。",
        "法律咨询电话0996-3210123、13912345678，开通12348热线接受咨询。",  # phone numbers
        "一、调解纠纷\n1、调解纠纷\n（一）调解纠纷",  # heading numbers
        "信访总量下降3.8%，调解纠纷同比增长5件。",  # changes, not levels
        "建成乡村振兴示范村148个，食品抽检合格率达98%。",  # figures of other fields
    ],
)
def test_not_indicators(sentence: str) -> None:
    assert extract_indicators(sentence) == ()


def test_chinese_numerals_and_wan() -> None:
    found = extract_indicators("办理法律援助案件7万余件，全乡培养法律明白人三十二名，接待咨询一千二百人次。")
    assert figures(found) == [
        ("法律援助件数", 70000, "件", True),
        ("法律明白人人数", 32, "名", False),
        ("法律咨询人次", 1200, "人次", False),
    ]


def test_full_width_digits_keep_original_offsets() -> None:
    text = "接待咨询４００余人次。"
    (found,) = extract_indicators(text)
    assert (found.value, found.approx) == (400, True)
    assert text[found.figure_start : found.figure_end] == "４００余人次"


def test_sentence_year_overrides_report_year() -> None:
    (found,) = extract_indicators("2021年共开展法治讲座4场次。", year=2023)
    assert found.year == 2021
    (found,) = extract_indicators("共开展法治讲座4场次。", year=2023)
    assert found.year == 2023


def test_evaluate_command_prints_precision_and_recall(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(GOLDEN), "--reports", str(SEEDS)]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "recall" in out and "misses per kind" in out


def test_extract_command_names_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("   ", encoding="utf-8")
    assert main(["extract", str(empty), str(SEEDS / "001_8983b31abeb2f5d4.txt")]) == 1
    captured = capsys.readouterr()
    assert "empty.txt" in captured.err
    assert "调解成功率" in captured.out


def test_sentence_does_not_start_with_the_previous_quotes_end() -> None:
    (found,) = extract_indicators("力争做到“调解一件，成功一件。”截至目前，共调解各类矛盾纠纷63件。")
    assert found.text == "截至目前，共调解各类矛盾纠纷63件。"

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from examples import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.ingest.metadata import extract_meta
from indexer.models import ReportMeta

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

GOLDEN = {
    "000_c075aef1fe53fa61.txt": ReportMeta(
        title="乌苏市八十四户乡法治建设工作报告",
        township="八十四户乡",
        county="乌苏市",
        province="新疆维吾尔自治区",
        year=2023,
    ),
    "001_8983b31abeb2f5d4.txt": ReportMeta(
        title="船溪鄉2022年度法治政府建設工作情況",
        township="船溪鄉",
        county="辰溪縣",
        province="湖南省",
        year=2022,
        published="2022-11-29",
        issuer="辰溪縣船溪鄉人民政府",
    ),
    "002_480e55da089d3041.txt": ReportMeta(
        title="湟中区土门关乡2024年法治政府建设情况报告",
        township="土门关乡",
        county="湟中区",
        province="青海省",
        year=2024,
    ),
    "003_42e9c3cac95679af.txt": ReportMeta(
        title="金城乡2023年法治政府建设工作报告",
        township="金城乡",
        county="博爱县",
        province="河南省",
        year=2023,
        published="2024-01-19",
        issuer="中共金城乡委员会、金城乡人民政府",
    ),
    "004_7b2fcb987ce759c1.txt": ReportMeta(
        title="酉阳土家族苗族自治县花田乡关于2023年法治政府建设情况的报告",
        township="花田乡",
        county="酉阳土家族苗族自治县",
        province="重庆市",
        year=2023,
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_seed_reports(name: str) -> None:
    text = (SEEDS / name).read_text(encoding="utf-8")
    assert extract_meta(text, source=name) == replace(GOLDEN[name], source=name)


def test_raw_artifacts_and_windows_line_ends_do_not_change_the_result() -> None:
    raw = (
        "\ufeff  金城乡2023年法治政府建设工作报告\r\n\r\n中共博爱县委、博爱县人民政府：\r\n"
        "2023年，在县委、县政府的正确领导下，我乡依法行政。\r\n[bookmark: _GoBack]一、主要举措\r\n"
        "\r\n\u3000\u3000中共金城乡委员会\r\n                金城乡人民政府\r\n"
        "2024年1月19日\r\n\r\n— - 1 - —\r\n"
    )
    meta = extract_meta(raw)
    assert (meta.title, meta.township, meta.county, meta.province) == (
        "金城乡2023年法治政府建设工作报告",
        "金城乡",
        "博爱县",
        "河南省",
    )
    assert meta.issuer == "中共金城乡委员会、金城乡人民政府"
    assert meta.published == "2024-01-19"


def test_traditional_report_keeps_its_own_script() -> None:
    text = (
        "關於東勢鎮2021年度法治政府建設情況的報告\n\n"
        "發布時間：2022-01-05 09:30  信息來源：辰溪縣東勢鎮\n\n"
        "2021年以來，我鎮堅持依法行政。\n\n辰溪縣東勢鎮人民政府\n2022年1月5日"
    )
    meta = extract_meta(text)
    assert meta.township == "東勢鎮"
    assert meta.county == "辰溪縣"
    assert meta.province == "湖南省"
    assert meta.year == 2021
    assert meta.published == "2022-01-05"
    assert meta.issuer == "辰溪縣東勢鎮人民政府"


def test_addressee_line_gives_the_county_and_stops_the_title() -> None:
    text = "石门乡法治政府建设工作报告\n中共博爱县委、博爱县人民政府：\n今年以来，我乡全面推进依法行政。"
    meta = extract_meta(text)
    assert meta.title == "石门乡法治政府建设工作报告"
    assert (meta.township, meta.county, meta.province) == ("石门乡", "博爱县", "河南省")


def test_two_line_title_is_joined_but_a_body_line_is_not() -> None:
    two = extract_meta("西宁市湟中区田家寨镇\n2023年法治政府建设情况报告\n\n今年，我镇依法行政。")
    assert two.title == "西宁市湟中区田家寨镇2023年法治政府建设情况报告"
    assert (two.township, two.county, two.province, two.year) == ("田家寨镇", "湟中区", "青海省", 2023)
    one = extract_meta("八十四户乡法治建设工作报告\n全乡法治政府建设工作稳步推进，现将开展情况报告如下：")
    assert one.title == "八十四户乡法治建设工作报告"


def test_no_year_stays_empty() -> None:
    meta = extract_meta("金城乡法治政府建设工作报告\n\n今年以来，我乡全面推进依法行政，取得明显成效。")
    assert meta.year is None
    assert meta.published == ""


def test_year_from_the_opening_paragraph_and_title_year_wins() -> None:
    assert extract_meta("金城乡法治建设工作报告\n\n2022年以来，我乡依法行政。").year == 2022
    assert extract_meta("金城乡2024年法治建设报告\n\n2022年以来，我乡依法行政。").year == 2024
    assert extract_meta("二〇二三年金城乡法治建设报告\n\n我乡依法行政。").year == 2023


def test_ambiguous_county_leaves_the_province_empty_unless_a_city_settles_it() -> None:
    alone = extract_meta("鼓楼区华大街道2023年法治政府建设工作报告\n\n2023年，我街道依法行政。")
    assert (alone.township, alone.county, alone.province) == ("华大街道", "鼓楼区", "")
    with_city = extract_meta("南京市鼓楼区宁海路街道2023年法治政府建设工作报告")
    assert (with_city.county, with_city.province) == ("鼓楼区", "江苏省")


def test_chinese_numeral_closing_date() -> None:
    text = "金城乡2023年法治政府建设工作报告\n\n我乡依法行政。\n\n金城乡人民政府\n二〇二四年一月十九日"
    assert extract_meta(text).published == "2024-01-19"


def test_invalid_dates_are_dropped() -> None:
    assert extract_meta("金城乡报告\n\n发布时间：2023-02-30\n\n正文。").published == ""


@pytest.mark.parametrize(
    "text",
    [
        "中华人民共和国乡村振兴促进法\n\n（2021年4月29日第十三届全国人民代表大会常务委员会第二十八次会议通过）\n\n"
        "第一章　总则\n\n第一条　为了全面实施乡村振兴战略，促进城乡融合发展，制定本法。",
        "中华人民共和国城乡规划法\n\n第一条　为了加强城乡规划管理，全乡镇统筹，制定本法。",
        "北京市乡、民族乡、镇人民代表大会组织条例\n\n第一条　为了规范乡镇人民代表大会的组织，制定本条例。",
        "宁波市历史文化名城名镇名村保护条例\n\n第一条　为了加强保护，制定本条例。",
        "王某某诉浙江省杭州市余杭区良渚街道办事处变更拆迁补偿安置协议案\n\n裁判要点。",
    ],
)
def test_laws_and_cases_get_no_township_or_county(text: str) -> None:
    meta = extract_meta(text)
    assert meta.title == text.split("\n", 1)[0]
    assert (meta.township, meta.county, meta.issuer) == ("", "", "")
    assert meta.year is None


def test_national_work_report() -> None:
    text = (
        "2024年政府工作报告\n\n——2024年3月5日在第十四届全国人民代表大会第二次会议上\n\n"
        "国务院总理　李强\n\n各位代表：\n\n现在，我代表国务院，向大会报告政府工作。"
    )
    meta = extract_meta(text)
    assert meta == ReportMeta(title="2024年政府工作报告", year=2024)


def test_web_chrome_before_the_title_is_skipped() -> None:
    chrome = "下载\n打印\n全屏\n【字号：\n加大\n】\n"
    text = chrome + "2026年上海市政府工作报告\n来源：解放日报\n时间：2026-02-09\n各位代表："
    meta = extract_meta(text)
    assert (meta.title, meta.province, meta.year, meta.published) == (
        "2026年上海市政府工作报告",
        "上海市",
        2026,
        "2026-02-09",
    )


@pytest.mark.parametrize("text", ["", "\n\n  \n", "。", "x" * 500])
def test_degenerate_text_gives_empty_metadata(text: str) -> None:
    meta = extract_meta(text, source="f.txt")
    assert (meta.title, meta.township, meta.county, meta.province, meta.year) == ("", "", "", "", None)
    assert meta.source == "f.txt"


def test_a_sentence_first_line_is_no_title() -> None:
    meta = extract_meta("为进一步推进依法行政，现将我乡2023年法治政府建设情况报告如下。\n一、主要举措")
    assert meta.title == ""


def test_non_text_input_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"a\.docx"):
        extract_meta(b"bytes", source="a.docx")  # type: ignore[arg-type]


def test_import_reads_no_gazetteer() -> None:
    code = (
        "import indexer.ingest.metadata, indexer.ingest.gazetteer as g; "
        "assert g.default_gazetteer.cache_info().currsize == 0; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


_WORDS = (
    "金城乡",
    "船溪鄉",
    "博爱县",
    "辰溪縣",
    "鼓楼区",
    "南京市",
    "人民政府",
    "中共",
    "委员会",
    "乡村振兴",
    "城乡",
)
_DATES = ("2023年", "二〇二四年一月十九日", "2024-01-19", "发布时间：", "以来，")
_PUNCT = ("报告", "。", "：", "\n", "\n\n", " ")
_PIECES = st.sampled_from((*_WORDS, *_DATES, *_PUNCT))


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(_PIECES | st.text(max_size=5), max_size=30).map("".join))
def test_any_text_gives_well_formed_metadata(text: str) -> None:
    meta = extract_meta(text)
    for value in (meta.township, meta.county, *meta.issuer.split("、")):
        assert value in text
    if meta.published:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta.published)
    assert meta.year is None or 1949 <= meta.year <= 2100

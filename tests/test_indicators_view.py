"""The 指标 tab's pure parts: the table (empty, not zero), chart data, source HTML and exports."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
from openpyxl import load_workbook

from indexer.indicators import extract_indicators
from indexer.models import Report, ReportMeta
from indexer.stores.base import ReportIndicator
from search_app import indicators_view as iv

HUATIAN = ReportMeta("花田乡报告", "花田乡", "酉阳县", "重庆市", 2023)
CHUANXI = ReportMeta("船溪鄉報告", "船溪鄉", "辰溪縣", "湖南省", 2022)
HOSTILE = ReportMeta("测试乡报告", "=测试乡<script>", "某县", "某省", 2023)
TEXTS = {
    "h": (HUATIAN, "全年培养法律明白人6名，现有法律明白人24名。化解各类矛盾纠纷268件，调解成功率100%。"),
    "c": (CHUANXI, "共成功調解矛盾糾紛157起，調解成功154起，調解成功率均達98%。"),
    "x": (HOSTILE, "开展法治讲座3场<b>加粗</b>，<img src=x onerror=alert(1)>解答咨询20余人次。"),
}


def rows(ids: str = "hcx") -> list[ReportIndicator]:
    out = []
    for report_id in ids:
        meta, text = TEXTS[report_id]
        out += [ReportIndicator(report_id, meta, i) for i in extract_indicators(text, meta.year)]
    return out


def test_table_cells_are_empty_where_a_report_gives_no_figure() -> None:
    table = iv.table(rows("hc"))
    assert list(table.index) == ["船溪鄉 · 2022", "花田乡 · 2023"]  # by province: 湖南省, 重庆市
    assert list(table.columns) == ["调解纠纷件数", "调解成功件数", "调解成功率", "法律明白人人数"]
    assert table.at["船溪鄉 · 2022", "调解成功件数"] == 154
    assert math.isnan(table.at["花田乡 · 2023", "调解成功件数"])  # empty, not 0
    assert math.isnan(table.at["船溪鄉 · 2022", "法律明白人人数"])
    assert table.at["花田乡 · 2023", "法律明白人人数"] == 24  # the largest of 6 and 24 ...
    assert [s.indicator.value for s in iv.sources(rows("hc"), "法律明白人人数", "花田乡 · 2023")] == [6, 24]


def test_same_place_and_year_get_distinct_rows() -> None:
    twin = [ReportIndicator("h2", r.meta, r.indicator) for r in rows("h")]
    assert list(iv.table(rows("h") + twin).index) == ["花田乡 · 2023", "花田乡 · 2023 (2)"]


def test_chart_of_one_kind_across_places() -> None:
    data = iv.chart_data(rows(), "调解成功率")
    assert data.to_dict("records") == [
        {"地区": "花田乡 · 2023", "数值": 100.0, "单位": "%"},
        {"地区": "船溪鄉 · 2022", "数值": 98.0, "单位": "%"},
    ]
    spec = iv.chart(rows(), "调解成功率").to_dict()
    assert spec["mark"]["type"] == "bar" and spec["encoding"]["y"]["field"] == "地区"


def test_source_html_marks_the_figure_and_escapes_report_text() -> None:
    (talk,) = iv.sources(rows(), "法治讲座场次")
    html = iv.source_html(talk)
    assert "<script>" not in html and "<img" not in html and "<b>加粗" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;" in html
    (rate,) = iv.sources(rows(), "调解成功率", "船溪鄉 · 2022")
    assert "調解成功率均達<mark>98%</mark>" in iv.source_html(rate)


def test_marked_report_html() -> None:
    meta, text = TEXTS["x"]
    report = Report("x", "x.txt", text, meta)
    (talk, _) = extract_indicators(text)
    html = iv.marked_report_html(report, talk.start, talk.end)
    assert '<mark id="fz-source">' in html and "<img" not in html


def test_csv_keeps_empty_cells_empty_and_defuses_formulas() -> None:
    table = iv.table(rows())
    lines = list(csv.reader(io.StringIO(iv.table_csv(table).decode("utf-8-sig"))))
    header, *body = lines
    assert header[0] == "地区"
    chuanxi = next(r for r in body if r[0] == "船溪鄉 · 2022")
    assert chuanxi[header.index("法律明白人人数")] == ""
    assert any(r[0].startswith("'=测试乡") for r in body)


def test_excel_has_the_table_and_the_sources() -> None:
    workbook = load_workbook(io.BytesIO(iv.to_xlsx(iv.table(rows()), rows())))
    table, detail = workbook["指标表"], workbook["指标来源"]
    header = [c.value for c in table[1]]
    values = {r[0].value: [c.value for c in r] for r in table.iter_rows(min_row=2)}
    assert values["船溪鄉 · 2022"][header.index("调解纠纷件数")] == 157
    assert values["船溪鄉 · 2022"][header.index("法律明白人人数")] is None
    assert values["=测试乡<script> · 2023"][0].startswith("=")  # stored as text, not a formula
    detail_header = [c.value for c in detail[1]]
    assert {"kind", "value", "text", "township"} <= set(detail_header)
    assert detail.max_row == len(rows()) + 1
    assert pd.notna(iv.table(rows()).values).sum() <= len(rows())

"""The comparison: townships without the category stay listed, marks only for a typed topic, the sheet."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from search_app import compare_view as cv


def test_townships_without_the_category_are_listed_as_not_written(make_hit):
    hits = [
        make_hit(report_id="r1", n=0),
        make_hit(report_id="r1", n=1),
        make_hit(township="金城乡", report_id="r2"),
    ]
    cols = cv.columns(hits, {"船溪乡": 2, "金城乡": 1, "花田乡": 4})
    assert [(c.name, len(c.hits)) for c in cols] == [("船溪乡", 2), ("金城乡", 1), ("花田乡", 0)]
    grid = cv.grid_html(cols, "存在问题", marked=False)
    assert grid.count('class="fz-card fz-cmp') == 3 and cv.NOT_WRITTEN in grid


def test_marks_only_when_the_reader_typed_a_topic(make_hit):
    cols = cv.columns([make_hit()], {})
    assert "<mark>" not in cv.grid_html(cols, "成效举措", marked=False)
    assert "<mark>" in cv.grid_html(cols, "成效举措", marked=True)


def test_excel_has_the_block_a_filtered_header_and_one_row_per_passage(make_hit):
    cols = cv.columns([make_hit(report_id="r1", n=0), make_hit(report_id="r1", n=1)], {"花田乡": 3})
    book = load_workbook(io.BytesIO(cv.to_xlsx(cols, "存在问题", "调解", [("收录报告", "5 份报告")])))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    block = [row[:2] for row in values[:4]]
    assert block[0] == ["对比类别", "存在问题"] and ["限定主题", "调解"] in block
    header = values.index(list(cv.HEADERS)) + 1
    assert sheet.freeze_panes == f"A{header + 1}"
    assert sheet.auto_filter.ref.startswith(f"A{header}:")
    assert sheet.cell(header, 1).font.bold
    table = values[header:]
    assert [r[2] for r in table] == ["船溪乡", "船溪乡", "花田乡"]
    assert table[-1][7] == cv.NOT_WRITTEN
    assert table[0][8].startswith("船溪乡2022年度法治政府建设工作情况")
    assert sheet.cell(header + 1, 8).alignment.wrap_text


def test_townships_without_hits_are_listed_with_their_province_and_unknown_ones_last(make_hit):
    hits = [make_hit(township="金城乡", province="河南省", county="博爱县", report_id="r2")]
    in_scope = {"金城乡": 1, "花田乡": 2, "无名乡": 1}
    cols = cv.columns(hits, in_scope, {"花田乡": "重庆市"})
    assert [(c.name, cv.province_of(c)) for c in cols] == [
        ("金城乡", "河南省"),
        ("花田乡", "重庆市"),
        ("无名乡", cv.UNKNOWN_PROVINCE),
    ]
    assert cv.province_counts(cols) == {"河南省": 1, "重庆市": 1, cv.UNKNOWN_PROVINCE: 1}
    assert [c.name for c in cv.in_province(cols, "重庆市")] == ["花田乡"]
    assert len(cv.in_province(cols, "")) == 3


def test_pages_cover_every_column_once_and_a_page_past_the_end_shows_the_last(make_hit):
    cols = cv.columns([], {f"乡{n:02d}": 1 for n in range(7)}, {})
    assert cv.page_count(len(cols), 3) == 3 and cv.page_count(0, 3) == 1
    pages = [cv.page_of(cols, n, 3) for n in (1, 2, 3)]
    assert [c.name for page in pages for c in page] == [c.name for c in cols]
    assert cv.page_of(cols, 99, 3) == pages[-1] and cv.page_of(cols, 0, 3) == pages[0]


def test_a_grid_spanning_provinces_heads_each_province_once(make_hit):
    hits = [
        make_hit(township="金城乡", province="河南省", report_id="r1"),
        make_hit(township="船溪乡", province="湖南省", report_id="r2"),
        make_hit(township="麻溪铺镇", province="湖南省", report_id="r3"),
    ]
    grid = cv.grid_html(cv.columns(hits, {}), "存在问题", marked=False)
    assert grid.count('class="fz-cmp-province"') == 2
    assert grid.index(">河南省<") < grid.index("金城乡") < grid.index(">湖南省<") < grid.index("船溪乡")
    single = cv.grid_html(cv.columns(hits[1:], {}), "存在问题", marked=False)
    assert "fz-cmp-province" not in single  # one province: no heading needed

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

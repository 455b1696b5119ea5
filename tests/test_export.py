"""CSV and Excel exports of hits: the CLI's fields, Chinese intact, no formulas, safe file names."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import datetime

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from search_app import export

HEADERS = [header for _, header in export.COLUMNS]


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


INFO = export.ExportInfo(
    query="枫桥经验",
    filters="乡镇：船溪乡",
    mode="综合",
    total=2,
    lexical_total=2,
    semantic_total=0,
    exported_at=datetime(2026, 11, 30, 17, 5),
    scope="收录报告 5 份报告（100 段）",
)


def _table(rows: list[list[str]]) -> list[list[str]]:
    """The rows from the column header on (after the header block and its blank line)."""
    return rows[rows.index(HEADERS) :]


def test_csv_has_the_block_then_one_row_per_hit_in_order(make_hit):
    hits = [make_hit(n=0), make_hit("楓橋經驗在船溪鄉", township="船溪鄉", n=1, ranks={"vector": 2})]
    rows = _csv_rows(export.to_csv(hits, INFO))
    assert rows[:3] == [["检索词", "枫桥经验"], ["筛选条件", "乡镇：船溪乡"], ["检索方式", "综合"]]
    assert rows[4] == ["检索范围", "收录报告 5 份报告（100 段）"]
    assert rows[5] == ["导出时间", "2026-11-30 17:05"] and rows[6] == []
    table = _table(rows)
    assert len(table) == 3
    first = dict(zip(HEADERS, table[1], strict=True))
    assert first["序号"] == "1"
    assert first["乡镇"] == "船溪乡"
    assert first["年度"] == "2022"
    assert first["章节"] == "一、加强组织领导 › 1、强化党政同责"
    assert first["原文"] == "坚持和发展新时代枫桥经验，化解矛盾纠纷。"  # plain text, no <mark>
    assert first["引用"] == "船溪乡2022年度法治政府建设工作情况 · 一、加强组织领导 › 1、强化党政同责"
    second = dict(zip(HEADERS, table[2], strict=True))
    assert second["原文"] == "楓橋經驗在船溪鄉"  # the report's own script


def test_no_paths_scores_or_engine_ranks_unless_asked_for(make_hit):
    plain = _csv_rows(export.to_csv([make_hit()]))
    assert plain[0] == HEADERS
    assert not {"得分", "来源文件", "各检索名次", "段落编号"} & set(plain[0])
    assert "r1.txt" not in str(plain) and "bm25" not in str(plain)
    technical = _csv_rows(export.to_csv([make_hit()], technical=True))
    record = dict(zip(technical[0], technical[1], strict=True))
    assert record["各检索名次"] == "字词匹配#1 意思相近#3" and record["段落编号"] == "r1:0:0"


def test_citation_names_title_issuer_date_and_section(make_hit):
    hit = make_hit()
    meta = dataclasses.replace(hit.chunk.meta, issuer="辰溪县船溪乡人民政府", published="2022-11-29")
    hit = dataclasses.replace(hit, chunk=dataclasses.replace(hit.chunk, meta=meta))
    parts = export.citation(hit).split(" · ")
    assert parts == [
        "船溪乡2022年度法治政府建设工作情况",
        "辰溪县船溪乡人民政府",
        "2022-11-29",
        "一、加强组织领导 › 1、强化党政同责",
    ]


def test_csv_keeps_line_breaks_and_commas_inside_cells(make_hit):
    text = '第一行，含逗号, and "quotes"\n第二行'
    rows = _csv_rows(export.to_csv([make_hit(text)]))
    assert rows[1][HEADERS.index("原文")] == text


def test_formula_like_cells_stay_text(make_hit):
    hit = make_hit('=HYPERLINK("http://x")', title="@SUM(A1)", breadcrumb=("-1+2",))
    row = dict(zip(HEADERS, _csv_rows(export.to_csv([hit]))[1], strict=True))
    assert row["原文"] == '\'=HYPERLINK("http://x")'
    assert row["标题"] == "'@SUM(A1)"
    assert row["章节"] == "'-1+2"

    sheet = load_workbook(io.BytesIO(export.to_xlsx([hit]))).active
    header = _header_row(sheet)
    cells = {h: cell for h, cell in zip(HEADERS, sheet[header + 1], strict=True)}
    assert cells["原文"].value == '=HYPERLINK("http://x")'
    assert cells["原文"].data_type == "s"  # stored as text, not as a formula


def _header_row(sheet) -> int:
    return next(row[0].row for row in sheet.iter_rows() if [c.value for c in row] == HEADERS)


def test_xlsx_is_ready_to_file(make_hit):
    hits = [make_hit(n=i, score=1.0 / (i + 1)) for i in range(3)]
    workbook = load_workbook(io.BytesIO(export.to_xlsx(hits, "枫桥经验", INFO)))
    sheet = workbook.active
    assert sheet.title == "检索结果"
    assert [sheet.cell(1, 1).value, sheet.cell(1, 2).value] == ["检索词", "枫桥经验"]
    header = _header_row(sheet)
    assert header == len(INFO.header_rows()) + 2  # the block, a blank row, then the header
    assert all(cell.font.bold for cell in sheet[header])
    assert sheet.freeze_panes == f"A{header + 1}"  # the header row stays in view
    assert sheet.auto_filter.ref == f"A{header}:{get_column_letter(len(HEADERS))}{header + 3}"
    values = {h: cell for h, cell in zip(HEADERS, sheet[header + 2], strict=True)}
    assert values["序号"].value == 2
    assert values["年度"].value == 2022
    assert values["区县"].value == "辰溪县"
    assert values["原文"].alignment.wrap_text
    assert workbook.properties.title == "枫桥经验"


def test_xlsx_drops_characters_excel_cannot_store(make_hit):
    sheet = load_workbook(io.BytesIO(export.to_xlsx([make_hit("法治\x00\x07政府")]))).active
    assert sheet.cell(row=_header_row(sheet) + 1, column=HEADERS.index("原文") + 1).value == "法治政府"


def test_empty_export_has_only_the_header():
    assert _csv_rows(export.to_csv([])) == [HEADERS]
    sheet = load_workbook(io.BytesIO(export.to_xlsx([]))).active
    assert sheet.max_row == _header_row(sheet)


def test_file_name_carries_the_query_and_is_safe():
    now = datetime(2024, 5, 1, 12, 30)
    assert export.file_name("枫桥经验", "csv", now) == "检索结果_枫桥经验_20240501-1230.csv"
    assert (
        export.file_name("楓橋經驗 行政執法", ".xlsx", now) == "检索结果_楓橋經驗_行政執法_20240501-1230.xlsx"
    )
    hostile = export.file_name('../../etc/passwd "a|b" <x>:*?\x00', "csv", now)
    assert "/" not in hostile and "\\" not in hostile and ".." not in hostile
    assert not set('"|<>:*?\x00') & set(hostile)
    assert export.file_name("", "csv", now) == "检索结果_全部_20240501-1230.csv"
    assert len(export.file_name("长" * 500, "csv", now)) < 80


def _info(total: int) -> export.ExportInfo:
    return export.ExportInfo(
        query="人民调解 -纠纷",
        filters="区县：辰溪縣；章节类别：下步计划",
        mode="混合",
        total=total,
        lexical_total=total - 1,
        semantic_total=1,
        exported_at=datetime(2026, 11, 30, 17, 5),
    )


def test_exports_say_what_search_they_hold(make_hit):
    hits = [make_hit(n=0), make_hit(n=1)]
    rows = _csv_rows(export.to_csv(hits, _info(2)))
    assert rows[0] == ["检索词", "人民调解 -纠纷"]  # the query as typed (a leading "-" is not a formula here)
    assert rows[1] == ["筛选条件", "区县：辰溪縣；章节类别：下步计划"]
    assert rows[2] == ["检索方式", "混合"]
    assert rows[3] == ["结果", "共 2 段（含检索词 1 段 · 语义相关 1 段）"]
    assert rows[4] == ["导出时间", "2026-11-30 17:05"]
    assert rows[6] == HEADERS and len(rows) == 7 + len(hits)

    sheet = load_workbook(io.BytesIO(export.to_xlsx(hits, "人民调解", _info(2)))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:2] == ["检索词", "人民调解 -纠纷"] and values[4][:2] == ["导出时间", "2026-11-30 17:05"]
    assert values[6] == HEADERS and len(values) == 7 + len(hits)
    assert sheet.freeze_panes == "A8"


def test_each_row_says_why_it_is_a_result(make_hit):
    from dataclasses import replace

    hits = [replace(make_hit(n=0), match="both"), replace(make_hit(n=1), match="semantic")]
    rows = _csv_rows(export.to_csv(hits))
    column = HEADERS.index("匹配方式")
    assert [r[column] for r in rows[1:]] == ["含检索词·语义相关", "语义相关"]

"""Search results as a CSV or Excel file that staff can file.

An export holds exactly the result set (never suggestions) and says what it is: a header block with the
query, the filters, the mode, the number of results, the index scope and the export time (``ExportInfo``;
CSV: rows before the column header; Excel: above the table). Each row carries a citation
(标题 · 发布机关 · 发布日期 · 章节) and why it is a result; scores, engine ranks, file paths and ids only when
asked for. The Excel sheet has a bold header row that stays in view, an autofilter and wrapped text.

The records build on the CLI's (``hit_record``). Cells that a spreadsheet would run as a formula (report
text can start with ``=`` or ``-``) are kept as text.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from search_app.engine import Hit
from search_app.records import hit_record

# (record key, column header), in column order: what staff file. Scores, engine ranks, file paths and ids
# are left out unless asked for (``technical=True``).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("rank", "序号"),
    ("title", "标题"),
    ("province", "省份"),
    ("county", "区县"),
    ("township", "乡镇"),
    ("year", "年度"),
    ("published", "发布日期"),
    ("issuer", "发布机关"),
    ("section", "章节"),
    ("category", "类别"),
    ("match", "匹配方式"),
    ("text", "原文"),
    ("citation", "引用"),
)
TECHNICAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("score", "得分"),
    ("ranks", "各检索名次"),
    ("report_id", "报告编号"),
    ("chunk_id", "段落编号"),
)
WIDTHS = {"标题": 30, "发布机关": 20, "章节": 30, "原文": 80, "引用": 45}
CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r"[^\w\u3400-\u9fff\uf900-\ufaff-]+")
_MAX_NAME_CHARS = 40
MATCH_LABELS: dict[str, str] = {"lexical": "含检索词", "semantic": "语义相关", "both": "含检索词·语义相关"}
_RANK_NAMES = {"bm25": "字词匹配", "vector": "意思相近"}
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8EEF7")
_WRAP = Alignment(vertical="top", wrap_text=True)


@dataclass(frozen=True)
class ExportInfo:
    """What an export is: the search that produced it."""

    query: str
    filters: str  # in words, e.g. "区县：辰溪縣；章节类别：下步计划" ("" when none)
    mode: str  # in words, e.g. "综合"
    total: int  # results in the set (the rows that follow)
    lexical_total: int
    semantic_total: int
    exported_at: datetime
    scope: str = ""  # what the index covers, e.g. "5 份报告；2022–2024 年度"

    def header_rows(self) -> list[list[object]]:
        rows: list[list[object]] = [
            ["检索词", self.query],
            ["筛选条件", self.filters or "无"],
            ["检索方式", self.mode],
            [
                "结果",
                f"共 {self.total} 段（含检索词 {self.lexical_total} 段 · 语义相关 {self.semantic_total} 段）",
            ],
        ]
        if self.scope:
            rows.append(["检索范围", self.scope])
        return [*rows, ["导出时间", self.exported_at.strftime("%Y-%m-%d %H:%M")]]


def columns(technical: bool = False) -> tuple[tuple[str, str], ...]:
    return COLUMNS + TECHNICAL_COLUMNS if technical else COLUMNS


def rows(hits: Sequence[Hit], technical: bool = False) -> list[list[object]]:
    """One row per hit, values in ``columns(technical)`` order (ranks as ``关键词#1 语义#3``)."""
    out: list[list[object]] = []
    for n, hit in enumerate(hits, 1):
        record = hit_record(hit)
        record["rank"] = n
        record["published"] = hit.chunk.meta.published
        record["issuer"] = hit.chunk.meta.issuer
        record["citation"] = citation(hit)
        record["match"] = MATCH_LABELS.get(record["match"], record["match"])
        record["ranks"] = " ".join(f"{_RANK_NAMES.get(k, k)}#{r}" for k, r in record["ranks"].items())
        out.append([record.get(key, "") for key, _ in columns(technical)])
    return out


def to_csv(hits: Sequence[Hit], info: ExportInfo | None = None, technical: bool = False) -> bytes:
    """UTF-8 CSV with a byte-order mark (so Excel reads the Chinese): the header block and a blank line when
    ``info`` is given, then the table."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if info is not None:
        for row in info.header_rows():
            writer.writerow([_csv_cell(value) for value in row])
        writer.writerow([])
    writer.writerow([header for _, header in columns(technical)])
    for row in rows(hits, technical):
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(
    hits: Sequence[Hit], query: str = "", info: ExportInfo | None = None, technical: bool = False
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "检索结果"
    headers = [header for _, header in columns(technical)]
    block = info.header_rows() if info is not None else []
    write_table(sheet, block, headers, rows(hits, technical), widths=WIDTHS)
    if query:
        workbook.properties.title = _clean_text(query)[:200]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def citation(hit: Hit) -> str:
    """``标题 · 发布机关 · 发布日期 · 章节``, the parts that are known: what staff paste into a memo."""
    meta = hit.chunk.meta
    parts = (meta.title, meta.issuer, meta.published, hit.chunk.section_path)
    return " · ".join(p for p in parts if p)


def write_table(
    sheet: Worksheet,
    block: Sequence[Sequence[object]],
    headers: Sequence[str],
    table: Sequence[Sequence[object]],
    widths: dict[str, int] | None = None,
) -> None:
    """The header block (label, value rows) and a blank row when there is one, then the table: a bold header
    row kept in view while scrolling, an autofilter over the table, long text wrapped, formulas as text."""
    for label, value in block:
        sheet.append([label, _xlsx_value(value)])
        sheet.cell(sheet.max_row, 1).font = _BOLD
        if isinstance(value, str):
            sheet.cell(sheet.max_row, 2).data_type = "s"
    if block:
        sheet.append([""])
    header_row = len(block) + 2 if block else 1
    sheet.append(list(headers))
    for cell in sheet[header_row]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for row in table:
        sheet.append([_xlsx_value(v) for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would otherwise store "=…" text as a formula
            cell.alignment = _WRAP
    for index, header in enumerate(headers, 1):
        sheet.column_dimensions[get_column_letter(index)].width = (widths or {}).get(header, 12)
    last = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A{header_row}:{last}{max(sheet.max_row, header_row)}"
    sheet.freeze_panes = f"A{header_row + 1}"


def safe_stem(text: str) -> str:
    """``text`` made safe as a file name on any file system (at most 40 characters)."""
    return _UNSAFE_NAME.sub("_", unicodedata.normalize("NFKC", text)).strip("_")[:_MAX_NAME_CHARS]


def file_name(query: str, extension: str, now: datetime | None = None) -> str:
    """``检索结果_枫桥经验_20240501-1200.csv``: the query, made safe for any file system."""
    stem = safe_stem(query) or "全部"
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M")
    return f"检索结果_{stem}_{stamp}.{extension.lstrip('.')}"


def _csv_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _clean_text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _xlsx_value(value: object) -> object:
    return _clean_text(value) if isinstance(value, str) else value

"""Search results as a CSV or Excel file, for researchers who work on in a spreadsheet.

The records are the CLI's (``hit_record``), so both exports carry the same fields. An export holds exactly
the result set (never suggestions), and says what it is: a header block with the query, the filters, the
mode, the number of results and the export time (CSV: rows before the column header; Excel: above the
table). Cells that a spreadsheet would run as a formula (report text can start with ``=`` or ``-``) are
kept as text.
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
from openpyxl.utils import get_column_letter

from search_app.engine import Hit
from search_app.records import hit_record

# (record key, column header), in column order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("rank", "序号"),
    ("title", "标题"),
    ("province", "省份"),
    ("county", "区县"),
    ("township", "乡镇"),
    ("year", "年份"),
    ("section", "章节"),
    ("category", "类别"),
    ("match", "匹配方式"),
    ("score", "得分"),
    ("ranks", "各检索排名"),
    ("text", "原文"),
    ("source", "来源文件"),
    ("report_id", "报告编号"),
    ("chunk_id", "段落编号"),
)
CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MATCH_LABELS: dict[str, str] = {"lexical": "含检索词", "semantic": "语义相关", "both": "含检索词·语义相关"}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r"[^\w\u3400-\u9fff\uf900-\ufaff-]+")
_MAX_NAME_CHARS = 40


@dataclass(frozen=True)
class ExportInfo:
    """What an export is: the search that produced it."""

    query: str
    filters: str  # in words, e.g. "区县：辰溪縣；章节类别：下步计划" ("" when none)
    mode: str  # in words, e.g. "混合"
    total: int  # results in the set (the rows that follow)
    lexical_total: int
    semantic_total: int
    exported_at: datetime

    def header_rows(self) -> list[list[object]]:
        return [
            ["检索词", self.query],
            ["筛选条件", self.filters or "无"],
            ["检索方式", self.mode],
            [
                "结果",
                f"共 {self.total} 段（含检索词 {self.lexical_total} 段 · 语义相关 {self.semantic_total} 段）",
            ],
            ["导出时间", self.exported_at.strftime("%Y-%m-%d %H:%M")],
        ]


def rows(hits: Sequence[Hit]) -> list[list[object]]:
    """One row per hit, values in ``COLUMNS`` order (ranks as ``bm25#1 vector#3``)."""
    out: list[list[object]] = []
    for n, hit in enumerate(hits, 1):
        record = hit_record(hit)
        record["rank"] = n
        record["ranks"] = " ".join(f"{name}#{rank}" for name, rank in record["ranks"].items())
        record["match"] = MATCH_LABELS.get(record["match"], record["match"])
        out.append([record.get(key, "") for key, _ in COLUMNS])
    return out


def to_csv(hits: Sequence[Hit], info: ExportInfo | None = None) -> bytes:
    """UTF-8 CSV with a byte-order mark, so Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if info is not None:
        for row in info.header_rows():
            writer.writerow([_csv_cell(value) for value in row])
        writer.writerow([])
    writer.writerow([header for _, header in COLUMNS])
    for row in rows(hits):
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(hits: Sequence[Hit], query: str = "", info: ExportInfo | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "检索结果"
    if info is not None:
        for row in info.header_rows():
            sheet.append([_xlsx_value(value) for value in row])
        sheet.append([""])
    sheet.append([header for _, header in COLUMNS])
    header_row = sheet.max_row
    for row in rows(hits):
        sheet.append([_xlsx_value(value) for value in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would otherwise store "=…" text as a formula
    widths = {"标题": 30, "章节": 30, "原文": 80, "来源文件": 30}
    for index, (_, header) in enumerate(COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = widths.get(header, 12)
    sheet.freeze_panes = f"A{header_row + 1}"
    if query:
        workbook.properties.title = _clean_text(query)[:200]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def file_name(query: str, extension: str, now: datetime | None = None) -> str:
    """``检索结果_枫桥经验_20240501-1200.csv``: the query, made safe for any file system."""
    text = unicodedata.normalize("NFKC", query)
    stem = _UNSAFE_NAME.sub("_", text).strip("_")[:_MAX_NAME_CHARS] or "全部"
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

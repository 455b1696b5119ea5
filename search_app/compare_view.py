"""Townships side by side for one section category: grouping, the HTML grid and the Excel file.

A township in scope whose report has no section of the category is listed as "未写此部分", never dropped:
for a researcher, a report that is silent on its problems is a finding too.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook

from indexer.models import ReportMeta
from search_app import export
from search_app.engine import Hit
from search_app.render import category_tag, inline, place_line

NOT_WRITTEN = "未写此部分"


@dataclass(frozen=True)
class Column:
    """One report's passages of the category (empty: the report has no such section)."""

    name: str  # township, else county, else title
    meta: ReportMeta
    hits: tuple[Hit, ...]


def place_name(meta: ReportMeta) -> str:
    return meta.township or meta.county or meta.title or "地区不详"


def columns(hits: Sequence[Hit], townships_in_scope: Mapping[str, int]) -> list[Column]:
    """Hits grouped per report (in the engine's order), then the townships in scope with none of them."""
    grouped: dict[str, list[Hit]] = {}
    for hit in hits:
        grouped.setdefault(hit.chunk.report_id, []).append(hit)
    out = [Column(place_name(h[0].chunk.meta), h[0].chunk.meta, tuple(h)) for h in grouped.values()]
    present = {c.meta.township for c in out}
    for township in sorted(set(townships_in_scope) - present):
        out.append(Column(township, ReportMeta(township=township), ()))
    return out


def passage_html(hit: Hit, marked: bool) -> str:
    """The whole passage; with marks only when the reader typed a topic (never the engine's own words)."""
    return inline(hit.html) if marked else inline(html.escape(hit.chunk.text))


def grid_html(cols: Sequence[Column], category: str, marked: bool) -> str:
    """A responsive grid: several columns on a wide screen, one below another on a phone."""
    cards = []
    for col in cols:
        head = (
            f'<div class="fz-title">{html.escape(col.name)}</div>'
            f'<div class="fz-meta">{html.escape(place_line(col.meta))}{category_tag(category)}</div>'
        )
        if not col.hits:
            cards.append(
                f'<div class="fz-card fz-cmp fz-missing">{head}<div class="fz-text">{NOT_WRITTEN}</div></div>'
            )
            continue
        body = "".join(
            f'<div class="fz-crumb">{html.escape(h.chunk.section_path)}</div>'
            f'<div class="fz-text">{passage_html(h, marked)}</div>'
            for h in col.hits
        )
        cards.append(f'<div class="fz-card fz-cmp">{head}{body}</div>')
    return f'<div class="fz-cmp-grid">{"".join(cards)}</div>'


HEADERS = ("省份", "区县", "乡镇", "年度", "类别", "序号", "章节", "原文", "引用")


def rows(cols: Sequence[Column], category: str) -> list[list[object]]:
    """One row per township and passage; a township without the category gets one row saying so."""
    out: list[list[object]] = []
    for col in cols:
        meta = col.meta
        place = [meta.province, meta.county, meta.township or col.name, meta.year or "", category]
        if not col.hits:
            out.append([*place, "", "", NOT_WRITTEN, ""])
        for n, hit in enumerate(col.hits, 1):
            out.append([*place, n, hit.chunk.section_path, hit.chunk.text, export.citation(hit)])
    return out


def to_xlsx(
    cols: Sequence[Column],
    category: str,
    topic: str,
    scope: Sequence[tuple[str, str]],
    now: datetime | None = None,
) -> bytes:
    """The comparison as a sheet staff can file: what was compared on top, then one row per passage."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    block = [("对比类别", category), ("限定主题", topic or "（无）"), *scope, ("导出时间", stamp)]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "乡镇对比"
    export.write_table(sheet, block, HEADERS, rows(cols, category), {"章节": 30, "原文": 90, "引用": 40})
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

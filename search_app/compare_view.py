"""Townships side by side for one section category: grouping, the HTML grid and the Excel file.

A township in scope whose report has no section of the category is listed as "未写此部分", never dropped:
for a researcher, a report that is silent on its problems is a finding too. Hundreds of townships are read a
province at a time and a page at a time; the Excel file always holds the whole comparison.
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
UNKNOWN_PROVINCE = "省份不详"
PAGE_SIZE = 24  # townships side by side on one page


@dataclass(frozen=True)
class Column:
    """One report's passages of the category (empty: the report has no such section)."""

    name: str  # township, else county, else title
    meta: ReportMeta
    hits: tuple[Hit, ...]


def place_name(meta: ReportMeta) -> str:
    return meta.township or meta.county or meta.title or "地区不详"


def province_of(col: Column) -> str:
    return col.meta.province or UNKNOWN_PROVINCE


def columns(
    hits: Sequence[Hit], townships_in_scope: Mapping[str, int], provinces: Mapping[str, str] | None = None
) -> list[Column]:
    """One column per report with hits and per township in scope without any, ordered by province, county
    and name (a province's townships stay together; those of unknown province come last). ``provinces``
    gives the province of a township that has no hit, so it is listed with its neighbours."""
    grouped: dict[str, list[Hit]] = {}
    for hit in hits:
        grouped.setdefault(hit.chunk.report_id, []).append(hit)
    out = [Column(place_name(h[0].chunk.meta), h[0].chunk.meta, tuple(h)) for h in grouped.values()]
    present = {c.meta.township for c in out}
    for township in sorted(set(townships_in_scope) - present):
        province = (provinces or {}).get(township, "")
        out.append(Column(township, ReportMeta(township=township, province=province), ()))
    return sorted(out, key=lambda c: (not c.meta.province, c.meta.province, c.meta.county, c.name))


def province_counts(cols: Sequence[Column]) -> dict[str, int]:
    """Columns per province, in the columns' order."""
    counts: dict[str, int] = {}
    for col in cols:
        counts[province_of(col)] = counts.get(province_of(col), 0) + 1
    return counts


def in_province(cols: Sequence[Column], province: str) -> list[Column]:
    """The columns of ``province`` (all of them for "")."""
    return [c for c in cols if not province or province_of(c) == province]


def page_count(n: int, size: int | None = None) -> int:
    size = size or PAGE_SIZE
    return max(1, -(-n // size))


def page_of(cols: Sequence[Column], page: int, size: int | None = None) -> list[Column]:
    """Columns of the 1-based ``page``; a page past the end shows the last one (a shared link outlives
    the index it was made on)."""
    size = size or PAGE_SIZE
    page = min(max(1, page), page_count(len(cols), size))
    return list(cols[(page - 1) * size : page * size])


def passage_html(hit: Hit, marked: bool) -> str:
    """The whole passage; with marks only when the reader typed a topic (never the engine's own words)."""
    return inline(hit.html) if marked else inline(html.escape(hit.chunk.text))


def grid_html(cols: Sequence[Column], category: str, marked: bool) -> str:
    """A responsive grid: several columns on a wide screen, one below another on a phone. When the columns
    span several provinces, each province starts under its own heading."""
    cards = []
    several = len(province_counts(cols)) > 1
    previous = None
    for col in cols:
        if several and province_of(col) != previous:
            previous = province_of(col)
            cards.append(f'<div class="fz-cmp-province">{html.escape(previous)}</div>')
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

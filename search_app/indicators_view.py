"""The 指标 tab's data: a place × indicator table, one indicator's chart, source sentences and exports.

Pure functions of the ``ReportIndicator`` rows the engine lists. A row of the table is one report (a
township in one year); a cell is the figure that report gives for that kind, empty (NaN, never 0) when it
gives none. When a report gives several figures of one kind (培养法律明白人6名，现有法律明白人24名), the cell
shows the largest and its sources list them all. HTML output escapes all report text (``render.text_html``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import altair as alt
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from indexer.indicators.taxonomy import taxonomy
from indexer.models import Report, ReportMeta
from indexer.stores.base import ReportIndicator
from search_app.records import indicator_record, number
from search_app.render import place_line, text_html

__all__ = [
    "chart",
    "chart_data",
    "chart_height",
    "kinds",
    "marked_report_html",
    "row_label",
    "source_html",
    "sources",
    "table",
    "table_csv",
    "to_xlsx",
]

PLACE = "地区"
VALUE = "数值"
UNIT = "单位"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def row_label(meta: ReportMeta, report_id: str = "") -> str:
    """``船溪鄉 · 2022``: the place (township, else county, else title) and the year of one report."""
    place = meta.township or meta.county or meta.title or f"报告 {report_id[:8]}"
    return f"{place} · {meta.year}" if meta.year else place


def _order(rows: Sequence[ReportIndicator]) -> list[ReportIndicator]:
    return sorted(
        rows, key=lambda r: (r.meta.province, r.meta.county, r.meta.township, r.meta.year or 0, r.report_id)
    )


def kinds(rows: Sequence[ReportIndicator]) -> list[str]:
    """The kinds present, in taxonomy order."""
    present = {r.indicator.kind for r in rows}
    return [k.label for k in taxonomy() if k.label in present] + sorted(
        present - {k.label for k in taxonomy()}
    )


def _labels(rows: Sequence[ReportIndicator]) -> dict[str, str]:
    """report id -> row label, made unique when two reports share place and year."""
    labels: dict[str, str] = {}
    used: dict[str, int] = {}
    for row in _order(rows):
        if row.report_id in labels:
            continue
        label = row_label(row.meta, row.report_id)
        used[label] = used.get(label, 0) + 1
        labels[row.report_id] = label if used[label] == 1 else f"{label} ({used[label]})"
    return labels


def table(rows: Sequence[ReportIndicator]) -> pd.DataFrame:
    """Rows: reports (by place); columns: kinds present; cells: the largest figure, NaN where none."""
    labels = _labels(rows)
    columns = kinds(rows)
    frame = pd.DataFrame(index=pd.Index(list(dict.fromkeys(labels.values())), name=PLACE), columns=columns)
    frame = frame.astype("float64")
    for row in rows:
        label, kind, value = labels[row.report_id], row.indicator.kind, row.indicator.value
        current = frame.at[label, kind]
        if pd.isna(current) or value > current:
            frame.at[label, kind] = value
    return frame


def sources(rows: Sequence[ReportIndicator], kind: str, label: str | None = None) -> list[ReportIndicator]:
    """The indicators behind one cell (``label`` given) or one whole column, in table order."""
    labels = _labels(rows)
    return [
        r
        for r in _order(rows)
        if r.indicator.kind == kind and (label is None or labels[r.report_id] == label)
    ]


def chart_data(rows: Sequence[ReportIndicator], kind: str) -> pd.DataFrame:
    """One bar per report that gives a figure of ``kind`` (the cell's value), largest first."""
    column = table(rows)[kind].dropna()
    units = {}
    labels = _labels(rows)
    for row in sources(rows, kind):
        units.setdefault(labels[row.report_id], row.indicator.unit)
    data = pd.DataFrame(
        {PLACE: column.index, VALUE: column.to_numpy(), UNIT: [units[p] for p in column.index]}
    )
    return data.sort_values([VALUE, PLACE], ascending=[False, True], ignore_index=True)


def chart(rows: Sequence[ReportIndicator], kind: str) -> alt.Chart:
    """A horizontal bar chart of ``kind`` across places (Vega-Lite, drawn by ``st.altair_chart``)."""
    data = chart_data(rows, kind)
    return (
        alt.Chart(data, title=kind)
        .mark_bar()
        .encode(
            x=alt.X(f"{VALUE}:Q", title=f"{kind}（{'、'.join(dict.fromkeys(data[UNIT]))}）"),
            y=alt.Y(f"{PLACE}:N", sort="-x", title=None),
            tooltip=[PLACE, VALUE, UNIT],
        )
    )


def chart_height(rows: Sequence[ReportIndicator], kind: str) -> int:
    """Pixels for ``chart``: room for every bar's label."""
    return 80 + 40 * len(chart_data(rows, kind))


def source_html(row: ReportIndicator) -> str:
    """A source card: place, kind and figure, and the sentence with the figure marked."""
    i = row.indicator
    offset = i.figure_start - i.start, i.figure_end - i.start
    sentence = (
        text_html(i.text[: offset[0]])
        + "<mark>"
        + text_html(i.text[offset[0] : offset[1]])
        + "</mark>"
        + text_html(i.text[offset[1] :])
    )
    figure = f"{'约' if i.approx else ''}{number(i.value)}{i.unit}"
    return (
        f'<div class="fz-card"><div class="fz-meta">{text_html(place_line(row.meta))} · '
        f"{text_html(i.kind)}：<b>{text_html(figure)}</b></div>"
        f'<div class="fz-text">{sentence}</div></div>'
    )


def marked_report_html(report: Report, start: int, end: int) -> str:
    """The report's whole text, escaped, with ``[start, end)`` (a source sentence) marked."""
    text = report.text
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    body = text_html(text[:start]) + '<mark id="fz-source">' + text_html(text[start:end]) + "</mark>"
    return f'<div class="fz-report fz-scroll">{body}{text_html(text[end:])}</div>'


def _csv_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):  # a spreadsheet would run it
        return "'" + value
    return value


def _xlsx_safe(value: object) -> object:
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def table_csv(frame: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV with a byte-order mark (Excel reads the Chinese); empty cells stay empty."""
    safe = frame.copy()
    safe.index = [_csv_safe(v) for v in safe.index]
    safe.index.name = PLACE
    return safe.to_csv(lineterminator="\r\n").encode("utf-8-sig")


def to_xlsx(frame: pd.DataFrame, rows: Sequence[ReportIndicator]) -> bytes:
    """Two sheets: the table, and every indicator with its report and source sentence."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "指标表"
    sheet.append([PLACE, *frame.columns])
    for label, values in frame.iterrows():
        sheet.append([_xlsx_safe(label), *(None if pd.isna(v) else number(v) for v in values)])
    detail = workbook.create_sheet("指标来源")
    records = [indicator_record(r) for r in _order(rows)]
    if records:
        detail.append(list(records[0]))
        for record in records:
            detail.append([_xlsx_safe(v) for v in record.values()])
    for ws in (sheet, detail):
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, never a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

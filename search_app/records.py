"""Hits and indicators as flat records: the shapes the JSON command line and the CSV/Excel exports share."""

from __future__ import annotations

from indexer.stores.base import ReportIndicator
from search_app.engine import Hit

INDICATOR_FIELDS: tuple[str, ...] = (
    "report_id",
    "title",
    "township",
    "county",
    "province",
    "year",
    "kind",
    "value",
    "unit",
    "approx",
    "text",
    "category",
    "source",
    "start",
    "end",
    "figure_start",
    "figure_end",
)


def hit_record(hit: Hit) -> dict:
    meta = hit.chunk.meta
    return {
        "text": hit.chunk.text,
        "title": meta.title,
        "township": meta.township,
        "county": meta.county,
        "province": meta.province,
        "year": meta.year,
        "section": hit.chunk.section_path,
        "category": hit.chunk.category,
        "source": meta.source,
        "match": hit.match,
        "score": round(hit.score, 6),
        "ranks": hit.ranks,
        "chunk_id": hit.chunk.id,
        "report_id": hit.chunk.report_id,
    }


def number(value: float) -> int | float:
    """63.0 as 63, 98.5 as 98.5: counts read as the report wrote them."""
    return int(value) if float(value).is_integer() else value


def indicator_record(row: ReportIndicator) -> dict:
    """One indicator with its report; ``text`` is the source sentence as the report writes it and
    ``start``/``end`` (sentence) and ``figure_start``/``figure_end`` are offsets into the report text."""
    meta, indicator = row.meta, row.indicator
    record = {
        "report_id": row.report_id,
        "title": meta.title,
        "township": meta.township,
        "county": meta.county,
        "province": meta.province,
        "year": indicator.year if indicator.year is not None else meta.year,
        "kind": indicator.kind,
        "value": number(indicator.value),
        "unit": indicator.unit,
        "approx": indicator.approx,
        "text": indicator.text,
        "category": indicator.category,
        "source": meta.source,
        "start": indicator.start,
        "end": indicator.end,
        "figure_start": indicator.figure_start,
        "figure_end": indicator.figure_end,
    }
    return record

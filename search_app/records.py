"""One hit as a flat record: the shape the JSON command line and the CSV/Excel exports share."""

from __future__ import annotations

from search_app.engine import Hit


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

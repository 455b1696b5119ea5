"""Orders of a result set other than relevance, and the document view: results grouped per report.

Pure functions over what the engine already holds (the ranked result list and its chunks), so the page,
the CLI and tests get the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from indexer.models import Chunk, ReportMeta


class SortOrder(StrEnum):
    RELEVANCE = "relevance"
    DATE = "date"  # newest first: publication date, else the report's year
    PLACE = "place"  # province, county, township; relevance within a place


def _date_key(meta: ReportMeta) -> str:
    """Sorts newest first when reversed: ``2022-11-29`` beats ``2022`` beats nothing."""
    return meta.published or (f"{meta.year:04d}" if meta.year else "")


def sort_ids(ids: Sequence[str], chunk_of: Callable[[str], Chunk], order: SortOrder) -> list[str]:
    """``ids`` (in relevance order) in ``order``; ties keep their relevance order (stable sorts)."""
    if order is SortOrder.DATE:
        return sorted(ids, key=lambda i: _date_key(chunk_of(i).meta), reverse=True)
    if order is SortOrder.PLACE:
        return sorted(ids, key=lambda i: _place_key(chunk_of(i).meta))
    return list(ids)


def _place_key(meta: ReportMeta) -> tuple[bool, str, str, str]:
    return (not (meta.province or meta.county or meta.township), meta.province, meta.county, meta.township)


@dataclass(frozen=True)
class ReportGroup:
    """One report of the result set: how many of its passages are results, and which are best."""

    report_id: str
    meta: ReportMeta
    count: int  # results in this report
    lexical: int  # of which contain the query's words
    semantic: int  # of which match in meaning only
    best_ids: tuple[str, ...]  # its best results, best first
    hits: list = field(default_factory=list)  # the best results as ``Hit``s (filled by the engine)


def group_by_report(
    ids: Sequence[str], chunk_of: Callable[[str], Chunk], kind_of: Callable[[str], str], best: int
) -> list[ReportGroup]:
    """Groups ``ids`` (in relevance order) per report, reports in order of their best result."""
    order: dict[str, list[str]] = {}
    for chunk_id in ids:
        order.setdefault(chunk_of(chunk_id).report_id, []).append(chunk_id)
    groups = []
    for report_id, members in order.items():
        semantic = sum(1 for m in members if kind_of(m) == "semantic")
        groups.append(
            ReportGroup(
                report_id=report_id,
                meta=chunk_of(members[0]).meta,
                count=len(members),
                lexical=len(members) - semantic,
                semantic=semantic,
                best_ids=tuple(members[:best]),
            )
        )
    return groups


def sort_groups(groups: Sequence[ReportGroup], order: SortOrder) -> list[ReportGroup]:
    if order is SortOrder.DATE:
        return sorted(groups, key=lambda g: _date_key(g.meta), reverse=True)
    if order is SortOrder.PLACE:
        return sorted(groups, key=lambda g: _place_key(g.meta))
    return list(groups)

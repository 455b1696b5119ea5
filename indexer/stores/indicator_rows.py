"""Indicators as stores keep them (JSON-ready dicts) and as they list them across reports.

Both stores keep a report's indicators with the report and filter them here, in one place, so that
``Store.indicators(filters)`` means the same for each: metadata filters select reports, ``categories``
selects indicators by the category of their section; text filters (phrases, excluded) do not apply.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from indexer.models import Indicator, ReportMeta
from indexer.stores.base import Filters, ReportIndicator

__all__ = ["indicator_dicts", "indicators_from", "select_indicators"]

_FIELDS = frozenset(f.name for f in dataclasses.fields(Indicator))


def indicator_dicts(indicators: Iterable[Indicator]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(i) for i in indicators]


def indicators_from(data: Iterable[Mapping[str, Any]] | None) -> tuple[Indicator, ...]:
    """Indicators from stored dicts; unknown keys (written by a newer version) are ignored."""
    return tuple(Indicator(**{k: v for k, v in item.items() if k in _FIELDS}) for item in data or ())


def _report_passes(report_id: str, meta: ReportMeta, filters: Filters) -> bool:
    return (
        (filters.year_min is None or (meta.year is not None and meta.year >= filters.year_min))
        and (filters.year_max is None or (meta.year is not None and meta.year <= filters.year_max))
        and (not filters.provinces or meta.province in filters.provinces)
        and (not filters.counties or meta.county in filters.counties)
        and (not filters.townships or meta.township in filters.townships)
        and (not filters.report_ids or report_id in filters.report_ids)
        and report_id not in filters.exclude_report_ids
    )


def select_indicators(
    reports: Iterable[tuple[str, ReportMeta, Iterable[Indicator]]], filters: Filters
) -> list[ReportIndicator]:
    """The indicators of ``reports`` (id, meta, indicators) that ``filters`` keep, ordered by report id and
    position in the report."""
    selected = []
    for report_id, meta, indicators in sorted(reports, key=lambda r: r[0]):
        if not _report_passes(report_id, meta, filters):
            continue
        for indicator in sorted(indicators, key=lambda i: (i.figure_start, i.kind)):
            if not filters.categories or indicator.category in filters.categories:
                selected.append(ReportIndicator(report_id, meta, indicator))
    return selected

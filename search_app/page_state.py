"""The search page's state and its URL form: what a shared link restores.

``decode`` accepts anything a browser may send (hand-edited, truncated, hostile) and never raises: an
unusable value falls back to its default. ``encode`` leaves defaults out, so plain searches get short links.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from indexer.stores.base import Filters

MODES: tuple[str, ...] = ("hybrid", "bm25", "vector")
FUSIONS: tuple[str, ...] = ("rrf", "weighted")
VIEWS: tuple[str, ...] = ("passages", "reports")  # a list of passages, or results grouped per report
SORTS: tuple[str, ...] = ("relevance", "date", "place")
PAGE_SIZE = 10

MAX_QUERY_CHARS = 500  # the engine cuts at 200 and says so; a URL only needs to carry a bit more
MAX_VALUES = 50  # values per list parameter
MAX_VALUE_CHARS = 100
MAX_PAGE = 1000
YEAR_RANGE = (1949, 2100)

# URL parameter names (short, stable: links get shared).
Q, MODE, PAGE, YEAR_MIN, YEAR_MAX = "q", "mode", "page", "y0", "y1"
PROVINCE, COUNTY, TOWNSHIP, CATEGORY = "prov", "county", "town", "cat"
FUSION, WEIGHT, GROUP = "fusion", "w", "group"
VIEW, SORT = "view", "sort"


@dataclass(frozen=True)
class PageState:
    query: str = ""
    mode: str = "hybrid"
    page: int = 1  # 1-based
    year_min: int | None = None
    year_max: int | None = None
    provinces: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()
    townships: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    fusion: str = "rrf"
    lexical_weight: float = 0.5
    per_report: bool = False  # one hit per report
    view: str = "passages"
    sort: str = "relevance"

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    @property
    def filters(self) -> Filters:
        return Filters(
            year_min=self.year_min,
            year_max=self.year_max,
            provinces=self.provinces,
            counties=self.counties,
            townships=self.townships,
            categories=self.categories,
        )


DEFAULT = PageState()


def encode(state: PageState) -> dict[str, str | list[str]]:
    """URL parameters for ``state``; values equal to the default are left out."""
    params: dict[str, str | list[str]] = {}
    if state.query:
        params[Q] = state.query
    if state.mode != DEFAULT.mode:
        params[MODE] = state.mode
    if state.page != DEFAULT.page:
        params[PAGE] = str(state.page)
    if state.year_min is not None:
        params[YEAR_MIN] = str(state.year_min)
    if state.year_max is not None:
        params[YEAR_MAX] = str(state.year_max)
    for name, values in (
        (PROVINCE, state.provinces),
        (COUNTY, state.counties),
        (TOWNSHIP, state.townships),
        (CATEGORY, state.categories),
    ):
        if values:
            params[name] = list(values)
    if state.fusion != DEFAULT.fusion:
        params[FUSION] = state.fusion
    if state.lexical_weight != DEFAULT.lexical_weight:
        params[WEIGHT] = f"{state.lexical_weight:g}"
    if state.per_report:
        params[GROUP] = "1"
    if state.view != DEFAULT.view:
        params[VIEW] = state.view
    if state.sort != DEFAULT.sort:
        params[SORT] = state.sort
    return params


def decode(params: Mapping[str, object]) -> PageState:
    """The state a URL describes. Each value may be a string or a list of strings (repeated parameter)."""

    def first(name: str) -> str:
        values = _strings(params.get(name))
        return values[0] if values else ""

    year_min, year_max = _year(first(YEAR_MIN)), _year(first(YEAR_MAX))
    if year_min is not None and year_max is not None and year_min > year_max:
        year_min, year_max = year_max, year_min
    return PageState(
        query=_clean(first(Q))[:MAX_QUERY_CHARS].strip(),
        mode=_choice(first(MODE), MODES, DEFAULT.mode),
        page=_int(first(PAGE), 1, MAX_PAGE) or DEFAULT.page,
        year_min=year_min,
        year_max=year_max,
        provinces=_values(params.get(PROVINCE)),
        counties=_values(params.get(COUNTY)),
        townships=_values(params.get(TOWNSHIP)),
        categories=_values(params.get(CATEGORY)),
        fusion=_choice(first(FUSION), FUSIONS, DEFAULT.fusion),
        lexical_weight=_weight(first(WEIGHT)),
        per_report=first(GROUP).strip() in ("1", "true", "yes"),
        view=_choice(first(VIEW), VIEWS, DEFAULT.view),
        sort=_choice(first(SORT), SORTS, DEFAULT.sort),
    )


# -- value parsers: each returns a default instead of raising -----------------------------------------
def _strings(raw: object) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, Iterable) and not isinstance(raw, bytes | Mapping):
        return [item for item in raw if isinstance(item, str)]
    return []


def _clean(text: str) -> str:
    """Text without control characters or lone surrogates (neither can be typed, and both break widgets)."""
    kept = (" " if ch.isspace() else ch for ch in text if ch.isspace() or ch.isprintable())
    return "".join(ch for ch in kept if not 0xD800 <= ord(ch) <= 0xDFFF).strip()


def _values(raw: object) -> tuple[str, ...]:
    out: list[str] = []
    for value in _strings(raw):
        value = _clean(value)[:MAX_VALUE_CHARS].strip()
        if value and value not in out:
            out.append(value)
        if len(out) >= MAX_VALUES:
            break
    return tuple(out)


def _choice(value: str, allowed: tuple[str, ...], default: str) -> str:
    value = value.strip().lower()
    return value if value in allowed else default


def _int(value: str, low: int, high: int) -> int | None:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        return None
    number = int(value)
    return number if low <= number <= high else None


def _year(value: str) -> int | None:
    return _int(value, *YEAR_RANGE)


def _weight(value: str) -> float:
    try:
        weight = float(value.strip()) if value.strip().isascii() else math.nan
    except ValueError:
        return DEFAULT.lexical_weight
    if not math.isfinite(weight):
        return DEFAULT.lexical_weight
    return round(min(1.0, max(0.0, weight)), 2)

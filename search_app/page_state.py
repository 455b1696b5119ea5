"""The search page's state and its URL form: what a shared link restores.

``decode`` accepts anything a browser may send (hand-edited, truncated, hostile) and never raises: an
unusable value falls back to its default. ``encode`` leaves defaults out, so plain searches get short links.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from indexer.stores.base import Filters

MODES: tuple[str, ...] = ("hybrid", "bm25", "vector")
FUSIONS: tuple[str, ...] = ("rrf", "weighted")
VIEWS: tuple[str, ...] = ("passages", "reports")  # a list of passages, or results grouped per report
SORTS: tuple[str, ...] = ("relevance", "date", "place")
PAGE_SIZE = 10
COMPARE_PER_CHOICES: tuple[int, ...] = (1, 2, 3, 5)  # passages per township in the comparison

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
TITLE, ISSUER, DATE_FROM, DATE_TO = "title", "issuer", "from", "to"
DOC, AT, SECTION = "doc", "at", "sec"  # the open report, the passage the reader came from, a section
CMP_CATEGORY, CMP_TOPIC, CMP_PER = "cmp", "topic", "per"
CMP_PROVINCE, CMP_PAGE = "cprov", "cpage"


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
    title: str = ""  # words the report's title must contain
    issuer: str = ""  # words the issuing body must contain
    date_from: str = ""  # publication date range, ISO YYYY-MM-DD
    date_to: str = ""
    doc: str = ""  # report id of the open report view
    at: str = ""  # chunk id the report view opens at
    section: int | None = None  # section index the report view scrolls to
    compare_category: str = ""
    compare_topic: str = ""
    compare_per: int = 1
    compare_province: str = ""  # the province whose townships the compare tab shows ("": all)
    compare_page: int = 1  # 1-based page of the compare tab

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
            title_contains=_words(self.title),
            issuer_contains=_words(self.issuer),
            published_from=self.date_from or None,
            published_to=self.date_to or None,
        )


DEFAULT = PageState()


def describe_filters(state: PageState) -> str:
    """The filters in words, for an export's header block: ``乡镇：金城乡；发布日期：2024-01-01 起``."""
    parts = []
    if state.year_min is not None or state.year_max is not None:
        parts.append(f"报告年度：{state.year_min or ''}–{state.year_max or ''}")
    for label, values in (
        ("省份", state.provinces),
        ("区县", state.counties),
        ("乡镇", state.townships),
        ("章节类别", state.categories),
    ):
        if values:
            parts.append(f"{label}：{'、'.join(values)}")
    if state.title:
        parts.append(f"标题含：{state.title}")
    if state.issuer:
        parts.append(f"发布机关含：{state.issuer}")
    if state.date_from or state.date_to:
        span = f"{state.date_from} 至 {state.date_to}" if state.date_from and state.date_to else ""
        span = span or (f"{state.date_from} 起" if state.date_from else f"{state.date_to} 止")
        parts.append(f"发布日期：{span}")
    if state.per_report:
        parts.append("每份报告一段")
    return "；".join(parts) or "无"


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
    for name, value in (
        (TITLE, state.title),
        (ISSUER, state.issuer),
        (DATE_FROM, state.date_from),
        (DATE_TO, state.date_to),
        (DOC, state.doc),
        (AT, state.at),
        (CMP_CATEGORY, state.compare_category),
        (CMP_TOPIC, state.compare_topic),
        (CMP_PROVINCE, state.compare_province),
    ):
        if value:
            params[name] = value
    if state.section is not None:
        params[SECTION] = str(state.section)
    if state.compare_per != DEFAULT.compare_per:
        params[CMP_PER] = str(state.compare_per)
    if state.compare_page != DEFAULT.compare_page:
        params[CMP_PAGE] = str(state.compare_page)
    return params


def decode(params: Mapping[str, object]) -> PageState:
    """The state a URL describes. Each value may be a string or a list of strings (repeated parameter)."""

    def first(name: str) -> str:
        values = _strings(params.get(name))
        return values[0] if values else ""

    year_min, year_max = _year(first(YEAR_MIN)), _year(first(YEAR_MAX))
    if year_min is not None and year_max is not None and year_min > year_max:
        year_min, year_max = year_max, year_min
    date_from, date_to = _date(first(DATE_FROM)), _date(first(DATE_TO))
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    per = _int(first(CMP_PER), 1, max(COMPARE_PER_CHOICES))
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
        title=_text(first(TITLE)),
        issuer=_text(first(ISSUER)),
        date_from=date_from,
        date_to=date_to,
        doc=_text(first(DOC)),
        at=_text(first(AT)),
        section=_int(first(SECTION), 0, 10_000),
        compare_category=_text(first(CMP_CATEGORY)),
        compare_topic=_text(first(CMP_TOPIC)),
        compare_per=per if per in COMPARE_PER_CHOICES else DEFAULT.compare_per,
        compare_province=_text(first(CMP_PROVINCE)),
        compare_page=_int(first(CMP_PAGE), 1, MAX_PAGE) or DEFAULT.compare_page,
    )


def _words(text: str) -> tuple[str, ...]:
    """Space-separated words of a field box, each of which the field must contain."""
    return tuple(dict.fromkeys(text.split()))


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


def _text(value: str) -> str:
    return _clean(value)[:MAX_VALUE_CHARS].strip()


def _date(value: str) -> str:
    """An ISO date (YYYY-MM-DD) in the year range, or ""."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return ""
    return day.isoformat() if YEAR_RANGE[0] <= day.year <= YEAR_RANGE[1] and len(value.strip()) == 10 else ""


def _weight(value: str) -> float:
    try:
        weight = float(value.strip()) if value.strip().isascii() else math.nan
    except ValueError:
        return DEFAULT.lexical_weight
    if not math.isfinite(weight):
        return DEFAULT.lexical_weight
    return round(min(1.0, max(0.0, weight)), 2)

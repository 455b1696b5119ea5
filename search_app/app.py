"""法治政府建设报告检索: the Streamlit page (``streamlit run search_app/app.py``).

It renders and calls the engine; retrieval policy lives in ``engine.py``, HTML in ``render.py``, the URL form
of the page's state in ``page_state.py``. The model and the store load once per process (``cache_resource``).
Every widget has a key, so the page reads the whole state from ``st.session_state`` first, searches, and then
draws the widgets with facet counts of that very search.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import streamlit as st

from indexer.coverage import coverage_line
from indexer.embedders.base import Embedder
from indexer.models import CATEGORIES
from indexer.settings import Settings
from indexer.stores.base import IndexStats, Store
from indexer.wiring import IndexMissingError, embedder_from, store_from
from search_app import export, render
from search_app import indicators_view as iv
from search_app import page_state as ps
from search_app.engine import EMPTY_QUERY_MESSAGE, Hit, ReportResults, SearchEngine, SearchResult

log = logging.getLogger("search_app.app")
T = TypeVar("T")

TITLE = "法治政府建设报告检索"
SIMILAR_COUNT = 5
COMPARE_MAX = 24  # reports shown side by side
COMPARE_PER_ROW = 4
EXAMPLES = ("枫桥经验", "行政执法 存在问题", '"合法性审查"', "楓橋經驗")

# Widget keys; their values are the page's state.
K_QUERY, K_MODE, K_PAGE, K_YEARS = "q", "mode", "page", "years"
K_PROVINCES, K_COUNTIES, K_TOWNSHIPS, K_CATEGORIES = "provinces", "counties", "townships", "categories"
K_FUSION, K_WEIGHT, K_GROUP = "fusion", "weight", "group"
K_SIMILAR, K_LOADED, K_SEARCHES = "similar_for", "_url_loaded", "_searches"
K_VIEW, K_SORT = "view", "sort"


# -- resources: one per process ----------------------------------------------------------------------
@st.cache_resource(show_spinner="正在加载向量模型……")
def _embedder(spec: str) -> Embedder:
    embedder = embedder_from(Settings(embedder=spec))
    embedder.embed_query("法治政府建设")  # load the weights now, not on the first search
    return embedder


@st.cache_resource
def _store(kind: str, index_dir: str, es_index: str, es_url: str | None) -> Store:
    # es_url is part of the cache key only: the Elasticsearch store reads ELASTICSEARCH_URL itself.
    return store_from(Settings(store=kind, index_dir=Path(index_dir), es_index=es_index), read_only=True)


def open_page_engine(settings: Settings) -> SearchEngine:
    store = _store(
        settings.store, str(settings.index_dir), settings.es_index, os.environ.get("ELASTICSEARCH_URL")
    )
    return SearchEngine(store, _embedder(settings.embedder))


# -- state ----------------------------------------------------------------------------------------------
def _load_url_state(years: tuple[int, int] | None) -> None:
    """Once per browser session: put what the URL says into the widgets."""
    if st.session_state.get(K_LOADED):
        return
    state = ps.decode({name: st.query_params.get_all(name) for name in st.query_params})
    st.session_state.update(
        {
            K_QUERY: state.query,
            K_MODE: state.mode,
            K_PAGE: state.page,
            K_PROVINCES: list(state.provinces),
            K_COUNTIES: list(state.counties),
            K_TOWNSHIPS: list(state.townships),
            K_CATEGORIES: [c for c in state.categories if c in CATEGORIES],
            K_FUSION: state.fusion,
            K_WEIGHT: state.lexical_weight,
            K_GROUP: state.per_report,
            K_VIEW: state.view,
            K_SORT: state.sort,
            K_LOADED: True,
        }
    )
    if years:
        low = max(years[0], min(state.year_min or years[0], years[1]))
        high = min(years[1], max(state.year_max or years[1], low))
        st.session_state[K_YEARS] = (low, high)


def _current_state(years: tuple[int, int] | None) -> ps.PageState:
    get = st.session_state.get
    year_min = year_max = None
    if years and get(K_YEARS):
        low, high = get(K_YEARS)
        year_min = low if low > years[0] else None
        year_max = high if high < years[1] else None
    return ps.PageState(
        query=str(get(K_QUERY) or "").strip(),
        mode=get(K_MODE) or "hybrid",
        page=max(1, int(get(K_PAGE) or 1)),
        year_min=year_min,
        year_max=year_max,
        provinces=tuple(get(K_PROVINCES) or ()),
        counties=tuple(get(K_COUNTIES) or ()),
        townships=tuple(get(K_TOWNSHIPS) or ()),
        categories=tuple(get(K_CATEGORIES) or ()),
        fusion=get(K_FUSION) or "rrf",
        lexical_weight=float(get(K_WEIGHT) if get(K_WEIGHT) is not None else 0.5),
        per_report=bool(get(K_GROUP)),
        view=get(K_VIEW) or "passages",
        sort=get(K_SORT) or "relevance",
    )


def _new_search() -> None:
    """A changed query, mode or filter starts again at page 1 with no open panel."""
    st.session_state[K_PAGE] = 1
    st.session_state[K_SEARCHES] = st.session_state.get(K_SEARCHES, 0) + 1  # a fresh pager widget
    st.session_state.pop(K_SIMILAR, None)


def _turn_page(pager_key: str) -> None:
    st.session_state[K_PAGE] = st.session_state[pager_key]
    st.session_state.pop(K_SIMILAR, None)


def _search(engine: SearchEngine, state: ps.PageState, top_k: int, offset: int) -> SearchResult:
    return engine.search(
        state.query,
        mode=state.mode,
        filters=state.filters,
        top_k=top_k,
        offset=offset,
        fusion=state.fusion,
        lexical_weight=state.lexical_weight,
        per_report=1 if state.per_report else None,
        with_facets=True,
        sort=state.sort,
    )


def _page_result(engine: SearchEngine, state: ps.PageState, generation: str | None) -> SearchResult:
    """The current page's result, remembered for the session so reruns (opening a panel) do not search."""
    key = (generation, state)
    memo = st.session_state.get("_result")
    if memo is not None and memo[0] == key:
        return memo[1]
    result = _search(engine, state, ps.PAGE_SIZE, state.offset)
    st.session_state["_result"] = (key, result)
    return result


# -- sidebar ----------------------------------------------------------------------------------------------
def _sidebar_status(stats: IndexStats | None) -> None:
    if stats is not None and stats.vector_coverage < 1.0:
        st.sidebar.caption(coverage_line(stats))  # semantic search covers part of the index for now
    with st.sidebar.expander("索引状态", expanded=False):
        if stats is None:
            st.caption("索引不可用")
            return
        for label, value in render.stats_rows(stats):
            st.markdown(f"**{label}**：{_md(value)}")


def _facet_select(label: str, key: str, values: Sequence[str], counts: dict[str, int]) -> None:
    selected = st.session_state.get(key) or []
    options = [*values, *(v for v in selected if v not in values)]
    options.sort(key=lambda v: (-counts.get(v, 0), v))
    st.multiselect(
        label,
        options,
        key=key,
        format_func=lambda v: render.facet_label(v, counts.get(v, 0)),
        on_change=_new_search,
        placeholder="全部",
    )


def _sidebar_filters(
    index_facets: dict[str, dict[str, int]],
    counts: dict[str, dict[str, int]],
    years: tuple[int, int] | None,
    searched: bool,
) -> None:
    bar = st.sidebar
    bar.header("筛选")
    bar.caption("括号内为当前检索结果中的段落数" if searched else "括号内为符合条件的段落数")
    if years:
        bar.slider("年份", min_value=years[0], max_value=years[1], key=K_YEARS, on_change=_new_search)
    with bar:
        _facet_select("省份", K_PROVINCES, list(index_facets.get("province", {})), counts.get("province", {}))
        _facet_select("区县", K_COUNTIES, list(index_facets.get("county", {})), counts.get("county", {}))
        _facet_select("乡镇", K_TOWNSHIPS, list(index_facets.get("township", {})), counts.get("township", {}))
        category_counts = counts.get("category", {})
        st.multiselect(
            "章节类别",
            list(CATEGORIES),
            key=K_CATEGORIES,
            format_func=lambda v: render.facet_label(v, category_counts.get(v, 0)),
            on_change=_new_search,
            placeholder="全部",
        )


def _year_bounds(index_facets: dict[str, dict[str, int]]) -> tuple[int, int] | None:
    years = sorted(int(y) for y in index_facets.get("year", {}) if str(y).isdigit())
    return (years[0], years[-1]) if len(years) > 1 and years[0] < years[-1] else None


# -- search tab ------------------------------------------------------------------------------------------
def _controls() -> None:
    st.text_input(
        "检索词",
        key=K_QUERY,
        placeholder='输入检索词后按回车，例如：枫桥经验、行政执法 存在问题、"合法性审查"（繁体亦可）',
        on_change=_new_search,
    )
    left, right = st.columns([3, 2])
    with left:
        st.segmented_control(
            "检索方式",
            list(ps.MODES),
            key=K_MODE,
            format_func=render.MODE_LABELS.get,
            required=True,
            on_change=_new_search,
        )
    with right, st.expander("高级选项"):
        st.radio(
            "融合方法",
            list(ps.FUSIONS),
            key=K_FUSION,
            format_func=render.FUSION_LABELS.get,
            horizontal=True,
            on_change=_new_search,
        )
        st.slider(
            "关键词权重（加权融合时；其余为语义权重）",
            0.0,
            1.0,
            step=0.05,
            key=K_WEIGHT,
            disabled=st.session_state.get(K_FUSION) != "weighted",
            on_change=_new_search,
        )
        st.checkbox("每份报告只显示最相关的一段", key=K_GROUP, on_change=_new_search)


def _results(engine: SearchEngine, state: ps.PageState, result: SearchResult) -> None:
    for notice in result.notices:
        st.caption(f"ℹ️ {_md(notice)}")
    if not state.query:
        st.info(f"{EMPTY_QUERY_MESSAGE}。示例：" + "、".join(EXAMPLES))
        return
    if result.message:
        st.info(result.message)
        return
    if not result.hits:
        st.warning(
            f"**{_md(render.no_result_message(state.query))}**\n\n可换用其他说法，或放宽左侧筛选条件。"
        )
        _suggestions(result)
        return
    head, csv_col, xlsx_col = st.columns([6, 1, 1])
    counts = render.count_line(result.total, result.lexical_total, result.semantic_total)
    _export_buttons(engine, state, result, csv_col, xlsx_col)
    view_col, sort_col = st.columns([1, 2])
    view_col.segmented_control(
        "查看方式",
        list(ps.VIEWS),
        key=K_VIEW,
        format_func=render.VIEW_LABELS.get,
        required=True,
        on_change=_new_search,
    )
    sort_col.segmented_control(
        "排序",
        list(ps.SORTS),
        key=K_SORT,
        format_func=render.SORT_LABELS.get,
        required=True,
        on_change=_new_search,
    )
    if state.view == "reports":
        reports = _guarded(lambda: _report_page(engine, state))
        if reports is None:
            return
        pages = max(1, -(-reports.reports // ps.PAGE_SIZE))
        head.markdown(
            f'<span class="fz-count">{_md(counts)}</span> · 来自 {reports.reports} 份报告 · '
            f"第 {state.page}/{pages} 页 · 用时 {result.took_ms + reports.took_ms:.0f} 毫秒",
            unsafe_allow_html=True,
        )
        for rank, group in enumerate(reports.groups, state.offset + 1):
            st.markdown(render.report_group_card(group, rank), unsafe_allow_html=True)
            if st.button("查看全文", key=f"rdoc:{rank}:{group.report_id}"):
                _report_dialog(engine, group.report_id)
    else:
        pages = max(1, -(-result.total // ps.PAGE_SIZE))
        head.markdown(
            f'<span class="fz-count">{_md(counts)}</span> · 第 {state.page}/{pages} 页 · '
            f"用时 {result.took_ms:.0f} 毫秒",
            unsafe_allow_html=True,
        )
        query = result.query
        terms, phrases = (query.tokens, query.phrases) if query else ((), ())
        for rank, hit in enumerate(result.hits, state.offset + 1):
            _card(engine, hit, rank, terms, phrases, state.fusion)
    if pages > 1:
        # The page number lives in K_PAGE; each new search gets its own pager, which starts at that page.
        pager_key = f"pager:{st.session_state.get(K_SEARCHES, 0)}"
        st.pagination(
            pages, default=min(state.page, pages), key=pager_key, on_change=_turn_page, args=(pager_key,)
        )


def _report_page(engine: SearchEngine, state: ps.PageState) -> ReportResults:
    return engine.search_reports(
        state.query,
        mode=state.mode,
        filters=state.filters,
        top_k=ps.PAGE_SIZE,
        offset=state.offset,
        fusion=state.fusion,
        lexical_weight=state.lexical_weight,
        sort=state.sort,
    )


def _suggestions(result: SearchResult) -> None:
    """Passages sharing some of the query's words, shown apart: not results, not counted or exported."""
    if not result.suggestions:
        return
    st.markdown('<div class="fz-maybe"></div>', unsafe_allow_html=True)
    st.markdown("**可能相关**（含部分检索词，不计入结果）")
    for hit in result.suggestions:
        st.markdown(render.compact_card(hit), unsafe_allow_html=True)


def _export_info(state: ps.PageState, result: SearchResult) -> export.ExportInfo:
    return export.ExportInfo(
        query=state.query,
        filters=render.filters_line(state.filters),
        mode=render.MODE_LABELS.get(state.mode, state.mode),
        total=result.total,
        lexical_total=result.lexical_total,
        semantic_total=result.semantic_total,
        exported_at=datetime.now(),
    )


def _export_buttons(
    engine: SearchEngine, state: ps.PageState, result: SearchResult, csv_col, xlsx_col
) -> None:
    """Both exports hold the whole result set the page counts (built only when a button is pressed)."""

    def everything() -> tuple[list[Hit], export.ExportInfo]:
        full = _search(engine, state, max(result.total, 1), 0)
        return full.hits, _export_info(state, full)

    csv_col.download_button(
        "导出 CSV",
        data=lambda: export.to_csv(*everything()),
        file_name=export.file_name(state.query, "csv"),
        mime=export.CSV_MIME,
        key="export_csv",
        on_click="ignore",
        help=f"导出全部 {result.total} 段结果",
    )
    xlsx_col.download_button(
        "导出 Excel",
        data=lambda: _xlsx(everything(), state.query),
        file_name=export.file_name(state.query, "xlsx"),
        mime=export.XLSX_MIME,
        key="export_xlsx",
        on_click="ignore",
        help=f"导出全部 {result.total} 段结果",
    )


def _xlsx(found: tuple[list[Hit], export.ExportInfo], query: str) -> bytes:
    hits, info = found
    return export.to_xlsx(hits, query, info)


def _card(
    engine: SearchEngine, hit: Hit, rank: int, terms: Sequence[str], phrases: Sequence[str], fusion: str
) -> None:
    chunk = hit.chunk
    st.markdown(render.result_card(hit, rank, terms, phrases), unsafe_allow_html=True)
    similar_col, report_col, _ = st.columns([1, 1, 5])
    open_similar = st.session_state.get(K_SIMILAR) == chunk.id
    similar_col.button(
        "收起相似做法" if open_similar else "相似做法",
        key=f"sim:{rank}:{chunk.id}",
        on_click=_toggle_similar,
        args=(chunk.id,),
    )
    if report_col.button("查看全文", key=f"doc:{rank}:{chunk.id}"):
        _report_dialog(engine, chunk.report_id)
    with st.expander("整段原文与得分说明"):
        st.markdown(render.section_html(hit), unsafe_allow_html=True)
        st.markdown(render.score_table(hit), unsafe_allow_html=True)
        if len(hit.ranks) > 1:
            st.caption(render.FUSION_NOTES[fusion])
    if open_similar:
        _similar(engine, chunk.id)


def _toggle_similar(chunk_id: str) -> None:
    if st.session_state.get(K_SIMILAR) == chunk_id:
        st.session_state.pop(K_SIMILAR, None)
    else:
        st.session_state[K_SIMILAR] = chunk_id


def _similar(engine: SearchEngine, chunk_id: str) -> None:
    with st.container(border=True, key="similar_panel"):
        st.markdown("**其他地方的相似做法**")
        hits = _guarded(lambda: engine.similar(chunk_id, top_k=SIMILAR_COUNT))
        if hits is None:
            return
        if not hits:
            st.caption("没有找到其他报告中的相似段落。")
        for hit in hits:
            st.markdown(render.compact_card(hit), unsafe_allow_html=True)


@st.dialog("报告全文", width="large")
def _report_dialog(engine: SearchEngine, report_id: str) -> None:
    report = _guarded(lambda: engine.report(report_id))
    if report is None:
        st.warning("找不到这份报告，索引可能已更新，请重新检索。")
        return
    st.markdown(f"### {_md(report.meta.title or '（无标题）')}")
    st.caption(
        " · ".join(x for x in (render.place_line(report.meta), report.meta.issuer, report.meta.source) if x)
    )
    outline, body = st.columns([1, 3])
    with outline:
        st.markdown("**目录**")
        st.markdown(render.outline_html(report), unsafe_allow_html=True)
    body.markdown(render.report_html(report), unsafe_allow_html=True)


# -- compare tab -----------------------------------------------------------------------------------------
def _compare(engine: SearchEngine, state: ps.PageState) -> None:
    st.caption("选择章节类别，逐一查看各乡镇报告中相应的核心段落；左侧的地区与年份筛选同样适用。")
    left, right = st.columns([1, 2])
    category = left.selectbox(
        "章节类别", list(CATEGORIES), index=None, placeholder="请选择", key="cmp_category"
    )
    topic = right.text_input("限定主题（可选）", key="cmp_query", placeholder="例如：行政复议")
    if not category:
        return
    hits = _guarded(lambda: engine.compare(category, topic or None, state.filters))
    if hits is None:
        return
    if not hits:
        st.info("所选范围内没有这一类章节。")
        return
    st.caption(
        f"共 {len(hits)} 份报告"
        + (f"，显示前 {COMPARE_MAX} 份，可用左侧筛选缩小范围" if len(hits) > COMPARE_MAX else "")
    )
    shown = hits[:COMPARE_MAX]
    for start in range(0, len(shown), COMPARE_PER_ROW):
        for column, hit in zip(
            st.columns(COMPARE_PER_ROW), shown[start : start + COMPARE_PER_ROW], strict=False
        ):
            column.markdown(render.compact_card(hit, whole=True), unsafe_allow_html=True)


# -- indicators tab --------------------------------------------------------------------------------------
def _indicators(engine: SearchEngine, state: ps.PageState) -> None:
    st.caption(
        "各报告中的数字指标（自动抽取）；左侧的地区、年份与章节类别筛选同样适用。"
        "点击表格中的数字查看原句；同一报告有多个数字时表中显示最大值。"
    )
    rows = _guarded(lambda: engine.indicators(state.filters))
    if rows is None:
        return
    if not rows:
        st.info("所选范围内的报告没有抽取到指标。")
        return
    table = iv.table(rows)
    head, csv_col, xlsx_col = st.columns([6, 1, 1])
    head.markdown(f"共 **{len(table)}** 份报告 · **{len(table.columns)}** 项指标 · {len(rows)} 个数字")
    csv_col.download_button(
        "导出 CSV",
        lambda: iv.table_csv(table),
        "指标表.csv",
        export.CSV_MIME,
        key="ind_csv",
        on_click="ignore",
    )
    xlsx_col.download_button(
        "导出 Excel",
        iv.to_xlsx(table, rows),
        "指标表.xlsx",
        export.XLSX_MIME,
        key="ind_xlsx",
        on_click="ignore",
    )
    event = st.dataframe(
        table,
        key="ind_table",
        placeholder="",  # a report that gives no figure: an empty cell (never 0, nor "None")
        on_select="rerun",
        selection_mode="single-cell",
    )
    cells = event.selection.cells if event is not None else []
    if cells:
        position, kind = cells[0]
        if 0 <= position < len(table) and kind in table.columns:
            label = str(table.index[position])
            found = iv.sources(rows, kind, label)
            with st.container(border=True, key="ind_cell_sources"):
                st.markdown(f"**{_md(label)} · {_md(kind)}**")
                if not found:
                    st.caption("这份报告没有给出这项指标的数字。")
                _sources(engine, found, "cell")
    kind = st.selectbox(
        "指标", iv.kinds(rows), index=None, placeholder="选择一项指标，查看各地对比", key="ind_kind"
    )
    if kind:
        st.altair_chart(
            iv.chart(rows, kind), width="stretch", height=iv.chart_height(rows, kind), key="ind_chart"
        )
        st.markdown("**原句**")
        _sources(engine, iv.sources(rows, kind), "kind")


def _sources(engine: SearchEngine, found: Sequence, prefix: str) -> None:
    for n, row in enumerate(found):
        st.markdown(iv.source_html(row), unsafe_allow_html=True)
        if st.button("查看全文", key=f"ind_doc:{prefix}:{n}:{row.report_id}:{row.indicator.figure_start}"):
            _source_dialog(engine, row.report_id, row.indicator.start, row.indicator.end)


@st.dialog("报告全文", width="large")
def _source_dialog(engine: SearchEngine, report_id: str, start: int, end: int) -> None:
    report = _guarded(lambda: engine.report(report_id))
    if report is None:
        st.warning("找不到这份报告，索引可能已更新，请刷新页面。")
        return
    st.markdown(f"### {_md(report.meta.title or '（无标题）')}")
    st.caption("黄色标出的是指标所在的原句。")
    st.markdown(iv.marked_report_html(report, start, end), unsafe_allow_html=True)


# -- errors ----------------------------------------------------------------------------------------------
def _show_problem(exc: BaseException) -> None:
    problem = render.problem(exc)
    st.error(f"**{problem.title}**\n\n{problem.advice}")  # fixed texts; the detail may come from data
    if problem.detail:
        st.code(problem.detail, language=None)


def _guarded(call: Callable[[], T]) -> T | None:
    """Runs ``call``; on failure shows the friendly message, logs the trace and returns None."""
    try:
        return call()
    except Exception as exc:  # the page boundary: a reader sees advice, the log gets the trace
        log.exception("search page: %s", exc)
        _show_problem(exc)
        return None


def _md(text: str) -> str:
    """Plain text safe inside Markdown (no formatting, links, HTML or math from data)."""
    out = []
    for ch in str(text):
        out.append("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>$~:" else ch)
    return "".join(out)


# -- the page --------------------------------------------------------------------------------------------
def _page(engine: SearchEngine) -> None:
    stats = engine.stats()
    _sidebar_status(stats)
    if stats.chunks == 0:
        st.warning(f"**{render.EMPTY_INDEX_MESSAGE}**\n\n建好索引后刷新本页即可检索（也可运行 make index）。")
        return
    index_facets = engine.facets()
    years = _year_bounds(index_facets)
    _load_url_state(years)
    state = _current_state(years)
    result = _page_result(engine, state, engine.version()) if state.query else None
    if result is not None and not result.hits and result.total and state.page > 1:
        _new_search()  # the URL asked for a page past the end
        state = _current_state(years)
        result = _page_result(engine, state, engine.version())
    counts = result.facets if result is not None and result.facets else engine.facets(state.filters)
    _sidebar_filters(index_facets, counts, years, searched=result is not None and not result.message)
    st.query_params.from_dict(ps.encode(state))
    search_tab, compare_tab, indicators_tab = st.tabs(["检索", "对比", "指标"])
    with search_tab:
        _controls()
        _results(engine, state, result or SearchResult(None, [], 0))
    with compare_tab:
        _compare(engine, state)
    with indicators_tab:
        _indicators(engine, state)


def main() -> None:
    st.set_page_config(page_title=TITLE, page_icon="⚖️", layout="wide")
    st.html(render.CSS)
    st.title(TITLE)
    try:
        engine = open_page_engine(Settings.from_env())
        _page(engine)
    except IndexMissingError as exc:  # nothing where SEARCH_INDEX_DIR points (and nothing created there)
        _sidebar_status(None)
        st.warning(f"**{render.EMPTY_INDEX_MESSAGE}**\n\n建好索引后刷新本页即可检索（也可运行 make index）。")
        st.code(str(exc), language=None)
    except Exception as exc:  # the page boundary: never a stack trace on the page
        log.exception("search page failed: %s", exc)
        _sidebar_status(None)
        _show_problem(exc)


main()

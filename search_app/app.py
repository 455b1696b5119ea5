"""法治政府建设报告检索: the Streamlit page (``streamlit run search_app/app.py``).

It renders and calls the engine; retrieval policy lives in ``engine.py``, HTML in ``render.py`` and the
``*_view`` modules, the URL form of the page's state in ``page_state.py``. The model and the store load once
per process (``cache_resource``). Every widget has a key, so the page reads the whole state from
``st.session_state`` first, searches, and then draws the widgets with facet counts of that very search.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

import streamlit as st

from indexer.coverage import coverage_line
from indexer.embedders.base import Embedder
from indexer.models import CATEGORIES
from indexer.settings import Settings
from indexer.stores.base import IndexStats, Store
from indexer.wiring import IndexMissingError, query_embedder_from, store_from
from search_app import compare_view, export, places, render, report_view, similar_view
from search_app import indicators_view as iv
from search_app import page_state as ps
from search_app.engine import EMPTY_QUERY_MESSAGE, Hit, ReportResults, SearchEngine, SearchResult
from search_app.query import parse_query

log = logging.getLogger("search_app.app")
T = TypeVar("T")

TITLE = "法治政府建设报告检索"
SIMILAR_COUNT = 3  # similar practices shown, at most one per report
EXAMPLES = ("枫桥经验", '"人民调解" OR "行政复议"', "行政执法 存在问题", "楓橋經驗 -扶贫")
SEARCH_TAB, COMPARE_TAB, INDICATORS_TAB = "检索", "对比", "指标"

# Widget keys; their values are the page's state.
K_QUERY, K_MODE, K_PAGE, K_YEARS = "q", "mode", "page", "years"
K_PROVINCES, K_COUNTIES, K_TOWNSHIPS, K_CATEGORIES = "provinces", "counties", "townships", "categories"
K_FUSION, K_WEIGHT, K_GROUP = "fusion", "weight", "group"
K_TITLE, K_ISSUER, K_DATE_FROM, K_DATE_TO = "title", "issuer", "date_from", "date_to"
K_CMP_CATEGORY, K_CMP_TOPIC, K_CMP_PER = "cmp_category", "cmp_query", "cmp_per"
K_CMP_PROVINCE, K_CMP_PAGE = "cmp_province", "cmp_page"
K_SIMILAR_SAME = "similar_same"
# Not widgets: the open report view and the open similar panel.
K_DOC, K_AT, K_SECTION, K_OPENED = "_doc", "_at", "_sec", "_opened"
K_SIMILAR, K_LOADED, K_SEARCHES = "similar_for", "_url_loaded", "_searches"
K_VIEW, K_SORT = "view", "sort"
PLACE_KEYS = ((K_PROVINCES, "province"), (K_COUNTIES, "county"), (K_TOWNSHIPS, "township"))
# Widgets of the search and compare tabs, which the report view does not draw.
MAIN_KEYS = (K_QUERY, K_MODE, K_FUSION, K_WEIGHT, K_GROUP, K_TITLE, K_ISSUER, K_DATE_FROM, K_DATE_TO)
MAIN_KEYS += (K_VIEW, K_SORT, K_CMP_CATEGORY, K_CMP_TOPIC, K_CMP_PER, K_CMP_PROVINCE, K_CMP_PAGE)


# -- resources: one per process ----------------------------------------------------------------------
@st.cache_resource(show_spinner="正在加载向量模型……")
def _embedder(spec: str) -> Embedder:
    embedder = query_embedder_from(Settings(embedder=spec))
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
def _load_url_state(years: tuple[int, int] | None, index_facets: dict[str, dict[str, int]]) -> None:
    """Once per browser session: put what the URL says into the widgets."""
    if st.session_state.get(K_LOADED):
        return
    state = ps.decode({name: st.query_params.get_all(name) for name in st.query_params})
    st.session_state.update(
        {
            K_QUERY: state.query,
            K_MODE: state.mode,
            K_PAGE: state.page,
            K_CATEGORIES: [c for c in state.categories if c in CATEGORIES],
            K_FUSION: state.fusion,
            K_WEIGHT: state.lexical_weight,
            K_GROUP: state.per_report,
            K_VIEW: state.view,
            K_SORT: state.sort,
            K_TITLE: state.title,
            K_ISSUER: state.issuer,
            K_DATE_FROM: date.fromisoformat(state.date_from) if state.date_from else None,
            K_DATE_TO: date.fromisoformat(state.date_to) if state.date_to else None,
            K_DOC: state.doc,
            K_AT: state.at,
            K_SECTION: state.section,
            K_CMP_CATEGORY: state.compare_category if state.compare_category in CATEGORIES else None,
            K_CMP_TOPIC: state.compare_topic,
            K_CMP_PER: state.compare_per,
            K_CMP_PROVINCE: state.compare_province,
            K_CMP_PAGE: state.compare_page,
            K_LOADED: True,
        }
    )
    # 辰溪县 in a link selects the index's 辰溪縣: the chip and its count then agree with the results
    for key, facet in PLACE_KEYS:
        wanted = {K_PROVINCES: state.provinces, K_COUNTIES: state.counties, K_TOWNSHIPS: state.townships}[key]
        st.session_state[key] = list(places.known_spellings(wanted, list(index_facets.get(facet, {}))))
    if years:
        low = max(years[0], min(state.year_min or years[0], years[1]))
        high = min(years[1], max(state.year_max or years[1], low))
        st.session_state[K_YEARS] = (low, high)


def _section_from_url() -> int | None:
    """The report view's section: the outline's script keeps ``sec`` in the address bar in step."""
    value = st.query_params.get(ps.SECTION)
    return ps.decode({ps.SECTION: value}).section if value else st.session_state.get(K_SECTION)


def _current_state(years: tuple[int, int] | None) -> ps.PageState:
    get = st.session_state.get
    year_min = year_max = None
    if years and get(K_YEARS):
        low, high = get(K_YEARS)
        year_min = low if low > years[0] else None
        year_max = high if high < years[1] else None
    date_from, date_to = get(K_DATE_FROM), get(K_DATE_TO)
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    doc = str(get(K_DOC) or "")
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
        title=str(get(K_TITLE) or "").strip(),
        issuer=str(get(K_ISSUER) or "").strip(),
        date_from=date_from.isoformat() if date_from else "",
        date_to=date_to.isoformat() if date_to else "",
        doc=doc,
        at=str(get(K_AT) or "") if doc else "",
        section=_section_from_url() if doc else None,
        compare_category=get(K_CMP_CATEGORY) or "",
        compare_topic=str(get(K_CMP_TOPIC) or "").strip(),
        compare_per=int(get(K_CMP_PER) or 1),
        compare_province=str(get(K_CMP_PROVINCE) or ""),
        compare_page=max(1, int(get(K_CMP_PAGE) or 1)),
    )


def _new_search() -> None:
    """A changed query, mode or filter starts again at page 1 with no open panel or report."""
    st.session_state[K_PAGE] = 1
    st.session_state[K_SEARCHES] = st.session_state.get(K_SEARCHES, 0) + 1  # a fresh pager widget
    st.session_state.pop(K_SIMILAR, None)
    _close_report()


def _use_example(query: str) -> None:
    st.session_state[K_QUERY] = query
    _new_search()


def _turn_page(pager_key: str) -> None:
    st.session_state[K_PAGE] = st.session_state[pager_key]
    st.session_state.pop(K_SIMILAR, None)


def _open_report(report_id: str, chunk_id: str) -> None:
    st.session_state.update({K_DOC: report_id, K_AT: chunk_id, K_SECTION: None})
    st.session_state[K_OPENED] = st.session_state.get(K_OPENED, 0) + 1
    st.query_params.pop(ps.SECTION, None)


def _close_report() -> None:
    st.session_state.update({K_DOC: "", K_AT: "", K_SECTION: None})
    st.query_params.pop(ps.SECTION, None)


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
    key = (generation, state.query, state.mode, state.page, state.filters, state.fusion, state.lexical_weight)
    key += (state.per_report, state.sort)  # not the open report or comparison: those need no new search
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
        format_func=lambda v: places.option_label(v, counts.get(v, 0)),
        on_change=_new_search,
        placeholder="全部（可输入简体或繁体）",
        select_all=False,
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
        bar.slider("报告年度", min_value=years[0], max_value=years[1], key=K_YEARS, on_change=_new_search)
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
            select_all=False,
        )


def _year_bounds(index_facets: dict[str, dict[str, int]]) -> tuple[int, int] | None:
    years = sorted(int(y) for y in index_facets.get("year", {}) if str(y).isdigit())
    return (years[0], years[-1]) if len(years) > 1 and years[0] < years[-1] else None


# -- search tab ------------------------------------------------------------------------------------------
def _controls() -> None:
    st.text_input(
        "检索词",
        key=K_QUERY,
        placeholder="输入检索词后按回车，例如：枫桥经验（简体、繁体或英文均可）",
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
            help=render.MODE_HELP,
        )
    with right, st.popover("检索语法", use_container_width=True):
        st.markdown(render.SYNTAX_HELP)
    with st.expander("高级检索：标题、发布机关、发布日期、排序方式"):
        title_col, issuer_col = st.columns(2)
        title_col.text_input("标题含", key=K_TITLE, placeholder="例如：船溪乡", on_change=_new_search)
        issuer_col.text_input("发布机关含", key=K_ISSUER, placeholder="例如：人民政府", on_change=_new_search)
        from_col, to_col = st.columns(2)
        for column, label, key in ((from_col, "发布日期从", K_DATE_FROM), (to_col, "发布日期至", K_DATE_TO)):
            column.date_input(
                label,
                value=None,
                key=key,
                min_value=date(2000, 1, 1),
                max_value=date(2100, 12, 31),
                format="YYYY-MM-DD",
                on_change=_new_search,
            )
        st.caption("未注明发布日期的报告按报告年度计入。多个词以空格分隔时须全部包含。")
        st.markdown("**排序方式**（供熟悉检索的用户调整）")
        st.radio(
            "两种检索结果如何合并排序",
            list(ps.FUSIONS),
            key=K_FUSION,
            format_func=render.FUSION_LABELS.get,
            horizontal=True,
            on_change=_new_search,
            help=render.FUSION_HELP,
        )
        st.slider(
            "字词匹配所占比重（仅“按得分加权合并”时有效，其余为意思相近的比重）",
            0.0,
            1.0,
            step=0.05,
            key=K_WEIGHT,
            disabled=st.session_state.get(K_FUSION) != "weighted",
            on_change=_new_search,
        )
        st.checkbox("每份报告只显示最相关的一段", key=K_GROUP, on_change=_new_search)


def _examples() -> None:
    st.markdown(f"{EMPTY_QUERY_MESSAGE}，或点一个示例：")
    for column, example in zip(st.columns(len(EXAMPLES)), EXAMPLES, strict=True):
        column.button(example, key=f"example:{example}", on_click=_use_example, args=(example,))


def _results(
    engine: SearchEngine, state: ps.PageState, result: SearchResult, scope: list[tuple[str, str]]
) -> None:
    for notice in result.notices:
        st.caption(f"ℹ️ {_md(notice)}")
    if not state.query:
        _examples()
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
    _export_buttons(engine, state, result, scope, csv_col, xlsx_col)
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
            st.button(
                "查看全文",
                key=f"rdoc:{rank}:{group.report_id}",
                on_click=_open_report,
                args=(group.report_id, group.best_ids[0] if group.best_ids else ""),
                help="在报告全文中打开它最相关的一段，检索词已标出",
            )
    else:
        pages = max(1, -(-result.total // ps.PAGE_SIZE))
        head.markdown(
            f'<span class="fz-count">{_md(counts)}</span> · 第 {state.page}/{pages} 页 · '
            f"用时 {result.took_ms:.0f} 毫秒",
            unsafe_allow_html=True,
        )
        query = result.query
        terms, phrases = (query.tokens, query.marked_phrases) if query else ((), ())
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


def _export_info(
    state: ps.PageState, result: SearchResult, scope: list[tuple[str, str]]
) -> export.ExportInfo:
    return export.ExportInfo(
        query=state.query,
        filters=ps.describe_filters(state),
        mode=render.MODE_LABELS.get(state.mode, state.mode),
        total=result.total,
        lexical_total=result.lexical_total,
        semantic_total=result.semantic_total,
        exported_at=datetime.now(),
        scope="；".join(f"{label} {value}" for label, value in scope),
    )


def _export_buttons(
    engine: SearchEngine,
    state: ps.PageState,
    result: SearchResult,
    scope: list[tuple[str, str]],
    csv_col,
    xlsx_col,
) -> None:
    """Both exports hold the whole result set the page counts (built only when a button is pressed)."""

    def everything() -> tuple[list[Hit], export.ExportInfo]:
        full = _search(engine, state, max(result.total, 1), 0)
        return full.hits, _export_info(state, full, scope)

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
    report_col, similar_col, _ = st.columns([1, 1, 5])
    report_col.button(
        "查看全文",
        key=f"doc:{rank}:{chunk.id}",
        on_click=_open_report,
        args=(chunk.report_id, chunk.id),
        help="在报告全文中打开这一段，检索词已标出",
    )
    open_similar = st.session_state.get(K_SIMILAR) == chunk.id
    similar_col.button(
        "收起相似做法" if open_similar else "相似做法",
        key=f"sim:{rank}:{chunk.id}",
        on_click=_toggle_similar,
        args=(chunk.id,),
    )
    with st.expander("整段原文与排序依据"):
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
        same = st.toggle("只看同类章节", key=K_SIMILAR_SAME, help="例如只看其他报告的“存在问题”部分")
        source = engine.chunk(chunk_id)
        # ask for more than shown: the best neighbours often come from one report, and one each is kept
        hits = _guarded(lambda: engine.similar(chunk_id, top_k=SIMILAR_COUNT * 6, same_category=same))
        if hits is None or source is None:
            return
        shown = similar_view.diverse(hits, per_report=1, limit=SIMILAR_COUNT)
        if not shown:
            st.caption("没有找到其他报告中的相似段落。")
        for hit in shown:
            st.markdown(similar_view.card_html(hit, source), unsafe_allow_html=True)
        st.caption("内容相似度按两段文字的意思计算（100% 为意思完全相同）；共同用语已在文中标出。")


# -- report view -----------------------------------------------------------------------------------------
def _keep_hidden_widgets() -> None:
    """Streamlit forgets the value of a widget a run does not draw; the report view hides the search form,
    so its values are set again to survive until the reader goes back."""
    for key in MAIN_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _report_view(engine: SearchEngine, state: ps.PageState) -> None:
    _keep_hidden_widgets()
    st.button("← 返回检索结果", key="close_report", on_click=_close_report)
    report = _guarded(lambda: engine.report(state.doc))
    if report is None:
        st.warning("找不到这份报告，索引可能已更新，请重新检索。")
        return
    chunk = engine.chunk(state.at) if state.at else None
    if chunk is not None and chunk.report_id != report.id:
        chunk = None
    target = report_view.target_for(
        report, chunk.start if chunk else None, chunk.end if chunk else None, state.section
    )
    parsed = parse_query(state.query) if state.query else None
    terms, phrases = (parsed.tokens, parsed.marked_phrases) if parsed else ((), ())
    download_col, print_col, _ = st.columns([1, 1, 4])
    download_col.download_button(
        "下载全文（文本）",
        data=report_view.plain_text(report),
        file_name=report_view.file_name(report),
        mime="text/plain",
        key="report_download",
        on_click="ignore",
    )
    with print_col:
        st.html(report_view.PRINT_BUTTON, unsafe_allow_javascript=True)
    st.html(
        report_view.document_html(
            report, terms, phrases, target, chunk.section_index if chunk else state.section
        )
    )
    st.html(
        report_view.jump_script(target, str(st.session_state.get(K_OPENED, 0))), unsafe_allow_javascript=True
    )


# -- compare tab -----------------------------------------------------------------------------------------
def _new_comparison() -> None:
    """Another category, topic or province starts the comparison again at its first page."""
    st.session_state[K_CMP_PAGE] = 1


def _compare(engine: SearchEngine, state: ps.PageState, scope: list[tuple[str, str]]) -> None:
    st.caption("选择章节类别，并排阅读各乡镇报告中相应的段落；左侧的地区与年份筛选同样适用。")
    left, middle, right = st.columns([2, 3, 2])
    left.selectbox(
        "章节类别",
        list(CATEGORIES),
        index=None,
        placeholder="请选择",
        key=K_CMP_CATEGORY,
        on_change=_new_comparison,
    )
    middle.text_input(
        "限定主题（可选）", key=K_CMP_TOPIC, placeholder="例如：行政复议", on_change=_new_comparison
    )
    right.selectbox(
        "每个乡镇显示",
        list(ps.COMPARE_PER_CHOICES),
        key=K_CMP_PER,
        format_func=lambda n: f"{n} 段",
    )
    category = state.compare_category
    if not category:
        return
    topic = state.compare_topic
    per = state.compare_per
    base = replace(state.filters, categories=())
    hits = _guarded(lambda: engine.compare(category, topic or None, base, per_report=per))
    if hits is None:
        return
    in_scope = engine.facets(base).get("township", {})
    absent = tuple(sorted(set(in_scope) - {h.chunk.meta.township for h in hits}))
    provinces = engine.township_provinces(replace(base, townships=absent)) if absent else {}
    columns = compare_view.columns(hits, in_scope, provinces)
    if not columns:
        st.info("所选范围内没有报告。")
        return
    missing = sum(1 for c in columns if not c.hits)
    head, xlsx_col = st.columns([5, 1])
    head.caption(
        f"共 {len(columns)} 个乡镇，其中 {missing} 个{compare_view.NOT_WRITTEN}"
        + ("；黄色为限定主题的检索词" if topic else "")
    )
    xlsx_col.download_button(
        "导出 Excel",
        data=lambda: compare_view.to_xlsx(columns, category, topic, scope),
        file_name=export.file_name(f"对比_{category}_{topic}", "xlsx"),
        mime=export.XLSX_MIME,
        key="export_compare",
        on_click="ignore",
        help="所选范围内的全部乡镇，每个乡镇每段一行；未写此部分的乡镇也列出",
    )
    shown = _compare_page(columns)
    st.markdown(compare_view.grid_html(shown, category, marked=bool(topic)), unsafe_allow_html=True)


def _compare_page(columns: list[compare_view.Column]) -> list[compare_view.Column]:
    """More townships than fit side by side: read them a province at a time (type to find one), a page at
    a time. The choice lives in the URL like the rest of the comparison."""
    if len(columns) <= compare_view.PAGE_SIZE:
        return columns
    counts = compare_view.province_counts(columns)
    if st.session_state.get(K_CMP_PROVINCE) not in counts:
        st.session_state[K_CMP_PROVINCE] = ""
    province_col, page_col, note_col = st.columns([3, 2, 3])
    province_col.selectbox(
        "省份",
        ["", *counts],
        key=K_CMP_PROVINCE,
        format_func=lambda p: f"{p}（{counts[p]} 个）" if p else f"全部省份（{len(columns)} 个）",
        on_change=_new_comparison,
    )
    chosen = compare_view.in_province(columns, str(st.session_state.get(K_CMP_PROVINCE) or ""))
    pages = compare_view.page_count(len(chosen))
    st.session_state[K_CMP_PAGE] = min(max(1, int(st.session_state.get(K_CMP_PAGE) or 1)), pages)
    page = page_col.number_input("页码", min_value=1, max_value=pages, step=1, key=K_CMP_PAGE)
    note_col.caption(
        f"第 {page} / {pages} 页，每页 {compare_view.PAGE_SIZE} 个乡镇；Excel 含所选范围内的全部乡镇"
    )
    return compare_view.page_of(chosen, int(page))


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


def _no_index(settings: Settings) -> None:
    """For staff: what is missing and where; for the operator: the command, folded away."""
    where = str(settings.index_dir.resolve()) if settings.store == "embedded" else settings.es_index
    st.warning(f"**{render.EMPTY_INDEX_MESSAGE}**\n\n{render.EMPTY_INDEX_ADVICE}")
    st.markdown(f"检索页读取的索引位置：`{where}`")
    with st.expander("给系统管理员：建立索引的命令"):
        st.code(render.reindex_command(settings.store, where), language="bash")


# -- the page --------------------------------------------------------------------------------------------
def _page(engine: SearchEngine, settings: Settings) -> None:
    stats = engine.stats()
    _sidebar_status(stats)
    if stats.chunks == 0:
        _no_index(settings)
        return
    index_facets = engine.facets()
    years = _year_bounds(index_facets)
    _load_url_state(years, index_facets)
    state = _current_state(years)
    result = _page_result(engine, state, engine.version()) if state.query else None
    if result is not None and not result.hits and result.total and state.page > 1:
        _new_search()  # the URL asked for a page past the end
        state = _current_state(years)
        result = _page_result(engine, state, engine.version())
    counts = result.facets if result is not None and result.facets else engine.facets(state.filters)
    _sidebar_filters(index_facets, counts, years, searched=result is not None and not result.message)
    st.query_params.from_dict(ps.encode(state))
    scope = render.scope_rows(stats, index_facets)
    if state.doc:
        _report_view(engine, state)
        return
    st.caption("检索范围：" + " · ".join(value for _, value in scope))
    search_tab, compare_tab, indicators_tab = st.tabs(
        [SEARCH_TAB, COMPARE_TAB, INDICATORS_TAB],
        default=COMPARE_TAB if state.compare_category and not state.query else None,
    )
    with search_tab:
        _controls()
        _results(engine, state, result or SearchResult(None, [], 0), scope)
    with compare_tab:
        _compare(engine, state, scope)
    with indicators_tab:
        _indicators(engine, state)


def main() -> None:
    st.set_page_config(page_title=TITLE, page_icon="⚖️", layout="wide")
    st.html(render.CSS)
    st.markdown(
        f'<h1 class="fz-page-title">{TITLE}</h1>'
        '<div class="fz-mobile-only">筛选（地区、年度、章节）：点左上角的 » 打开</div>',
        unsafe_allow_html=True,
    )
    try:
        settings = Settings.from_env()
        engine = open_page_engine(settings)
        _page(engine, settings)
    except IndexMissingError:  # nothing where SEARCH_INDEX_DIR points (and nothing created there)
        _sidebar_status(None)
        _no_index(settings)
    except Exception as exc:  # the page boundary: never a stack trace on the page
        log.exception("search page failed: %s", exc)
        _sidebar_status(None)
        _show_problem(exc)


main()

"""The search page's HTML and labels, as pure functions of hits, reports and stats.

Every piece of report text (titles, places, headings, body) goes through ``html.escape`` here. The only
HTML that is not built here is a hit's ``fragment_html`` / ``html``, which ``search_app.highlight`` has
already escaped and in which ``<mark>`` is the only tag. The page passes what these functions return to
``st.markdown(..., unsafe_allow_html=True)``, where a blank line would end the HTML block and let the rest
be read as Markdown, so line breaks become ``<br>`` and no output contains a blank line.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from indexer.coverage import coverage_line
from indexer.models import CATEGORIES, Report, ReportMeta
from indexer.stores.base import EmbedderMismatchError, Filters, IndexEmptyError, IndexStats, StoreError
from search_app.engine import Hit
from search_app.grouping import ReportGroup
from search_app.highlight import highlight

MODE_LABELS: dict[str, str] = {"hybrid": "综合", "bm25": "字词匹配", "vector": "意思相近"}
MODE_HELP = (
    "综合：同时按字词和按意思查找，再合并排序（推荐）。"
    "字词匹配：只找含有检索词的段落，适合查找确切的说法。"
    "意思相近：按意思查找，换了说法、英文提问也能找到。"
)
FUSION_LABELS: dict[str, str] = {"rrf": "按名次合并（推荐）", "weighted": "按得分加权合并"}
FUSION_HELP = (
    "综合检索先分别按字词和按意思各排一次名，再合并。按名次合并只看两边的名次，稳定可靠；"
    "按得分加权合并则按下方的比重折算两边的得分。"
)
FUSION_NOTES: dict[str, str] = {
    "rrf": "综合名次由两种查找方式各自的名次合并而来：两边都靠前的段落排在最前。",
    "weighted": "综合名次按设定的比重，由字词匹配与意思相近两边的得分折算而来。",
}
VIEW_LABELS: dict[str, str] = {"passages": "按段落", "reports": "按报告"}
SORT_LABELS: dict[str, str] = {"relevance": "相关度", "date": "发布时间", "place": "地区"}
MATCH_LABELS: dict[str, str] = {"lexical": "含检索词", "semantic": "语义相关", "both": "含检索词 · 语义相关"}
MATCH_NOTES: dict[str, str] = {
    "lexical": "段落含有检索词",
    "semantic": "段落不含全部检索词，但与检索内容语义相近",
    "both": "段落含有检索词，且与检索内容语义相近",
}
RETRIEVER_LABELS: dict[str, str] = {"bm25": "字词匹配", "vector": "意思相近"}
SYNTAX_HELP = """- **空格**分隔多个词：含有的词越多、越集中，排名越靠前
- **"合法性审查"**：加引号，必须原样出现
- **人民调解 OR 行政复议**：任一即可（`OR` 须大写，也可用 `|`）
- **-扶贫**：排除含有该词的段落
- 简体、繁体均可（人民調解 = 人民调解），也可用英文提问
"""
REINDEX_COMMAND = "python -m indexer reindex seeds"
EMPTY_INDEX_MESSAGE = "还没有可检索的报告"
EMPTY_INDEX_ADVICE = (
    "检索页读取的索引位置中还没有建好的报告索引。请联系负责维护本系统的同事建立索引，建好后刷新本页即可检索。"
)


def reindex_command(store: str, where: str) -> str:
    """The operator's command for the index the page reads."""
    if store == "embedded":
        return f"python -m indexer reindex 报告目录 --index-dir {where}"
    return f"python -m indexer reindex 报告目录 --store elasticsearch  # 索引别名 {where}"


# Fixed page styles; nothing in here comes from data.
CSS = """<style>
[data-testid="stMainBlockContainer"]{padding-top:2.5rem;}
.fz-card{border:1px solid rgba(49,51,63,.15);border-radius:.5rem;padding:.75rem 1rem;margin:.25rem 0 .4rem;}
.fz-title{font-weight:600;font-size:1.05rem;line-height:1.4;}
.fz-rank{display:inline-block;min-width:1.6rem;color:#888;font-weight:400;}
.fz-meta{color:#555;font-size:.9rem;margin-top:.15rem;}
.fz-crumb{color:#777;font-size:.85rem;margin-top:.1rem;}
.fz-text{margin-top:.45rem;line-height:1.75;}
.fz-card mark{background:#ffe58f;padding:0 .1em;border-radius:.15em;}
.fz-tag{display:inline-block;font-size:.78rem;padding:0 .45rem;border-radius:.6rem;margin-left:.4rem;
background:#eef;color:#334;white-space:nowrap;}
.fz-cat-0{background:#e6f4ea;color:#1e6b34;}.fz-cat-1{background:#fdecea;color:#a3261b;}
.fz-cat-2{background:#e8f0fe;color:#1a4fa3;}.fz-cat-3{background:#fff4e5;color:#8a5200;}
.fz-scroll{max-height:28rem;overflow-y:auto;}
.fz-match{display:inline-block;font-size:.78rem;padding:0 .45rem;border-radius:.6rem;margin-left:.4rem;
white-space:nowrap;border:1px solid #b7c4d8;color:#2b4a78;background:#f4f7fb;}
.fz-match-semantic{border-style:dashed;color:#5b5b5b;background:#fafafa;}
.fz-maybe{border-top:1px dashed rgba(49,51,63,.3);margin-top:1rem;padding-top:.5rem;}
.fz-score{border-collapse:collapse;font-size:.88rem;}
.fz-score td,.fz-score th{border:1px solid rgba(49,51,63,.15);padding:.15rem .6rem;text-align:left;}
.fz-outline{font-size:.9rem;line-height:1.6;}
.fz-report{line-height:1.8;}
.fz-report .fz-h{font-weight:600;}
.fz-muted{color:#777;font-size:.88rem;}
h1.fz-page-title{font-size:2rem !important;font-weight:700;margin:0 0 .2rem;padding:0 !important;
line-height:1.3;}
.fz-cmp-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:.8rem;}
.fz-cmp-province{grid-column:1/-1;font-weight:600;margin-top:.6rem;padding-bottom:.2rem;
border-bottom:1px solid #ddd;}
.fz-cmp .fz-text{font-size:.95rem;line-height:1.75;margin-bottom:.5rem;}
.fz-missing{background:#fafafa;color:#777;}
.fz-print{border:1px solid rgba(49,51,63,.2);border-radius:.5rem;background:#fff;padding:.35rem .9rem;
font-size:.95rem;cursor:pointer;}
.fz-doc-title{font-size:1.5rem;line-height:1.4;margin:.2rem 0 .4rem;}
.fz-doc-meta{display:flex;flex-wrap:wrap;gap:.3rem 1.4rem;color:#444;font-size:.95rem;margin-bottom:.4rem;}
.fz-doc-meta b{color:#777;font-weight:400;margin-right:.3rem;}
.fz-doc-grid{display:grid;grid-template-columns:minmax(12rem,1fr) 3fr;gap:1.5rem;align-items:start;}
.fz-doc-outline{position:sticky;top:4rem;max-height:calc(100vh - 5rem);overflow-y:auto;font-size:.9rem;
line-height:1.5;border-right:1px solid rgba(49,51,63,.12);padding-right:.6rem;}
.fz-doc-outline summary{font-weight:600;cursor:pointer;margin-bottom:.3rem;}
.fz-doc-outline a{display:block;color:#1a4fa3;text-decoration:none;padding:.12rem 0;}
.fz-doc-outline a:hover{text-decoration:underline;}
.fz-doc-outline a.fz-current{font-weight:600;color:#8a5200;}
.fz-doc-body{line-height:1.9;font-size:1.02rem;}
.fz-doc-body .fz-h{font-weight:600;}
.fz-doc-body mark{background:#ffe58f;padding:0 .1em;border-radius:.15em;}
.fz-passage{background:#e8f0fe;box-shadow:0 0 0 .2rem #e8f0fe;}
.fz-anchor{scroll-margin-top:4.5rem;}
@media (max-width:700px){.fz-doc-grid{grid-template-columns:1fr;}
.fz-doc-outline{position:static;max-height:none;border-right:0;border-bottom:1px solid rgba(49,51,63,.12);}
[data-testid="stMainBlockContainer"]{padding-top:4rem !important;}
h1.fz-page-title{font-size:1.3rem !important;}
.fz-mobile-only{display:block !important;}}
.fz-mobile-only{display:none;color:#555;font-size:.9rem;margin-bottom:.3rem;}
@media (min-width:701px){[data-testid="stSidebar"]{min-width:21rem;}}
@media print{[data-testid="stSidebar"],[data-testid="stHeader"],[data-testid="stToolbar"],.fz-noprint,
.fz-doc-outline,.stButton,.stDownloadButton,[data-testid="stDecoration"]{display:none !important;}
.fz-doc-grid{display:block;} .fz-passage{background:none;box-shadow:none;}
[data-testid="stAppViewContainer"],[data-testid="stMain"],.stMain,.stApp{position:static !important;
overflow:visible !important;height:auto !important;}}
</style>"""


def text_html(text: str) -> str:
    """Escaped ``text`` with line breaks as ``<br>`` (safe inside an HTML block)."""
    return inline(html.escape(text, quote=True))


def inline(escaped: str) -> str:
    """Already escaped HTML made safe to embed in one Markdown HTML block: no raw line breaks, no ``$``."""
    lines = escaped.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(lines).replace("$", "&#36;")


def place_line(meta: ReportMeta) -> str:
    """``船溪乡 · 辰溪县 · 2022年`` from what is known (plain text); the province stands in when neither
    township nor county is known (a provincial work report, a provincial regulation)."""
    province = "" if meta.township or meta.county else meta.province
    parts = [meta.township, meta.county, province, f"{meta.year}年" if meta.year else ""]
    return " · ".join(p for p in parts if p) or "地区不详"


def category_tag(category: str) -> str:
    index = CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)
    return f'<span class="fz-tag fz-cat-{index}">{text_html(category)}</span>'


def marked_html(text: str, terms: Sequence[str] = (), phrases: Sequence[str] = ()) -> str:
    """Escaped ``text`` with the query's terms marked (by ``search_app.highlight``, which escapes)."""
    if not terms and not phrases:
        return text_html(text)
    return inline(highlight(text, terms, phrases).html)


def match_tag(match: str) -> str:
    """Why a hit is a result, as a small label with its explanation on hover ("" for none)."""
    if match not in MATCH_LABELS:
        return ""
    return (
        f'<span class="fz-match fz-match-{match}" title="{text_html(MATCH_NOTES[match])}">'
        f"{text_html(MATCH_LABELS[match])}</span>"
    )


def count_line(total: int, lexical: int, semantic: int) -> str:
    """``共 17 段 · 含检索词 12 段 · 语义相关 5 段`` (plain text)."""
    return f"共 {total} 段 · 含检索词 {lexical} 段 · 语义相关 {semantic} 段"


def filters_line(filters: Filters) -> str:
    """The filters in words: ``年份：2021–2023；区县：辰溪縣`` ("" when nothing restricts)."""
    parts = []
    if filters.year_min is not None or filters.year_max is not None:
        low = filters.year_min if filters.year_min is not None else ""
        high = filters.year_max if filters.year_max is not None else ""
        parts.append(f"年份：{low}–{high}")
    for label, values in (
        ("省份", filters.provinces),
        ("区县", filters.counties),
        ("乡镇", filters.townships),
        ("章节类别", filters.categories),
    ):
        if values:
            parts.append(f"{label}：{'、'.join(values)}")
    return "；".join(parts)


def no_result_message(query: str) -> str:
    """The plain statement that nothing matched (plain text)."""
    return f"没有找到与“{query}”相关的段落"


def result_card(hit: Hit, rank: int, terms: Sequence[str] = (), phrases: Sequence[str] = ()) -> str:
    """One result: title, place, breadcrumb, category, why it matched and the highlighted fragment.

    ``terms`` and ``phrases`` (the parsed query's) are marked in the title and breadcrumb too, so a hit
    that matched through its heading shows why.
    """
    chunk, meta = hit.chunk, hit.chunk.meta
    title = marked_html(meta.title, terms, phrases) if meta.title else "（无标题）"
    return (
        '<div class="fz-card">'
        f'<div class="fz-title"><span class="fz-rank">{int(rank)}.</span>{title}</div>'
        f'<div class="fz-meta">{text_html(place_line(meta))}{category_tag(chunk.category)}'
        f"{match_tag(hit.match)}</div>"
        f'<div class="fz-crumb">{marked_html(chunk.section_path, terms, phrases)}</div>'
        f'<div class="fz-text">{inline(hit.fragment_html)}</div>'
        "</div>"
    )


def report_group_card(group: ReportGroup, rank: int) -> str:
    """One report of the document view: its heading, how many results it holds, its best passages."""
    meta = group.meta
    title = text_html(meta.title) if meta.title else "（无标题）"
    counts = f"{group.count} 段结果（含检索词 {group.lexical} 段 · 语义相关 {group.semantic} 段）"
    when = f" · 发布于 {meta.published}" if meta.published else ""
    best = "".join(
        f'<div class="fz-crumb">{text_html(h.chunk.section_path)}{match_tag(h.match)}</div>'
        f'<div class="fz-text">{inline(h.fragment_html)}</div>'
        for h in group.hits
    )
    return (
        '<div class="fz-card">'
        f'<div class="fz-title"><span class="fz-rank">{int(rank)}.</span>{title}</div>'
        f'<div class="fz-meta">{text_html(place_line(meta) + when)}'
        f'<span class="fz-tag">{text_html(counts)}</span></div>'
        f"{best}"
        "</div>"
    )


def section_html(hit: Hit) -> str:
    """The hit's whole passage, highlighted."""
    return f'<div class="fz-text fz-scroll">{inline(hit.html)}</div>'


def compact_card(hit: Hit, whole: bool = False) -> str:
    """A smaller card for similar practices and the comparison columns (place first: that is the point)."""
    chunk, meta = hit.chunk, hit.chunk.meta
    body = section_html(hit) if whole else f'<div class="fz-text">{inline(hit.fragment_html)}</div>'
    return (
        '<div class="fz-card">'
        f'<div class="fz-title">{text_html(meta.township or meta.county or meta.title or "地区不详")}</div>'
        f'<div class="fz-meta">{text_html(place_line(meta))}{category_tag(chunk.category)}</div>'
        f'<div class="fz-crumb">{text_html(meta.title)}{" › " if chunk.section_path else ""}'
        f"{text_html(chunk.section_path)}</div>"
        f"{body}"
        "</div>"
    )


def score_table(hit: Hit) -> str:
    """Why the hit ranks where it does, in words: its place in each way of searching."""
    rows = "".join(
        f"<tr><td>{text_html(RETRIEVER_LABELS.get(name, name))}</td><td>第 {int(rank)} 名</td></tr>"
        for name, rank in sorted(hit.ranks.items())
    )
    return f'<table class="fz-score"><tr><th>查找方式</th><th>该段的名次</th></tr>{rows}</table>'


def scope_rows(stats: IndexStats, facets: dict[str, dict[str, int]]) -> list[tuple[str, str]]:
    """What the index covers, for the page's first view and the exports' header block."""
    years = sorted(int(y) for y in facets.get("year", {}) if str(y).isdigit())
    provinces = list(facets.get("province", {}))
    span = f"{years[0]}–{years[-1]} 年度" if len(years) > 1 else (f"{years[0]} 年度" if years else "年度不详")
    named = "、".join(provinces[:6]) + ("等" if len(provinces) > 6 else "")
    return [
        ("收录报告", f"{stats.reports:,} 份报告（{stats.chunks:,} 段）"),
        ("年度", span),
        ("地区", f"{len(provinces)} 个省份：{named}" if provinces else "地区不详"),
    ]


def facet_label(value: str, count: int | None) -> str:
    """``辰溪县 (12)``; the page shows it as widget text (not HTML)."""
    return value if count is None else f"{value} ({count})"


def outline_html(report: Report) -> str:
    """The report's outline: its section headings, indented by level."""
    items = "".join(
        f'<div style="padding-left:{(min(max(section.level, 1), 6) - 1) * 1.2:.1f}rem">'
        f"{text_html(section.heading)}</div>"
        for section in report.sections
        if section.heading
    )
    return f'<div class="fz-outline">{items or "（未识别出章节）"}</div>'


def report_html(report: Report) -> str:
    """The report's whole text, escaped, with its section headings set in bold."""
    text = report.text
    out, pos = [], 0
    for start, end in sorted((s.start, s.body_start) for s in report.sections if s.heading):
        start, end = max(start, pos), min(end, len(text))
        if end <= start:
            continue
        out += [text_html(text[pos:start]), '<span class="fz-h">', text_html(text[start:end]), "</span>"]
        pos = end
    out.append(text_html(text[pos:]))
    return f'<div class="fz-report fz-scroll">{"".join(out)}</div>'


def stats_rows(stats: IndexStats) -> list[tuple[str, str]]:
    """(label, value) pairs for the sidebar's index status."""
    semantic = [] if stats.vectors is None else [("语义索引", coverage_line(stats).removeprefix("语义索引 "))]
    return [
        ("报告", f"{stats.reports:,}"),
        ("段落", f"{stats.chunks:,}"),
        ("存储", stats.store),
        ("向量模型", stats.embedder_id or "—"),
        ("最近索引", _when(stats.published_at)),
        *semantic,
    ]


@dataclass(frozen=True)
class Problem:
    """What went wrong, in words for the reader, and the technical detail for whoever fixes it."""

    title: str
    advice: str
    detail: str = ""


def problem(exc: BaseException) -> Problem:
    """The page's message for an error raised while searching (never a stack trace)."""
    detail = str(exc)
    if isinstance(exc, IndexEmptyError):
        return Problem(EMPTY_INDEX_MESSAGE, EMPTY_INDEX_ADVICE, detail)
    if isinstance(exc, EmbedderMismatchError):
        return Problem(
            "索引所用的向量模型与当前设置不一致",
            "请把环境变量 EMBEDDER 设为建索引时所用的模型，或用当前模型重建索引"
            f"（{REINDEX_COMMAND}），然后重启本页。",
            detail,
        )
    if isinstance(exc, StoreError):
        return Problem(
            "无法访问索引存储",
            "请检查：Elasticsearch 是否已启动、ELASTICSEARCH_URL 是否正确、账号（ELASTIC_API_KEY 或 "
            "ELASTIC_PASSWORD）是否有效；使用内置索引时请检查 SEARCH_INDEX_DIR 指向的目录。",
            detail,
        )
    if isinstance(exc, ValueError):
        return Problem("设置有误", "请检查环境变量 SEARCH_STORE、SEARCH_INDEX_DIR 与 EMBEDDER。", detail)
    return Problem("检索失败", "请稍后重试；若问题仍在，请联系管理员查看服务日志。", type(exc).__name__)


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _when(iso: str | None) -> str:
    if not iso:
        return "—"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    suffix = " UTC" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return moment.strftime("%Y-%m-%d %H:%M") + suffix

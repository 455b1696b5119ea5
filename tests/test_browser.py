"""End to end: the real page in headless Chromium, on an index of the seeds plus one hostile report.

Run with ``pytest tests/test_browser.py -s`` to see the measured search round-trip. Screenshots go to
``test-output/browser/``; with ``UPDATE_SCREENSHOT=1`` the search one also replaces ``docs/screenshot.png``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import ROOT, SEEDS, build_index
from openpyxl import load_workbook

from indexer.analysis import fold
from search_app.compare_view import HEADERS as COMPARE_HEADERS
from search_app.export import COLUMNS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUT = ROOT / "test-output" / "browser"
EXPORT_HEADERS = [header for _, header in COLUMNS]
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1400, "height": 1000}
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_REPORT = f"""测试乡2023年法治政府建设工作报告{XSS_SCRIPT}

2023年，我乡坚持以习近平法治思想为指导，现将法治政府建设情况报告如下：

一、主要举措和成效

（一）推进防注入演练{XSS_IMG}。我乡开展网页安全演练，
演练口令为 {XSS_SCRIPT} 与 {XSS_IMG}，页面应原样显示这些文字。

二、存在的问题

防注入演练覆盖面不够广。

三、下一步工作计划

继续开展防注入演练。
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (make browser)"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout} s")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of seeds + the hostile report."""
    base = tmp_path_factory.mktemp("browser-index")
    reports = base / "reports"
    shutil.copytree(SEEDS, reports)
    (reports / "900_hostile.txt").write_text(HOSTILE_REPORT, encoding="utf-8")
    return build_index([reports], base / "index")


@pytest.fixture(scope="module")
def app_url(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app, served on a free loopback port, over ``index_dir``."""
    base = tmp_path_factory.mktemp("browser")
    port = _free_port()
    env = {**os.environ, "SEARCH_STORE": "embedded", "SEARCH_INDEX_DIR": str(index_dir)}
    env.pop("EMBEDDER", None)
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "search_app" / "app.py")]
    command += ["--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1"]
    command += ["--browser.gatherUsageStats", "false"]
    log = (base / "streamlit.log").open("wb")
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def page(app_url: str):
    sync_api = pytest.importorskip("playwright.sync_api")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.dialogs = []  # every alert/confirm the page raises lands here (there must be none)
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        try:
            yield page
        finally:
            context.close()
            browser.close()


def _search(page, query: str) -> float:
    """Types ``query`` and presses Enter; seconds until its results have replaced the page's old ones."""
    box = page.get_by_label("检索词")
    box.fill(query)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("q") == [query])
    page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]')"
        " && document.querySelectorAll('.fz-card .fz-rank').length > 0"
    )
    return time.perf_counter() - started


def _counts(page) -> tuple[int, int, int]:
    """(total, containing the words, meaning only) from the page's count line."""
    text = page.locator(".fz-count").first.inner_text()
    match = re.search(r"共 (\d+) 段 · 含检索词 (\d+) 段 · 语义相关 (\d+) 段", text)
    assert match, text
    return int(match[1]), int(match[2]), int(match[3])


def _cards_text(page) -> list[str]:
    return page.locator(".fz-card:has(.fz-rank)").all_inner_texts()


def test_search_filter_similar_export_and_inert_report_text(page, app_url):
    page.goto(app_url)
    page.get_by_text("法治政府建设报告检索").first.wait_for()
    page.get_by_label("检索词").wait_for()

    # A Traditional query finds Simplified reports, with the matches marked.
    timings = [_search(page, query) for query in ("楓橋經驗", "行政复议", "合法性审查", "楓橋經驗")]
    print(
        "\nsearch round-trip in the browser (Enter → results visible): "
        + ", ".join(f"{t * 1000:.0f} ms" for t in timings)
    )
    marks = page.locator(".fz-card mark").all_inner_texts()
    assert "枫桥经验" in marks and "楓橋經驗" in marks
    assert len(_cards_text(page)) == min(10, _counts(page)[0])
    page.screenshot(path=str(OUT / "search.png"))
    if os.environ.get("UPDATE_SCREENSHOT"):  # refresh the README's picture on purpose only
        shutil.copyfile(OUT / "search.png", ROOT / "docs" / "screenshot.png")

    # A township filter (options show their counts) narrows the results to that township.
    page.locator("[data-testid=stSidebar] [data-testid=stMultiSelect]").filter(has_text="乡镇").click()
    page.get_by_role("option", name="花田乡 (").click()
    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => { const c = [...document.querySelectorAll('.fz-card .fz-meta')];"
        " return c.length > 0 && c.every(e => e.textContent.startsWith('花田乡')); }"
    )
    assert "town=" in page.url
    page.screenshot(path=str(OUT / "filtered.png"))

    # Similar practices of the first hit come from other reports.
    page.get_by_role("button", name="相似做法").first.click()
    page.get_by_text("其他地方的相似做法").wait_for()
    similar = page.locator(".st-key-similar_panel .fz-card").all_inner_texts()
    assert similar and all("花田乡" not in card.splitlines()[0] for card in similar)
    page.screenshot(path=str(OUT / "similar.png"), full_page=True)

    # Export: a CSV download named after the query, with the hits in it.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出 CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("检索结果_楓橋經驗_")
    assert download.suggested_filename.endswith(".csv")
    saved = OUT / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["检索词", "楓橋經驗"]
    assert ["筛选条件", "乡镇：花田乡"] in rows[:6] and any(r and r[0] == "检索范围" for r in rows[:6])
    table = rows[rows.index(EXPORT_HEADERS) :]
    assert len(table) == 1 + _counts(page)[0]  # every result, nothing else
    assert all(row[4] == "花田乡" for row in table[1:])  # the filter applies to the export too
    assert all(row[-1].startswith(row[1]) for row in table[1:])  # the citation starts with the title

    # Excel, clicked in the browser too: the block on top, the filtered header row, wrapped text.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出 Excel").click()
    saved = OUT / download_info.value.suggested_filename
    assert saved.suffix == ".xlsx"
    download_info.value.save_as(saved)
    sheet = load_workbook(saved).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:2] == ["检索词", "楓橋經驗"]
    header = values.index(EXPORT_HEADERS) + 1
    assert sheet.freeze_panes == f"A{header + 1}" and sheet.auto_filter.ref.startswith(f"A{header}:")
    text_column = EXPORT_HEADERS.index("原文") + 1
    assert sheet.cell(header, 1).font.bold and sheet.cell(header + 1, text_column).alignment.wrap_text
    assert len(values) - header == len(table) - 1  # the same hits as the CSV

    assert page.dialogs == []


def test_hostile_report_text_is_shown_as_inert_text(page, app_url):
    page.goto(f"{app_url}/?q=防注入演练")
    page.locator(".fz-card mark", has_text="演练").first.wait_for()
    hostile = page.locator(".fz-card", has_text=XSS_SCRIPT).first
    hostile.wait_for()
    assert XSS_IMG in hostile.inner_text()
    assert page.locator(".fz-card script, .fz-card img, .fz-card [onerror]").count() == 0
    page.screenshot(path=str(OUT / "hostile.png"))

    # The report view shows the whole hostile text, inert too.
    page.locator(".fz-card", has_text=XSS_SCRIPT).first.wait_for()
    buttons = page.get_by_role("button", name="查看全文")
    buttons.first.click()
    body = page.locator(".fz-doc-body")
    body.wait_for()
    assert XSS_SCRIPT in body.inner_text()
    assert page.locator(".fz-doc script, .fz-doc img, .fz-doc [onerror]").count() == 0
    page.screenshot(path=str(OUT / "hostile-report.png"))

    page.wait_for_timeout(500)  # give a (wrongly) live onerror handler time to fire
    assert page.dialogs == []
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0


def test_indicators_tab_chart_and_source_sentence(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="指标").click()
    page.locator(".st-key-ind_table").wait_for()

    # Choose an indicator: its bar chart and the sentences its figures come from appear.
    page.get_by_role("combobox", name="指标").click()
    page.get_by_role("option", name="调解成功率", exact=True).click()
    chart = page.locator("[data-testid=stVegaLiteChart]")
    chart.locator("canvas, svg").first.wait_for()
    sources = page.locator(".fz-card:has(mark)")
    sources.first.wait_for()
    texts = sources.all_inner_texts()
    assert any("調解成功率均達98%" in t for t in texts)  # the Traditional report, as it is written
    assert all("调解成功率" in t.splitlines()[0] for t in texts)
    page.screenshot(path=str(OUT / "indicators.png"), full_page=True)

    # A source opens its report with the sentence highlighted.
    page.get_by_role("button", name="查看全文").first.click()
    dialog = page.get_by_role("dialog")
    dialog.locator("mark#fz-source").wait_for()
    assert "成功率" in dialog.locator("mark#fz-source").inner_text()
    assert page.dialogs == []


def test_nothing_found_is_said_plainly_and_counts_agree_everywhere(page, app_url, index_dir):
    page.goto(app_url)
    box = page.get_by_label("检索词")
    box.fill("asdfgh")
    box.press("Enter")
    page.get_by_text("没有找到与“asdfgh”相关的段落").wait_for()
    page.get_by_text("已索引的报告中没有段落提到「asdfgh」").wait_for()  # and which word no report uses
    assert page.locator(".fz-card .fz-rank").count() == 0
    assert page.get_by_role("button", name="导出 CSV").count() == 0  # nothing to export
    page.screenshot(path=str(OUT / "no-result.png"))

    query = "法律顾问"
    _search(page, query)
    total, lexical, semantic = _counts(page)
    assert total == lexical + semantic and lexical > 0
    cards = page.locator(".fz-card:has(.fz-rank)")
    assert cards.count() == min(10, total)
    assert page.locator(".fz-card:has(.fz-rank) .fz-match").count() == cards.count()  # each says why
    page.screenshot(path=str(OUT / "split-counts.png"))

    # The same search from the command line and in both exports: the same number of results.
    command = [sys.executable, "-m", "search_app", "search", query, "--json", "--index-dir", str(index_dir)]
    line = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    record = json.loads(line)
    assert (record["total"], record["lexical_total"], record["semantic_total"]) == (total, lexical, semantic)
    assert query in line  # readable UTF-8, not \\u escapes

    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出 CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["检索词", query]
    assert rows[3][1].startswith(f"共 {total} 段")
    assert rows[4][0] == "检索范围"  # the page exports name the index scope too
    assert len(rows) == 8 + total  # header block, blank row, column header, one row per result

    openpyxl = pytest.importorskip("openpyxl")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出 Excel").click()
    saved = OUT / download_info.value.suggested_filename  # openpyxl reads a file by its .xlsx name
    download_info.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    assert sheet.max_row == 8 + total
    assert page.dialogs == []


def _wait_in_view(page, selector: str) -> None:
    """Wait (bounded by Playwright's timeout) until the element's top is inside the visible window: the page
    scrolls to it a frame or more after rendering, so checking once would race the scroll."""
    page.wait_for_function(
        "(s) => { const e = document.querySelector(s); if (!e) return false;"
        " const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }",
        arg=selector,
    )


def _shoot(page, name: str) -> None:
    """Screenshots at the desktop and the phone width, then back to the desktop."""
    for label, size in (("1400", WIDE), ("390", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(400)  # the layout settles after a resize
        page.screenshot(path=str(OUT / f"{name}-{label}.png"))
    page.set_viewport_size(WIDE)


def test_report_view_opens_at_the_passage_and_the_outline_jumps(page, app_url):
    page.goto(app_url)
    page.get_by_label("检索词").wait_for()
    took = _search(page, "枫桥经验")
    first = page.locator(".fz-card:has(.fz-rank)").first.inner_text()
    started = time.perf_counter()
    page.get_by_role("button", name="查看全文").first.click()
    page.wait_for_selector(".fz-doc[data-ready='fz-at']")
    opened = time.perf_counter() - started
    print(
        f"\nEnter → results: {took * 1000:.0f} ms; 查看全文 → report at its passage: {opened * 1000:.0f} ms"
    )

    # the passage the reader came from is in view, tinted, with the query marked
    _wait_in_view(page, "#fz-at")
    marks = page.locator(".fz-doc-body mark").all_inner_texts()
    assert marks and all(fold(m) == "枫桥经验" for m in marks)
    passage = page.locator(".fz-passage").all_inner_texts()
    assert any(fold(m) in fold("".join(passage)) for m in marks)
    heading = page.locator(".fz-doc-title").inner_text()
    assert heading in first  # the hit's title heads the report
    assert ".txt" not in page.locator(".fz-doc-meta").inner_text()
    assert "doc=" in page.url and "at=" in page.url
    _shoot(page, "report")
    if os.environ.get("UPDATE_SCREENSHOT"):
        shutil.copyfile(OUT / "report-1400.png", ROOT / "docs" / "report-view.png")

    # the outline jumps to a section and the address bar says which
    links = page.locator("a.fz-jump")
    assert links.count() > 3
    link = links.nth(1)
    section = link.get_attribute("data-sec")
    link.click()
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("sec") == [section])
    page.wait_for_function(
        "(id) => { const r = document.getElementById(id).getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight / 2; }",
        arg=f"fz-sec-{section}",
    )
    # that address reopens the report at that section
    shared = page.url
    page.goto(shared)
    page.wait_for_selector(f".fz-doc[data-ready='fz-sec-{section}']")
    _wait_in_view(page, f"#fz-sec-{section}")

    # the text downloads, with the facts first
    with page.expect_download() as download_info:
        page.get_by_role("button", name="下载全文（文本）").click()
    saved = OUT / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    assert saved.read_text(encoding="utf-8").startswith(heading)

    page.get_by_role("button", name="← 返回检索结果").click()
    page.locator(".fz-card .fz-rank").first.wait_for()
    assert "doc=" not in page.url
    assert page.dialogs == []


def test_compare_lists_a_missing_township_and_exports_it(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="对比").click()
    page.locator("[data-testid=stSelectbox]").filter(has_text="章节类别").click()
    page.get_by_role("option", name="存在问题").click()
    page.locator(".fz-cmp-grid").wait_for()
    missing = page.locator(".fz-missing").all_inner_texts()
    assert any("花田乡" in card and "未写此部分" in card for card in missing)
    assert "cmp=" in page.url
    page.locator("[data-testid=stSelectbox]").filter(has_text="每个乡镇显示").click()
    page.get_by_role("option", name="2 段").click()
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("per") == ["2"])
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
    _shoot(page, "compare")
    if os.environ.get("UPDATE_SCREENSHOT"):
        shutil.copyfile(OUT / "compare-1400.png", ROOT / "docs" / "compare.png")
    # on a phone the townships stack in one readable column
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(400)
    widths = page.eval_on_selector_all(".fz-cmp", "cards => cards.map(c => c.getBoundingClientRect().width)")
    assert widths and min(widths) > 300
    page.set_viewport_size(WIDE)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出 Excel").click()
    saved = OUT / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    sheet = load_workbook(saved).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:2] == ["对比类别", "存在问题"]
    header = values.index(list(COMPARE_HEADERS))
    table = values[header + 1 :]
    assert {row[2] for row in table} >= {"花田乡", "金城乡"}
    assert [row[7] for row in table if row[2] == "花田乡"] == ["未写此部分"]
    assert any(row[5] == 2 for row in table)  # a second passage for some township
    assert page.dialogs == []


def test_advanced_search_with_or_and_a_date_range(page, app_url):
    page.goto(app_url)
    page.get_by_label("检索词").wait_for()
    page.get_by_text("高级检索").click()
    # the date field is typed segment by segment (year, month, day), as a person types it
    page.get_by_role("spinbutton", name="year, 发布日期从").click()
    page.keyboard.type("20240101")
    page.keyboard.press("Escape")  # close the calendar; the date counts once the field loses focus
    page.get_by_text("检索范围").click()
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("from") == ["2024-01-01"])
    query = '"人民调解" OR "行政复议"'
    took = _search(page, query)
    print(f"\nEnter → results (OR, date range): {took * 1000:.0f} ms")
    cards = _cards_text(page)
    assert cards
    for n in range(len(cards)):  # each hit holds one phrase or the other, marked
        marks = page.locator(".fz-card:has(.fz-rank)").nth(n).locator("mark").all_inner_texts()
        assert {fold(m) for m in marks} & {"人民调解", "行政复议"}
    places = page.locator(".fz-card:has(.fz-rank) .fz-meta").all_inner_texts()
    # published in 2024 (金城乡, 2024-01-19) or undated and of the year 2024 (土门关乡)
    assert places and all(p.startswith(("金城乡", "土门关乡")) for p in places)
    _shoot(page, "advanced")
    assert page.dialogs == []


def test_typing_the_simplified_county_finds_the_traditional_option(page, app_url):
    page.goto(f"{app_url}/?q=法治")
    page.locator(".fz-card .fz-rank").first.wait_for()
    box = page.locator("[data-testid=stSidebar] [data-testid=stMultiSelect]").filter(has_text="区县")
    box.click()
    page.keyboard.type("辰溪县")
    option = page.get_by_role("option", name="辰溪縣（辰溪县）")
    option.click()
    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => { const c = [...document.querySelectorAll('.fz-card .fz-meta')];"
        " return c.length > 0 && c.every(e => e.textContent.includes('辰溪縣')); }"
    )
    assert "county=" in page.url
    assert page.get_by_text("Select all").count() == 0  # every string on the page is Chinese
    _shoot(page, "county")

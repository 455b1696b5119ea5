"""The report view's HTML: heading without file paths, outline links, marks, the passage and its anchor."""

from __future__ import annotations

import html
import re

from indexer.models import Report, ReportMeta, Section
from search_app import report_view as rv

TEXT = "一、主要成效\n坚持枫桥经验，化解纠纷<b>。\n二、存在问题\n调解队伍不足。\n"
META = ReportMeta(
    title="船溪鄉2022年度法治政府建設工作情況",
    township="船溪鄉",
    county="辰溪縣",
    province="湖南省",
    year=2022,
    published="2022-11-29",
    issuer="辰溪縣船溪鄉人民政府",
    source="seeds/001_x.txt",
)


def report() -> Report:
    second = TEXT.index("二、")
    sections = (
        Section(0, "一、主要成效", 1, "一", "成效举措", 0, len("一、主要成效\n"), second),
        Section(1, "二、存在问题", 1, "二", "存在问题", second, second + len("二、存在问题\n"), len(TEXT)),
    )
    return Report("r1", META.source, TEXT, META, sections)


def visible_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<(?!br>)[^>]+>", "", fragment).replace("<br>", "\n"))


def test_heading_names_place_year_date_and_issuer_but_no_file():
    page = rv.document_html(report())
    for value in ("船溪鄉2022年度法治政府建設工作情況", "2022-11-29", "辰溪縣船溪鄉人民政府", "2022年"):
        assert value in page
    assert "seeds/" not in page and ".txt" not in page


def test_outline_links_jump_to_section_anchors():
    page = rv.document_html(report())
    links = re.findall(r'<a class="fz-jump[^"]*" href="#(fz-sec-\d+)" data-sec="(\d+)"', page)
    assert links == [("fz-sec-0", "0"), ("fz-sec-1", "1")]
    for anchor, _ in links:
        assert f'id="{anchor}"' in page


def test_body_is_the_whole_text_escaped_with_marks_and_the_passage_set_apart():
    doc = report()
    start = TEXT.index("坚持")
    end = TEXT.index("。") + 1
    target = rv.target_for(doc, start, end, None)
    body = rv.body_html(doc, ("枫桥经验",), (), (target.start, target.end))
    assert visible_text(body) == TEXT  # nothing lost, nothing added
    assert "&lt;b&gt;" in body and "<b>" not in body
    assert "<mark>枫桥经验</mark>" in body
    passage = "".join(re.findall(r'<span class="fz-passage">(.*?)</span>(?=<|$)', body))
    assert "化解纠纷" in visible_text(passage) and "调解队伍" not in visible_text(passage)
    assert body.index(f'id="{rv.PASSAGE_ID}"') < body.index("坚持")


def test_a_section_in_the_url_wins_over_the_passage():
    doc = report()
    assert rv.target_for(doc, 3, 8, 1).element_id == "fz-sec-1"
    assert rv.target_for(doc, 3, 8, None).element_id == rv.PASSAGE_ID
    assert rv.target_for(doc, None, None, 99).element_id == ""


def test_plain_text_download_has_the_facts_then_the_text():
    text = rv.plain_text(report())
    assert text.startswith("船溪鄉2022年度法治政府建設工作情況\n")
    assert "发布日期：2022-11-29" in text and TEXT.strip() in text
    assert rv.file_name(report()).endswith(".txt")


def test_jump_script_only_ever_carries_an_element_id():
    assert '"fz-sec-3"' in rv.jump_script(rv.Target("fz-sec-3"), "2")
    assert "</script>" not in rv.jump_script(rv.Target('x"</script><script>'), "1").split("</script>", 1)[1]

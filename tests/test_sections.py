"""Section tree (ingest.sections) and heading markers (ingest.headings) on small literal texts."""

from __future__ import annotations

import pytest
from examples import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.ingest.headings import cn_number, find_points, match_marker
from indexer.ingest.sections import own_end, parse_sections
from indexer.models import OTHER, PLANS, PROBLEMS, RESULTS


def outline(text: str) -> list[tuple[int, str, str]]:
    return [(s.level, s.ordinal, s.heading) for s in parse_sections(text)]


def test_numerals() -> None:
    assert [cn_number(t) for t in ("一", "十", "十一", "二十三", "１２", "③")] == [1, 10, 11, 23, 12, 3]
    assert cn_number("甲") is None


@pytest.mark.parametrize(
    ("line", "scheme", "value", "ordinal"),
    [
        ("一、履职情况", "cn", 1, "一、"),
        ("（三）着力提升", "paren_cn", 3, "（三）"),
        ("(二)加强学习", "paren_cn", 2, "(二)"),
        ("1、强化", "arabic", 1, "1、"),
        ("2．加强", "arabic", 2, "2．"),
        ("（1） 带头抓学习", "paren_arabic", 1, "（1）"),
        ("第十二条 人民检察院", "article", 12, "第十二条"),
        ("第 10 條　本法", "article", 10, "第 10 條"),
        ("第三章 附则", "chapter", 3, "第三章"),
    ],
)
def test_markers(line: str, scheme: str, value: int, ordinal: str) -> None:
    marker = match_marker(line)
    assert marker is not None
    assert (marker.scheme, marker.value, marker.ordinal) == (scheme, value, ordinal)


@pytest.mark.parametrize("line", ["2023年以来，我乡", "4.15国家安全教育日", "12.4宪法日", "统一是关键"])
def test_not_markers(line: str) -> None:
    assert match_marker(line) is None


def test_levels_follow_first_appearance_of_schemes() -> None:
    text = (
        "标题\n\n前言。\n1、总体情况\n（一）组织领导\n正文。\n（二）学习\n正文。\n"
        "二、存在问题\n正文。\n三、下步计划\n正文。"
    )
    assert outline(text) == [
        (1, "", ""),
        (1, "1、", "1、总体情况"),
        (2, "（一）", "（一）组织领导"),
        (2, "（二）", "（二）学习"),
        (1, "二、", "二、存在问题"),
        (1, "三、", "三、下步计划"),
    ]


def test_marker_continuing_a_sibling_sequence_joins_its_level() -> None:
    text = (
        "一、职责情况\n（1）带头学习\n正文。\n（2）带头落实\n正文。\n"
        "（三）带头抓队伍\n正文。\n二、问题\n正文。"
    )
    levels = [(level, ordinal) for level, ordinal, _ in outline(text)]
    assert levels == [(1, "一、"), (2, "（1）"), (2, "（2）"), (2, "（三）"), (1, "二、")]
    sections = parse_sections(text)
    assert sections[3].parent == 0 and sections[4].parent is None


def test_heading_with_body_on_the_same_line() -> None:
    text = "一、工作情况\n（一）切实加强组织领导。成立领导小组，明确分工。\n"
    section = parse_sections(text)[1]
    assert section.heading == "（一）切实加强组织领导"
    assert text[section.body_start : section.end] == "成立领导小组，明确分工。"


def test_numbered_sentence_without_body_keeps_its_text_in_the_body() -> None:
    text = "一、存在问题\n（一）普法宣传力度不够，形式单一。\n（二）队伍素质有待提高。\n"
    sections = parse_sections(text)
    assert sections[1].heading == "（一）普法宣传力度不够"
    assert "形式单一。" in text[sections[1].body_start : sections[1].end]


def test_points_are_the_lowest_level_with_their_lead_phrase() -> None:
    text = "一、工作情况\n（一）加强领导。总体要求。一是提升政治素质。学习理论。二是健全机制；建立制度。"
    sections = parse_sections(text)
    assert [(s.level, s.heading) for s in sections[2:]] == [(3, "一是提升政治素质"), (3, "二是健全机制")]
    assert own_end(sections, sections[1]) == text.index("一是")
    assert [s.parent for s in sections[2:]] == [1, 1]


def test_single_point_is_not_a_sequence() -> None:
    assert find_points("我们认为一是重要的。统一是目标。") == []
    assert len(find_points("一是学习。二是宣传。")) == 2


def test_unnumbered_short_heading_line() -> None:
    text = (
        "标题\n\n前言如下。\n一、问题\n（一）宣传不够。形式单一。\n"
        "下一步计划\n\n一是加大宣传力度。创新载体。\n二是加强培训。"
    )
    sections = parse_sections(text)
    plan = next(s for s in sections if s.heading == "下一步计划")
    assert (plan.level, plan.category) == (1, PLANS)
    assert [s.heading for s in sections if s.parent == plan.index] == ["一是加大宣传力度", "二是加强培训"]


def test_title_lines_are_not_unnumbered_headings() -> None:
    text = (
        "湟中区土门关乡\n2024年法治政府建设情况报告\n\n"
        "今年以来，我乡依法履职。现报告如下。\n1、 主要举措和成效\n正文。"
    )
    sections = parse_sections(text)
    assert sections[0].heading == "" and sections[0].category == OTHER
    assert [s.heading for s in sections[1:]] == ["1、 主要举措和成效"]


def test_closing_paragraph_splits_into_problems_and_plans() -> None:
    text = (
        "一、工作情况\n1、加强宣传。开展活动。\n\n"
        "虽然我乡取得了一定成效，但仍存在一些差距：一是学习不深入。二是氛围不浓厚。"
        "今后，我们将坚持学习。一是推动学习。二是压实责任。\n\n"
        "某某乡人民政府\n\n2022年11月29日\n"
    )
    sections = parse_sections(text)
    top = [s for s in sections if s.level == 1]
    assert [s.category for s in top] == [RESULTS, PROBLEMS, PLANS]
    assert text[top[1].start :].startswith("虽然我乡")
    assert text[top[2].start :].startswith("今后，我们将")
    assert not any("人民政府" in text[s.start : s.end] for s in sections)
    assert all(s.end <= text.index("某某乡") for s in sections)


def test_plans_paragraph_inside_problems_section_breaks_out() -> None:
    text = (
        "一、主要举措和成效\n（一）加强领导。成立小组。\n二、存在的不足和原因\n主要是一是力量薄弱；二是能力不强。\n"
        "针对以上存在的问题，下一步，我乡将深入学习。一是抓学习。二是抓规范。\n三、下一年度主要安排\n（一）加强培训。开展培训。"
    )
    top = [(s.category, s.heading) for s in parse_sections(text) if s.level == 1]
    assert top == [
        (RESULTS, "一、主要举措和成效"),
        (PROBLEMS, "二、存在的不足和原因"),
        (PLANS, ""),
        (PLANS, "三、下一年度主要安排"),
    ]


def test_law_chapters_and_articles_ignore_inner_enumerations() -> None:
    text = (
        "某某组织法\n\n2018年10月26日修订\n\n第一章 总则\n\n第一条 为了规范组织，制定本法。\n\n"
        "第二条 下列事项：\n一、设置。\n二、职权。\n\n第二章 附则\n\n第三条 本法自公布之日起施行。\n"
    )
    assert outline(text) == [
        (1, "", ""),
        (1, "第一章", "第一章 总则"),
        (2, "第一条", "第一条"),
        (2, "第二条", "第二条"),
        (1, "第二章", "第二章 附则"),
        (2, "第三条", "第三条"),
    ]
    article = parse_sections(text)[3]
    assert text[article.body_start : article.end].endswith("二、职权。")


def test_traditional_articles() -> None:
    text = (
        "行政院組織法\n\n最新異動日期：20230426\n1.中華民國一百十一年修正\n\n"
        "第 1 條　本法依憲法制定之。\n第 2 條　行政院行使職權。\n"
    )
    assert [(s.ordinal, s.level) for s in parse_sections(text)] == [("", 1), ("第 1 條", 1), ("第 2 條", 1)]


def test_document_without_headings_is_split_into_paragraph_groups() -> None:
    text = "讲话\n\n" + "\n\n".join(f"同志们，这是第{i}段讲话内容，要认真落实。" * 8 for i in range(6))
    sections = parse_sections(text)
    assert len(sections) > 1 and all(s.heading == "" and s.level == 1 for s in sections)
    assert sections[0].start == 0 and sections[-1].end == len(text.rstrip())


def test_empty_text() -> None:
    assert parse_sections("") == [] and parse_sections("\n \n") == []


@settings(max_examples=examples(200), deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["一、", "（二）", "3、", "一是", "二是", "第五条 ", "正文", "。", "\n", "下一步计划\n"]
        )
    )
)
def test_offsets_are_consistent_on_any_text(parts: list[str]) -> None:
    text = "".join(parts)
    sections = parse_sections(text)
    for i, s in enumerate(sections):
        assert s.index == i
        assert 0 <= s.start <= s.body_start <= s.end <= len(text)
        if s.parent is not None:
            parent = sections[s.parent]
            assert parent.level < s.level and parent.start <= s.start and s.end <= parent.end
    starts = [s.start for s in sections]
    assert starts == sorted(starts)


class _CountingLines(list):
    """A list of lines that counts how many items the parser reads from it (by iteration or slice)."""

    reads = 0

    def __iter__(self):
        for item in super().__iter__():
            _CountingLines.reads += 1
            yield item

    def __getitem__(self, key):
        if isinstance(key, slice):  # counted when the slice is iterated
            return _CountingLines(super().__getitem__(key))
        _CountingLines.reads += 1
        return super().__getitem__(key)


def test_parsing_visits_each_line_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    # Thousands of top-level headings once made the parser scan every line for every section.
    from indexer.ingest import sections

    real_lines = sections._lines
    monkeypatch.setattr(sections, "_lines", lambda text: _CountingLines(real_lines(text)))
    n = 3000
    text = "关于2023年法治政府建设情况的报告\n" + "一、\n" * n
    _CountingLines.reads = 0
    found = parse_sections(text)
    assert len(found) == n + 1
    assert _CountingLines.reads < 20 * n

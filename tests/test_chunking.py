"""Chunks follow sections, keep headings with their bodies and cut at sentence ends (ingest.chunking)."""

from __future__ import annotations

import pytest

from indexer.ingest.chunking import chunk_report, sentence_spans
from indexer.ingest.sections import own_end, parse_sections
from indexer.models import Report, ReportMeta

SENTENCE_END = "。！？；!?;”’）)"


def make_report(text: str) -> Report:
    return Report(
        id="r1",
        source="t.txt",
        text=text,
        meta=ReportMeta(title="报告"),
        sections=tuple(parse_sections(text)),
    )


TEXT = (
    "某乡法治政府建设情况报告\n\n现将有关情况报告如下：\n"
    "一、工作情况\n"
    "（一）加强组织领导。" + "成立领导小组，明确工作分工，定期研究法治建设工作。" * 12 + "\n"
    "（二）深入开展普法。开展普法宣传十二场次。\n"
    "二、存在的问题\n"
    "（一）宣传形式单一。\n"
)


def test_chunks_are_slices_of_one_section_with_breadcrumb_and_meta() -> None:
    report = make_report(TEXT)
    chunks = chunk_report(report, max_chars=120)
    assert chunks
    for chunk in chunks:
        section = report.sections[chunk.section_index]
        assert chunk.text == report.text[chunk.start : chunk.end] == chunk.text.strip()
        assert section.start <= chunk.start and chunk.end <= own_end(report.sections, section)
        assert chunk.breadcrumb == report.breadcrumb(section)
        assert chunk.category == section.category and chunk.meta == report.meta
        assert chunk.id.startswith(f"r1:{section.index}:")


def test_heading_travels_with_body_and_heading_only_sections_give_no_chunk() -> None:
    report = make_report(TEXT)
    chunks = chunk_report(report, max_chars=120)
    texts = [c.text for c in chunks]
    assert not any(t in ("一、工作情况", "二、存在的问题") for t in texts)
    firsts = {c.section_index: c for c in chunks if c.id.endswith(":0")}
    for index, chunk in firsts.items():
        section = report.sections[index]
        assert report.text[section.start : section.body_start].strip() in chunk.text
    assert firsts[2].text.startswith("（一）加强组织领导。成立")
    assert chunks[-1].text == "（一）宣传形式单一。"
    assert chunks[-1].breadcrumb == ("二、存在的问题", "（一）宣传形式单一")


def test_long_section_is_split_at_sentence_ends_into_balanced_parts() -> None:
    report = make_report(TEXT)
    parts = [c for c in chunk_report(report, max_chars=120) if c.section_index == 2]
    assert len(parts) > 2
    assert all(len(c.text) <= 120 for c in parts)
    assert all(c.text[-1] in SENTENCE_END for c in parts)
    assert [c.id for c in parts] == [f"r1:2:{n}" for n in range(len(parts))]
    assert min(len(c.text) for c in parts) >= 60


def test_heading_never_ends_up_alone_even_when_the_first_sentence_is_long() -> None:
    text = "一、工作情况\n" + "开展活动" * 50 + "。后续。"
    chunks = chunk_report(make_report(text), max_chars=40)
    assert chunks[0].text.startswith("一、工作情况\n开展活动")


def test_overlong_sentence_is_cut_at_commas_only_beyond_the_hard_limit() -> None:
    sentence = "，".join(["依法开展矛盾纠纷排查化解工作"] * 20) + "。"
    spans = sentence_spans(sentence, 0, len(sentence), hard_limit=100)
    assert len(spans) > 1 and all(e - s <= 100 for s, e in spans)
    assert "".join(sentence[s:e] for s, e in spans) == sentence
    assert sentence_spans(sentence, 0, len(sentence), hard_limit=1000) == [(0, len(sentence))]


def test_text_without_punctuation_is_still_bounded() -> None:
    text = "一、情况\n" + "字" * 2000
    chunks = chunk_report(make_report(text), max_chars=100)
    assert all(len(c.text) <= 200 + len("一、情况\n") for c in chunks)
    assert sum(len(c.text) for c in chunks) >= 2000


def test_chunks_without_letters_or_digits_are_skipped() -> None:
    text = "一、情况\n。。。\n……\n二、问题\n正文。"
    chunks = chunk_report(make_report(text))
    assert [c.text for c in chunks] == ["二、问题\n正文。"]


def test_max_chars_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        chunk_report(make_report(TEXT), max_chars=0)

from __future__ import annotations

import html
import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import search_app.highlight as hl
from indexer.analysis import fold
from search_app.highlight import Highlighted, best_window, highlight, plain_marks

MARK = re.compile(r"</?mark>")


def marked(h: Highlighted) -> list[str]:
    return [h.text[s:e] for s, e in h.spans]


def unmark(fragment: str) -> str:
    return html.unescape(MARK.sub("", fragment))


def test_simplified_term_marks_traditional_original_exactly():
    text = "堅持發展新時代“楓橋經驗”"
    h = highlight(text, ["枫桥经验"])
    assert marked(h) == ["楓橋經驗"]
    assert h.html == "堅持發展新時代“<mark>楓橋經驗</mark>”"


def test_phrase_is_marked_and_overlapping_terms_merge():
    h = highlight("推进法治政府建设，建设法治社会", ["法治", "政府", "政府建设"], phrases=["法治政府"])
    assert marked(h) == ["法治政府建设", "法治"]
    assert h.html.count("<mark>") == 2


def test_touching_matches_merge_into_one_mark():
    h = highlight("依法行政", ["依法", "行政"])
    assert h.spans == ((0, 4),)


def test_single_characters_are_skipped_when_the_query_has_longer_terms():
    text = "新时代的法治建设和新的发展"
    assert marked(highlight(text, ["新", "的", "法治"])) == ["法治"]
    assert marked(highlight(text, ["新"])) == ["新", "新"]  # nothing else to mark: mark it
    assert marked(highlight(text, ["的"], phrases=["法治"])) == ["法治"]
    assert marked(highlight(text, ["建设"], phrases=["新"])) == ["新", "建设", "新"]  # quoted: always


def test_latin_terms_match_whole_words_and_ignore_case():
    h = highlight("He said AI helps; ai-based tools", ["ai"])
    assert marked(h) == ["AI", "ai"]


def test_markup_in_text_is_escaped_and_only_marks_are_added():
    text = '<script>alert(1)</script> 法治 <img src=x onerror=alert(1)> & "q"'
    h = highlight(text, ["法治", "alert"])
    tags = re.findall(r"<[^>]*>", h.html)
    assert set(tags) == {"<mark>", "</mark>"}
    assert "&lt;script&gt;" in h.html
    assert "&lt;img src=x onerror=<mark>alert</mark>(1)&gt;" in h.html
    assert unmark(h.html) == text


def test_terms_that_look_like_markup_are_escaped_too():
    h = highlight("a <b> c", ["<b>"], phrases=["<b>"])
    assert h.html == "a <mark>&lt;b&gt;</mark> c"


def test_no_terms_gives_escaped_text():
    h = highlight("a < b", [])
    assert h.spans == ()
    assert h.html == "a &lt; b"


def test_fragment_holds_the_densest_marks_with_ellipses():
    text = "前言。" * 30 + "我们坚持依法行政，推进法治政府建设。" + "其他内容。" * 40 + "法治。" + "尾声" * 30
    h = highlight(text, ["依法行政", "法治政府", "法治"])
    fragment = h.fragment(40)
    assert "<mark>依法行政</mark>" in fragment
    assert "<mark>法治政府</mark>" in fragment
    assert fragment.startswith("…") and fragment.endswith("…")
    assert len(unmark(fragment)) <= 42
    assert highlight(text, ["依法行政"], max_fragment_chars=40).html == highlight(
        text, ["依法行政"]
    ).fragment(40)


def test_fragment_starts_after_a_sentence_end_near_the_mark():
    text = "甲" * 50 + "。法治建设" + "乙" * 100
    fragment = highlight(text, ["法治"]).fragment(30)
    assert fragment.startswith("…<mark>法治</mark>建设")


def test_fragment_without_marks_is_the_beginning():
    assert highlight("一二三四五六", ["无关"]).fragment(3) == "一二三…"
    assert highlight("短文", ["无关"]).fragment(10) == "短文"


def test_fragment_never_cuts_a_mark_longer_than_the_window():
    h = highlight("开头" * 20 + "全面推进依法治国" + "结尾" * 20, [], phrases=["全面推进依法治国"])
    assert "<mark>全面推进依法治国</mark>" in h.fragment(4)


def test_plain_marks_for_terminals():
    assert plain_marks("推进法治政府", [(2, 4)]) == "推进【法治】政府"
    assert plain_marks("abc", [(1, 2), (0, 1)], open="[", close="]") == "[a][b]c"
    assert plain_marks("abc", []) == "abc"


# -- offsets under folds that change the length --------------------------------------------------------


def _fake_fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """㍿ → 株式会社 (one original, four folded); e + U+0301 → é (two originals, one folded)."""
    folded, offsets, i = [], [], 0
    while i < len(text):
        if text[i] == "e" and text[i + 1 : i + 2] == "\u0301":
            folded.append("é")
            offsets.append(i)
            i += 2
            continue
        rep = "株式会社" if text[i] == "㍿" else fold(text[i])
        folded.append(rep)
        offsets += [i] * len(rep)
        i += 1
    return "".join(folded), [*offsets, len(text)]


@pytest.fixture
def lengthy_fold(monkeypatch):
    monkeypatch.setattr(hl, "fold_with_offsets", _fake_fold_with_offsets)


def test_expansion_marks_the_whole_original_character(lengthy_fold):
    text = "甲㍿乙與法治"
    h = highlight(text, ["会社", "与法治"])
    assert marked(h) == ["㍿", "與法治"]
    assert h.spans == ((1, 2), (3, 6))


def test_contraction_marks_both_original_characters(lengthy_fold):
    text = "cafe\u0301 法治"
    h = highlight(text, ["café", "法治"])
    assert marked(h) == ["cafe\u0301", "法治"]


def test_real_fold_that_lengthens_text_keeps_offsets_right():
    # "İ".lower() is two characters; whatever the analysis module does with it, marks must stay put
    text = "İstanbul 與法治"
    h = highlight(text, ["与法治"])
    assert marked(h) == ["與法治"]


# -- properties ----------------------------------------------------------------------------------------

chars = st.sampled_from(list("法治政府建设依法行政的。，<>&\"' \n與楓橋經驗"))
texts = st.text(chars, max_size=300)
terms = st.lists(st.text(chars, min_size=1, max_size=4), max_size=5)


@given(texts, terms, terms)
def test_html_is_the_escaped_text_with_spans_marked(text, ts, ps):
    h = highlight(text, ts, ps)
    assert unmark(h.html) == text
    assert h.html.count("<mark>") == len(h.spans)
    assert all(0 <= s < e <= len(text) for s, e in h.spans)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(h.spans))  # disjoint, not touching
    assert set(re.findall(r"<[^>]*>", h.html)) <= {"<mark>", "</mark>"}


@given(texts, terms, st.integers(min_value=1, max_value=120))
def test_windows_keep_marks_whole_and_stay_near_the_size(text, ts, size):
    h = highlight(text, ts)
    start, end = best_window(text, h.spans, size)
    longest = max((e - s for s, e in h.spans), default=0)
    assert 0 <= start <= end <= len(text)
    assert end - start <= max(size, longest)
    assert all(e <= start or s >= end or (start <= s and e <= end) for s, e in h.spans)
    if h.spans:
        assert any(start <= s and e <= end for s, e in h.spans)
    fragment = h.fragment(size)
    body = unmark(fragment).removeprefix("…") if start > 0 else unmark(fragment)
    assert (body.removesuffix("…") if end < len(text) else body) == text[start:end]

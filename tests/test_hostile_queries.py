"""Whatever a user types, parsing and highlighting neither raise nor produce invalid output."""

from __future__ import annotations

import html
import re
import unicodedata

import pytest
from examples import examples
from hostile import SYNTAX_QUERIES, hostile_queries
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search_app.highlight import highlight, plain_marks
from search_app.query import DEFAULT_MAX_CHARS, parse_query

CHUNK = (
    "一、坚持依法行政，推进法治政府建设。堅持發展新時代“楓橋經驗”，OR AND NOT * ? field:value "
    "<script>alert(1)</script> 'drop table' -法治 「政府」 😀 قانون e\u0301"
)
MARK = re.compile(r"</?mark>")


def check_parsed(raw: str, max_chars: int = DEFAULT_MAX_CHARS) -> None:
    q = parse_query(raw, max_chars=max_chars)
    for part in (q.text, *q.tokens, *q.phrases, *q.excluded, *q.notices):
        part.encode("utf-8")  # valid text all the way: a lone surrogate would raise here
        assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in part)
    assert len(q.text) <= max_chars
    assert all(q.tokens) and all(q.phrases) and all(q.excluded)
    assert len(set(q.tokens)) == len(q.tokens)
    if len(" ".join(raw.split())) > max_chars * 8 or len(raw) > max_chars * 8:
        assert any("查询过长" in n for n in q.notices)
    if not raw.strip():
        assert q.is_empty
    assert q.is_empty == (not q.tokens and not q.phrases)
    if not q.is_empty:  # what the engine searches for must come from what was typed
        assert q.text


def check_highlight(raw: str) -> None:
    q = parse_query(raw)
    for text in (CHUNK, raw):
        h = highlight(text, q.tokens, q.phrases, max_fragment_chars=80)
        assert set(re.findall(r"<[^>]*>", h.html)) <= {"<mark>", "</mark>"}
        assert all(0 <= s < e <= len(text) for s, e in h.spans)
        full = highlight(text, q.tokens, q.phrases)
        assert html.unescape(MARK.sub("", full.html)) == text
        plain_marks(text, h.spans)
    # raw, unparsed input as terms must not break the highlighter either
    highlight(CHUNK, [raw], [raw]).fragment(40)


@pytest.mark.parametrize("raw", SYNTAX_QUERIES, ids=lambda r: repr(r[:20]))
def test_syntax_queries(raw):
    check_parsed(raw)
    check_highlight(raw)


@pytest.mark.parametrize("raw", ["", " ", "\t\n", "\u3000\u3000", "\x00", "\ud800", "\u200b"])
def test_blank_is_empty(raw):
    assert parse_query(raw).is_empty


@pytest.mark.parametrize("raw", ["-法治", "--", "- -", "-", '-"法治政府"'])
def test_only_exclusions_or_dashes_search_nothing(raw):
    q = parse_query(raw)
    assert q.is_empty
    assert q.tokens == ()


def test_long_query_is_cut_with_a_notice():
    q = parse_query("法治政府" * 2_500)
    assert len(q.text) == DEFAULT_MAX_CHARS
    assert "查询过长，已截取前 200 个字符" in q.notices


@settings(max_examples=examples(2_000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_queries())
def test_generated_queries_parse(raw):
    check_parsed(raw)


@settings(max_examples=examples(500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_queries(), st.integers(min_value=1, max_value=400))
def test_generated_queries_parse_under_any_limit_and_highlight(raw, max_chars):
    check_parsed(raw, max_chars=max_chars)
    check_highlight(raw)

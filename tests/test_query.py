from __future__ import annotations

import dataclasses

import pytest

from search_app.query import (
    NOTICE_ONLY_EXCLUDED,
    NOTICE_ONLY_STOPWORDS,
    NOTICE_SANITISED,
    NOTICE_UNBALANCED,
    ParsedQuery,
    parse_query,
    sanitize,
)


def test_plain_words_phrase_and_exclusion():
    q = parse_query('依法行政 "法治政府建设" -扶贫')
    assert q.text == "依法行政 法治政府建设"
    assert q.phrases == ("法治政府建设",)
    assert q.excluded == ("扶贫",)
    assert {"依法", "行政", "法治", "政府", "建设"} <= set(q.tokens)
    assert "扶贫" not in q.tokens
    assert not q.is_empty
    assert q.notices == ()


@pytest.mark.parametrize(
    "raw", ['"枫桥经验"', "“枫桥经验”", "＂枫桥经验＂", "「枫桥经验」", "『枫桥经验』", "“楓橋經驗”"]
)
def test_every_quote_style_makes_a_folded_phrase(raw):
    q = parse_query(f"坚持 {raw}")
    assert q.phrases == ("枫桥经验",)
    assert {"枫桥", "经验"} <= set(q.tokens)
    assert not any(ch in q.text for ch in '"“”＂「」『』')


def test_phrase_keeps_inner_spaces_folded():
    assert parse_query('"Rule  of LAW"').phrases == ("rule of law",)


def test_traditional_query_keeps_its_script_for_embedding_but_folds_terms():
    q = parse_query("楓橋經驗 -脫貧")
    assert q.text == "楓橋經驗"
    assert q.excluded == ("脱贫",)
    assert set(q.tokens) >= {"枫桥", "经验"}


@pytest.mark.parametrize("raw", ['"unbalanced', "法治“政府", "「法治", "政府」"])
def test_unbalanced_quote_is_plain_text_with_a_notice(raw):
    q = parse_query(raw)
    assert q.phrases == ()
    assert not q.is_empty
    assert NOTICE_UNBALANCED in q.notices


def test_excluded_phrase():
    q = parse_query('依法行政 -"脱贫 攻坚"')
    assert q.excluded == ("脱贫 攻坚",)
    assert q.text == "依法行政"
    assert "脱贫" not in q.tokens


@pytest.mark.parametrize(
    ("raw", "token"),
    [("2020-2021年", "2021"), ("法治 - 政府", "政府"), ("--法治", "法治"), ('法治"政府"-建设', "建设")],
)
def test_minus_inside_a_word_or_alone_is_plain_text(raw, token):
    q = parse_query(raw)
    assert q.excluded == ()
    assert token in q.tokens


@pytest.mark.parametrize("raw", ["-法治", "-法治 -政府", '-"法治政府"', "－法治"])
def test_only_exclusions_is_empty(raw):
    q = parse_query(raw)
    assert q.is_empty
    assert q.excluded
    assert NOTICE_ONLY_EXCLUDED in q.notices


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "\u3000", "。，！", "--", "- -", "-", "-!!", '""', "“”"])
def test_nothing_searchable_is_empty(raw):
    q = parse_query(raw)
    assert q.is_empty
    assert q.excluded == ()


def test_only_stopwords_is_empty_with_a_notice():
    q = parse_query("的 了")
    assert q.is_empty
    assert NOTICE_ONLY_STOPWORDS in q.notices


def test_boolean_words_other_than_or_are_plain_words():
    q = parse_query("法治 OR 政府 AND NOT 扶贫")
    assert q.excluded == ()
    assert {"and", "not", "扶贫"} <= set(q.tokens) and "or" not in q.tokens
    assert q.alternatives == (("法治",), ("政府", "and", "not", "扶贫"))
    assert "OR" not in q.text.split()


def test_or_between_phrases_requires_one_of_them():
    q = parse_query('"人民调解" OR "楓橋經驗" -扶贫')
    assert q.phrases == ()
    assert q.phrase_groups == (("人民调解",), ("枫桥经验",))
    assert q.marked_phrases == ("人民调解", "枫桥经验")
    assert q.excluded == ("扶贫",)


def test_or_with_a_side_without_phrases_requires_no_phrase():
    q = parse_query('"人民调解" | 行政复议')
    assert q.phrases == () and q.phrase_groups == ()
    assert len(q.alternatives) == 2


@pytest.mark.parametrize("raw", ["OR", "OR 法治", "法治 OR", "or 法治 or"])
def test_or_at_an_end_or_in_lower_case_is_a_plain_word(raw):
    q = parse_query(raw)
    assert q.alternatives == () and q.phrase_groups == ()


def test_too_long_is_cut_with_a_notice():
    q = parse_query("法治" * 300)
    assert len(q.text) <= 200
    assert "查询过长，已截取前 200 个字符" in q.notices
    short = parse_query("法治政府", max_chars=2)
    assert short.text == "法治"
    assert any("2 个字符" in n for n in short.notices)


def test_length_is_counted_after_whitespace_collapses():
    q = parse_query("法治" + " " * 500 + "政府")
    assert q.text == "法治 政府"
    assert q.notices == ()


def test_control_characters_and_lone_surrogates_are_dropped():
    q = parse_query("法\x00治\ud800政\u202e府\u200b")
    assert q.text == "法治政府"
    assert NOTICE_SANITISED in q.notices
    q.text.encode("utf-8")  # valid text: would raise on a lone surrogate


def test_surrogate_pair_is_joined_not_dropped():
    text, dropped = sanitize("\ud83d\ude00 法治")
    assert text == "😀 法治"
    assert not dropped


def test_combining_marks_compose_and_whitespace_collapses():
    text, dropped = sanitize(" cafe\u0301\n\t法治  ")
    assert text == "café 法治"
    assert not dropped


def test_tokens_are_unique_in_order():
    q = parse_query("法治 法治 政府 法治")
    assert q.tokens == ("法治", "政府")


def test_result_is_frozen():
    q = parse_query("法治")
    assert isinstance(q, ParsedQuery)
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.text = "x"  # type: ignore[misc]


def test_bad_max_chars_is_a_programming_error():
    with pytest.raises(ValueError, match="max_chars"):
        parse_query("法治", max_chars=0)

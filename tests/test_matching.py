"""The lexical-match rule built from queries (``search_app.matching``) and its reference semantics."""

from __future__ import annotations

import pytest

from indexer.analysis import tokenize
from indexer.stores.base import MatchRule
from search_app.matching import content_terms, match_rule, partial_rule, required, whole_words
from search_app.query import parse_query


def words(query: str) -> list[tuple[tuple[str, ...], ...]]:
    return list(content_terms(parse_query(query)))


def test_whole_words_drop_the_parts_of_longer_tokens() -> None:
    assert whole_words(["法律", "明白", "明白人", "法律明白人", "培训"]) == ["法律明白人", "培训"]


@pytest.mark.parametrize(("n", "needed"), [(0, 0), (1, 1), (2, 2), (3, 2), (4, 3), (5, 4), (6, 4)])
def test_required_share_of_terms(n: int, needed: int) -> None:
    assert required(n) == needed


def test_a_compound_is_present_whole_or_by_all_its_parts() -> None:
    (term,) = words("法治讲座")
    assert term == (("法治讲座",), ("法治", "讲座"))
    rule = match_rule(parse_query("法治讲座"))
    assert rule.satisfied_by(tokenize("开展法治专题讲座三次"))
    assert not rule.satisfied_by(tokenize("开展法治宣传三次"))


def test_a_compound_counts_the_stretch_its_dictionary_parts_leave() -> None:
    # The dictionary knows 述职 but not 述法; the rest of the word is a part all the same.
    (_, term) = words("年終述職述法")
    assert term == (("述职述法",), ("述职", "述法"))
    rule = match_rule(parse_query("年終述職述法"))
    assert rule.satisfied_by(tokenize("列入年终述职内容，通过述法总结工作"))
    assert not rule.satisfied_by(tokenize("列入年终述职内容"))


@pytest.mark.parametrize(
    ("query", "parts"),
    [
        ("执法人员", ("执法", "人员")),  # search mode also yields 法人, across the seam
        ("调解组织", ("调解", "组织")),  # and 解组
        ("尊法學法守法用法", ("尊法", "学法", "守法", "用法")),  # 法学 across 尊法|学法; 尊法 is the rest
        ("谁执法谁普法", ("执法", "普法")),
    ],
)
def test_a_compound_is_cut_into_parts_that_do_not_overlap(query: str, parts: tuple[str, ...]) -> None:
    (term,) = words(query)
    assert term[1] == parts


def test_a_part_across_the_seam_of_two_words_is_not_required() -> None:
    rule = match_rule(parse_query("执法人员"))
    assert rule.satisfied_by(tokenize("加强执法队伍建设，提高人员素质"))
    assert not rule.satisfied_by(tokenize("加强执法队伍建设"))


def test_a_single_leftover_character_is_no_part() -> None:
    assert words("法治化") == [(("法治化",),)]


def test_traditional_query_folds_to_the_indexed_words() -> None:
    assert words("楓橋經驗") == words("枫桥经验")
    assert match_rule(parse_query("楓橋經驗")).satisfied_by(tokenize("坚持发展新时代“枫桥经验”"))


def test_short_queries_need_every_term() -> None:
    rule = match_rule(parse_query("航天发射"))
    assert rule.minimum == len(rule.terms) == 2
    assert not rule.satisfied_by(tokenize("发射"))


def test_one_character_words_are_glue_in_long_questions_but_kept_in_short_queries() -> None:
    long_terms = [t[0][0] for t in words("村里请了律师当顾问")]
    assert long_terms == ["村里", "律师", "顾问"]
    assert [t[0] for t in words("区块链")] == [("区块",), ("链",)]


def test_long_queries_need_two_thirds_of_their_terms() -> None:
    rule = match_rule(parse_query("法律顾问审查合同"))
    assert len(rule.terms) == 3 and rule.minimum == 2
    assert rule.satisfied_by(tokenize("法律顾问参与合同审查"))
    assert rule.satisfied_by(tokenize("法律顾问审查文件"))
    assert not rule.satisfied_by(tokenize("合同签订"))


def test_quoted_phrases_are_left_to_the_phrase_filter() -> None:
    parsed = parse_query('"合法性审查" 合同')
    assert [t[0] for t in content_terms(parsed)] == [("合同",)]
    only_phrase = match_rule(parse_query('"合法性审查"'))
    assert only_phrase.terms == () and only_phrase.minimum == 0


def test_english_words_count_through_the_glossary() -> None:
    terms = words("training of law enforcement officers")
    assert terms[0] == (("培训",),) and ("行政执法",) in terms[1]
    rule = match_rule(parse_query("training of law enforcement officers"))
    assert rule.satisfied_by(tokenize("组织行政执法人员参加业务培训"))
    assert not rule.satisfied_by(tokenize("组织干部参加业务培训"))


@pytest.mark.parametrize(
    ("query", "matching", "other"),
    [
        ("community correction", "加强社区矫正对象管理", "加强矫治教育"),
        ("record-filing of normative documents", "规范性文件报送备案率100%", "清理规范性文件3件"),
        ("wage arrears of migrant workers", "化解农民工欠薪问题", "组织农民工技能培训"),
        ("public hearing on major decisions", "重大决策前召开听证会", "重大决策经集体讨论"),
    ],
)
def test_the_fields_english_names_match_its_chinese_terms(query: str, matching: str, other: str) -> None:
    rule = match_rule(parse_query(query))
    assert rule.satisfied_by(tokenize(matching))
    assert not rule.satisfied_by(tokenize(other))


def test_one_character_glossary_equivalents_are_left_out_beside_others() -> None:
    # village → 村: no token inside 行政村, so it would make the rule miss the passages it is about
    assert words("legal adviser for every village") == [(("法律顾问",), ("法律", "顾问"))]
    rule = match_rule(parse_query("legal adviser for every village"))
    assert rule.satisfied_by(tokenize("为全乡19个行政村聘请法律顾问"))


def test_english_words_the_glossary_does_not_know_must_appear_as_written() -> None:
    assert words("blockchain") == [(("blockchain",),)]
    assert not match_rule(parse_query("blockchain")).satisfied_by(tokenize("区块链 法治 建设"))


def test_partial_rule_needs_one_term() -> None:
    rule = partial_rule(parse_query("乡镇缺少懂法律的专业人员"))
    assert rule.minimum == 1 and len(rule.terms) >= 4
    assert rule.satisfied_by(tokenize("基层法律专业人员不足"))


def test_match_rule_checks_its_own_shape() -> None:
    with pytest.raises(ValueError, match="minimum"):
        MatchRule(((("a",),),), 2)
    with pytest.raises(ValueError, match="alternative"):
        MatchRule(((),), 0)
    with pytest.raises(ValueError, match="alternative"):
        MatchRule((((),),), 1)


def test_glossary_phrases_also_count_through_their_shorter_entries() -> None:
    (grid, governance) = words("grid management in rural governance")
    assert ("网格化管理",) in grid and ("网格",) in grid and governance == (("治理",),)


def test_an_equivalent_the_tokenizer_splits_needs_all_its_words() -> None:
    terms = words("national security education day legal publicity")
    assert (("国家", "安全"),) in terms

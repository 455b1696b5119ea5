"""Folding, offsets and tokenization shared by index and query (indexer.analysis)."""

from __future__ import annotations

import functools
import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SHARED
from examples import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from opencc import OpenCC

from indexer.analysis import (
    Analysis,
    ScriptConverter,
    analyze,
    fold,
    fold_with_offsets,
    load_opencc_dictionary,
    opencc_t2s,
    query_terms,
    to_original_span,
    tokenize,
    tokenize_folded,
)

ROOT = Path(__file__).resolve().parents[1]
SEED_HANT = ROOT / "seeds" / "001_8983b31abeb2f5d4.txt"
CORPUS_HANT = SHARED / "corpus" / "laws-hant"

# Sentences of the Traditional seed and their Simplified twins as a mainland report would write them.
TWINS = [
    ("堅持發展新時代“楓橋經驗”", "坚持发展新时代“枫桥经验”"),
    (
        "按照《黨政主要負責人履行推進法治建設第一責任人職責規定》要求",
        "按照《党政主要负责人履行推进法治建设第一责任人职责规定》要求",
    ),
    (
        "一是依法有效化解社會矛盾糾紛,推進人民調解組織建設。建立基層人民調解委員會,實現人民調解全覆蓋。",
        "一是依法有效化解社会矛盾纠纷,推进人民调解组织建设。建立基层人民调解委员会,实现人民调解全覆盖。",
    ),
    ("堅持“三重一大”事項報告制度,嚴格執行有關規定", "坚持“三重一大”事项报告制度,严格执行有关规定"),
    ("著力打通法律服務群眾的“最后一公里”", "着力打通法律服务群众的“最后一公里”"),
    ("以深入開展習近平法治思想宣傳教育為重點", "以深入开展习近平法治思想宣传教育为重点"),
]


@pytest.fixture(scope="module")
def seed_hant() -> str:
    return SEED_HANT.read_text(encoding="utf-8")


@pytest.mark.parametrize(("trad", "simp"), TWINS)
def test_traditional_and_simplified_twins_fold_and_tokenize_alike(
    seed_hant: str, trad: str, simp: str
) -> None:
    assert trad in seed_hant  # the Traditional side is real report text
    assert fold(trad) == fold(simp)
    assert tokenize(trad) == tokenize(simp)
    assert analyze(trad) == analyze(simp)


def test_quote_styles_of_both_scripts_fold_alike() -> None:
    assert fold("「楓橋經驗」") == fold("“枫桥经验”") == '"枫桥经验"'
    assert fold("‘法’") == "'法'"


def test_zhu_folds_to_zhe_except_in_words_that_keep_it() -> None:
    assert fold("隨著經濟發展") == fold("随着经济发展") == "随着经济发展"
    assert fold("著作權法") == fold("著作权法") == "著作权法"
    assert fold("顯著提高") == fold("显著提高") == "显著提高"
    assert fold("藉著") == fold("借着") == "借着"  # OpenCC's phrase 藉着 applies to the 著 spelling too


def test_folding_the_traditional_seed_gives_the_expected_terms(seed_hant: str) -> None:
    tokens = set(tokenize(seed_hant))
    assert {"枫桥经验", "人民调解", "法治政府建设", "习近平法治思想", "三重一大", "船溪乡"} <= tokens
    assert not {"楓橋經驗", "調解", "鄉"} & tokens


@pytest.mark.parametrize(
    "term",
    [
        "枫桥经验",
        "法律明白人",
        "放管服",
        "最多跑一次",
        "谁执法谁普法",
        "三重一大",
        "人民调解员",
        "网格员",
        "一村一法律顾问",
        "法治政府",
        "依法行政",
        "行政执法",
        "公共法律服务",
        "八五普法",
        "习近平法治思想",
        "矛盾纠纷",
        "人民陪审员",
        "法律援助",
        "司法所",
        "综治中心",
        "第一责任人",
        "一岗双责",
        "双随机一公开",
        "民法典",
    ],
)
def test_domain_terms_stay_whole(term: str) -> None:
    assert term in tokenize(term)
    assert term in tokenize(f"我乡深入推进{term}工作")


@pytest.mark.parametrize(
    ("text", "subwords"),
    [
        ("人民调解员", {"人民", "调解", "调解员", "人民调解", "人民调解员"}),
        ("矛盾纠纷", {"矛盾", "纠纷", "矛盾纠纷"}),
        ("习近平法治思想", {"习近平", "法治", "思想", "法治思想"}),  # 4 characters inside 7
        ("一村一法律顾问", {"法律", "顾问", "法律顾问"}),
    ],
)
def test_search_mode_emits_sub_words(text: str, subwords: set[str]) -> None:
    assert subwords <= set(tokenize(text))


def test_context_keeps_dictionary_terms_whole_in_seed_sentences(seed_hant: str) -> None:
    tokens = tokenize("建立基層人民調解委員會,開展矛盾糾紛排查調處")
    assert {"人民调解委员会", "矛盾纠纷排查调处", "排查调处", "矛盾纠纷"} <= set(tokens)


def test_stopwords_punctuation_and_spaces_are_dropped_but_content_words_stay() -> None:
    tokens = tokenize("法治的建设和发展, 及 与　“依法行政”。")
    assert tokens == ["法治", "建设", "发展", "依法", "行政", "依法行政"]
    assert "乡" in tokenize("乡 镇 村")


def test_width_and_case_folding() -> None:
    assert fold("ＡＢＣ１２３") == "abc123"
    assert tokenize("ＡＢＣ１２３") == ["abc123"]
    assert fold("Hello　World！（Ｘ）") == "hello world!(x)"
    assert tokenize("COVID-19疫情") == ["covid", "19", "疫情"]


def test_compatibility_and_radical_forms_fold_to_simplified_ideographs() -> None:
    assert fold("\u2f08\u6c11") == "人民"  # Kangxi radical ⼈ as PDF extraction emits it
    assert fold("\uf9b5") == "例"  # CJK compatibility ideograph 例


def test_offsets_lead_folded_terms_back_to_the_traditional_original(seed_hant: str) -> None:
    folded, offsets = fold_with_offsets(seed_hant)
    assert len(folded) == len(seed_hant)
    for term, original in [
        ("枫桥经验", "楓橋經驗"),
        ("人民调解委员会", "人民調解委員會"),
        ("船溪乡", "船溪鄉"),
    ]:
        at = folded.index(term)
        start, end = to_original_span(offsets, at, at + len(term))
        assert seed_hant[start:end] == original


# Real length-changing entries: OpenCC's Taiwan → mainland vocabulary (TWPhrasesRev.txt).
@pytest.fixture(scope="module")
def tw_vocabulary() -> ScriptConverter:
    phrases = load_opencc_dictionary("TWPhrasesRev.txt")
    assert len(phrases["中介軟體"]) != len("中介軟體")
    return ScriptConverter(load_opencc_dictionary("TSCharacters.txt"), phrases, {"U": "u"})


def test_length_changing_phrases_keep_offsets_right(tw_vocabulary: ScriptConverter) -> None:
    text = "把中介軟體存入隨身碟。"
    out, offsets = tw_vocabulary.convert_with_offsets(text)
    assert out == "把中間件存入u盤。"  # values stay Traditional: one dictionary group, as in OpenCC
    assert len(offsets) == len(out) + 1 and offsets[-1] == len(text)
    for folded_term, original in [("中間件", "中介軟體"), ("u盤", "隨身碟"), ("存入", "存入"), ("。", "。")]:
        at = out.index(folded_term)
        start, end = to_original_span(offsets, at, at + len(folded_term))
        assert text[start:end] == original
    # part of a contracted phrase maps into (not beyond) its source phrase
    at = out.index("間")
    start, end = to_original_span(offsets, at, at + 1)
    assert text.index("中介軟體") < start < end <= text.index("存")


def test_expanding_phrases_keep_offsets_monotone() -> None:
    conv = ScriptConverter({}, {"甲乙": "丙丁戊己"})
    out, offsets = conv.convert_with_offsets("子甲乙丑")
    assert out == "子丙丁戊己丑"
    assert offsets == [0, 1, 1, 2, 2, 3, 4]
    assert to_original_span(offsets, 1, 2) == (1, 2)  # one expanded char still covers a source char
    assert to_original_span(offsets, 1, 5) == (1, 3)


def test_to_original_span_rejects_spans_outside_the_text() -> None:
    _, offsets = fold_with_offsets("法治")
    assert to_original_span(offsets, 2, 2) == (2, 2)
    with pytest.raises(ValueError, match="outside"):
        to_original_span(offsets, 1, 3)
    with pytest.raises(ValueError, match="outside"):
        to_original_span(offsets, 2, 1)


def test_bad_input_is_named_and_empty_input_is_empty() -> None:
    with pytest.raises(TypeError, match="got NoneType"):
        tokenize(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got bytes"):
        fold(b"abc")  # type: ignore[arg-type]
    assert tokenize("") == []
    assert analyze("") == Analysis(folded="", tokens=())
    assert fold_with_offsets("") == ("", [0])
    assert tokenize_folded("，。 \n") == []


def test_query_terms_are_distinct_and_longest_first() -> None:
    terms = query_terms("人民调解员 人民调解员")
    assert terms[0] == "人民调解员"
    assert len(terms) == len(set(terms))
    assert [len(t) for t in terms] == sorted((len(t) for t in terms), reverse=True)


def test_import_loads_nothing_and_the_global_jieba_is_untouched() -> None:
    code = (
        "import jieba, indexer.analysis as a\n"
        "assert not a._lexicon_state and a._folder.cache_info().currsize == 0\n"
        "assert a.tokenize('人民调解员')\n"
        "assert a._lexicon_state and not jieba.dt.initialized\n"
        "assert '人民调解员' not in jieba.dt.FREQ\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, timeout=120)


# --- properties -----------------------------------------------------------------------------------------

_EXAMPLES = examples(300)
_PHRASE_KEYS = sorted(load_opencc_dictionary("TSPhrases.txt"))
_ALPHABET = (
    "法治政府建設調解乾隆於畫徵覆藉瞭著作顯薴苧着的了和"
    "abcXYZ019ＡＢＣ１２３，。、“”「」　 \n-.()（）"
    "\u2f08\uf9b5"
)
_texts = st.lists(
    st.one_of(st.text(alphabet=_ALPHABET, max_size=6), st.sampled_from(_PHRASE_KEYS)), max_size=12
).map("".join)


@settings(max_examples=_EXAMPLES, deadline=None)
@given(_texts)
def test_offsets_are_monotone_and_complete(text: str) -> None:
    folded, offsets = fold_with_offsets(text)
    assert folded == fold(text)
    assert len(offsets) == len(folded) + 1
    assert offsets[-1] == len(text)
    assert all(a <= b for a, b in itertools.pairwise(offsets))
    assert all(0 <= o <= len(text) for o in offsets)


@settings(max_examples=_EXAMPLES, deadline=None)
@given(_texts)
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@settings(max_examples=_EXAMPLES, deadline=None)
@given(_texts)
def test_plain_converter_matches_opencc_exactly(text: str) -> None:
    assert _plain().convert(text) == _opencc().convert(text)


@settings(max_examples=examples(200), deadline=None)
@given(st.text(alphabet="甲乙丙丁子丑，", max_size=20))
def test_offsets_stay_consistent_with_length_changing_phrases(text: str) -> None:
    conv = ScriptConverter({"子": "孑"}, {"甲乙": "丙丁戊", "乙丙丁": "戊", "丑子": "寅"})
    out, offsets = conv.convert_with_offsets(text)
    assert len(offsets) == len(out) + 1 and offsets[-1] == len(text)
    assert all(a <= b for a, b in itertools.pairwise(offsets))


@functools.cache
def _opencc() -> OpenCC:
    return OpenCC("t2s")


@functools.cache
def _plain() -> ScriptConverter:
    return opencc_t2s()


@pytest.mark.slow
@pytest.mark.shared_data
def test_fast_conversion_equals_opencc_on_the_whole_traditional_corpus() -> None:
    if not CORPUS_HANT.is_dir():
        pytest.skip(f"corpus not found at {CORPUS_HANT}")
    plain = opencc_t2s()
    mismatches = [
        path.name
        for path in sorted(CORPUS_HANT.rglob("*.txt"))
        if plain.convert(text := path.read_text(encoding="utf-8")) != _opencc().convert(text)
    ]
    assert mismatches == []

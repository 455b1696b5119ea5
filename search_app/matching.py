"""The lexical-match rule: which passages *match the words* of a query (``MatchRule`` for the stores).

A passage matches lexically when it contains every quoted phrase (a filter, see ``Filters.phrases``) and
enough of the query's content terms among its analysis tokens (its text and its section path, folded to
Simplified script):

- **Content terms** are the query's whole words: tokens that are not part of a longer query token
  (search-mode tokenization also yields 法律 and 明白人 for 法律明白人). A passage has a term when it has
  the whole word, or all of the word's parts (法治讲座 is present in "法治专题讲座": it has 法治 and 讲座;
  the parts cut the word without overlap, see ``segment``).
  Tokens inside a quoted phrase are left to the phrase. One-character Chinese words (请, 当, 少) are left out
  when the query has at least three longer ones: they are the glue of a natural-language question and say
  little about a passage; in a short query they are kept (区块链 is cut into 区块 + 链 and needs both).
- **English words** count through the bilingual glossary: each glossary phrase found in the query is one
  term, present when any of its Chinese equivalents is (all tokens of that equivalent), or an equivalent of
  a shorter glossary phrase inside it (grid management → 网格化管理, or grid → 网格). An equivalent of one
  character (village → 村) is no token inside a longer word (行政村), so such a term is left out when the
  query has another. When the glossary knows none of the words, the English words themselves are the terms
  (``blockchain`` must appear as written).
- **Enough** means all terms for a query of one or two terms, and two thirds (rounded up) of them for
  longer queries, so a long natural-language question is not required to repeat every word it used.

The rule decides membership only; ranking among matches stays BM25 + vectors (``search_app.engine``).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from indexer.analysis import tokenize
from indexer.stores.base import MatchRule
from search_app.crosslingual import glossary_phrases, part_equivalents
from search_app.query import ParsedQuery, parse_query

_LATIN = re.compile(r"^[0-9a-z'’-]+$")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
ALL_TERMS_UP_TO = 2  # queries with this many terms or fewer need all of them
SHARE_OF_TERMS = 2 / 3  # longer queries need this share, rounded up


def whole_words(tokens: tuple[str, ...] | list[str]) -> list[str]:
    """Tokens not contained in another, longer token of the same list, in order."""
    distinct = list(dict.fromkeys(tokens))
    return [t for t in distinct if not any(t != other and t in other for other in distinct)]


def required(n_terms: int) -> int:
    """How many of ``n_terms`` content terms a passage must contain."""
    if n_terms <= ALL_TERMS_UP_TO:
        return n_terms
    return math.ceil(n_terms * SHARE_OF_TERMS)


def _alternatives(word: str, tokens: list[str]) -> tuple[tuple[str, ...], ...]:
    """The word itself, or all of its parts when it has two or more (see ``segment``)."""
    if _HAN.match(word):
        parts = segment(word, tokens)
    else:
        parts = whole_words([t for t in tokens if t != word and t in word])
    return ((word,), tuple(dict.fromkeys(parts))) if len(parts) > 1 else ((word,),)


def segment(word: str, tokens: list[str]) -> list[str]:
    """``word`` cut into parts that do not overlap: the tokenizer's words inside it, and the stretches of
    two or more characters they leave (述职述法 → 述职 + 述法: the dictionary knows 述职, and a passage
    saying "列入年终述职…通过述法" has both). Of all such cuts, the one covering most of the word with
    dictionary words, then most of it at all, then in the fewest parts: 执法人员 → 执法 + 人员, not
    执法 + 法人 + 人员 (search-mode tokens overlap, and a passage on 执法 by 人员 need not hold 法人);
    尊法学法守法用法 → 尊法 + 学法 + 守法 + 用法. Single characters left over are dropped (谁执法谁普法 →
    执法 + 普法): alone they say little. No dictionary word inside: no parts."""
    inside = {t for t in tokens if t != word and len(t) > 1 and t in word}
    # best[i] for word[:i]: (characters covered by dictionary words, characters covered, -parts), parts
    best: list[tuple[tuple[int, int, int], tuple[str, ...]] | None] = [None] * (len(word) + 1)
    best[0] = ((0, 0, 0), ())
    for i in range(len(word)):
        if best[i] is None:
            continue
        (known, covered, pieces), parts = best[i]
        steps = [(t, len(t)) for t in inside if word.startswith(t, i)]
        steps += [(word[i:j], 0) for j in range(i + 1, len(word) + 1)]  # a stretch no dictionary word covers
        for piece, by_dictionary in steps:
            kept = len(piece) > 1
            score = (known + by_dictionary, covered + len(piece) * kept, pieces - kept)
            end = i + len(piece)
            if best[end] is None or score > best[end][0]:
                best[end] = (score, parts + (piece,) * kept)
    (known, _, _), parts = best[len(word)]
    return list(parts) if known else []


def content_terms(parsed: ParsedQuery) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """The query's content terms, each a tuple of alternatives (each a tuple of tokens that must co-occur)."""
    tokens = [t for t in parsed.tokens if not any(t in phrase for phrase in parsed.marked_phrases)]
    latin = [t for t in tokens if _LATIN.match(t)]
    other = [t for t in tokens if not _LATIN.match(t)]
    terms: list[tuple[tuple[str, ...], ...]] = []
    glossary = glossary_phrases(parsed.text) if latin else []
    for phrase, equivalents in glossary:
        alternatives: list[tuple[str, ...]] = []
        for chinese in (*equivalents, *part_equivalents(phrase)):
            tokens_of = tokenize(chinese)
            whole = whole_words(tokens_of)
            if len(whole) == 1:
                alternatives.extend(_alternatives(whole[0], tokens_of))
            elif whole:  # an equivalent the tokenizer splits (国家安全 → 国家, 安全): all of its words
                alternatives.append(tuple(whole))
        if alternatives:
            terms.append(tuple(dict.fromkeys(alternatives)))
    strong = [t for t in terms if not all(len(a) == 1 and len(a[0]) == 1 for a in t)]
    terms = strong or terms
    if latin and not terms:
        terms.extend(((t,),) for t in dict.fromkeys(latin))
    words = whole_words(other)
    longer = [w for w in words if len(w) > 1 or not _HAN.match(w)]
    terms.extend(_alternatives(w, other) for w in (longer if len(longer) > ALL_TERMS_UP_TO else words))
    return tuple(dict.fromkeys(terms))


def match_rule(parsed: ParsedQuery) -> MatchRule:
    """The rule a passage must satisfy to be a lexical match of ``parsed`` (see the module docstring).

    With ``A OR B`` the terms of all alternatives are pooled and a passage needs as many of them as the
    least demanding alternative does: for one-word alternatives (人民调解 OR 行政复议) that is exactly
    "either"; for longer ones it is a looser reading of "at least one alternative" (the rule counts terms,
    not which alternative they come from). An alternative of quoted phrases only needs no terms: its
    phrases decide.
    """
    if not parsed.alternatives:
        terms = content_terms(parsed)
        return MatchRule(terms=terms, minimum=required(len(terms)))
    pooled: list[tuple[tuple[str, ...], ...]] = []
    minimum = None
    for tokens in parsed.alternatives:
        own = content_terms(
            replace(parsed, tokens=tokens, alternatives=(), phrase_groups=parsed.phrase_groups)
        )
        pooled.extend(own)
        need = required(len(own))
        minimum = need if minimum is None else min(minimum, need)
    terms = tuple(dict.fromkeys(pooled))
    return MatchRule(terms=terms, minimum=min(minimum or 0, len(terms)))


def partial_rule(parsed: ParsedQuery) -> MatchRule:
    """Passages sharing at least one content term with the query (a necessary part of a near-meaning match:
    see ``search_app.engine``); phrases and exclusions still apply through the filters."""
    terms = content_terms(parsed)
    return MatchRule(terms=terms, minimum=min(1, len(terms)))


def listed_topic_terms(parsed: ParsedQuery) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """The content terms of each topic a query lists as space-separated Chinese parts (普法宣传 折纸艺术);
    none for a single phrase, which describes rather than lists."""
    parts = [part for part in parsed.text.split() if _HAN.search(part)]
    if len(parts) < 2:
        return ()
    return tuple(dict.fromkeys(term for part in parts for term in content_terms(parse_query(part))))

"""Turns what a user typed into a query the engine can run; nothing a user types makes it raise.

Syntax, deliberately small:

- ``"法治政府"`` (also “…”, ＂…＂, 「…」, 『…』): a phrase every hit must contain, after folding.
- ``-扶贫`` or ``-"脱贫攻坚"`` at the start of a word: hits containing it are dropped.
- ``A OR B`` (``OR`` in capitals, or ``|``, standing alone between words): either side may match. Each
  side is an alternative with its own phrases: ``"人民调解" OR "枫桥经验"`` requires one of the two phrases,
  not both. Without ``OR``, every phrase is required. Exclusions hold for the whole query.
- everything else is plain text. ``AND``, ``NOT``, ``*``, ``?``, brackets, ``field:value`` and the rest of
  the Lucene / Elasticsearch query-string syntax carry no meaning here: such words are searched as words,
  and punctuation is dropped by the tokenizer. An ``OR`` at either end, an unbalanced quote, a ``-`` inside
  a word (``2020-2021``) or a lone ``-`` is plain text too.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from indexer.analysis import fold, tokenize

DEFAULT_MAX_CHARS = 200
# Bounds on what one query costs: lexical scoring and highlighting grow with the distinct terms, phrase and
# exclusion filters each scan candidate texts. Ordinary queries have a handful of each.
DEFAULT_MAX_TERMS = 32
DEFAULT_MAX_FILTERS = 8  # quoted phrases, and separately excluded words

QUOTE_PAIRS: dict[str, str] = {'"': '"', "“": "”", "＂": "＂", "「": "」", "『": "』"}
_QUOTE_CHARS = frozenset(QUOTE_PAIRS) | frozenset(QUOTE_PAIRS.values())
_MINUS = frozenset("-－")
_OR_WORDS = frozenset({"OR", "|", "｜"})

NOTICE_TRUNCATED = "查询过长，已截取前 {n} 个字符"
NOTICE_UNBALANCED = "引号不成对，已按普通文字检索"
NOTICE_ONLY_EXCLUDED = "只有排除词，请输入要检索的词"
NOTICE_SANITISED = "已忽略查询中的控制字符或无效字符"
NOTICE_ONLY_STOPWORDS = "查询只含常用虚词，请换用更具体的检索词"
NOTICE_TOO_MANY_TERMS = "检索词过多，只用了前 {n} 个"
NOTICE_TOO_MANY_FILTERS = "引号短语或排除词过多，各只用了前 {n} 个"


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # cleaned positive text in the user's script, for the embedder
    tokens: tuple[str, ...]  # analysis tokens of the positive part (phrases included), unique, in order
    phrases: tuple[str, ...]  # folded phrases every hit must contain
    excluded: tuple[str, ...]  # folded words or phrases no hit may contain
    notices: tuple[str, ...]  # human-readable remarks for the user (Chinese)
    # With ``OR``: per alternative, its tokens and its folded phrases (a hit needs every phrase of at least
    # one alternative; ``phrases`` is then empty). Without ``OR`` both are empty.
    alternatives: tuple[tuple[str, ...], ...] = ()
    phrase_groups: tuple[tuple[str, ...], ...] = ()

    @property
    def marked_phrases(self) -> tuple[str, ...]:
        """Every phrase the user quoted, required or alternative: what highlighting marks."""
        return _unique([*self.phrases, *(p for group in self.phrase_groups for p in group)])

    @property
    def is_empty(self) -> bool:
        """Nothing to search for: the engine shows "请输入检索词" instead of results."""
        return not self.tokens and not self.phrases


@dataclass(frozen=True)
class _Piece:
    text: str
    phrase: bool
    negated: bool


def sanitize(raw: str) -> tuple[str, bool]:
    """Valid, NFC-composed text with whitespace collapsed; True when something unusable was dropped.

    Lone surrogates (not encodable text) and control / format characters (NUL, bidi overrides, zero-width
    spaces) are removed; line breaks and tabs become spaces.
    """
    joined = raw.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")  # pairs become one
    valid = "".join(ch for ch in joined if unicodedata.category(ch) != "Cs")
    dropped = len(valid) != len(joined)
    kept = []
    for ch in unicodedata.normalize("NFC", valid):
        if ch.isspace():
            kept.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf"):
            dropped = True
        else:
            kept.append(ch)
    return " ".join("".join(kept).split()), dropped


def _has_word(text: str) -> bool:
    return any(unicodedata.category(c)[0] in "LN" for c in text)


def _strip_edges(folded: str) -> str:
    """Drops punctuation and spaces at both ends (``"法治,`` → ``法治``), keeping what is inside."""
    start, end = 0, len(folded)
    while start < end and not _has_word(folded[start]):
        start += 1
    while end > start and not _has_word(folded[end - 1]):
        end -= 1
    return folded[start:end]


def _pieces(text: str) -> list[_Piece]:
    """Splits cleaned text into words and quoted phrases, each perhaps negated by a leading ``-``."""
    last = {close: text.rfind(close) for close in set(QUOTE_PAIRS.values())}

    def closing(i: int) -> int:  # index of the quote closing the one at i; -1 if none (O(1) when none)
        close = QUOTE_PAIRS.get(text[i])
        return -1 if close is None or last[close] <= i else text.find(close, i + 1)

    pieces: list[_Piece] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == " ":
            i += 1
            continue
        at_word_start = i == 0 or text[i - 1] == " "
        negated = (
            at_word_start
            and text[i] in _MINUS
            and i + 1 < n
            and text[i + 1] != " "
            and text[i + 1] not in _MINUS
        )
        if negated:
            i += 1
        close = closing(i)
        if close != -1:
            pieces.append(_Piece(text[i + 1 : close], phrase=True, negated=negated))
            i = close + 1
            continue
        j = i + 1
        while j < n and text[j] != " " and closing(j) == -1:
            j += 1
        pieces.append(_Piece(text[i:j], phrase=False, negated=negated))
        i = j
    return pieces


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def parse_query(
    raw: str,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_terms: int = DEFAULT_MAX_TERMS,
    max_filters: int = DEFAULT_MAX_FILTERS,
) -> ParsedQuery:
    """Parses a user's query; never raises on what a user can type (see the module docstring).

    At most ``max_terms`` distinct tokens and ``max_filters`` phrases and exclusions are kept (the first
    ones), with a notice, so that no query costs much more than an ordinary one.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    raw = raw if isinstance(raw, str) else ""
    notices: list[str] = []
    # bound the work on huge pastes; generous, because whitespace collapsing may shorten the text a lot
    text, dropped = sanitize(raw[: max_chars * 8])
    if dropped:
        notices.append(NOTICE_SANITISED)
    if len(text) > max_chars or len(raw) > max_chars * 8:
        text = text[:max_chars].rstrip()
        notices.append(NOTICE_TRUNCATED.format(n=max_chars))

    positive: list[str] = []
    tokens: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    unbalanced = False
    pieces = _pieces(text)
    # a standalone OR between two words separates alternatives; anywhere else it is a plain word
    cuts = {
        i
        for i, p in enumerate(pieces)
        if not p.phrase and not p.negated and p.text in _OR_WORDS and 0 < i < len(pieces) - 1
    }
    groups: list[tuple[list[str], list[str]]] = [([], [])]  # (tokens, phrases) per alternative
    for i, piece in enumerate(pieces):
        if i in cuts:
            if groups[-1] != ([], []):
                groups.append(([], []))
            continue
        folded = _strip_edges(" ".join(fold(piece.text).split()))
        if piece.negated and _has_word(folded):
            excluded.append(folded)
            continue
        # a negation with nothing searchable after it (``-!!``) is plain text, like a lone ``-``
        original = "-" + piece.text if piece.negated else piece.text
        if piece.phrase:
            if _has_word(folded):
                phrases.append(folded)
                groups[-1][1].append(folded)
        elif any(ch in _QUOTE_CHARS for ch in piece.text):
            unbalanced = True
        positive.append("".join(ch for ch in original if ch not in _QUOTE_CHARS))
        tokens.extend(tokenize(original))
        groups[-1][0].extend(tokenize(original))

    if unbalanced:
        notices.append(NOTICE_UNBALANCED)
    unique_tokens, unique_phrases, unique_excluded = _unique(tokens), _unique(phrases), _unique(excluded)
    if len(unique_tokens) > max_terms:
        unique_tokens = unique_tokens[:max_terms]
        notices.append(NOTICE_TOO_MANY_TERMS.format(n=max_terms))
    if len(unique_phrases) > max_filters or len(unique_excluded) > max_filters:
        unique_phrases, unique_excluded = unique_phrases[:max_filters], unique_excluded[:max_filters]
        notices.append(NOTICE_TOO_MANY_FILTERS.format(n=max_filters))
    if not tokens and not phrases:
        if excluded:
            notices.append(NOTICE_ONLY_EXCLUDED)
        elif any(_has_word(p) for p in positive):
            notices.append(NOTICE_ONLY_STOPWORDS)
    groups = [g for g in groups if g[0] or g[1]]
    alternatives: tuple[tuple[str, ...], ...] = ()
    phrase_groups: tuple[tuple[str, ...], ...] = ()
    if len(groups) > 1:
        # alternatives keep only the terms and phrases within the query's bounds (cut above)
        kept_tokens, kept_phrases = set(unique_tokens), set(unique_phrases)
        alternatives = tuple(tuple(t for t in _unique(g[0]) if t in kept_tokens) for g in groups)
        kept_groups = [tuple(p for p in _unique(g[1]) if p in kept_phrases) for g in groups]
        # an alternative without phrases needs none, so then no phrase is required at all
        if all(kept_groups):
            phrase_groups = tuple(kept_groups)
        unique_phrases = ()
    return ParsedQuery(
        text=" ".join(" ".join(positive).split()),
        tokens=unique_tokens,
        phrases=unique_phrases,
        excluded=unique_excluded,
        notices=tuple(notices),
        alternatives=alternatives,
        phrase_groups=phrase_groups,
    )

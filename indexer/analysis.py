"""Text analysis shared by indexing and querying: script folding and tokenization.

A Taipei report says 人民調解 and a Hunan one 人民调解; both must meet in one index, so chunks and queries go
through the same two steps:

- folding: OpenCC t2s (Traditional → Simplified), half-width forms, one ideographic and typographic
  quote/space style, lower-case Latin; offsets lead every folded character back to the original text;
- tokenizing: jieba on the folded text with a domain dictionary, emitting search-mode sub-words so that a
  query for 调解 finds 人民调解员; stopwords and punctuation dropped.

Public interface:
- ``fold(text) -> str``
- ``fold_with_offsets(text) -> (folded, offsets)``: ``offsets[i]`` is the index in ``text`` of the character
  that produced ``folded[i]``; ``len(offsets) == len(folded) + 1`` and ``offsets[-1] == len(text)``.
- ``to_original_span(offsets, fstart, fend) -> (start, end)``: a folded span as a span of the original.
- ``tokenize(text)``, ``tokenize_folded(folded)`` -> ``list[str]``; ``analyze(text) -> Analysis``;
  ``query_terms(text)``: distinct tokens, longest first (for highlighting).

Nothing is loaded at import: the OpenCC tables on the first fold, jieba and the dictionary on the first
tokenization (about a second, once per process).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba

__all__ = [
    "Analysis",
    "ScriptConverter",
    "analyze",
    "fold",
    "fold_with_offsets",
    "load_opencc_dictionary",
    "opencc_t2s",
    "query_terms",
    "to_original_span",
    "tokenize",
    "tokenize_folded",
]

_DATA_DIR = Path(__file__).parent / "data"

# ---------------------------------------------------------------------------------------------------------
# Script conversion
# ---------------------------------------------------------------------------------------------------------

# OpenCC (opencc-python-reimplemented) converts each run between these separators on its own: phrases never
# span them. Any whitespace separates too. Kept identical to opencc/opencc.py so that output matches it
# exactly (bench/bench_analysis.py --verify checks this over the whole Traditional corpus).
_OPENCC_SEPARATORS = frozenset(
    "-,.?!*　，。、；：？！…“”‘’『』「」﹁﹂—－（）《》〈〉～．／＼"
    "︒︑︔︓︿﹀︹︺︙︐［﹇］﹈︕︖︰︳︴︽︾︵︶｛︷｝︸﹃﹄【︻】︼"
)
_SEPARATOR_RE = re.compile("[\\s" + re.escape("".join(sorted(_OPENCC_SEPARATORS))) + "]")


def load_opencc_dictionary(name: str) -> dict[str, str]:
    """One dictionary shipped with the opencc package (e.g. ``TSPhrases.txt``), first candidate per key."""
    import opencc  # local: only its data files are used

    path = Path(opencc.__file__).parent / "dictionary" / name
    table: dict[str, str] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            key, _, values = line.rstrip("\n").partition("\t")
            if key and values:
                table[key] = values.split(" ")[0]
    return table


@dataclass(frozen=True)
class _Change:
    """A phrase whose output differs in length: ``src[start:end]`` became ``out[ostart:oend]``."""

    start: int
    end: int
    ostart: int
    oend: int


class ScriptConverter:
    """OpenCC-compatible dictionary conversion, fast and offset-aware.

    Produces exactly what ``OpenCC(config).convert`` does for a (phrases, characters) group dictionary, but
    most text goes through one ``str.translate``: a run between separators can only convert differently
    from character by character if a phrase whose value is not its character-wise conversion occurs in it.
    Those runs (rare: about one in a thousand in Traditional law text) are redone with OpenCC's own
    matching order, longest key anywhere first, then the pieces left and right of it.

    ``post`` is a 1:1 character table applied after conversion (width and case folding).
    ``closed=True`` makes the conversion idempotent, which a search key needs but OpenCC is not: chains
    such as 薴→苧→苎 are followed to the end, and each phrase value also maps to itself (乾隆 stays 乾隆
    when folded a second time instead of becoming 干隆).
    """

    def __init__(
        self,
        characters: Mapping[str, str],
        phrases: Mapping[str, str],
        post: Mapping[str, str] | None = None,
        *,
        closed: bool = False,
    ) -> None:
        chars = {k: v for k, v in characters.items() if len(k) == 1 and len(v) == 1}
        if closed:
            chars = {k: _follow_chain(chars, k) for k in chars}
        post = dict(post or {})
        self._post = str.maketrans(post) if post else {}
        table = {k: v.translate(self._post) for k, v in chars.items()}
        for k, v in post.items():  # post-only characters, e.g. compatibility ideographs already mapped
            table.setdefault(k, v)
        self._table = str.maketrans({k: v for k, v in table.items() if k != v})
        char_only = str.maketrans(chars)

        phrase_map = {k: v for k, v in phrases.items() if len(k) >= 2 and v}
        if closed:
            for value in list(phrase_map.values()):
                if len(value) >= 2:
                    phrase_map.setdefault(value, value)
        self._phrases = phrase_map
        self._key_lengths = sorted({len(k) for k in phrase_map}, reverse=True)
        # Each phrase that changes the result is anchored on its first character that converts differently
        # from the character table; only those characters can trigger the slow path.
        anchors: dict[str, list[tuple[str, int]]] = {}
        for key, value in phrase_map.items():
            plain = key.translate(char_only)
            if plain == value:
                continue
            i = next((j for j, (a, b) in enumerate(zip(plain, value, strict=False)) if a != b), None)
            i = min(len(plain), len(value)) if i is None else i
            i = min(i, len(key) - 1)
            anchors.setdefault(key[i], []).append((key, i))
        self._anchors = anchors
        self._anchor_re = re.compile("[" + re.escape("".join(sorted(anchors))) + "]") if anchors else None

    def convert(self, text: str) -> str:
        return self._convert(text)[0]

    def convert_with_offsets(self, text: str) -> tuple[str, list[int]]:
        out, changes = self._convert(text)
        return out, _offsets(len(text), changes)

    def _convert(self, text: str) -> tuple[str, list[_Change]]:
        fast = text.translate(self._table)
        runs = list(self._phrase_runs(text))
        if not runs:
            return fast, []
        parts: list[str] = []
        changes: list[_Change] = []
        pos = 0  # in text; fast[:pos] has the same length as text[:pos] until a change
        out_len = 0
        for start, end in runs:
            parts.append(fast[pos:start])
            out_len += start - pos
            for seg_start, seg_end, value in self._run_pieces(text, start, end):
                if len(value) != seg_end - seg_start:
                    changes.append(_Change(seg_start, seg_end, out_len, out_len + len(value)))
                parts.append(value)
                out_len += len(value)
            pos = end
        parts.append(fast[pos:])
        return "".join(parts), changes

    def _phrase_runs(self, text: str) -> Iterator[tuple[int, int]]:
        """Separator-delimited runs of ``text`` that contain a phrase changing the character-wise result."""
        if self._anchor_re is None:
            return
        done = 0
        for m in self._anchor_re.finditer(text):
            p = m.start()
            if p < done:
                continue
            if not any(text.startswith(key, p - i) for key, i in self._anchors[text[p]] if p >= i):
                continue
            start = p
            while start > 0 and not _is_separator(text[start - 1]):
                start -= 1
            sep = _SEPARATOR_RE.search(text, p)
            done = sep.start() if sep else len(text)
            yield start, done

    def _run_pieces(self, text: str, start: int, end: int) -> Iterator[tuple[int, int, str]]:
        """Convert ``text[start:end]`` the way OpenCC does, as (start, end, output) pieces in order."""
        matches: list[tuple[int, int]] = []
        stack = [(start, end, len(self._key_lengths) and self._key_lengths[0])]
        while stack:
            lo, hi, limit = stack.pop()
            found = self._longest_match(text, lo, hi, limit)
            if found is not None:
                i, j = found
                matches.append(found)
                stack.append((lo, i, j - i))
                stack.append((j, hi, j - i))
        pos = start
        for i, j in sorted(matches):
            if pos < i:
                yield pos, i, text[pos:i].translate(self._table)
            yield i, j, self._phrases[text[i:j]].translate(self._post)
            pos = j
        if pos < end:
            yield pos, end, text[pos:end].translate(self._table)

    def _longest_match(self, text: str, lo: int, hi: int, limit: int) -> tuple[int, int] | None:
        phrases = self._phrases
        for n in self._key_lengths:
            if n > limit or n > hi - lo:
                continue
            for i in range(lo, hi - n + 1):
                if text[i : i + n] in phrases:
                    return i, i + n
        return None


def _follow_chain(chars: Mapping[str, str], ch: str) -> str:
    seen = {ch}
    while (nxt := chars.get(ch, ch)) not in seen:
        seen.add(nxt)
        ch = nxt
    return ch


def _is_separator(ch: str) -> bool:
    return ch.isspace() or ch in _OPENCC_SEPARATORS


def _offsets(src_len: int, changes: list[_Change]) -> list[int]:
    """Offsets for a conversion whose only length changes are ``changes``; within a changed phrase each
    output character points into the source phrase proportionally."""
    offsets: list[int] = []
    src = 0
    for c in changes:
        offsets.extend(range(src, c.start))
        n_out, n_src = c.oend - c.ostart, c.end - c.start
        offsets.extend(c.start + (k * n_src) // n_out for k in range(n_out))
        src = c.end
    offsets.extend(range(src, src_len + 1))
    return offsets


def opencc_t2s() -> ScriptConverter:
    """The converter with OpenCC's t2s dictionaries and nothing else: output equals ``OpenCC("t2s")``."""
    return ScriptConverter(
        load_opencc_dictionary("TSCharacters.txt"), load_opencc_dictionary("TSPhrases.txt")
    )


def to_original_span(offsets: list[int], fstart: int, fend: int) -> tuple[int, int]:
    """The span of the original text that produced ``folded[fstart:fend]`` (``offsets`` from
    ``fold_with_offsets``). A non-empty folded span always maps to a non-empty original one."""
    if not 0 <= fstart <= fend < len(offsets):
        raise ValueError(f"folded span [{fstart}, {fend}) is outside 0..{len(offsets) - 1}")
    start, end = offsets[fstart], offsets[fend]
    if fend > fstart:
        end = max(end, offsets[fend - 1] + 1)
    return start, end


# Characters folded after script conversion, one for one (so offsets are untouched).
_DOUBLE_QUOTES = "“”„‟〝〞〟＂「」『』﹁﹂﹃﹄"
_SINGLE_QUOTES = "‘’‚‛′＇"
_NFKC_RANGES = (
    (0x2E80, 0x2EFF),  # CJK radicals supplement (PDF extraction noise: ⺟ for 母)
    (0x2F00, 0x2FDF),  # Kangxi radicals (⼈ for 人)
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # half-width and full-width forms
    (0x2F800, 0x2FA1F),  # CJK compatibility ideographs supplement
)


def _post_fold_table() -> dict[str, str]:
    """Width, quote, space and Latin case folding; NFKC only where it maps one character to one."""
    table: dict[str, str] = {}
    for lo, hi in _NFKC_RANGES:
        for code in range(lo, hi + 1):
            ch = chr(code)
            norm = unicodedata.normalize("NFKC", ch)
            if len(norm) == 1 and norm != ch:
                table[ch] = norm
    for code in range(0x20, 0x250):  # Basic Latin .. Latin Extended-B
        ch = chr(code)
        if ch.isupper() and len(ch.lower()) == 1:
            table[ch] = ch.lower()
    for code in range(0x3001):  # whitespace other than the plain space (none lies above U+3000)
        ch = chr(code)
        if ch.isspace() and ch not in "\t\n\r\x0b\x0c ":
            table[ch] = " "
    table["\u3000"] = " "
    table.update(dict.fromkeys(_DOUBLE_QUOTES, '"'))
    table.update(dict.fromkeys(_SINGLE_QUOTES, "'"))

    def settle(ch: str) -> str:  # full-width Ａ → A → a, ＂ → " : apply the table until stable
        for _ in range(3):
            ch = table.get(ch, ch)
        return ch

    return {k: settle(k) for k in table}


# OpenCC leaves 著 alone, but Taiwan writes 著 where the mainland writes 着 (隨著 / 随着, 著力 / 着力).
# Fold 著 to 着 except in the words where both scripts keep 著 (zhù: 著作权, 显著); "traditional:simplified".
_ZHU_WORDS = (
    "著作 著名 著稱:著称 著述 著錄:著录 著書:著书 著文 著者 著有 著譯:著译 顯著:显著 專著:专著 土著 名著 "
    "論著:论著 卓著 合著 巨著 鉅著:巨著 編著:编著 譯著:译著 原著 遺著:遗著 撰著 雜著:杂著 新著 "
    "拙著 昭著 較著:较著 見微知著:见微知著"
)


def _zhu_phrases() -> dict[str, str]:
    pairs = (item.partition(":") for item in _ZHU_WORDS.split())
    return {trad: simp or trad for trad, _, simp in pairs}


@lru_cache(maxsize=1)
def _folder() -> ScriptConverter:
    chars = load_opencc_dictionary("TSCharacters.txt")
    chars["著"] = "着"
    post = _post_fold_table()
    # A compatibility ideograph is usually a Traditional character in disguise: normalize, then convert.
    for ch, norm in list(post.items()):
        if len(norm) == 1 and norm in chars and ch not in chars:
            chars[ch] = chars[norm]
    phrases = load_opencc_dictionary("TSPhrases.txt")
    for key, value in list(phrases.items()):  # 藉着 → 借着 must also catch 藉著, now that 著 folds to 着
        if "着" in key:
            phrases.setdefault(key.replace("着", "著"), value)
    phrases.update(_zhu_phrases())
    return ScriptConverter(chars, phrases, post, closed=True)


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"analysis expects str, got {type(text).__name__}")
    return text


def fold(text: str) -> str:
    """Simplified script, half-width, lower-case Latin; one character in, one character out for t2s."""
    return _folder().convert(_check_text(text))


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` and, per folded character, the index of the original character it came from."""
    return _folder().convert_with_offsets(_check_text(text))


# ---------------------------------------------------------------------------------------------------------
# Tokenization
# ---------------------------------------------------------------------------------------------------------

_HAS_ALNUM = re.compile(r"[^\W_]")
_MAX_EXPANDED_WORD = 16  # longer tokens are Latin runs or garbage: no sub-word expansion (quadratic)


@dataclass(frozen=True)
class _Lexicon:
    tokenizer: jieba.Tokenizer
    stopwords: frozenset[str]


_lexicon_lock = threading.Lock()
_lexicon_state: list[_Lexicon] = []


def _lexicon() -> _Lexicon:
    """A private jieba instance with the domain dictionary (the global one stays untouched)."""
    if _lexicon_state:
        return _lexicon_state[0]
    with _lexicon_lock:
        if not _lexicon_state:
            jieba.setLogLevel(60)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            # Not jieba's load_userdict: it would take comment lines for words. Entries are folded so a
            # Traditional spelling in the file still matches folded text.
            for entry in _read_word_list(_DATA_DIR / "userdict.txt"):
                word, _, freq = entry.partition(" ")
                tokenizer.add_word(fold(word), int(freq) if freq.strip() else None)
            stopwords = frozenset(_read_word_list(_DATA_DIR / "stopwords.txt"))
            _lexicon_state.append(_Lexicon(tokenizer, stopwords))
    return _lexicon_state[0]


def _read_word_list(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        return [w for line in lines if (w := line.split("#", 1)[0].strip())]


def _search_words(tokenizer: jieba.Tokenizer, folded: str) -> Iterator[str]:
    """jieba's search mode, generalized: every dictionary word inside a longer word, not only those of two
    or three characters, so 习近平法治思想 also yields 法治思想."""
    freq = tokenizer.FREQ
    for word in tokenizer.cut(folded, HMM=True):
        n = len(word)
        if 2 < n <= _MAX_EXPANDED_WORD and not word.isascii():
            for size in range(2, n):
                for i in range(n - size + 1):
                    gram = word[i : i + size]
                    if freq.get(gram):
                        yield gram
        yield word


def tokenize_folded(folded: str) -> list[str]:
    """Tokens of already folded text: jieba search-mode words, no stopwords, no punctuation or spaces."""
    lex = _lexicon()
    stop = lex.stopwords
    return [
        w for w in _search_words(lex.tokenizer, _check_text(folded)) if w not in stop and _HAS_ALNUM.search(w)
    ]


def tokenize(text: str) -> list[str]:
    return tokenize_folded(fold(text))


@dataclass(frozen=True)
class Analysis:
    folded: str
    tokens: tuple[str, ...]


def analyze(text: str) -> Analysis:
    folded = fold(text)
    return Analysis(folded=folded, tokens=tuple(tokenize_folded(folded)))


def query_terms(text: str) -> list[str]:
    """Distinct tokens of ``text``, longest first (then in order of appearance): the order in which a
    highlighter should try them so that 人民调解员 wins over 调解."""
    seen = dict.fromkeys(tokenize(text))
    return sorted(seen, key=len, reverse=True)

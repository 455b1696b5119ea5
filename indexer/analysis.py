"""Text analysis shared by indexing and querying: script folding and tokenization.

Interface (other modules rely on it):
- ``fold(text) -> str``: Simplified script, half-width, lower-case Latin.
- ``fold_with_offsets(text) -> (folded, offsets)``: ``offsets[i]`` is the index in ``text`` of the
  character that produced ``folded[i]``; ``offsets`` has ``len(folded) + 1`` entries (the last is ``len(text)``).
- ``tokenize(text) -> list[str]``: folded, jieba search-mode tokens, stopwords and punctuation removed.
- ``analyze(text) -> Analysis`` (folded text and tokens together).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jieba
from opencc import OpenCC

jieba.setLogLevel(60)


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def _fold_width_case(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            ch = chr(code - 0xFEE0)
        elif code == 0x3000:
            ch = " "
        out.append(ch)
    return "".join(out).lower()


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        offsets = list(range(len(text) + 1))
    else:  # rare: fall back to char-by-char conversion, which is length-preserving
        converted = "".join(_t2s().convert(ch)[:1] or ch for ch in text)
        offsets = list(range(len(text) + 1))
    return _fold_width_case(converted), offsets


def fold(text: str) -> str:
    return fold_with_offsets(text)[0]


@dataclass(frozen=True)
class Analysis:
    folded: str
    tokens: tuple[str, ...]


def _is_word(token: str) -> bool:
    return any(unicodedata.category(c)[0] in "LN" for c in token)


def tokenize_folded(folded: str) -> list[str]:
    return [t for t in jieba.cut_for_search(folded) if _is_word(t)]


def tokenize(text: str) -> list[str]:
    return tokenize_folded(fold(text))


def analyze(text: str) -> Analysis:
    folded = fold(text)
    return Analysis(folded=folded, tokens=tuple(tokenize_folded(folded)))

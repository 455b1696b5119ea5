"""Cross-lingual keyword matching: English words of a query are mapped to Chinese terms of this field.

The vector retriever already crosses languages; this lets BM25 take part too, so an English query such as
"people's mediation" also finds passages that say 人民调解. The glossary is a curated list of rule-of-law
vocabulary (``data/glossary_en_zh.tsv``); longest English phrases match first.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from indexer.analysis import tokenize

_WORD = re.compile(r"[a-z]+(?:['’-][a-z]+)*")
_MAX_PHRASE_WORDS = 5
MAX_EXPANSION_TOKENS = 16  # a paste of glossary words must not multiply the lexical terms


@lru_cache(maxsize=1)
def glossary() -> dict[tuple[str, ...], tuple[str, ...]]:
    text = resources.files("search_app").joinpath("data/glossary_en_zh.tsv").read_text(encoding="utf-8")
    entries: dict[tuple[str, ...], tuple[str, ...]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, _, chinese = line.partition("\t")
        key = tuple(_WORD.findall(english.lower().replace("’", "'")))
        if key and chinese.split():
            entries[key] = tuple(chinese.split())
    return entries


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def glossary_phrases(query: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(English words, Chinese equivalents) of each glossary phrase in ``query``, longest phrases first."""
    words = _WORD.findall(query.lower().replace("’", "'"))
    table = glossary()
    found: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    i = 0
    while i < len(words):
        for n in range(min(_MAX_PHRASE_WORDS, len(words) - i), 0, -1):
            phrase = tuple(words[i : i + n])
            equivalents = _lookup(table, phrase)
            if equivalents:
                found.append((phrase, equivalents))
                i += n
                break
        else:
            i += 1
    return found


def _lookup(table: dict[tuple[str, ...], tuple[str, ...]], phrase: tuple[str, ...]) -> tuple[str, ...]:
    return table.get(phrase) or table.get((*phrase[:-1], _singular(phrase[-1]))) or ()


def part_equivalents(phrase: tuple[str, ...]) -> tuple[str, ...]:
    """Equivalents of the shorter glossary phrases inside ``phrase`` (grid management → grid → 网格)."""
    table = glossary()
    found: list[str] = []
    for n in range(len(phrase) - 1, 0, -1):
        for i in range(len(phrase) - n + 1):
            found.extend(_lookup(table, phrase[i : i + n]))
    return tuple(dict.fromkeys(found))


def glossary_matches(query: str) -> list[tuple[str, ...]]:
    """For each English phrase of ``query`` found in the glossary (longest first), its Chinese equivalents."""
    return [equivalents for _, equivalents in glossary_phrases(query)]


def chinese_terms(query: str) -> list[str]:
    """Chinese glossary terms for the English words of ``query`` (empty when it has none)."""
    return [term for found in glossary_matches(query) for term in found]


def expansion_tokens(query: str) -> tuple[str, ...]:
    """Analysis tokens of the Chinese equivalents, ready for the lexical retriever."""
    terms = chinese_terms(query)
    return tuple(dict.fromkeys(tokenize(" ".join(terms))))[:MAX_EXPANSION_TOKENS] if terms else ()

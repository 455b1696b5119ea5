"""The indicator taxonomy: kinds, their units and the phrases naming them (``data/indicator_taxonomy.tsv``).

Phrases are matched in folded text (Simplified script), so one Simplified phrase also finds its Traditional
spelling. A phrase may hold "…", a gap of up to ``GAP`` characters (调解…纠纷 finds 调解各类矛盾纠纷).
A kind may also require context: one of its context phrases must occur in the figure's sentence, where
"#" stands for the figure itself (``#行政村``: the figure counts villages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from indexer.analysis import fold
from indexer.indicators.numerals import UNITS

__all__ = ["GAP", "TAXONOMY_FILE", "Kind", "PhraseMatch", "TaxonomyError", "load_taxonomy", "taxonomy"]

TAXONOMY_FILE = Path(__file__).resolve().parent.parent / "data" / "indicator_taxonomy.tsv"
GAP = 12
MIN_FOLLOWING = 3


class TaxonomyError(ValueError):
    """The taxonomy file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class PhraseMatch:
    start: int
    end: int


@dataclass(frozen=True)
class Kind:
    label: str
    units: frozenset[str]
    phrases: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    context: tuple[re.Pattern[str], ...] = ()

    def fits(self, sentence: str) -> bool:
        """Whether ``sentence`` (folded, the figure replaced by "#") has the context this kind requires."""
        return not self.context or any(p.search(sentence) for p in self.context)

    def matches(self, text: str, following: bool = False) -> list[PhraseMatch]:
        """Every occurrence of any phrase in ``text``, each with its longest extent from its start.

        ``following``: ``text`` comes after the figure; only phrases of ``MIN_FOLLOWING`` or more characters
        without gaps count there ("118起成功避险" is not 调解成功, "19个行政村聘请法律顾问" is 法律顾问).
        """
        found = []
        for phrase, pattern in zip(self.phrases, self.patterns, strict=True):
            if following and ("…" in phrase or len(phrase) < MIN_FOLLOWING):
                continue
            for match in pattern.finditer(text):
                found.append(PhraseMatch(match.start(), match.start() + len(match.group(1))))
        return found


def _gapped(phrase: str) -> str:
    return f".{{0,{GAP}}}".join(re.escape(part) for part in phrase.split("…"))


def _phrases(field: str) -> tuple[str, ...]:
    return tuple(fold(p.strip()) for p in field.split("|") if p.strip())


def _compile(phrase: str) -> re.Pattern[str]:
    # A lookahead finds a match at every start position (finditer alone skips overlapping ones); the
    # greedy gap makes each one as long as it can be.
    return re.compile(f"(?=({_gapped(phrase)}))")


def parse_taxonomy(lines: list[str], source: str = "taxonomy") -> tuple[Kind, ...]:
    kinds: list[Kind] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) not in (3, 4):
            raise TaxonomyError(
                f"{source}:{number}: expected kind, units, phrases[, context] (tabs): {len(fields)} fields"
            )
        label, units_field, phrases_field, context_field = (f.strip() for f in [*fields, ""][:4])
        if not label or label in seen:
            raise TaxonomyError(f"{source}:{number}: empty or repeated kind {label!r}")
        units = frozenset(u.strip() for u in units_field.split(",") if u.strip())
        unknown = units - set(UNITS)
        if not units or unknown:
            raise TaxonomyError(f"{source}:{number}: unknown units {sorted(unknown) or '(none)'}")
        phrases = _phrases(phrases_field)
        context = _phrases(context_field)
        if not phrases or any(p.strip("…") != p or "……" in p for p in (*phrases, *context)):
            raise TaxonomyError(f"{source}:{number}: phrases must be non-empty and not start or end with …")
        seen.add(label)
        patterns = tuple(_compile(p) for p in phrases)
        kinds.append(Kind(label, units, phrases, patterns, tuple(re.compile(_gapped(c)) for c in context)))
    return tuple(kinds)


def load_taxonomy(path: Path = TAXONOMY_FILE) -> tuple[Kind, ...]:
    return parse_taxonomy(path.read_text(encoding="utf-8").splitlines(), str(path))


@lru_cache(maxsize=1)
def taxonomy() -> tuple[Kind, ...]:
    """The shipped taxonomy, read once per process."""
    return load_taxonomy()

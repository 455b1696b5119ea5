"""The indicator taxonomy: kinds, their units and the phrases naming them (``data/indicator_taxonomy.tsv``).

Phrases are matched in folded text (Simplified script), so one Simplified phrase also finds its Traditional
spelling. A phrase may hold "…", a gap of up to ``GAP`` characters (调解…纠纷 finds 调解各类矛盾纠纷).
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

    def matches(self, text: str) -> list[PhraseMatch]:
        """Every occurrence of any phrase in ``text``, each with its longest extent from its start."""
        found = []
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                found.append(PhraseMatch(match.start(), match.start() + len(match.group(1))))
        return found


def _compile(phrase: str) -> re.Pattern[str]:
    # A lookahead finds a match at every start position (finditer alone skips overlapping ones); the
    # greedy gap makes each one as long as it can be.
    body = f".{{0,{GAP}}}".join(re.escape(part) for part in phrase.split("…"))
    return re.compile(f"(?=({body}))")


def parse_taxonomy(lines: list[str], source: str = "taxonomy") -> tuple[Kind, ...]:
    kinds: list[Kind] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) != 3:
            raise TaxonomyError(
                f"{source}:{number}: expected kind<TAB>units<TAB>phrases, got {len(fields)} fields"
            )
        label, units_field, phrases_field = (f.strip() for f in fields)
        if not label or label in seen:
            raise TaxonomyError(f"{source}:{number}: empty or repeated kind {label!r}")
        units = frozenset(u.strip() for u in units_field.split(",") if u.strip())
        unknown = units - set(UNITS)
        if not units or unknown:
            raise TaxonomyError(f"{source}:{number}: unknown units {sorted(unknown) or '(none)'}")
        phrases = tuple(fold(p.strip()) for p in phrases_field.split("|") if p.strip())
        if not phrases or any(p.strip("…") != p or "……" in p for p in phrases):
            raise TaxonomyError(f"{source}:{number}: phrases must be non-empty and not start or end with …")
        seen.add(label)
        kinds.append(Kind(label, units, phrases, tuple(_compile(p) for p in phrases)))
    return tuple(kinds)


def load_taxonomy(path: Path = TAXONOMY_FILE) -> tuple[Kind, ...]:
    return parse_taxonomy(path.read_text(encoding="utf-8").splitlines(), str(path))


@lru_cache(maxsize=1)
def taxonomy() -> tuple[Kind, ...]:
    """The shipped taxonomy, read once per process."""
    return load_taxonomy()

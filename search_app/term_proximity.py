"""How much of a query a passage holds, and how close together: a ranking signal BM25 does not give.

BM25 adds up term scores, so a county report paragraph that says 专业人才 three times and 基层, 缺少, 法律
sentences apart can outscore a township sentence holding "基层缺少法律专业人才" in one clause. Two numbers
per passage fix that, computed from the passage text alone (so both stores rank alike):

- ``coverage``: the share of the query's content terms (``matching.content_terms``: whole words, glossary
  equivalents for English words) present in the passage, each counted once however often it is repeated;
- ``proximity``: ``coverage`` scaled down when the present terms are spread out: by the ratio of the
  query's length in terms (times ``SPREAD``) to the shortest stretch of text that holds one occurrence of
  each present term, when that stretch is longer.

A term is present when one of its alternatives is: all of that alternative's tokens occur in the folded
text (法治讲座 is present in "法治专题讲座"), as in the lexical-match rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from indexer.analysis import fold

Term = tuple[tuple[str, ...], ...]  # alternatives, each a tuple of tokens that must all occur
SPREAD = 2.5  # terms may sit this many times their own length apart (glue words, a short clause) at no cost


@dataclass(frozen=True)
class Proximity:
    coverage: float  # share of the query's terms present, 0–1
    proximity: float  # coverage, discounted for terms far apart, 0–1


NONE = Proximity(0.0, 0.0)

# Folding is most of the cost (about 20 µs a passage, 200 candidates a search); a page asks for the same
# candidates again for its facets, pages and report view, so the folded texts of recent ones are kept.
_folded = lru_cache(maxsize=4096)(fold)


def _occurrences(text: str, token: str) -> list[int]:
    found, start = [], text.find(token)
    while start >= 0:
        found.append(start)
        start = text.find(token, start + 1)
    return found


def _term_positions(text: str, term: Term) -> list[int] | None:
    """Start positions of the first present alternative's tokens, or None when no alternative is present."""
    for alternative in term:
        positions = [_occurrences(text, token) for token in alternative]
        if all(positions):
            return sorted(p for ps in positions for p in ps)
    return None


def shortest_span(positions: Sequence[Sequence[int]]) -> int:
    """Characters from the first to the last start of the shortest window holding one position of each
    list (the classic minimum window over merged, sorted events)."""
    events = sorted((p, i) for i, ps in enumerate(positions) for p in ps)
    counts: dict[int, int] = {}
    best, left = events[-1][0] - events[0][0] + 1, 0
    for position, which in events:
        counts[which] = counts.get(which, 0) + 1
        while len(counts) == len(positions):
            best = min(best, position - events[left][0] + 1)
            first = events[left][1]
            counts[first] -= 1
            if not counts[first]:
                del counts[first]
            left += 1
    return best


def proximity(terms: Sequence[Term], text: str) -> Proximity:
    """``coverage`` and ``proximity`` of ``terms`` in ``text`` (see the module docstring)."""
    if not terms:
        return NONE
    folded = _folded(text)
    present = [(term, p) for term in terms if (p := _term_positions(folded, term)) is not None]
    coverage = len(present) / len(terms)
    if len(present) < 2:
        return Proximity(coverage, coverage)
    length = sum(len(term[0][0]) for term in terms)  # the query's own length in terms (whole words)
    span = shortest_span([p for _, p in present])
    return Proximity(coverage, coverage * min(1.0, SPREAD * length / span))

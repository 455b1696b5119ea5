"""Marks query terms in a chunk's original text (Simplified or Traditional) and cuts display fragments.

Matching runs on the folded text (``indexer.analysis.fold_with_offsets``), so the Simplified term
枫桥经验 marks 楓橋經驗 in a Traditional original; spans are mapped back to original offsets before any HTML
is built. Every text segment is ``html.escape``d; ``<mark>`` is the only markup added.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from indexer.analysis import fold, fold_with_offsets, to_original_span

ELLIPSIS = "…"
_SENTENCE_ENDS = frozenset("。！？；!?;\n")

Span = tuple[int, int]


@dataclass(frozen=True)
class Highlighted:
    text: str  # the original text
    spans: tuple[Span, ...]  # marked (start, end) in ``text``: sorted, disjoint, never touching
    html: str  # escaped ``text`` (or its best fragment, when one was asked for) with <mark>s

    def fragment(self, max_chars: int) -> str:
        """Escaped HTML of the best window of about ``max_chars`` characters, with … where it was cut."""
        start, end = best_window(self.text, self.spans, max_chars)
        return render_html(self.text, self.spans, start, end)


def highlight(
    text: str,
    terms: Sequence[str],
    phrases: Sequence[str] = (),
    max_fragment_chars: int | None = None,
) -> Highlighted:
    """Marks ``terms`` and ``phrases`` (folded, as ``parse_query`` gives them) in ``text``.

    Overlapping and touching matches merge into one mark. Single-character terms (jieba's leftovers such
    as 的, 新) are marked only when the query has no longer term, so a query for 村 still shows its hits
    but a query for 法治政府 does not mark every 的. Phrases are always marked: the user quoted them.
    Latin and digit terms match whole words only (``ai`` does not mark ``said``).
    """
    folded, offsets = fold_with_offsets(text)
    spans: list[Span] = []
    for needle in _needles(terms, phrases):
        spans.extend(_find_all(folded, needle))
    original = _merge(_to_original(spans, offsets))
    if max_fragment_chars is None:
        body = render_html(text, original, 0, len(text))
    else:
        body = render_html(text, original, *best_window(text, original, max_fragment_chars))
    return Highlighted(text=text, spans=original, html=body)


def plain_marks(text: str, spans: Sequence[Span], open: str = "【", close: str = "】") -> str:
    """``text`` with each span wrapped in ``open``/``close`` (for terminals and logs)."""
    out, pos = [], 0
    for start, end in sorted(spans):
        start = max(start, pos)
        if end <= start:
            continue
        out += [text[pos:start], open, text[start:end], close]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def render_html(text: str, spans: Sequence[Span], start: int = 0, end: int | None = None) -> str:
    """Escaped ``text[start:end]`` with ``<mark>`` around the spans inside it and … at cut ends."""
    end = len(text) if end is None else end
    out = [ELLIPSIS] if start > 0 else []
    pos = start
    for s, e in spans:
        s, e = max(s, pos), min(e, end)
        if e <= s:
            continue
        out += [html.escape(text[pos:s]), "<mark>", html.escape(text[s:e]), "</mark>"]
        pos = e
    out.append(html.escape(text[pos:end]))
    if end < len(text):
        out.append(ELLIPSIS)
    return "".join(out)


def best_window(text: str, spans: Sequence[Span], max_chars: int) -> Span:
    """The window of about ``max_chars`` characters holding the most distinct matches.

    Never cuts inside a mark: a window grows to hold a mark longer than ``max_chars`` and shrinks to leave
    out a mark it would cut. Starts after a sentence end when one lies shortly before the first mark.
    """
    max_chars = max(1, max_chars)
    if len(text) <= max_chars:
        return 0, len(text)
    if not spans:
        return 0, _clip_end(max_chars, spans, len(text))
    first, last = _densest(text, spans, max_chars)
    g_start, g_end = spans[first][0], spans[last][1]
    room = max(0, max_chars - (g_end - g_start))
    start = max(0, g_start - room // 3)  # some context before, more after: readers read on
    boundary = max((i for i in range(start, g_start) if text[i] in _SENTENCE_ENDS), default=-1)
    if boundary >= 0:
        start = boundary + 1
    end = min(len(text), max(start + max_chars, g_end))
    if end == len(text):  # text ends early: use the room before instead
        start = min(start, max(0, end - max(max_chars, g_end - g_start)))
    return _clip_start(start, spans), _clip_end(end, spans, len(text))


def _densest(text: str, spans: Sequence[Span], max_chars: int) -> tuple[int, int]:
    """Indices of the first and last span of the run that best fits in ``max_chars``."""
    keys = [fold(text[s:e]) for s, e in spans]
    best, best_score = (0, 0), (-1, -1)
    last = 0
    for first in range(len(spans)):
        last = max(last, first)
        while last + 1 < len(spans) and spans[last + 1][1] - spans[first][0] <= max_chars:
            last += 1
        score = (len(set(keys[first : last + 1])), last - first + 1)
        if score > best_score:  # strictly better, so ties keep the earliest window
            best, best_score = (first, last), score
    return best


def _clip_start(start: int, spans: Sequence[Span]) -> int:
    for s, e in spans:
        if s < start < e:
            return e
    return start


def _clip_end(end: int, spans: Sequence[Span], length: int) -> int:
    for s, e in spans:
        if s < end < e:
            return s
    return min(end, length)


def _needles(terms: Sequence[str], phrases: Sequence[str]) -> list[str]:
    """Folded strings to mark, longest first; drops empties and (see ``highlight``) single characters."""
    cleaned = [" ".join(fold(t).split()) for t in terms]
    words = [t for t in cleaned if t and _has_word(t)]
    if any(len(t) > 1 for t in words) or phrases:
        words = [t for t in words if len(t) > 1]
    found = {*words, *(" ".join(fold(p).split()) for p in phrases)} - {""}
    return sorted(found, key=lambda t: (-len(t), t))


def _has_word(text: str) -> bool:
    return any(unicodedata.category(c)[0] in "LN" for c in text)


def _is_ascii_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _find_all(folded: str, needle: str) -> list[Span]:
    whole_word = _is_ascii_word_char(needle[0]) or _is_ascii_word_char(needle[-1])
    spans, i = [], folded.find(needle)
    while i != -1:
        end = i + len(needle)
        if not whole_word or _at_word_edges(folded, i, end, needle):
            spans.append((i, end))
        i = folded.find(needle, i + 1)
    return spans


def _at_word_edges(folded: str, start: int, end: int, needle: str) -> bool:
    """An ASCII word must not continue into the text on either side (``ai`` in ``said``)."""
    if _is_ascii_word_char(needle[0]) and start > 0 and _is_ascii_word_char(folded[start - 1]):
        return False
    return not (_is_ascii_word_char(needle[-1]) and end < len(folded) and _is_ascii_word_char(folded[end]))


def _to_original(spans: Sequence[Span], offsets: list[int]) -> list[Span]:
    """Folded spans → original spans covering every original character that produced a matched one."""
    return [to_original_span(offsets, s, e) for s, e in spans]


def _merge(spans: Sequence[Span]) -> tuple[Span, ...]:
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return tuple((s, e) for s, e in merged)

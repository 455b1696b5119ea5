"""Heading markers at the start of a line, and how a heading line splits into heading and body.

Markers: ``一、`` ``（一）`` ``1、``/``1.``/``1．`` ``（1）`` ``①`` and the law markers ``第N编/章/节/条``
(also Traditional ``第 N 條``). In-paragraph points (``一是…二是…``) are found by ``find_points``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "LAW_SCHEMES",
    "Marker",
    "Point",
    "cn_number",
    "find_points",
    "match_marker",
    "split_heading",
]

_CN_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}

_CN = "[一二三四五六七八九十百零〇]"
_NUM = r"[一二三四五六七八九十百千零〇\d]+"
# Order matters: law markers before the plain ones, parenthesised before bare.
_SCHEMES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("part", re.compile(rf"第\s*({_NUM})\s*[编編](?=\s|$|[^\d])")),
    ("chapter", re.compile(rf"第\s*({_NUM})\s*章")),
    ("section", re.compile(rf"第\s*({_NUM})\s*[节節]")),
    ("article", re.compile(rf"第\s*({_NUM})(?:\s*-\s*\d+)?\s*[条條](?:之[一二三四五六七八九十]+)?")),
    ("paren_cn", re.compile(rf"[（(]\s*({_CN}+)\s*[）)]")),
    ("paren_arabic", re.compile(r"[（(]\s*(\d{1,3})\s*[）)]")),
    ("cn", re.compile(rf"({_CN}+)\s*[、．.]")),
    ("arabic", re.compile(r"(\d{1,3})\s*(?:、|[.．](?!\d))")),
    ("circled", re.compile(r"([①-⑳])")),
)
LAW_SCHEMES = frozenset({"part", "chapter", "section", "article"})

_SENTENCE_END = "。！？!?；;"
_CLAUSE_END = re.compile(r"[，,：:]")
_HAS_WORD = re.compile(r"[^\W_]")
# A heading line without any sentence punctuation is a heading up to this length.
MAX_BARE_HEADING = 60
# A lead phrase ("（一）切实加强组织领导。正文…") is a heading up to this length.
MAX_LEAD = 40


def cn_number(token: str) -> int | None:
    """Value of a numeral written in digits or Chinese (十一 → 11, 二十三 → 23); None if not a numeral."""
    token = token.replace(" ", "")
    if len(token) == 1 and "①" <= token <= "⑳":
        return ord(token) - ord("①") + 1
    if token.isdecimal():
        return int(token)
    total, current = 0, 0
    for ch in token:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
        else:
            return None
    return total + current if token else None


@dataclass(frozen=True)
class Marker:
    """A numbered marker at ``line[0:end]`` (``end`` includes the spaces after it)."""

    scheme: str
    value: int
    ordinal: str
    end: int


def match_marker(line: str) -> Marker | None:
    """The heading marker that ``line`` (already stripped on the left) starts with, if any."""
    for scheme, pattern in _SCHEMES:
        m = pattern.match(line)
        if m is None:
            continue
        value = cn_number(m.group(1))
        if value is None or value == 0:
            return None
        end = m.end()
        while end < len(line) and line[end].isspace():
            end += 1
        return Marker(scheme, value, m.group(0).strip(), end)
    return None


def _first_clause(text: str, limit: int = MAX_LEAD) -> int:
    m = _CLAUSE_END.search(text)
    cut = m.start() if m else len(text)
    return min(cut, limit)


def split_heading(rest: str) -> tuple[int, int] | None:
    """How the text after a marker splits: ``(heading_end, body_start)`` as offsets into ``rest``.

    - a short line with no sentence punctuation is all heading: ``(len(rest), len(rest))``;
    - a short lead sentence followed by more text: heading up to the 。, body after it;
    - otherwise (a numbered sentence or paragraph): a label up to the first comma, and the body is the whole
      text, so nothing is hidden in a heading: ``(label_end, 0)``.
    Returns None for a marker with nothing after it.
    """
    text = rest.rstrip()
    if not text:
        return None
    ends = [i for i, ch in enumerate(text) if ch in _SENTENCE_END]
    if not ends:
        if len(text) <= MAX_BARE_HEADING:
            return len(text), len(text)
        return _first_clause(text), 0
    first = ends[0]
    after = text[first + 1 :]
    if first <= MAX_LEAD and _HAS_WORD.search(after):
        body = first + 1
        while body < len(text) and text[body].isspace():
            body += 1
        return first, body
    return _first_clause(text[:first]), 0


@dataclass(frozen=True)
class Point:
    """An in-paragraph point ``一是…``: offsets relative to the searched text."""

    start: int
    ordinal: str
    heading_end: int
    body_start: int
    end: int


_POINT = re.compile(r"(?:(?<=[。；;：:，,！？!?\s])|^)([一二三四五六七八九十]{1,3})是(?![否不指])", re.M)
_POINT_END = re.compile(r"[。；;！？!?]")


def find_points(text: str) -> list[Point]:
    """Points ``一是…二是…`` in ``text``; only sequences of two or more consecutive points count."""
    sequences: list[list[re.Match[str]]] = []
    expected = 1
    for m in _POINT.finditer(text):
        value = cn_number(m.group(1))
        if value == 1:
            sequences.append([m])
            expected = 2
        elif sequences and value == expected:
            sequences[-1].append(m)
            expected += 1
    starts = [m for seq in sequences if len(seq) >= 2 for m in seq]
    points = []
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        points.append(_point(text, m, end))
    return points


def _point(text: str, m: re.Match[str], end: int) -> Point:
    marker_end = m.end()
    span = text[marker_end:end]
    stop = _POINT_END.search(span)
    if stop and stop.start() + 2 <= MAX_LEAD and _HAS_WORD.search(span[stop.end() :]):
        body = marker_end + stop.end()
        while body < end and text[body].isspace():
            body += 1
        return Point(m.start(), m.group(0), marker_end + stop.start(), body, end)
    label = _first_clause(span[: stop.start()] if stop else span.rstrip(), MAX_LEAD - 2)
    return Point(m.start(), m.group(0), marker_end + label, marker_end, end)

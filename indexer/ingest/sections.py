"""Split a report's cleaned text into a tree of sections.

Levels come from the order in which marker schemes appear (一、 （一） 1、 …), not from a fixed table,
because reports mix them; a marker that continues a sibling's numbering (``1、`` then ``二、``) joins that
sibling's level. Below the numbered headings, in-paragraph points (``一是…二是…``) form the lowest level.
Unheaded closing paragraphs that announce problems or plans become top-level sections of their own, and the
closing signature (issuer, date, page footer) is left out of every section.

A section's ``end`` covers its whole subtree; its *own* text (heading and body before the first child)
ends at ``own_end(sections, section)``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from indexer.analysis import fold
from indexer.ingest.categories import classify, text_cue
from indexer.ingest.headings import LAW_SCHEMES, Marker, find_points, match_marker, split_heading
from indexer.models import OTHER, PLANS, PROBLEMS, RESULTS, Section

__all__ = ["own_end", "parse_sections"]

_SENTENCE_PUNCT = "。！？!?；;：:"
_HEADING_STRIP = " \t\u3000。．.：:，,；;"
_INNER_PUNCT = re.compile(r"[。，,；;：:！？!?]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_MAX_PLAIN_HEADING = 16
_LONG_LINE = 40
_PARAGRAPH_GROUP = 600
_PARAGRAPH_END = "。！？!?；;：:…"
_CLOSING_PUNCT = "》」』”’）)，,、。；;：:！？!?"
_LINE_BREAK = re.compile(r"\s*\n\s*")
_BARE_POINT = re.compile(r"^[一二三四五六七八九十]+是$")

_DATE_LINE = re.compile(
    r"^[\d〇零○一二三四五六七八九十]{2,4}\s*年\s*[\d一二三四五六七八九十]{1,2}\s*月"
    r"(?:\s*[\d一二三四五六七八九十]{1,3}\s*日)?$"
)
_ORG_LINE = re.compile(r"(?:人民政府|政府|委员会|党委|办公室|办事处|司法所|党组|街道|[乡镇局])$")
_FOOTER = re.compile(r"^[—\-－\s]*\d+[—\-－\s]*$")
_SIGNATURE_LINES = 5
_REPORT_CUE = re.compile(r"(?:报告|总结|汇报)如下|工作报告|工作情况|工作总结|建设情况|情况报告|述职|述法")


@dataclass(frozen=True)
class _Line:
    start: int  # first non-space character
    end: int  # after the last non-space character
    text: str


@dataclass
class _Draft:
    """A section under construction (mutable while the tree is assembled)."""

    start: int
    body_start: int
    own_end: int
    heading: str = ""
    level: int = 1
    ordinal: str = ""
    kind: str = "heading"  # heading | plain | preamble | closing | point | paragraph
    category: str = ""
    fixed: bool = False  # category decided by construction (preamble, closing passages)


class _Levels:
    """Assigns outline levels to markers as their schemes appear."""

    def __init__(self) -> None:
        self._stack: list[tuple[set[str], int]] = []  # per level: schemes used, last value
        self._history: dict[str, int] = {}

    def level(self, marker: Marker) -> int:
        for i, (schemes, _) in enumerate(self._stack):
            if marker.scheme in schemes:
                return self._set(i, marker.scheme, marker.value)
        # Law numbering runs on across chapters (第二章 → 第三条), so only report markers continue a sibling.
        if marker.value > 1 and marker.scheme not in LAW_SCHEMES:
            for i in range(len(self._stack) - 1, -1, -1):
                if self._stack[i][1] == marker.value - 1 and not self._stack[i][0] & LAW_SCHEMES:
                    return self._set(i, marker.scheme, marker.value)
        known = self._history.get(marker.scheme)
        if known is not None and known <= len(self._stack):
            return self._set(known - 1, marker.scheme, marker.value)
        return self._set(len(self._stack), marker.scheme, marker.value)

    def plain(self) -> int:
        """An unnumbered heading: top level, with numbered children below it."""
        return self._set(0, "plain", 0)

    def _set(self, i: int, scheme: str, value: int) -> int:
        del self._stack[i + 1 :]
        if i == len(self._stack):
            self._stack.append(({scheme}, value))
        else:
            schemes, _ = self._stack[i]
            self._stack[i] = (schemes | {scheme}, value)
        self._history[scheme] = i + 1
        return i + 1


def _lines(text: str) -> list[_Line]:
    lines, pos = [], 0
    for raw in text.splitlines(keepends=True):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            lines.append(_Line(pos + lead, pos + lead + len(stripped), stripped))
        pos += len(raw)
    return lines


def _is_body_line(line: _Line) -> bool:
    return line.text[-1] in _SENTENCE_PUNCT or len(line.text) > _LONG_LINE


def _signature_start(lines: Sequence[_Line]) -> int:
    """Index of the first closing signature line (issuer, date, page number), or ``len(lines)``."""
    first = len(lines)
    for i in range(len(lines) - 1, max(0, len(lines) - _SIGNATURE_LINES) - 1, -1):
        text = fold(lines[i].text).replace(" ", "")
        is_org = len(text) <= 30 and not _INNER_PUNCT.search(text) and _ORG_LINE.search(text)
        if not (_DATE_LINE.match(text) or _FOOTER.match(text) or is_org):
            break
        first = i
    return first if first > 0 else len(lines)


def _is_plain_heading(line: _Line, previous_closed: bool, following: _Line | None) -> bool:
    """A short unnumbered line between finished paragraphs, followed by body text ("下一步计划")."""
    text = line.text
    return (
        previous_closed
        and len(text) <= _MAX_PLAIN_HEADING
        and len(_HAN.findall(text)) >= 2
        and not _INNER_PUNCT.search(text)
        and not any(ch.isspace() for ch in text)
        and not text[0].isdigit()
        and text[0] not in '（(《“"【[—-'
        and not _BARE_POINT.match(text)
        and following is not None
        and _is_body_line(following)
        and following.text[0] not in _CLOSING_PUNCT
    )


def _heading_draft(line: _Line, marker: Marker, level: int) -> _Draft:
    rest = line.text[marker.end :]
    at = line.start + marker.end
    if marker.scheme == "article" or not rest:
        body = at if rest else line.end
        return _Draft(line.start, body, line.end, marker.ordinal, level, marker.ordinal)
    if marker.scheme in LAW_SCHEMES:
        return _Draft(line.start, line.end, line.end, line.text, level, marker.ordinal)
    split = split_heading(rest)
    assert split is not None  # rest is non-empty and stripped
    heading_end, body = split
    heading = line.text[: marker.end + heading_end].rstrip(_HEADING_STRIP)
    return _Draft(line.start, at + body if body else at, line.end, heading, level, marker.ordinal)


def _headings(lines: Sequence[_Line], law: bool) -> list[_Draft]:
    levels = _Levels()
    drafts: list[_Draft] = []
    seen_body = False
    previous_closed = False  # the previous line ended a paragraph or was a heading
    for i, line in enumerate(lines):
        marker = match_marker(line.text)
        following = lines[i + 1] if i + 1 < len(lines) else None
        if marker is not None and (not law or marker.scheme in LAW_SCHEMES):
            drafts.append(_heading_draft(line, marker, levels.level(marker)))
        elif not law and seen_body and _is_plain_heading(line, previous_closed, following):
            heading = line.text.rstrip(_HEADING_STRIP)
            drafts.append(_Draft(line.start, line.end, line.end, heading, levels.plain(), "", "plain"))
        else:
            seen_body = seen_body or _is_body_line(line)
            previous_closed = line.text[-1] in _PARAGRAPH_END
            continue
        previous_closed = True
    return drafts


def _paragraph_groups(lines: Sequence[_Line]) -> list[_Draft]:
    """Sections for a document without headings: consecutive paragraphs up to a modest size."""
    drafts: list[_Draft] = []
    for line in lines:
        if drafts and line.end - drafts[-1].start <= _PARAGRAPH_GROUP:
            drafts[-1].own_end = line.end
        else:
            drafts.append(_Draft(line.start, line.start, line.end, kind="paragraph"))
    return drafts


def _trim(text: str, end: int) -> int:
    """``end`` moved back over trailing whitespace (without copying the text)."""
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return end


def _close(drafts: list[_Draft], text: str, limit: int) -> None:
    """Each draft's own text runs to the next draft (trailing whitespace excluded)."""
    drafts.sort(key=lambda d: (d.start, d.level))
    for i, d in enumerate(drafts):
        stop = drafts[i + 1].start if i + 1 < len(drafts) else limit
        d.own_end = max(d.body_start, _trim(text, stop))


def _parents(drafts: Sequence[_Draft]) -> list[int | None]:
    parents: list[int | None] = []
    stack: list[int] = []
    for i, d in enumerate(drafts):
        while stack and drafts[stack[-1]].level >= d.level:
            stack.pop()
        parents.append(stack[-1] if stack else None)
        stack.append(i)
    return parents


def _categorize(drafts: Sequence[_Draft], text: str, default: str) -> list[int | None]:
    parents = _parents(drafts)
    for d, parent in zip(drafts, parents, strict=True):
        if d.fixed:
            continue
        parent_category = drafts[parent].category if parent is not None else None
        body = text[d.body_start : d.own_end][:300]
        d.category = classify(d.heading, body, parent_category, default=default)
    return parents


def _closing_passages(drafts: list[_Draft], lines: Sequence[_Line], text: str) -> None:
    """Split off unheaded closing paragraphs that announce problems or plans as top-level sections."""
    added: list[_Draft] = []
    starts = [line.start for line in lines]  # sorted: only each section's own lines are visited
    for i, d in enumerate(drafts):
        following = drafts[i + 1] if i + 1 < len(drafts) else None
        if d.kind == "preamble" or (following is not None and following.level != 1):
            continue
        first = bisect.bisect_left(starts, max(d.start + 1, d.body_start))
        for line in lines[first : bisect.bisect_left(starts, d.own_end, lo=first)]:
            cue = text_cue(line.text)
            if cue and cue != d.category:
                added.append(
                    _Draft(line.start, line.start, d.own_end, kind="closing", category=cue, fixed=True)
                )
                d.own_end = _trim(text, line.start)
                break
    drafts.extend(added)
    drafts.sort(key=lambda d: (d.start, d.level))


_SENTENCE_START = re.compile(r"(?:(?<=[。！？!?；;\n])|^)\s*", re.M)


def _plans_after_problems(drafts: list[_Draft], text: str) -> None:
    """A problems passage that goes on to the plans ("…差距：一是…。今后，我们将…") is split there."""
    added: list[_Draft] = []
    for i, d in enumerate(drafts):
        following = drafts[i + 1] if i + 1 < len(drafts) else None
        if d.category != PROBLEMS or (following is not None and following.level != 1):
            continue
        for m in _SENTENCE_START.finditer(text, d.body_start, d.own_end):
            pos = m.end()
            if pos <= d.body_start or pos >= d.own_end:
                continue
            if text_cue(text[pos : min(pos + 200, d.own_end)]) == PLANS:
                added.append(_Draft(pos, pos, d.own_end, kind="closing", category=PLANS, fixed=True))
                d.own_end = _trim(text, pos)
                break
    drafts.extend(added)
    drafts.sort(key=lambda d: (d.start, d.level))


def _points(drafts: list[_Draft], text: str) -> None:
    """Add the in-paragraph points of every section's own body as its children."""
    added: list[_Draft] = []
    for d in drafts:
        if d.kind in ("preamble", "paragraph", "point"):
            continue
        base = d.body_start
        points = find_points(text[base : d.own_end])
        for p in points:
            heading = _LINE_BREAK.sub("", text[base + p.start : base + p.heading_end]).rstrip(_HEADING_STRIP)
            end = _trim(text, base + p.end)
            added.append(
                _Draft(base + p.start, base + p.body_start, end, heading, d.level + 1, p.ordinal, "point")
            )
        if points:
            d.own_end = max(d.body_start, _trim(text, base + points[0].start))
    drafts.extend(added)
    drafts.sort(key=lambda d: (d.start, d.level))


def own_end(sections: Sequence[Section], section: Section) -> int:
    """Where ``section``'s own text ends: at its first child, or at its end if it has none."""
    following = section.index + 1
    if following < len(sections) and sections[following].parent == section.index:
        return sections[following].start
    return section.end


def _is_report(text: str, law: bool) -> bool:
    return not law and bool(_REPORT_CUE.search(fold(text[:1500])))


def parse_sections(text: str) -> list[Section]:
    """The section tree of ``text`` (cleaned report text), in document order."""
    all_lines = _lines(text)
    if not all_lines:
        return []
    lines = all_lines[: _signature_start(all_lines)]
    limit = lines[-1].end
    law = any((m := match_marker(line.text)) is not None and m.scheme == "article" for line in lines)
    default = RESULTS if _is_report(text, law) else OTHER

    drafts = _headings(lines, law)
    if not drafts:
        drafts = _paragraph_groups(lines)
        drafts[0].category, drafts[0].fixed = OTHER, True
    elif drafts[0].start > lines[0].start:
        start = lines[0].start
        drafts.insert(0, _Draft(start, start, start, kind="preamble", category=OTHER, fixed=True))
    _close(drafts, text, limit)
    _categorize(drafts, text, default)
    if not law and any(d.kind != "paragraph" for d in drafts):
        _closing_passages(drafts, lines, text)
        _categorize(drafts, text, default)
        _plans_after_problems(drafts, text)
    _points(drafts, text)
    parents = _categorize(drafts, text, default)
    return _freeze(drafts, parents)


def _freeze(drafts: Sequence[_Draft], parents: Sequence[int | None]) -> list[Section]:
    ends = [d.own_end for d in drafts]
    for i in range(len(drafts) - 1, -1, -1):
        parent = parents[i]
        if parent is not None:
            ends[parent] = max(ends[parent], ends[i])
    return [
        Section(
            index=i,
            heading=d.heading,
            level=d.level,
            ordinal=d.ordinal,
            category=d.category or OTHER,
            start=d.start,
            body_start=d.body_start,
            end=ends[i],
            parent=parents[i],
        )
        for i, d in enumerate(drafts)
    ]

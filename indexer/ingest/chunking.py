"""Cut a parsed report into searchable chunks that follow its sections.

A chunk never spans two sections. The first chunk of a section starts at its heading, so the heading
travels with its body; a section with no body of its own (only a heading before its first child) gives no
chunk, since its heading lives on in the children's breadcrumbs. Long sections are split at sentence ends
and packed greedily into parts of about equal size; a sentence is cut (at a comma) only when it alone
exceeds ``2 × max_chars``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from indexer.ingest.sections import own_end
from indexer.models import Chunk, Report, Section

__all__ = ["chunk_report", "sentence_spans"]

_SENTENCE = re.compile(r"[^。！？；!?;\n]*(?:[。！？；!?;]+[”’」』）)]*|\n|$)")
_CLAUSE = re.compile(r"[^，、,]*(?:[，、,]+|$)")
_HAS_WORD = re.compile(r"[^\W_]")


def _pieces(text: str, start: int, end: int, pattern: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    for m in pattern.finditer(text, start, end):
        if m.end() > m.start():
            yield m.start(), m.end()


def sentence_spans(text: str, start: int, end: int, hard_limit: int) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]``; one longer than ``hard_limit`` is cut at commas (or, failing
    that, every ``hard_limit`` characters)."""
    spans: list[tuple[int, int]] = []
    for s, e in _pieces(text, start, end, _SENTENCE):
        if e - s <= hard_limit:
            spans.append((s, e))
            continue
        for cs, ce in _pieces(text, s, e, _CLAUSE):
            spans.extend((i, min(i + hard_limit, ce)) for i in range(cs, ce, hard_limit))
    return spans


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _has_body(text: str, section: Section, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` holds more than the section's heading (no heading-only chunks)."""
    return bool(_HAS_WORD.search(text[max(start, section.body_start) : end]))


def _section_spans(report: Report, section: Section, max_chars: int) -> list[tuple[int, int]]:
    text = report.text
    stop = own_end(report.sections, section)
    if not _HAS_WORD.search(text[section.body_start : stop]):
        return []
    # Aim at equal parts (no 30-character tail after a full chunk), never above max_chars.
    target = (stop - section.start) / math.ceil((stop - section.start) / max_chars)
    spans: list[tuple[int, int]] = []
    chunk_start = chunk_end = section.start
    for s, e in sentence_spans(text, section.start, stop, 2 * max_chars):
        full = e - chunk_start > max_chars or chunk_end - chunk_start >= target
        if chunk_end > chunk_start and full and _has_body(text, section, chunk_start, chunk_end):
            spans.append((chunk_start, chunk_end))
            chunk_start = s
        chunk_end = e
    if chunk_end > chunk_start:
        spans.append((chunk_start, chunk_end))
    stripped = (_strip(text, s, e) for s, e in spans)
    return [(s, e) for s, e in stripped if _HAS_WORD.search(text[s:e])]


def chunk_report(report: Report, max_chars: int = 320) -> list[Chunk]:
    """Chunks of ``report`` in document order, each a slice ``report.text[start:end]`` of one section."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    chunks: list[Chunk] = []
    for section in report.sections:
        breadcrumb = report.breadcrumb(section)
        for n, (start, end) in enumerate(_section_spans(report, section, max_chars)):
            chunks.append(
                Chunk(
                    id=f"{report.id}:{section.index}:{n}",
                    report_id=report.id,
                    section_index=section.index,
                    breadcrumb=breadcrumb,
                    category=section.category,
                    text=report.text[start:end],
                    start=start,
                    end=end,
                    meta=report.meta,
                )
            )
    return chunks

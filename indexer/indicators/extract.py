"""Extract practice indicators from a report's text: each figure with the kind of thing it counts.

A report is folded once (``indexer.analysis``), cut into sentences (。！？；, line ends) and clauses (，：).
Each figure (``numerals.find_figures``) gets the kind whose phrase ends nearest before it in its clause, or,
when none does, starts nearest after it ("为全乡19个行政村聘请法律顾问"); a figure whose unit the kind does
not take is not that kind. A figure with no kind is not an indicator, which keeps out most numbers that
are not counts of practice. Also never extracted: ordinals (第一), figures inside quotation marks
("两个确立", "最多跑一次"), changes (增长5%) and set phrases (一次性, 一站式).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from indexer.analysis import fold_with_offsets, to_original_span
from indexer.indicators.numerals import Figure, find_figures
from indexer.indicators.taxonomy import Kind, taxonomy
from indexer.models import Indicator, Section

__all__ = ["extract_indicators"]

_SENTENCE_END = re.compile(r"[。!?;\n]")
_CLAUSE_END = re.compile(r"[,:，：]")
# Quoted spans in the original text (checked there: folding makes all quotation marks alike).
_QUOTED = re.compile(
    r"“[^“”\n]{0,40}”|「[^「」\n]{0,40}」|『[^『』\n]{0,40}』|\"[^\"\n]{0,40}\"|‘[^‘’\n]{0,40}’"
)
# A figure right after one of these is a change, not a level ("增长5%", "下降了3件").
_CHANGE = re.compile(r"(?:增长|下降|减少|降低|提高|上升|增加|压减|压缩|下滑|回落)了?(?:近|约|超过|超|逾)?$")
# Set phrases built on a numeral that count nothing.
_SET_PHRASES = re.compile(
    r"一次性|一站式|一次办|一件事|最多跑一次|一张网|一网通|一个窗口|一条龙|一揽子|一批次"
)
# A quotation or bracket closed right after the previous sentence's 。 belongs to that sentence.
_CLOSERS = frozenset("”’」』）)]】\"'")
_YEAR = re.compile(r"((?:19|20)\d\d)年")
# Clause openers too short to name a kind ("共计12次", "成功154起" is matched by a phrase): when nothing
# longer precedes a figure in its clause, the clauses before it in the sentence may name the kind.
_SHORT_OPENING = 3
_FOLLOWING_REACH = 24  # how far after a figure a phrase may start


@dataclass(frozen=True)
class _Choice:
    kind: Kind
    distance: int  # characters between phrase and figure
    length: int
    order: int  # the kind's place in the taxonomy, for stable ties


def _best(candidates: list[_Choice]) -> Kind | None:
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.distance, -c.length, c.order)).kind


def _kind_before(kinds: Sequence[Kind], before: str) -> Kind | None:
    choices = []
    for order, kind in enumerate(kinds):
        for m in kind.matches(before):
            choices.append(_Choice(kind, len(before) - m.end, m.end - m.start, order))
    return _best(choices)


def _kind_after(kinds: Sequence[Kind], after: str) -> Kind | None:
    choices = []
    for order, kind in enumerate(kinds):
        for m in kind.matches(after[:_FOLLOWING_REACH], following=True):
            choices.append(_Choice(kind, m.start, m.end - m.start, order))
    return _best(choices)


def _masked(folded: str) -> list[tuple[int, int]]:
    return [m.span() for m in _SET_PHRASES.finditer(folded)]


def _inside(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _section_category(sections: Sequence[Section], position: int) -> str:
    category = ""
    for section in sections:  # parents come before their children: the last cover is the deepest
        if section.start <= position < section.end:
            category = section.category
    return category


def _spans(
    pattern: re.Pattern[str], text: str, start: int, end: int, keep: bool = False
) -> list[tuple[int, int]]:
    """[start, end) cut at every match of ``pattern``, the matches left out (or kept at the span ends)."""
    spans, position = [], start
    for match in pattern.finditer(text, start, end):
        spans.append((position, match.end() if keep else match.start()))
        position = match.end()
    spans.append((position, end))
    return spans


def _classify(
    kinds: Sequence[Kind],
    folded: str,
    figure: Figure,
    clauses: list[tuple[int, int]],
    previous_end: int,
    next_start: int,
) -> Kind | None:
    """The kind of ``figure``; ``previous_end``/``next_start`` bound it by its neighbouring figures."""
    sentence_start, sentence_end = clauses[0][0], clauses[-1][1]
    marked = folded[sentence_start : figure.start] + "#" + folded[figure.end : sentence_end]
    kinds = [k for k in kinds if figure.unit in k.units and k.fits(marked)]
    clause_index = next(i for i, (s, e) in enumerate(clauses) if s <= figure.start < e)
    clause_start, clause_end = clauses[clause_index]
    before = folded[max(clause_start, previous_end) : figure.start]
    kind = _kind_before(kinds, before)
    if kind is not None:
        return kind
    kind = _kind_after(kinds, folded[figure.end : min(clause_end, next_start)])
    if kind is not None or len(before.strip()) > _SHORT_OPENING or clause_index == 0:
        return kind
    sentence_before = folded[clauses[0][0] : clause_start]
    return _kind_before(kinds, sentence_before)


def extract_indicators(
    text: str, year: int | None = None, sections: Sequence[Section] = (), kinds: Sequence[Kind] | None = None
) -> tuple[Indicator, ...]:
    """Indicators of a report's ``text`` (original script); ``year`` is the report's, used when the
    sentence names none; ``sections`` give each indicator the category of its section."""
    kinds = taxonomy() if kinds is None else kinds
    folded, offsets = fold_with_offsets(text)
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    set_phrases = _masked(folded)
    found: list[Indicator] = []
    for sentence_start, sentence_end in _spans(_SENTENCE_END, folded, 0, len(folded), keep=True):
        figures = [
            Figure(
                f.start + sentence_start,
                f.end + sentence_start,
                f.number_start + sentence_start,
                f.value,
                f.unit,
                f.approx,
            )
            for f in find_figures(folded[sentence_start:sentence_end])
        ]
        if not figures:
            continue
        clauses = _spans(_CLAUSE_END, folded, sentence_start, sentence_end)
        orig_start, orig_end = to_original_span(offsets, sentence_start, sentence_end)
        # Trim the sentence's surrounding whitespace so the source reads cleanly.
        while orig_start < orig_end and (text[orig_start].isspace() or text[orig_start] in _CLOSERS):
            orig_start += 1
        while orig_end > orig_start and text[orig_end - 1].isspace():
            orig_end -= 1
        previous_end = sentence_start
        for n, figure in enumerate(figures):
            next_start = figures[n + 1].start if n + 1 < len(figures) else sentence_end
            before_figure = folded[previous_end : figure.start]
            fig_start, fig_end = to_original_span(offsets, figure.start, figure.end)
            skip = (
                folded[figure.start - 1 : figure.start] == "第"
                or folded[figure.end : figure.end + 1] == "性"
                or _CHANGE.search(before_figure) is not None
                or _inside(quoted, fig_start, fig_end)
                or _inside(set_phrases, figure.start, figure.end)
            )
            kind = None if skip else _classify(kinds, folded, figure, clauses, previous_end, next_start)
            previous_end = figure.end
            if kind is None:
                continue
            years = _YEAR.findall(folded, sentence_start, figure.start)
            found.append(
                Indicator(
                    kind=kind.label,
                    value=figure.value,
                    unit=figure.unit,
                    approx=figure.approx,
                    year=int(years[-1]) if years else year,
                    text=text[orig_start:orig_end],
                    start=orig_start,
                    end=orig_end,
                    figure_start=fig_start,
                    figure_end=fig_end,
                    category=_section_category(sections, fig_start),
                )
            )
    return tuple(found)

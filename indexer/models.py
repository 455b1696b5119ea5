"""The nouns of the pipeline: a parsed report, its sections and its chunks.

All are frozen dataclasses; offsets always point into ``Report.text`` (the cleaned text, original script).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Section categories, in the order the UI lists them.
RESULTS = "成效举措"
PROBLEMS = "存在问题"
PLANS = "下步计划"
PRINCIPAL_DUTY = "第一责任人"
OTHER = "其他"
CATEGORIES: tuple[str, ...] = (RESULTS, PROBLEMS, PLANS, PRINCIPAL_DUTY, OTHER)

BREADCRUMB_SEPARATOR = " › "


@dataclass(frozen=True)
class Section:
    """One node of a report's section tree.

    ``start``/``end`` cover heading and body in ``Report.text``; ``body_start`` is where the body begins
    (equal to ``start`` for an unheaded section). ``parent`` is the index of the parent section.
    """

    index: int
    heading: str
    level: int
    ordinal: str
    category: str
    start: int
    body_start: int
    end: int
    parent: int | None = None

    def __post_init__(self) -> None:
        if not (0 <= self.start <= self.body_start <= self.end):
            raise ValueError(f"bad section offsets {self.start}/{self.body_start}/{self.end}")
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}")


@dataclass(frozen=True)
class ReportMeta:
    """What is known about a report; unknown fields stay empty (never guessed)."""

    title: str = ""
    township: str = ""
    county: str = ""
    province: str = ""
    year: int | None = None
    published: str = ""  # ISO date, YYYY-MM-DD
    issuer: str = ""
    source: str = ""  # the file the report was read from


@dataclass(frozen=True)
class Indicator:
    """One figure a report gives for a practice indicator, e.g. 调解纠纷件数 = 63 件.

    ``start``/``end`` cover the source sentence in ``Report.text`` (original script) and ``text`` is that
    sentence; ``figure_start``/``figure_end`` cover the figure itself (number, unit and approximation words).
    """

    kind: str
    value: float
    unit: str
    approx: bool
    year: int | None
    text: str
    start: int
    end: int
    figure_start: int
    figure_end: int
    category: str = ""  # category of the section the sentence is in

    def __post_init__(self) -> None:
        if not (0 <= self.start <= self.figure_start < self.figure_end <= self.end):
            raise ValueError(
                f"bad indicator offsets {self.start}/{self.figure_start}/{self.figure_end}/{self.end}"
            )
        if self.end - self.start != len(self.text):
            raise ValueError("indicator offsets do not match its sentence")


@dataclass(frozen=True)
class Report:
    id: str
    source: str
    text: str
    meta: ReportMeta
    sections: tuple[Section, ...] = ()
    encoding: str = ""
    indicators: tuple[Indicator, ...] = ()

    def section_text(self, section: Section) -> str:
        return self.text[section.body_start : section.end]

    def breadcrumb(self, section: Section) -> tuple[str, ...]:
        """Headings from the top-level ancestor down to ``section`` (unheaded ancestors skipped)."""
        path: list[str] = []
        node: Section | None = section
        while node is not None:
            if node.heading:
                path.append(node.heading)
            node = self.sections[node.parent] if node.parent is not None else None
        return tuple(reversed(path))


@dataclass(frozen=True)
class Chunk:
    """A searchable passage: a slice ``[start, end)`` of one section of one report, never of two."""

    id: str  # "{report_id}:{section_index}:{n}"
    report_id: str
    section_index: int
    breadcrumb: tuple[str, ...]
    category: str
    text: str
    start: int
    end: int
    meta: ReportMeta = field(default_factory=ReportMeta)

    @property
    def section_path(self) -> str:
        return BREADCRUMB_SEPARATOR.join(self.breadcrumb)

    def __post_init__(self) -> None:
        if self.end - self.start != len(self.text):
            raise ValueError(f"chunk {self.id}: offsets do not match its text")

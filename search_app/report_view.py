"""One report for reading: heading, clickable outline, the whole text with the query's marks, and the
passage the reader came from set apart; also its plain-text download.

The page shows ``document_html`` with ``st.html`` (one block, so the report scrolls with the page, never in a
box of its own) and runs ``jump_script`` beside it, which scrolls to the passage or section the URL names and
keeps the URL's ``sec`` in step with outline clicks. Every piece of report text is ``html.escape``d before a
tag is added; the only markup is fixed here.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

from indexer.models import Report, ReportMeta
from search_app.highlight import highlight

PASSAGE_ID = "fz-at"
PRINT_BUTTON = '<button class="fz-print fz-noprint" type="button" onclick="window.print()">打印</button>'


def section_id(index: int) -> str:
    return f"fz-sec-{int(index)}"


@dataclass(frozen=True)
class Target:
    """Where the view opens: a passage (``start``..``end`` in the report text) or a section."""

    element_id: str
    start: int | None = None
    end: int | None = None


def heading_rows(meta: ReportMeta) -> list[tuple[str, str]]:
    """(label, value) pairs under the title; unknown values are left out, file paths never shown."""
    place = " ".join(p for p in (meta.province, meta.county, meta.township) if p)
    rows = [
        ("地区", place),
        ("年度", f"{meta.year}年" if meta.year else ""),
        ("发布日期", meta.published),
        ("发布机关", meta.issuer),
    ]
    return [(label, value) for label, value in rows if value]


def target_for(report: Report, chunk_start: int | None, chunk_end: int | None, section: int | None) -> Target:
    """A section named in the URL wins (the reader jumped there); else the passage; else the top."""
    if section is not None and 0 <= section < len(report.sections):
        return Target(section_id(section))
    if chunk_start is not None and chunk_end is not None and 0 <= chunk_start < chunk_end <= len(report.text):
        return Target(PASSAGE_ID, chunk_start, chunk_end)
    return Target("")


def outline_html(report: Report, current: int | None = None) -> str:
    """The outline as links to the sections (indented by level); ``current`` is the passage's section."""
    items = []
    for section in report.sections:
        if not section.heading:
            continue
        indent = (min(max(section.level, 1), 6) - 1) * 1.1
        css = "fz-jump fz-current" if section.index == current else "fz-jump"
        items.append(
            f'<a class="{css}" href="#{section_id(section.index)}" data-sec="{int(section.index)}" '
            f'style="padding-left:{indent:.1f}rem">{html.escape(section.heading)}</a>'
        )
    return "".join(items) or '<span class="fz-muted">（未识别出章节）</span>'


def body_html(
    report: Report,
    terms: Sequence[str] = (),
    phrases: Sequence[str] = (),
    passage: tuple[int, int] | None = None,
) -> str:
    """The whole text, escaped: headings bold, each section with an anchor, the query's terms in ``<mark>``,
    the passage the reader came from tinted (``fz-passage``) with an anchor at its start."""
    text = report.text
    marks = highlight(text, terms, phrases).spans if (terms or phrases) else ()
    headings = [(s.start, s.body_start) for s in report.sections if s.heading and s.body_start > s.start]
    anchors: dict[int, list[str]] = {}
    for section in report.sections:
        anchors.setdefault(min(section.start, len(text)), []).append(section_id(section.index))
    cuts = {0, len(text), *anchors}
    for start, end in (*marks, *headings, *([passage] if passage else [])):
        cuts.update((max(0, min(start, len(text))), max(0, min(end, len(text)))))
    if passage:
        anchors.setdefault(passage[0], []).append(PASSAGE_ID)
    points = sorted(cuts)
    out = []
    for a, b in zip(points, [*points[1:], None], strict=True):
        out.extend(f'<span class="fz-anchor" id="{i}"></span>' for i in anchors.get(a, ()))
        if b is None or b <= a:
            continue
        piece = html.escape(text[a:b]).replace("\n", "<br>")
        if any(s <= a and b <= e for s, e in marks):
            piece = f"<mark>{piece}</mark>"
        if any(s <= a and b <= e for s, e in headings):
            piece = f'<span class="fz-h">{piece}</span>'
        if passage and passage[0] <= a and b <= passage[1]:
            piece = f'<span class="fz-passage">{piece}</span>'
        out.append(piece)
    return "".join(out)


def document_html(
    report: Report,
    terms: Sequence[str] = (),
    phrases: Sequence[str] = (),
    target: Target | None = None,
    current_section: int | None = None,
) -> str:
    """Heading, outline and body in one block (the outline folds above the text on narrow screens)."""
    meta = report.meta
    rows = "".join(
        f"<span><b>{html.escape(label)}</b> {html.escape(value)}</span>"
        for label, value in heading_rows(meta)
    )
    passage = (target.start, target.end) if target and target.start is not None else None
    note = '<p class="fz-muted fz-noprint">浅色底纹标出您检索到的段落，黄色为检索词。</p>' if passage else ""
    return (
        '<div class="fz-doc">'
        f'<h2 class="fz-doc-title">{html.escape(meta.title or "（无标题）")}</h2>'
        f'<div class="fz-doc-meta">{rows}</div>{note}'
        '<div class="fz-doc-grid">'
        '<details class="fz-doc-outline" open><summary>目录</summary>'
        f"<nav>{outline_html(report, current_section)}</nav></details>"
        f'<article class="fz-doc-body">{body_html(report, terms, phrases, passage)}</article>'
        "</div></div>"
    )


def plain_text(report: Report) -> str:
    """The report as a text file to keep: title and known facts, then the text as it was read."""
    meta = report.meta
    head = [meta.title or "（无标题）", *(f"{label}：{value}" for label, value in heading_rows(meta))]
    return "\n".join(head) + "\n\n" + report.text.rstrip() + "\n"


def file_name(report: Report) -> str:
    from search_app.export import safe_stem  # the export module owns file naming

    return f"{safe_stem(report.meta.title or report.id)}.txt"


# Scrolls to the element the view opens at and keeps ``sec`` in the URL in step with outline clicks, so the
# address bar is always a link to what the reader sees. Fixed code; the only value put in is an element id
# made by ``section_id`` / ``PASSAGE_ID`` (digits and ASCII letters).
_JUMP_SCRIPT = """<script>
(() => {
  const target = __TARGET__;
  const setSection = (sec) => {
    const url = new URL(window.location.href);
    url.searchParams.set("sec", sec);
    url.hash = "";
    window.history.replaceState(window.history.state, "", url.toString());
  };
  const bind = (doc) => {
    if (doc.dataset.bound) return;
    doc.dataset.bound = "1";
    doc.addEventListener("click", (event) => {
      const link = event.target.closest("a.fz-jump");
      if (!link) return;
      event.preventDefault();
      const node = document.getElementById("fz-sec-" + link.dataset.sec);
      if (node) node.scrollIntoView({block: "start"});
      setSection(link.dataset.sec);
    });
  };
  let tries = 0;
  const go = () => {
    const doc = document.querySelector(".fz-doc");
    const node = target ? document.getElementById(target) : null;
    if (doc && (node || !target)) {
      bind(doc);
      if (node) node.scrollIntoView({block: target === "fz-at" ? "center" : "start"});
      doc.dataset.ready = target || "top";
    } else if (tries++ < 100) {
      setTimeout(go, 50);
    }
  };
  go();
})();
</script>"""


def jump_script(target: Target, nonce: str = "") -> str:
    """The script for ``target``; ``nonce`` (a plain counter) makes each opening a new element that runs."""
    element = target.element_id if target.element_id.replace("-", "").isalnum() else ""
    return _JUMP_SCRIPT.replace("__TARGET__", json.dumps(element)) + f"<!-- {int(nonce or 0)} -->"

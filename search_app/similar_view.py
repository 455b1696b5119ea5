"""Similar practices from other reports: spread over reports, with their similarity said in words and the
terms a passage shares with the one it was found for marked."""

from __future__ import annotations

import html
from collections.abc import Sequence

from indexer.analysis import fold, tokenize
from indexer.models import Chunk
from search_app.engine import Hit
from search_app.highlight import highlight
from search_app.render import category_tag, inline, place_line

# Words nearly every passage of these reports uses; sharing them says nothing about the practice.
COMMON_WORDS = frozenset(
    fold(w)
    for w in (
        "法治",
        "政府",
        "建设",
        "法治政府",
        "工作",
        "推进",
        "加强",
        "开展",
        "进一步",
        "全面",
        "持续",
        "不断",
        "深入",
        "我乡",
        "我镇",
        "全乡",
        "全镇",
        "一是",
        "二是",
        "三是",
        "提升",
        "落实",
        "完善",
        "切实",
    )
)


def diverse(hits: Sequence[Hit], per_report: int = 1, limit: int = 3) -> list[Hit]:
    """The best hits, at most ``per_report`` from any one report."""
    out: list[Hit] = []
    seen: dict[str, int] = {}
    for hit in hits:
        report = hit.chunk.report_id
        if seen.get(report, 0) < per_report:
            seen[report] = seen.get(report, 0) + 1
            out.append(hit)
        if len(out) >= limit:
            break
    return out


def shared_terms(source: str, other: str, limit: int = 6) -> list[str]:
    """Content words (two characters or more, not ubiquitous, not part of a longer shared word) found in
    both texts, longest first."""
    theirs = {fold(t) for t in tokenize(other)}
    words = [fold(t) for t in tokenize(source)]
    found = [w for w in dict.fromkeys(words) if len(w) >= 2 and w in theirs and w not in COMMON_WORDS]
    whole = [w for w in found if not any(w != o and w in o for o in found)]  # 枫桥 is in 枫桥经验
    return sorted(whole, key=len, reverse=True)[:limit]


def similarity_words(score: float) -> str:
    """Cosine similarity of the two passages' meaning vectors, as a reader reads it."""
    return f"内容相似度 {max(0, min(100, round(score * 100)))}%"


def card_html(hit: Hit, source: Chunk) -> str:
    """A compact card: where, how similar, what it shares (marked in its text)."""
    chunk, meta = hit.chunk, hit.chunk.meta
    shared = shared_terms(source.text, chunk.text)
    text = (
        inline(highlight(chunk.text, shared).fragment(220))
        if shared
        else inline(html.escape(chunk.text[:220]))
    )
    shared_line = "共同用语：" + "、".join(shared) if shared else "没有明显的共同用语，意思相近"
    return (
        '<div class="fz-card">'
        f'<div class="fz-title">{html.escape(meta.township or meta.county or meta.title or "地区不详")}'
        f'<span class="fz-tag">{html.escape(similarity_words(hit.score))}</span></div>'
        f'<div class="fz-meta">{html.escape(place_line(meta))}{category_tag(chunk.category)}</div>'
        f'<div class="fz-crumb">{html.escape(meta.title)}{" › " if chunk.section_path else ""}'
        f"{html.escape(chunk.section_path)}</div>"
        f'<div class="fz-crumb">{html.escape(shared_line)}</div>'
        f'<div class="fz-text">{text}</div>'
        "</div>"
    )

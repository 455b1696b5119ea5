"""Section categories (成效举措 / 存在问题 / 下步计划 / 第一责任人 / 其他) from heading and text cues.

Matching runs on folded text, so Traditional headings classify like Simplified ones. A child section keeps
its parent's category unless its own heading carries a *strong* cue (存在的问题, 下一步, 第一责任人 …): weak
cues such as 计划 or 举措 are too common inside ordinary sub-headings ("制定年度学法计划").
"""

from __future__ import annotations

import re

from indexer.analysis import fold
from indexer.models import OTHER, PLANS, PRINCIPAL_DUTY, PROBLEMS, RESULTS

__all__ = ["classify", "text_cue"]

_DUTY = re.compile(r"第一责任人|主要负责人履行|主要负责人.{0,8}(?:职责|述法)")
_PROBLEMS_STRONG = re.compile(
    r"存在的?(?:主要)?(?:问题|不足|困难|短板|差距)|问题(?:和|与|及)(?:不足|原因|困难)"
    r"|不足(?:和|与|及|之处)|差距(?:和|与)?不足|薄弱环节"
)
_PLANS_STRONG = re.compile(
    r"下一步|下步|下一年度?|下阶段|下一阶段|今后|工作(?:打算|思路|计划|安排|设想)"
    r"|(?:明年|\d{4}年度?)(?:工作)?(?:思路|打算|计划|安排|目标|重点)"
)
_RESULTS = re.compile(
    r"举措|成效|履职情况|工作情况|开展情况|推进情况|建设情况|主要做法|工作回顾|主要工作|取得的?成[效绩果]"
    r"|工作成果|基本情况|总体情况|进展|亮点"
)
_PROBLEMS_WEAK = re.compile(r"问题|不足|差距|短板")
_PLANS_WEAK = re.compile(r"计划|安排|打算|思路|展望")

# Text cues look at the opening sentence of an unheaded passage.
_OPENING = re.compile(r"^[^。！？!?；;：:]*")
_PLANS_OPENING = re.compile(
    r"^(?:针对[^，,。]{0,24}[，,])?\s*(?:今后|下一步|下步|下阶段|下一阶段|明年|下一年度?"
    r"|\d{4}年[，,]?[^，,。]{0,12}将)"
)
_PROBLEMS_OPENING = re.compile(r"(?:存在|还有|仍有|也有|尚有)[^。，,]{0,12}(?:问题|不足|差距|短板|薄弱|困难)")


def text_cue(text: str) -> str | None:
    """Category an unheaded passage announces in its opening sentence (下步计划 or 存在问题), if any."""
    folded = fold(text[:200]).strip()
    if _PLANS_OPENING.match(folded):
        return PLANS
    opening = _OPENING.match(folded)
    if opening and _PROBLEMS_OPENING.search(opening.group(0)):
        return PROBLEMS
    return None


def _heading_cue(folded: str, strong_only: bool) -> str | None:
    if _DUTY.search(folded):
        return PRINCIPAL_DUTY
    if _PROBLEMS_STRONG.search(folded):
        return PROBLEMS
    if _PLANS_STRONG.search(folded):
        return PLANS
    if strong_only:
        return None
    if _RESULTS.search(folded):
        return RESULTS
    if _PROBLEMS_WEAK.search(folded):
        return PROBLEMS
    if _PLANS_WEAK.search(folded):
        return PLANS
    return None


def classify(heading: str, body: str, parent_category: str | None, *, default: str = OTHER) -> str:
    """Category of a section.

    ``default`` is used when nothing points anywhere (a work report passes 成效举措, since its uncued
    numbered parts are the work done; other documents keep 其他).
    """
    inherited = parent_category if parent_category not in (None, OTHER) else None
    if heading.strip():
        cue = _heading_cue(fold(heading), strong_only=inherited is not None)
        if cue:
            return cue
        if inherited:
            return inherited
        return text_cue(body) or default
    return text_cue(body) or inherited or default

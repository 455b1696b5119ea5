"""How much of an index semantic search reaches, as one line for the operator and the page."""

from __future__ import annotations

import math

from indexer.stores.base import IndexStats


def duration_zh(seconds: float) -> str:
    """A rough Chinese duration: 不到 1 分钟, 约 12 分钟, 约 2 小时, 约 3 天."""
    minutes = seconds / 60
    if minutes < 1:
        return "不到 1 分钟"
    if minutes < 60:
        return f"约 {round(minutes)} 分钟"
    hours = minutes / 60
    if hours < 48:
        return f"约 {round(hours)} 小时" if hours >= 1.5 else "约 1 小时"
    return f"约 {round(hours / 24)} 天"


def coverage_percent(stats: IndexStats) -> int:
    """Whole percent, rounded down: 100 only when every chunk has its vector."""
    return math.floor(stats.vector_coverage * 100)


def coverage_line(stats: IndexStats) -> str:
    """ "语义索引 37 % · 约 2 小时"; "语义索引 100 %" when complete; "已暂停" when no run computes them."""
    percent = coverage_percent(stats)
    if stats.vector_coverage >= 1.0:
        return "语义索引 100 %"
    if stats.vector_eta_seconds is None:
        return f"语义索引 {percent} % · 已暂停（运行 update 继续计算）"
    return f"语义索引 {percent} % · {duration_zh(stats.vector_eta_seconds)}"
